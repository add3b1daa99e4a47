"""Collapsing a frozen LM's ``n + 1`` layers of token states into one vector per token.

Bao et al. (2019, §2.4), trained with the tagger while the LM stays fixed:

- ``SelfWeightedSum`` (s.w.s.): an MLP over the token's concatenated layers gives its own
  softmax weights over layers, ``CLCR_k = Σ_l s_{k,l} h_{l,k}``;
- ``FullyWeightedSum`` (f.w.s.): a ``(n + 1) × D`` matrix softmaxed over layers per column,
  ``CLCR_k = Σ_l F_l ⊙ h_{l,k}`` (a separate layer mixture for every dimension).

van der Heijden et al. (2019, Eq. 3), after ELMo (Peters et al. 2018):

- ``ScalarMix``: softmax-normalised weights ``s_l``, one per layer, and a scale ``γ``,
  ``γ · Σ_l s_l h_l`` (LASER-elmo); over a single layer it is ``γ · h`` (LASER-top, Eq. 2).

All take ``states`` ``(..., n_layers, D)`` and return ``(..., D)``.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


class SelfWeightedSum(nn.Module):
    def __init__(self, n_layers: int, dim: int, hidden: int = 100) -> None:
        """``hidden``: the MLP's one hidden layer (tanh); the paper gives no size."""
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(n_layers * dim, hidden), nn.Tanh(), nn.Linear(hidden, n_layers))

    def layer_weights(self, states: Tensor) -> Tensor:
        """``(B, T, n + 1)`` per-token weights over layers, summing to 1."""
        return torch.softmax(self.mlp(states.flatten(-2)), dim=-1)

    def forward(self, states: Tensor) -> Tensor:
        return (self.layer_weights(states).unsqueeze(-1) * states).sum(-2)


class FullyWeightedSum(nn.Module):
    def __init__(self, n_layers: int, dim: int) -> None:
        super().__init__()
        # Zeros: every dimension starts as the plain mean of the layers.
        self.logits = nn.Parameter(torch.zeros(n_layers, dim))

    def layer_weights(self) -> Tensor:
        """``(n + 1, D)``: each column a distribution over layers."""
        return torch.softmax(self.logits, dim=0)

    def forward(self, states: Tensor) -> Tensor:
        return (self.layer_weights() * states).sum(-2)


class ScalarMix(nn.Module):
    def __init__(self, n_layers: int) -> None:
        super().__init__()
        self.logits = nn.Parameter(torch.zeros(n_layers))  # zeros: the plain mean at the start
        self.gamma = nn.Parameter(torch.ones(()))

    def layer_weights(self) -> Tensor:
        return torch.softmax(self.logits, dim=0)

    def forward(self, states: Tensor) -> Tensor:
        return self.gamma * torch.einsum("...ld,l->...d", states, self.layer_weights())
