"""Readers on the real corpora, when a mirror is available (env XLT_MIRROR).

Only the official counts are asserted; the files themselves never enter the repository.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from xlt.io.convert import to_canonical
from xlt.io.registry import read_corpus

MIRROR = os.environ.get("XLT_MIRROR", "").split(os.pathsep)[0]

pytestmark = pytest.mark.skipif(not MIRROR, reason="XLT_MIRROR is not set")


def mirror_file(relative: str) -> Path:
    path = Path(MIRROR) / relative
    if not path.exists():
        pytest.skip(f"{relative} not in the mirror")
    return path


def test_conll2003_english_testb_official_counts() -> None:
    sentences = read_corpus("conll2003", mirror_file("conll2003_en/eng.testb"))
    assert len(sentences) == 3453
    assert sum(len(s.tokens) for s in sentences) == 46435
    canonical = to_canonical(sentences, kind="ner", tag_scheme="IOB1", labels=["PER", "LOC", "ORG", "MISC"])
    assert sum(tag.startswith("B-") for s in canonical for tag in s.tags) == 5648


def test_conll2003_german_testb_official_counts() -> None:
    sentences = read_corpus("conll2003", mirror_file("conll2003_de/deu.testb"), encoding="latin-1")
    assert len(sentences) == 3005
    assert sum(len(s.tokens) for s in sentences) == 51943
