"""What every transfer method shares: the run description, data loading, seeding, outputs.

A method module exposes ``build(spec, train, source_dev, log) -> Tagger`` (see
``xlt.training.Tagger``); ``run_method`` does the rest, so each method holds only its model.
"""
from __future__ import annotations

import logging
import os
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
import torch

from xlt.atomic import atomic_path, atomic_write_json
from xlt.io.sentence import read_table
from xlt.provenance import input_hashes, package_versions
from xlt.tagging import iob2_to_iobes, iobes_to_iob2
from xlt.training import DEFAULT_SELECTIONS, EvalSet, Tagger, fit_and_select

log = logging.getLogger("xlt.methods")


@dataclass(frozen=True)
class RunSpec:
    """One run = (task, source, method, setting, seed); trained once, scored on every target."""

    plan: str
    task: str
    task_config: dict[str, Any]
    source: str
    targets: list[str]
    method: str
    setting: str
    seed: int
    hparams: dict[str, Any]
    train: Path
    source_dev: Path
    eval_files: dict[tuple[str, str], Path]  # (lang, split) -> canonical table
    threads: int = 1
    # The plan's sentence caps per split (train/dev/test -> first N sentences, None = all).
    max_sentences: dict[str, int | None] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. mirror_dirs, prefer_gpu

    @property
    def kind(self) -> str:
        return self.task_config["kind"]

    @classmethod
    def from_snakemake(cls, smk) -> "RunSpec":
        """Build from the ``snakemake`` object of a train_* rule (inputs named by run_inputs)."""
        run = dict(smk.params.run)
        inputs = dict(smk.input.items())
        eval_files = {}
        for name, path in inputs.items():
            if name in ("train", "source_dev"):
                continue
            lang, split = name.rsplit("_", 1)
            eval_files[(lang, split)] = Path(path)
        extra = {k: v for k, v in smk.params.items() if k != "run"}
        return cls(
            plan=run["plan"], task=run["task"], task_config=dict(run["task_config"]),
            source=run["source"], targets=list(run["targets"]), method=run["method"],
            setting=run["setting"], seed=int(run["seed"]), hparams=dict(run["hparams"]),
            train=Path(inputs["train"]), source_dev=Path(inputs["source_dev"]),
            eval_files=eval_files, threads=int(smk.threads),
            max_sentences=dict(run.get("max_sentences", {})), extra=extra,
        )


@dataclass(frozen=True)
class TrainingScheme:
    """Tags a model is trained on, and the way back to the IOB2 / POS tags that are scored.

    Bari et al. train in IOBES ("more expressive") and score in IOB2; POS tags pass through.
    """

    name: str

    def encode(self, tags: list[str]) -> list[str]:
        return iob2_to_iobes(tags) if self.name == "IOBES" else list(tags)

    def decode(self, tags: list[str]) -> list[str]:
        return iobes_to_iob2(tags) if self.name == "IOBES" else list(tags)


def to_training_scheme(kind: str, hparams: dict[str, Any]) -> TrainingScheme:
    if kind != "ner":
        return TrainingScheme("tags")
    name = str(hparams.get("train_scheme", "IOB2")).upper()
    if name not in ("IOB2", "IOBES"):
        raise ValueError(f"train_scheme must be IOB2 or IOBES, got {name!r}")
    return TrainingScheme(name)


def label_inventory(spec: "RunSpec", train_tags: list[list[str]], scheme: str) -> list[str]:
    """The label set, fixed by the task (not by what the training sample happens to hold) for
    NER, so that every run of a task predicts over the same labels. POS uses the tags seen in
    training: a tag absent there can never be learned anyway."""
    if spec.kind == "ner":
        prefixes = {"IOBES": "BIES", "IOB2": "BI"}.get(scheme, "BI")
        types = sorted(spec.task_config["labels"])
        return ["O"] + [f"{p}-{t}" for t in types for p in prefixes]
    return sorted({tag for sent in train_tags for tag in sent})


def make_optimizer(hparams: dict[str, Any], parameters) -> torch.optim.Optimizer:
    name = str(hparams.get("optimizer", "sgd")).lower()
    if name == "sgd":
        return torch.optim.SGD(parameters, lr=float(hparams["lr"]), momentum=float(hparams.get("momentum", 0.0)))
    if name == "adam":
        return torch.optim.Adam(parameters, lr=float(hparams["lr"]))
    raise ValueError(f"unknown optimizer {name!r} (sgd or adam)")


def seed_everything(seed: int, threads: int) -> None:
    """Same config + same seed => same numbers on CPU."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(max(1, threads))
    torch.use_deterministic_algorithms(True, warn_only=True)
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")


def load_sentences(path: Path, limit: int | None = None) -> tuple[list[list[str]], list[list[str]], list[str]]:
    """Tokens, tags and ids of a canonical table; ``limit`` keeps the first N sentences (the
    plan's cap: documents stay contiguous and every seed and method sees the same subset)."""
    df = read_table(path)
    if limit is not None:
        df = df.iloc[:limit]
    return (
        [list(t) for t in df["tokens"]],
        [list(t) for t in df["tags"]],
        [str(s) for s in df["sentence_id"]],
    )


def load_eval_sets(spec: RunSpec) -> list[EvalSet]:
    sets = {}
    files = dict(spec.eval_files)
    files.setdefault((spec.source, "dev"), spec.source_dev)
    for (lang, split), path in sorted(files.items()):
        tokens, tags, ids = load_sentences(path, spec.max_sentences.get(split))
        sets[(lang, split)] = EvalSet(lang, split, tokens, tags, ids)
    return list(sets.values())


def run_method(
    spec: RunSpec,
    build: Callable[[RunSpec, tuple, tuple], Tagger],
    metrics_path: str | Path,
    predictions_path: str | Path,
) -> dict[str, Any]:
    started = time.perf_counter()
    seed_everything(spec.seed, spec.threads)
    train = load_sentences(spec.train, spec.max_sentences.get("train"))
    source_dev = load_sentences(spec.source_dev, spec.max_sentences.get("dev"))
    log.info(
        "%s/%s task=%s source=%s seed=%d: %d train sentences, targets %s",
        spec.method, spec.setting, spec.task, spec.source, spec.seed, len(train[0]), ", ".join(spec.targets),
    )
    tagger = build(spec, train, source_dev)
    outcome = fit_and_select(
        tagger,
        kind=spec.kind,
        source=spec.source,
        epochs=int(spec.hparams["epochs"]),
        eval_sets=load_eval_sets(spec),
        selections=spec.hparams.get("selections", DEFAULT_SELECTIONS),
    )
    metrics = {
        "plan": spec.plan,
        "task": spec.task,
        "kind": spec.kind,
        "source": spec.source,
        "method": spec.method,
        "setting": spec.setting,
        "seed": spec.seed,
        "results": outcome.results,
        "n_params": int(getattr(tagger, "n_params", 0)),
        "trace": outcome.trace,
        "config": {"task": spec.task_config, "hparams": spec.hparams, "targets": spec.targets,
                   "max_sentences": spec.max_sentences},
        "versions": package_versions(),
        "inputs": input_hashes([spec.train, spec.source_dev, *spec.eval_files.values()]),
        "device": str(getattr(tagger, "device", "cpu")),
        "threads": spec.threads,
        "wall_seconds": round(time.perf_counter() - started, 2),
    }
    with atomic_path(predictions_path) as tmp:
        pd.DataFrame(outcome.predictions).to_parquet(tmp, index=False)
    atomic_write_json(metrics_path, metrics)
    log.info("done in %.1fs", metrics["wall_seconds"])
    return metrics
