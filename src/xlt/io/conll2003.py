"""CoNLL-2003 NER files (``eng.*``, ``deu.*``).

English rows have 4 space-separated columns ``word POS chunk NE``; German rows have 5,
``word lemma POS chunk NE``, and the German files are ISO-8859-1 (``encoding: latin-1``).
The NE tag is the last column (IOB1 in the original files). The POS column is found from
the column count (index 1 of 4, index 2 of 5) unless ``pos_column`` is given.
"""

from __future__ import annotations

from os import PathLike

from xlt.io.columns import blocks_to_sentences, read_blocks
from xlt.io.sentence import Sentence
from xlt.io.source import read_source

#: column count -> index of the POS column
POS_COLUMN_BY_WIDTH = {4: 1, 5: 2}


def read_conll2003(
    path: str | PathLike[str],
    *,
    encoding: str = "utf-8",
    member: str | None = None,
    pos_column: int | None = None,
) -> list[Sentence]:
    """Read a CoNLL-2003 file; ``-DOCSTART-`` lines separate documents."""
    source = read_source(path, encoding, member)
    blocks = read_blocks(source, columns=None if pos_column is not None else POS_COLUMN_BY_WIDTH)
    width = len(blocks[0].rows[0].fields)
    column = pos_column if pos_column is not None else POS_COLUMN_BY_WIDTH[width]
    return blocks_to_sentences(source, blocks, pos_column=column)
