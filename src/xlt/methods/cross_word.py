"""Cross-Word (Bari et al. 2020, Table 4): the source BiLSTM-CRF over word vectors in a common
space of the source and one target, applied to the target's words in that space.

The space of a (source, target) pair is made by a MUSE mapping of one side onto the other's
own vectors (``xlt.plan.DIRECTIONS``): English vectors mapped into the target's space for es,
nl and de, the target's vectors mapped into English for ar and fi ("en ← ar": Bari could not
map English onto Arabic). The model is trained on source sentences with the source-side
vectors and scored on target sentences with the target-side vectors; the word embeddings are
frozen, or training would move the source words out of the space the target words are in.
One model per target space, so a run's ``space`` is its target.

Words are looked up as Lample et al. (2016) look up pretrained vectors: the word, else its
lowercased form, else that with every digit made 0; a word with none of them gets the
(frozen, zero) unknown vector and only its characters (setting ``char``) say anything. Only
the rows a job's sentences need are read from the vectors file, which gives the same model
as the whole matrix (the rows are frozen) without holding a 2M-word file in memory.

Cross-Shared is this model with the forward and backward LSTM cells tied, character and
word level (``shared_lstm: true``; module ``cross_shared``).
"""
from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import torch

from xlt.errors import ConfigError
from xlt.methods.common import RunSpec, load_sentences
from xlt.methods.source_mono import BiLSTMCRFTagger
from xlt.vectors.embeddings import iter_vec
from xlt.vocab import PAD, UNK, UNK_ID, Vocab

log = logging.getLogger("xlt.methods.cross_word")

_DIGIT = re.compile(r"\d")


def lookup_keys(word: str) -> tuple[str, ...]:
    """Forms of ``word`` tried against the vectors, in order (Lample et al. 2016)."""
    lower = word.lower()
    return (word, lower, _DIGIT.sub("0", lower))


def space_vocabulary(sentences: Iterable[Sequence[str]], vectors_path: Path) -> tuple[Vocab, torch.Tensor, dict]:
    """The vocabulary of the vector rows ``sentences`` need, and those rows.

    Row 0 (padding) and row 1 (unknown) are zero vectors. Returns ``(vocab, matrix, stats)``;
    encode a word with :func:`encode_word`.
    """
    wanted = {key for sentence in sentences for word in sentence for key in lookup_keys(word)}
    found: dict[str, np.ndarray] = {}
    dim = None
    for _, word, vector in iter_vec(vectors_path, keep=wanted):
        dim = vector.shape[0]
        found.setdefault(word, vector)  # the first (most frequent) row of a repeated word
    if dim is None:
        with open(vectors_path, encoding="utf-8") as handle:
            dim = int(handle.readline().split()[1])
    symbols = [PAD, UNK, *sorted(found)]
    matrix = torch.zeros(len(symbols), dim)
    if found:
        matrix[2:] = torch.from_numpy(np.stack([found[w] for w in symbols[2:]]))
    return Vocab(symbols), matrix, {"rows_used": len(found), "dim": dim}


def encode_word(vocab: Vocab, word: str) -> int:
    for key in lookup_keys(word):
        if key in vocab:
            return vocab.id(key)
    return UNK_ID


class CrossWordTagger(BiLSTMCRFTagger):
    """The BiLSTM-CRF over frozen vectors of a common space; ``_encode`` looks words up as
    :func:`lookup_keys` says (the base tagger's vocabulary lookup is exact)."""

    @classmethod
    def word_table(cls, spec: RunSpec, tokens: list[list[str]],
                   source_dev: tuple) -> tuple[Vocab, torch.Tensor]:
        """Train side: the source sentences' words in the common space (source-side vectors)."""
        vectors = _check_space(spec, "vectors")
        words, matrix, stats = space_vocabulary([*tokens, *source_dev[0]], vectors)
        log.info("space %s (%s): %d vector rows of %s used, %d-d; %.1f%% of training tokens have a "
                 "vector", spec.space, spec.direction, stats["rows_used"], vectors, stats["dim"],
                 100 * _coverage(tokens, words))
        return words, matrix

    def _encode(self, sentence: Sequence[str]) -> tuple[list[int], list[list[int]] | None]:
        words = [encode_word(self.words, w) for w in sentence]
        chars = [self.chars.encode(w) for w in sentence] if self.chars else None
        return words, chars

    def state(self) -> dict:
        # The word rows come from the vectors file of each job (source side in training,
        # target side in evaluation): only characters and labels travel with the model.
        return {"chars": self.chars.to_dict() if self.chars else None, "labels": self.labels.to_dict()}


def _check_space(spec: RunSpec, key: str) -> Path:
    if spec.space is None or key not in spec.inputs:
        raise ConfigError(f"{spec.method}: a word-space method needs its common space (space and "
                          f"inputs.{key}); configure methods.{spec.method}.word_space")
    return Path(spec.inputs[key])


def _coverage(sentences: Sequence[Sequence[str]], vocab: Vocab) -> float:
    tokens = [w for s in sentences for w in s]
    return sum(encode_word(vocab, w) != UNK_ID for w in tokens) / max(1, len(tokens))


def build(spec: RunSpec, train: tuple, source_dev: tuple) -> CrossWordTagger:
    return CrossWordTagger.from_training_data(spec, train, source_dev)


def rebuild(spec: RunSpec, state: dict) -> CrossWordTagger:
    """Evaluation-side model: the target's dev/test words in the common space (target side)."""
    vectors = _check_space(spec, "target_vectors")
    sentences: list[list[str]] = []
    for split in ("dev", "test"):  # whole tables: a superset of the capped ones scored
        if split in spec.inputs:
            sentences += load_sentences(Path(spec.inputs[split]))[0]
    words, matrix, stats = space_vocabulary(sentences, vectors)
    chars = Vocab.from_dict(state["chars"]) if state["chars"] is not None else None
    log.info("target side %s: %d vector rows used; %.1f%% of target tokens have a vector", vectors,
             stats["rows_used"], 100 * _coverage(sentences, words))
    return CrossWordTagger(spec, words, chars, Vocab.from_dict(state["labels"]), word_vectors=matrix)
