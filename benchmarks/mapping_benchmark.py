"""Time and peak memory of xlt.vectors' retrieval and of one Procrustes refinement step.

For each size (vocabulary V × dimension d, random unit vectors on both sides) it measures:

* ``nn``: nearest-neighbour top-10 of every source word over the target vocabulary;
* ``csls``: CSLS top-10 of every source word (both neighbourhood means, then retrieval);
* ``refine``: one MUSE refinement step as ``xlt.vectors.mapping`` runs it: the CSLS
  neighbourhood means of both sides, the S2T and T2S candidate dictionaries over the
  ``dico_max_rank`` most frequent words (S2T&T2S build), and the Procrustes SVD.

Each measurement runs in a fresh subprocess so that ``ru_maxrss`` (the peak resident set;
tracemalloc does not see torch's allocations) reflects that operation alone: the table
reports the peak minus the RSS after the inputs were built, next to the analytic size of the
largest temporary (one block of scores, ``rows × V × 4`` bytes, plus the transposed keys).

Full passes over V=200k cost V²d ≈ 1.2e13 multiply-adds each; on a small CPU that is
minutes. ``--rows N`` times N query rows against the full key set and extrapolates the V×V
passes linearly in the number of query rows (marked ``extrapolated``); memory is measured on
that run (the block size, hence the peak, does not depend on the number of query rows).
Usage::

    PYTHONPATH=src .venv/bin/python benchmarks/mapping_benchmark.py \
        --sizes 25000x100 200000x300 --rows 0 4096 --threads 2
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from typing import Any

import torch

from xlt.vectors.mapping import _Spaces, procrustes, resolve_params
from xlt.vectors.retrieval import DEFAULT_BLOCK_BYTES, block_rows, csls_topk, mean_topk_similarity, nn_topk

KNN = 10


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def measure(op: str, vocab: int, dim: int, rows: int, threads: int) -> dict[str, Any]:
    """One operation, in this process; ``rows`` > 0 limits the query rows of each V×V pass."""
    torch.set_num_threads(threads)
    gen = torch.Generator().manual_seed(0)
    # Built in place: a freed V×d temporary would raise the baseline peak and hide the
    # operation's own temporaries (ru_maxrss only grows).
    src, tgt = torch.empty(vocab, dim), torch.empty(vocab, dim)
    for side in (src, tgt):
        side.normal_(generator=gen)
        side.div_(side.norm(dim=1, keepdim=True))
    n = vocab if rows <= 0 else min(rows, vocab)
    scale = vocab / n  # how many times the measured pass must be repeated for the full one
    block = block_rows(vocab)
    base = _rss_mib()
    params = resolve_params("supervised", {})  # S2T&T2S over the 10k most frequent words
    max_rank = min(params["dico_max_rank"], vocab)
    if op == "nn":
        seconds = _timed(lambda: nn_topk(src[:n], tgt, KNN, block)) * scale
    elif op == "csls":
        def run() -> None:
            r_src = mean_topk_similarity(src[:n], tgt, KNN, block)
            r_tgt = mean_topk_similarity(tgt[:n], src, KNN, block)
            # retrieval needs r_tgt for every key: pad the measured part when extrapolating
            full_r_tgt = r_tgt.repeat(int(scale) + 1)[:vocab]
            csls_topk(src[:n], tgt, KNN, r_src, full_r_tgt, block)
        seconds = _timed(run) * scale
    elif op == "refine":
        if n == vocab:
            spaces = _Spaces(src, tgt, DEFAULT_BLOCK_BYTES)
            w = torch.eye(dim)

            def run() -> None:
                dico, _ = spaces.build_dictionary(w, params)
                procrustes(spaces.src, spaces.tgt, dico)
            seconds = _timed(run)
        else:
            # two V×V neighbourhood passes (extrapolated) + two max_rank×V candidate passes
            # + the SVD, each measured.
            means = _timed(lambda: (mean_topk_similarity(src[:n], tgt, KNN, block),
                                    mean_topk_similarity(tgt[:n], src, KNN, block))) * scale
            r_src = torch.zeros(vocab)
            r_tgt = torch.zeros(vocab)
            candidates = _timed(lambda: (csls_topk(src[:max_rank], tgt, 2, r_src[:max_rank], r_tgt, block),
                                         csls_topk(tgt[:max_rank], src, 2, r_tgt[:max_rank], r_src, block)))
            dico = torch.stack([torch.arange(max_rank), torch.arange(max_rank)], dim=1)
            svd = _timed(lambda: procrustes(src, tgt, dico))
            seconds = means + candidates + svd
    else:
        raise ValueError(op)
    peak = _rss_mib()
    temporary = block * vocab * 4 + vocab * dim * 4  # one score block + the transposed keys
    return {"op": op, "vocab": vocab, "dim": dim, "rows": n, "extrapolated": n < vocab, "seconds": seconds,
            "peak_extra_mib": peak - base, "inputs_mib": 2 * vocab * dim * 4 / 2**20,
            "block_rows": block, "largest_temporary_mib": temporary / 2**20, "threads": threads}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", nargs="+", default=["25000x100", "200000x300"])
    parser.add_argument("--rows", nargs="+", type=int, default=[0, 4096],
                        help="query rows per size (0 = all, i.e. no extrapolation); one per size")
    parser.add_argument("--ops", nargs="+", default=["nn", "csls", "refine"])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--one", help=argparse.SUPPRESS)  # internal: op,vocab,dim,rows
    args = parser.parse_args()
    if args.one:
        op, vocab, dim, rows = args.one.split(",")
        print(json.dumps(measure(op, int(vocab), int(dim), int(rows), args.threads)))
        return
    rows = args.rows + [args.rows[-1]] * (len(args.sizes) - len(args.rows))
    results = []
    for size, n_rows in zip(args.sizes, rows):
        vocab, dim = (int(part) for part in size.split("x"))
        for op in args.ops:
            out = subprocess.run([sys.executable, __file__, "--threads", str(args.threads),
                                  "--one", f"{op},{vocab},{dim},{n_rows}"],
                                 check=True, capture_output=True, text=True)
            results.append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(f"# done {op} {size}: {results[-1]['seconds']:.1f}s", file=sys.stderr, flush=True)
    print("| operation | V × d | query rows timed | time (s) | peak RSS over inputs (MiB) | "
          "inputs (MiB) | block rows | largest temporary (MiB, analytic) |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        timed = f"{r['rows']:,}" + (" (extrapolated)" if r["extrapolated"] else "")
        print(f"| {r['op']} | {r['vocab']:,} × {r['dim']} | {timed} | {r['seconds']:.1f} | "
              f"{r['peak_extra_mib']:.0f} | {r['inputs_mib']:.0f} | {r['block_rows']} | "
              f"{r['largest_temporary_mib']:.0f} |")
    print(f"\n{results[0]['threads']} torch threads, CPU: {torch.__version__}.")


if __name__ == "__main__":
    main()
