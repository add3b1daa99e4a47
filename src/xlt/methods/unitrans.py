"""UniTrans (Wu et al. 2020): model transfer and data transfer unified by a teacher, and
knowledge distillation on the target's unlabeled sentences. One model per target.

Every model is the base model of ``encoder_transfer`` (encoder, linear head on first
subwords, BIO-constrained Viterbi at inference); the settings differ in what it learns from
(``stage``):

- ``teacher`` (setting ``no_unlabeled``, Θ_teach, Table 3 row 5): Θ_src, the model-transfer
  run of the same seed (its last checkpoint, as UniTrans uses no dev set), fine-tuned on the
  translated training set;
- ``combination`` (``data_combination``, row 8): one model trained from the pretrained
  encoder on the source training set and the translated one together;
- ``student`` (``default``, ablations 1-4, ``ensemble``): trained from the pretrained
  encoder on the target's unlabeled sentences alone, with the soft labels of
  ``soft_teacher`` (Eq. 9) and, weighted by ``eta``, the hard labels the ``voters`` agree on
  (Eqs. 10-12). The teachers' probabilities are files (rule ``teacher_probs``), computed
  once per (teacher, seed, target); ``ensemble: true`` averages each teacher over the seeds
  ``teacher_seeds`` names, else the experiment's (Eq. 14), for both. The unlabeled sentences come from a table without tags
  (``xlt.io.sentence.write_unlabeled_table``): no gold target tag reaches a student.

The workflow hands each stage its files by input name: ``source_model`` (Θ_src's
``model.json``), ``translated`` (combination), ``unlabeled`` and ``probs_<teacher>_seed<n>``
(student).
"""
from __future__ import annotations

import importlib
import logging
from pathlib import Path

import torch

from xlt.errors import ConfigError
from xlt.io.sentence import read_unlabeled_table
from xlt.methods.common import (RunSpec, label_inventory, load_model, load_sentences, load_start_weights,
                                read_manifest)
from xlt.methods.distillation import distillation_loss, ensemble, load_teacher_probs, save_teacher_probs, vote
from xlt.methods.encoder_transfer import EncoderTransferTagger, rebuild  # noqa: F401  (rebuild: same model)
from xlt.methods.unitrans_stages import probs_key, stage, student_teachers  # noqa: F401  (probs_key: API)
from xlt.models.subword import IGNORE_INDEX
from xlt.vocab import Vocab

log = logging.getLogger("xlt.methods.unitrans")

def _require(spec: RunSpec, key: str) -> Path:
    if key not in spec.inputs:
        raise ConfigError(f"unitrans/{spec.setting}: the job lacks its input {key!r} (workflow/rules/unitrans.smk)")
    return Path(spec.inputs[key])


def _source_model_weights(spec: RunSpec, tagger: EncoderTransferTagger) -> None:
    """Θ_src's last checkpoint into ``tagger`` (same encoder and labels, or a clear error)."""
    load_start_weights(_require(spec, "source_model"), tagger, spec, "last")


class StudentTagger(EncoderTransferTagger):
    """The student: windows whose "labels" are indices of words into the teachers' arrays,
    so the soft targets and hard labels of a batch are gathered by word."""

    def set_targets(self, soft: torch.Tensor | None, hard: torch.Tensor | None, mask: torch.Tensor | None,
                    eta: float) -> None:
        device = self.device
        self.soft = None if soft is None else soft.to(device)
        self.hard = None if hard is None else hard.to(device)
        self.mask = None if mask is None else mask.to(device)
        self.eta = eta

    def method_log(self) -> dict:
        """Recorded in model.json: which teachers, seeds and how many words were voted."""
        return self.teachers

    def batch_loss(self, batch) -> torch.Tensor:
        logits = self.model(batch)
        index = batch.labels
        active = index != IGNORE_INDEX
        words = index[active]
        return distillation_loss(
            logits[active],
            None if self.soft is None else self.soft[words],
            None if self.hard is None else self.hard[words],
            None if self.mask is None else self.mask[words],
            self.eta,
        )


def teacher_seeds(spec: RunSpec) -> list[int]:
    """The seeds whose teachers a student learns from: its own, or (``ensemble: true``, Eq. 14)
    those of the ensemble (xlt.plan.Plan.ensemble_seeds), as the workflow's
    ``probs_<teacher>_seed<n>`` inputs say."""
    found = sorted({int(key.rpartition("_seed")[2]) for key in spec.inputs if key.startswith("probs_")})
    if not spec.hparams.get("ensemble"):
        return [spec.seed]
    if not found:
        raise ConfigError(f"unitrans/{spec.setting}: an ensemble student received no teacher probabilities")
    return found


def _student(spec: RunSpec) -> StudentTagger:
    hp = spec.hparams
    soft_name, voters = student_teachers(hp)
    eta = float(hp.get("eta", 0.0)) if voters else 0.0
    tokens, ids = read_unlabeled_table(_require(spec, "unlabeled"), spec.max_sentences.get("train"))
    tagger = StudentTagger(spec, Vocab.for_labels(_labels(spec)))
    lengths = [len(t) for t in tokens]
    seeds = teacher_seeds(spec)

    def teacher(name: str) -> torch.Tensor:
        runs = [load_teacher_probs(_require(spec, probs_key(name, s)), ids, lengths, tagger.labels.symbols)
                for s in seeds]
        return ensemble(runs)

    needed = {name: teacher(name) for name in dict.fromkeys([*([soft_name] if soft_name else []), *voters])}
    soft = needed[soft_name] if soft_name else None
    hard = mask = None
    if voters and eta:
        hard, mask = vote([needed[name] for name in voters])
        log.info("voting %s over %d words: %d (%.1f %%) get a hard label", "/".join(voters), len(mask),
                 int(mask.sum()), 100.0 * float(mask.float().mean()) if len(mask) else 0.0)
    tagger.set_targets(soft, hard, mask, eta)
    offsets = torch.tensor([0, *lengths]).cumsum(0).tolist()
    word_index = [list(range(offsets[i], offsets[i] + n)) for i, n in enumerate(lengths)]
    tagger.prepare_training(tagger.model.windows(tokens, word_index), len(tokens))
    tagger.teachers = {"soft": soft_name, "voters": voters, "eta": eta, "seeds": seeds,
                       "hard_labelled_words": None if mask is None else int(mask.sum()), "words": sum(lengths)}
    return tagger


def _labels(spec: RunSpec) -> list[str]:
    if spec.kind != "ner":
        raise ConfigError("unitrans is a NER method (its decoding and voting assume BIO labels)")
    return label_inventory(spec, [], "IOB2")


def build(spec: RunSpec, train: tuple, source_dev: tuple) -> EncoderTransferTagger:
    """``train`` is what the workflow gives the stage as its training set: the translated one
    (teacher), the source's (combination, which adds the translated set; student, which does
    not read it: it learns from the unlabeled target sentences alone)."""
    if spec.space is None:
        raise ConfigError("unitrans trains one model per target; set methods.unitrans.per_target")
    which = stage(spec.hparams)
    if which == "teacher":
        tagger = EncoderTransferTagger(spec, Vocab.for_labels(_labels(spec)))
        _source_model_weights(spec, tagger)
        tokens, tags, _ = train
        tagger.prepare_training(tagger.model.windows(tokens, [tagger.labels.encode(t) for t in tags]), len(tokens))
        return tagger
    if which == "combination":
        tokens, tags, _ = train
        more_tokens, more_tags, _ = load_sentences(_require(spec, "translated"), spec.max_sentences.get("train"))
        return EncoderTransferTagger.from_training_data(spec, (tokens + more_tokens, tags + more_tags, None))
    return _student(spec)


def write_teacher_probs(model_json: str | Path, unlabeled: str | Path, output: str | Path, *,
                        limit: int | None, threads: int = 1, extra: dict | None = None) -> dict:
    """A teacher's label distributions over a target's unlabeled sentences (its last
    checkpoint, dropout off), one row per word: the file every student reading this teacher
    shares (``xlt.methods.distillation.save_teacher_probs``)."""
    manifest = read_manifest(model_json)
    module = importlib.import_module(f"xlt.methods.{manifest['method']}")
    spec, manifest, tagger, load = load_model(model_json, module.rebuild, threads=threads, extra=extra)
    if not isinstance(tagger, EncoderTransferTagger):
        raise ConfigError(f"{model_json}: a {manifest['method']} model cannot be a UniTrans teacher")
    last = manifest["trace"][-1]["checkpoint"]
    load(last)
    tokens, ids = read_unlabeled_table(unlabeled, limit)
    probs = [scores.exp() for scores in tagger.model.log_probs(tokens, int(spec.hparams["eval_batch_size"]))]
    about = {"model": str(model_json), "method": manifest["method"], "setting": manifest["setting"],
             "seed": manifest["seed"], "space": manifest.get("space"), "checkpoint": last,
             "unlabeled": str(unlabeled), "sentences": len(tokens)}
    save_teacher_probs(output, probs, ids, tagger.labels.symbols, about)
    return about
