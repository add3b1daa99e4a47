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

from xlt.device import pick_device
from xlt.encoders import resolve_encoder
from xlt.fetch import mirror_dirs
from xlt.methods.common import RunSpec, label_inventory
from xlt.models.encoder_tagger import EncoderTagger
from xlt.tagging import bio_allowed_transitions
from xlt.vocab import Vocab

log = logging.getLogger("xlt.methods.encoder_transfer")

# Hugging Face Trainer's default; the papers do not state one.
MAX_GRAD_NORM = 1.0
NO_DECAY = ("bias", "LayerNorm.weight", "LayerNorm.bias")


class EncoderTransferTagger:
    def __init__(self, spec: RunSpec, train: tuple, source_dev: tuple) -> None:
        hp = spec.hparams
        self.spec, self.hp = spec, hp
        tokens, tags, _ = train
        self.labels = Vocab.for_labels(label_inventory(spec, tags, "IOB2"))
        self.decode = hp.get("ner_decode", "bio_viterbi") if spec.kind == "ner" else "argmax"
        self.allowed = bio_allowed_transitions(self.labels.symbols) if self.decode == "bio_viterbi" else None

        encoder = resolve_encoder(hp["encoder"], mirror_dirs({"mirror_dirs": spec.extra.get("mirror_dirs", [])}))
        self.device = pick_device(bool(spec.extra.get("prefer_gpu", True)))
        self.model = EncoderTagger(
            encoder,
            num_labels=len(self.labels),
            dropout=float(hp["dropout"]),
            freeze_embeddings=bool(hp["freeze_embeddings"]),
            freeze_layers=int(hp["freeze_layers"]),
            max_subwords=int(hp["max_subwords"]),
            context_subwords=int(hp["context_subwords"]),
        ).to(self.device)
        self.windows = self.model.windows(tokens, [self.labels.encode(t) for t in tags])

        trainable = [(n, p) for n, p in self.model.named_parameters() if p.requires_grad]
        groups = [
            {"params": [p for n, p in trainable if not n.endswith(NO_DECAY)], "weight_decay": float(hp["weight_decay"])},
            {"params": [p for n, p in trainable if n.endswith(NO_DECAY)], "weight_decay": 0.0},
        ]
        self.optimizer = torch.optim.AdamW(groups, lr=float(hp["lr"]))
        steps = int(hp["epochs"]) * math.ceil(len(self.windows) / int(hp["batch_size"]))
        self.scheduler = get_linear_schedule_with_warmup(
            self.optimizer, int(float(hp["warmup"]) * steps), steps
        )
        log.info(
            "encoder %s on %s: %d labels, %d training windows from %d sentences, %d steps, "
            "%d of %d parameters trainable",
            encoder, self.device, len(self.labels), len(self.windows), len(tokens), steps,
            sum(p.numel() for _, p in trainable), self.n_params,
        )

    @property
    def n_params(self) -> int:
        return self.model.n_params

    def train_epoch(self, epoch: int) -> float:
        self.model.train()
        total, n = 0.0, 0
        batches = self.model.batches(
            self.windows, int(self.hp["batch_size"]), shuffle=True, seed=self.spec.seed * 1000 + epoch
        )
        for batch in batches:
            loss = self.model.loss(batch)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), MAX_GRAD_NORM)
            self.optimizer.step()
            self.scheduler.step()
            total += loss.item()
            n += 1
            if n % 50 == 0:
                log.info("epoch %d step %d loss %.4f", epoch, n, total / n)
        return total / max(n, 1)

    def predict(self, sentences: Sequence[Sequence[str]]) -> list[list[str]]:
        ids = self.model.predict(
            sentences, int(self.hp["eval_batch_size"]), decode=self.decode, allowed=self.allowed
        )
        return [self.labels.decode(s) for s in ids]


def build(spec: RunSpec, train: tuple, source_dev: tuple) -> EncoderTransferTagger:
    return EncoderTransferTagger(spec, train, source_dev)
