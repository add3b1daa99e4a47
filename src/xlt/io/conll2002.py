"""CoNLL-2002 NER files (Spanish ``esp.*``, Dutch ``ned.*``), as in NLTK's conll2002.zip.

Three space-separated columns ``word POS NE``; NE tags are IOB2 in the NLTK copy. The
Dutch files mark articles with ``-DOCSTART- -DOCSTART- O`` lines. Read a member of the zip
directly with ``member: conll2002/esp.train``.
"""

from __future__ import annotations

from os import PathLike

from xlt.io.columns import read_columns
from xlt.io.sentence import Sentence
from xlt.io.source import read_source


def read_conll2002(
    path: str | PathLike[str], *, encoding: str = "utf-8", member: str | None = None
) -> list[Sentence]:
    """Read a CoNLL-2002 file (or zip member); POS is column 1, NE column 2."""
    return read_columns(read_source(path, encoding, member), columns={3}, pos_column=1)
