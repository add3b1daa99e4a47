"""Word-vector spaces whose alignment is known: the sanity rows of the mapping table.

Real vectors trained on ~1M tokens barely align (issue 6), so a mapping's P@1 on them says
little about whether the code works. Two checks whose answer is known do:

* ``rotated_pair``: a source space and its rotation, rows permuted, with the gold alignment;
* ``split_lines``: one language's text split into two disjoint halves, so that vectors
  trained on each half are aligned by the identity dictionary (the same word).
"""
from __future__ import annotations

from os import PathLike

import torch

from xlt.atomic import atomic_path
from xlt.errors import InputError
from xlt.vectors.embeddings import Embeddings


def rotated_pair(n: int = 2000, d: int = 20, angle: float = 0.2, seed: int = 0
                 ) -> tuple[Embeddings, Embeddings, list[tuple[str, str]]]:
    """Two spaces related by a random rotation, rows permuted; returns (src, tgt, gold pairs).

    The source has independent, skewed, centred coordinates of distinct scales (ICA-like):
    the rotation is identifiable from the distribution alone, which is what the adversarial
    game needs (isotropic Gaussians have no recoverable rotation). The rotation
    exp(angle · A), A a random skew-symmetric matrix, is far enough from the identity that the
    identity map retrieves only a few percent of the words.
    """
    g = torch.Generator().manual_seed(seed)
    x = (torch.empty(n, d).exponential_(generator=g) - 1.0) * torch.logspace(0, -0.3, d)
    a = torch.randn(d, d, generator=g)
    q = torch.linalg.matrix_exp(angle * (a - a.t()))
    perm = torch.randperm(n, generator=g)
    y = (x @ q.t() + 0.01 * torch.randn(n, d, generator=g))[perm]
    gold = torch.empty(n, dtype=torch.long)
    gold[perm] = torch.arange(n)
    src = Embeddings([f"s{i}" for i in range(n)], x.numpy())
    tgt = Embeddings([f"t{i}" for i in range(n)], y.numpy())
    return src, tgt, [(f"s{i}", f"t{int(gold[i])}") for i in range(n)]


def split_lines(text_path: str | PathLike[str], first: str | PathLike[str],
                second: str | PathLike[str]) -> tuple[int, int]:
    """Odd lines to ``first``, even lines to ``second`` (disjoint, same distribution)."""
    counts = [0, 0]
    with atomic_path(first) as tmp_a, atomic_path(second) as tmp_b, \
            open(text_path, encoding="utf-8") as src, \
            open(tmp_a, "w", encoding="utf-8") as out_a, open(tmp_b, "w", encoding="utf-8") as out_b:
        for number, line in enumerate(src):
            (out_a if number % 2 == 0 else out_b).write(line)
            counts[number % 2] += 1
        if min(counts) == 0:
            raise InputError(text_path, None, "fewer than two lines: cannot split into halves")
    return counts[0], counts[1]
