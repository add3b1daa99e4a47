"""xlt.stats: counts of canonical tables, the papers' reported counts, datasets.csv/.md."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from xlt.io.sentence import Sentence, write_table
from xlt.stats import (corpus_stats, datasets_table, reported_counts, stats_table, table_key,
                       write_dataset_stats, write_datasets_table)

ROOT = Path(__file__).resolve().parents[1]


def _ner_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "tokens": [["EU", "rejects", "German", "call"], ["Peter", "Blackburn"], ["x", "y", "z"]],
        # The last sentence has an I- that opens an entity: conlleval counts it as one.
        "tags": [["B-ORG", "O", "B-MISC", "O"], ["B-PER", "I-PER"], ["O", "I-LOC", "B-LOC"]],
        "doc_id": ["d1", "d1", "d2"],
        "sentence_id": ["s1", "s2", "s3"],
    })


def test_corpus_stats_ner():
    stats = corpus_stats(_ner_frame(), "ner")
    assert stats == {"sentences": 3, "tokens": 9, "entities": 5,
                     "types": {"LOC": 2, "MISC": 1, "ORG": 1, "PER": 1}}


def test_corpus_stats_pos_counts_tags():
    frame = pd.DataFrame({"tokens": [["a", "dog"], ["runs"]], "tags": [["DET", "NOUN"], ["VERB"]],
                          "doc_id": ["d", "d"], "sentence_id": ["1", "2"]})
    stats = corpus_stats(frame, "pos")
    assert stats == {"sentences": 2, "tokens": 3, "entities": None,
                     "types": {"DET": 1, "NOUN": 1, "VERB": 1}}
    with pytest.raises(ValueError):
        corpus_stats(frame, "chunking")


def _write(path: Path, frame: pd.DataFrame, **metadata) -> Path:
    sentences = [Sentence(tuple(r.tokens), tuple(r.tags), r.doc_id, r.sentence_id)
                 for r in frame.itertuples()]
    write_table(sentences, path, {"tag_scheme": "IOB2", **metadata})
    return path


def test_stats_table_reads_parquet_and_sorts_splits(tmp_path):
    ner = _write(tmp_path / "ner_test.parquet", _ner_frame())
    pos = _write(tmp_path / "pos.parquet", pd.DataFrame({
        "tokens": [["a"]], "tags": [["DET"]], "doc_id": ["d"], "sentence_id": ["1"]}))
    table = stats_table({("ner", "en", "test"): ner, ("ner", "en", "train"): ner,
                         ("pos", "de", "dev"): pos})
    assert list(table.columns) == ["task", "lang", "split", "sentences", "tokens", "entities",
                                   "types"]
    assert table[["task", "lang", "split"]].values.tolist() == [
        ["ner", "en", "train"], ["ner", "en", "test"], ["pos", "de", "dev"]]
    assert table["entities"].tolist()[:2] == [5, 5] and pd.isna(table["entities"].iloc[2])
    assert json.loads(table["types"].iloc[0]) == {"LOC": 2, "MISC": 1, "ORG": 1, "PER": 1}
    # An explicit kind wins over the name-based guess.
    forced = stats_table({("pos", "de", "dev"): pos}, kinds={"pos": "ner"})
    assert forced["entities"].iloc[0] == 0


TABLES = """\
paper: wu2020_unitrans
title: UniTrans
tables:
  - id: table1
    caption: Statistics of the benchmark datasets.
    kind: dataset_stats
    defaults: {task: ner}
    columns:
      - {id: train, label: Train, query: {split: train}}
      - {id: test, label: Test, query: {split: test}}
    rows:
      - label: "English, # of Sentence"
        query: {lang: en, count: sentences}
        reported: {train: "14,987", test: "3,684"}
      - label: "English, # of Entity"
        query: {lang: en, count: entities}
        reported: {train: "23,499", test: "5,648"}
      - label: "French, # of Sentence"
        query: {lang: fr, count: sentences}
        reported: {train: "9,527", test: "-"}
  - id: table2
    caption: results
    kind: results
    defaults: {task: ner, source: en, metric: f1, selection: last, split: test}
    columns:
      - {id: es, label: es, query: {target: es}}
    rows:
      - label: Model Transfer
        query: {method: encoder_transfer, setting: default}
        reported: {es: "76.75"}
"""


@pytest.fixture()
def tables_dir(tmp_path) -> Path:
    directory = tmp_path / "tables"
    directory.mkdir()
    (directory / "wu2020_unitrans.yaml").write_text(TABLES, encoding="utf-8")
    return directory


def test_reported_counts_merges_queries_and_parses_numbers(tables_dir):
    reported = reported_counts(tables_dir)
    assert len(reported) == 6  # the results table is not a dataset_stats table
    row = reported[(reported["lang"] == "en") & (reported["split"] == "train")
                   & (reported["count"] == "sentences")].iloc[0]
    assert (row["paper"], row["table"], row["task"], row["reported"], row["value"]) == (
        "wu2020_unitrans", "table1", "ner", "14,987", 14987.0)
    missing = reported[(reported["lang"] == "fr") & (reported["split"] == "test")].iloc[0]
    assert missing["reported"] == "-" and pd.isna(missing["value"])


def test_reported_counts_of_the_real_tables():
    reported = reported_counts(ROOT / "config" / "tables")
    assert set(reported["count"]) <= {"sentences", "tokens", "entities"}
    assert reported["task"].notna().all() and reported["split"].isin(["train", "dev", "test"]).all()


def test_write_datasets_table(tables_dir, tmp_path):
    ours = pd.DataFrame([
        {"task": "ner", "lang": "en", "split": "test", "sentences": 3453, "tokens": 46435,
         "entities": 5648, "types": "{}"},
        {"task": "pos", "lang": "de", "split": "dev", "sentences": 10, "tokens": 100,
         "entities": None, "types": "{}"},
    ])
    out_csv, out_md = tmp_path / "out" / "datasets.csv", tmp_path / "out" / "datasets.md"
    table = write_datasets_table(ours, reported_counts(tables_dir), out_csv, out_md)
    written = pd.read_csv(out_csv, keep_default_na=False, na_values=[""])
    assert list(written.columns[:7]) == ["task", "lang", "split", "sentences", "tokens",
                                         "entities", "types"]
    assert {"wu2020_unitrans/table1 sentences", "wu2020_unitrans/table1 entities"} <= set(written.columns)
    en_test = written[(written["lang"] == "en") & (written["split"] == "test")].iloc[0]
    assert en_test["sentences"] == 3453 and en_test["wu2020_unitrans/table1 sentences"] == 3684
    assert en_test["wu2020_unitrans/table1 entities"] == 5648
    # Reported-only rows (no table of ours, e.g. a manual corpus) are kept.
    en_train = written[(written["lang"] == "en") & (written["split"] == "train")].iloc[0]
    assert pd.isna(en_train["sentences"]) and en_train["wu2020_unitrans/table1 sentences"] == 14987
    assert len(table) == len(written)
    markdown = out_md.read_text(encoding="utf-8")
    assert "wu2020_unitrans/table1 sentences" in markdown and "14987" in markdown
    assert "<NA>" not in markdown and "nan" not in markdown
    assert not [p for p in out_csv.parent.iterdir() if p.name.startswith(".")]


def test_datasets_table_without_reported_counts():
    ours = pd.DataFrame([{"task": "ner", "lang": "en", "split": "dev", "sentences": 1,
                          "tokens": 2, "entities": 0, "types": "{}"}])
    table = datasets_table(ours, None)
    records = table.to_dict("records")
    assert records == [{"task": "ner", "lang": "en", "split": "dev", "sentences": 1, "tokens": 2,
                        "entities": 0, "types": "{}"}]


def test_write_dataset_stats_from_workflow_paths(tables_dir, tmp_path):
    table_path = tmp_path / "results" / "data" / "ner" / "en" / "test.parquet"
    table_path.parent.mkdir(parents=True)
    _write(table_path, _ner_frame(), kind="ner")
    assert table_key(table_path) == ("ner", "en", "test")
    table = write_dataset_stats([table_path], [tables_dir / "wu2020_unitrans.yaml"],
                                tmp_path / "datasets.csv", tmp_path / "datasets.md")
    row = table[(table["lang"] == "en") & (table["split"] == "test")].iloc[0]
    assert row["entities"] == 5 and row["wu2020_unitrans/table1 entities"] == 5648
    header = next(line for line in (tmp_path / "datasets.md").read_text(encoding="utf-8").splitlines()
                  if line.startswith("| task"))
    assert "wu2020_unitrans/table1 entities" in header
