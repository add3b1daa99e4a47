"""MSRA Chinese NER (SIGHAN 2006) in the character-level BIO release (``msra_test_bio.txt``).

One character per line, tab-separated ``char<TAB>tag``, IOB2 over PER/LOC/ORG, blank
lines between sentences. Tokens are characters: the files carry no word segmentation.
"""

from __future__ import annotations

from os import PathLike

from xlt.io.columns import read_columns
from xlt.io.sentence import Sentence
from xlt.io.source import read_source


def read_msra(path: str | PathLike[str], *, encoding: str = "utf-8", member: str | None = None) -> list[Sentence]:
    """Read an MSRA character-level BIO file (tab-separated, so any character is a token)."""
    return read_columns(read_source(path, encoding, member), separator="\t", columns={2})
