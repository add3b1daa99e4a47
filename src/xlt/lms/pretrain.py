"""The LM stage's job: one MLMA / MLM language model over a group of languages, from their
LM corpora (:mod:`xlt.lms.corpus`) to the artifact (:mod:`xlt.lms.artifact`).

Per language: a frequency-ranked vocabulary of its training sentences (``vocab_size``, the
specials included), its sentences encoded, the dev sentences for perplexity. The variant
names the alignment loss and, for ``init: muse``, the aligned vector files the embedding
matrices start from (:mod:`xlt.lms.init`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from xlt.lms.artifact import save_lm
from xlt.lms.bilm import BiTransformerLM
from xlt.lms.corpus import read_sentences
from xlt.lms.init import initialise_from_vectors
from xlt.lms.training import LMTrainingParams, train_lm
from xlt.lms.vocab import LMVocab, identical_strings
from xlt.provenance import input_hashes, package_versions

log = logging.getLogger(__name__)

#: Keys of a variant (``lms.variants.<name>``) beside the training parameters.
VARIANT_KEYS = ("init",)
INITS = (None, "muse")


def training_params(config: Mapping[str, Any], variant: Mapping[str, Any]) -> LMTrainingParams:
    """The LM's training parameters: the stage's ``training`` overridden by the variant's."""
    merged = {**config["training"], **{k: v for k, v in variant.items() if k not in VARIANT_KEYS}}
    if merged.get("pairs") == "hub":
        merged.setdefault("hub", config["hub"])
    return LMTrainingParams(**merged)


def pretrain(*, variant_name: str, languages: list[str], train_files: Mapping[str, str | Path],
             dev_files: Mapping[str, str | Path], config: Mapping[str, Any], seed: int,
             weights_path: str | Path, json_path: str | Path, vectors: Mapping[str, str | Path] | None = None,
             threads: int = 1, device: torch.device | str = "cpu") -> dict[str, Any]:
    started = time.perf_counter()
    variant = dict(config["variants"][variant_name])
    init = variant.get("init")
    if init not in INITS:
        raise ValueError(f"lms.variants.{variant_name}.init: {init!r} is not one of {INITS}")
    params = training_params(config, variant)
    torch.manual_seed(seed)
    torch.set_num_threads(max(1, threads))
    vocabs, corpora, dev = {}, {}, {}
    for lang in languages:
        sentences = read_sentences(train_files[lang])
        vocabs[lang] = LMVocab.build(sentences, max_size=int(config["vocab_size"]))
        corpora[lang] = [vocabs[lang].encode(s) for s in sentences]
        dev[lang] = [vocabs[lang].encode(s) for s in read_sentences(dev_files[lang])]
        log.info("%s: %d training sentences, %d dev, vocabulary %d", lang, len(corpora[lang]), len(dev[lang]),
                 len(vocabs[lang]))
    identical = {pair: identical_strings(vocabs[pair[0]], vocabs[pair[1]]) for pair in params.aligned_pairs(languages)}
    architecture = dict(config["architecture"])
    model = BiTransformerLM({lang: len(v) for lang, v in vocabs.items()}, **architecture)
    init_report = None
    if init == "muse":
        if not vectors:
            raise ValueError(f"LM variant {variant_name}: init muse needs each language's aligned vectors")
        init_report = initialise_from_vectors(model, vocabs, vectors, hub=config["hub"])
    model.to(device)
    history = train_lm(model, corpora, dev, params, seed=seed, identical=identical)
    model.to("cpu")
    record = {
        "variant": variant_name,
        "languages": list(languages),
        "seed": seed,
        "config": {"training": vars(params), "variant": variant, "vocab_size": config["vocab_size"],
                   "architecture": architecture},
        "identical_strings": {"-".join(p): len(ids[0]) for p, ids in identical.items()},
        "init": init_report,
        "history": history,
        "final_perplexity": history[-1]["perplexity"],
        "n_params": sum(p.numel() for p in model.parameters()),
        "train_seconds": round(time.perf_counter() - started, 1),
        "device": str(device),
        "threads": threads,
        "versions": package_versions(),
        "inputs": input_hashes([*train_files.values(), *dev_files.values(), *(vectors or {}).values()]),
    }
    return save_lm(weights_path, json_path, model, vocabs, architecture, record)
