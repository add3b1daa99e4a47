"""Bari et al.'s (2020) Cross-Augmented model: a source BiLSTM-CRF and a target encoder whose
features augment the source encoder's.

Two models share one module (Figure 1 of the paper):

* the *source model* θ_s: the pretrained (mapped) source BiLSTM-CRF, unchanged;
* the *target model* θ_t: a separate character and word BiLSTM of the same architecture over
  the same frozen common-space word vectors, the character *embeddings* shared with the
  source's ("a common embedding matrix"); a target-specific dense layer reads
  ``[source encoder states ; target encoder states]`` (feature augmentation) and feeds its
  own CRF.

Equation 7 trains θ_s on source batches and pseudo-labelled target batches, and θ_t on the
target batches: the source states enter the target head detached, so the target loss moves
θ_t only ("Update θ_t on CRF loss L_t(θ_t)", Algorithm 1).

The target head starts as the source head (dense weights ``[W_s ; 0]``, the source's bias and
CRF transitions copied): before any update the target model predicts exactly what the source
model does, and training moves it away from there. The paper does not say how the head is
initialised; this choice makes round 1's target model the pretrained one, not a random tagger.
"""
from __future__ import annotations

import copy

import torch
from torch import Tensor, nn

from xlt.batching import BiLSTMBatch
from xlt.models.bilstm_crf import BiLSTMCRF
from xlt.models.char_encoder import CharBiLSTM
from xlt.models.crf import paths_to_lists
from xlt.models.recurrent import SequenceEncoder


class AugmentedBiLSTMCRF(nn.Module):
    def __init__(self, source: BiLSTMCRF, hidden: int, char_hidden: int, shared_lstm: bool) -> None:
        super().__init__()
        self.source = source
        char_embedding = source.char_encoder.embedding if source.char_encoder is not None else None
        self.target_char = None
        if char_embedding is not None:
            self.target_char = CharBiLSTM(char_embedding.num_embeddings, char_embedding.embedding_dim, char_hidden,
                                          shared=shared_lstm, embedding=char_embedding)
        input_dim = source.word_embedding.embedding_dim + (self.target_char.output_dim if self.target_char else 0)
        self.target_encoder = SequenceEncoder(input_dim, hidden, shared=shared_lstm)
        src_dim = source.encoder.output_dim
        n_tags = source.projection.out_features
        self.target_projection = nn.Linear(src_dim + self.target_encoder.output_dim, n_tags)
        self.target_crf = copy.deepcopy(source.crf)
        self.start_target_head_from_source()

    def start_target_head_from_source(self) -> None:
        """Target head := source head (dense ``[W_s ; 0]``, bias and CRF copied). Call again
        after loading pretrained source weights."""
        src_dim = self.source.encoder.output_dim
        with torch.no_grad():
            self.target_projection.weight.zero_()
            self.target_projection.weight[:, :src_dim].copy_(self.source.projection.weight)
            self.target_projection.bias.copy_(self.source.projection.bias)
        self.target_crf.load_state_dict(self.source.crf.state_dict())

    @property
    def n_params(self) -> int:
        return sum(p.numel() for p in self.parameters())  # shared tensors once

    def _source_states(self, batch: BiLSTMBatch) -> Tensor:
        src = self.source
        return src.encoder(src.dropout(src.word_features(batch)), batch.lengths)

    def _target_emissions(self, batch: BiLSTMBatch, source_states: Tensor) -> Tensor:
        features = self.source.word_features(batch, char_encoder=self.target_char) if self.target_char \
            else self.source.word_embedding(batch.word_ids)
        drop = self.source.dropout
        states = self.target_encoder(drop(features), batch.lengths)
        # Detached: the target loss trains θ_t only; θ_s learns from its own loss (Eq. 7).
        return self.target_projection(drop(torch.cat([source_states.detach(), states], dim=2)))

    def target_emissions(self, batch: BiLSTMBatch) -> Tensor:
        return self._target_emissions(batch, self._source_states(batch))

    def source_loss(self, batch: BiLSTMBatch) -> Tensor:
        """L_s: the source model's CRF loss on a (gold or pseudo-labelled) batch."""
        return self.source.loss(batch)

    def joint_target_loss(self, batch: BiLSTMBatch) -> Tensor:
        """L_s(θ_s) + L_t(θ_t) on a pseudo-labelled target batch, the source encoder run once."""
        if batch.tag_ids is None:
            raise ValueError("the target losses need a batch with (pseudo) tag_ids")
        states = self._source_states(batch)
        src = self.source
        source_loss = src.crf.neg_log_likelihood(src.projection(src.dropout(states)), batch.tag_ids, batch.mask)
        target_loss = self.target_crf.neg_log_likelihood(self._target_emissions(batch, states), batch.tag_ids,
                                                         batch.mask)
        return source_loss + target_loss

    def decode_source(self, batch: BiLSTMBatch) -> list[list[int]]:
        return self.source.decode(batch)

    def decode_target(self, batch: BiLSTMBatch) -> list[list[int]]:
        """Target model's Viterbi tag ids. Call under ``eval()`` and ``inference_mode``."""
        paths, _ = self.target_crf.decode(self.target_emissions(batch), batch.mask)
        return paths_to_lists(paths, batch.mask)
