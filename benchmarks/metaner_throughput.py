"""Meta-NER's costs on one thread (xlt.methods.metaner): [CLS] representations (sentences/s),
support-set retrieval, seconds per meta-update (32 tasks of 2 inner steps on a 2-sentence
support set + a query) and per-sentence adaptation (sentences/s, one fresh Adam step on the
2 nearest source sentences, predict, restore).

    PYTHONPATH=src .venv/bin/python benchmarks/metaner_throughput.py \
        results/data/ner/en/train.parquet results/data/ner/es/test.parquet --layers 4 --autocast bfloat16
"""
from __future__ import annotations

import argparse
import resource
import time

import torch

from xlt.methods import metaner
from xlt.methods.common import RunSpec, load_sentences
from xlt.vocab import Vocab


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("train_table")
    parser.add_argument("test_table")
    parser.add_argument("--encoder", default="../shared/mirror/hf/intfloat/multilingual-e5-small")
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--autocast", default="bfloat16", choices=["none", "bfloat16"])
    parser.add_argument("--sentences", type=int, default=1200)
    parser.add_argument("--test-sentences", type=int, default=100)
    parser.add_argument("--meta-updates", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)

    tokens, tags, _ = load_sentences(args.train_table, args.sentences)
    test_tokens, _, _ = load_sentences(args.test_table, args.test_sentences)
    started = time.perf_counter()
    reps = metaner.sentence_representations(args.encoder, tokens + test_tokens)
    rep_s = time.perf_counter() - started
    print(f"[CLS] representations (all 12 layers, float32): {len(reps) / rep_s:.0f} sentences/s")

    hp = {"encoder": args.encoder, "encoder_layers": args.layers,
          "autocast": None if args.autocast == "none" else args.autocast, "max_subwords": 128,
          "context_subwords": 64, "freeze_embeddings": True, "freeze_layers": 1, "dropout": 0.1,
          "lr": 5e-5, "weight_decay": 0.01, "warmup": 0.1, "batch_size": 16, "epochs": 1,
          "eval_batch_size": 64, "ner_decode": "bio_viterbi", "support_size": 2, "meta_steps": 100,
          "tasks_per_update": 32, "inner_steps": 2, "lr_inner": 3e-5, "lr_meta": 3e-5, "mask_rate": 0.2,
          "max_loss_weight": 2.0, "adapt_lr": 1e-5}
    spec = RunSpec(plan="bench", task="ner", task_config={"kind": "ner", "labels": ["PER", "LOC", "ORG", "MISC"]},
                   source="en", method="metaner", setting="default", seed=1, hparams=hp,
                   extra={"prefer_gpu": False, "mirror_dirs": []})
    labels = ["O"] + [f"{p}-{t}" for t in sorted(["PER", "LOC", "ORG", "MISC"]) for p in "BI"]
    tagger = metaner.MetaNERTagger(spec, Vocab.for_labels(labels))
    started = time.perf_counter()
    tagger.prepare_meta(tokens, tags, reps[: len(tokens)])
    print(f"windows + support sets of {len(tokens)} sentences: {time.perf_counter() - started:.2f}s")

    tagger.meta_update(tagger.sample_tasks(32), 0)  # warm-up: first-call allocations, not timed
    started = time.perf_counter()
    for step in range(1, args.meta_updates + 1):
        tagger.meta_update(tagger.sample_tasks(32), step)
    per_update = (time.perf_counter() - started) / args.meta_updates
    print(f"meta-update (32 tasks, 2 inner steps): {per_update:.2f}s")

    nearest = metaner.neighbours(reps[len(tokens):], reps[: len(tokens)], 2)
    support = [[w for i in row for w in tagger.sentence_windows[i]] for row in nearest.tolist()]
    started = time.perf_counter()
    tagger.adapt_and_predict(test_tokens, support)
    rate = len(test_tokens) / (time.perf_counter() - started)
    print(f"per-sentence adaptation: {rate:.1f} sentences/s")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
