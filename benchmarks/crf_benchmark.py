"""Time xlt's CRF against pytorch-crf (``import torchcrf``) on identical random batches.

For each tag-set size it measures, in milliseconds per call:

* ``nll+backward``: negative log-likelihood (sum over the batch) plus its backward pass;
* ``decode``: Viterbi decoding to per-sentence tag lists.

Both CRFs share the same transition, start and end scores; the script asserts that they give
the same NLL and the same paths before timing anything. Usage::

    PYTHONPATH=src .venv/bin/python benchmarks/crf_benchmark.py [--threads 1] [--repeats 20]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch
import torchcrf

from xlt.models.crf import CRF, paths_to_lists
from xlt.testing import paired_crfs


def random_batch(batch_size: int, max_len: int, num_tags: int, seed: int):
    gen = torch.Generator().manual_seed(seed)
    emissions = torch.randn(batch_size, max_len, num_tags, generator=gen)
    lengths = torch.randint(1, max_len + 1, (batch_size,), generator=gen)
    lengths[0] = max_len  # the padded length is really used
    mask = torch.arange(max_len).unsqueeze(0) < lengths.unsqueeze(1)
    tags = torch.randint(num_tags, (batch_size, max_len), generator=gen)
    return emissions, mask, tags


def time_ms(fn: Callable[[], object], repeats: int, device: torch.device, warmup: int = 3) -> float:
    """Median wall time of ``fn`` in ms (median: robust to scheduler noise on small machines)."""

    def sync() -> None:  # CUDA calls are asynchronous: wait for the work, not just its launch
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        sync()
        start = time.perf_counter()
        fn()
        sync()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def check_agreement(ours: CRF, theirs: torchcrf.CRF, emissions, mask, tags) -> None:
    our_nll = ours.neg_log_likelihood(emissions, tags, mask, reduction="sum")
    their_nll = -theirs(emissions, tags, mask, reduction="sum")
    assert torch.allclose(our_nll, their_nll, rtol=1e-5, atol=1e-3), (our_nll, their_nll)
    our_paths = paths_to_lists(ours.decode(emissions, mask)[0], mask)
    assert our_paths == theirs.decode(emissions, mask), "Viterbi paths differ"


def benchmark(
    batch_size: int, max_len: int, num_tags: int, repeats: int, seed: int, device: torch.device
) -> list[dict]:
    ours, theirs = (crf.to(device) for crf in paired_crfs(num_tags, seed))
    emissions, mask, tags = (t.to(device) for t in random_batch(batch_size, max_len, num_tags, seed))
    check_agreement(ours, theirs, emissions, mask, tags)
    leaf = emissions.clone().requires_grad_(True)

    def our_train() -> None:
        ours.neg_log_likelihood(leaf, tags, mask, reduction="sum").backward()

    def their_train() -> None:
        (-theirs(leaf, tags, mask, reduction="sum")).backward()

    def our_decode() -> None:
        with torch.inference_mode():
            paths_to_lists(ours.decode(emissions, mask)[0], mask)

    def their_decode() -> None:
        with torch.inference_mode():
            theirs.decode(emissions, mask)

    rows = []
    for op, ours_fn, theirs_fn in (
        ("nll+backward", our_train, their_train),
        ("decode", our_decode, their_decode),
    ):
        ours_ms, theirs_ms = time_ms(ours_fn, repeats, device), time_ms(theirs_fn, repeats, device)
        rows.append(
            {"op": op, "B": batch_size, "T": max_len, "K": num_tags,
             "ours_ms": ours_ms, "torchcrf_ms": theirs_ms, "ratio": ours_ms / theirs_ms}
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-len", type=int, default=40)
    parser.add_argument("--tags", type=int, nargs="+", default=[9, 17])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)

    print(f"torch {torch.__version__}, device {device}, threads {torch.get_num_threads()}, "
          f"median of {args.repeats} calls; NLL and paths checked equal to pytorch-crf")
    header = f"{'op':<13} {'B':>3} {'T':>3} {'K':>3} {'ours ms':>9} {'torchcrf ms':>12} {'ours/theirs':>12}"
    print(header)
    print("-" * len(header))
    for num_tags in args.tags:
        for row in benchmark(args.batch_size, args.max_len, num_tags, args.repeats, args.seed, device):
            print(f"{row['op']:<13} {row['B']:>3} {row['T']:>3} {row['K']:>3} "
                  f"{row['ours_ms']:>9.2f} {row['torchcrf_ms']:>12.2f} {row['ratio']:>12.2f}")


if __name__ == "__main__":
    main()
