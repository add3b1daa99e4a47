"""Deterministic train/dev/test splits for corpora released without them.

Two corpora need one: Szeged NER (train, test and devel merged into one file, no marks)
and Europeana Newspapers (one token stream per library). Both rules depend only on the
sentence order of the file and a fixed seed, never on a random generator's
implementation, so every machine and Python version derives the same splits.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TypeVar

from xlt.errors import ConfigError

T = TypeVar("T")

ALL = "all"


def contiguous_split(items: Sequence[T], parts: Sequence[tuple[str, float]], split: str) -> list[T]:
    """The ``split`` part of ``items`` cut into contiguous blocks of the given fractions.

    Block ``k`` ends at ``floor(N * (f_1 + ... + f_k))``; the last block takes the rest.
    Contiguous blocks keep neighbouring sentences (the same news story) in one split.
    ``split == "all"`` returns everything.
    """
    if split == ALL:
        return list(items)
    names = [name for name, _ in parts]
    if split not in names:
        raise ConfigError(f"split must be one of {names + [ALL]}, not {split!r}")
    n = len(items)
    bounds = [0]
    total = 0.0
    for _, fraction in parts[:-1]:
        total += fraction
        bounds.append(int(n * total))
    bounds.append(n)
    k = names.index(split)
    return list(items[bounds[k] : bounds[k + 1]])


def _rank_key(seed: int, index: int) -> bytes:
    return hashlib.sha256(f"{seed}:{index}".encode()).digest()


def sampled_test_split(items: Sequence[T], test_fraction: float, seed: int, split: str) -> list[T]:
    """Hold out ``round(N * test_fraction)`` items as ``test``; the rest is ``train``.

    The test items are those whose ``sha256(f"{seed}:{index}")`` is smallest: a uniform
    random sample (as Meta-NER samples its Europeana test set) that is reproducible
    without any RNG. Both parts keep file order. ``split == "all"`` returns everything.
    """
    if split == ALL:
        return list(items)
    if split not in ("train", "test"):
        raise ConfigError(f"split must be 'train', 'test' or 'all', not {split!r}")
    if not 0.0 < test_fraction < 1.0:
        raise ConfigError(f"test_fraction must be between 0 and 1, not {test_fraction!r}")
    n_test = round(len(items) * test_fraction)
    ranked = sorted(range(len(items)), key=lambda i: _rank_key(seed, i))
    test = set(ranked[:n_test])
    return [item for i, item in enumerate(items) if (i in test) == (split == "test")]
