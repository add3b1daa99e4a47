"""Penn Treebank bracketed parses (``.mrg``), e.g. NLTK's WSJ sample ``treebank.zip``.

The POS task's English training data (Bao et al. and Fang & Cohn train on the PTB) comes
from these trees: every preterminal ``(TAG word)`` is a token with its PTB tag. Empty
elements (tag ``-NONE-``: traces such as ``*T*-1``) are not words and are dropped unless
``drop_traces`` is false. Each top-level bracket is one sentence.

``member`` is one ``.mrg`` member of a zip, or a directory prefix ending in ``/``
(``treebank/combined/``): then every ``.mrg`` member under it is read, in sorted order,
optionally limited to file names from ``first_file`` to ``last_file`` (inclusive,
compared as names without suffix, e.g. ``wsj_0171``). ``doc_id`` is that name, so a
train/dev cut by file keeps articles whole.
"""

from __future__ import annotations

import re
import zipfile
from os import PathLike
from pathlib import PurePosixPath

from xlt.errors import ConfigError, InputError
from xlt.io.sentence import Sentence
from xlt.io.source import SourceText, read_source, source_name

TRACE_TAG = "-NONE-"
SUFFIX = ".mrg"
_TOKEN = re.compile(r"\(|\)|[^\s()]+")


def _sentences(source: SourceText, drop_traces: bool) -> list[Sentence]:
    doc = PurePosixPath(source.stem).stem
    sentences: list[Sentence] = []
    words: list[tuple[str, str, int]] = []  # (word, tag, line)
    stack: list[list[str]] = []  # open brackets, each with the atoms directly inside it
    for number, line in enumerate(source.lines(), start=1):
        for token in _TOKEN.findall(line):
            if token == "(":
                stack.append([])
            elif token == ")":
                if not stack:
                    raise InputError(source.name, number, "unbalanced ')'")
                atoms = stack.pop()
                if len(atoms) == 2 and not (drop_traces and atoms[0] == TRACE_TAG):
                    words.append((atoms[1], atoms[0], number))
                if not stack and words:
                    sentences.append(
                        Sentence(
                            tokens=tuple(word for word, _, _ in words),
                            tags=tuple(tag for _, tag, _ in words),
                            doc_id=doc,
                            sentence_id=f"{doc}:{len(sentences) + 1}",
                            token_lines=tuple(line_no for _, _, line_no in words),
                        )
                    )
                    words = []
            elif not stack:
                raise InputError(source.name, number, f"text {token!r} outside any bracket")
            else:
                stack[-1].append(token)
    if stack:
        raise InputError(source.name, None, f"{len(stack)} bracket(s) not closed at end of file")
    if not sentences:
        raise InputError(source.name, None, "no sentences found")
    return sentences


def _members(path: str | PathLike[str], prefix: str, first_file: str | None, last_file: str | None) -> list[str]:
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except FileNotFoundError:
        raise InputError(path, None, "file not found") from None
    except zipfile.BadZipFile as err:
        raise InputError(path, None, f"cannot open as zip: {err}") from None
    chosen = []
    for name in sorted(names):
        stem = PurePosixPath(name).stem
        if not (name.startswith(prefix) and name.endswith(SUFFIX)):
            continue
        if (first_file is None or stem >= first_file) and (last_file is None or stem <= last_file):
            chosen.append(name)
    if not chosen:
        raise InputError(
            source_name(path, prefix), None, f"no {SUFFIX} member from {first_file or 'the first'} "
            f"to {last_file or 'the last'}"
        )
    return chosen


def read_ptb_treebank(
    path: str | PathLike[str],
    *,
    encoding: str = "utf-8",
    member: str | None = None,
    first_file: str | None = None,
    last_file: str | None = None,
    drop_traces: bool = True,
) -> list[Sentence]:
    """Read PTB ``.mrg`` trees: a file, a zip member, or a zip directory (see module docstring)."""
    if member is None or not member.endswith("/"):
        if first_file is not None or last_file is not None:
            raise ConfigError("ptb_treebank: first_file/last_file need a directory member ending in '/'")
        return _sentences(read_source(path, encoding, member), drop_traces)
    return [
        sentence
        for name in _members(path, member, first_file, last_file)
        for sentence in _sentences(read_source(path, encoding, name), drop_traces)
    ]
