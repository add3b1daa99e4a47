"""Word-translation precision P@k (MUSE ``get_word_translation_accuracy``).

A bilingual dictionary lists ``src tgt`` pairs (whitespace separated, one per line; a source
word may have several lines). Pairs with a word missing from either vocabulary are dropped
and the coverage is reported, as MUSE does (it only logs it). A source word counts as
correct at k when *any* of its gold translations is among its k best retrieved targets,
and P@k is the percentage of covered source words that are correct.

Retrieval is NN (cosine) or CSLS, over the whole target vocabulary, with CSLS neighbourhood
means over the whole vocabularies (as MUSE), computed in blocks (:mod:`xlt.vectors.retrieval`).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from os import PathLike
from typing import Any

import torch

from xlt.errors import InputError
from xlt.vectors.embeddings import read_vec
from xlt.vectors.retrieval import block_rows, csls_topk, mean_topk_similarity, nn_topk, unit_rows

PathLikeStr = str | PathLike[str]

DEFAULT_METHODS = ("nn", "csls_knn_10")
DEFAULT_KS = (1, 5, 10)


def read_dictionary(paths: PathLikeStr | Sequence[PathLikeStr], encoding: str = "utf-8") -> list[tuple[str, str]]:
    """The (source, target) pairs of one or more dictionary files, concatenated in order.

    Blank lines are skipped (MUSE skips them too); any other line that is not exactly two
    fields raises InputError naming the file and line (MUSE would crash on it).
    """
    if isinstance(paths, (str, PathLike)):
        paths = [paths]
    pairs: list[tuple[str, str]] = []
    for path in paths:
        try:
            with open(path, encoding=encoding) as handle:
                for lineno, line in enumerate(handle, start=1):
                    fields = line.split()
                    if not fields:
                        continue
                    if len(fields) != 2:
                        raise InputError(path, lineno, f"expected 'source target', got {len(fields)} fields")
                    pairs.append((fields[0], fields[1]))
        except UnicodeDecodeError as err:
            raise InputError(path, None, f"not valid {encoding}: {err.reason}") from err
    return pairs


def lookup_pairs(
    pairs: Iterable[tuple[str, str]], src_index: Mapping[str, int], tgt_index: Mapping[str, int]
) -> tuple[torch.Tensor, dict[str, int]]:
    """Index pairs (sorted by source rank, as MUSE) of the pairs both vocabularies cover, and
    the coverage: pairs and source words listed / found."""
    pairs = list(pairs)
    found = sorted({(src_index[s], tgt_index[t]) for s, t in pairs if s in src_index and t in tgt_index})
    coverage = {
        "pairs": len(pairs),
        "pairs_found": len(found),
        "source_words": len({s for s, _ in pairs}),
        "source_words_found": len({i for i, _ in found}),
    }
    dico = torch.tensor(found, dtype=torch.long).reshape(-1, 2)
    return dico, coverage


def precision_at_k(
    src_unit: torch.Tensor,
    tgt_unit: torch.Tensor,
    dico: torch.Tensor,
    methods: Sequence[str] = DEFAULT_METHODS,
    ks: Sequence[int] = DEFAULT_KS,
    block: int | None = None,
) -> dict[str, dict[str, float]]:
    """``{method: {"p@k": percent}}`` for unit-normalised (mapped) source and target vectors."""
    if dico.shape[0] == 0:
        return {method: {f"p@{k}": float("nan") for k in ks} for method in methods}
    block = block or block_rows(tgt_unit.shape[0], tgt_unit.element_size())
    sources, inverse = torch.unique(dico[:, 0], return_inverse=True)
    queries = src_unit[sources]
    kmax = min(max(ks), tgt_unit.shape[0])
    results: dict[str, dict[str, float]] = {}
    for method in methods:
        if method == "nn":
            _, top = nn_topk(queries, tgt_unit, kmax, block)
        elif method.startswith("csls_knn_"):
            knn = int(method[len("csls_knn_"):])
            r_src = mean_topk_similarity(queries, tgt_unit, knn, block)
            r_tgt = mean_topk_similarity(tgt_unit, src_unit, knn, block)
            _, top = csls_topk(queries, tgt_unit, kmax, r_src, r_tgt, block)
        else:
            raise ValueError(f"unknown retrieval method {method!r} (nn or csls_knn_<k>)")
        results[method] = {}
        for k in ks:
            hit_pair = (top[inverse, :k] == dico[:, 1:2]).any(dim=1)
            # A source word is correct if any of its gold translations is retrieved.
            hit_word = torch.zeros(sources.shape[0], dtype=torch.long, device=hit_pair.device)
            hit_word.scatter_reduce_(0, inverse, hit_pair.long(), "amax")
            results[method][f"p@{k}"] = 100.0 * float(hit_word.float().mean())
    return results


def word_translation(
    src_vec: PathLikeStr,
    tgt_vec: PathLikeStr,
    dictionary: PathLikeStr | Sequence[PathLikeStr],
    *,
    max_vocab: int | None = 200_000,
    lowercase: bool = True,
    methods: Sequence[str] = DEFAULT_METHODS,
    ks: Sequence[int] = DEFAULT_KS,
    device: str | torch.device | None = None,
) -> dict[str, Any]:
    """P@k of mapped source vectors ``src_vec`` against ``tgt_vec`` on ``dictionary`` files.

    The vocabularies are read as MUSE evaluates (``max_vocab`` 200k, lowercased: the MUSE
    dictionaries are lowercase). Returns ``{"nn": {"p@1": ...}, ..., "coverage": {...}}``.
    """
    device = torch.device(device or "cpu")
    src = read_vec(src_vec, max_vocab, lowercase=lowercase)
    tgt = read_vec(tgt_vec, max_vocab, dim=src.dim, lowercase=lowercase)
    dico, coverage = lookup_pairs(read_dictionary(dictionary), src.index, tgt.index)
    src_unit = unit_rows(torch.from_numpy(src.vectors).to(device))
    tgt_unit = unit_rows(torch.from_numpy(tgt.vectors).to(device))
    scores: dict[str, Any] = precision_at_k(src_unit, tgt_unit, dico.to(device), methods, ks)
    scores["coverage"] = coverage
    return scores
