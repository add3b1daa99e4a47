"""Character-level word encoder of Lample et al. (2016): a BiLSTM over a word's characters."""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence

from xlt.models.recurrent import reverse_padded
from xlt.vocab import PAD_ID


class CharBiLSTM(nn.Module):
    """Maps each word's characters to one vector: [final forward state ; final backward state].

    Input ``char_ids`` is ``(N_words, max_chars)`` padded with ``PAD_ID`` (0). A row with no
    characters at all (a padding word of a padded sentence batch) gets a zero vector.
    ``shared=True`` (Bari et al.'s Cross-Shared): both directions use one LSTM's weights, the
    backward state being that LSTM's final state over the reversed characters.
    """

    def __init__(self, n_chars: int, char_dim: int = 25, hidden: int = 25, shared: bool = False,
                 embedding: nn.Embedding | None = None) -> None:
        """``embedding``: a character embedding owned by another encoder, to share (Bari's
        Cross-Augmented target encoder shares the source's); else a new one."""
        super().__init__()
        self.shared = shared
        if embedding is not None and (embedding.num_embeddings, embedding.embedding_dim) != (n_chars, char_dim):
            raise ValueError(f"shared embedding is {tuple(embedding.weight.shape)}, expected ({n_chars}, {char_dim})")
        self.embedding = embedding if embedding is not None else nn.Embedding(n_chars, char_dim, padding_idx=PAD_ID)
        self.lstm = nn.LSTM(char_dim, hidden, batch_first=True, bidirectional=not shared)
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
        kept = lengths[nonempty]
        embedded = self.embedding(words)
        if self.shared:
            # One LSTM over the words and their reversals, in one call.
            embedded = torch.cat([embedded, reverse_padded(embedded, kept)], dim=0)
            kept = kept.repeat(2)
        packed = pack_padded_sequence(embedded, kept.cpu(), batch_first=True, enforce_sorted=False)
        _, (h_n, _) = self.lstm(packed)  # h_n: (directions, n, hidden), already in input order
        if self.shared:
            forward_final, backward_final = h_n[0].split(words.shape[0], dim=0)
        else:
            forward_final, backward_final = h_n[0], h_n[1]
        out[nonempty] = torch.cat([forward_final, backward_final], dim=1)
        return out
