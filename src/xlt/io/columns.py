"""Parsing of one-token-per-line column files (CoNLL-2002/2003, WikiANN, MSRA, ...).

A blank line ends a sentence (runs of blank lines count as one: ntunlp's fi.testb has
them); a ``-DOCSTART-`` line starts a new document and is not a token (in CoNLL-2002
Dutch it is directly followed by the first sentence, with no blank line in between).
All rows of a file must have the same number of columns, so a stray or missing column is
reported at its line instead of silently shifting the tag column.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

from xlt.errors import InputError
from xlt.io.sentence import Sentence
from xlt.io.source import SourceText

DOCSTART = "-DOCSTART-"
_ASCII_BLANKS = re.compile(r"[ \t]+")


@dataclass(frozen=True)
class Row:
    """The fields of one token line and its 1-based line number."""

    line: int
    fields: tuple[str, ...]


@dataclass(frozen=True)
class Block:
    """The rows of one sentence; ``doc_no`` counts ``-DOCSTART-`` lines seen before it."""

    rows: tuple[Row, ...]
    doc_no: int


def split_fields(line: str, separator: str | None) -> list[str]:
    """Split a line on ``separator``, or on runs of ASCII spaces/tabs when it is ``None``.

    Only ASCII blanks separate: ``str.split()`` would also split on U+00A0 or U+3000,
    which can be (part of) tokens.
    """
    if separator is None:
        return _ASCII_BLANKS.split(line.strip(" \t"))
    return line.split(separator)


def read_blocks(
    source: SourceText,
    *,
    separator: str | None = None,
    columns: Collection[int] | None = None,
    docstart: str | None = DOCSTART,
) -> list[Block]:
    """Split ``source`` into sentence blocks, checking column counts.

    ``columns`` lists the acceptable column counts (any when ``None``); in addition every
    row must have the count of the file's first row. Raises :class:`InputError` naming the
    line, or the file when it holds no token line at all.
    """
    blocks: list[Block] = []
    rows: list[Row] = []
    doc_no = 0
    width: int | None = None
    first_line = 0

    def flush() -> None:
        if rows:
            blocks.append(Block(tuple(rows), doc_no))
            rows.clear()

    for number, line in enumerate(source.lines(), start=1):
        if not line.strip(" \t"):
            flush()
            continue
        fields = split_fields(line, separator)
        if docstart is not None and fields[0] == docstart:
            flush()
            doc_no += 1
            continue
        if width is None:
            if columns is not None and len(fields) not in columns:
                expected = " or ".join(str(c) for c in sorted(columns))
                raise InputError(source.name, number, f"expected {expected} columns, found {len(fields)}")
            width, first_line = len(fields), number
        elif len(fields) != width:
            raise InputError(
                source.name, number, f"expected {width} columns (as on line {first_line}), found {len(fields)}"
            )
        if any(not field for field in fields):
            raise InputError(source.name, number, "empty column")
        rows.append(Row(number, tuple(fields)))
    flush()
    if not blocks:
        raise InputError(source.name, None, "no sentences found")
    return blocks


def doc_id(source: SourceText, doc_no: int) -> str:
    """Document id: the file name and the document's number in it (0 before any marker)."""
    return f"{source.stem}:doc{doc_no}"


def sentence_id(source: SourceText, number: int | str) -> str:
    """Sentence id: the file name and the sentence's number (1-based position, or the file's own id)."""
    return f"{source.stem}:{number}"


def rows_to_sentence(
    source: SourceText,
    rows: Sequence[Row],
    *,
    doc_no: int,
    number: int,
    tag_column: int = -1,
    pos_column: int | None = None,
    token_of: Callable[[Row], str] | None = None,
) -> Sentence:
    """Build a :class:`Sentence` from rows: token in column 0 (or ``token_of(row)``)."""
    return Sentence(
        tokens=tuple(token_of(row) if token_of else row.fields[0] for row in rows),
        tags=tuple(row.fields[tag_column] for row in rows),
        doc_id=doc_id(source, doc_no),
        sentence_id=sentence_id(source, number),
        pos=None if pos_column is None else tuple(row.fields[pos_column] for row in rows),
        token_lines=tuple(row.line for row in rows),
    )


def blocks_to_sentences(
    source: SourceText,
    blocks: Sequence[Block],
    *,
    tag_column: int = -1,
    pos_column: int | None = None,
    token_of: Callable[[Row], str] | None = None,
) -> list[Sentence]:
    """One :class:`Sentence` per block, numbered 1.. in file order."""
    return [
        rows_to_sentence(
            source,
            block.rows,
            doc_no=block.doc_no,
            number=number,
            tag_column=tag_column,
            pos_column=pos_column,
            token_of=token_of,
        )
        for number, block in enumerate(blocks, start=1)
    ]


def read_columns(
    source: SourceText,
    *,
    separator: str | None = None,
    columns: Collection[int] | None = None,
    tag_column: int = -1,
    pos_column: int | None = None,
    token_of: Callable[[Row], str] | None = None,
) -> list[Sentence]:
    """:func:`read_blocks` then :func:`blocks_to_sentences`: the whole simple-format reader."""
    blocks = read_blocks(source, separator=separator, columns=columns)
    return blocks_to_sentences(source, blocks, tag_column=tag_column, pos_column=pos_column, token_of=token_of)
