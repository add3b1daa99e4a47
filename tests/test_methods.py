"""The transfer methods end to end on tiny synthetic corpora (no Snakemake): training writes
a model artifact, per-target evaluation reads it back."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
import torch

from xlt.io.sentence import Sentence, write_table
from xlt.methods import source_mono
from xlt.methods.common import RunSpec, evaluate_target, train_model

# A toy language pair: entities are capitalised words after "in"/"met", which a char model
# can pick up in both "languages".
EN = [
    (["John", "lives", "in", "Paris", "."], ["B-PER", "O", "O", "B-LOC", "O"]),
    (["Mary", "met", "Peter", "Smith", "."], ["B-PER", "O", "B-PER", "I-PER", "O"]),
    (["IBM", "is", "in", "London", "."], ["B-ORG", "O", "O", "B-LOC", "O"]),
    (["the", "cat", "sleeps", "."], ["O", "O", "O", "O"]),
]
ES = [
    (["Juan", "vive", "en", "Madrid", "."], ["B-PER", "O", "O", "B-LOC", "O"]),
    (["el", "gato", "duerme", "."], ["O", "O", "O", "O"]),
]


def _table(path: Path, rows, lang: str) -> Path:
    sentences = [
        Sentence(tuple(toks), tuple(tags), doc_id=f"{lang}-d0", sentence_id=f"{lang}-{i}")
        for i, (toks, tags) in enumerate(rows)
    ]
    write_table(sentences, path, {"task": "ner", "lang": lang})
    return path


HPARAMS = {
    "use_char": True, "word_dim": 8, "char_dim": 4, "char_hidden": 4, "hidden": 8,
    "dropout": 0.1, "optimizer": "sgd", "lr": 0.1, "lr_decay": 0.01, "min_lr": 1e-4,
    "clip": 5.0, "batch_size": 4, "epochs": 3, "max_train_length": 250,
    "train_scheme": "IOBES", "min_word_count": 1, "lowercase": False,
}
ALL_SELECTIONS = ["src_dev", "tgt_dev", "last", "tgt_test"]


@pytest.fixture()
def tables(tmp_path: Path) -> dict[tuple[str, str], Path]:
    return {
        ("en", "train"): _table(tmp_path / "en_train.parquet", EN * 5, "en"),
        ("en", "dev"): _table(tmp_path / "en_dev.parquet", EN[:2], "en"),
        ("en", "test"): _table(tmp_path / "en_test.parquet", EN[2:], "en"),
        ("es", "dev"): _table(tmp_path / "es_dev.parquet", ES[:1], "es"),
        ("es", "test"): _table(tmp_path / "es_test.parquet", ES, "es"),
    }


@pytest.fixture()
def spec(tables) -> RunSpec:
    return RunSpec(
        plan="test", task="ner", task_config={"kind": "ner", "labels": ["PER", "LOC", "ORG", "MISC"]},
        source="en", method="source_mono", setting="char", seed=7, hparams=dict(HPARAMS),
        train=tables[("en", "train")], source_dev=tables[("en", "dev")],
    )


def train_and_evaluate(spec: RunSpec, tables, out: Path, build=None, rebuild=None,
                       selections=ALL_SELECTIONS) -> tuple[dict, dict[str, dict]]:
    """Train once into ``out/model``, then score en and es: (manifest, metrics per target)."""
    build = build or source_mono.build
    rebuild = rebuild or source_mono.rebuild
    manifest = train_model(spec, build, out / "model")
    metrics = {
        lang: evaluate_target(out / "model" / "model.json", rebuild, lang, tables[(lang, "test")],
                              tables[(lang, "dev")], out / lang / "metrics.json", out / lang / "p.parquet",
                              selections=selections, extra=spec.extra)
        for lang in ("en", "es")
    }
    return manifest, metrics


def test_source_mono_writes_a_model_and_every_target_and_selection(spec, tables, tmp_path):
    manifest, metrics = train_and_evaluate(spec, tables, tmp_path)
    on_disk = json.loads((tmp_path / "model" / "model.json").read_text())
    assert on_disk["trace"] == manifest["trace"]
    assert [t["epoch"] for t in manifest["trace"]] == [1, 2, 3]
    for entry in manifest["trace"]:
        assert (tmp_path / "model" / entry["file"]).is_file() and len(entry["sha256"]) == 64
    # Training read the source only: its inputs are the train and source dev tables.
    assert sorted(manifest["inputs"]) == sorted(str(tables[k]) for k in [("en", "train"), ("en", "dev")])
    for lang, m in metrics.items():
        on_disk = json.loads((tmp_path / lang / "metrics.json").read_text())
        assert on_disk["results"] == m["results"]
        assert {r["selection"] for r in m["results"]} == set(ALL_SELECTIONS)
        assert all(0.0 <= r["f1"] <= 100.0 and r["target"] == lang for r in m["results"])
        # Provenance: config, versions, and a sha256 for the model, its checkpoints and the data.
        assert m["config"]["hparams"]["epochs"] == 3 and "torch" in m["versions"]
        assert len(m["inputs"]) == 3 and all(len(h) == 64 for h in m["inputs"].values())
        assert len(m["checkpoints"]) == 3
        assert 0 < m["n_params"] < m["n_params_total"]  # the word embeddings are left out
        preds = pd.read_parquet(tmp_path / lang / "p.parquet")
        # One prediction per gold token: nothing is dropped from scoring.
        assert all(len(g) == len(p) for g, p in zip(preds["gold"], preds["pred"]))
        assert set(preds["selection"]) == set(ALL_SELECTIONS)
    # For the source, target-dev selection is source-dev selection.
    by = {r["selection"]: r for r in metrics["en"]["results"]}
    assert by["tgt_dev"]["checkpoint"] == by["src_dev"]["checkpoint"]


def test_oracle_selection_is_never_below_last_epoch(spec, tables, tmp_path):
    _, metrics = train_and_evaluate(spec, tables, tmp_path)
    for m in metrics.values():
        by = {r["selection"]: r for r in m["results"]}
        assert by["tgt_test"]["f1"] >= by["last"]["f1"]
        assert by["last"]["epoch"] == 3


def test_same_seed_same_numbers(spec, tables, tmp_path):
    first_model, first = train_and_evaluate(spec, tables, tmp_path / "a")
    second_model, second = train_and_evaluate(spec, tables, tmp_path / "b")
    assert [t["sha256"] for t in first_model["trace"]] == [t["sha256"] for t in second_model["trace"]]
    assert [t["loss"] for t in first_model["trace"]] == [t["loss"] for t in second_model["trace"]]
    assert {k: v["results"] for k, v in first.items()} == {k: v["results"] for k, v in second.items()}


def test_selected_checkpoints_match_the_oracle_trace(spec, tables, tmp_path):
    """Criteria chosen without the oracle pick the same checkpoints and scores as with it,
    and the lean evaluation scores no test set but at the selected checkpoints."""
    _, oracle = train_and_evaluate(spec, tables, tmp_path)
    lean = evaluate_target(tmp_path / "model" / "model.json", source_mono.rebuild, "es",
                           tables[("es", "test")], tables[("es", "dev")], tmp_path / "l.json",
                           tmp_path / "l.parquet", selections=["src_dev", "tgt_dev", "last"])
    by_oracle = {r["selection"]: r for r in oracle["es"]["results"]}
    for r in lean["results"]:
        twin = by_oracle[r["selection"]]
        assert (r["checkpoint"], r["f1"]) == (twin["checkpoint"], twin["f1"])
    assert set(lean["target_dev_scores"]) == {t["checkpoint"] for t in lean["trace"]}


def test_encoder_transfer_runs_with_tiny_encoder(spec, tables, tmp_path):
    from xlt.methods import encoder_transfer
    from xlt.testing import make_tiny_encoder

    words = sorted({w for toks, _ in EN + ES for w in toks})
    encoder = make_tiny_encoder(tmp_path / "enc", words)
    enc_spec = replace(spec, method="encoder_transfer", setting="default", hparams=ENCODER_HPARAMS | {"encoder": str(encoder)},
                       extra={"prefer_gpu": False, "mirror_dirs": []})
    manifest, metrics = train_and_evaluate(enc_spec, tables, tmp_path / "a", encoder_transfer.build,
                                           encoder_transfer.rebuild)
    assert manifest["n_params_excl_word_embeddings"] < manifest["n_params"]
    for lang, m in metrics.items():
        assert {r["selection"] for r in m["results"]} == set(ALL_SELECTIONS)
        preds = pd.read_parquet(tmp_path / "a" / lang / "p.parquet")
        # max_subwords=8 forces windows: still one prediction per word, and valid BIO.
        for gold, pred in zip(preds["gold"], preds["pred"]):
            assert len(gold) == len(pred)
            for prev, tag in zip(["O", *pred], pred):
                if tag.startswith("I-"):
                    assert prev[2:] == tag[2:] and prev[0] in "BI"
    _, again = train_and_evaluate(enc_spec, tables, tmp_path / "b", encoder_transfer.build,
                                  encoder_transfer.rebuild)
    assert {k: v["results"] for k, v in again.items()} == {k: v["results"] for k, v in metrics.items()}


ENCODER_HPARAMS = {
    "encoder_layers": None, "max_subwords": 8, "context_subwords": 2, "freeze_embeddings": True,
    "freeze_layers": 1, "dropout": 0.1, "lr": 1e-3, "weight_decay": 0.01, "warmup": 0.1,
    "batch_size": 4, "epochs": 2, "eval_batch_size": 8, "ner_decode": "bio_viterbi",
}

RELOAD_SCRIPT = r"""
import json, sys
from xlt.methods.common import load_model
from xlt.methods import source_mono, encoder_transfer
method = {"source_mono": source_mono, "encoder_transfer": encoder_transfer}[sys.argv[2]]
spec, manifest, tagger, load = load_model(sys.argv[1], method.rebuild, extra={"prefer_gpu": False, "mirror_dirs": []})
load(manifest["trace"][-1]["checkpoint"])
print(json.dumps(tagger.predict(json.loads(sys.argv[3]))))
"""


@pytest.mark.parametrize("method_name", ["source_mono", "encoder_transfer"])
def test_saved_model_reloaded_in_a_fresh_process_predicts_the_same(method_name, spec, tables, tmp_path):
    """The training process's predictions (final weights) equal those of a new Python process
    that rebuilds the model from model.json and the last checkpoint."""
    from xlt.methods import encoder_transfer
    from xlt.methods.common import seed_everything
    from xlt.testing import make_tiny_encoder

    method = {"source_mono": source_mono, "encoder_transfer": encoder_transfer}[method_name]
    if method_name == "encoder_transfer":
        words = sorted({w for toks, _ in EN + ES for w in toks})
        encoder = make_tiny_encoder(tmp_path / "enc", words)
        spec = replace(spec, method=method_name, setting="default",
                       hparams=ENCODER_HPARAMS | {"encoder": str(encoder)},
                       extra={"prefer_gpu": False, "mirror_dirs": []})
    trained = {}

    def build(s, train, dev):
        trained["tagger"] = method.build(s, train, dev)
        return trained["tagger"]

    train_model(spec, build, tmp_path / "model")
    sentences = [toks for toks, _ in EN + ES] + [["Unseen", "words", "in", "Zürich"]]
    in_process = trained["tagger"].predict(sentences)
    seed_everything(0, 1)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    out = subprocess.run([sys.executable, "-c", RELOAD_SCRIPT, str(tmp_path / "model" / "model.json"),
                          method_name, json.dumps(sentences)], capture_output=True, text=True, env=env,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert json.loads(out.stdout.strip().splitlines()[-1]) == in_process


def test_evaluation_every_n_updates_matches_a_brute_force_loop(spec, tables, tmp_path):
    """eval_every=N: the checkpoints, their source dev scores and the src_dev choice equal a
    hand-written loop that trains the same model and scores it after every N updates."""
    from xlt.checkpoints import load_snapshot, snapshot
    from xlt.evaluate import score
    from xlt.methods.common import load_sentences, seed_everything

    every = 3
    stepped = replace(spec, hparams={**spec.hparams, "eval_every": every})
    manifest = train_model(stepped, source_mono.build, tmp_path / "model")
    # 20 training sentences, batch 4: 5 updates per epoch, 15 in all -> steps 3, 6, ..., 15.
    assert [t["step"] for t in manifest["trace"]] == [3, 6, 9, 12, 15]
    assert [t["epoch"] for t in manifest["trace"]] == [1, 2, 2, 3, 3]

    seed_everything(stepped.seed, stepped.threads)
    train = load_sentences(stepped.train)
    dev_tokens, dev_tags, _ = load_sentences(stepped.source_dev)
    tagger = source_mono.build(stepped, train, None)
    brute: list[tuple[int, float, dict]] = []
    count = {"n": 0}

    def on_update(_loss: float) -> None:
        count["n"] += 1
        if count["n"] % every == 0:
            f1 = score("ner", dev_tags, tagger.predict(dev_tokens))["f1"]
            tagger.model.train()
            brute.append((count["n"], round(f1, 4), snapshot(tagger.model)))

    for epoch in range(1, 4):
        tagger.train_epoch(epoch, on_update)
    assert [(s, f) for s, f, _ in brute] == [(t["step"], t["scores"]["en.dev"]) for t in manifest["trace"]]
    best_step = max(brute, key=lambda b: (b[1], -b[0]))[0]  # highest F1, earliest on ties
    result = evaluate_target(tmp_path / "model" / "model.json", source_mono.rebuild, "es",
                             tables[("es", "test")], None, tmp_path / "m.json", tmp_path / "p.parquet",
                             selections=["src_dev", "last"])
    chosen = {r["selection"]: r["step"] for r in result["results"]}
    assert chosen == {"src_dev": best_step, "last": 15}
    weights = load_snapshot(tmp_path / "model" / f"checkpoints/step{best_step}.safetensors")
    expected = next(w for s, _, w in brute if s == best_step)
    assert weights.keys() == expected.keys()
    assert all(torch.equal(weights[k], expected[k]) for k in weights)


class _ScriptedTagger:
    """A tagger whose source-dev accuracy after epoch e is ``accuracy[e - 1]`` (one update
    per epoch; its predictions are right on that many of 100 tokens)."""

    def __init__(self, accuracy):
        self.model, self.epoch, self.accuracy = torch.nn.Linear(1, 1), 0, accuracy

    def train_epoch(self, epoch, on_update):
        self.epoch = epoch
        on_update(0.0)
        return 0.0

    def predict(self, sentences):
        right = self.accuracy[self.epoch - 1]
        return [["X"] * right + ["Y"] * (100 - right)]


def test_consecutive_decreases_stop_after_patience_falls_in_a_row_and_not_on_a_flat_score():
    """van der Heijden et al.: "early stopping after two rounds of consecutive decreased
    performance". A flat 0.0 (an entity F1 before the first entity is found) is no decrease,
    so it never ends a run; 40, 35, 30 (two decreases in a row) does, after the third epoch."""
    from xlt.training import EvalSet, fit

    dev = EvalSet("en", "dev", [["w"] * 100], [["X"] * 100], ["s0"])

    def run(accuracy, patience=2):
        return fit(_ScriptedTagger(accuracy), kind="pos", source_dev=dev, epochs=len(accuracy), eval_every=None,
                   save=lambda n, w: None, patience=patience, stopping="consecutive_decreases")

    flat = run([0, 0, 0, 0, 0, 20])
    assert len(flat) == 6 and not any(e.get("early_stop") for e in flat)
    falling = run([10, 40, 35, 30, 50, 60])
    assert [e["epoch"] for e in falling] == [1, 2, 3, 4] and falling[-1]["early_stop"]
    # One decrease followed by gains is no streak, whatever the patience.
    assert len(run([40, 35, 36, 37, 38], patience=3)) == 5


@pytest.mark.parametrize("eval_every", [None, 1])
def test_early_stopping_stops_patience_epochs_after_the_best_source_dev_score(eval_every):
    """Bao et al.'s early stopping: source-dev accuracy 50, 60, 55, 58, 59, 70, ... with
    patience 3 stops after epoch 5 (three epochs after the best, epoch 2); without patience
    every epoch runs."""
    from xlt.training import EvalSet, fit

    accuracy = [50, 60, 55, 58, 59, 70, 10]
    dev = EvalSet("en", "dev", [["w"] * 100], [["X"] * 100], ["s0"])

    saved = []
    trace = fit(_ScriptedTagger(accuracy), kind="pos", source_dev=dev, epochs=7, eval_every=eval_every,
                save=lambda name, weights: saved.append(name), patience=3)
    assert [e["epoch"] for e in trace] == [1, 2, 3, 4, 5] and trace[-1]["early_stop"]
    assert [e["scores"]["en.dev"] for e in trace] == [50, 60, 55, 58, 59] and len(saved) == 5
    full = fit(_ScriptedTagger(accuracy), kind="pos", source_dev=dev, epochs=7, eval_every=eval_every,
               save=lambda name, weights: None)
    assert len(full) == 7 and not any(e.get("early_stop") for e in full)
    with pytest.raises(ValueError, match="patience"):
        fit(_ScriptedTagger(accuracy), kind="pos", source_dev=dev, epochs=2, eval_every=None,
            save=lambda n, w: None, patience=0)
    # van der Heijden et al.'s rule: two consecutive decreases (60 -> 55 is one, 55 -> 58 ends
    # the streak); 50, 60, 55, 58, 59, 70, 10 never falls twice in a row: every epoch runs.
    assert len(fit(_ScriptedTagger(accuracy), kind="pos", source_dev=dev, epochs=7, eval_every=eval_every,
                   save=lambda n, w: None, patience=2, stopping="consecutive_decreases")) == 7
    with pytest.raises(ValueError, match="stopping"):
        fit(_ScriptedTagger(accuracy), kind="pos", source_dev=dev, epochs=2, eval_every=None, save=lambda n, w: None,
            patience=2, stopping="no_gain")
    # eval_every "end" (UniTrans: the last model, no dev set): one point, the final weights.
    saved.clear()
    final = fit(_ScriptedTagger(accuracy), kind="pos", source_dev=dev, epochs=7, eval_every="end",
                save=lambda name, weights: saved.append(name))
    assert [(e["epoch"], e["step"]) for e in final] == [(7, 7)] and saved == ["step7"]
    assert final[0]["scores"]["en.dev"] == 10
    with pytest.raises(ValueError, match="eval_every"):
        fit(_ScriptedTagger(accuracy), kind="pos", source_dev=dev, epochs=2, eval_every="sometimes",
            save=lambda n, w: None)


def test_muse_transfer_trains_on_source_vectors_and_reads_targets_through_their_alignment(spec, tables, space,
                                                                                        tmp_path):
    """One English model over English vectors; Spanish scored over Spanish vectors aligned
    to the English space (here the toy space's Spanish rows), no characters: the aligned
    vectors alone carry the entities across."""
    from xlt.errors import ConfigError
    from xlt.methods import muse_transfer

    hp = {**HPARAMS, "use_char": False, "epochs": 12, "dropout": 0.0, "word_embeddings": "aligned",
          "alignment": "unsupervised", "patience": 12, "max_train_length": None}
    muse = replace(spec, method="muse_transfer", setting="nochar", hparams=hp, inputs={"vectors": space["vectors"]})
    manifest = train_model(muse, muse_transfer.build, tmp_path / "model")
    assert "space" not in manifest and str(space["vectors"]) in manifest["inputs"]
    metrics = evaluate_target(tmp_path / "model" / "model.json", muse_transfer.rebuild, "es", tables[("es", "test")],
                              tables[("es", "dev")], tmp_path / "es.json", tmp_path / "es.parquet",
                              selections=["last"], inputs={"target_vectors": space["target_vectors"]})
    assert metrics["results"][0]["f1"] == 100.0
    with pytest.raises(ConfigError, match="word_embeddings: aligned"):
        train_model(replace(muse, hparams={**hp, "word_embeddings": "random"}), muse_transfer.build, tmp_path / "m2")


def test_truncated_or_mismatched_checkpoints_fail_naming_the_file(spec, tables, tmp_path):
    from xlt.errors import InputError
    from xlt.methods.common import load_model

    train_model(spec, source_mono.build, tmp_path / "a")
    other = replace(spec, hparams={**spec.hparams, "hidden": 6})
    train_model(other, source_mono.build, tmp_path / "b")
    model_json = tmp_path / "a" / "model.json"
    ckpt = tmp_path / "a" / "checkpoints" / "step5.safetensors"

    def evaluate():
        return evaluate_target(model_json, source_mono.rebuild, "es", tables[("es", "test")], None,
                               tmp_path / "m.json", tmp_path / "p.parquet", selections=["last", "src_dev"])

    # Another model's checkpoint (same name) in place: the recorded sha256 no longer matches.
    good = ckpt.read_bytes()
    ckpt.write_bytes((tmp_path / "b" / "checkpoints" / "step5.safetensors").read_bytes())
    with pytest.raises(InputError, match=str(ckpt)):
        evaluate()
    # A truncated file fails as unreadable, naming it (checked without the manifest's digest).
    ckpt.write_bytes(good[: len(good) // 2])
    from xlt.checkpoints import load_snapshot, restore
    with pytest.raises(InputError, match=str(ckpt)):
        load_snapshot(ckpt)
    # Weights of a differently shaped model fail naming their file, with the weight at fault.
    _, _, tagger, _ = load_model(model_json, source_mono.rebuild)
    wrong = tmp_path / "b" / "checkpoints" / "step15.safetensors"
    with pytest.raises(InputError, match=r"step15\.safetensors.*shape"):
        restore(tagger.model, load_snapshot(wrong), source=str(wrong))
    assert not (tmp_path / "m.json").exists()  # nothing half-written


# --------------------------------------------------------------------------- Cross-Word

def _vec(path: Path, rows: dict[str, list[float]]) -> Path:
    dim = len(next(iter(rows.values())))
    lines = [f"{len(rows)} {dim}"] + [f"{w} " + " ".join(f"{x:.3f}" for x in v) for w, v in rows.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture()
def space(tmp_path: Path) -> dict[str, Path]:
    """A toy common space: "John" and "Juan" (likewise Paris/Madrid, lives/vive) share a
    vector ("Juan vive en Madrid ." is "John lives in Paris ." in the space), so what the model
    learns on English words holds for their Spanish translations."""
    g = torch.Generator().manual_seed(0)
    shared = {key: torch.randn(6, generator=g).tolist() for key in
              ("per", "per2", "loc", "loc2", "org", "verb", "in", "the", "cat", "sleeps", "dot", "met", "is")}
    en = {"John": shared["per"], "Mary": shared["per2"], "Peter": shared["per"], "smith": shared["per2"],
          "paris": shared["loc"], "London": shared["loc2"], "IBM": shared["org"], "lives": shared["verb"],
          "in": shared["in"], "the": shared["the"], "cat": shared["cat"], "sleeps": shared["sleeps"],
          ".": shared["dot"], "met": shared["met"], "is": shared["is"], "unused": [0.5] * 6}
    es = {"Juan": shared["per"], "Madrid": shared["loc"], "vive": shared["verb"], "en": shared["in"],
          "el": shared["the"], "gato": shared["cat"], "duerme": shared["sleeps"], ".": shared["dot"]}
    return {"vectors": _vec(tmp_path / "en.vec", en), "target_vectors": _vec(tmp_path / "es.vec", es)}


def test_cross_word_trains_in_the_source_space_and_scores_target_words_in_theirs(spec, tables, space, tmp_path):
    from xlt.methods import cross_word
    from xlt.vectors.lookup import lookup_keys, vector_table

    assert lookup_keys("Paris1") == ("Paris1", "paris1", "paris0")
    vocab, matrix, stats = vector_table([["Paris", "Smith", "xyz"]], space["vectors"])
    assert vocab.symbols[2:] == ["paris", "smith"] and stats["rows_used"] == 2  # "unused" never read
    assert matrix[:2].abs().sum() == 0  # padding and unknown rows are zero

    hp = {**HPARAMS, "use_char": False, "epochs": 12, "dropout": 0.0}
    cw_spec = replace(spec, method="cross_word", setting="nochar", hparams=hp, space="es",
                      direction="source_to_target", inputs={"vectors": space["vectors"]})
    manifest = train_model(cw_spec, cross_word.build, tmp_path / "model")
    assert manifest["space"] == "es" and manifest["direction"] == "source_to_target"
    assert str(space["vectors"]) in manifest["inputs"]  # the vectors are a hashed input
    assert "words" not in manifest["state"]  # word rows come from each job's vectors file
    # Frozen vectors: checkpoints hold no word embedding, and the parameter count leaves it out.
    from safetensors.torch import load_file
    weights = load_file(tmp_path / "model" / manifest["trace"][-1]["file"])
    assert not any(name.startswith("word_embedding") for name in weights)
    assert manifest["n_params_excl_word_embeddings"] < manifest["n_params"]

    metrics = evaluate_target(tmp_path / "model" / "model.json", cross_word.rebuild, "es", tables[("es", "test")],
                              tables[("es", "dev")], tmp_path / "es" / "metrics.json", tmp_path / "es" / "p.parquet",
                              selections=["last"], inputs={"target_vectors": space["target_vectors"]})
    assert metrics["space"] == "es" and str(space["target_vectors"]) in metrics["inputs"]
    preds = pd.read_parquet(tmp_path / "es" / "p.parquet")
    # No characters: only the shared space can tell that Juan is a person and Madrid a place.
    first = preds[preds["sentence_id"] == "es-0"].iloc[0]
    assert list(first["pred"]) == ["B-PER", "O", "O", "B-LOC", "O"]
    assert metrics["results"][0]["f1"] == 100.0

    # The same model over a space where the Spanish words have no vectors predicts no entity.
    blank = _vec(tmp_path / "blank.vec", {"nada": [0.1] * 6})
    blind = evaluate_target(tmp_path / "model" / "model.json", cross_word.rebuild, "es", tables[("es", "test")],
                            None, tmp_path / "b" / "metrics.json", tmp_path / "b" / "p.parquet",
                            selections=["last"], inputs={"target_vectors": blank})
    assert blind["results"][0]["f1"] < 100.0


def test_cross_shared_requires_tied_lstms_and_word_space_methods_need_their_space(spec, space, tables, tmp_path):
    from xlt.errors import ConfigError
    from xlt.methods import cross_shared, cross_word

    cs_spec = replace(spec, method="cross_shared", setting="default", space="es", direction="source_to_target",
                      inputs={"vectors": space["vectors"]})
    with pytest.raises(ConfigError, match="shared_lstm: true"):
        train_model(cs_spec, cross_shared.build, tmp_path / "m1")
    tied = replace(cs_spec, hparams={**HPARAMS, "shared_lstm": True, "epochs": 1})
    manifest = train_model(tied, cross_shared.build, tmp_path / "m2")
    untied = train_model(replace(tied, method="cross_word", hparams={**HPARAMS, "epochs": 1}),
                         cross_word.build, tmp_path / "m3")
    assert manifest["n_params_excl_word_embeddings"] < untied["n_params_excl_word_embeddings"]
    with pytest.raises(ConfigError, match="word_space"):
        train_model(replace(spec, method="cross_word", hparams={**HPARAMS, "epochs": 1}), cross_word.build,
                    tmp_path / "m4")


def test_source_mono_gives_each_target_its_own_random_word_table(spec, tables, tmp_path):
    """Bari's Source-Mono "random word-emb": a target's words never read the trained English
    table (a shared word such as "." gets the target's own random row); the source reads it."""
    from xlt.methods.common import load_model
    from xlt.vocab import PAD, UNK

    train_model(spec, source_mono.build, tmp_path / "model")
    model_json = tmp_path / "model" / "model.json"
    es_inputs = {"test": tables[("es", "test")], "dev": tables[("es", "dev")]}

    _, manifest, english, load_en = load_model(model_json, source_mono.rebuild, target="en",
                                               inputs={"test": tables[("en", "test")]})
    load_en(manifest["trace"][-1]["checkpoint"])
    trained = english.model.word_embedding.weight.detach().clone()
    assert english.words.symbols == manifest["state"]["words"]["symbols"]

    _, _, spanish, load_es = load_model(model_json, source_mono.rebuild, target="es", inputs=es_inputs)
    load_es(manifest["trace"][-1]["checkpoint"])  # loads without the trained word table
    words = sorted({w for toks, _ in ES for w in toks})
    assert spanish.words.symbols == [PAD, UNK, *words]
    table = spanish.model.word_embedding.weight.detach()
    assert not table.requires_grad and table[0].abs().sum() == 0
    dot_es, dot_en = table[spanish.words.id(".")], trained[english.words.id(".")]
    assert not torch.equal(dot_es, dot_en)
    # The characters and everything above the embeddings are the trained model's.
    assert torch.equal(spanish.model.encoder.state_dict()["lstm.weight_ih_l0"],
                       english.model.encoder.state_dict()["lstm.weight_ih_l0"])
    # Same run and target, same table; another target (same words), another table.
    _, _, again, _ = load_model(model_json, source_mono.rebuild, target="es", inputs=es_inputs)
    assert torch.equal(again.model.word_embedding.weight, table)
    _, _, other, _ = load_model(model_json, source_mono.rebuild, target="nl", inputs=es_inputs)
    assert not torch.equal(other.model.word_embedding.weight, table)


def test_source_mono_over_monolingual_vectors_reads_each_language_in_its_own(spec, tables, space, tmp_path):
    """Setting *_monoemb: trained over the source's frozen vectors, scored with the target's
    own (unmapped) vectors; without them the run fails naming the setting."""
    from xlt.errors import ConfigError
    from xlt.methods.common import load_model

    mono = replace(spec, setting="nochar_monoemb",
                   hparams={**HPARAMS, "use_char": False, "word_embeddings": "monolingual"},
                   inputs={"vectors": space["vectors"]})
    manifest = train_model(mono, source_mono.build, tmp_path / "model")
    assert "words" not in manifest["state"] and str(space["vectors"]) in manifest["inputs"]
    inputs = {"test": tables[("es", "test")], "target_vectors": space["target_vectors"]}
    _, _, tagger, _ = load_model(tmp_path / "model" / "model.json", source_mono.rebuild, target="es", inputs=inputs)
    rows = {line.split()[0]: [float(x) for x in line.split()[1:]]
            for line in space["target_vectors"].read_text().splitlines()[1:]}
    table = tagger.model.word_embedding.weight.detach()
    assert torch.allclose(table[tagger.words.id("Madrid")], torch.tensor(rows["Madrid"]))
    metrics = evaluate_target(tmp_path / "model" / "model.json", source_mono.rebuild, "es", tables[("es", "test")],
                              None, tmp_path / "es.json", tmp_path / "es.parquet", selections=["last"],
                              inputs={"target_vectors": space["target_vectors"]})
    assert str(space["target_vectors"]) in metrics["inputs"]
    with pytest.raises(ConfigError, match="word_embeddings: monolingual"):
        train_model(replace(mono, inputs={}), source_mono.build, tmp_path / "m2")
    with pytest.raises(ConfigError, match="word_embeddings must be one of"):
        train_model(replace(mono, hparams={**mono.hparams, "word_embeddings": "glove"}), source_mono.build,
                    tmp_path / "m3")


# --------------------------------------------------------------------------- Cross-Augmented

ES_TRAIN = [
    (["Juan", "vive", "en", "Madrid", "."], ["B-PER", "O", "O", "B-LOC", "O"]),
    (["el", "gato", "duerme", "."], ["O", "O", "O", "O"]),
    (["Juan", "duerme", "."], ["B-PER", "O", "O"]),
    (["el", "gato", "vive", "en", "Madrid", "con", "Juan", "."], ["O", "O", "O", "O", "B-LOC", "O", "B-PER", "O"]),
]


@pytest.fixture()
def augmented(spec, tables, space, tmp_path):
    """Three trained base runs (Cross-Word no char / char, Cross-Shared) in the toy en-es space
    and the spec of a Cross-Augmented run starting from them."""
    from xlt.methods import cross_shared, cross_word

    base = {}
    for run, build, extra in (("cross_word/nochar", cross_word.build, {"use_char": False}),
                              ("cross_word/char", cross_word.build, {}),
                              ("cross_shared/default", cross_shared.build, {"shared_lstm": True})):
        method, setting = run.split("/")
        run_spec = replace(spec, method=method, setting=setting, hparams={**HPARAMS, **extra, "epochs": 4},
                           space="es", direction="source_to_target", inputs={"vectors": space["vectors"]})
        train_model(run_spec, build, tmp_path / run)
        base[f"base_{method}_{setting}"] = tmp_path / run / "model.json"
    target_train = _table(tmp_path / "es_train.parquet", ES_TRAIN * 3, "es")
    hp = {**HPARAMS, "epochs": 2, "base_runs": ["cross_word/nochar", "cross_word/char", "cross_shared/default"],
          "base_selection": "src_dev"}
    return replace(spec, method="cross_augmented", setting="default", hparams=hp, space="es",
                   direction="source_to_target",
                   inputs={"vectors": space["vectors"], "target_vectors": space["target_vectors"],
                           "target_train": target_train, **base})


def test_length_threshold_is_uniform_over_the_lengths_and_admits_only_shorter_sentences():
    import numpy as np

    from xlt.methods.cross_augmented import admitted, sample_length_threshold

    lengths = [7, 3, 12, 5, 12, 9]
    rng = np.random.default_rng(0)
    draws = [sample_length_threshold(lengths, rng) for _ in range(2000)]
    assert min(draws) == 3 and max(draws) == 12  # U(min, max), both ends included
    assert len(set(draws)) == 10  # every length in between, not only the observed ones
    for threshold in (2, 3, 6, 12):
        chosen = admitted(lengths, threshold)
        assert all(lengths[i] <= threshold for i in chosen)
        assert sorted(set(range(len(lengths))) - set(chosen)) == [i for i, n in enumerate(lengths) if n > threshold]


def test_cross_augmented_picks_its_base_by_source_dev_and_records_rounds(augmented, tables, space, tmp_path):
    from xlt.methods import cross_augmented
    from xlt.methods.common import read_manifest

    manifest = train_model(augmented, cross_augmented.build, tmp_path / "aug")
    log = manifest["method_log"]
    scores = {}
    for c in log["base"]["candidates"]:
        trace = read_manifest(c["model"])["trace"]
        scores[c["run"]] = max(e["scores"]["en.dev"] for e in trace)
        assert c["src_dev"] == scores[c["run"]]
    assert log["base"]["src_dev"] == max(scores.values())
    assert log["base"]["run"] == next(run for run, s in scores.items() if s == max(scores.values()))
    assert [r["round"] for r in log["rounds"]] == [1, 2]
    for r in log["rounds"]:
        assert 3 <= r["length_threshold"] <= 8 and r["of"] == len(ES_TRAIN) * 3
    # The target encoder and the target head add parameters to the base model's.
    base_params = read_manifest(log["base"]["model"])["n_params_excl_word_embeddings"]
    assert manifest["n_params_excl_word_embeddings"] > base_params
    metrics = evaluate_target(tmp_path / "aug" / "model.json", cross_augmented.rebuild, "es", tables[("es", "test")],
                              tables[("es", "dev")], tmp_path / "es" / "metrics.json", tmp_path / "es" / "p.parquet",
                              selections=ALL_SELECTIONS, inputs={"target_vectors": space["target_vectors"]})
    assert {r["selection"] for r in metrics["results"]} == set(ALL_SELECTIONS)
    assert str(augmented.inputs["target_train"]) in manifest["inputs"]


def test_pseudo_labels_never_read_the_target_gold_tags(augmented, tmp_path):
    """Scrambling the target training table's tags changes neither the pseudo-labels nor
    the trained weights."""
    import random

    from safetensors.torch import load_file

    from xlt.methods import cross_augmented

    rng = random.Random(0)
    scrambled_rows = []
    for tokens, tags in ES_TRAIN * 3:
        scrambled_rows.append((tokens, [rng.choice(["B-PER", "B-ORG", "O", "B-MISC"]) for _ in tags]))
    scrambled = replace(augmented, inputs={**augmented.inputs,
                                           "target_train": _table(tmp_path / "scr.parquet", scrambled_rows, "es")})
    pseudo = []
    for run_spec in (augmented, scrambled):
        train_model(run_spec, cross_augmented.build, tmp_path / str(len(pseudo)))  # seeds the RNGs as a job does
        tagger = cross_augmented.build(run_spec, _load_train(run_spec), _load_dev(run_spec))
        pseudo.append(tagger.pseudo_label(list(range(len(tagger.target_train)))))
    assert pseudo[0] == pseudo[1] and any(any(t != 0 for t in s) for s in pseudo[0])
    a, b = (json.loads((tmp_path / d / "model.json").read_text()) for d in ("0", "1"))
    assert a["method_log"]["rounds"] == b["method_log"]["rounds"]
    assert [e["sha256"] for e in a["trace"]] == [e["sha256"] for e in b["trace"]]
    last = a["trace"][-1]["file"]
    wa, wb = load_file(tmp_path / "0" / last), load_file(tmp_path / "1" / last)
    assert wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)


def _load_train(run_spec):
    from xlt.methods.common import load_sentences
    return load_sentences(run_spec.train)


def _load_dev(run_spec):
    from xlt.methods.common import load_sentences
    tokens, tags, ids = load_sentences(run_spec.source_dev)
    return tokens, tags, ids


@pytest.mark.parametrize("base_run", ["cross_word/char", "cross_shared/default"])
def test_augmented_model_with_a_zero_target_encoder_predicts_as_its_source_model(augmented, space, tables, base_run):
    """Feature augmentation adds nothing when the target encoder outputs zeros: the target
    model then decodes exactly as the (base) source model, whatever its head's target block."""
    from xlt.methods import cross_augmented, cross_word
    from xlt.methods.common import load_model, load_sentences

    only = replace(augmented, hparams={**augmented.hparams, "base_runs": [base_run]})
    tagger = cross_augmented.build(only, _load_train(only), _load_dev(only))
    model = tagger.model
    with torch.no_grad():
        for module in (model.target_encoder, model.target_char):
            for name, p in module.named_parameters():
                if not name.startswith("embedding"):  # the char embedding is the source's
                    p.zero_()
        model.target_projection.weight[:, model.source.encoder.output_dim:].normal_()
    sentences = load_sentences(tables[("es", "test")])[0] + [s for s, _ in ES_TRAIN]
    tagger.side = "target"
    ours = tagger.predict(sentences)
    tagger.side = "source"
    target_words_as_source = [tagger.encode(s, "target") for s in sentences]
    model.eval()
    with torch.inference_mode():
        batch = tagger._batch(target_words_as_source)
        source_ids = model.decode_source(batch)
    assert ours == [tagger.scheme.decode(tagger.labels.decode(ids)) for ids in source_ids]
    # ... and that source model is the base run's checkpoint, unchanged.
    base_json = augmented.inputs["base_" + base_run.replace("/", "_")]
    _, _, base, load = load_model(base_json, cross_word.rebuild,
                                  inputs={"target_vectors": space["target_vectors"], "test": tables[("es", "test")]})
    load(tagger.base["checkpoint"])
    assert base.predict(sentences) == ours
    # Scoring builds no optimizer (a torch optimizer's first construction imports TorchDynamo).
    assert "optimizer" not in vars(base)


def test_seed_everything_turns_on_deterministic_algorithms_without_importing_inductor():
    """The job set-up asks for deterministic algorithms (warn only) without the 1.5 s import
    of TorchInductor / TorchDynamo that ``torch.use_deterministic_algorithms`` makes."""
    import subprocess
    import sys

    code = ("import sys, torch; from xlt.methods.common import seed_everything; seed_everything(3, 1); "
            "print(torch.are_deterministic_algorithms_enabled(), "
            "torch.is_deterministic_algorithms_warn_only_enabled(), 'torch._dynamo' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["True", "True", "False"]


HEIJDEN = {"embedder": "muse", "word_embeddings": "aligned", "alignment": "unsupervised", "hidden": 8, "heads": 2,
           "layers": 2, "ffn": 8, "dropout": 0.0, "input_dropout": 0.0, "optimizer": "adam", "lr": 0.05,
           "weight_decay": 0.0, "clip": None, "batch_size": 2, "epochs": 25, "patience": 25, "train_scheme": "IOB2",
           "eval_every": None, "checkpoint_dtype": "float32"}


def test_heijden_tagger_reads_aligned_vectors_and_trains_only_the_transformer_crf(spec, tables, space, tmp_path):
    """van der Heijden's MUSE column: the Transformer-CRF over frozen aligned vectors. The
    checkpoints hold the tagger alone (the vectors are each job's input), and Spanish is read
    through its own rows of the common space."""
    from safetensors.torch import load_file

    from xlt.errors import ConfigError
    from xlt.methods import heijden_tagger

    run = replace(spec, method="heijden_tagger", setting="muse", hparams=HEIJDEN, inputs={"vectors": space["vectors"]})
    manifest = train_model(run, heijden_tagger.build, tmp_path / "model")
    weights = load_file(tmp_path / "model" / manifest["trace"][-1]["file"])
    assert weights and not any(name.startswith("embedding") for name in weights)
    embedding = manifest["n_params"] - manifest["n_params_excl_word_embeddings"]  # the frozen 6-d English rows
    assert embedding > 0 and embedding % 6 == 0
    metrics = evaluate_target(tmp_path / "model" / "model.json", heijden_tagger.rebuild, "es", tables[("es", "test")],
                              tables[("es", "dev")], tmp_path / "es.json", tmp_path / "es.parquet",
                              selections=["src_dev"], inputs={"target_vectors": space["target_vectors"]})
    assert metrics["results"][0]["f1"] > 50.0
    with pytest.raises(ConfigError, match="embedder 'xlm' is not built"):
        train_model(replace(run, hparams={**HEIJDEN, "embedder": "xlm"}), heijden_tagger.build, tmp_path / "m2")
    # a piece embedder needs the sentence encoder's BPE, not a word-vector space
    with pytest.raises(ConfigError, match="reads words as subword pieces"):
        train_model(replace(run, hparams={**HEIJDEN, "embedder": "bpe_bow"}), heijden_tagger.build, tmp_path / "m3")


def test_unitrans_teacher_starts_from_the_source_model_and_the_student_learns_from_its_files(spec, tables, tmp_path):
    """Θ_src -> Θ_teach (fine-tuned from Θ_src's last checkpoint on a "translated" set) -> the
    teachers' probability files over unlabeled Spanish -> a student trained on them alone."""
    from xlt.io.sentence import write_unlabeled_table
    from xlt.methods import encoder_transfer, unitrans
    from xlt.methods.distillation import load_teacher_probs
    from xlt.testing import make_tiny_encoder

    words = sorted({w for toks, _ in EN + ES for w in toks})
    encoder = make_tiny_encoder(tmp_path / "enc", words)
    base = replace(spec, method="encoder_transfer", setting="default",
                   hparams=ENCODER_HPARAMS | {"encoder": str(encoder)}, extra={"prefer_gpu": False, "mirror_dirs": []})
    src = train_model(base, encoder_transfer.build, tmp_path / "src")
    translated = _table(tmp_path / "translated.parquet", ES * 4, "es")
    teach_spec = replace(base, method="unitrans", setting="no_unlabeled", space="es", train=translated,
                         hparams=base.hparams | {"stage": "teacher"},
                         inputs={"source_model": tmp_path / "src" / "model.json"})
    # The teacher's weights before training are Θ_src's last ones: checked by building it with
    # no epochs to run and comparing the head.
    untrained = unitrans.build(replace(teach_spec, hparams=teach_spec.hparams | {"epochs": 1}),
                               ([["x"]], [["O"]], ["s"]), ([], [], []))
    from xlt.checkpoints import load_snapshot

    src_last = load_snapshot(tmp_path / "src" / src["trace"][-1]["file"])
    assert torch.equal(untrained.model.classifier.weight.detach(), src_last["classifier.weight"])
    train_model(teach_spec, unitrans.build, tmp_path / "teach")

    unlabeled = tmp_path / "es.unlabeled.parquet"
    write_unlabeled_table(tables[("es", "test")], unlabeled)
    extra = {"prefer_gpu": False, "mirror_dirs": []}
    for name, model in (("src", tmp_path / "src"), ("teach", tmp_path / "teach")):
        about = unitrans.write_teacher_probs(model / "model.json", unlabeled, tmp_path / f"{name}.safetensors",
                                             limit=None, extra=extra)
        assert about["checkpoint"] == json.loads((model / "model.json").read_text())["trace"][-1]["checkpoint"]
    labels = untrained.labels.symbols
    teach = load_teacher_probs(tmp_path / "teach.safetensors", ["es-0", "es-1"], [5, 4], labels)
    assert teach.shape == (9, len(labels)) and torch.allclose(teach.sum(-1), torch.ones(9))

    student_spec = replace(base, method="unitrans", setting="default", space="es",
                           hparams=base.hparams | {"stage": "student", "soft_teacher": "teach",
                                                   "voters": ["teach", "src"], "eta": 1.0, "epochs": 3},
                           inputs={"unlabeled": unlabeled, "probs_teach_seed7": tmp_path / "teach.safetensors",
                                   "probs_src_seed7": tmp_path / "src.safetensors"})
    manifest = train_model(student_spec, unitrans.build, tmp_path / "student")
    log = manifest["method_log"]
    assert log["soft"] == "teach" and log["voters"] == ["teach", "src"] and log["seeds"] == [7]
    assert 0 <= log["hard_labelled_words"] <= log["words"] == 9
    losses = [entry["loss"] for entry in manifest["trace"]]
    assert losses[-1] < losses[0]  # it learns the teachers' distributions
    again = train_model(student_spec, unitrans.build, tmp_path / "student2")
    assert [e["loss"] for e in again["trace"]] == losses  # deterministic for a seed
    # A student given another seed's teacher file refuses to guess which seed it belongs to.
    with pytest.raises(Exception, match="probs_teach_seed8|lacks its input"):
        unitrans.build(replace(student_spec, seed=8), ([], [], []), ([], [], []))


def test_low_resource_run_starts_from_the_selected_checkpoint_of_its_base_and_trains_on_a_sample(
        spec, tables, tmp_path):
    """Meta-NER Table 6 (xlt.methods.target_finetune): the base run's English-dev checkpoint is
    the starting point, a seeded fraction of the target's train set the training data; a base
    of another architecture is refused by name."""
    from xlt.checkpoints import load_snapshot
    from xlt.errors import ConfigError
    from xlt.methods import encoder_lowres, encoder_transfer, target_finetune, training_mix
    from xlt.methods.common import load_sentences, read_manifest
    from xlt.testing import make_tiny_encoder

    assert training_mix.sample_indices(100, 0.05, 1) == training_mix.sample_indices(100, 0.05, 1)
    assert training_mix.sample_indices(100, 0.05, 1) != training_mix.sample_indices(100, 0.05, 2)
    assert len(training_mix.sample_indices(100, 0.05, 1)) == 5 and len(training_mix.sample_indices(10, 0.01, 1)) == 1
    with pytest.raises(ConfigError, match="fraction must be in"):
        training_mix.sample_indices(10, 0.0, 1)

    words = sorted({w for toks, _ in EN + ES for w in toks})
    encoder = make_tiny_encoder(tmp_path / "enc", words)
    hparams = ENCODER_HPARAMS | {"encoder": str(encoder), "epochs": 3}
    base_spec = replace(spec, method="encoder_transfer", setting="default", hparams=hparams,
                        extra={"prefer_gpu": False, "mirror_dirs": []})
    base = train_model(base_spec, encoder_transfer.build, tmp_path / "base")
    chosen = max(base["trace"], key=lambda e: (e["scores"]["en.dev"], -e["step"]))  # ties: the earliest
    es_train = _table(tmp_path / "es_train.parquet", ES * 10, "es")
    low_hparams = hparams | {"train_data": "target", "start_from": "encoder_transfer/default",
                             "start_selection": "src_dev", "target_fraction": 0.3, "fresh_optimizer": True,
                             "lr": 1e-3, "batch_size": 4, "epochs": 1, "eval_every": "end"}
    low_spec = replace(base_spec, method="encoder_lowres", setting="lowres_5", hparams=low_hparams, space="es",
                       train=es_train, inputs={"base_model": tmp_path / "base" / "model.json"})
    tokens, tags, ids = load_sentences(es_train)
    tagger = encoder_lowres.build(low_spec, (tokens, tags, ids), ([], [], []))
    started = tagger.method_log()
    assert started["checkpoint"] == chosen["checkpoint"]
    assert started["target_sentences"] == round(0.3 * len(tokens)) and started["of"] == len(tokens)
    assert started["sentence_ids"] == [ids[i] for i in training_mix.sample_indices(len(tokens), 0.3, spec.seed)]
    stored = load_snapshot(tmp_path / "base" / chosen["file"])
    state = tagger.model.state_dict()
    assert all(torch.equal(state[name], weight.to(state[name].dtype)) for name, weight in stored.items())
    model = train_model(low_spec, encoder_lowres.build, tmp_path / "low")
    assert read_manifest(tmp_path / "low" / "model.json")["method_log"]["base_model"] == str(tmp_path / "base" / "model.json")
    assert len(model["trace"]) == 1  # the final model only
    with pytest.raises(ConfigError, match="freeze_layers"):
        encoder_lowres.build(replace(low_spec, hparams=low_hparams | {"freeze_layers": 0}), (tokens, tags, ids), ([], [], []))


def test_adam_is_fused_and_makes_the_loop_update():
    """Every Adam in xlt is torch's fused kernel (one call per step): the same update as the
    default per-tensor loop, to float rounding, with and without decoupled weight decay."""
    from xlt.optim import adam

    for decoupled in (False, True):
        weights = []
        for fused in (True, False):
            torch.manual_seed(0)
            weight = torch.nn.Parameter(torch.randn(7, 5))
            optimizer = (adam([weight], decoupled=decoupled, lr=1e-2, weight_decay=0.1) if fused else
                         (torch.optim.AdamW if decoupled else torch.optim.Adam)([weight], lr=1e-2, weight_decay=0.1))
            assert optimizer.defaults["fused"] is (True if fused else None)
            for step in range(5):
                weight.grad = torch.sin(torch.arange(35.0).reshape(7, 5) + step)
                optimizer.step()
            weights.append(weight.detach())
        torch.manual_seed(0)
        assert (weights[0] - torch.randn(7, 5)).abs().mean() > 1e-2  # the steps moved the weights
        assert torch.allclose(weights[0], weights[1], atol=1e-6)


def test_encoder_transfer_reads_source_and_target_in_their_own_language_with_xlm(spec, tables, tmp_path,
                                                                                 monkeypatch):
    """van der Heijden's XLM column: training and source-dev sentences are read with
    English's language embedding, the Spanish target's with Spanish's."""
    from xlt.methods import encoder_transfer
    from xlt.models import encoder_tagger
    from xlt.testing import make_tiny_xlm_encoder

    words = sorted({w for toks, _ in EN + ES for w in toks})
    encoder = make_tiny_xlm_encoder(tmp_path / "xlm", words, ["de", "en", "es"])
    seen = []
    make_windows = encoder_tagger.make_windows

    def spy(tokenizer, sentences, max_subwords, context_subwords, labels=None, languages=None):
        seen.append(None if languages is None else sorted(set(languages)))
        return make_windows(tokenizer, sentences, max_subwords, context_subwords, labels, languages)

    monkeypatch.setattr(encoder_tagger, "make_windows", spy)
    xlm_spec = replace(spec, method="encoder_transfer", setting="xlm",
                       hparams=ENCODER_HPARAMS | {"encoder": str(encoder), "freeze_layers": 0,
                                                  "fallback_language": "en"},
                       extra={"prefer_gpu": False, "mirror_dirs": []})
    _, metrics = train_and_evaluate(xlm_spec, tables, tmp_path / "a", encoder_transfer.build,
                                    encoder_transfer.rebuild, selections=["src_dev"])
    assert set(metrics) == {"en", "es"}
    assert seen[0] == [1] and [2] in seen and all(s in ([1], [2]) for s in seen)
