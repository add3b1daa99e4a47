"""The canonical Parquet sentence table."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from xlt.errors import InputError
from xlt.io.sentence import Sentence, read_sentences, read_table, read_table_metadata, write_table

SENTENCES = [
    Sentence(("EU", "rejects", "German"), ("B-ORG", "O", "B-MISC"), "eng:doc1", "eng:1", token_lines=(3, 4, 5)),
    Sentence(("Köln",), ("B-LOC",), "deu:doc1", "deu:1", pos=("NE",)),
]
METADATA = {"tag_scheme": "IOB2", "labels": ["PER", "LOC"], "sources": {"eng.testb": "ab" * 32}}


def test_parquet_round_trip_with_metadata(tmp_path: Path) -> None:
    path = tmp_path / "data" / "test.parquet"
    write_table(SENTENCES, path, METADATA)
    frame = read_table(path)
    assert list(frame.columns) == ["tokens", "tags", "doc_id", "sentence_id"]
    assert frame["tokens"].tolist() == [["EU", "rejects", "German"], ["Köln"]]
    assert frame["tags"][1] == ["B-LOC"]
    assert frame["sentence_id"].tolist() == ["eng:1", "deu:1"]
    assert read_table_metadata(path) == METADATA
    # pos and token_lines are not stored; token_lines never takes part in equality
    assert read_sentences(path) == [SENTENCES[0], Sentence(("Köln",), ("B-LOC",), "deu:doc1", "deu:1")]
    assert list(path.parent.iterdir()) == [path]


def test_same_input_gives_identical_bytes(tmp_path: Path) -> None:
    write_table(SENTENCES, tmp_path / "a.parquet", METADATA)
    write_table(SENTENCES, tmp_path / "b.parquet", dict(reversed(list(METADATA.items()))))
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()


def test_empty_table_and_missing_metadata(tmp_path: Path) -> None:
    write_table([], tmp_path / "e.parquet", {})
    assert len(read_table(tmp_path / "e.parquet")) == 0
    pq.write_table(pa.table({"x": [1]}), tmp_path / "other.parquet")
    with pytest.raises(InputError, match="no xlt metadata"):
        read_table_metadata(tmp_path / "other.parquet")
    with pytest.raises(InputError, match="missing columns"):
        read_table(tmp_path / "other.parquet")
