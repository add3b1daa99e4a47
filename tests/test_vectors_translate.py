"""Word-by-word translation of a sentence table (xlt.vectors.translate)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from xlt.io.sentence import Sentence, read_sentences, read_table_metadata, write_table
from xlt.vectors.embeddings import Embeddings, write_vec
from xlt.vectors.translate import casing_distribution, translate_table

# Source words and their target translations share a one-hot direction (the "mapped" space).
PAIRS = [("house", "haus"), ("the", "das"), ("eu", "eu"), ("rejects", "lehnt"), ("german", "deutsch"),
         ("call", "ruf"), ("boycott", "boykott"), ("of", "von")]


@pytest.fixture
def vectors(tmp_path: Path) -> tuple[Path, Path]:
    rng = np.random.default_rng(0)
    dim = len(PAIRS) + 2
    base = np.eye(dim, dtype=np.float32)[: len(PAIRS)]
    src = Embeddings([s for s, _ in PAIRS] + ["Peter"], np.vstack([base, np.eye(dim)[-1:]]))
    tgt = Embeddings([t for _, t in PAIRS] + ["peter", "filler"],
                     np.vstack([base + 0.05 * rng.standard_normal(base.shape), np.eye(dim)[-2:]]))
    write_vec(tmp_path / "src.vec", src)
    write_vec(tmp_path / "tgt.vec", tgt)
    return tmp_path / "src.vec", tmp_path / "tgt.vec"


def _table(path: Path) -> Path:
    write_table([
        Sentence(("EU", "rejects", "German", "call", "to", "boycott", "Peter", "Blackburn"),
                 ("B-ORG", "O", "B-MISC", "O", "O", "O", "B-PER", "I-PER"), "d0", "s0"),
        Sentence(("THE", "House", "of", "Xyzzy"), ("O", "B-LOC", "I-LOC", "I-LOC"), "d0", "s1"),
    ], path, {"source": "test"})
    return path


def test_translation_copies_labels_per_and_oov_and_keeps_lengths(tmp_path: Path, vectors) -> None:
    table = _table(tmp_path / "en.parquet")
    out = tmp_path / "en2de.parquet"
    counts = translate_table(table, *vectors, out)
    original, translated = read_sentences(table), read_sentences(out)
    assert [s.tags for s in translated] == [s.tags for s in original]
    assert [len(s.tokens) for s in translated] == [len(s.tokens) for s in original]
    assert [(s.doc_id, s.sentence_id) for s in translated] == [("d0", "s0"), ("d0", "s1")]
    # Lowercased lookup, CSLS translation, recased like the source token; "to"/"Xyzzy" have
    # no vector and "Peter Blackburn" is a PER span: copied as they are.
    assert translated[0].tokens == ("EU", "lehnt", "Deutsch", "ruf", "to", "boykott", "Peter", "Blackburn")
    assert translated[1].tokens == ("DAS", "Haus", "von", "Xyzzy")
    assert counts["copied_type"] == 2 and counts["copied_oov"] == 2 and counts["translated"] == 8
    metadata = read_table_metadata(out)
    assert metadata["source"] == "test" and metadata["translation"]["counts"] == counts


def test_target_casing_follows_a_target_token_list(tmp_path: Path, vectors) -> None:
    table = _table(tmp_path / "en.parquet")
    casing_tokens = ["Haus", "Haus", "haus", "das", "Das", "das", "BOYKOTT", "Boykott", "boykott"] + ["Ruf"] * 5
    assert casing_distribution(["Haus", "haus", "HAUS", "Haus"])["haus"].tolist() == [0.25, 0.5, 0.25]
    out = tmp_path / "most.parquet"
    translate_table(table, *vectors, out, target_casing="most_frequent_in_target", casing_tokens=casing_tokens)
    tokens = read_sentences(out)
    assert tokens[0].tokens[3] == "Ruf"       # lowercase "call" -> "Ruf", as German writes it
    assert tokens[1].tokens[:2] == ("das", "Haus")
    sampled = []
    for i in range(2):
        translate_table(table, *vectors, tmp_path / f"s{i}.parquet", seed=7,
                        target_casing="sample_from_target", casing_tokens=casing_tokens)
        sampled.append(read_sentences(tmp_path / f"s{i}.parquet"))
    assert sampled[0] == sampled[1]  # seeded sampling: reproducible
    with pytest.raises(ValueError, match="needs casing_tokens"):
        translate_table(table, *vectors, tmp_path / "x.parquet", target_casing="sample_from_target")
