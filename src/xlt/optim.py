"""Optimizers: torch's Adam with its fused kernel, and those the papers' public code uses that
torch does not ship."""
from __future__ import annotations

from typing import Iterable

import torch


def adam(params: Iterable, *, decoupled: bool = False, **kwargs) -> torch.optim.Optimizer:
    """torch's Adam (``decoupled``: AdamW) with its fused kernel (CPU and CUDA since torch 2.4):
    one kernel per step where the default CPU path loops over the tensors in Python. The same
    update, equal to float rounding (not bitwise): on this 2-core VM a step over the 4-layer
    encoder tagger's trainable weights took 8-10 ms instead of 34 ms (benchmarks/README.md), a
    quarter of each of Meta-NER's per-sentence adaptations. Every Adam in xlt comes from here."""
    return (torch.optim.AdamW if decoupled else torch.optim.Adam)(params, fused=True, **kwargs)


class BertAdam(torch.optim.Optimizer):
    """Adam as pytorch_pretrained_bert's ``BertAdam``, which Meta-NER's public code uses for
    every inner update, adaptation step and k-shot batch: no bias correction, eps 1e-6, the
    weight decay added to the update (decoupled, scaled by lr, as AdamW), and each parameter's
    gradient norm clipped to ``max_grad_norm`` before its step. Without bias correction its
    first step is lr x (1 - beta1) / sqrt(1 - beta2) x sign(g) ~ 3.16 lr sign(g), where
    torch's Adam and AdamW make lr sign(g): the same "lr" moves the weights ~3x further.
    Its learning-rate schedule (warmup) is left to the caller, as the code sets lr per step."""

    def __init__(self, params: Iterable, lr: float, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-6,
                 weight_decay: float = 0.0, max_grad_norm: float = 1.0) -> None:
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                                  "max_grad_norm": max_grad_norm})

    @torch.no_grad()
    def step(self, closure=None):  # noqa: D401 (torch's signature)
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state["exp_avg"] = torch.zeros_like(p)
                    state["exp_avg_sq"] = torch.zeros_like(p)
                if group["max_grad_norm"] > 0:
                    torch.nn.utils.clip_grad_norm_(p, group["max_grad_norm"])
                grad = p.grad
                exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
                exp_avg.mul_(beta1).add_(grad, alpha=1 - beta1)
                exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                update = exp_avg / (exp_avg_sq.sqrt() + group["eps"])
                if group["weight_decay"]:
                    update.add_(p, alpha=group["weight_decay"])
                p.add_(update, alpha=-group["lr"])
        return loss


#: ``inner_optimizer`` values: the optimizer of every "fresh" step (Meta-NER's inner updates,
#: adaptation steps and low-resource batches): torch's AdamW (the paper's "Adam"), or the
#: public code's BertAdam.
INNER_OPTIMIZERS = ("adamw", "bert_adam")


def make_inner_optimizer(kind: str, groups: list[dict], lr: float) -> torch.optim.Optimizer:
    if kind == "adamw":
        return adam(groups, decoupled=True, lr=lr)
    if kind == "bert_adam":
        return BertAdam(groups, lr=lr)
    raise ValueError(f"inner_optimizer must be one of {list(INNER_OPTIMIZERS)}, got {kind!r}")
