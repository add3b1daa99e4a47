"""CoNLL-U files: Universal Dependencies treebanks and NorNE.

Only syntactic words are kept: multiword-token ranges (``1-2``) and empty nodes (``1.1``)
are skipped, as POS taggers are evaluated on words. ``column`` selects the tags:

* ``upos`` (default): the UPOS column (UD v1 files may use ``CONJ``).
* ``ner_misc``: NorNE's NER tag from the MISC column's ``name=B-PER`` item (``O`` when
  there is none); the UPOS column is then kept in ``Sentence.pos``.

``sentence_id`` is the ``# sent_id`` value (``# sent_id = x`` or the older ``# sent_id x``),
else ``<file>:<n>``; ``doc_id`` is the ``# newdoc id`` value, else ``<file>:doc<n>``
counting ``# newdoc`` lines.
"""

from __future__ import annotations

import re
from os import PathLike

from xlt.errors import ConfigError, InputError
from xlt.io.columns import doc_id, sentence_id
from xlt.io.sentence import Sentence
from xlt.io.source import SourceText, read_source

FIELDS = 10
ID, FORM, UPOS, MISC = 0, 1, 3, 9
COLUMNS = ("upos", "ner_misc")

_WORD_ID = re.compile(r"[1-9][0-9]*")
_RANGE_ID = re.compile(r"([1-9][0-9]*)-([1-9][0-9]*)")
_EMPTY_ID = re.compile(r"(0|[1-9][0-9]*)\.[1-9][0-9]*")
_COMMENT = re.compile(r"#\s*(sent_id|newdoc)\b\s*(?:id\b)?\s*=?\s*(.*)")


def misc_name(misc: str) -> str:
    """The ``name=`` value of a MISC field, ``O`` when absent."""
    for item in misc.split("|"):
        key, sep, value = item.partition("=")
        if sep and key == "name":
            return value
    return "O"


class _SentenceBuilder:
    """Accumulates the word lines of one sentence."""

    def __init__(self) -> None:
        self.forms: list[str] = []
        self.upos: list[str] = []
        self.names: list[str] = []
        self.lines: list[int] = []
        self.sent_id: str | None = None

    def add(self, source: SourceText, number: int, fields: list[str]) -> None:
        expected = len(self.forms) + 1
        if int(fields[ID]) != expected:
            raise InputError(source.name, number, f"malformed CoNLL-U ID {fields[ID]!r}: expected word {expected}")
        self.forms.append(fields[FORM])
        self.upos.append(fields[UPOS])
        self.names.append(misc_name(fields[MISC]))
        self.lines.append(number)


def _check_id(source: SourceText, number: int, token_id: str) -> bool:
    """True for a word line, False for a range or empty node; raise for anything else."""
    if _WORD_ID.fullmatch(token_id):
        return True
    if _RANGE_ID.fullmatch(token_id) or _EMPTY_ID.fullmatch(token_id):
        return False
    raise InputError(source.name, number, f"malformed CoNLL-U ID {token_id!r}")


def read_conllu(
    path: str | PathLike[str], *, encoding: str = "utf-8", member: str | None = None, column: str = "upos"
) -> list[Sentence]:
    """Read a CoNLL-U file; see the module docstring for ``column``."""
    if column not in COLUMNS:
        raise ConfigError(f"conllu reader: column must be one of {COLUMNS}, not {column!r}")
    source = read_source(path, encoding, member)
    sentences: list[Sentence] = []
    doc_no = 0
    current_doc: str | None = None
    builder = _SentenceBuilder()

    def flush(number: int) -> None:
        nonlocal builder
        if builder.forms:
            ner = column == "ner_misc"
            sentences.append(
                Sentence(
                    tokens=tuple(builder.forms),
                    tags=tuple(builder.names if ner else builder.upos),
                    doc_id=current_doc or doc_id(source, doc_no),
                    sentence_id=builder.sent_id or sentence_id(source, len(sentences) + 1),
                    pos=tuple(builder.upos) if ner else None,
                    token_lines=tuple(builder.lines),
                )
            )
        elif builder.sent_id is not None:
            raise InputError(source.name, number, f"sentence {builder.sent_id!r} has no words")
        builder = _SentenceBuilder()

    for number, line in enumerate(source.lines(), start=1):
        if not line.strip():
            flush(number)
            continue
        if line.startswith("#"):
            match = _COMMENT.match(line)
            if match and match.group(1) == "sent_id":
                builder.sent_id = match.group(2).strip() or None
            elif match and match.group(1) == "newdoc":
                doc_no += 1
                current_doc = match.group(2).strip() or None
            continue
        fields = line.split("\t")
        if len(fields) != FIELDS:
            raise InputError(source.name, number, f"expected {FIELDS} tab-separated columns, found {len(fields)}")
        if _check_id(source, number, fields[ID]):
            builder.add(source, number, fields)
    flush(number + 1)
    if not sentences:
        raise InputError(source.name, None, "no sentences found")
    return sentences
