"""BiLSTM-CRF tagger of Lample et al. (2016), with Bari et al.'s (2020) Cross-Shared variant.

Architecture: [word embedding ; char BiLSTM] -> dropout -> BiLSTM -> dropout -> linear -> CRF.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from xlt.batching import BiLSTMBatch
from xlt.models.char_encoder import CharBiLSTM
from xlt.models.recurrent import SequenceEncoder
from xlt.models.crf import CRF, TransitionConstraints, paths_to_lists
from xlt.vocab import PAD_ID


class BiLSTMCRF(nn.Module):
    def __init__(
        self,
        n_words: int | None,
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
        # n_words None: no table; a subclass's embed_words gives the word_dim-wide vectors
        # (MLMA's mixed LM states: xlt.models.clcr).
        self.word_embedding = None if n_words is None else nn.Embedding(n_words, word_dim, padding_idx=PAD_ID)
        if pretrained_words is not None:
            with torch.no_grad():
                self.word_embedding.weight.copy_(pretrained_words)
        if self.word_embedding is not None:
            # Frozen cross-lingually mapped vectors keep source and target words in one space.
            self.word_embedding.weight.requires_grad_(not freeze_words)
        # Cross-Shared ties the directions of both LSTMs, the character one included.
        self.char_encoder = CharBiLSTM(n_chars, char_dim, char_hidden, shared=shared_lstm) if use_char else None
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

    def embed_words(self, batch: BiLSTMBatch) -> Tensor:
        """The word part of a word's input, (B, T, word_dim)."""
        return self.word_embedding(batch.word_ids)

    def word_features(self, batch: BiLSTMBatch, char_encoder: CharBiLSTM | None = None) -> Tensor:
        """[word embedding ; char BiLSTM] per word, (B, T, input_dim). ``char_encoder``
        replaces the model's own (Cross-Augmented's target encoder reads the same words)."""
        features = self.embed_words(batch)
        char_encoder = char_encoder if char_encoder is not None else self.char_encoder
        if char_encoder is not None:
            if batch.char_ids is None:
                raise ValueError("this model uses characters but the batch has no char_ids")
            b, t, c = batch.char_ids.shape
            chars = char_encoder(batch.char_ids.reshape(b * t, c)).reshape(b, t, -1)
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
