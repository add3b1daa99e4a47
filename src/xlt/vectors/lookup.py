"""Looking words up in a fixed word-vector file, as Lample et al. (2016) look up pretrained
vectors: the word, else its lowercased form, else that with every digit made 0.

Only the rows a job's sentences need are read from the file (:func:`vector_table`): a tagger
over frozen vectors computes the same thing with them as with the whole matrix, without
holding a 2M-word file in memory.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import torch

from xlt.vectors.embeddings import iter_vec
from xlt.vocab import PAD, UNK, UNK_ID, Vocab

_DIGIT = re.compile(r"\d")


def lookup_keys(word: str) -> tuple[str, ...]:
    """Forms of ``word`` tried against the vectors, in order (Lample et al. 2016)."""
    lower = word.lower()
    return (word, lower, _DIGIT.sub("0", lower))


def vector_table(sentences: Iterable[Sequence[str]], vectors_path: Path) -> tuple[Vocab, torch.Tensor, dict]:
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


def coverage(sentences: Sequence[Sequence[str]], vocab: Vocab) -> float:
    """Share of the tokens of ``sentences`` that have a vector."""
    tokens = [w for s in sentences for w in s]
    return sum(encode_word(vocab, w) != UNK_ID for w in tokens) / max(1, len(tokens))
