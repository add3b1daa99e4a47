"""Batched nearest-neighbour and CSLS retrieval between two sets of unit vectors.

CSLS (Conneau et al. 2018) rescores the cosine of a query ``x`` and a key ``y`` as
``2 cos(x, y) - r_K(x) - r_Q(y)``, where ``r_K(x)`` is the mean cosine of ``x`` with its
``k`` nearest keys and ``r_Q(y)`` the mean cosine of ``y`` with its ``k`` nearest queries:
"hub" words close to everything are penalised.

Nothing here builds a V×V matrix: queries are processed in row blocks, each block's score
matrix (``block × V_keys``) is reduced to its top-k at once, and only the reductions are
kept. The block size is chosen so that one score block stays under a memory budget
(:data:`DEFAULT_BLOCK_BYTES`), so peak extra memory is ``O(block × V + V × k)`` whatever V
is. All inputs are torch tensors on one device (CPU or CUDA); callers normalise rows first
(cosine = inner product of unit vectors), as MUSE does before every retrieval.
"""
from __future__ import annotations

from collections.abc import Callable

import torch

#: Bytes one block of scores may take (64 MiB: 512 query rows against 32k keys, 84 rows
#: against 200k). Larger blocks are not faster on CPU; on a GPU a caller may pass more.
DEFAULT_BLOCK_BYTES = 64 * 2**20


def unit_rows(vectors: torch.Tensor) -> torch.Tensor:
    """``vectors`` with each row scaled to Euclidean norm 1 (zero rows stay zero)."""
    return vectors / vectors.norm(dim=1, keepdim=True).clamp_min(torch.finfo(vectors.dtype).tiny)


def block_rows(n_keys: int, element_bytes: int = 4, budget: int = DEFAULT_BLOCK_BYTES) -> int:
    """How many query rows a block may hold so that its ``rows × n_keys`` scores fit ``budget``."""
    return max(1, min(8192, budget // max(1, n_keys * element_bytes)))


def _blocked_topk(
    queries: torch.Tensor,
    keys: torch.Tensor,
    k: int,
    block: int | None,
    adjust: Callable[[torch.Tensor, int, int], torch.Tensor] | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Top-``k`` (scores, key indices) of each query row, scores = ``queries @ keys.T``
    (then ``adjust(scores, start, stop)`` for the block of query rows ``start:stop``)."""
    if keys.shape[0] < k:
        raise ValueError(f"top-{k} asked over {keys.shape[0]} keys")
    if queries.shape[1] != keys.shape[1]:
        raise ValueError(f"queries of dimension {queries.shape[1]}, keys of dimension {keys.shape[1]}")
    block = block or block_rows(keys.shape[0], keys.element_size())
    keys_t = keys.t().contiguous()  # one (dim × V) copy: every block multiplies by it
    n = queries.shape[0]
    scores = torch.empty((n, k), dtype=queries.dtype, device=queries.device)
    indices = torch.empty((n, k), dtype=torch.long, device=queries.device)
    for start in range(0, n, block):
        stop = min(n, start + block)
        block_scores = queries[start:stop] @ keys_t
        if adjust is not None:
            block_scores = adjust(block_scores, start, stop)
        top = block_scores.topk(k, dim=1, largest=True, sorted=True)
        scores[start:stop] = top.values
        indices[start:stop] = top.indices
    return scores, indices


def nn_topk(queries: torch.Tensor, keys: torch.Tensor, k: int, block: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Cosine nearest neighbours: (scores, indices) of the ``k`` best keys per query, best first."""
    return _blocked_topk(queries, keys, k, block)


def mean_topk_similarity(queries: torch.Tensor, keys: torch.Tensor, k: int, block: int | None = None) -> torch.Tensor:
    """For each query, the mean cosine of its ``k`` nearest keys (MUSE ``get_nn_avg_dist``).

    ``k`` is clipped to the number of keys, so that CSLS works on vocabularies smaller than
    its neighbourhood (MUSE would fail in ``topk``).
    """
    return _blocked_topk(queries, keys, min(k, keys.shape[0]), block)[0].mean(dim=1)


def csls_topk(
    queries: torch.Tensor,
    keys: torch.Tensor,
    k: int,
    r_queries: torch.Tensor,
    r_keys: torch.Tensor,
    block: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """CSLS neighbours: (scores, indices) of the ``k`` best keys per query by
    ``2 cos - r_queries[q] - r_keys[y]``.

    ``r_queries[i]`` is the mean similarity of query ``i`` with its ``knn`` nearest keys and
    ``r_keys[j]`` that of key ``j`` with its nearest queries (:func:`mean_topk_similarity`);
    the queries may be a subset of the rows those means were computed over, as long as
    ``r_queries`` matches them row for row.
    """
    if r_queries.shape[0] != queries.shape[0] or r_keys.shape[0] != keys.shape[0]:
        raise ValueError("r_queries / r_keys must have one value per query / key")

    def adjust(scores: torch.Tensor, start: int, stop: int) -> torch.Tensor:
        scores.mul_(2)
        scores.sub_(r_queries[start:stop, None])
        scores.sub_(r_keys[None, :])
        return scores

    return _blocked_topk(queries, keys, k, block, adjust)

