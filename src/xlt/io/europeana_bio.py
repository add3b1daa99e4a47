"""Europeana Newspapers NER (``enp_*.bio``): historic OCR'd newspapers, one token stream.

Two space-separated columns ``token tag``. The files have no sentence boundaries and no
splits; the French file is IOB1-style (``I-`` only, ``tag_scheme: IOB1``).

Sentence segmentation: a sentence ends after a token equal to one of ``end_tokens``
(default ``"."`` only), or when it reaches ``max_tokens`` (default: no cap). With the
default the French file gives 11903 sentences: one per ``.`` token plus the unterminated
tail, against the 11902 (9527 + 2375) of Meta-NER's Table 2, which suggests that Meta-NER
split on ``.`` as well. ``!``/``?`` are not used by default for the same reason.

Split: Meta-NER "randomly sample[s] 10% of sentences ... to build a test set"; ``split:
test`` returns a reproducible sample of ``round(N * test_fraction)`` sentences (ranked by
a seeded hash, see :func:`xlt.io.splits.sampled_test_split`), ``split: train`` the rest.
Note that Meta-NER's Table 2 counts (9527 / 2375) correspond to ~20 %, not 10 %:
``test_fraction: 0.2`` reproduces those sizes.
"""

from __future__ import annotations

from collections.abc import Sequence
from os import PathLike

from xlt.errors import ConfigError
from xlt.io.columns import Row, read_blocks, rows_to_sentence
from xlt.io.sentence import Sentence
from xlt.io.source import read_source
from xlt.io.splits import ALL, sampled_test_split


def segment(rows: Sequence[Row], end_tokens: Sequence[str], max_tokens: int | None) -> list[list[Row]]:
    """Cut a token stream after each end token and whenever ``max_tokens`` is reached."""
    ends = set(end_tokens)
    pieces: list[list[Row]] = []
    current: list[Row] = []
    for row in rows:
        current.append(row)
        if row.fields[0] in ends or (max_tokens is not None and len(current) >= max_tokens):
            pieces.append(current)
            current = []
    if current:
        pieces.append(current)
    return pieces


def read_europeana_bio(
    path: str | PathLike[str],
    *,
    encoding: str = "utf-8",
    member: str | None = None,
    split: str = ALL,
    test_fraction: float = 0.1,
    split_seed: int = 0,
    end_tokens: Sequence[str] = (".",),
    max_tokens: int | None = None,
) -> list[Sentence]:
    """Read, segment and split a Europeana ``.bio`` file (see the module docstring)."""
    if max_tokens is not None and max_tokens < 1:
        raise ConfigError(f"europeana_bio: max_tokens must be positive, not {max_tokens!r}")
    source = read_source(path, encoding, member)
    # Blank lines, if a file has any, are treated as extra sentence ends.
    pieces = [
        piece
        for block in read_blocks(source, columns={2}, docstart=None)
        for piece in segment(block.rows, end_tokens, max_tokens)
    ]
    sentences = [rows_to_sentence(source, rows, doc_no=0, number=n) for n, rows in enumerate(pieces, start=1)]
    return sampled_test_split(sentences, test_fraction, split_seed, split)
