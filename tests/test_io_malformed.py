"""Every kind of malformed input is an InputError naming the file and the 1-based line."""

from __future__ import annotations

import zipfile
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest

from xlt.errors import InputError
from xlt.io.convert import to_canonical
from xlt.io.registry import read_corpus
from xlt.postags import build_pos_map

BAD = Path(__file__).parent / "fixtures" / "io" / "malformed"


def raises_at(path: Path, line: int | None, match: str) -> AbstractContextManager[Any]:
    """Expect an InputError for ``path`` at ``line`` whose message matches ``match``."""
    where = f"{path}:{line}: " if line is not None else f"{path}: "
    return pytest.raises(InputError, match=f"^{where}.*{match}")


@pytest.mark.parametrize(
    ("fmt", "name", "line", "match"),
    [
        ("conll2003", "bad_columns.conll", 4, "expected 4 columns .as on line 1., found 3"),
        ("conll2002", "bad_columns.conll", 1, "expected 3 columns, found 4"),
        ("conll2003", "bad_encoding.conll", 3, "invalid utf-8 bytes .ff."),
        ("conll2003", "empty.txt", None, "file is empty"),
        ("ntunlp", "blank.txt", None, "file is empty"),
        ("conll2003", "docstart_only.conll", None, "no sentences found"),
        ("basqueglue_jsonl", "bad_json.jsonl", 2, "invalid JSON"),
        ("basqueglue_jsonl", "length_mismatch.jsonl", 1, "1 tokens but 2 tags"),
        ("conllu", "bad_id.conllu", 3, "malformed CoNLL-U ID 'x'"),
        ("conllu", "skipped_id.conllu", 3, "malformed CoNLL-U ID '3': expected word 2"),
        ("conllu", "bad_columns.conllu", 2, "expected 10 tab-separated columns, found 9"),
        ("conllu", "empty.txt", None, "file is empty"),
        ("wikiann", "bad_prefix_wikiann.txt", 2, "does not start with 'en:'"),
        ("europeana_bio", "bad_columns.bio", 2, "expected 2 columns .as on line 1., found 1"),
        ("msra", "bad_columns.conll", 1, "expected 2 columns, found 1"),
        ("ptb_treebank", "unbalanced.mrg", 3, "unbalanced '\\)'"),
        ("ptb_treebank", "unclosed.mrg", None, "not closed at end of file"),
    ],
)
def test_reader_errors_name_file_and_line(fmt: str, name: str, line: int | None, match: str) -> None:
    with raises_at(BAD / name, line, match):
        read_corpus(fmt, BAD / name)


def test_missing_file_and_missing_zip_member(tmp_path: Path) -> None:
    with raises_at(tmp_path / "nope.conll", None, "file not found"):
        read_corpus("conll2003", tmp_path / "nope.conll")
    archive = tmp_path / "a.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("conll2002/esp.train", "a NC O\n")
    with pytest.raises(InputError, match=r"a\.zip: archive has no member 'conll2002/ned\.train'"):
        read_corpus("conll2002", archive, member="conll2002/ned.train")


def test_invalid_bytes_inside_a_zip_member_name_the_member(tmp_path: Path) -> None:
    archive = tmp_path / "c.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("conll2002/esp.train", b"a NC O\n\nb\xe9 NC O\n")
    with pytest.raises(InputError, match=r"c\.zip:conll2002/esp\.train:3: invalid utf-8"):
        read_corpus("conll2002", archive, member="conll2002/esp.train")


@pytest.mark.parametrize(
    ("name", "line", "match"),
    [
        ("bad_type.conll", 4, r"entity type 'BER' .* not one of \['LOC', 'MISC', 'ORG', 'PER'\]"),
        ("bad_prefix.conll", 1, "tag 'X-ORG' is not O or one of B-TYPE, I-TYPE"),
    ],
)
def test_tag_not_in_scheme_names_file_and_line(name: str, line: int, match: str) -> None:
    sentences = read_corpus("conll2003", BAD / name)
    with raises_at(BAD / name, line, match):
        to_canonical(
            sentences, kind="ner", tag_scheme="IOB2", labels=["PER", "LOC", "ORG", "MISC"], source_path=BAD / name
        )


def test_ill_formed_iob2_start_names_the_line() -> None:
    path = BAD.parent / "conll2003_en.txt"  # IOB1: "I-ORG" opens the first entity
    with raises_at(path, 3, "'I-ORG' does not continue"):
        to_canonical(read_corpus("conll2003", path), kind="ner", tag_scheme="IOB2", source_path=path)


def test_unknown_fine_pos_tag_names_file_and_line() -> None:
    pos_map = build_pos_map(BAD.parent / "en-ptb.map")
    path = BAD / "bad_pos.conll"
    with raises_at(path, 3, "POS tag 'XYZ' .* has no universal tag"):
        to_canonical(
            read_corpus("conll2003", path),
            kind="pos",
            tag_scheme="IOB1",
            pos_map=pos_map,
            use_pos_column=True,
            source_path=path,
        )


@pytest.mark.parametrize(
    ("name", "line", "match"),
    [("bad.map", 2, "expected 'FINE<TAB>COARSE'"), ("bad_coarse.map", 2, "'ADJECTIVE' is not one of the 12")],
)
def test_bad_tagset_map_names_file_and_line(name: str, line: int, match: str) -> None:
    with raises_at(BAD / name, line, match):
        build_pos_map(BAD / name)
