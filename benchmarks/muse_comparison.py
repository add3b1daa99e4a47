"""xlt's cross-lingual mapping beside the MUSE reference code, on the same vectors.

Runs facebookresearch/MUSE (a local checkout, ``--muse``) and ``xlt.vectors.mapping`` on the
same pair of ``.vec`` files with the same settings, each in its own child process, and
reports for each: CPU time (user + system of the child, from ``getrusage``), wall time, and
word-translation P@1/5/10 (NN and CSLS) of the exported mapped vectors, scored by one scorer
(``xlt.vectors.evaluate.word_translation``) on the same test dictionary. MUSE's own P@1 log
of its kept iteration is reported beside it as a check on the scorer.

Both runs get the evaluation dictionary as MUSE's ``--dico_eval``: MUSE scores it after every
iteration (and never selects by it in these modes: identical-strings supervision and the
unsupervised mode select by the mean-cosine criterion), and xlt logs it per candidate the same
way, so both do the same evaluation work. Both use the same torch thread count.

Usage (repository root; MUSE needs numpy, scipy and torch, which xlt's venv has)::

    PYTHONPATH=src .venv/bin/python benchmarks/muse_comparison.py --muse ../MUSE \\
        --src-vec results/vectors/en/vectors.vec --tgt-vec results/vectors/es/vectors.vec \\
        --src-lang en --tgt-lang es --dictionary <MUSE en-es test dictionary files> \\
        --mode supervised --out benchmarks/results/muse_en-es_supervised.json

``--mode unsupervised --n-epochs 3 --epoch-size 25000`` runs the adversarial game with the
same (reduced) budget in both; every other parameter is MUSE's default in both.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from xlt.vectors.embeddings import read_vec
from xlt.vectors.evaluate import read_dictionary, word_translation


def _child(cmd: list[str], cwd: Path, env: dict[str, str], log_path: Path) -> dict[str, float]:
    """Run ``cmd``; its CPU seconds (user + sys, children of the child included) and wall."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    with open(log_path, "w", encoding="utf-8") as log:
        done = subprocess.run(cmd, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"{cmd[1]} failed (exit {done.returncode}); see {log_path}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"cpu_s": round(cpu, 1), "wall_s": round(wall, 1)}


def _muse_args(args: argparse.Namespace, dico: Path, exp: Path) -> list[str]:
    common = ["--cuda", "False", "--exp_path", str(exp), "--exp_name", "cmp", "--exp_id", args.mode,
              "--src_lang", args.src_lang, "--tgt_lang", args.tgt_lang, "--emb_dim", str(args.dim),
              "--src_emb", str(args.src_vec), "--tgt_emb", str(args.tgt_vec), "--dico_eval", str(dico),
              "--n_refinement", str(args.n_refinement), "--seed", str(args.seed), "--export", "txt"]
    if args.mode == "supervised":
        return ["supervised.py", *common, "--dico_train", "identical_char"]
    # MUSE asserts dis_most_frequent (75k) <= both vocabularies (issue #166); xlt clips it to
    # the smaller vocabulary, so MUSE gets that value.
    vocab = min(len(read_vec(p, 200_000, lowercase=True).words) for p in (args.src_vec, args.tgt_vec))
    return ["unsupervised.py", *common, "--n_epochs", str(args.n_epochs), "--epoch_size", str(args.epoch_size),
            "--dis_most_frequent", str(min(75_000, vocab))]


def _muse_logged_p1(log_text: str) -> dict[str, Any]:
    """MUSE's own ``__log__`` records: P@1 (NN, CSLS) and criterion per iteration."""
    rows = [json.loads(m) for m in re.findall(r"__log__:(\{.*\})", log_text)]
    return [{key: row.get(key) for key in ("n_epoch", "n_iter", "precision_at_1-nn", "precision_at_1-csls_knn_10",
                                           "mean_cosine-csls_knn_10-S2T-10000")} for row in rows]


# MUSE's scripts run unchanged under two compatibility shims (its code predates Python 3.11
# and torch 2.6): inspect.getargspec (removed in 3.11; MUSE's get_optimizer reads [0], the
# argument names, which getfullargspec has too), and TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD (env).
MUSE_SHIM = """
import inspect, runpy, sys
inspect.getargspec = inspect.getfullargspec
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""

OURS = """
import json, sys, torch
from xlt.vectors.mapping import map_vectors
args = json.loads(sys.argv[1])
torch.set_num_threads(args["threads"])
map_vectors(args["src"], args["tgt"], args["out"], params=args["params"], seed=args["seed"], mode=args["mode"])
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--muse", type=Path, required=True, help="a facebookresearch/MUSE checkout")
    parser.add_argument("--src-vec", type=Path, required=True)
    parser.add_argument("--tgt-vec", type=Path, required=True)
    parser.add_argument("--src-lang", required=True)
    parser.add_argument("--tgt-lang", required=True)
    parser.add_argument("--dictionary", type=Path, nargs="+", required=True, help="test dictionary file(s)")
    parser.add_argument("--mode", choices=("supervised", "unsupervised"), default="supervised")
    parser.add_argument("--n-refinement", type=int, default=5)
    parser.add_argument("--n-epochs", type=int, default=5)
    parser.add_argument("--epoch-size", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--only", choices=("muse", "xlt"), help="run one side only")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    args.src_vec, args.tgt_vec = args.src_vec.resolve(), args.tgt_vec.resolve()
    with open(args.src_vec, encoding="utf-8") as handle:
        args.dim = int(handle.readline().split()[1])

    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads), "MKL_NUM_THREADS": str(args.threads),
           # MUSE (2018) torch.load()s its own numpy pickles; torch >= 2.6 loads weights only.
           "TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD": "1"}
    report: dict[str, Any] = {
        "pair": f"{args.src_lang}-{args.tgt_lang}", "mode": args.mode, "threads": args.threads,
        "n_refinement": args.n_refinement, "seed": args.seed, "src_vec": str(args.src_vec),
        "tgt_vec": str(args.tgt_vec), "dictionary": [str(p) for p in args.dictionary],
        "torch": torch.__version__, "python": platform.python_version(), "machine": platform.processor(),
    }
    if args.mode == "unsupervised":
        report.update(n_epochs=args.n_epochs, epoch_size=args.epoch_size)
    pairs = read_dictionary(args.dictionary)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    logs = {side: args.out.with_name(f"{args.out.stem}.{side}.log") for side in ("muse", "xlt")}
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        dico = tmp / "dico.txt"  # MUSE reads one file: the concatenated test dictionary
        dico.write_text("".join(f"{s}\t{t}\n" for s, t in pairs), encoding="utf-8")
        if args.only != "xlt":
            exp = tmp / "muse"
            run = _child([sys.executable, "-c", MUSE_SHIM, *_muse_args(args, dico, exp)], args.muse.resolve(), env,
                         logs["muse"])
            exported = exp / "cmp" / args.mode
            scores = word_translation(exported / f"vectors-{args.src_lang}.txt", exported / f"vectors-{args.tgt_lang}.txt", pairs)
            report["muse"] = {**run, "scores": scores,
                              "muse_log": _muse_logged_p1(logs["muse"].read_text(encoding="utf-8"))}
        if args.only != "muse":
            params: dict[str, Any] = {"n_refinement": args.n_refinement, "dico_eval": str(dico)}
            if args.mode == "unsupervised":
                params.update(n_epochs=args.n_epochs, epoch_size=args.epoch_size)
            out = tmp / "xlt"
            spec = json.dumps({"src": str(args.src_vec), "tgt": str(args.tgt_vec), "out": str(out), "params": params,
                               "seed": args.seed, "mode": args.mode, "threads": args.threads})
            run = _child([sys.executable, "-c", OURS, spec], Path.cwd(), env, logs["xlt"])
            record = json.loads((out / "log.json").read_text(encoding="utf-8"))
            scores = word_translation(out / "vectors.vec", args.tgt_vec, pairs)
            report["xlt"] = {**run, "scores": scores, "kept": record["kept_candidate"]["stage"],
                             "status": record["status"]}
    if "muse" in report and "xlt" in report:
        report["cpu_ratio_xlt_over_muse"] = round(report["xlt"]["cpu_s"] / report["muse"]["cpu_s"], 3)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    for side in ("muse", "xlt"):
        if side in report:
            s = report[side]["scores"]
            print(f"{side:5s} cpu {report[side]['cpu_s']:8.1f} s  wall {report[side]['wall_s']:7.1f} s  "
                  f"P@1 nn {s['nn']['p@1']:6.2f}  csls {s['csls_knn_10']['p@1']:6.2f}  "
                  f"P@10 csls {s['csls_knn_10']['p@10']:6.2f}")


if __name__ == "__main__":
    main()
