"""WikiANN (PAN-X) in the Rahimi et al. (2019) split (``wikiann/xx/{train,dev,test}``).

Tab-separated ``xx:token<TAB>tag``, IOB2 over PER/LOC/ORG. Every token carries the
language prefix ``xx:``; exactly that prefix is removed (a token may itself contain
colons, e.g. ``en::`` is the token ``:``).
"""

from __future__ import annotations

from os import PathLike

from xlt.errors import InputError
from xlt.io.columns import Row, blocks_to_sentences, read_blocks
from xlt.io.sentence import Sentence
from xlt.io.source import read_source


def read_wikiann(
    path: str | PathLike[str], *, encoding: str = "utf-8", member: str | None = None, lang: str | None = None
) -> list[Sentence]:
    """Read a WikiANN file; ``lang`` is the prefix's language (default: the first token's)."""
    source = read_source(path, encoding, member)
    blocks = read_blocks(source, separator="\t", columns={2}, docstart=None)
    first = blocks[0].rows[0]
    if lang is None:
        lang, sep, _ = first.fields[0].partition(":")
        if not sep:
            raise InputError(source.name, first.line, f"token {first.fields[0]!r} has no 'xx:' language prefix")
    prefix = f"{lang}:"

    def token_of(row: Row) -> str:
        token = row.fields[0]
        if not token.startswith(prefix) or token == prefix:
            raise InputError(source.name, row.line, f"token {token!r} does not start with {prefix!r}")
        return token[len(prefix) :]

    return blocks_to_sentences(source, blocks, token_of=token_of)
