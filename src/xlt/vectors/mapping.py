"""Cross-lingual mapping of word vectors, as MUSE (Conneau et al. 2018, facebookresearch/MUSE).

Two modes, both learning an orthogonal ``W`` with ``mapped source = source @ W.T``:

* ``supervised`` (MUSE ``supervised.py --dico_train identical_char``; UniTrans' translation):
  Procrustes on the seed dictionary of identical strings, then ``n_refinement`` iterations of
  CSLS dictionary induction + Procrustes.
* ``unsupervised`` (MUSE ``unsupervised.py``; Bari, Bao): adversarial training of ``W``
  against a discriminator, the best epoch by MUSE's criterion, then Procrustes refinement.

MUSE's model selection keeps the candidate with the highest *mean cosine of the CSLS
translations of the 10k most frequent source words*. That criterion can rate a failed map
highest (a collapsed or non-orthogonal map crowds words together and raises cosines), so
every candidate (the identity map as a baseline, each adversarial epoch, each Procrustes
iteration) is logged with dictionary-free diagnostics beside the criterion:

* ``orthogonality_error`` ‖WᵀW − I‖_F / √d (a Procrustes map has ~0; MUSE's adversarial
  map is kept near-orthogonal by ``map_beta``);
* ``distinct_targets``: share of distinct targets among the criterion's translations
  (hubness: a collapsed map sends many words to the same few targets);
* ``mutual_agreement``: share of the S2T translations that are also T2S translations
  (mutual nearest neighbours; high for aligned spaces, low by chance);
* the nearest-neighbour mean cosine MUSE logs too, and the sizes of the induced dictionaries;
* for adversarial epochs, the discriminator's loss and accuracy (MUSE ``eval_dis``).

A candidate is *suspect* when a diagnostic crosses its threshold (parameters
``max_orthogonality_error``, ``min_distinct_targets``, ``min_agreement_ratio``). With
``selection: guarded`` (our default) the criterion picks among unsuspected candidates, and
among all of them only when every candidate is suspect, then the result's ``status`` is
``suspect`` with a warning; ``selection: muse`` is MUSE's plain argmax. Either way the log
says which candidate was kept and why.

Defaults are MUSE's (``UNSUPERVISED_DEFAULTS`` / ``SUPERVISED_DEFAULTS``); a config scales
them down (epochs, epoch size, discriminator width). Runs are deterministic for a seed on
the CPU: the discriminator's initialisation and dropout draw from torch's generator seeded
inside a forked RNG state (the caller's state is left alone), and the word samples from a
dedicated ``torch.Generator``.
"""
from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from xlt.atomic import atomic_path, atomic_write_json
from xlt.provenance import input_hashes
from xlt.vectors.embeddings import Embeddings, normalize_embeddings, read_vec, write_vec
from xlt.vectors.retrieval import DEFAULT_BLOCK_BYTES, block_rows, csls_topk, nn_topk, unit_rows

log = logging.getLogger("xlt.vectors")

PathLikeStr = str | PathLike[str]

#: MUSE ``unsupervised.py`` defaults, plus our selection guards and options (last block).
UNSUPERVISED_DEFAULTS: dict[str, Any] = {
    # data
    "max_vocab": 200_000,
    "lowercase": True,               # MUSE lowercases the training vocabulary
    "normalize_embeddings": "",
    # mapping
    "map_id_init": True,
    "map_beta": 0.001,
    # discriminator
    "dis_layers": 2,
    "dis_hid_dim": 2048,
    "dis_dropout": 0.0,
    "dis_input_dropout": 0.1,
    "dis_steps": 5,
    "dis_lambda": 1.0,
    "dis_most_frequent": 75_000,     # clipped to each vocabulary's size (MUSE asserts: issue #166)
    "dis_smooth": 0.1,
    "dis_clip_weights": 0.0,
    # adversarial training
    "adversarial": True,
    "n_epochs": 5,
    "epoch_size": 1_000_000,
    "batch_size": 32,
    "map_lr": 0.1,                   # MUSE "sgd,lr=0.1"
    "dis_lr": 0.1,
    "lr_decay": 0.98,
    "min_lr": 1e-6,
    "lr_shrink": 0.5,
    # refinement (dictionary induction)
    "n_refinement": 5,
    "dico_train": "identical_char",  # supervised mode's seed dictionary
    "dico_method": "csls_knn_10",
    "dico_build": "S2T",
    "dico_threshold": 0.0,
    "dico_max_rank": 15_000,
    "dico_min_size": 0,
    "dico_max_size": 0,
    # model selection (MUSE dist_mean_cosine: csls_knn_10, S2T, max rank and size 10000)
    "criterion_method": "csls_knn_10",
    "criterion_max_rank": 10_000,
    "criterion_max_size": 10_000,
    # ours: selection guards, optional evaluation dictionary (logged, never used to select)
    "selection": "guarded",
    "max_orthogonality_error": 0.05,
    "min_distinct_targets": 0.5,
    "min_agreement_ratio": 1.0,
    "dico_eval": None,
    "block_bytes": DEFAULT_BLOCK_BYTES,
}
#: MUSE ``supervised.py`` defaults (identical-strings seed dictionary, as UniTrans runs it).
SUPERVISED_DEFAULTS: dict[str, Any] = {
    **UNSUPERVISED_DEFAULTS,
    "adversarial": False,
    "dico_build": "S2T&T2S",
    "dico_max_rank": 10_000,
}
MODES = ("supervised", "unsupervised")


def resolve_params(mode: str, params: Mapping[str, Any] | None) -> dict[str, Any]:
    """The defaults of ``mode`` overridden by ``params``; unknown keys are an error (typos)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    defaults = SUPERVISED_DEFAULTS if mode == "supervised" else UNSUPERVISED_DEFAULTS
    params = dict(params or {})
    unknown = sorted(set(params) - set(defaults))
    if unknown:
        raise ValueError(f"unknown mapping parameter(s) {unknown} (known: {sorted(defaults)})")
    merged = {**defaults, **params}
    if merged["dico_build"] not in ("S2T", "T2S", "S2T|T2S", "S2T&T2S"):
        raise ValueError(f"dico_build must be S2T, T2S, S2T|T2S or S2T&T2S, got {merged['dico_build']!r}")
    if merged["selection"] not in ("guarded", "muse"):
        raise ValueError(f"selection must be guarded or muse, got {merged['selection']!r}")
    for key in ("dico_method", "criterion_method"):
        _parse_method(merged[key])
    return merged


def _parse_method(method: str) -> int:
    """Neighbourhood size of a retrieval method: 0 for ``nn``, k for ``csls_knn_<k>``."""
    if method == "nn":
        return 0
    if method.startswith("csls_knn_") and method[len("csls_knn_"):].isdigit():
        return int(method[len("csls_knn_"):])
    raise ValueError(f"unknown retrieval method {method!r} (nn or csls_knn_<k>)")


# --------------------------------------------------------------------------- dictionaries

def identical_char_dictionary(src_words: list[str], tgt_words: list[str]) -> torch.Tensor:
    """MUSE ``identical_char``: pairs (i, j) of words spelled identically, by source rank.

    Raises ValueError when there is none (MUSE: "No identical character strings were found").
    """
    tgt_index: dict[str, int] = {}
    for j, word in enumerate(tgt_words):
        tgt_index.setdefault(word, j)
    pairs = [(i, tgt_index[word]) for i, word in enumerate(src_words) if word in tgt_index]
    if not pairs:
        raise ValueError("no identical character strings in the two vocabularies: give a seed dictionary")
    return torch.tensor(pairs, dtype=torch.long)


def procrustes(src: torch.Tensor, tgt: torch.Tensor, dico: torch.Tensor) -> torch.Tensor:
    """The orthogonal ``W`` minimising ‖src[d0] Wᵀ − tgt[d1]‖ (SVD of ``Bᵀ A``), as MUSE.

    Computed in float64 (a d×d problem: precision is free) and returned in ``src``'s dtype.
    """
    a = src[dico[:, 0]].double()
    b = tgt[dico[:, 1]].double()
    u, _, vt = torch.linalg.svd(b.t() @ a)
    return (u @ vt).to(src.dtype)


def induce_candidates(
    queries: torch.Tensor,
    keys: torch.Tensor,
    method: str,
    *,
    r_queries: torch.Tensor | None = None,
    r_keys: torch.Tensor | None = None,
    max_rank: int = 0,
    max_size: int = 0,
    min_size: int = 0,
    threshold: float = 0.0,
    block: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """MUSE ``get_candidates``: (pairs ``(query, key)``, their scores), most confident first.

    Each of the first ``max_rank`` queries (all when 0) is paired with its best key by
    ``method``; pairs are ordered by the margin between the best and second-best key
    (stable sort, so equal margins keep query order), pairs with a word ranked past
    ``max_rank`` are dropped (MUSE's ``<=``), then ``max_size``, ``min_size`` and the margin
    ``threshold`` apply as in MUSE. CSLS methods need ``r_queries`` (for at least the first
    ``max_rank`` queries) and ``r_keys``.
    """
    n = queries.shape[0] if max_rank <= 0 else min(max_rank, queries.shape[0])
    scores, best = best_two(queries[:n], keys, method, r_queries=None if r_queries is None else r_queries[:n],
                            r_keys=r_keys, block=block)
    return filter_candidates(scores, best, max_rank=max_rank, max_size=max_size, min_size=min_size,
                             threshold=threshold)


def best_two(
    queries: torch.Tensor,
    keys: torch.Tensor,
    method: str,
    *,
    r_queries: torch.Tensor | None = None,
    r_keys: torch.Tensor | None = None,
    block: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(scores, key indices) of the two best keys of every query by ``method`` (the retrieval
    half of :func:`induce_candidates`; rows are independent, so blocks of queries can be
    computed apart and concatenated)."""
    if _parse_method(method) == 0:
        return nn_topk(queries, keys, 2, block)
    if r_queries is None or r_keys is None:
        raise ValueError(f"{method} needs the CSLS neighbourhood means")
    return csls_topk(queries, keys, 2, r_queries, r_keys, block)


def filter_candidates(
    scores: torch.Tensor,
    best: torch.Tensor,
    *,
    max_rank: int = 0,
    max_size: int = 0,
    min_size: int = 0,
    threshold: float = 0.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The selection half of :func:`induce_candidates`, on the two best keys of queries
    ``0..n-1`` (``n`` = the rows of ``scores``)."""
    n = scores.shape[0]
    pairs = torch.stack([torch.arange(n, device=best.device), best[:, 0]], dim=1)
    margin = scores[:, 0] - scores[:, 1]
    order = torch.sort(margin, descending=True, stable=True).indices
    pairs, scores, margin = pairs[order], scores[order, 0], margin[order]
    if max_rank > 0:
        keep = pairs.max(dim=1).values <= max_rank
        pairs, scores, margin = pairs[keep], scores[keep], margin[keep]
    if max_size > 0:
        pairs, scores, margin = pairs[:max_size], scores[:max_size], margin[:max_size]
    if threshold > 0:
        margin = margin.clone()
        if min_size > 0:
            margin[:min_size] = math.inf
        keep = margin > threshold
        pairs, scores = pairs[keep], scores[keep]
    return pairs, scores


def _pair_codes(pairs: torch.Tensor, n_keys: int) -> torch.Tensor:
    return pairs[:, 0] * n_keys + pairs[:, 1]


def combine_dictionaries(s2t: torch.Tensor | None, t2s: torch.Tensor | None, build: str, n_tgt: int) -> torch.Tensor:
    """MUSE ``build_dictionary``'s combination of (source, target) pair lists by ``build``.

    The union and intersection are sorted by (source, target) so the result is deterministic
    (MUSE goes through a Python set). An empty intersection gives an empty tensor (MUSE
    returns None and then fails in Procrustes); callers treat it as a failed candidate.
    """
    if build == "S2T":
        assert s2t is not None
        return s2t
    if build == "T2S":
        assert t2s is not None
        return t2s
    assert s2t is not None and t2s is not None
    a, b = _pair_codes(s2t, n_tgt), _pair_codes(t2s, n_tgt)
    codes = torch.unique(torch.cat([a, b])) if build == "S2T|T2S" else torch.unique(a[torch.isin(a, b)])
    return torch.stack([codes // n_tgt, codes % n_tgt], dim=1)


# --------------------------------------------------------------------------- the problem

class _Spaces:
    """Source and target vectors of one run, with the CSLS neighbourhoods of the last ``W``.

    Dictionary induction and the selection criterion after a Procrustes step see the same
    ``W``; caching, per ``W``, the neighbourhood means (two V×V passes, whose top-k also
    give the nearest-neighbour candidates) and the best two keys of each query (shared by
    the criterion and the next dictionary) does in three V×V-equivalent passes what MUSE
    does in eight or more.
    """

    def __init__(self, src: torch.Tensor, tgt: torch.Tensor, block_bytes: int) -> None:
        self.src = src
        self.tgt = tgt
        self.tgt_unit = unit_rows(tgt)
        self.block = block_rows(max(src.shape[0], tgt.shape[0]), src.element_size(), block_bytes)
        self._w: torch.Tensor | None = None
        self._mapped: torch.Tensor | None = None
        self._neighbourhoods: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}
        # (method, direction) -> two best keys of the first rows of the queries, for self._w
        self._best: dict[tuple[str, str], tuple[torch.Tensor, torch.Tensor]] = {}

    def _at(self, w: torch.Tensor) -> torch.Tensor:
        """The mapped unit sources for ``w``; a new ``w`` empties the caches."""
        if self._w is None or not torch.equal(self._w, w):
            self._w, self._mapped = w.clone(), self.mapped_unit(w)
            self._neighbourhoods.clear()
            self._best.clear()
        assert self._mapped is not None
        return self._mapped

    def mapped_unit(self, w: torch.Tensor) -> torch.Tensor:
        return unit_rows(self.src @ w.t())

    def neighbourhoods(self, w: torch.Tensor, knn: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(mapped unit sources, r_src, r_tgt) for ``W = w`` and ``knn`` neighbours.

        The two passes also give every word's nearest neighbours, best first: their first
        two are the "nn" candidates of both directions, kept so that no later pass redoes them.
        """
        mapped = self._at(w)
        if knn not in self._neighbourhoods:
            s2t_scores, s2t_idx = nn_topk(mapped, self.tgt_unit, min(knn, self.tgt.shape[0]), self.block)
            t2s_scores, t2s_idx = nn_topk(self.tgt_unit, mapped, min(knn, self.src.shape[0]), self.block)
            self._neighbourhoods[knn] = (s2t_scores.mean(dim=1), t2s_scores.mean(dim=1))
            if knn >= 2:
                self._best.setdefault(("nn", "S2T"), (s2t_scores[:, :2].contiguous(), s2t_idx[:, :2].contiguous()))
                self._best.setdefault(("nn", "T2S"), (t2s_scores[:, :2].contiguous(), t2s_idx[:, :2].contiguous()))
        return (mapped, *self._neighbourhoods[knn])

    def _best_two(self, w: torch.Tensor, method: str, direction: str, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Two best keys of the first ``n`` queries in ``direction``, computed once per ``W``:
        the criterion and the next dictionary ask for the same rows (a longer request only
        computes the rows it adds)."""
        knn = _parse_method(method)
        mapped, r_src, r_tgt = self.neighbourhoods(w, knn) if knn else (self._at(w), None, None)
        queries, keys, r_q, r_k = ((mapped, self.tgt_unit, r_src, r_tgt) if direction == "S2T"
                                   else (self.tgt_unit, mapped, r_tgt, r_src))
        n = min(n, queries.shape[0]) if n > 0 else queries.shape[0]
        have = self._best.get((method, direction))
        done = 0 if have is None else have[0].shape[0]
        if done < n:
            more = best_two(queries[done:n], keys, method, r_queries=None if r_q is None else r_q[done:n],
                            r_keys=r_k, block=self.block)
            have = more if have is None else (torch.cat([have[0], more[0]]), torch.cat([have[1], more[1]]))
            self._best[(method, direction)] = have
        assert have is not None
        return have[0][:n], have[1][:n]

    def candidates(self, w: torch.Tensor, method: str, direction: str, **limits: Any) -> tuple[torch.Tensor, torch.Tensor]:
        """Induced (source, target) pairs and scores in ``direction`` S2T or T2S."""
        scores, best = self._best_two(w, method, direction, limits.get("max_rank", 0))
        pairs, scores = filter_candidates(scores, best, **limits)
        return (pairs if direction == "S2T" else pairs.flip(1)), scores

    def build_dictionary(self, w: torch.Tensor, params: Mapping[str, Any]) -> tuple[torch.Tensor, dict[str, int]]:
        """MUSE ``build_dictionary`` on the current map: the refinement's training pairs."""
        limits = {"max_rank": params["dico_max_rank"], "max_size": params["dico_max_size"],
                  "min_size": params["dico_min_size"], "threshold": params["dico_threshold"]}
        build = params["dico_build"]
        s2t = self.candidates(w, params["dico_method"], "S2T", **limits)[0] if "S2T" in build else None
        t2s = self.candidates(w, params["dico_method"], "T2S", **limits)[0] if "T2S" in build else None
        dico = combine_dictionaries(s2t, t2s, build, self.tgt.shape[0])
        sizes = {"pairs": int(dico.shape[0])}
        if s2t is not None:
            sizes["s2t"] = int(s2t.shape[0])
        if t2s is not None:
            sizes["t2s"] = int(t2s.shape[0])
        return dico, sizes

    def assess(self, w: torch.Tensor, params: Mapping[str, Any]) -> dict[str, Any]:
        """MUSE's criterion for ``W = w`` and the dictionary-free diagnostics (module doc)."""
        limits = {"max_rank": params["criterion_max_rank"], "max_size": params["criterion_max_size"]}
        method = params["criterion_method"]
        s2t, _ = self.candidates(w, method, "S2T", **limits)
        t2s, _ = self.candidates(w, method, "T2S", **limits)
        s2t_nn, _ = self.candidates(w, "nn", "S2T", **limits)
        mapped = self._at(w)

        def mean_cosine(pairs: torch.Tensor) -> float:
            if pairs.shape[0] == 0:
                return -1e9  # MUSE's value for an empty dictionary
            return float((mapped[pairs[:, 0]] * self.tgt_unit[pairs[:, 1]]).sum(1).mean())

        n_tgt = self.tgt.shape[0]
        mutual = int(torch.isin(_pair_codes(s2t, n_tgt), _pair_codes(t2s, n_tgt)).sum())
        eye = torch.eye(w.shape[0], dtype=torch.float64, device=w.device)
        w64 = w.double()
        return {
            "criterion": mean_cosine(s2t),
            "mean_cosine_nn": mean_cosine(s2t_nn),
            "s2t_pairs": int(s2t.shape[0]),
            "t2s_pairs": int(t2s.shape[0]),
            "mutual_pairs": mutual,
            "mutual_agreement": mutual / max(1, int(s2t.shape[0])),
            "distinct_targets": int(torch.unique(s2t[:, 1]).numel()) / max(1, int(s2t.shape[0])),
            "orthogonality_error": float(torch.linalg.norm(w64.t() @ w64 - eye) / math.sqrt(w.shape[0])),
        }


def _suspicions(assessment: Mapping[str, Any], baseline: Mapping[str, Any] | None,
                params: Mapping[str, Any]) -> list[str]:
    """Why a candidate looks like a failed map (empty when it does not)."""
    reasons = []
    if assessment["orthogonality_error"] > params["max_orthogonality_error"]:
        reasons.append(f"orthogonality error {assessment['orthogonality_error']:.3g} > "
                       f"{params['max_orthogonality_error']}")
    if assessment["distinct_targets"] < params["min_distinct_targets"]:
        reasons.append(f"only {assessment['distinct_targets']:.2f} of the translations are distinct "
                       f"(< {params['min_distinct_targets']}: hub collapse)")
    # The identity map between independently trained spaces is a chance-level reference: a
    # map whose translations agree no more often in both directions has learned nothing.
    if baseline is not None:
        floor = params["min_agreement_ratio"] * baseline["mutual_agreement"]
        if assessment["mutual_agreement"] <= floor:
            reasons.append(f"mutual agreement {assessment['mutual_agreement']:.3f} <= "
                           f"{params['min_agreement_ratio']} x the identity map's "
                           f"{baseline['mutual_agreement']:.3f}")
    return reasons


# --------------------------------------------------------------------------- adversarial

def build_discriminator(dim: int, params: Mapping[str, Any]) -> nn.Sequential:
    """MUSE's discriminator: input dropout, ``dis_layers`` LeakyReLU(0.2) layers, sigmoid."""
    layers: list[nn.Module] = [nn.Dropout(params["dis_input_dropout"])]
    for i in range(params["dis_layers"] + 1):
        width_in = dim if i == 0 else params["dis_hid_dim"]
        width_out = 1 if i == params["dis_layers"] else params["dis_hid_dim"]
        layers.append(nn.Linear(width_in, width_out))
        if i < params["dis_layers"]:
            layers.append(nn.LeakyReLU(0.2))
            layers.append(nn.Dropout(params["dis_dropout"]))
    layers.append(nn.Sigmoid())
    return nn.Sequential(*layers)


def orthogonalize(w: torch.Tensor, beta: float) -> None:
    """MUSE's update towards the orthogonal manifold, in place: W ← (1+β)W − β W WᵀW."""
    if beta > 0:
        w.copy_((1 + beta) * w - beta * w @ (w.t() @ w))


class _Adversary:
    """MUSE's adversarial game: ``dis_steps`` discriminator steps, then one mapping step."""

    def __init__(self, spaces: _Spaces, params: Mapping[str, Any], generator: torch.Generator) -> None:
        self.spaces = spaces
        self.params = params
        self.generator = generator
        dim = spaces.src.shape[1]
        device = spaces.src.device
        self.mapping = nn.Linear(dim, dim, bias=False).to(device)
        if params["map_id_init"]:
            with torch.no_grad():
                self.mapping.weight.copy_(torch.eye(dim, device=device))
        self.discriminator = build_discriminator(dim, params).to(device)
        self.map_optimizer = torch.optim.SGD(self.mapping.parameters(), lr=params["map_lr"])
        self.dis_optimizer = torch.optim.SGD(self.discriminator.parameters(), lr=params["dis_lr"])
        # MUSE asserts dis_most_frequent <= both vocabulary sizes (issue #166); clip instead.
        most = params["dis_most_frequent"]
        self.src_pool = spaces.src.shape[0] if most <= 0 else min(most, spaces.src.shape[0])
        self.tgt_pool = spaces.tgt.shape[0] if most <= 0 else min(most, spaces.tgt.shape[0])
        bs = params["batch_size"]
        self.labels = torch.full((2 * bs,), params["dis_smooth"], device=device)
        self.labels[:bs] = 1 - params["dis_smooth"]

    def _batch(self, grad: bool) -> torch.Tensor:
        bs = self.params["batch_size"]
        src_ids = torch.randint(self.src_pool, (bs,), generator=self.generator).to(self.spaces.src.device)
        tgt_ids = torch.randint(self.tgt_pool, (bs,), generator=self.generator).to(self.spaces.src.device)
        with torch.set_grad_enabled(grad):
            mapped = self.mapping(self.spaces.src[src_ids])
        return torch.cat([mapped, self.spaces.tgt[tgt_ids]], 0)

    def dis_step(self) -> float:
        self.discriminator.train()
        x = self._batch(grad=False)
        loss = F.binary_cross_entropy(self.discriminator(x).view(-1), self.labels)
        if not torch.isfinite(loss):
            raise FloatingPointError("NaN in the discriminator loss")
        self.dis_optimizer.zero_grad()
        loss.backward()
        self.dis_optimizer.step()
        if self.params["dis_clip_weights"] > 0:
            clip = self.params["dis_clip_weights"]
            with torch.no_grad():
                for parameter in self.discriminator.parameters():
                    parameter.clamp_(-clip, clip)
        return float(loss.detach())

    def map_step(self) -> None:
        self.discriminator.eval()
        x = self._batch(grad=True)
        loss = self.params["dis_lambda"] * F.binary_cross_entropy(self.discriminator(x).view(-1), 1 - self.labels)
        if not torch.isfinite(loss):
            raise FloatingPointError("NaN in the mapping loss")
        self.map_optimizer.zero_grad()
        loss.backward()
        self.map_optimizer.step()
        with torch.no_grad():
            orthogonalize(self.mapping.weight, self.params["map_beta"])

    @torch.no_grad()
    def eval_dis(self) -> dict[str, float]:
        """MUSE ``eval_dis``: mean predictions and accuracy of the discriminator on both vocabularies."""
        self.discriminator.eval()
        block = 4096
        src_preds = torch.cat([self.discriminator(self.mapping(self.spaces.src[i:i + block])).view(-1)
                               for i in range(0, self.spaces.src.shape[0], block)])
        tgt_preds = torch.cat([self.discriminator(self.spaces.tgt[i:i + block]).view(-1)
                               for i in range(0, self.spaces.tgt.shape[0], block)])
        n_src, n_tgt = src_preds.numel(), tgt_preds.numel()
        src_acc = float((src_preds >= 0.5).float().mean())
        tgt_acc = float((tgt_preds < 0.5).float().mean())
        return {"dis_src_pred": float(src_preds.mean()), "dis_tgt_pred": float(tgt_preds.mean()),
                "dis_accu": (src_acc * n_src + tgt_acc * n_tgt) / (n_src + n_tgt)}

    @property
    def lr(self) -> float:
        return float(self.map_optimizer.param_groups[0]["lr"])

    @lr.setter
    def lr(self, value: float) -> None:
        self.map_optimizer.param_groups[0]["lr"] = value


# --------------------------------------------------------------------------- the run

@dataclass
class MappingResult:
    """A learned map with the record of how it was chosen."""

    w: torch.Tensor                      # (dim, dim): mapped source = source @ w.T
    kept: int                            # index into candidates
    reason: str
    status: str                          # "ok" or "suspect" (every candidate was flagged)
    candidates: list[dict[str, Any]]
    baseline: dict[str, Any]             # the identity map, assessed like a candidate
    params: dict[str, Any]
    mode: str
    seed: int
    warnings: list[str] = field(default_factory=list)
    src_mean: torch.Tensor | None = None
    tgt_mean: torch.Tensor | None = None
    seconds: float = 0.0

    def log(self) -> dict[str, Any]:
        """The JSON-serialisable record (everything but the tensors)."""
        return {"mode": self.mode, "seed": self.seed, "params": self.params, "kept": self.kept,
                "kept_candidate": self.candidates[self.kept], "reason": self.reason,
                "status": self.status, "warnings": self.warnings, "baseline_identity": self.baseline,
                "candidates": self.candidates, "seconds": round(self.seconds, 3)}


class _Run:
    """Bookkeeping of one mapping run: candidates, their weights, and selection."""

    def __init__(self, spaces: _Spaces, params: dict[str, Any], evaluator: Any) -> None:
        self.spaces = spaces
        self.params = params
        self.evaluator = evaluator
        self.candidates: list[dict[str, Any]] = []
        self.weights: list[torch.Tensor] = []
        self.notes: list[str] = []
        dim = spaces.src.shape[1]
        eye = torch.eye(dim, dtype=spaces.src.dtype, device=spaces.src.device)
        self.baseline = self._assess(eye)
        self.baseline["stage"] = "identity"

    def _assess(self, w: torch.Tensor) -> dict[str, Any]:
        record = self.spaces.assess(w, self.params)
        if self.evaluator is not None:
            record["eval"] = self.evaluator(self.spaces, w)
        return record

    def add(self, w: torch.Tensor, stage: str, step: int, **extra: Any) -> dict[str, Any]:
        record = {"id": len(self.candidates), "stage": stage, "step": step, **self._assess(w), **extra}
        record["suspect"] = _suspicions(record, self.baseline, self.params)
        self.candidates.append(record)
        self.weights.append(w.detach().clone())
        log.info("candidate %d (%s %d): criterion %.5f, mutual %.3f, orth %.2g%s", record["id"], stage, step,
                 record["criterion"], record["mutual_agreement"], record["orthogonality_error"],
                 f", suspect: {'; '.join(record['suspect'])}" if record["suspect"] else "")
        return record

    def select(self, ids: list[int]) -> tuple[int, str, str]:
        """(kept id, why, status) among candidates ``ids`` by the selection rule."""
        def best(pool: list[int]) -> int:  # first of the maxima, as MUSE's strict ">"
            return max(pool, key=lambda i: (self.candidates[i]["criterion"], -i))

        crit = self.params["criterion_method"]
        what = f"mean cosine of {crit} S2T translations of the {self.params['criterion_max_rank']} most frequent words"
        if self.params["selection"] == "muse":
            kept = best(ids)
            status = "suspect" if self.candidates[kept]["suspect"] else "ok"
            return kept, f"highest {what} ({self.candidates[kept]['criterion']:.5f}) among {len(ids)} candidates " \
                         f"(selection: muse, flags ignored)", status
        clean = [i for i in ids if not self.candidates[i]["suspect"]]
        if clean:
            kept = best(clean)
            skipped = [i for i in ids if self.candidates[i]["suspect"] and
                       self.candidates[i]["criterion"] > self.candidates[kept]["criterion"]]
            note = f"; skipped suspect candidates with a higher criterion: {skipped}" if skipped else ""
            return kept, f"highest {what} ({self.candidates[kept]['criterion']:.5f}) among the " \
                         f"{len(clean)} unsuspected of {len(ids)} candidates{note}", "ok"
        kept = best(ids)
        return kept, f"every one of {len(ids)} candidates is suspect; kept the highest {what} " \
                     f"({self.candidates[kept]['criterion']:.5f}) anyway", "suspect"


def _adversarial_training(run: _Run, params: dict[str, Any], generator: torch.Generator) -> list[int]:
    """MUSE's adversarial loop; each epoch is a candidate. Returns the candidates' ids."""
    adversary = _Adversary(run.spaces, params, generator)
    best_criterion = -1e12
    decrease_lr = False
    ids = []
    for epoch in range(params["n_epochs"]):
        tic = time.perf_counter()
        losses = []
        for _ in range(0, params["epoch_size"], params["batch_size"]):
            for _ in range(params["dis_steps"]):
                losses.append(adversary.dis_step())
            adversary.map_step()
        seconds = time.perf_counter() - tic
        record = run.add(adversary.mapping.weight.detach(), "adversarial", epoch,
                         dis_loss=float(np.mean(losses)) if losses else None, map_lr=adversary.lr,
                         seconds=round(seconds, 3), **adversary.eval_dis())
        ids.append(record["id"])
        # MUSE Trainer.save_best then update_lr: decay every epoch; shrink when the criterion
        # falls below the best, from the second such fall on.
        criterion = record["criterion"]
        best_criterion = max(best_criterion, criterion)
        adversary.lr = max(params["min_lr"], adversary.lr * params["lr_decay"])
        if params["lr_shrink"] < 1 and criterion >= -1e7 and criterion < best_criterion:
            if decrease_lr:
                adversary.lr = adversary.lr * params["lr_shrink"]
            decrease_lr = True
        if adversary.lr < params["min_lr"]:
            break
    return ids


def _refine(run: _Run, params: dict[str, Any], w: torch.Tensor, first_dico: torch.Tensor | None) -> list[int]:
    """Procrustes iterations: with ``first_dico`` (supervised) iteration 0 uses it, as
    MUSE ``supervised.py`` (n_refinement + 1 candidates); otherwise n_refinement candidates."""
    ids = []
    steps = params["n_refinement"] + (1 if first_dico is not None else 0)
    for step in range(steps):
        if step == 0 and first_dico is not None:
            dico, sizes = first_dico, {"pairs": int(first_dico.shape[0]), "seed": params["dico_train"]}
        else:
            dico, sizes = run.spaces.build_dictionary(w, params)
        if dico.shape[0] == 0:
            run.notes.append(f"refinement step {step}: empty induced dictionary ({sizes}); refinement stopped")
            log.warning("mapping: %s", run.notes[-1])
            break
        w = procrustes(run.spaces.src, run.spaces.tgt, dico)
        ids.append(run.add(w, "procrustes", step, dictionary=sizes)["id"])
    return ids


def align(
    src: Embeddings,
    tgt: Embeddings,
    params: Mapping[str, Any] | None = None,
    seed: int = 0,
    mode: str = "unsupervised",
    device: str | torch.device | None = None,
    seed_dictionary: torch.Tensor | None = None,
) -> MappingResult:
    """Learn ``W`` mapping ``src`` onto ``tgt`` (in memory; :func:`map_vectors` does the files).

    ``src``/``tgt`` are the training vocabularies (already cut to ``max_vocab`` and lowercased
    as the caller wants). ``seed_dictionary`` (pairs of row indices) replaces the
    identical-strings dictionary of supervised mode. For the other direction, swap the inputs.
    """
    params = resolve_params(mode, params)
    if src.dim != tgt.dim:
        raise ValueError(f"source vectors have dimension {src.dim}, target vectors {tgt.dim}")
    if min(len(src), len(tgt)) < 2:
        raise ValueError("each vocabulary needs at least two words")
    device = torch.device(device or "cpu")
    start = time.perf_counter()
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(seed)
        generator = torch.Generator().manual_seed(seed)
        src_t, src_mean = normalize_embeddings(torch.from_numpy(src.vectors).to(device), params["normalize_embeddings"])
        tgt_t, tgt_mean = normalize_embeddings(torch.from_numpy(tgt.vectors).to(device), params["normalize_embeddings"])
        spaces = _Spaces(src_t, tgt_t, params["block_bytes"])
        evaluator = _eval_dictionary_hook(params["dico_eval"], src, tgt)
        run = _Run(spaces, params, evaluator)
        if mode == "unsupervised":
            stage_ids = _adversarial_training(run, params, generator) if params["adversarial"] else []
            if stage_ids:
                start_id, _, _ = run.select(stage_ids)
                w0 = run.weights[start_id]
            else:
                w0 = torch.eye(src.dim, dtype=src_t.dtype, device=device)
            _refine(run, params, w0, None)
        else:
            if seed_dictionary is None:
                if params["dico_train"] != "identical_char":
                    raise ValueError("supervised mode: dico_train must be identical_char, or pass seed_dictionary")
                seed_dictionary = identical_char_dictionary(src.words, tgt.words)
            _refine(run, params, torch.eye(src.dim, dtype=src_t.dtype, device=device), seed_dictionary.to(device))
    if not run.candidates:
        raise ValueError("no candidate map was produced (n_epochs and n_refinement are 0?)")
    kept, reason, status = run.select(list(range(len(run.candidates))))
    warnings = list(run.notes)
    if status != "ok":
        warnings.append(f"the kept map (candidate {kept}) looks failed: {'; '.join(run.candidates[kept]['suspect'])}")
        log.warning("mapping: %s", warnings[-1])
    return MappingResult(w=run.weights[kept].cpu(), kept=kept, reason=reason, status=status,
                         candidates=run.candidates, baseline=run.baseline, params=params, mode=mode,
                         seed=seed, warnings=warnings, src_mean=src_mean, tgt_mean=tgt_mean,
                         seconds=time.perf_counter() - start)


def _eval_dictionary_hook(path: Any, src: Embeddings, tgt: Embeddings) -> Any:
    """A callable scoring P@k on ``path`` for a candidate (logged only), or None."""
    if not path:
        return None
    from xlt.vectors.evaluate import lookup_pairs, precision_at_k, read_dictionary

    dico, coverage = lookup_pairs(read_dictionary(path), src.index, tgt.index)

    def evaluate(spaces: _Spaces, w: torch.Tensor) -> dict[str, Any]:
        scores = precision_at_k(spaces.mapped_unit(w), spaces.tgt_unit, dico.to(w.device), block=spaces.block)
        return {**scores, "coverage": coverage}

    return evaluate


# --------------------------------------------------------------------------- files

def _output_paths(out: PathLikeStr | Mapping[str, PathLikeStr]) -> dict[str, Path]:
    if isinstance(out, Mapping):
        missing = {"vectors", "matrix", "log"} - set(out)
        if missing:
            raise ValueError(f"output paths missing: {sorted(missing)}")
        return {key: Path(value) for key, value in out.items()}
    directory = Path(out)
    return {"vectors": directory / "vectors.vec", "matrix": directory / "mapping.safetensors",
            "log": directory / "log.json", "target_vectors": directory / "target.vec"}


def map_vectors(
    src_vec: PathLikeStr,
    tgt_vec: PathLikeStr,
    out: PathLikeStr | Mapping[str, PathLikeStr],
    params: Mapping[str, Any] | None = None,
    seed: int = 0,
    mode: str = "unsupervised",
    device: str | torch.device | None = None,
) -> MappingResult:
    """Map ``src_vec`` onto ``tgt_vec`` and write the results (each file atomically).

    ``out`` is a directory (``vectors.vec``, ``mapping.safetensors``, ``log.json``) or a
    mapping with keys ``vectors``, ``matrix``, ``log`` (and ``target_vectors``). Written:

    * ``vectors``: the *whole* source file (original casing, every row) normalised as in
      training and mapped, as MUSE's export; target words are then looked up in ``tgt_vec``;
    * ``target_vectors``: only when ``normalize_embeddings`` is set (the target space is then
      the normalised target file, as MUSE exports it);
    * ``matrix``: safetensors with ``W`` (and the centring means when used);
    * ``log``: the JSON record of :meth:`MappingResult.log`, written last.
    """
    from safetensors.torch import save_file

    resolved = resolve_params(mode, params)
    paths = _output_paths(out)
    src = read_vec(src_vec, resolved["max_vocab"], lowercase=resolved["lowercase"])
    tgt = read_vec(tgt_vec, resolved["max_vocab"], dim=src.dim, lowercase=resolved["lowercase"])
    result = align(src, tgt, resolved, seed=seed, mode=mode, device=device)

    full = read_vec(src_vec)
    full_t, _ = normalize_embeddings(torch.from_numpy(full.vectors), resolved["normalize_embeddings"], result.src_mean)
    write_vec(paths["vectors"], Embeddings(full.words, (full_t @ result.w.t()).numpy()))
    if resolved["normalize_embeddings"] and "target_vectors" in paths:
        target = read_vec(tgt_vec)
        target_t, _ = normalize_embeddings(torch.from_numpy(target.vectors), resolved["normalize_embeddings"],
                                           result.tgt_mean)
        write_vec(paths["target_vectors"], Embeddings(target.words, target_t.numpy()))
    tensors = {"W": result.w.contiguous()}
    if result.src_mean is not None:
        tensors["src_mean"] = result.src_mean.contiguous()
    if result.tgt_mean is not None:
        tensors["tgt_mean"] = result.tgt_mean.contiguous()
    with atomic_path(paths["matrix"]) as tmp:
        save_file(tensors, str(tmp), metadata={"mode": mode, "seed": str(seed), "kept": str(result.kept),
                                               "params": json.dumps(resolved, sort_keys=True, default=str)})
    record = result.log()
    # The digests seen: the paper plan's vectors are vendor files with no published checksum.
    record["inputs"] = {"src": str(src_vec), "tgt": str(tgt_vec), "src_vocab": len(src), "tgt_vocab": len(tgt),
                        "dim": src.dim, "exported_rows": len(full), "sha256": input_hashes([src_vec, tgt_vec])}
    atomic_write_json(paths["log"], record)
    return result
