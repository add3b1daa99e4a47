"""Recurrent pieces shared by the BiLSTM taggers, with Bari et al.'s (2020) tied directions.

Cross-Shared (Bari et al. 2020, §3.2) ties the forward and backward LSTM cells, for the
word-level and the character-level BiLSTM alike: one unidirectional LSTM runs over each
sequence and over its reversal.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence


def reverse_padded(x: Tensor, lengths: Tensor) -> Tensor:
    """Reverse each sequence of ``x`` (B, T, D) within its own length; padding stays put.

    Applying it twice gives ``x`` back, so the same call undoes it.
    """
    seq_len = x.shape[1]
    positions = torch.arange(seq_len, device=x.device).unsqueeze(0)  # (1, T)
    lengths = lengths.to(x.device).unsqueeze(1)
    index = torch.where(positions < lengths, lengths - 1 - positions, positions)
    return x.gather(1, index.unsqueeze(2).expand_as(x))


class SequenceEncoder(nn.Module):
    """Contextual word states [forward ; backward] over a padded batch.

    ``shared=False``: an ordinary bidirectional LSTM. ``shared=True``: Bari et al.'s
    Cross-Shared encoder, where both directions use the same weights; implemented as one
    unidirectional LSTM run on each sequence and on its reversal, whose outputs are
    re-reversed so that position t holds the state of word t in both halves.
    """

    def __init__(self, input_dim: int, hidden: int, shared: bool = False) -> None:
        super().__init__()
        self.shared = shared
        self.lstm = nn.LSTM(input_dim, hidden, batch_first=True, bidirectional=not shared)
        self.output_dim = 2 * hidden

    def _run(self, x: Tensor, lengths: Tensor) -> Tensor:
        packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        out, _ = self.lstm(packed)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
        return out

    def forward(self, x: Tensor, lengths: Tensor) -> Tensor:
        if not self.shared:
            return self._run(x, lengths)
        # Both directions in one LSTM call: stack the sequences and their reversals.
        both = self._run(torch.cat([x, reverse_padded(x, lengths)], dim=0), lengths.repeat(2))
        forward_states, backward_states = both.split(x.shape[0], dim=0)
        return torch.cat([forward_states, reverse_padded(backward_states, lengths)], dim=2)
