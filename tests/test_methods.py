"""The transfer methods end to end on tiny synthetic corpora (no Snakemake)."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from xlt.io.sentence import Sentence, write_table
from xlt.methods import source_mono
from xlt.methods.common import RunSpec, run_method

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


@pytest.fixture()
def spec(tmp_path: Path) -> RunSpec:
    en_train = _table(tmp_path / "en_train.parquet", EN * 5, "en")
    en_dev = _table(tmp_path / "en_dev.parquet", EN[:2], "en")
    es_dev = _table(tmp_path / "es_dev.parquet", ES[:1], "es")
    es_test = _table(tmp_path / "es_test.parquet", ES, "es")
    en_test = _table(tmp_path / "en_test.parquet", EN[2:], "en")
    hparams = {
        "use_char": True, "word_dim": 8, "char_dim": 4, "char_hidden": 4, "hidden": 8,
        "dropout": 0.1, "optimizer": "sgd", "lr": 0.1, "lr_decay": 0.01, "min_lr": 1e-4,
        "clip": 5.0, "batch_size": 4, "epochs": 3, "max_train_length": 250,
        "train_scheme": "IOBES", "min_word_count": 1, "lowercase": False,
        "selections": ["src_dev", "tgt_dev", "last", "tgt_test"],
    }
    return RunSpec(
        plan="test", task="ner", task_config={"kind": "ner", "labels": ["PER", "LOC", "ORG", "MISC"]},
        source="en", targets=["en", "es"], method="source_mono", setting="char", seed=7,
        hparams=hparams, train=en_train, source_dev=en_dev,
        eval_files={("en", "dev"): en_dev, ("en", "test"): en_test, ("es", "dev"): es_dev, ("es", "test"): es_test},
    )


def test_source_mono_writes_every_target_and_selection(spec: RunSpec, tmp_path: Path):
    metrics = run_method(spec, source_mono.build, tmp_path / "m.json", tmp_path / "p.parquet")
    on_disk = json.loads((tmp_path / "m.json").read_text())
    assert on_disk["results"] == metrics["results"]
    keys = {(r["target"], r["selection"]) for r in metrics["results"]}
    assert keys == {(t, s) for t in ("en", "es") for s in ("src_dev", "tgt_dev", "tgt_test", "last")}
    assert all(0.0 <= r["f1"] <= 100.0 for r in metrics["results"])
    assert [t["epoch"] for t in metrics["trace"]] == [1, 2, 3]
    # Provenance: config, versions and a sha256 for every input table.
    assert metrics["config"]["hparams"]["epochs"] == 3
    assert "torch" in metrics["versions"]
    assert len(metrics["inputs"]) == 5 and all(len(h) == 64 for h in metrics["inputs"].values())
    preds = pd.read_parquet(tmp_path / "p.parquet")
    # One prediction per gold token: nothing is dropped from scoring.
    assert all(len(g) == len(p) for g, p in zip(preds["gold"], preds["pred"]))
    assert set(preds["selection"]) == {"src_dev", "tgt_dev", "tgt_test", "last"}


def test_oracle_selection_is_never_below_last_epoch(spec: RunSpec, tmp_path: Path):
    metrics = run_method(spec, source_mono.build, tmp_path / "m.json", tmp_path / "p.parquet")
    by = {(r["target"], r["selection"]): r for r in metrics["results"]}
    for target in ("en", "es"):
        assert by[(target, "tgt_test")]["f1"] >= by[(target, "last")]["f1"]
        assert by[(target, "last")]["epoch"] == 3


def test_same_seed_same_numbers(spec: RunSpec, tmp_path: Path):
    first = run_method(spec, source_mono.build, tmp_path / "a.json", tmp_path / "a.parquet")
    second = run_method(spec, source_mono.build, tmp_path / "b.json", tmp_path / "b.parquet")
    assert first["results"] == second["results"]
    assert [t["loss"] for t in first["trace"]] == [t["loss"] for t in second["trace"]]


def test_encoder_transfer_runs_with_tiny_encoder(spec: RunSpec, tmp_path: Path):
    from dataclasses import replace

    from xlt.methods import encoder_transfer
    from xlt.testing import make_tiny_encoder

    words = sorted({w for toks, _ in EN + ES for w in toks})
    encoder = make_tiny_encoder(tmp_path / "enc", words)
    hparams = {
        "encoder": str(encoder), "max_subwords": 8, "context_subwords": 2, "freeze_embeddings": True,
        "freeze_layers": 1, "dropout": 0.1, "lr": 1e-3, "weight_decay": 0.01, "warmup": 0.1,
        "batch_size": 4, "epochs": 2, "eval_batch_size": 8, "ner_decode": "bio_viterbi",
        "selections": ["src_dev", "tgt_dev", "last", "tgt_test"],
    }
    enc_spec = replace(spec, method="encoder_transfer", setting="default", hparams=hparams,
                       extra={"prefer_gpu": False, "mirror_dirs": []})
    metrics = run_method(enc_spec, encoder_transfer.build, tmp_path / "m.json", tmp_path / "p.parquet")
    assert {(r["target"], r["selection"]) for r in metrics["results"]} == {
        (t, s) for t in ("en", "es") for s in ("src_dev", "tgt_dev", "tgt_test", "last")
    }
    preds = pd.read_parquet(tmp_path / "p.parquet")
    # max_subwords=8 forces windows: still one prediction per word, and valid BIO.
    for gold, pred in zip(preds["gold"], preds["pred"]):
        assert len(gold) == len(pred)
        for prev, tag in zip(["O", *pred], pred):
            if tag.startswith("I-"):
                assert prev[2:] == tag[2:] and prev[0] in "BI"
    again = run_method(enc_spec, encoder_transfer.build, tmp_path / "m2.json", tmp_path / "p2.parquet")
    assert again["results"] == metrics["results"]


def test_selected_epochs_are_restored_for_test_scoring(spec: RunSpec, tmp_path: Path):
    """Without the oracle, test sets are scored only with the weights of selected epochs:
    the result of the last-epoch criterion equals the trace's scores of a run that does
    score every epoch (same seed, same training)."""
    from dataclasses import replace

    oracle = run_method(spec, source_mono.build, tmp_path / "a.json", tmp_path / "a.parquet")
    lean_spec = replace(spec, hparams={**spec.hparams, "selections": ["src_dev", "tgt_dev", "last"]})
    lean = run_method(lean_spec, source_mono.build, tmp_path / "b.json", tmp_path / "b.parquet")
    assert {r["selection"] for r in lean["results"]} == {"src_dev", "tgt_dev", "last"}
    # The lean run scores dev sets only after each epoch.
    assert all(k.endswith(".dev") for t in lean["trace"] for k in t["scores"])
    by_oracle = {(r["target"], r["selection"]): r for r in oracle["results"]}
    for r in lean["results"]:
        twin = by_oracle[(r["target"], r["selection"])]
        assert (r["epoch"], r["f1"]) == (twin["epoch"], twin["f1"])
        # ...and equals the per-epoch test score the oracle run traced at that epoch.
        assert r["f1"] == pytest.approx(oracle["trace"][r["epoch"] - 1]["scores"][f"{r['target']}.test"], abs=1e-3)
