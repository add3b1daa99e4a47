"""Per-word features from subword pieces: the embedders of van der Heijden et al. (2019, §
"LASER-based contextualized embeddings"), each feeding the Transformer-CRF
(:mod:`xlt.models.transformer_crf`) one vector per word.

- :class:`BPEBagOfWords` ("BPE BOW"): the mean of a word's (frozen, pretrained) BPE embeddings;
- :class:`BPEGRU` ("BPE GRU"): a GRU over a word's BPE embeddings, max-pooled over time;
- :class:`PieceStateWords` (LASER-top, LASER-elmo, LSTM No Pretraining): per piece, the
  element-wise max of an encoder layer's forward and backward states, the layers mixed by
  :class:`xlt.models.layer_mix.ScalarMix` (one layer: ``γ · h``, LASER-top, Eq. 2; layers
  1..n: ``γ · Σ s_l h_l``, LASER-elmo, Eq. 3), then max-pooled over the word's pieces. The
  states come either precomputed from a frozen encoder (``states`` of the batch's feature
  rows: LASER never changes, so its states are computed once per job) or from a trainable
  encoder run on the batch (LSTM No Pretraining).

:func:`pool_pieces` is the one piece -> word pooling (max or mean over exactly the word's
pieces) all of them use.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from xlt.batching import PieceBatch
from xlt.models.layer_mix import ScalarMix


def pool_pieces(pieces: Tensor, owners: Tensor, n_words: int, mode: str = "max") -> Tensor:
    """``(B, T, D)`` word vectors from piece vectors ``(B, P, D)``: the max (or mean) over the
    pieces whose ``owners`` entry is that word; ``owners`` is -1 at padding. A word with no
    piece (padding) gets zeros."""
    batch, _, dim = pieces.shape
    valid = (owners >= 0).unsqueeze(-1)
    index = owners.clamp_min(0).unsqueeze(-1).expand(-1, -1, dim)
    if mode == "max":
        empty = torch.full((batch, n_words, dim), float("-inf"), dtype=pieces.dtype, device=pieces.device)
        out = empty.scatter_reduce(1, index, pieces.masked_fill(~valid, float("-inf")), "amax", include_self=True)
        return out.masked_fill(torch.isinf(out), 0.0)
    if mode == "mean":
        zeros = torch.zeros(batch, n_words, dim, dtype=pieces.dtype, device=pieces.device)
        sums = zeros.scatter_add(1, index, pieces.masked_fill(~valid, 0.0))
        counts = zeros[..., :1].scatter_add(1, index[..., :1], valid.to(pieces.dtype))
        return sums / counts.clamp_min(1.0)
    raise ValueError(f"pooling {mode!r}: max or mean")


class BPEBagOfWords(nn.Module):
    def __init__(self, embeddings: Tensor, padding_idx: int = 0) -> None:
        super().__init__()
        self.embed = nn.Embedding.from_pretrained(embeddings, freeze=True, padding_idx=padding_idx)
        self.output_dim = embeddings.shape[1]

    def forward(self, batch: PieceBatch) -> Tensor:
        return pool_pieces(self.embed(batch.pieces), batch.owners, batch.mask.shape[1], "mean")


class BPEGRU(nn.Module):
    def __init__(self, embeddings: Tensor, hidden: int, padding_idx: int = 0) -> None:
        super().__init__()
        self.embed = nn.Embedding.from_pretrained(embeddings, freeze=True, padding_idx=padding_idx)
        self.gru = nn.GRU(embeddings.shape[1], hidden, batch_first=True)
        self.output_dim = hidden

    def forward(self, batch: PieceBatch) -> Tensor:
        b, t, k = batch.word_pieces.shape
        flat = batch.word_pieces.reshape(b * t, k)
        lengths = (flat != self.embed.padding_idx).sum(dim=1)
        words = lengths > 0  # the padding words of the batch do not enter the GRU
        packed = pack_padded_sequence(self.embed(flat[words]), lengths[words].cpu(), batch_first=True,
                                      enforce_sorted=False)
        out, _ = self.gru(packed)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=k, padding_value=float("-inf"))
        vectors = out.new_zeros(b * t, out.shape[-1])
        vectors[words] = out.max(dim=1).values
        return vectors.reshape(b, t, -1)


def direction_max(states: Tensor) -> Tensor:
    """``(..., H)``: element-wise max of the forward and backward halves of ``(..., 2H)``."""
    forward, backward = states.chunk(2, dim=-1)
    return torch.maximum(forward, backward)


class PieceStateWords(nn.Module):
    """``n_layers`` per-piece layer states ``(B, P, n_layers, H)`` (already direction-maxed) ->
    one vector per word. With ``encoder`` (trainable; LSTM No Pretraining) the states are
    computed from the batch's piece ids; without, the batch's ``pieces`` are rows of
    ``states`` (a frozen encoder's precomputed states, set with :meth:`set_states`)."""

    def __init__(self, n_layers: int, dim: int, encoder: nn.Module | None = None) -> None:
        super().__init__()
        self.mix = ScalarMix(n_layers)
        self.encoder = encoder
        self.output_dim = dim
        self.register_buffer("states", torch.zeros(1, n_layers, dim), persistent=False)

    def set_states(self, states: Tensor) -> None:
        """The frozen encoder's rows (row 0: padding); not a parameter, never checkpointed."""
        self.states = states.to(self.states.device)

    def piece_states(self, batch: PieceBatch) -> Tensor:
        if self.encoder is None:
            return self.states[batch.pieces]
        layers = self.encoder.layer_states(batch.pieces, batch.piece_lengths)
        return torch.stack([direction_max(h) for h in layers], dim=2)

    def forward(self, batch: PieceBatch) -> Tensor:
        return pool_pieces(self.mix(self.piece_states(batch)), batch.owners, batch.mask.shape[1], "max")
