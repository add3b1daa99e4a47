"""Seconds per training update and inference speed of the encoder tagger by encoder depth
(``encoder_layers``) and precision (``autocast``): the numbers behind the README's "encoder's
cost by depth".

Trains the head and the unfrozen layers for one pass over the first ``--sentences`` sentences
of a canonical training table (batch 16, AdamW), then times ``log_probs`` over them.
Embeddings are frozen, plus ``freeze_layers`` 3 at full depth and 1 below (the ratio of
UniTrans' 3 of 12).

    PYTHONPATH=src .venv/bin/python benchmarks/encoder_depth.py results/data/ner/en/train.parquet
    PYTHONPATH=src .venv/bin/python benchmarks/encoder_depth.py results/data/ner/es/train.parquet \
        --layers 4 --autocast none bfloat16
"""
from __future__ import annotations

import argparse
import itertools
import time

import pandas as pd
import torch

from xlt.models.encoder_tagger import EncoderTagger


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("train_table", help="a canonical train.parquet (tokens column)")
    parser.add_argument("--encoder", default="../shared/mirror/hf/intfloat/multilingual-e5-small")
    parser.add_argument("--layers", type=int, nargs="+", default=[12, 6, 4])
    parser.add_argument("--sentences", type=int, default=320)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--autocast", nargs="+", default=["none"], choices=["none", "bfloat16"],
                        help="mixed precision of the encoder tagger (config key autocast); none = float32")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    column = next(c for c in pd.read_parquet(args.train_table).columns if "token" in c)
    sentences = [list(s) for s in pd.read_parquet(args.train_table)[column].tolist()[: args.sentences]]
    for n, precision in itertools.product(args.layers, args.autocast):
        torch.manual_seed(0)
        tagger = EncoderTagger(args.encoder, num_labels=9, freeze_layers=3 if n >= 12 else 1, num_layers=n,
                               autocast=None if precision == "none" else precision)
        windows = tagger.windows(sentences, [[0] * len(s) for s in sentences])
        optimizer = torch.optim.AdamW([p for p in tagger.parameters() if p.requires_grad], lr=5e-5)
        tagger.train()
        start, updates = time.perf_counter(), 0
        for batch in tagger.batches(windows, 16, shuffle=True, seed=1):
            loss = tagger.loss(batch)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            updates += 1
        per_update = (time.perf_counter() - start) / updates
        start = time.perf_counter()
        tagger.log_probs(sentences, 64)
        rate = len(sentences) / (time.perf_counter() - start)
        print(f"layers {n:2d} autocast {precision}: {per_update:.3f} s/update (batch 16), "
              f"{rate:.0f} sentences/s inference", flush=True)


if __name__ == "__main__":
    main()
