"""Source-Mono (Bari et al. 2020, Tables 2–3): a BiLSTM-CRF trained on the source language
and applied unchanged to each target.

Word embeddings are random (no cross-lingual signal): target words are mostly unknown, so
what transfers is the shared character BiLSTM (setting ``char``) — the paper's point that
"the model only learns when character embeddings (shared) are used". Training follows the
paper's settings: SGD with ``lr = max(lr0 / (1 + decay * epoch), min_lr)``, gradient
clipping, IOBES tags for NER (decoded back to IOB2 for scoring).
"""
from __future__ import annotations

import logging
from typing import Sequence

import torch

from xlt.batching import bucket_batches, make_bilstm_batch
from xlt.checkpoints import count_parameters
from xlt.methods.common import RunSpec, label_inventory, make_optimizer, optimizer_step, to_training_scheme
from xlt.models.bilstm_crf import BiLSTMCRF
from xlt.training import OnUpdate
from xlt.vocab import Vocab

log = logging.getLogger("xlt.methods.source_mono")

PREDICT_BATCH = 256


def bari_learning_rate(hp: dict, epoch: int) -> float:
    """Bari et al.: ``lr = max(lr0 / (1 + decay * epoch), min_lr)``, epoch counted from 0
    (``epoch`` here counts from 1, as ``xlt.training.fit``)."""
    return max(float(hp["lr"]) / (1.0 + float(hp["lr_decay"]) * (epoch - 1)), float(hp["min_lr"]))


class BiLSTMCRFTagger:
    """The model plus its vocabularies and training schedule (an ``xlt.training.Tagger``)."""

    def __init__(self, spec: RunSpec, words: Vocab, chars: Vocab | None, labels: Vocab,
                 word_vectors: torch.Tensor | None = None) -> None:
        """``word_vectors``: fixed word embeddings, one row per word of ``words`` (frozen:
        Cross-Word's common space must stay shared with the target); else random, trained."""
        hp = spec.hparams
        self.spec, self.hp = spec, hp
        self.scheme = to_training_scheme(spec.kind, hp)
        self.words, self.chars, self.labels = words, chars, labels
        self.use_char = bool(hp["use_char"])
        if self.use_char != (chars is not None):
            raise ValueError("use_char needs a character vocabulary, and only then")
        self.device = torch.device("cpu")
        self.model = BiLSTMCRF(
            n_words=len(self.words),
            n_chars=len(self.chars) if self.chars else 1,
            n_tags=len(self.labels),
            word_dim=int(hp["word_dim"]),
            char_dim=int(hp["char_dim"]),
            char_hidden=int(hp["char_hidden"]),
            hidden=int(hp["hidden"]),
            dropout=float(hp["dropout"]),
            use_char=self.use_char,
            pretrained_words=word_vectors,
            freeze_words=word_vectors is not None,
            shared_lstm=bool(hp.get("shared_lstm", False)),
        )
        self.optimizer = make_optimizer(hp, [p for p in self.model.parameters() if p.requires_grad])
        self.train_ids: list[tuple] = []
        self.train_tag_ids: list[list[int]] = []

    @classmethod
    def word_table(cls, spec: RunSpec, tokens: list[list[str]],
                   source_dev: tuple) -> tuple[Vocab, torch.Tensor | None]:
        """The word vocabulary and, for fixed vectors, its rows (``None``: random, trained):
        here the training words. Cross-Word overrides it with vectors of a common space."""
        hp = spec.hparams
        return Vocab.build(tokens, min_count=int(hp["min_word_count"]), lowercase=bool(hp["lowercase"])), None

    @classmethod
    def from_training_data(cls, spec: RunSpec, train: tuple, source_dev: tuple) -> BiLSTMCRFTagger:
        """Vocabularies from the (length-filtered) training sentences, then the model."""
        hp = spec.hparams
        tokens, tags, _ = train
        keep = [i for i, sent in enumerate(tokens) if len(sent) <= int(hp["max_train_length"])]
        if len(keep) < len(tokens):
            log.info("dropped %d training sentences longer than %d words", len(tokens) - len(keep), hp["max_train_length"])
        tokens = [tokens[i] for i in keep]
        scheme = to_training_scheme(spec.kind, hp)
        train_tags = [scheme.encode(tags[i]) for i in keep]
        words, word_vectors = cls.word_table(spec, tokens, source_dev)
        chars = Vocab.build_chars(tokens) if bool(hp["use_char"]) else None
        labels = Vocab.for_labels(label_inventory(spec, train_tags, scheme.name))
        tagger = cls(spec, words, chars, labels, word_vectors=word_vectors)
        tagger.train_ids = [tagger._encode(sent) for sent in tokens]
        tagger.train_tag_ids = [labels.encode(t) for t in train_tags]
        log.info(
            "vocab %d words, %s chars, %d labels; %d parameters (%d without word embeddings)",
            len(words), len(chars) if chars else "no", len(labels), tagger.n_params,
            tagger.n_params_excl_word_embeddings,
        )
        return tagger

    def state(self) -> dict:
        """What rebuilds this model (with ``rebuild``): its vocabularies."""
        return {"words": self.words.to_dict(), "chars": self.chars.to_dict() if self.chars else None,
                "labels": self.labels.to_dict()}

    @property
    def n_params(self) -> int:
        return self.model.n_params

    @property
    def n_params_excl_word_embeddings(self) -> int:
        """The papers' count (Bari et al. Table 4): without the word embedding matrix."""
        return count_parameters(self.model, exclude=[self.model.word_embedding])

    def _encode(self, sentence: Sequence[str]) -> tuple[list[int], list[list[int]] | None]:
        words = self.words.encode(sentence)
        chars = [self.chars.encode(w) for w in sentence] if self.chars else None
        return words, chars

    def _batch(self, encoded: list[tuple], tag_ids: list[list[int]] | None = None):
        return make_bilstm_batch(
            [w for w, _ in encoded],
            [c for _, c in encoded] if self.use_char else None,
            tag_ids,
        )

    def train_epoch(self, epoch: int, on_update: OnUpdate) -> float:
        hp = self.hp
        for group in self.optimizer.param_groups:
            group["lr"] = bari_learning_rate(hp, epoch)
        self.model.train()
        batches = bucket_batches(
            [len(w) for w, _ in self.train_ids], int(hp["batch_size"]), shuffle=True,
            seed=self.spec.seed * 1000 + epoch,
        )
        total = 0.0
        for indices in batches:
            batch = self._batch([self.train_ids[i] for i in indices], [self.train_tag_ids[i] for i in indices])
            value = optimizer_step(self.optimizer, self.model, self.model.loss(batch), float(hp["clip"]))
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


def build(spec: RunSpec, train: tuple, source_dev: tuple) -> BiLSTMCRFTagger:
    return BiLSTMCRFTagger.from_training_data(spec, train, source_dev)


def rebuild(spec: RunSpec, state: dict) -> BiLSTMCRFTagger:
    chars = Vocab.from_dict(state["chars"]) if state["chars"] is not None else None
    return BiLSTMCRFTagger(spec, Vocab.from_dict(state["words"]), chars, Vocab.from_dict(state["labels"]))
