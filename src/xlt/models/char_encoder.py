"""Character-level word encoder of Lample et al. (2016): a BiLSTM over a word's characters."""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence

from xlt.vocab import PAD_ID


class CharBiLSTM(nn.Module):
    """Maps each word's characters to one vector: [final forward state ; final backward state].

    Input ``char_ids`` is ``(N_words, max_chars)`` padded with ``PAD_ID`` (0). A row with no
    characters at all (a padding word of a padded sentence batch) gets a zero vector.
    """

    def __init__(self, n_chars: int, char_dim: int = 25, hidden: int = 25) -> None:
        super().__init__()
        self.embedding = nn.Embedding(n_chars, char_dim, padding_idx=PAD_ID)
        self.lstm = nn.LSTM(char_dim, hidden, batch_first=True, bidirectional=True)
        self.output_dim = 2 * hidden

    def forward(self, char_ids: Tensor) -> Tensor:
        lengths = (char_ids != PAD_ID).sum(dim=1)
        out = char_ids.new_zeros((char_ids.shape[0], self.output_dim), dtype=torch.float)
        out = out.to(self.embedding.weight.dtype)
        nonempty = lengths > 0
        if not bool(nonempty.any()):
            return out
        # pack_padded_sequence rejects zero lengths, so run the LSTM on non-empty words only.
        words = char_ids[nonempty]
        packed = pack_padded_sequence(
            self.embedding(words), lengths[nonempty].cpu(), batch_first=True, enforce_sorted=False
        )
        _, (h_n, _) = self.lstm(packed)  # h_n: (2, n, hidden), already in input order
        out[nonempty] = torch.cat([h_n[0], h_n[1]], dim=1)
        return out
