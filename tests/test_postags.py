"""Universal 12-tag maps: UPOS -> 12 and NLTK's universal_tagset files."""

from __future__ import annotations

import zipfile
from pathlib import Path

from xlt.postags import (
    UNIVERSAL12,
    UPOS17,
    UPOS_MAP,
    UPOS_TO_UNIVERSAL12,
    PosTagMap,
    build_pos_map,
    load_tagset_map,
)

FIXTURES = Path(__file__).parent / "fixtures" / "io"


def test_upos_to_universal12_covers_upos_and_lands_in_the_12_tags() -> None:
    assert len(UNIVERSAL12) == 12 and len(UPOS17) == 17
    assert set(UPOS17) <= set(UPOS_TO_UNIVERSAL12)
    assert set(UPOS_TO_UNIVERSAL12.values()) == set(UNIVERSAL12)
    expected = {
        "AUX": "VERB", "PROPN": "NOUN", "CCONJ": "CONJ", "SCONJ": "CONJ", "CONJ": "CONJ",
        "PART": "PRT", "PUNCT": ".", "SYM": "X", "INTJ": "X", "DET": "DET",
    }  # fmt: skip
    assert {tag: UPOS_MAP.lookup(tag) for tag in expected} == expected
    assert UPOS_MAP.lookup("VBZ") is None


def test_load_map_from_a_zip_member(tmp_path: Path) -> None:
    archive = tmp_path / "universal_tagset.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.write(FIXTURES / "en-ptb.map", "universal_tagset/en-ptb.map")
    table = load_tagset_map(archive, "universal_tagset/en-ptb.map")
    assert table["NNP"] == "NOUN" and table["!"] == "." and table["CC"] == "CONJ"


def test_extra_entries_and_crlf_quirks(tmp_path: Path) -> None:
    path = tmp_path / "quirky.map"
    path.write_bytes(b"NN\tNOUN\rVB\tVERB\nJJ ADJ\t\n")  # old-Mac CR, space separator, trailing tab
    pos_map = build_pos_map(path, extra={'"': "."})
    assert [pos_map.lookup(t) for t in ("NN", "VB", "JJ", '"', "XX")] == ["NOUN", "VERB", "ADJ", ".", None]


def test_prefix_completion_for_truncated_eagles_tags() -> None:
    plain = build_pos_map(FIXTURES / "es-eagles.map")
    completing = build_pos_map(FIXTURES / "es-eagles.map", prefix_completion=True)
    assert plain.lookup("NC") is None
    assert [completing.lookup(t) for t in ("NC", "VMI", "SP", "AQ", "DA", "Fc", "Z")] == [
        "NOUN", "VERB", "ADP", "ADJ", "DET", ".", "NUM",
    ]  # fmt: skip
    ambiguous = PosTagMap("t", {"PD0": "PRON", "PX0": "DET"}, prefix_completion=True)
    assert ambiguous.lookup("P") is None and ambiguous.lookup("PD") == "PRON"
