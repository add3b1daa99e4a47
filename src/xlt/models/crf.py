"""Linear-chain CRF and the project's single Viterbi decoder.

Conventions (shared by every function here):

* ``emissions`` is ``(B, T, K)``: batch, time, tags.
* ``mask`` is ``(B, T)`` bool and *left-aligned*: each row is ``True`` for its first ``length``
  positions and ``False`` after. Every sequence has length >= 1.
* ``transitions[i, j]`` scores moving from tag ``i`` to tag ``j``; ``start[j]`` / ``end[j]``
  score starting / ending in ``j``.

All functions are batched; the only Python loop is over time steps, which the recursion needs.
``benchmarks/crf_benchmark.py`` times this module against pytorch-crf (same NLL, same paths).
"""

from __future__ import annotations

from typing import Literal, NamedTuple

import torch
from torch import Tensor, nn

# Score added to a forbidden transition inside the trainable CRF. A large finite number rather
# than -inf: exp(-1e4) is 0 in float32 so forbidden paths get no probability mass, but
# logsumexp over a row that is all forbidden (and its gradient) stays finite.
FORBIDDEN_SCORE = -1e4

Reduction = Literal["mean", "sum", "none"]


class TransitionConstraints(NamedTuple):
    """Which tag transitions are allowed (e.g. no ``O -> I-PER`` in IOB2).

    ``allowed[i, j]``: may tag ``j`` follow tag ``i``; ``start_allowed[j]``: may a sequence
    start with ``j``; ``end_allowed[j]``: may it end with ``j`` (``None``: every tag may).
    Accepts anything ``torch.as_tensor`` takes (numpy arrays, nested lists).
    """

    allowed: Tensor
    start_allowed: Tensor
    end_allowed: Tensor | None = None


def check_mask(mask: Tensor) -> None:
    """Raise ValueError unless ``mask`` is bool, left-aligned and has no empty sequence."""
    if mask.dtype != torch.bool:
        raise ValueError(f"mask must be a bool tensor, got {mask.dtype}")
    if mask.dim() != 2 or mask.shape[1] == 0:
        raise ValueError(f"mask must be (B, T) with T >= 1, got shape {tuple(mask.shape)}")
    if not bool(mask[:, 0].all()):
        raise ValueError("every sequence must have length >= 1 (mask[:, 0] must be all True)")
    # A True after a False would mean a hole in the sequence: the recursions assume none.
    if bool((mask[:, 1:] & ~mask[:, :-1]).any()):
        raise ValueError("mask must be left-aligned (True for the first `length` positions only)")


def _constraint_scores(
    constraints: TransitionConstraints, num_tags: int, forbidden: float
) -> tuple[Tensor, Tensor, Tensor]:
    """Turn bool masks into additive scores: 0 where allowed, ``forbidden`` elsewhere."""
    allowed = torch.as_tensor(constraints.allowed, dtype=torch.bool)
    start_allowed = torch.as_tensor(constraints.start_allowed, dtype=torch.bool)
    end_allowed = (
        torch.ones(num_tags, dtype=torch.bool)
        if constraints.end_allowed is None
        else torch.as_tensor(constraints.end_allowed, dtype=torch.bool)
    )
    if allowed.shape != (num_tags, num_tags):
        raise ValueError(f"allowed must be ({num_tags}, {num_tags}), got {tuple(allowed.shape)}")
    for name, vec in (("start_allowed", start_allowed), ("end_allowed", end_allowed)):
        if vec.shape != (num_tags,):
            raise ValueError(f"{name} must be ({num_tags},), got {tuple(vec.shape)}")

    def to_scores(ok: Tensor) -> Tensor:
        return torch.zeros(ok.shape).masked_fill(~ok, forbidden)

    return to_scores(allowed), to_scores(start_allowed), to_scores(end_allowed)


def viterbi_decode(
    emissions: Tensor, mask: Tensor, transitions: Tensor, start: Tensor, end: Tensor
) -> tuple[Tensor, Tensor]:
    """Best tag sequence per batch item.

    Returns ``(paths, best_scores)``: ``paths`` is a ``(B, T)`` LongTensor with 0 at padded
    positions, ``best_scores`` is ``(B,)`` with the score of each best path.
    """
    check_mask(mask)
    batch_size, seq_len, num_tags = emissions.shape
    device = emissions.device
    steps = emissions.transpose(0, 1)  # (T, B, K): one view per step
    # The recursion runs over every step for every item, padding included: step t only reads
    # steps before t, so a sequence's true steps never see its padding, and the per-step
    # masking (two torch.where per step) goes away. Each item's final scores are gathered at
    # its own last step afterwards. The loop writes into preallocated buffers (``out=``):
    # at tagging sizes (B=32, K=17) the cost is per-op overhead, not arithmetic.
    history = torch.empty((seq_len, batch_size, num_tags), dtype=emissions.dtype, device=device)
    backpointers = torch.empty((seq_len, batch_size, num_tags), dtype=torch.long, device=device)
    best = torch.empty((batch_size, num_tags), dtype=emissions.dtype, device=device)
    candidates = torch.empty((batch_size, num_tags, num_tags), dtype=emissions.dtype, device=device)
    torch.add(start, steps[0], out=history[0])
    # candidates[b, j, i] = score of the best path ending in i, then moving to j at t: laid
    # out so that the max runs over the contiguous last axis (a strided max over the middle
    # axis was the step's main cost), into one buffer reused by every step.
    trans_t = transitions.t().contiguous().unsqueeze(0)  # (1, K_to, K_from)
    # Per-step views made once (indexing a tensor from Python costs as much as a small op).
    previous = history.unsqueeze(2).unbind(0)  # (B, 1, K) each
    current, pointers, emitted = history.unbind(0), backpointers.unbind(0), steps.unbind(0)
    for t in range(1, seq_len):
        torch.add(previous[t - 1], trans_t, out=candidates)
        torch.max(candidates, dim=2, out=(best, pointers[t]))
        torch.add(best, emitted[t], out=current[t])
    last_step = (mask.sum(dim=1) - 1).view(1, batch_size, 1).expand(1, batch_size, num_tags)
    best_scores, last_tags = (history.gather(0, last_step).squeeze(0) + end).max(dim=1)

    # Past a sequence's end the backpointer becomes the identity (one masked op for all
    # steps), so backtracking from step T-1 carries each item's last tag down unchanged to
    # its true last step: no per-item loop.
    identity = torch.arange(num_tags, device=device).view(1, 1, num_tags)
    backpointers = torch.where(mask.t().unsqueeze(2), backpointers, identity)
    paths = torch.empty((seq_len, batch_size, 1), dtype=torch.long, device=device)
    paths[seq_len - 1, :, 0] = last_tags
    path_steps, pointers = paths.unbind(0), backpointers.unbind(0)
    for t in range(seq_len - 1, 0, -1):
        torch.gather(pointers[t], 1, path_steps[t], out=path_steps[t - 1])
    return paths.squeeze(2).t().masked_fill(~mask, 0), best_scores


def constrained_decode(
    log_probs: Tensor,
    mask: Tensor,
    allowed: Tensor,
    start_allowed: Tensor,
    end_allowed: Tensor | None = None,
) -> Tensor:
    """Viterbi over per-token log-probabilities with invalid transitions forbidden.

    What UniTrans decodes with: no learned transitions, every allowed transition scores 0 and
    every forbidden one -inf, so the result is the most probable *valid* tag sequence under
    the token-level model. Returns ``(B, T)`` paths, 0 at padding.
    """
    num_tags = log_probs.shape[-1]
    trans, start, end = _constraint_scores(
        TransitionConstraints(allowed, start_allowed, end_allowed), num_tags, float("-inf")
    )
    device, dtype = log_probs.device, log_probs.dtype
    paths, _ = viterbi_decode(
        log_probs, mask, trans.to(device, dtype), start.to(device, dtype), end.to(device, dtype)
    )
    return paths


def paths_to_lists(paths: Tensor, mask: Tensor) -> list[list[int]]:
    """Cut padded ``(B, T)`` paths back to one list of tag ids per sequence."""
    lengths = mask.sum(dim=1).tolist()
    return [row[:n] for row, n in zip(paths.tolist(), lengths)]


class CRF(nn.Module):
    """Linear-chain CRF with learnable transition, start and end scores.

    With ``constraints`` the forbidden transitions get ``FORBIDDEN_SCORE`` added on top of the
    learned scores, in training (log-partition and path score) and in decoding alike.
    """

    def __init__(self, num_tags: int, constraints: TransitionConstraints | None = None) -> None:
        super().__init__()
        self.num_tags = num_tags
        # Same init as pytorch-crf / Lample et al.'s code: small uniform scores.
        self.transitions = nn.Parameter(torch.empty(num_tags, num_tags).uniform_(-0.1, 0.1))
        self.start_transitions = nn.Parameter(torch.empty(num_tags).uniform_(-0.1, 0.1))
        self.end_transitions = nn.Parameter(torch.empty(num_tags).uniform_(-0.1, 0.1))
        if constraints is None:
            trans_pen = torch.zeros(num_tags, num_tags)
            start_pen = torch.zeros(num_tags)
            end_pen = torch.zeros(num_tags)
        else:
            trans_pen, start_pen, end_pen = _constraint_scores(
                TransitionConstraints(*constraints), num_tags, FORBIDDEN_SCORE
            )
        # Buffers, not parameters: they move with .to(device) and are saved, never trained.
        self.register_buffer("transition_penalty", trans_pen)
        self.register_buffer("start_penalty", start_pen)
        self.register_buffer("end_penalty", end_pen)

    def effective_scores(self) -> tuple[Tensor, Tensor, Tensor]:
        """(transitions, start, end) including the constraint penalties."""
        return (
            self.transitions + self.transition_penalty,
            self.start_transitions + self.start_penalty,
            self.end_transitions + self.end_penalty,
        )

    def log_partition(self, emissions: Tensor, mask: Tensor) -> Tensor:
        """log Z per sequence, ``(B,)``, by the forward algorithm in log space."""
        check_mask(mask)
        transitions, start, end = self.effective_scores()
        steps = emissions.transpose(0, 1)  # (T, B, K)
        trans = transitions.unsqueeze(0)
        # As in viterbi_decode: recurse over padding too (it never feeds a true step) and
        # gather each item's alpha at its last step; the padded steps get zero gradient.
        alpha = start.unsqueeze(0) + steps[0]  # (B, K)
        alphas = [alpha]
        for t in range(1, steps.shape[0]):
            # logsumexp over the previous tag i of alpha[b, i] + trans[i, j], then add emission j.
            alpha = torch.logsumexp(alpha.unsqueeze(2) + trans, dim=1) + steps[t]
            alphas.append(alpha)
        batch_size, num_tags = alpha.shape
        last_step = (mask.sum(dim=1) - 1).view(1, batch_size, 1).expand(1, batch_size, num_tags)
        alpha = torch.stack(alphas).gather(0, last_step).squeeze(0)
        return torch.logsumexp(alpha + end.unsqueeze(0), dim=1)

    def score(self, emissions: Tensor, tags: Tensor, mask: Tensor) -> Tensor:
        """Unnormalised score of the given tag sequences, ``(B,)``. No time loop: all gathers."""
        check_mask(mask)
        transitions, start, end = self.effective_scores()
        # Padding may hold any value (e.g. -100): point it at tag 0, its terms are masked out.
        tags = tags.masked_fill(~mask, 0)
        maskf = mask.to(emissions.dtype)
        emission_scores = emissions.gather(2, tags.unsqueeze(2)).squeeze(2)
        total = (emission_scores * maskf).sum(dim=1)
        transition_scores = transitions[tags[:, :-1], tags[:, 1:]]
        total = total + (transition_scores * maskf[:, 1:]).sum(dim=1)
        last_index = mask.sum(dim=1, keepdim=True) - 1
        last_tags = tags.gather(1, last_index).squeeze(1)
        return total + start[tags[:, 0]] + end[last_tags]

    def neg_log_likelihood(
        self, emissions: Tensor, tags: Tensor, mask: Tensor, reduction: Reduction = "mean"
    ) -> Tensor:
        """-log p(tags | emissions); ``mean`` averages over sequences (not tokens)."""
        nll = self.log_partition(emissions, mask) - self.score(emissions, tags, mask)
        if reduction == "mean":
            return nll.mean()
        if reduction == "sum":
            return nll.sum()
        if reduction == "none":
            return nll
        raise ValueError(f"unknown reduction {reduction!r}; use 'mean', 'sum' or 'none'")

    def decode(self, emissions: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        """Best paths ``(B, T)`` (0 at padding) and their scores ``(B,)``, without gradients."""
        with torch.no_grad():  # paths are discrete: building an autograd graph is pure waste
            transitions, start, end = self.effective_scores()
            return viterbi_decode(emissions, mask, transitions, start, end)
