"""Low-resource cross-lingual NER (Wu et al. 2020, Meta-NER Table 6): a model trained on the
source language, fine-tuned on a seeded random sample (``target_fraction``: 1 %, 2 %, 5 %) of
one target's labelled training sentences, then scored on that target's test set.

"For the adaptation phase, we directly use the entire subsets to fine-tune the meta-learned
model" (the paper); the Base Model row fine-tunes the base model on the same subset. The
public code (``k_shot`` in microsoft/vert-papers, papers/Meta-Cross/main.py; scripts/run.sh)
draws the subset from the whole training set and makes ``epochs`` (10) passes over it in
batches of 32, each batch one step of a new Adam at lr 1e-5 (its inner update), with plain
cross-entropy (lambda 0, no masking): ``fresh_optimizer: true``, the optimizer being
``inner_optimizer`` (AdamW with weight decay on all but biases and LayerNorm, or the code's
BertAdam: xlt.optim). The starting run is the
``start_from`` run of the same task, source and seed, at its ``start_selection`` checkpoint.

Two method names share this module (``encoder_lowres``, ``metaner_lowres``: the rows of
Table 6); the workflow trains one model per target (``per_target``) and hands in the target's
training table as the run's training data (``train_data: target``) and the starting run's
``model.json`` as ``base_model``.
"""
from __future__ import annotations

import logging

import torch

from xlt.errors import ConfigError
from xlt.methods.common import RunSpec, label_inventory, load_start_weights
from xlt.methods.encoder_transfer import MAX_GRAD_NORM, EncoderTransferTagger, rebuild  # noqa: F401  (rebuild: same model)
from xlt.methods.training_mix import sample_indices
from xlt.optim import make_inner_optimizer
from xlt.training import OnUpdate
from xlt.vocab import Vocab

log = logging.getLogger("xlt.methods.target_finetune")


class TargetFinetuneTagger(EncoderTransferTagger):
    """The encoder tagger, fine-tuned from another run's weights; with ``fresh_optimizer``
    every batch is one step of a new Adam (the public code's k-shot fine-tuning)."""

    def train_epoch(self, epoch: int, on_update: OnUpdate) -> float:
        if not self.hp.get("fresh_optimizer"):
            return super().train_epoch(epoch, on_update)
        self.model.train()
        total, n = 0.0, 0
        for batch in self.model.batches(self.windows, int(self.hp["batch_size"]), shuffle=True,
                                        seed=self.spec.seed * 1000 + epoch):
            optimizer = make_inner_optimizer(str(self.hp.get("inner_optimizer", "adamw")),
                                             self._groups(float(self.hp["weight_decay"])), float(self.hp["lr"]))
            loss = self.batch_loss(batch)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), MAX_GRAD_NORM)
            optimizer.step()
            total += loss.item()
            n += 1
            on_update(loss.item())
        return total / max(n, 1)

    def method_log(self) -> dict:
        return dict(self.started)


def build(spec: RunSpec, train: tuple, source_dev: tuple) -> TargetFinetuneTagger:
    """``train`` is the target's whole training table (the workflow's ``train_data: target``)."""
    if spec.space is None:
        raise ConfigError(f"{spec.method}: fine-tunes one model per target; set methods.{spec.method}.per_target")
    if "base_model" not in spec.inputs:
        raise ConfigError(f"{spec.method}: the job lacks its input 'base_model' (params start_from)")
    tokens, tags, ids = train
    chosen = sample_indices(len(tokens), float(spec.hparams["target_fraction"]), spec.seed)
    tagger = TargetFinetuneTagger(spec, Vocab.for_labels(label_inventory(spec, tags, "IOB2")))
    checkpoint = load_start_weights(spec.inputs["base_model"], tagger, spec,
                                    str(spec.hparams.get("start_selection", "src_dev")))
    sample_tokens, sample_tags = [tokens[i] for i in chosen], [tags[i] for i in chosen]
    tagger.prepare_training(tagger.model.windows(sample_tokens, [tagger.labels.encode(t) for t in sample_tags]),
                            len(chosen))
    tagger.started = {"base_model": str(spec.inputs["base_model"]), "checkpoint": checkpoint,
                      "target_sentences": len(chosen), "of": len(tokens), "sentence_ids": [ids[i] for i in chosen]}
    log.info("%s/%s on %s: %d of %d training sentences (%.1f %%), from %s at %s", spec.method, spec.setting,
             spec.space, len(chosen), len(tokens), 100 * len(chosen) / max(len(tokens), 1),
             spec.inputs["base_model"], checkpoint)
    return tagger
