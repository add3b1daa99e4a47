"""The ``pretrain_laser`` job: the stand-in LASER encoder from the text stage's parallel sets
to the artifact (:mod:`xlt.lms.laser.artifact`).

1. pairs into each target language (``targets``: en, es) from the multi-way sets, the last
   ``holdout`` FLORES lines kept out (:mod:`~xlt.lms.laser.bitext`);
2. one BPE vocabulary learned jointly on every language's training sentences, sides of the
   pairs counted once per language and set (:mod:`~xlt.lms.laser.preprocess`);
3. encoder + decoder trained by translation (:mod:`~xlt.lms.laser.training`); the encoder,
   the BPE and a manifest with the retrieval accuracy of the held-out sentences are written.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from xlt.lms.laser.artifact import save_encoder
from xlt.lms.laser.bitext import Bitext, build_bitexts, read_sets
from xlt.lms.laser.model import LaserDecoder, LaserEncoder, LaserTranslator
from xlt.lms.laser.preprocess import PAD, learn_bpe
from xlt.lms.laser.training import EncodedPairs, LaserTrainingParams, encode_pairs, train_translator
from xlt.provenance import input_hashes, package_versions

log = logging.getLogger(__name__)


def bpe_sentences(texts: Mapping[str, Mapping[str, list[list[str]]]], holdout_set: str, holdout: int):
    """Every language's training lines of every set, once each (held-out lines excluded)."""
    for set_name, text in sorted(texts.items()):
        for lines in text.values():
            yield from (lines[: len(lines) - holdout] if set_name == holdout_set else lines)


def pretrain_laser(*, sets: Mapping[str, Mapping[str, str | Path]], config: Mapping[str, Any], seed: int,
                   weights_path: str | Path, bpe_path: str | Path, json_path: str | Path, threads: int = 1,
                   device: torch.device | str = "cpu") -> dict[str, Any]:
    started = time.perf_counter()
    torch.manual_seed(seed)
    torch.set_num_threads(max(1, threads))
    targets = list(config["targets"])
    holdout_set, holdout = config["holdout"]["set"], int(config["holdout"]["sentences"])
    texts = read_sets(sets)
    bitexts, held = build_bitexts(texts, targets, holdout_set, holdout)
    tokenizer = learn_bpe(bpe_sentences(texts, holdout_set, holdout), int(config["bpe"]["vocab_size"]),
                          int(config["bpe"]["min_frequency"]))
    params = LaserTrainingParams(**config["training"])
    train = encode_pairs(tokenizer, bitexts, targets, params.max_pieces)
    # Dev loss: held-out sentences of each language translated into the first target.
    pivot = targets[0]
    dev = EncodedPairs([], [], [])
    for lang in sorted(held):
        if lang == pivot:
            continue
        block = Bitext(holdout_set, lang, pivot, tuple(map(tuple, held[lang][: params.eval_sentences])),
                       tuple(map(tuple, held[pivot][: params.eval_sentences])))
        part = encode_pairs(tokenizer, [block], targets, params.max_pieces)
        dev.source += part.source
        dev.target += part.target
        dev.lang_ids += part.lang_ids
    counts: dict[str, int] = {}
    for bitext in bitexts:
        key = f"{bitext.source_lang}->{bitext.target_lang}"
        counts[key] = counts.get(key, 0) + len(bitext.source)
    log.info("%d training pairs (%s); BPE vocabulary %d; %d held-out sentences per language",
             len(train.source), counts, tokenizer.get_vocab_size(), holdout)
    arch = config["architecture"]
    pad_id = tokenizer.token_to_id(PAD)
    encoder = LaserEncoder(tokenizer.get_vocab_size(), int(arch["embed_dim"]), int(arch["hidden"]),
                           int(arch["layers"]), float(arch["dropout"]), padding_idx=pad_id)
    decoder = LaserDecoder(tokenizer.get_vocab_size(), encoder.output_dim, int(arch["embed_dim"]),
                           int(arch["decoder_hidden"]), len(targets), int(arch["lang_dim"]), float(arch["dropout"]),
                           padding_idx=pad_id)
    model = LaserTranslator(encoder, decoder).to(device)
    history = train_translator(model, tokenizer, train, dev, held, params, seed, pivot=pivot, device=device)
    model.to("cpu")
    record = {
        "kind": "laser_standin",
        "languages": sorted({b.source_lang for b in bitexts} | set(targets)),
        "targets": targets,
        "seed": seed,
        "config": {k: config[k] for k in ("architecture", "bpe", "training", "targets", "holdout", "sets", "languages")
                   if k in config},
        "pairs": counts,
        "history": history,
        "final_retrieval_accuracy": history[-1]["retrieval_accuracy"],
        "n_params_encoder": sum(p.numel() for p in encoder.parameters()),
        "n_params_decoder": sum(p.numel() for p in decoder.parameters()),
        "train_seconds": round(time.perf_counter() - started, 1),
        "device": str(device),
        "threads": threads,
        "versions": package_versions(),
        "inputs": input_hashes([p for files in sets.values() for p in files.values()]),
    }
    return save_encoder(weights_path, bpe_path, json_path, encoder, tokenizer, record)
