"""BiLSTM-CRF tagger of Lample et al. (2016), with Bari et al.'s (2020) Cross-Shared variant.

Architecture: [word embedding ; char BiLSTM] -> dropout -> BiLSTM -> dropout -> linear -> CRF.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from xlt.batching import BiLSTMBatch
from xlt.models.char_encoder import CharBiLSTM
from xlt.models.crf import CRF, TransitionConstraints, paths_to_lists
from xlt.vocab import PAD_ID


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


class BiLSTMCRF(nn.Module):
    def __init__(
        self,
        n_words: int,
        n_chars: int,
        n_tags: int,
        word_dim: int = 100,
        char_dim: int = 25,
        char_hidden: int = 25,
        hidden: int = 100,
        dropout: float = 0.5,
        use_char: bool = True,
        pretrained_words: Tensor | None = None,
        freeze_words: bool = False,
        shared_lstm: bool = False,
        crf_constraints: TransitionConstraints | tuple | None = None,
    ) -> None:
        super().__init__()
        if pretrained_words is not None:
            if pretrained_words.shape[0] != n_words:
                raise ValueError(
                    f"pretrained_words has {pretrained_words.shape[0]} rows, vocabulary {n_words}"
                )
            word_dim = pretrained_words.shape[1]
        self.word_embedding = nn.Embedding(n_words, word_dim, padding_idx=PAD_ID)
        if pretrained_words is not None:
            with torch.no_grad():
                self.word_embedding.weight.copy_(pretrained_words)
        # Frozen cross-lingually mapped vectors keep source and target words in one space.
        self.word_embedding.weight.requires_grad_(not freeze_words)
        self.char_encoder = CharBiLSTM(n_chars, char_dim, char_hidden) if use_char else None
        input_dim = word_dim + (self.char_encoder.output_dim if self.char_encoder else 0)
        self.dropout = nn.Dropout(dropout)
        self.encoder = SequenceEncoder(input_dim, hidden, shared=shared_lstm)
        self.projection = nn.Linear(self.encoder.output_dim, n_tags)
        constraints = None if crf_constraints is None else TransitionConstraints(*crf_constraints)
        self.crf = CRF(n_tags, constraints)

    @property
    def n_params(self) -> int:
        """All parameters, frozen embeddings included (what the papers' parameter counts mean)."""
        return sum(p.numel() for p in self.parameters())

    @property
    def n_trainable_params(self) -> int:
        return sum(p.numel() for p in self.parameters() if p.requires_grad)

    def word_features(self, batch: BiLSTMBatch) -> Tensor:
        """[word embedding ; char BiLSTM] per word, (B, T, input_dim)."""
        features = self.word_embedding(batch.word_ids)
        if self.char_encoder is not None:
            if batch.char_ids is None:
                raise ValueError("this model uses characters but the batch has no char_ids")
            b, t, c = batch.char_ids.shape
            chars = self.char_encoder(batch.char_ids.reshape(b * t, c)).reshape(b, t, -1)
            features = torch.cat([features, chars], dim=2)
        return features

    def emissions(self, batch: BiLSTMBatch) -> Tensor:
        """Per-word tag scores (B, T, n_tags)."""
        states = self.encoder(self.dropout(self.word_features(batch)), batch.lengths)
        return self.projection(self.dropout(states))

    def loss(self, batch: BiLSTMBatch) -> Tensor:
        """Mean CRF negative log-likelihood per sentence."""
        if batch.tag_ids is None:
            raise ValueError("loss needs a batch with tag_ids")
        return self.crf.neg_log_likelihood(self.emissions(batch), batch.tag_ids, batch.mask)

    def decode(self, batch: BiLSTMBatch) -> list[list[int]]:
        """Viterbi tag ids per sentence. Call under ``eval()`` (dropout) and ``inference_mode``."""
        paths, _ = self.crf.decode(self.emissions(batch), batch.mask)
        return paths_to_lists(paths, batch.mask)
