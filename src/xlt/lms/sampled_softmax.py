"""Sampled softmax (Jean et al. 2015) over a tied output embedding, as TensorFlow's
``tf.nn.sampled_softmax_loss`` that Bao et al.'s code calls.

The vocabulary is sorted by frequency (id 0 the most frequent after the special tokens), so
that the log-uniform (Zipfian) proposal ``Q(c) = log((c + 2) / (c + 1)) / log(V + 1)`` puts
its mass where the words are. ``num_sampled`` candidates are drawn once per call, shared by
every position of the batch; each logit is corrected by ``log E[count(c)]``, the expected
number of times ``c`` was drawn, and a candidate equal to a position's true word is removed
for that position ("accidental hit"). With every word among the candidates and an expected
count of 1, the loss is the full softmax's, which is why it can be checked against it.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor


def log_uniform_probs(vocab_size: int, device: torch.device | None = None) -> Tensor:
    """``(V,)`` probabilities of the log-uniform proposal over frequency-ranked ids."""
    ids = torch.arange(vocab_size, dtype=torch.float64, device=device)
    return (torch.log((ids + 2) / (ids + 1)) / math.log(vocab_size + 1)).float()


def full_softmax_nll(states: Tensor, weight: Tensor, targets: Tensor, label_smoothing: float = 0.0) -> Tensor:
    """Mean NLL of ``targets`` ``(N,)`` under ``softmax(states @ weight.T)``: the exact loss,
    used for perplexity and when the vocabulary is no larger than the sample."""
    return F.cross_entropy(states @ weight.T, targets, label_smoothing=label_smoothing)


def sampled_softmax_nll(
    states: Tensor,
    weight: Tensor,
    targets: Tensor,
    num_sampled: int,
    generator: torch.Generator | None = None,
    label_smoothing: float = 0.0,
) -> Tensor:
    """Mean sampled-softmax NLL of ``targets`` ``(N,)`` given ``states`` ``(N, d)`` and the
    output embedding ``weight`` ``(V, d)``.

    ``label_smoothing`` ε spreads ε of the target mass evenly over the position's candidates
    (the true word and the samples that are not hits), as smoothing would over the full
    vocabulary; Bao et al.'s code uses 0.1 (its "0.9").
    """
    vocab_size = weight.shape[0]
    if num_sampled >= vocab_size:
        return full_softmax_nll(states, weight, targets, label_smoothing)
    # Drawn on the CPU (the generator's device, so a run is reproducible on any device).
    probs = log_uniform_probs(vocab_size)
    draws = torch.multinomial(probs, num_sampled, replacement=True, generator=generator)
    candidates = torch.unique(draws).to(weight.device)
    # Probability that a word appears at least once among the draws.
    log_expected = torch.log(-torch.expm1(num_sampled * torch.log1p(-probs))).to(weight.device)
    true_logits = (states * weight[targets]).sum(-1) - log_expected[targets]
    sampled_logits = states @ weight[candidates].T - log_expected[candidates]
    hits = candidates.unsqueeze(0) == targets.unsqueeze(1)
    sampled_logits = sampled_logits.masked_fill(hits, float("-inf"))
    logits = torch.cat([true_logits.unsqueeze(1), sampled_logits], dim=1)
    log_probs = torch.log_softmax(logits, dim=1)
    nll = -log_probs[:, 0]
    if label_smoothing:
        valid = torch.cat([torch.ones_like(hits[:, :1]), ~hits], dim=1)
        uniform = -(log_probs.masked_fill(~valid, 0.0).sum(1) / valid.sum(1))
        nll = (1 - label_smoothing) * nll + label_smoothing * uniform
    return nll.mean()
