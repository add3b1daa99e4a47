"""MLMA "init" (Bao et al. 2019, Table 1's "MLMA-Avl (init)"): the LM's embedding matrices
initialised from MUSE-aligned word vectors, one space for every language (the hub's own
vectors and every other language's vectors mapped onto them).

The paper gives no detail beyond "using MUSE to initialize the embedding matrices". Ours:

- an LM token (lowercased) takes the vector of the most frequent word of the file that
  lowercases to it (else of its digits-as-0 form: :func:`xlt.vectors.lookup.lookup_keys`); a token
  with no vector keeps its random initialisation;
- vectors narrower than the LM are zero-padded (300-d fastText into a 512-d LM: the paper
  plan); wider ones are projected onto the hub's top principal directions, one projection
  for all languages, so that what MUSE aligned stays aligned;
- one scale for every language (a per-language scale would undo part of the alignment),
  chosen so that the hub's initialised rows have the random rows' mean norm.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch

from xlt.lms.bilm import BiTransformerLM
from xlt.lms.vocab import SPECIALS, LMVocab
from xlt.vectors.embeddings import iter_vec
from xlt.vectors.lookup import lookup_keys

log = logging.getLogger(__name__)


def vectors_for_vocab(vocab: LMVocab, vectors_path: str | Path) -> tuple[list[int], np.ndarray]:
    """Ids of ``vocab`` that have a vector, and those vectors (rows in id order)."""
    wanted = {key for t in vocab.tokens[len(SPECIALS):] for key in lookup_keys(t)}
    found: dict[str, np.ndarray] = {}
    for _, word, vector in iter_vec(vectors_path):
        key = word.lower()
        if key in wanted and key not in found:  # the file is frequency-ranked: first = most frequent
            found[key] = vector
    ids, rows = [], []
    for i, token in enumerate(vocab.tokens):
        if i < len(SPECIALS):
            continue
        vector = next((found[key] for key in lookup_keys(token) if key in found), None)
        if vector is not None:
            ids.append(i)
            rows.append(vector)
    dim = next(iter(found.values())).shape[0] if found else 0
    return ids, np.stack(rows).astype(np.float32) if rows else np.zeros((0, dim), np.float32)


def _projection(hub_rows: np.ndarray, d_model: int) -> np.ndarray | None:
    """``(dim, d_model)`` onto the hub's top principal directions, or None (no projection)."""
    if hub_rows.shape[1] <= d_model:
        return None
    centred = hub_rows - hub_rows.mean(0, keepdims=True)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    projection = vt[:d_model].T
    # Fewer hub rows than d_model directions (a tiny vocabulary): the rest of the LM's
    # dimensions start at zero.
    return np.pad(projection, ((0, 0), (0, d_model - projection.shape[1])))


@torch.no_grad()
def initialise_from_vectors(model: BiTransformerLM, vocabs: Mapping[str, LMVocab],
                            vectors: Mapping[str, str | Path], hub: str) -> dict[str, dict]:
    """Overwrite the rows of ``model``'s embedding matrices that have a vector in
    ``vectors[lang]`` (all files in one space, ``hub``'s own among them); returns per
    language how many rows were set."""
    if hub not in vectors:
        raise ValueError(f"the hub language {hub!r} needs its vectors to fix the projection and scale")
    found = {lang: vectors_for_vocab(vocabs[lang], path) for lang, path in sorted(vectors.items())}
    d = model.d_model
    projection = _projection(found[hub][1], d)

    def fit(rows: np.ndarray) -> torch.Tensor:
        if projection is not None:
            return torch.from_numpy(rows @ projection)
        return torch.nn.functional.pad(torch.from_numpy(rows), (0, d - rows.shape[1]))

    hub_ids, hub_rows = found[hub]
    if not hub_ids:
        raise ValueError(f"no word of the {hub} LM vocabulary has a vector in {vectors[hub]}")
    random_norm = float(model.embeddings[hub].weight[len(SPECIALS):].norm(dim=1).mean())
    scale = random_norm / float(fit(hub_rows).norm(dim=1).mean())
    report = {}
    for lang, (ids, rows) in found.items():
        if ids:
            model.embeddings[lang].weight[torch.tensor(ids)] = fit(rows) * scale
        report[lang] = {"rows_initialised": len(ids), "vocabulary": len(vocabs[lang]),
                        "vectors": str(vectors[lang])}
        log.info("%s: %d of %d LM words initialised from %s", lang, len(ids), len(vocabs[lang]), vectors[lang])
    return {"languages": report, "scale": scale, "projected": projection is not None}
