"""The ntunlp Zero-Shot-Cross-Lingual-NER Arabic and Finnish splits (Bari et al. 2020).

Two space-separated columns ``word NE``, IOB2 over PER/LOC/ORG/MISC. The ``.iob2``
variants repair a few entities that start with ``I-``; use them (``tag_scheme: IOB2``).
The files have no document markers; some have leading or repeated blank lines.
"""

from __future__ import annotations

from os import PathLike

from xlt.io.columns import read_columns
from xlt.io.sentence import Sentence
from xlt.io.source import read_source


def read_ntunlp(path: str | PathLike[str], *, encoding: str = "utf-8", member: str | None = None) -> list[Sentence]:
    """Read an ntunlp ``{ar,fi}.{train,testa,testb}[.iob2]`` file."""
    return read_columns(read_source(path, encoding, member), columns={2})
