"""Model transfer with a multilingual encoder (Wu & Dredze 2019), as reimplemented by
UniTrans ("Model Transfer"), Meta-NER ("Base Model"), and used for the BERT rows of Bao et al.
and van der Heijden et al.

The encoder is fine-tuned on the source language with a linear head on first subwords
(embeddings and the bottom ``freeze_layers`` layers frozen), AdamW with linear warmup and
decay, and applied unchanged to every target. NER is decoded with a Viterbi over the
softmax outputs that forbids invalid BIO transitions (UniTrans' decoding); POS by argmax.
"""
from __future__ import annotations

import logging
import math
from typing import Sequence

import torch
from transformers import get_linear_schedule_with_warmup

from xlt.checkpoints import count_parameters
from xlt.device import pick_device
from xlt.encoders import resolve_encoder
from xlt.fetch import mirror_dirs
from xlt.methods.common import RunSpec, label_inventory
from xlt.methods.training_mix import mix_summary, mixed_training_data
from xlt.models.encoder_tagger import EncoderTagger
from xlt.optim import adam
from xlt.tagging import bio_allowed_transitions
from xlt.training import OnUpdate
from xlt.vocab import Vocab

log = logging.getLogger("xlt.methods.encoder_transfer")

# Hugging Face Trainer's default; the papers do not state one.
MAX_GRAD_NORM = 1.0
NO_DECAY = ("bias", "LayerNorm.weight", "LayerNorm.bias")


class EncoderTransferTagger:
    def __init__(self, spec: RunSpec, labels: Vocab) -> None:
        hp = spec.hparams
        self.spec, self.hp = spec, hp
        self.labels = labels
        self.decode = hp.get("ner_decode", "bio_viterbi") if spec.kind == "ner" else "argmax"
        self.allowed = bio_allowed_transitions(self.labels.symbols) if self.decode == "bio_viterbi" else None

        self.encoder = resolve_encoder(hp["encoder"], mirror_dirs({"mirror_dirs": spec.extra.get("mirror_dirs", [])}))
        self.device = pick_device(bool(spec.extra.get("prefer_gpu", True)))
        self.model = EncoderTagger(
            self.encoder,
            num_labels=len(self.labels),
            dropout=float(hp["dropout"]),
            freeze_embeddings=bool(hp["freeze_embeddings"]),
            freeze_layers=int(hp["freeze_layers"]),
            max_subwords=int(hp["max_subwords"]),
            context_subwords=int(hp["context_subwords"]),
            num_layers=None if hp["encoder_layers"] is None else int(hp["encoder_layers"]),
            autocast=hp.get("autocast"),
            fallback_language=hp.get("fallback_language"),
        ).to(self.device)
        # The language of sentences read without one (an encoder with language embeddings,
        # XLM, reads it): the source in training, the scored target in evaluation.
        self.model.language = spec.target or spec.source
        self.windows: list = []
        self.training_mix: dict[str, int] | None = None  # joint training: sentences per language

    @classmethod
    def from_training_data(cls, spec: RunSpec, train: tuple,
                           languages: Sequence[str] | None = None) -> EncoderTransferTagger:
        """A tagger ready to train on ``train`` (tokens, tags, ids); ``languages``: each
        sentence's (joint training), else the source's."""
        tokens, tags, _ = train
        tagger = cls(spec, Vocab.for_labels(label_inventory(spec, tags, "IOB2")))
        windows = tagger.model.windows(tokens, [tagger.labels.encode(t) for t in tags], languages)
        tagger.prepare_training(windows, len(tokens))
        return tagger

    def prepare_training(self, windows: list, n_sentences: int) -> None:
        """AdamW (no decay on biases and LayerNorm) with linear warmup and decay over the
        updates that ``windows`` make in the configured epochs."""
        hp = self.hp
        self.windows = windows
        trainable = [p for p in self.model.parameters() if p.requires_grad]
        self.optimizer = adam(self._groups(float(hp["weight_decay"])), decoupled=True, lr=float(hp["lr"]))
        steps = int(hp["epochs"]) * math.ceil(len(windows) / int(hp["batch_size"]))
        self.scheduler = get_linear_schedule_with_warmup(self.optimizer, int(float(hp["warmup"]) * steps), steps)
        log.info(
            "encoder %s on %s: %d labels, %d training windows from %d sentences, %d steps at lr %g, "
            "%d of %d parameters trainable (%d without the word embeddings)",
            self.encoder, self.device, len(self.labels), len(windows), n_sentences, steps, float(hp["lr"]),
            sum(p.numel() for p in trainable), self.n_params, self.n_params_excl_word_embeddings,
        )

    def _groups(self, weight_decay: float) -> list[dict]:
        """The trainable weights in two optimizer groups: ``weight_decay`` on all but biases
        and LayerNorm (no decay), as Hugging Face's and the papers' code."""
        named = [(n, p) for n, p in self.model.named_parameters() if p.requires_grad]
        return [{"params": [p for n, p in named if not n.endswith(NO_DECAY)], "weight_decay": weight_decay},
                {"params": [p for n, p in named if n.endswith(NO_DECAY)], "weight_decay": 0.0}]

    def batch_loss(self, batch) -> torch.Tensor:
        """Cross-entropy on the gold labels of the first subwords (a student overrides it)."""
        return self.model.loss(batch)

    def method_log(self) -> dict:
        """What the run's training recorded: its joint-training mix, if any."""
        return {"training_mix": self.training_mix} if self.training_mix else {}

    def state(self) -> dict:
        """What rebuilds this model besides its hyperparameters: the label vocabulary, and the
        encoder it was resolved to (frozen weights come back from there)."""
        return {"labels": self.labels.to_dict(), "encoder": str(self.encoder)}

    @property
    def n_params(self) -> int:
        return self.model.n_params

    @property
    def n_params_excl_word_embeddings(self) -> int:
        """Without the subword embedding matrix, the convention of the papers' counts."""
        return count_parameters(self.model, exclude=[self.model.encoder.get_input_embeddings()])

    def train_epoch(self, epoch: int, on_update: OnUpdate) -> float:
        self.model.train()
        total, n = 0.0, 0
        batches = self.model.batches(
            self.windows, int(self.hp["batch_size"]), shuffle=True, seed=self.spec.seed * 1000 + epoch
        )
        for batch in batches:
            loss = self.batch_loss(batch)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), MAX_GRAD_NORM)
            self.optimizer.step()
            self.scheduler.step()
            total += loss.item()
            n += 1
            on_update(loss.item())
            if n % 50 == 0:
                log.info("epoch %d step %d loss %.4f", epoch, n, total / n)
        return total / max(n, 1)

    def predict(self, sentences: Sequence[Sequence[str]]) -> list[list[str]]:
        ids = self.model.predict(
            sentences, int(self.hp["eval_batch_size"]), decode=self.decode, allowed=self.allowed
        )
        return [self.labels.decode(s) for s in ids]


def build(spec: RunSpec, train: tuple, source_dev: tuple) -> EncoderTransferTagger:
    # Joint training (train_mix): the mixed sentences are the training set, each read in its
    # own language by an encoder with language embeddings (XLM); others read them alike.
    tokens, tags, ids, langs = mixed_training_data(spec, train)
    tagger = EncoderTransferTagger.from_training_data(spec, (tokens, tags, ids), langs)
    if spec.hparams.get("train_mix") is not None:
        tagger.training_mix = mix_summary(langs)
    return tagger


def rebuild(spec: RunSpec, state: dict) -> EncoderTransferTagger:
    return EncoderTransferTagger(spec, Vocab.from_dict(state["labels"]))
