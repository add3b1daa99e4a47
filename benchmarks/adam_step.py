"""Seconds per Adam step, torch's default CPU path (a Python loop over the tensors) against its
fused kernel (xlt.optim.adam), on two weight sets of the default plan: the trainable part of
the 4-layer encoder tagger (3 unfrozen e5-small layers and a 9-label head) and a Bao-style LM
(twenty 10k x 300 embedding / softmax tables and twelve 300 x 300 matrices)."""
from __future__ import annotations

import argparse
import time

import torch

ENCODER_LAYER = [(384, 384), (384,)] * 4 + [(384,), (384,), (1536, 384), (1536,), (384, 1536), (384,), (384,), (384,)]
SHAPES = {
    "encoder_tagger": ENCODER_LAYER * 3 + [(9, 384), (9,)],
    "lm": [(10000, 300)] * 20 + [(300, 300)] * 12,
}


def seconds_per_step(shapes: list[tuple[int, ...]], steps: int, **options) -> tuple[float, list[torch.Tensor]]:
    torch.manual_seed(0)
    weights = [torch.nn.Parameter(torch.randn(shape)) for shape in shapes]
    optimizer = torch.optim.AdamW(weights, lr=1e-4, weight_decay=0.01, **options)
    for weight in weights:
        weight.grad = torch.randn_like(weight)
    optimizer.step()  # state allocated outside the timing
    started = time.perf_counter()
    for _ in range(steps):
        optimizer.step()
    return (time.perf_counter() - started) / steps, [w.detach() for w in weights]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    for name, shapes in SHAPES.items():
        loop, a = seconds_per_step(shapes, args.steps)
        fused, b = seconds_per_step(shapes, args.steps, fused=True)
        diff = max(float((x - y).abs().max()) for x, y in zip(a, b))
        print(f"{name}: {sum(torch.Size(s).numel() for s in shapes) / 1e6:.1f}M weights; loop {loop * 1e3:.1f} ms, "
              f"fused {fused * 1e3:.1f} ms per step ({loop / fused:.1f}x); max |difference| {diff:.2e}")


if __name__ == "__main__":
    main()
