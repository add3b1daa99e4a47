"""Meta-NER's pieces (xlt.methods.metaner): retrieval, masking, max loss, the first-order MAML
meta-update and per-sentence adaptation, on a tiny random encoder."""
from __future__ import annotations

import copy
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from xlt.errors import InputError
from xlt.io.sentence import Sentence, write_table
from xlt.methods import metaner
from xlt.methods.common import RunSpec
from xlt.methods.encoder_transfer import NO_DECAY
from xlt.models.subword import IGNORE_INDEX
from xlt.testing import make_tiny_encoder
from xlt.vocab import Vocab

SENTENCES = [
    (["John", "lives", "in", "Paris", "."], ["B-PER", "O", "O", "B-LOC", "O"]),
    (["Mary", "met", "Peter", "Smith", "."], ["B-PER", "O", "B-PER", "I-PER", "O"]),
    (["IBM", "is", "in", "London", "."], ["B-ORG", "O", "O", "B-LOC", "O"]),
    (["the", "cat", "sleeps", "."], ["O", "O", "O", "O"]),
    (["Anna", "went", "to", "Berlin", "."], ["B-PER", "O", "O", "B-LOC", "O"]),
    (["the", "dog", "sleeps", "in", "Rome", "."], ["O", "O", "O", "O", "B-LOC", "O"]),
]
HPARAMS = {
    "encoder_layers": None, "max_subwords": 16, "context_subwords": 4, "freeze_embeddings": True,
    "freeze_layers": 1, "dropout": 0.0, "lr": 1e-3, "weight_decay": 0.01, "warmup": 0.1,
    "batch_size": 4, "epochs": 1, "eval_batch_size": 8, "ner_decode": "bio_viterbi",
    "support_size": 2, "meta_steps": 3, "tasks_per_update": 4, "inner_steps": 2, "lr_inner": 1e-3,
    "lr_meta": 1e-3, "mask_rate": 0.2, "max_loss_weight": 2.0, "meta_clip": None, "adapt_lr": 1e-3,
}


@pytest.fixture(scope="module")
def encoder(tmp_path_factory) -> Path:
    words = sorted({w for toks, _ in SENTENCES for w in toks})
    return make_tiny_encoder(tmp_path_factory.mktemp("enc"), words)


def _tagger(encoder: Path, **overrides) -> metaner.MetaNERTagger:
    spec = RunSpec(plan="test", task="ner", task_config={"kind": "ner", "labels": ["PER", "LOC", "ORG", "MISC"]},
                   source="en", method="metaner", setting="default", seed=3,
                   hparams={**HPARAMS, "encoder": str(encoder), **overrides},
                   extra={"prefer_gpu": False, "mirror_dirs": []})
    labels = ["O"] + [f"{p}-{t}" for t in sorted(["PER", "LOC", "ORG", "MISC"]) for p in "BI"]
    torch.manual_seed(0)
    tagger = metaner.MetaNERTagger(spec, Vocab.for_labels(labels))
    tokens, tags = [s for s, _ in SENTENCES], [t for _, t in SENTENCES]
    reps = metaner.sentence_representations(str(encoder), tokens, batch_size=4)
    tagger.prepare_meta(tokens, tags, reps)
    return tagger


def test_neighbours_equal_brute_force_and_exclude_self():
    torch.manual_seed(1)
    vectors = torch.randn(37, 8)
    unit = vectors / vectors.norm(dim=1, keepdim=True)
    cosine = unit @ unit.T
    got = metaner.neighbours(vectors, vectors, 3, block=5)
    assert torch.equal(got, cosine.topk(3, dim=1).indices)
    masked = cosine.clone().fill_diagonal_(float("-inf"))
    excl = metaner.neighbours(vectors, vectors, 2, exclude_self=True, block=4)
    assert torch.equal(excl, masked.topk(2, dim=1).indices)
    assert not (excl == torch.arange(37)[:, None]).any()
    queries = torch.randn(5, 8)
    q = queries / queries.norm(dim=1, keepdim=True)
    assert torch.equal(metaner.neighbours(queries, vectors, 2, block=2), (q @ unit.T).topk(2, dim=1).indices)


def test_neighbours_exclude_self_with_duplicate_rows():
    vectors = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.7, 0.7]])
    excl = metaner.neighbours(vectors, vectors, 2, exclude_self=True)
    for i, row in enumerate(excl.tolist()):
        assert i not in row and len(set(row)) == 2


def test_max_loss_adds_lambda_times_the_largest_token_loss():
    torch.manual_seed(2)
    logits = torch.randn(1, 6, 5)
    labels = torch.tensor([[0, 3, 1, 0, IGNORE_INDEX, IGNORE_INDEX]])
    tokens = torch.nn.functional.cross_entropy(logits[0, :4], labels[0, :4], reduction="none")
    plain = metaner.max_loss(logits, labels, 0.0)
    assert torch.allclose(plain, tokens.mean())
    assert torch.allclose(metaner.max_loss(logits, labels, 2.0), tokens.mean() + 2.0 * tokens.max())
    # Two windows: the max term is the mean of each window's maximum.
    logits2, labels2 = torch.randn(2, 3, 5), torch.tensor([[1, 0, IGNORE_INDEX], [2, 2, 0]])
    per = torch.nn.functional.cross_entropy(logits2.reshape(-1, 5), labels2.reshape(-1), reduction="none",
                                            ignore_index=IGNORE_INDEX).view(2, 3)
    expected = per[labels2 != IGNORE_INDEX].mean() + 0.5 * (per[0, :2].max() + per[1].max()) / 2
    assert torch.allclose(metaner.max_loss(logits2, labels2, 0.5), expected)


def test_masking_touches_only_entity_words_at_the_rate(encoder):
    tagger = _tagger(encoder)
    windows = tagger.windows
    entity_words = other_words = masked_entity = 0
    generator = torch.Generator().manual_seed(0)
    for _ in range(300):
        for before, after in zip(windows, metaner.mask_entities(windows, tagger.entities, 0.2, tagger.mask_id,
                                                                tagger.n_suffix, generator)):
            assert len(before.input_ids) == len(after.input_ids) and before.labels == after.labels
            ends = [*before.label_positions[1:], len(before.input_ids) - tagger.n_suffix]
            changed = [i for i, (a, b) in enumerate(zip(before.input_ids, after.input_ids)) if a != b]
            assert all(after.input_ids[i] == tagger.mask_id for i in changed)
            for label, start, end in zip(before.labels, before.label_positions, ends):
                hit = any(after.input_ids[i] != before.input_ids[i] for i in range(start, end))
                if label in tagger.entities:
                    entity_words += 1
                    masked_entity += hit
                    # a masked word has every subword masked
                    assert not hit or all(after.input_ids[i] == tagger.mask_id for i in range(start, end))
                else:
                    other_words += 1
                    assert not hit
            # special tokens and context stay
            assert after.input_ids[0] == before.input_ids[0] and after.input_ids[-1] == before.input_ids[-1]
    assert other_words > 0 and entity_words > 1000
    assert 0.17 < masked_entity / entity_words < 0.23
    assert metaner.mask_entities(windows, tagger.entities, 0.0, tagger.mask_id, tagger.n_suffix,
                                 generator) == list(windows)


def test_meta_update_with_no_inner_step_is_a_gradient_step_on_the_query_loss(encoder):
    tagger = _tagger(encoder, inner_steps=0, mask_rate=0.0, max_loss_weight=0.0)
    for module in tagger.model.modules():  # the encoder's own dropout would make the two differ
        if isinstance(module, torch.nn.Dropout):
            module.p = 0.0
    reference = copy.deepcopy(tagger.model)
    ref_params = [p for p in reference.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(
        [{"params": [p for n, p in reference.named_parameters() if p.requires_grad and not n.endswith(NO_DECAY)],
          "weight_decay": 0.01},
         {"params": [p for n, p in reference.named_parameters() if p.requires_grad and n.endswith(NO_DECAY)],
          "weight_decay": 0.0}], lr=tagger.scheduler.get_last_lr()[0])
    queries = [0, 2, 5]
    reference.train()
    total = sum(torch.nn.functional.cross_entropy(
        reference(reference.collate(tagger.sentence_windows[q])).reshape(-1, len(tagger.labels)),
        reference.collate(tagger.sentence_windows[q]).labels.reshape(-1), ignore_index=IGNORE_INDEX)
        for q in queries)
    optimizer.zero_grad()
    total.backward()
    optimizer.step()
    tagger.meta_update(queries, step=0)
    for p, r in zip(tagger.params, ref_params):
        assert torch.allclose(p, r, atol=1e-6)


def test_meta_update_with_inner_steps_changes_weights_and_is_seeded(encoder):
    def run() -> tuple[list[float], list[torch.Tensor], list[torch.Tensor]]:
        tagger = _tagger(encoder)
        before = tagger.save_weights()
        torch.manual_seed(5)  # the encoder's dropout draws from the global generator
        losses = [tagger.meta_update(tagger.sample_tasks(4), step) for step in range(2)]
        return losses, before, tagger.save_weights()

    losses_a, before, after_a = run()
    losses_b, _, after_b = run()
    assert losses_a == losses_b
    assert any(not torch.equal(x, y) for x, y in zip(before, after_a))
    assert all(torch.equal(x, y) for x, y in zip(after_a, after_b))


def test_adaptation_restores_the_weights_bit_for_bit(encoder):
    tagger = _tagger(encoder)
    before = [w.clone() for w in tagger.save_weights()]
    test = [["Juan", "in", "Madrid", "."], ["the", "cat", "."]]
    support = [tagger.sentence_windows[0] + tagger.sentence_windows[4], tagger.sentence_windows[3]]
    changed = []
    original_predict = tagger.model.predict

    def spy(sentences, *args, **kwargs):
        changed.append(any(not torch.equal(p, w) for p, w in zip(tagger.params, before)))
        return original_predict(sentences, *args, **kwargs)

    tagger.model.predict = spy
    predictions = tagger.adapt_and_predict(test, support)
    assert [len(p) for p in predictions] == [4, 3]
    assert changed == [True, True]  # each sentence is predicted with adapted weights
    assert all(torch.equal(p, w) for p, w in zip(tagger.params, before))


def test_reset_inner_optimizer_steps_as_a_new_adamw(encoder):
    """The kept inner optimizer, reset, takes the step a newly made AdamW takes, bit for bit."""
    from xlt.optim import adam

    tagger = _tagger(encoder)
    windows = tagger.sentence_windows[0] + tagger.sentence_windows[1]
    theta = tagger.save_weights()
    tagger.fresh_step(tagger.sentence_windows[2], 1e-3, 2, 2.0, 0.0)  # leaves moments behind
    tagger.load_weights(theta)
    tagger.fresh_step(windows, 5e-4, 2, 0.0, 0.0)
    reused = tagger.save_weights()
    tagger.load_weights(theta)
    fresh = adam(tagger._groups(float(HPARAMS["weight_decay"])), decoupled=True, lr=5e-4)  # as make_inner_optimizer
    for _ in range(2):
        loss = tagger._loss(windows, 0.0)
        fresh.zero_grad(set_to_none=True)
        loss.backward()
        fresh.step()
    assert all(torch.equal(a, b) for a, b in zip(reused, tagger.save_weights()))


def _table(path: Path, lang: str) -> Path:
    write_table([Sentence(tuple(t), tuple(g), doc_id="d0", sentence_id=f"{lang}-{i}")
                 for i, (t, g) in enumerate(SENTENCES)], path, {"task": "ner", "lang": lang})
    return path


def test_representations_file_names_its_sentences_and_is_checked(encoder, tmp_path):
    table = _table(tmp_path / "train.parquet", "en")
    out = tmp_path / "reps.safetensors"
    n = metaner.write_representations(table, out, encoder=str(encoder), layers=None, batch_size=4,
                                      max_subwords=16, max_sentences=4, prefer_gpu=False)
    assert n == 4
    ids = ["en-0", "en-1", "en-2", "en-3"]
    vectors = metaner.read_representations(out, ids[:3])
    expected = metaner.sentence_representations(str(encoder), [t for t, _ in SENTENCES[:3]], batch_size=2)
    assert vectors.shape == (3, expected.shape[1]) and torch.allclose(vectors, expected, atol=1e-5)
    with pytest.raises(InputError, match="reps.safetensors"):
        metaner.read_representations(out, ["en-1", "en-0"])  # not the file's sentences
    with pytest.raises(InputError):
        metaner.read_representations(out, ids + ["en-4"])  # more than the file holds


def test_evaluation_tagger_adapts_each_sentence_on_its_nearest_source_sentences(encoder, tmp_path):
    """rebuild with the evaluation's inputs: predict = adapt_and_predict on the top-K source
    sentences of each test sentence's [CLS] vector; a sentence without a vector is an error."""
    train = _table(tmp_path / "train.parquet", "en")
    test_rows = [(["Anna", "in", "Paris", "."], ["B-PER", "O", "B-LOC", "O"]), (["the", "cat", "."], ["O", "O", "O"])]
    test = tmp_path / "test.parquet"
    write_table([Sentence(tuple(t), tuple(g), doc_id="d0", sentence_id=f"es-{i}") for i, (t, g) in enumerate(test_rows)],
                test, {"task": "ner", "lang": "es"})
    for table, name in ((train, "train"), (test, "test")):
        metaner.write_representations(table, tmp_path / f"{name}.safetensors", encoder=str(encoder), layers=None,
                                      batch_size=4, max_subwords=16, max_sentences=None, prefer_gpu=False)
    reference = _tagger(encoder)
    spec = replace(reference.spec, inputs={"source_train": train, "source_representations": tmp_path / "train.safetensors",
                                           "test": test, "test_representations": tmp_path / "test.safetensors"})
    tagger = metaner.rebuild(spec, {"labels": reference.labels.to_dict()})
    tagger.load_weights(reference.save_weights())
    sentences = [t for t, _ in test_rows]
    nearest = metaner.neighbours(metaner.read_representations(tmp_path / "test.safetensors", ["es-0", "es-1"]),
                                 metaner.read_representations(tmp_path / "train.safetensors",
                                                              [f"en-{i}" for i in range(len(SENTENCES))]), 2)
    support = [[w for i in row.tolist() for w in reference.sentence_windows[i]] for row in nearest]
    torch.manual_seed(5)
    expected = reference.adapt_and_predict(sentences, support)
    torch.manual_seed(5)
    assert tagger.predict(sentences) == expected
    with pytest.raises(ValueError, match="no \\[CLS\\] vector"):
        tagger.predict([["unseen", "sentence"]])


def test_bert_adam_has_no_bias_correction_and_resets_like_a_new_one():
    """xlt.optim.BertAdam (Meta-NER's code): the first step is lr x 0.1 / sqrt(0.001) x sign(g)
    (~3.16 lr), not Adam's lr; per-parameter gradient clipping; reset = new."""
    from xlt.optim import BertAdam, make_inner_optimizer

    torch.manual_seed(0)
    weight = torch.nn.Parameter(torch.randn(5, 3))
    start = weight.detach().clone()
    optimizer = BertAdam([weight], lr=1e-3)
    weight.grad = torch.randn(5, 3) * 10  # clipped to norm 1 first: the direction is what counts
    sign = weight.grad.sign()
    optimizer.step()
    expected = start - 1e-3 * (0.1 / (0.001 ** 0.5)) * sign
    assert torch.allclose(weight.detach(), expected, atol=1e-5)
    adamw = make_inner_optimizer("adamw", [{"params": [torch.nn.Parameter(start.clone())], "weight_decay": 0.0}], 1e-3)
    assert isinstance(adamw, torch.optim.AdamW)
    with pytest.raises(ValueError, match="inner_optimizer"):
        make_inner_optimizer("sgd", [{"params": [weight]}], 1e-3)


def test_bert_adam_inner_optimizer_resets_in_place(encoder):
    tagger = _tagger(encoder, inner_optimizer="bert_adam")
    windows = tagger.sentence_windows[0] + tagger.sentence_windows[1]
    theta = tagger.save_weights()
    tagger.fresh_step(tagger.sentence_windows[2], 1e-3, 2, 2.0, 0.0)
    tagger.load_weights(theta)
    tagger.fresh_step(windows, 5e-4, 1, 0.0, 0.0)
    reused = tagger.save_weights()
    tagger.load_weights(theta)
    from xlt.optim import BertAdam
    fresh = BertAdam(tagger._groups(float(HPARAMS["weight_decay"])), lr=5e-4)
    loss = tagger._loss(windows, 0.0)
    fresh.zero_grad(set_to_none=True)
    loss.backward()
    fresh.step()
    assert all(torch.equal(a, b) for a, b in zip(reused, tagger.save_weights()))


def test_adapted_prediction_does_not_depend_on_what_was_adapted_before(encoder):
    """Dropout in the adaptation step is seeded per sentence (run seed, position): a sentence
    gets the same tags whatever ran before it."""
    tagger = _tagger(encoder, dropout=0.5)
    test = [["Juan", "in", "Madrid", "."], ["the", "cat", "."]]
    support = [tagger.sentence_windows[0] + tagger.sentence_windows[4], tagger.sentence_windows[3]]
    first = tagger.adapt_and_predict(test, support)
    torch.manual_seed(123)
    tagger.adapt_and_predict(test[::-1], support[::-1])  # other work in between
    torch.rand(7)
    assert tagger.adapt_and_predict(test, support) == first
