"""The LM stage around MLMA's model: corpora, the LM artifact, MUSE init, CLCR features and the
tagger over them (Bao et al. 2019)."""

import dataclasses

import pytest
import torch

from xlt.batching import make_bilstm_batch
from xlt.errors import InputError
from xlt.lms.artifact import load_lm, save_lm
from xlt.lms.bilm import BiTransformerLM
from xlt.lms.corpus import build_corpus, read_sentences, split_dev, tokenize, write_sentences
from xlt.lms.features import FeatureStore
from xlt.lms.init import initialise_from_vectors
from xlt.lms.training import LMTrainingParams, _pick, train_lm
from xlt.lms.vocab import SPECIALS, LMVocab
from xlt.models.clcr import CLCRBiLSTMCRF

ARCH = {"d_model": 16, "layers": 2, "heads": 2, "ffn": 32, "dropout": 0.0}


def test_nltk_tokenisation_splits_punctuation_as_the_corpora_and_lowercases() -> None:
    assert tokenize('Brown\'s office said: "no," in 1.000 cases.', "nltk") == \
        ["brown", "'s", "office", "said", ":", '"', "no", ",", '"', "in", "1.000", "cases", "."]
    assert tokenize("上 周 ， 古", "whitespace") == ["上", "周", "，", "古"]
    with pytest.raises(ValueError, match="unknown LM tokenizer"):
        tokenize("x", "moses")


def test_corpus_drops_long_sentences_and_holds_out_the_last(tmp_path) -> None:
    text = tmp_path / "en.txt"
    text.write_text("a b c\n\n" + " ".join(["w"] * 10) + "\nd e\nf g h i\n", encoding="utf-8")
    sentences, counts = build_corpus(text, "whitespace", max_length=5)
    assert sentences == [["a", "b", "c"], ["d", "e"], ["f", "g", "h", "i"]]
    assert counts["dropped_too_long"] == 1 and counts["tokens"] == 9
    train, dev = split_dev(sentences * 10, dev_sentences=2)
    assert len(dev) == 2 and dev == (sentences * 10)[-2:] and len(train) == 28
    assert split_dev(sentences, 2) == (sentences, [])  # at most a tenth: none of three
    write_sentences(tmp_path / "c.txt", sentences)
    assert read_sentences(tmp_path / "c.txt") == sentences


def test_bad_text_is_named_with_its_line(tmp_path) -> None:
    text = tmp_path / "de.txt"
    text.write_bytes(b"gut\n\xff\xfe kaputt\n")
    with pytest.raises(InputError, match=r"de.txt.*2"):
        build_corpus(text, "whitespace", max_length=10)
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n", encoding="utf-8")
    with pytest.raises(InputError, match="no sentence"):
        build_corpus(empty, "nltk", max_length=10)


def _vocabs() -> dict[str, LMVocab]:
    return {"en": LMVocab.build([["the", "cat", "sat"], ["the", "dog"]]),
            "es": LMVocab.build([["el", "gato"], ["el", "perro", "the"]])}


def test_lm_artifact_round_trips_and_refuses_other_weights(tmp_path) -> None:
    torch.manual_seed(0)
    vocabs = _vocabs()
    model = BiTransformerLM({k: len(v) for k, v in vocabs.items()}, **ARCH).eval()
    weights, manifest = tmp_path / "lm.safetensors", tmp_path / "lm.json"
    save_lm(weights, manifest, model, vocabs, ARCH, {"variant": "avl"})
    loaded, loaded_vocabs, record = load_lm(manifest)
    ids = torch.tensor([vocabs["es"].encode(["el", "gato"])])
    assert torch.equal(loaded.layer_states("es", ids), model.layer_states("es", ids))
    assert loaded_vocabs["es"].tokens == vocabs["es"].tokens and record["variant"] == "avl"
    other = BiTransformerLM({k: len(v) for k, v in vocabs.items()}, **ARCH)
    save_lm(tmp_path / "x.safetensors", tmp_path / "x.json", other, vocabs, ARCH, {})
    (tmp_path / "x.safetensors").replace(weights)
    with pytest.raises(InputError, match="sha256"):
        load_lm(manifest)


def _write_vec(path, rows: dict[str, list[float]]) -> None:
    dim = len(next(iter(rows.values())))
    path.write_text(f"{len(rows)} {dim}\n" + "".join(f"{w} {' '.join(map(str, v))}\n" for w, v in rows.items()),
                    encoding="utf-8")


@pytest.mark.parametrize("dim", [4, 24])  # narrower than the LM (zero-padded), wider (projected)
def test_muse_init_puts_aligned_words_on_the_same_rows(tmp_path, dim) -> None:
    torch.manual_seed(0)
    vocabs = _vocabs()
    model = BiTransformerLM({k: len(v) for k, v in vocabs.items()}, **ARCH)
    rand = torch.Generator().manual_seed(1)
    space = {w: torch.randn(dim, generator=rand).tolist() for w in ["The", "cat", "sat", "dog", "x1", "x2"]}
    _write_vec(tmp_path / "en.vec", space)
    # Spanish words mapped onto English: gato on cat, perro on dog, el on the.
    _write_vec(tmp_path / "es.vec", {"el": space["The"], "gato": space["cat"], "perro": space["dog"]})
    untouched = model.embeddings["es"].weight[vocabs["es"].index["the"]].clone()
    report = initialise_from_vectors(model, vocabs, {"en": tmp_path / "en.vec", "es": tmp_path / "es.vec"}, hub="en")
    en, es = model.embeddings["en"].weight, model.embeddings["es"].weight
    for a, b in [("cat", "gato"), ("dog", "perro"), ("the", "el")]:  # "The" found by its lowercase
        assert torch.allclose(en[vocabs["en"].index[a]], es[vocabs["es"].index[b]])
    assert torch.equal(es[vocabs["es"].index["the"]], untouched)  # no vector: random row kept
    assert report["languages"]["es"]["rows_initialised"] == 3 and report["projected"] == (dim > 16)
    norms = en[len(SPECIALS):].norm(dim=1)
    assert torch.isclose(norms.mean(), torch.tensor(16**-0.5 * 16**0.5), rtol=0.5)


def test_feature_store_rows_are_the_lm_states_of_each_sentence_once() -> None:
    torch.manual_seed(0)
    vocabs = _vocabs()
    model = BiTransformerLM({k: len(v) for k, v in vocabs.items()}, **ARCH).eval()
    store = FeatureStore(model, vocabs, batch_size=2)
    sentences = [["el", "gato"], ["el", "perro", "come"], ["el", "gato"]]
    store.add("es", sentences)
    assert store.matrix.shape == (1 + 5, 3, 32) and torch.equal(store.matrix[0], torch.zeros(3, 32))
    rows = store.rows("es", ["el", "perro", "come"])
    states = model.layer_states("es", torch.tensor([vocabs["es"].encode(sentences[1])]))  # (3, 1, T + 2, 32)
    assert torch.allclose(store.matrix[rows], states[:, 0, 1:-1].transpose(0, 1), atol=1e-6)
    before = store.matrix.shape[0]
    store.rows("en", ["the", "cat"])  # a new sentence of another language: computed on demand
    assert store.matrix.shape[0] == before + 2
    with pytest.raises(KeyError, match="no 'de'"):
        store.add("de", [["hallo"]])


@pytest.mark.parametrize("mix", ["sws", "fws"])
def test_clcr_tagger_learns_from_features_and_keeps_them_out_of_checkpoints(mix) -> None:
    torch.manual_seed(0)
    features = torch.randn(7, 3, 8)
    features[0] = 0
    model = CLCRBiLSTMCRF(n_layers=3, feature_dim=8, mix=mix, sws_hidden=4, n_chars=1, n_tags=3,
                          hidden=8, dropout=0.0, use_char=False)
    model.features = features
    batch = make_bilstm_batch([[1, 2, 3], [4, 5, 6]], None, [[0, 1, 2], [2, 1, 0]])
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    first = model.loss(batch).item()
    for _ in range(30):
        optimizer.zero_grad()
        model.loss(batch).backward()
        optimizer.step()
    assert model.loss(batch).item() < first / 2
    assert all("features" not in name for name in model.state_dict())
    assert any(name.startswith("mix.") for name in model.state_dict())
    with pytest.raises(ValueError, match="layer mix"):
        CLCRBiLSTMCRF(n_layers=3, feature_dim=8, mix="max", n_chars=1, n_tags=3)


def test_length_grouped_batches_draw_similar_lengths_deterministically() -> None:
    lengths = list(range(1, 401))
    by_length = sorted(range(400), key=lambda i: lengths[i])
    params = LMTrainingParams(steps=1, sentences_per_language=4)
    picks = _pick(by_length, 0.5, params, torch.Generator().manual_seed(3))
    assert len(picks) == 4 and max(lengths[i] for i in picks) - min(lengths[i] for i in picks) < 32
    assert picks == _pick(by_length, 0.5, params, torch.Generator().manual_seed(3))


def test_train_lm_runs_with_length_grouping_off_and_on() -> None:
    vocabs = _vocabs()
    corpora = {"en": [vocabs["en"].encode(["the", "cat", "sat"])] * 5,
               "es": [vocabs["es"].encode(["el", "gato"])] * 5}
    results = []
    for grouped in (False, True):
        torch.manual_seed(0)
        model = BiTransformerLM({k: len(v) for k, v in vocabs.items()}, **ARCH)
        params = dataclasses.replace(LMTrainingParams(steps=3, alignment="avl", sentences_per_language=2,
                                                      num_sampled=None, eval_every=3), group_by_length=grouped)
        results.append(train_lm(model, corpora, corpora, params, seed=1)[-1]["perplexity"])
    assert all(v > 0 for r in results for v in r.values())
