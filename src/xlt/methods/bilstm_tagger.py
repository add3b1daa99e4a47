"""The BiLSTM-CRF tagger every Bari et al. (2020) method trains (Source-Mono, Cross-Word,
Cross-Shared, and Cross-Augmented's source side): the model, its vocabularies and its training
schedule, as an ``xlt.training.Tagger``.

Training follows the paper's settings: SGD with ``lr = max(lr0 / (1 + decay * epoch),
min_lr)``, gradient clipping, IOBES tags for NER (decoded back to IOB2 for scoring).

Word embeddings come in two kinds:

- *trained* (:class:`BiLSTMCRFTagger`): a random table over the training words, trained with
  the model. Applied to another language, the target gets its own random table
  (:func:`random_target_table`): Bari's Source-Mono "random word-emb" gives the target its own
  embeddings, so no target word (a name, a number, a cognate) reads a trained English vector;
- *fixed* (:class:`FixedVectorsTagger`): frozen rows of a word-vector file, the language's
  own vectors (Source-Mono "mono-lingual word-emb") or a common cross-lingual space
  (Cross-Word). At evaluation the target's words are looked up in the target's file; the
  embeddings are frozen, or training would move the source words away from the vectors the
  target words are read from.
"""
from __future__ import annotations

import logging
import zlib
from pathlib import Path
from typing import Sequence

import torch

from xlt.batching import make_bilstm_batch
from xlt.checkpoints import Snapshot, count_parameters
from xlt.device import pick_device
from xlt.errors import ConfigError
from xlt.methods.common import RunSpec, label_inventory, load_sentences, to_training_scheme
from xlt.models.bilstm_crf import BiLSTMCRF
from xlt.vectors.lookup import coverage, encode_word, vector_table
from xlt.methods.word_tagger import WordTagger
from xlt.vocab import PAD, UNK, Vocab

log = logging.getLogger("xlt.methods.bilstm_tagger")

WORD_EMBEDDING = "word_embedding.weight"


def decayed_learning_rate(hp: dict, epoch: int) -> float:
    """``lr = max(lr0 / (1 + decay * epoch), min_lr)``, epoch counted from 0 (``epoch`` here
    counts from 1, as ``xlt.training.fit``): Bari et al.'s SGD schedule (0.1, 0.01, 1e-4), and
    our reading of Bao et al.'s "decay the learning rate by 0.1 for each epoch" for Adam
    (1e-3, 0.1, 0): the lr / (1 + decay * epoch) decay of the taggers of that time (NCRF++);
    a factor of 0.1 per epoch would leave 1e-6 by the fourth epoch of twenty."""
    return max(float(hp["lr"]) / (1.0 + float(hp["lr_decay"]) * (epoch - 1)), float(hp["min_lr"]))


class BiLSTMCRFTagger(WordTagger):
    """The model plus its vocabularies and training schedule (an ``xlt.training.Tagger``)."""

    def __init__(self, spec: RunSpec, words: Vocab, chars: Vocab | None, labels: Vocab,
                 word_vectors: torch.Tensor | None = None, own_words: bool = False) -> None:
        """``word_vectors``: fixed word embeddings, one row per word of ``words`` (frozen);
        else random, trained. ``own_words``: the table is the target's own, not the one
        training produced, so checkpoints are loaded without their word embeddings."""
        hp = spec.hparams
        self.spec, self.hp = spec, hp
        self.scheme = to_training_scheme(spec.kind, hp)
        self.words, self.chars, self.labels = words, chars, labels
        self.use_char = bool(hp["use_char"])
        if self.use_char != (chars is not None):
            raise ValueError("use_char needs a character vocabulary, and only then")
        self.device = pick_device(bool(spec.extra.get("prefer_gpu", True)))
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
        ).to(self.device)
        self.own_words = own_words
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
        limit = hp.get("max_train_length")  # null: every sentence (Bao state no limit)
        keep = [i for i, sent in enumerate(tokens) if limit is None or len(sent) <= int(limit)]
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

    def adapt_checkpoint(self, weights: Snapshot) -> Snapshot:
        """A checkpoint as this tagger loads it: without the trained word embeddings when the
        words are the target's own (a random target table keeps its rows)."""
        return {k: v for k, v in weights.items() if k != WORD_EMBEDDING} if self.own_words else weights

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
        ).to(self.device)

    def _start_epoch(self, epoch: int) -> None:
        for group in self.optimizer.param_groups:
            group["lr"] = decayed_learning_rate(self.hp, epoch)


def target_sentences(spec: RunSpec) -> list[list[str]]:
    """The words an evaluation job will tag: the target's whole dev and test tables (a
    superset of the capped ones scored)."""
    sentences: list[list[str]] = []
    for split in ("dev", "test"):
        if split in spec.inputs:
            sentences += load_sentences(Path(spec.inputs[split]))[0]
    return sentences


def random_target_table(spec: RunSpec, sentences: Sequence[Sequence[str]], dim: int) -> tuple[Vocab, torch.Tensor]:
    """The target's own random word embeddings: every word of ``sentences`` gets a row drawn
    as the source's table was initialised (``nn.Embedding``: N(0, 1), zero padding row), from
    a generator seeded by the run's seed and the target, so a rerun draws the same table."""
    words = Vocab([PAD, UNK, *sorted({w for s in sentences for w in s} - {PAD, UNK})])
    generator = torch.Generator().manual_seed(zlib.crc32(f"{spec.seed}/{spec.target}".encode()))
    table = torch.randn(len(words), dim, generator=generator)
    table[0] = 0.0
    return words, table


def vectors_input(spec: RunSpec, key: str) -> Path:
    """A job's word-vector file (``vectors``: training side, ``target_vectors``: evaluation)."""
    if key not in spec.inputs:
        raise ConfigError(f"{spec.method}/{spec.setting}: a model over fixed word vectors needs input "
                          f"{key!r} (configure methods.{spec.method}.word_space, or "
                          "word_embeddings: monolingual)")
    return Path(spec.inputs[key])


def source_vector_table(spec: RunSpec, tokens: list[list[str]], source_dev: tuple) -> tuple[Vocab, torch.Tensor]:
    """Training side of a tagger over fixed vectors: the source sentences' words (train and
    dev) and their rows in the job's ``vectors`` file."""
    vectors = vectors_input(spec, "vectors")
    words, matrix, stats = vector_table([*tokens, *source_dev[0]], vectors)
    log.info("%s: %d vector rows used, %d-d; %.1f%% of training tokens have a vector%s", vectors,
             stats["rows_used"], stats["dim"], 100 * coverage(tokens, words),
             f" (space {spec.space}, {spec.direction})" if spec.space else "")
    return words, matrix


def target_vector_table(spec: RunSpec) -> tuple[Vocab, torch.Tensor]:
    """Evaluation side: the target's dev/test words and their rows in ``target_vectors``."""
    vectors = vectors_input(spec, "target_vectors")
    sentences = target_sentences(spec)
    words, matrix, stats = vector_table(sentences, vectors)
    log.info("target side %s: %d vector rows used; %.1f%% of target tokens have a vector", vectors,
             stats["rows_used"], 100 * coverage(sentences, words))
    return words, matrix


class FixedVectorsTagger(BiLSTMCRFTagger):
    """The BiLSTM-CRF over frozen rows of a word-vector file; ``_encode`` looks words up as
    :func:`xlt.vectors.lookup.lookup_keys` says (the base tagger's lookup is exact). The word
    rows come from each job's vectors file (source side in training, target side in
    evaluation): only characters and labels travel with the model."""

    @classmethod
    def word_table(cls, spec: RunSpec, tokens: list[list[str]],
                   source_dev: tuple) -> tuple[Vocab, torch.Tensor]:
        """Train side: the source sentences' words in the source-side vectors."""
        return source_vector_table(spec, tokens, source_dev)

    @classmethod
    def for_target(cls, spec: RunSpec, state: dict) -> FixedVectorsTagger:
        """Evaluation side: the target's dev/test words in the target-side vectors."""
        words, matrix = target_vector_table(spec)
        chars = Vocab.from_dict(state["chars"]) if state["chars"] is not None else None
        return cls(spec, words, chars, Vocab.from_dict(state["labels"]), word_vectors=matrix)

    def _encode(self, sentence: Sequence[str]) -> tuple[list[int], list[list[int]] | None]:
        words = [encode_word(self.words, w) for w in sentence]
        chars = [self.chars.encode(w) for w in sentence] if self.chars else None
        return words, chars

    def state(self) -> dict:
        return {"chars": self.chars.to_dict() if self.chars else None, "labels": self.labels.to_dict()}
