"""MLMA's tagger (Bao et al. 2019, §2.4 and §4): the BiLSTM-CRF of Lample et al. whose word
input is the CLCR of the word, a layer mix (s.w.s. or f.w.s.) of a frozen LM's states, in
place of a word embedding; the character BiLSTM, word BiLSTM and CRF are the shared ones.

The LM's states are not computed here: ``features`` is the job's feature matrix
(:class:`xlt.lms.features.FeatureStore`), and a batch's ``word_ids`` are rows of it. It is a
plain attribute, not a parameter or buffer, so checkpoints hold the tagger's own weights
(the mix among them) and never the LM's states.
"""

from __future__ import annotations

import torch
from torch import Tensor

from xlt.batching import BiLSTMBatch
from xlt.models.bilstm_crf import BiLSTMCRF
from xlt.models.layer_mix import FullyWeightedSum, SelfWeightedSum

MIXES = ("sws", "fws")


class CLCRBiLSTMCRF(BiLSTMCRF):
    def __init__(self, n_layers: int, feature_dim: int, mix: str, sws_hidden: int = 100, **kwargs) -> None:
        if mix not in MIXES:
            raise ValueError(f"layer mix {mix!r} is not one of {MIXES}")
        super().__init__(n_words=None, word_dim=feature_dim, **kwargs)
        self.mix = SelfWeightedSum(n_layers, feature_dim, sws_hidden) if mix == "sws" else FullyWeightedSum(n_layers, feature_dim)
        self.features: Tensor = torch.zeros(1, n_layers, feature_dim)

    def embed_words(self, batch: BiLSTMBatch) -> Tensor:
        device = batch.word_ids.device
        states = self.features[batch.word_ids.cpu()].to(device, torch.float32)  # (B, T, n + 1, D)
        return self.mix(states)
