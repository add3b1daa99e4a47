"""Szeged NER corpus (Hungarian business news), ``szeged.ner.train+test+devel.gz``.

Four tab-separated columns ``token KR-POS lemma/KR NE`` with B/I/E/1 NE tags
(``tag_scheme: BIE1``; ``1-`` marks single-token entities). ``Sentence.pos`` is the KR
POS column.

The public file concatenates train, test and devel with no split marks and no document
markers. xlt cuts it into contiguous blocks in the order of the file name: the first 80 %
of sentences are ``train``, the next 10 % ``test``, the last 10 % ``dev`` (9574 sentences
-> 7659 / 957 / 958). Contiguous blocks, unlike a random sample, keep each news story in
one split; the exact original boundaries are not published with this file.
"""

from __future__ import annotations

from os import PathLike

from xlt.io.columns import read_columns
from xlt.io.sentence import Sentence
from xlt.io.source import read_source
from xlt.io.splits import ALL, contiguous_split

#: split name -> fraction, in file order
PARTS = (("train", 0.8), ("test", 0.1), ("dev", 0.1))


def read_szeged(
    path: str | PathLike[str], *, encoding: str = "utf-8", member: str | None = None, split: str = ALL
) -> list[Sentence]:
    """Read the merged Szeged NER file and return ``split`` (train/dev/test, or all)."""
    sentences = read_columns(read_source(path, encoding, member), separator="\t", columns={4}, pos_column=1)
    return contiguous_split(sentences, PARTS, split)
