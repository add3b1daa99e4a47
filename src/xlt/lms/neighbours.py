"""Nearest cross-lingual neighbours (Bao et al. 2019, Table 4): of an English word by MUSE
vectors (the target words whose mapped vectors are nearest), and of an English word *in
context* by MLMA states (the target token, in one of ``n`` sampled target sentences, whose
state is nearest). Nearness is cosine, as the paper's ("nearest neighbors in cosine
distance").

A token's contextual representation is the mean of its LM layers (forward ⊕ backward): the
paper's CLCR mixes layers with weights a tagger learns, and a neighbour search has no tagger;
the plain mean is f.w.s. at its initialisation.

Rows are the paper table's own: ``query.word`` (MUSE: the word alone) or ``query.context``,
the English sentence with the word in brackets, as the paper prints it.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from xlt.lms.bilm import BiTransformerLM
from xlt.lms.corpus import tokenize
from xlt.lms.features import sentence_states
from xlt.lms.vocab import LMVocab
from xlt.vectors.embeddings import iter_vec

_BRACKETED = re.compile(r"\[([^\]]+)\]")


def parse_context(context: str, tokenizer: str = "nltk") -> tuple[list[str], int]:
    """The tokens of a "... [word] ..." sentence and the bracketed word's position."""
    match = _BRACKETED.search(context)
    if match is None:
        raise ValueError(f"context {context!r} brackets no word")
    before = tokenize(context[: match.start()], tokenizer)
    word = tokenize(match.group(1), tokenizer)
    after = tokenize(context[match.end():], tokenizer)
    # "[Brown]'s" : the tokenizer splits "'s" off the word only when it sees them together.
    if after and after[0] in ("'s", "’s", "s"):
        after[0] = "'s"
    return before + word + after, len(before)


def mark(tokens: Sequence[str], position: int) -> str:
    return " ".join(f"[{t}]" if i == position else t for i, t in enumerate(tokens))


def read_target_space(target_vectors: str | Path, max_rows: int | None = None) -> tuple[list[str], np.ndarray]:
    """The first ``max_rows`` words of a (mapped) vector file and their unit-length rows: read
    once per job, searched by every word row."""
    words, rows = [], []
    for i, w, v in iter_vec(target_vectors):
        if max_rows is not None and i >= max_rows:
            break
        words.append(w)
        rows.append(v)
    matrix = np.stack(rows)
    return words, matrix / (np.linalg.norm(matrix, axis=1, keepdims=True) + 1e-12)


def muse_neighbours(word: str, source_vectors: str | Path, target_space: tuple[list[str], np.ndarray],
                    k: int = 5) -> list[str]:
    """The ``k`` target words whose (mapped) vectors are nearest ``word``'s source vector
    (``target_space``: :func:`read_target_space`)."""
    source = next((v for _, w, v in iter_vec(source_vectors, keep={word, word.lower()}) if w.lower() == word.lower()),
                  None)
    if source is None:
        return []
    words, matrix = target_space
    scores = matrix @ source / (np.linalg.norm(source) + 1e-12)
    return [words[i] for i in np.argsort(-scores)[:k]]


def mean_layer_states(model: BiTransformerLM, vocab: LMVocab, lang: str, sentences: Sequence[Sequence[str]],
                      ) -> list[torch.Tensor]:
    """``(T, 2d)`` per sentence: its words' states averaged over layers."""
    return [s.mean(1) for s in sentence_states(model, vocab, lang, sentences)]


def sample_sentences(sentences: Sequence[Sequence[str]], n: int, seed: int, max_length: int = 60) -> list[list[str]]:
    """``n`` sentences (of at most ``max_length`` tokens, so they print), drawn with ``seed``."""
    pool = [list(s) for s in sentences if len(s) <= max_length]
    return random.Random(seed).sample(pool, min(n, len(pool)))


def contextual_neighbour(model: BiTransformerLM, vocabs: dict[str, LMVocab], source: str, target: str,
                         context: Sequence[str], position: int, target_sentences: Sequence[Sequence[str]],
                         target_states: Sequence[torch.Tensor]) -> dict:
    """The target token (in its sentence) nearest the source word at ``position`` of ``context``."""
    query = mean_layer_states(model, vocabs[source], source, [context])[0][position]
    best = (-2.0, 0, 0)
    for i, states in enumerate(target_states):
        scores = torch.nn.functional.cosine_similarity(states, query.unsqueeze(0), dim=1)
        j = int(scores.argmax())
        if float(scores[j]) > best[0]:
            best = (float(scores[j]), i, j)
    score, i, j = best
    return {"word": target_sentences[i][j], "sentence": mark(target_sentences[i], j), "cosine": round(score, 4),
            "in_vocabulary": target_sentences[i][j] in vocabs[target].index}
