"""xlt.io.convert: canonical NER/POS tags and split building."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from xlt.errors import ConfigError, InputError
from xlt.io.convert import build_split, to_canonical
from xlt.io.registry import read_corpus
from xlt.postags import build_pos_map

FIXTURES = Path(__file__).parent / "fixtures" / "io"
LABELS = ["PER", "LOC", "ORG", "MISC"]
NORNE_TYPES = {"GPE_LOC": "LOC", "GPE_ORG": "ORG", "PROD": "MISC", "EVT": "MISC", "DRV": "MISC"}


def test_iob1_ner_becomes_validated_iob2() -> None:
    sentences = read_corpus("conll2003", FIXTURES / "conll2003_en.txt")
    canonical = to_canonical(sentences, kind="ner", tag_scheme="IOB1", labels=LABELS)
    assert canonical[0].tags == ("B-ORG", "O", "B-MISC", "O", "O")
    assert canonical[3].tags == ("O", "B-LOC", "B-LOC", "O")
    assert canonical[0].pos == sentences[0].pos  # kept for NER
    assert canonical[0].token_lines == sentences[0].token_lines


def test_norne_types_mapped_and_misc_dropped() -> None:
    sentences = read_corpus("conllu", FIXTURES / "norne.conllu", options={"column": "ner_misc"})
    canonical = to_canonical(sentences, kind="ner", tag_scheme="IOB2", labels=LABELS, type_map=NORNE_TYPES)
    assert canonical[0].tags == ("B-ORG", "I-ORG", "O", "B-PER", "I-PER", "O")
    assert canonical[1].tags == ("B-LOC", "B-LOC", "B-MISC")
    without_misc = to_canonical(
        canonical, kind="ner", tag_scheme="IOB2", labels=["PER", "LOC", "ORG"], type_map={"MISC": None}
    )
    assert without_misc[1].tags == ("B-LOC", "B-LOC", "O")
    with pytest.raises(InputError, match=r"norne:3: .*entity type 'GPE_ORG'"):
        to_canonical(sentences, kind="ner", tag_scheme="IOB2", labels=LABELS, source_path="norne")


def test_szeged_bie1_and_europeana_iob1() -> None:
    szeged = read_corpus("szeged", FIXTURES / "szeged.txt")
    assert to_canonical(szeged[3:4], kind="ner", tag_scheme="BIE1", labels=LABELS)[0].tags == (
        "B-ORG", "O", "B-LOC",
    )  # fmt: skip
    europeana = read_corpus("europeana_bio", FIXTURES / "europeana_fr.bio")
    canonical = to_canonical(europeana, kind="ner", tag_scheme="IOB1", labels=["PER", "LOC", "ORG"])
    assert canonical[1].tags == ("B-LOC", "I-LOC", "I-LOC", "I-LOC", "B-LOC", "O")


def test_upos_to_universal12() -> None:
    sentences = read_corpus("conllu", FIXTURES / "ud.conllu")
    canonical = to_canonical(sentences, kind="pos", tag_scheme="UPOS")
    assert canonical[0].tags == ("NOUN", "PRT", "NOUN", "VERB", ".")
    assert canonical[1].tags == ("X", ".") and canonical[2].tags == ("CONJ",)


def test_pos_column_through_a_tagset_map() -> None:
    sentences = read_corpus("conll2002", FIXTURES / "conll2002_esp.txt")
    extra = {"Fpa": ".", "Fpt": ".", "Fg": "."}
    pos_map = build_pos_map(FIXTURES / "es-eagles.map", extra=extra, prefix_completion=True)
    canonical = to_canonical(sentences, kind="pos", tag_scheme="IOB2", pos_map=pos_map, use_pos_column=True)
    assert canonical[2].tags == ("DET", "NOUN", "ADJ", "ADP", "NOUN", "VERB", ".")
    assert all(s.pos is None for s in canonical)
    with pytest.raises(ConfigError, match="need a pos_map"):
        to_canonical(sentences, kind="pos", tag_scheme="IOB2", use_pos_column=True)
    with pytest.raises(InputError, match="gives no POS column"):
        to_canonical(read_corpus("msra", FIXTURES / "msra.txt"), kind="pos", tag_scheme="FINE",
                     pos_map=pos_map, use_pos_column=True)  # fmt: skip


def test_bad_kind_and_scheme_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="kind"):
        to_canonical([], kind="chunk", tag_scheme="IOB2")
    with pytest.raises(ConfigError, match="tag_scheme"):
        to_canonical([], kind="ner", tag_scheme="UPOS")


def test_build_split_concatenates_in_order_and_caps(tmp_path: Path) -> None:
    archive = tmp_path / "conll2002.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.write(FIXTURES / "conll2002_ned.txt", "conll2002/ned.train")
    entries = [
        {"path": archive, "member": "conll2002/ned.train", "format": "conll2002", "tag_scheme": "IOB2"},
        {"path": FIXTURES / "conll2003_en.txt", "format": "conll2003", "tag_scheme": "IOB1", "encoding": None},
    ]
    every = build_split(entries, kind="ner", labels=LABELS)
    assert [s.sentence_id for s in every] == ["ned.train:1", "ned.train:2", "ned.train:3"] + [
        f"conll2003_en.txt:{i}" for i in range(1, 5)
    ]
    assert build_split(entries, kind="ner", labels=LABELS, max_sentences=4) == every[:4]
    assert build_split(entries, kind="ner", labels=LABELS, max_sentences=0) == []


def test_build_split_errors_name_the_member(tmp_path: Path) -> None:
    archive = tmp_path / "c.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("conll2002/esp.train", "a NC O\nb NC I-FOO\n")
    entry = {"path": archive, "member": "conll2002/esp.train", "format": "conll2002", "tag_scheme": "IOB2"}
    with pytest.raises(InputError, match=r"c\.zip:conll2002/esp\.train:2: .*'I-FOO'"):
        build_split([entry], kind="ner", labels=LABELS)
    with pytest.raises(ConfigError, match="lacks"):
        build_split([{"path": archive}], kind="ner")
    with pytest.raises(ConfigError, match="unknown corpus format"):
        build_split([{**entry, "format": "conll2010"}], kind="ner")
