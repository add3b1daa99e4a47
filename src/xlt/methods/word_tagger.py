"""The training epoch and batched prediction every word-level tagger shares (the BiLSTM-CRF
of Bari's and Bao's methods, van der Heijden's Transformer-CRF): length-bucketed shuffled
batches, one optimizer update per batch, Viterbi decoding in large length-sorted batches.

A subclass holds ``model`` (with ``loss(batch)`` and ``decode(batch)``),
``spec``/``hp``, ``scheme`` and ``labels``, the encoded training data (``train_ids``: one
``(word ids, char ids or None)`` per sentence; ``train_tag_ids``), and defines ``_encode``
and ``_batch``; ``_start_epoch`` (per epoch) or ``_after_update`` (per update, e.g. the
1cycle policy) set a learning-rate schedule. The optimizer over the model's trainable
weights (``hp``'s optimizer, :func:`xlt.methods.common.make_optimizer`) is made on first use,
so an evaluation job, which never trains, never builds one: a torch optimizer's constructor
imports TorchDynamo on its first call, 1.5 s of a job that scores a test set in ~2 s.
"""
from __future__ import annotations

from functools import cached_property
from typing import Sequence

import torch

from xlt.batching import bucket_batches
from xlt.methods.common import RunSpec, label_inventory, make_optimizer, optimizer_step, to_training_scheme
from xlt.training import OnUpdate
from xlt.vocab import Vocab

PREDICT_BATCH = 256


def training_labels(spec: RunSpec, tags: Sequence[Sequence[str]]) -> tuple[list[list[str]], Vocab]:
    """The training tags in the run's training scheme (IOB2 / IOBES) and their label vocabulary."""
    scheme = to_training_scheme(spec.kind, spec.hparams)
    train_tags = [scheme.encode(t) for t in tags]
    return train_tags, Vocab.for_labels(label_inventory(spec, train_tags, scheme.name))


class WordTagger:
    @cached_property
    def optimizer(self) -> torch.optim.Optimizer:
        return make_optimizer(self.hp, [p for p in self.model.parameters() if p.requires_grad])

    def _start_epoch(self, epoch: int) -> None:
        """Called before each training epoch (a schedule sets the learning rate here)."""

    def _after_update(self) -> None:
        """Called after each optimizer update (a per-update schedule steps here)."""

    def _encode_in(self, lang: str, sentence: Sequence[str]) -> tuple:
        """A sentence of language ``lang`` encoded (a language-aware tagger overrides this;
        training of one language, the source, reads through ``_encode``)."""
        return self._encode(sentence)

    def _set_training_data(self, tokens: Sequence[Sequence[str]], tags: Sequence[Sequence[str]],
                           langs: Sequence[str] | None = None) -> None:
        """Encode the training sentences (each in its language, ``langs``, for a joint-training
        mix) and their (training-scheme) tags once."""
        self.train_ids = [self._encode(s) if langs is None else self._encode_in(lang, s)
                          for s, lang in zip(tokens, langs or [None] * len(tokens))]
        self.train_tag_ids = [self.labels.encode(t) for t in tags]

    def train_epoch(self, epoch: int, on_update: OnUpdate) -> float:
        self._start_epoch(epoch)
        self.model.train()
        batches = bucket_batches([len(w) for w, _ in self.train_ids], int(self.hp["batch_size"]), shuffle=True,
                                 seed=self.spec.seed * 1000 + epoch)
        clip = None if self.hp["clip"] is None else float(self.hp["clip"])  # null: no clipping
        total = 0.0
        for indices in batches:
            batch = self._batch([self.train_ids[i] for i in indices], [self.train_tag_ids[i] for i in indices])
            value = optimizer_step(self.optimizer, self.model, self.model.loss(batch), clip)
            self._after_update()
            total += value
            on_update(value)
        return total / max(len(batches), 1)

    def predict(self, sentences: Sequence[Sequence[str]]) -> list[list[str]]:
        self.model.eval()
        encoded = [self._encode(s) for s in sentences]
        out: list[list[str]] = [[] for _ in sentences]
        with torch.inference_mode():
            for indices in bucket_batches([len(s) for s in sentences], PREDICT_BATCH, shuffle=False, chunk_batches=None):
                for i, ids in zip(indices, self.model.decode(self._batch([encoded[j] for j in indices]))):
                    out[i] = self.scheme.decode(self.labels.decode(ids))
        return out
