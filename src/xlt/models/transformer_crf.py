"""Transformer-CRF sequence tagger of van der Heijden et al. (2019), §"Task-specific models".

"A double layer Transformer with 2 attention-heads and 300 hidden dimensions for the query,
key and value matrices as well as the feed forward network (FFN), topped off by a CRF":

    word features -> dropout (embedder side) -> linear to d_model (only when the features have
    another width) + sinusoidal positions -> Transformer encoder layers (post-norm, as in
    Vaswani et al. 2017) -> linear -> CRF.

Inputs are per-word feature vectors, whatever produced them (MUSE vectors, BPE bag of words,
LASER states): the embedders are separate modules, so this one piece serves every column of
that paper. The paper's dropouts are "0.25 between the embedder and the sequence tagger and
0.15 within the sequence tagger". Padding never leaks into real positions: attention masks
padded keys, and the CRF reads a left-aligned mask.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from xlt.models.crf import CRF, TransitionConstraints, paths_to_lists


def sinusoidal_positions(length: int, dim: int, device: torch.device | None = None) -> Tensor:
    """``(length, dim)`` sine/cosine position encodings of Vaswani et al. (2017), §3.5."""
    position = torch.arange(length, dtype=torch.float32, device=device).unsqueeze(1)
    rate = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32, device=device) * (-math.log(10000.0) / dim))
    table = torch.zeros(length, dim, device=device)
    table[:, 0::2] = torch.sin(position * rate)
    table[:, 1::2] = torch.cos(position * rate[: dim // 2])
    return table


class TransformerCRF(nn.Module):
    def __init__(
        self,
        input_dim: int,
        n_tags: int,
        d_model: int = 300,
        heads: int = 2,
        layers: int = 2,
        ffn: int = 300,
        dropout: float = 0.15,
        input_dropout: float = 0.25,
        crf_constraints: TransitionConstraints | tuple | None = None,
    ) -> None:
        super().__init__()
        if d_model % heads:
            raise ValueError(f"d_model {d_model} is not divisible by {heads} heads")
        self.input_dropout = nn.Dropout(input_dropout)
        self.input_projection = nn.Linear(input_dim, d_model) if input_dim != d_model else nn.Identity()
        layer = nn.TransformerEncoderLayer(d_model, heads, dim_feedforward=ffn, dropout=dropout,
                                           activation="relu", batch_first=True)
        # No nested-tensor fast path: it changes numerics between train and eval and
        # between batch compositions; the tagger's sentences are short anyway.
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.dropout = nn.Dropout(dropout)
        self.projection = nn.Linear(d_model, n_tags)
        constraints = None if crf_constraints is None else TransitionConstraints(*crf_constraints)
        self.crf = CRF(n_tags, constraints)
        self.d_model = d_model

    def emissions(self, features: Tensor, mask: Tensor) -> Tensor:
        """Per-word tag scores ``(B, T, n_tags)`` of word features ``(B, T, input_dim)``."""
        x = self.input_projection(self.input_dropout(features))
        x = x + sinusoidal_positions(x.shape[1], self.d_model, x.device).to(x.dtype)
        states = self.encoder(x, src_key_padding_mask=~mask)
        return self.projection(self.dropout(states))

    def loss(self, features: Tensor, tag_ids: Tensor, mask: Tensor) -> Tensor:
        """Mean CRF negative log-likelihood per sentence."""
        return self.crf.neg_log_likelihood(self.emissions(features, mask), tag_ids, mask)

    def decode(self, features: Tensor, mask: Tensor) -> list[list[int]]:
        """Viterbi tag ids per sentence. Call under ``eval()`` and ``inference_mode``."""
        paths, _ = self.crf.decode(self.emissions(features, mask), mask)
        return paths_to_lists(paths, mask)
