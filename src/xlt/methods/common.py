"""What every transfer method shares: the run description, data loading, seeding, and the
two stages a run goes through, each writing files the next one reads:

- ``train_model``: train on the source, write the model artifact (``model.json`` + one
  safetensors checkpoint per evaluation point) under a path keyed by the run;
- ``evaluate_target``: per (run, target), rebuild the model from its artifact, select
  checkpoints, score the target's test set.

A method module exposes ``build(spec, train, source_dev) -> Tagger`` (a tagger trained from
data, with ``state()`` returning what rebuilds it: vocabularies, labels) and
``rebuild(spec, state) -> Tagger`` (the same model, untrained, from that state), so each
method holds only its model.
"""
from __future__ import annotations

import json
import logging
import os
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd
import torch

from xlt.atomic import atomic_path, atomic_write_json
from xlt.checkpoints import load_snapshot, restore, save_snapshot
from xlt.errors import ConfigError, InputError
from xlt.io.sentence import read_table
from xlt.optim import adam
from xlt.provenance import input_hashes, package_versions
from xlt.tagging import iob2_to_iobes, iobes_to_iob2
from xlt.training import DEFAULT_SELECTIONS, EvalSet, Tagger, best_checkpoint, fit, select_and_score

log = logging.getLogger("xlt.methods")


@dataclass(frozen=True)
class RunSpec:
    """One run = (task, source, method, setting, seed): what is trained, and with what.

    Training reads ``train`` and ``source_dev`` only; each target is scored by its own job
    (``evaluate_target``), which rebuilds the run from its model artifact.
    """

    plan: str
    task: str
    task_config: dict[str, Any]
    source: str
    method: str
    setting: str
    seed: int
    hparams: dict[str, Any]
    train: Path | None = None
    source_dev: Path | None = None
    threads: int = 1
    # The plan's sentence caps per split (train/dev/test -> first N sentences, None = all).
    max_sentences: dict[str, int | None] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)  # runtime only: mirror_dirs, prefer_gpu
    # Word-space methods (Bari's Cross-*): the target whose common space with the source the
    # model lives in, and how that space was made (xlt.plan.DIRECTIONS).
    space: str | None = None
    direction: str | None = None
    # Method-specific input files of the job, by rule input name: the source-side vectors
    # (training), the target-side vectors and the target's tables (evaluation).
    inputs: dict[str, Path] = field(default_factory=dict)
    # Evaluation side only: the target language being scored (None in training, which never
    # reads a target; a method whose target gets its own word table needs to know which).
    target: str | None = None

    @property
    def kind(self) -> str:
        return self.task_config["kind"]

    @classmethod
    def from_snakemake(cls, smk) -> "RunSpec":
        """Build from the ``snakemake`` object of a train_* rule (inputs train, source_dev)."""
        run = dict(smk.params.run)
        extra = {k: v for k, v in smk.params.items() if k != "run"}
        # Checkpoint folders are inputs for the DAG only (model.json names and hashes their files).
        inputs = {k: Path(v) for k, v in smk.input.items()
                  if k not in ("train", "source_dev") and not k.endswith("checkpoints")}
        return cls(
            plan=run["plan"], task=run["task"], task_config=dict(run["task_config"]),
            source=run["source"], method=run["method"], setting=run["setting"],
            seed=int(run["seed"]), hparams=dict(run["hparams"]),
            train=Path(smk.input.train), source_dev=Path(smk.input.source_dev),
            threads=int(smk.threads), max_sentences=dict(run.get("max_sentences", {})), extra=extra,
            space=run.get("space"), direction=run.get("direction"), inputs=inputs,
        )

    @classmethod
    def from_manifest(cls, manifest: dict[str, Any], threads: int = 1, extra: dict[str, Any] | None = None,
                      inputs: dict[str, str | Path] | None = None, target: str | None = None,
                      eval_hparams: dict[str, Any] | None = None) -> "RunSpec":
        """The run a model artifact was trained as (``model.json``), for evaluating it on
        ``target``; ``inputs`` are the evaluation job's own input files, ``eval_hparams`` the
        evaluation-only parameters (xlt.plan.EVAL_ONLY_PARAMS: Meta-NER's adaptation lr)."""
        return cls(
            plan=manifest["plan"], task=manifest["task"], task_config=dict(manifest["config"]["task"]),
            source=manifest["source"], method=manifest["method"], setting=manifest["setting"],
            seed=int(manifest["seed"]), hparams={**manifest["config"]["hparams"], **(eval_hparams or {})},
            threads=threads,
            max_sentences=dict(manifest["config"]["max_sentences"]), extra=dict(extra or {}),
            space=manifest.get("space"), direction=manifest.get("direction"),
            inputs={k: Path(v) for k, v in (inputs or {}).items()}, target=target,
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
        return torch.optim.SGD(parameters, lr=float(hparams["lr"]), momentum=float(hparams.get("momentum", 0.0)),
                               weight_decay=float(hparams.get("weight_decay", 0.0)))
    if name == "adam":  # weight_decay: L2 added to the gradient (van der Heijden: lambda 1e-3)
        return adam(parameters, lr=float(hparams["lr"]), weight_decay=float(hparams.get("weight_decay", 0.0)))
    raise ValueError(f"unknown optimizer {name!r} (sgd or adam)")


def optimizer_step(optimizer: torch.optim.Optimizer, model: torch.nn.Module, loss: torch.Tensor,
                   clip: float | None) -> float:
    """One update: gradients of ``loss``, norm clipped to ``clip`` (Bari et al.: 5.0; None:
    no clipping), step."""
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if clip is not None:
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
    optimizer.step()
    return loss.item()


def seed_everything(seed: int, threads: int) -> None:
    """Same config + same seed => same numbers on CPU."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(max(1, threads))
    use_deterministic_algorithms()
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")


def use_deterministic_algorithms() -> None:
    """``torch.use_deterministic_algorithms(True, warn_only=True)`` without its import of
    TorchInductor. The public function also sets ``torch._inductor.config.deterministic``, and
    importing that module pulls in TorchDynamo and SymPy: 1.5 s of every training and
    evaluation job (measured: a Transformer-CRF evaluation took 3.0 s of work, 1.5 s of it this
    import; ~650 model jobs in the default plan). No job here compiles with Inductor; a
    process that has imported it (``torch.compile``) gets the public call, flag included."""
    if "torch._inductor" in sys.modules:
        torch.use_deterministic_algorithms(True, warn_only=True)
    else:
        torch._C._set_deterministic_algorithms(True, warn_only=True)


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


def load_eval_set(path: Path, lang: str, split: str, limit: int | None) -> EvalSet:
    tokens, tags, ids = load_sentences(path, limit)
    return EvalSet(lang, split, tokens, tags, ids)


MODEL_FILE = "model.json"
CHECKPOINT_DIR = "checkpoints"


def train_model(spec: RunSpec, build: Callable[[RunSpec, tuple, tuple], Tagger],
                model_dir: str | Path) -> dict[str, Any]:
    """Train one run and write its model artifact to ``model_dir``: ``model.json`` (all that
    rebuilds the model, the trace, provenance) and ``checkpoints/<name>.safetensors`` (the
    trainable weights at each evaluation point). Both appear complete or not at all."""
    started = time.perf_counter()
    model_dir = Path(model_dir)
    seed_everything(spec.seed, spec.threads)
    train = load_sentences(spec.train, spec.max_sentences.get("train"))
    source_dev = load_eval_set(spec.source_dev, spec.source, "dev", spec.max_sentences.get("dev"))
    log.info("%s/%s task=%s source=%s seed=%d%s: %d train sentences", spec.method, spec.setting,
             spec.task, spec.source, spec.seed, f" space={spec.space} ({spec.direction})" if spec.space else "",
             len(train[0]))
    tagger = build(spec, train, (source_dev.tokens, source_dev.tags, source_dev.sentence_ids))
    dtype = str(spec.hparams.get("checkpoint_dtype", "float32"))
    eval_every = spec.hparams.get("eval_every")
    hashes: dict[str, str] = {}
    with atomic_path(model_dir / CHECKPOINT_DIR) as tmp:
        tmp.mkdir()

        def save(name: str, weights) -> None:
            hashes[name] = save_snapshot(tmp / f"{name}.safetensors", weights, dtype)

        patience = spec.hparams.get("patience")
        trace = fit(tagger, kind=spec.kind, source_dev=source_dev, epochs=int(spec.hparams["epochs"]),
                    eval_every=eval_every if eval_every in (None, "end") else int(eval_every), save=save,
                    patience=None if patience is None else int(patience),
                    stopping=str(spec.hparams.get("stopping", "since_best")))
    for entry in trace:
        entry["file"] = f"{CHECKPOINT_DIR}/{entry['checkpoint']}.safetensors"
        entry["sha256"] = hashes[entry["checkpoint"]]
    manifest = {
        "plan": spec.plan, "task": spec.task, "kind": spec.kind, "source": spec.source,
        "method": spec.method, "setting": spec.setting, "seed": spec.seed,
        **({"space": spec.space, "direction": spec.direction} if spec.space else {}),
        "state": tagger.state(),
        "trace": trace,
        "checkpoint_dtype": dtype,
        "n_params": int(tagger.n_params),
        "n_params_excl_word_embeddings": int(tagger.n_params_excl_word_embeddings),
        # What a method decided while training (Cross-Augmented: its base run, each round's draw).
        # (a method with nothing to record this run returns an empty log: left out)
        **({"method_log": decided} if (decided := getattr(tagger, "method_log", dict)()) else {}),
        "config": {"task": spec.task_config, "hparams": spec.hparams, "max_sentences": spec.max_sentences},
        "versions": package_versions(),
        "inputs": input_hashes([spec.train, spec.source_dev, *spec.inputs.values()]),
        "device": str(getattr(tagger, "device", "cpu")),
        "threads": spec.threads,
        "wall_seconds": round(time.perf_counter() - started, 2),
    }
    atomic_write_json(model_dir / MODEL_FILE, manifest)
    log.info("model written to %s in %.1fs", model_dir, manifest["wall_seconds"])
    return manifest


def read_manifest(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise InputError(path, getattr(err, "lineno", None), f"not a readable model manifest: {err}") from err
    missing = [k for k in ("method", "state", "trace", "config", "seed") if k not in manifest]
    if missing:
        raise InputError(path, None, f"model manifest lacks {missing}")
    return manifest


#: Hyperparameters a model that starts from another run's weights must share with it: the
#: checkpoints hold the trainable weights of that architecture only.
SHARED_ARCHITECTURE = ("encoder", "encoder_layers", "freeze_embeddings", "freeze_layers")


def load_start_weights(model_json: str | Path, tagger: Tagger, spec: "RunSpec", selection: str = "last") -> str:
    """Put the weights of another trained run (``model.json``) into ``tagger``, which must
    predict the same labels over the same architecture: its ``last`` checkpoint, or the
    ``src_dev`` one (best source-dev score, which reads no target label). Returns the
    checkpoint's name. UniTrans' teacher starts from Θ_src; Meta-NER's low-resource runs from
    the meta-learned or the base model."""
    model_json = Path(model_json)
    manifest = read_manifest(model_json)
    if manifest["state"]["labels"] != tagger.labels.to_dict():
        raise ConfigError(f"{spec.method}/{spec.setting}: {model_json} predicts other labels than this run")
    trained = manifest["config"]["hparams"]
    differ = [k for k in SHARED_ARCHITECTURE if trained.get(k) != spec.hparams.get(k)]
    if differ:
        raise ConfigError(f"{spec.method}/{spec.setting}: starts from {model_json}, whose "
                          + ", ".join(f"{k} {trained.get(k)!r} (here {spec.hparams.get(k)!r})" for k in differ))
    trace = manifest["trace"]
    if selection == "last":
        entry = trace[-1]
    elif selection == "src_dev":
        name = best_checkpoint([(e["checkpoint"], e["scores"][f"{manifest['source']}.dev"]) for e in trace])
        entry = next(e for e in trace if e["checkpoint"] == name)
    else:
        raise ConfigError(f"{spec.method}/{spec.setting}: start selection must be last or src_dev, got {selection!r}")
    checkpoint = model_json.parent / entry["file"]
    restore(tagger.model, load_snapshot(checkpoint, entry["sha256"]), source=str(checkpoint))
    log.info("starts from %s (checkpoint %s, %s)", model_json, entry["checkpoint"], selection)
    return entry["checkpoint"]


def load_model(model_json: str | Path, rebuild: Callable[[RunSpec, dict], Tagger], *, threads: int = 1,
               extra: dict[str, Any] | None = None, inputs: dict[str, str | Path] | None = None,
               target: str | None = None, eval_hparams: dict[str, Any] | None = None,
               ) -> tuple[RunSpec, dict[str, Any], Tagger, Callable[[str], None]]:
    """Rebuild a trained model from its artifact: (spec, manifest, tagger, load(checkpoint)).
    ``inputs`` (the evaluation job's files) and ``target`` reach ``rebuild`` in the spec. A
    tagger with ``adapt_checkpoint`` sees each checkpoint first (a target with its own word
    table drops the trained one)."""
    model_json = Path(model_json)
    manifest = read_manifest(model_json)
    spec = RunSpec.from_manifest(manifest, threads=threads, extra=extra, inputs=inputs, target=target,
                                 eval_hparams=eval_hparams)
    seed_everything(spec.seed, spec.threads)
    tagger = rebuild(spec, manifest["state"])
    entries = {entry["checkpoint"]: entry for entry in manifest["trace"]}

    def load(name: str) -> None:
        entry = entries[name]
        path = model_json.parent / entry["file"]
        weights = load_snapshot(path, entry["sha256"])
        if hasattr(tagger, "adapt_checkpoint"):
            weights = tagger.adapt_checkpoint(weights)
        restore(tagger.model, weights, source=str(path))

    return spec, manifest, tagger, load


def evaluate_target(
    model_json: str | Path,
    rebuild: Callable[[RunSpec, dict], Tagger],
    target: str,
    test_path: str | Path,
    dev_path: str | Path | None,
    metrics_path: str | Path,
    predictions_path: str | Path,
    *,
    selections: Sequence[str] = DEFAULT_SELECTIONS,
    max_sentences: dict[str, int | None] | None = None,
    threads: int = 1,
    extra: dict[str, Any] | None = None,
    inputs: dict[str, str | Path] | None = None,
    hparams: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Score one target with a saved model: pick a checkpoint per selection criterion (target
    dev scored at every checkpoint), score the test set, write metrics and predictions.
    ``max_sentences`` caps the target's dev/test tables (the plan's caps); ``inputs`` are
    method-specific files (a word-space method's target vectors); ``hparams`` the method's
    evaluation-only parameters (never part of the trained model, so changing one never retrains)."""
    started = time.perf_counter()
    inputs = {**(inputs or {}), "test": test_path, **({"dev": dev_path} if dev_path else {})}
    spec, manifest, tagger, load = load_model(model_json, rebuild, threads=threads, extra=extra, inputs=inputs,
                                              target=target, eval_hparams=hparams)
    caps = dict(max_sentences or {})
    test = load_eval_set(Path(test_path), target, "test", caps.get("test"))
    dev = None if dev_path is None else load_eval_set(Path(dev_path), target, "dev", caps.get("dev"))
    results, predictions, dev_scores = select_and_score(
        tagger, kind=spec.kind, source=spec.source, trace=manifest["trace"], load=load, test=test,
        dev=dev, selections=selections,
    )
    checkpoint_files = [Path(model_json).parent / e["file"] for e in manifest["trace"]]
    metrics = {
        "plan": spec.plan, "task": spec.task, "kind": spec.kind, "source": spec.source,
        "method": spec.method, "setting": spec.setting, "seed": spec.seed, "target": target,
        **({"space": spec.space, "direction": spec.direction} if spec.space else {}),
        "results": results,
        "target_dev_scores": dev_scores,
        "n_params": manifest["n_params_excl_word_embeddings"],
        "n_params_total": manifest["n_params"],
        "trace": manifest["trace"],
        "config": {**manifest["config"], "selections": list(selections), "eval_max_sentences": caps,
                   "eval_hparams": dict(hparams or {})},
        "versions": package_versions(),
        # The model artifact's manifest and the checkpoints it holds are inputs like the data.
        "artifacts": {"model": str(model_json), "training_inputs": manifest["inputs"],
                      "training_versions": manifest["versions"]},
        "inputs": input_hashes([model_json, *spec.inputs.values()]),
        "checkpoints": {str(p): e["sha256"] for p, e in zip(checkpoint_files, manifest["trace"])},
        "device": str(getattr(tagger, "device", "cpu")),
        "threads": threads,
        "wall_seconds": round(time.perf_counter() - started, 2),
        "train_wall_seconds": manifest["wall_seconds"],
    }
    with atomic_path(predictions_path) as tmp:
        pd.DataFrame(predictions).to_parquet(tmp, index=False)
    atomic_write_json(metrics_path, metrics)
    log.info("%s: %s", target, ", ".join(f"{r['selection']} {r['checkpoint']}" for r in results))
    return metrics
