"""The reader for each ``format`` name of ``config/datasets.yaml``.

Every reader has the signature ``read_X(path, *, encoding="utf-8", member=None,
**options) -> list[Sentence]`` (docs/contracts.md §4); its options are explicit keyword
parameters, so :func:`read_corpus` can reject a misspelt option in the config before
reading anything.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from os import PathLike
from typing import Any

from xlt.errors import ConfigError
from xlt.io.basqueglue_jsonl import read_basqueglue_jsonl
from xlt.io.conll2002 import read_conll2002
from xlt.io.conll2003 import read_conll2003
from xlt.io.conllu import read_conllu
from xlt.io.europeana_bio import read_europeana_bio
from xlt.io.msra import read_msra
from xlt.io.ntunlp import read_ntunlp
from xlt.io.ptb_treebank import read_ptb_treebank
from xlt.io.sentence import Sentence
from xlt.io.szeged import read_szeged
from xlt.io.wikiann import read_wikiann

Reader = Callable[..., list[Sentence]]

READERS: dict[str, Reader] = {
    "basqueglue_jsonl": read_basqueglue_jsonl,
    "conll2002": read_conll2002,
    "conll2003": read_conll2003,
    "conllu": read_conllu,
    "europeana_bio": read_europeana_bio,
    "msra": read_msra,
    "ntunlp": read_ntunlp,
    "ptb_treebank": read_ptb_treebank,
    "szeged": read_szeged,
    "wikiann": read_wikiann,
}


def get_reader(name: str) -> Reader:
    """The reader registered as ``name``; :class:`ConfigError` for an unknown format."""
    try:
        return READERS[name]
    except KeyError:
        raise ConfigError(f"unknown corpus format {name!r}; known: {', '.join(sorted(READERS))}") from None


def reader_options(name: str) -> list[str]:
    """The option names (beyond ``encoding`` and ``member``) that reader ``name`` accepts."""
    parameters = inspect.signature(get_reader(name)).parameters
    return [p for p, spec in parameters.items() if spec.kind is spec.KEYWORD_ONLY and p not in ("encoding", "member")]


def read_corpus(
    name: str,
    path: str | PathLike[str],
    *,
    encoding: str = "utf-8",
    member: str | None = None,
    options: Mapping[str, Any] | None = None,
) -> list[Sentence]:
    """Read ``path`` with reader ``name``; unknown options raise :class:`ConfigError`."""
    reader = get_reader(name)
    options = dict(options or {})
    unknown = sorted(set(options) - set(reader_options(name)))
    if unknown:
        raise ConfigError(f"format {name!r} has no option(s) {unknown}; it accepts {reader_options(name)}")
    return reader(path, encoding=encoding, member=member, **options)
