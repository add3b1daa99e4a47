"""MLMA's unsupervised alignment losses (Bao et al. 2019, §2.2), between two languages.

``states_s`` / ``states_t`` are a language's token representations ``h_{l,k}`` (forward ⊕
backward) of the current mini-batch, one ``(N, 2d)`` tensor per layer ``l = 0 .. n`` with
padding removed: the paper's approximation of the corpus collections ``C_l`` by the batch.
Each loss is zero when the two languages' collections are identical and positive otherwise,
so that a model cannot satisfy it by collapsing one language onto a point elsewhere.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor


def identical_strings_loss(emb_s: Tensor, emb_t: Tensor, ids_s: Tensor, ids_t: Tensor, weight: float = 100.0) -> Tensor:
    """``L_iden``: λ times the mean Euclidean distance between the two embedding matrices'
    rows of each identical string (``ids_s[i]`` in ``s`` is the same string as ``ids_t[i]``
    in ``t``)."""
    if ids_s.shape != ids_t.shape or ids_s.dim() != 1:
        raise ValueError(f"identical-string id lists differ in shape: {tuple(ids_s.shape)} vs {tuple(ids_t.shape)}")
    if len(ids_s) == 0:
        raise ValueError("no identical strings between the two vocabularies: L_iden is undefined")
    return weight * (emb_s[ids_s] - emb_t[ids_t]).norm(dim=1).mean()


def _weights(weight: float | Sequence[float], n_layers: int) -> list[float]:
    weights = [float(weight)] * n_layers if isinstance(weight, (int, float)) else [float(w) for w in weight]
    if len(weights) != n_layers:
        raise ValueError(f"{len(weights)} layer weights for {n_layers} layers")
    return weights


def mean_variance_loss(
    states_s: Sequence[Tensor],
    states_t: Sequence[Tensor],
    mean_weight: float | Sequence[float] = 0.1,
    variance_weight: float | Sequence[float] = 0.01,
) -> Tensor:
    """``L_mv``: per layer, the Euclidean distance between the two mean vectors over the sum
    of their L1 norms, likewise for the per-dimension variances, weighted λm, λv."""
    if len(states_s) != len(states_t):
        raise ValueError(f"{len(states_s)} layers of s vs {len(states_t)} of t")
    lm, lv = _weights(mean_weight, len(states_s)), _weights(variance_weight, len(states_s))
    total = states_s[0].new_zeros(())
    for hs, ht, wm, wv in zip(states_s, states_t, lm, lv):
        ms, mt = hs.mean(0), ht.mean(0)
        vs, vt = hs.var(0, unbiased=False), ht.var(0, unbiased=False)
        total = total + wm * (ms - mt).norm() / (ms.abs().sum() + mt.abs().sum())
        total = total + wv * (vs - vt).norm() / (vs.abs().sum() + vt.abs().sum())
    return total


def average_linkage(x: Tensor, y: Tensor) -> Tensor:
    """Mean Euclidean distance over all pairs of rows of ``x`` and ``y``."""
    # torch.cdist's gradient is 0 (not NaN) at a zero distance, which the self terms have on
    # their diagonal.
    return torch.cdist(x.unsqueeze(0), y.unsqueeze(0)).mean()


def average_linkage_loss(
    states_s: Sequence[Tensor], states_t: Sequence[Tensor], weight: float | Sequence[float] = 1.0
) -> Tensor:
    """``L_avl``: per layer, λ · [2 avl(C_s, C_t) - avl(C_s, C_s) - avl(C_t, C_t)], the
    self terms keeping a language from shrinking its cloud to pass under the cross term
    (with Euclidean distance this is the energy distance, >= 0 and 0 only for equal sets)."""
    if len(states_s) != len(states_t):
        raise ValueError(f"{len(states_s)} layers of s vs {len(states_t)} of t")
    total = states_s[0].new_zeros(())
    for hs, ht, w in zip(states_s, states_t, _weights(weight, len(states_s))):
        total = total + w * (2 * average_linkage(hs, ht) - average_linkage(hs, hs) - average_linkage(ht, ht))
    return total
