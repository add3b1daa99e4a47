"""BasqueGLUE NERCid (``basque_nerc_id/{train,val,test}.jsonl``): one JSON object per line.

Each line is ``{"idx": int, "tokens": [str], "tags": [str]}`` with IOB2 string tags over
PER/LOC/ORG/MISC (checked on the mirror copy: the tags are strings, not label ids). In
case a release stores integer label ids instead, pass their names in order as
``label_names``. Blank lines are ignored, and so are records with no tokens (train.jsonl
line 2133 and test.jsonl line 1217 of the mirror copy are ``"tokens": []``): an empty
sentence carries no label and would only break length-based batching.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from os import PathLike
from typing import Any

from xlt.errors import InputError
from xlt.io.columns import doc_id, sentence_id
from xlt.io.sentence import Sentence
from xlt.io.source import SourceText, read_source


def _list_field(source: SourceText, number: int, record: dict[str, Any], key: str) -> list[Any]:
    value = record.get(key)
    if not isinstance(value, list):
        raise InputError(source.name, number, f"field {key!r} is missing or not a list")
    return value


def _tag_names(
    source: SourceText, number: int, tags: list[Any], label_names: Sequence[str] | None
) -> tuple[str, ...]:
    if all(isinstance(tag, str) for tag in tags):
        return tuple(tags)
    if label_names is not None and all(isinstance(tag, int) and 0 <= tag < len(label_names) for tag in tags):
        return tuple(label_names[tag] for tag in tags)
    bad = next(tag for tag in tags if not isinstance(tag, str))
    hint = "" if label_names is not None else " (integer ids need the label_names option)"
    raise InputError(source.name, number, f"tag {bad!r} is not a tag name{hint}")


def read_basqueglue_jsonl(
    path: str | PathLike[str],
    *,
    encoding: str = "utf-8",
    member: str | None = None,
    label_names: Sequence[str] | None = None,
) -> list[Sentence]:
    """Read a BasqueGLUE JSON-lines NER file; ``sentence_id`` is ``<file>:<idx>`` (else the line)."""
    source = read_source(path, encoding, member)
    sentences: list[Sentence] = []
    for number, line in enumerate(source.lines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise InputError(source.name, number, f"invalid JSON: {err.msg} (column {err.colno})") from None
        if not isinstance(record, dict):
            raise InputError(source.name, number, "line is not a JSON object")
        tokens = _list_field(source, number, record, "tokens")
        tags = _tag_names(source, number, _list_field(source, number, record, "tags"), label_names)
        if len(tokens) != len(tags):
            raise InputError(source.name, number, f"{len(tokens)} tokens but {len(tags)} tags")
        if not all(isinstance(token, str) and token for token in tokens):
            raise InputError(source.name, number, "tokens must be non-empty strings")
        if not tokens:
            continue
        idx = record.get("idx", number)
        sentences.append(
            Sentence(
                tokens=tuple(tokens),
                tags=tags,
                doc_id=doc_id(source, 0),
                sentence_id=sentence_id(source, idx),
                token_lines=(number,) * len(tokens),
            )
        )
    if not sentences:
        raise InputError(source.name, None, "no sentences found")
    return sentences
