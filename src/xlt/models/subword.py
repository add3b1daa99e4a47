"""Word -> subword alignment and windowing for Hugging Face tokenizers.

Labels live on words; the encoder sees subwords. Each word is labelled on its first subword
(the others get ``IGNORE_INDEX``), as UniTrans, Meta-NER and xtreme do.

Sentences longer than the encoder's limit are split into *windows* rather than truncated,
so no word is ever dropped from scoring (UniTrans's code silently drops them). Every word is
scored in exactly one window; a window after the first is preceded by up to
``context_subwords`` subwords of the text before its first scored word, which the encoder
sees as context but which are not scored there (the Meta-NER / xtreme sliding window).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from xlt.batching import pad

IGNORE_INDEX = -100  # torch cross_entropy's default ignore_index


@dataclass(frozen=True)
class SubwordWindow:
    """One encoder input: part of one sentence, with the positions of the words it scores."""

    sentence_index: int
    input_ids: tuple[int, ...]  # special tokens included
    label_positions: tuple[int, ...]  # index in input_ids of each scored word's first subword
    word_indices: tuple[int, ...]  # the scored words (indices into the sentence), ascending
    labels: tuple[int, ...] | None = None  # one label id per scored word
    # The encoder's id of the sentence's language, for encoders with language embeddings
    # (XLM's ``langs``); None for the others.
    language: int | None = None

    def subword_labels(self) -> list[int]:
        """Label id on each scored word's first subword, ``IGNORE_INDEX`` elsewhere."""
        if self.labels is None:
            raise ValueError("this window was built without labels")
        out = [IGNORE_INDEX] * len(self.input_ids)
        for position, label in zip(self.label_positions, self.labels):
            out[position] = label
        return out


@dataclass(frozen=True)
class WindowBatch:
    """Padded windows. ``W`` = most scored words in a window; ``word_mask`` marks real ones."""

    input_ids: Tensor  # (B, S) long
    attention_mask: Tensor  # (B, S) long
    label_positions: Tensor  # (B, W) long, 0 at padding
    word_mask: Tensor  # (B, W) bool, left-aligned
    sentence_indices: Tensor  # (B,) long: which sentence each window belongs to
    word_indices: Tensor  # (B, W) long, -1 at padding: gather per-word targets with these
    labels: Tensor | None = None  # (B, W) long, IGNORE_INDEX at padding
    languages: Tensor | None = None  # (B,) long: each window's language id (XLM), else None

    def subword_labels(self) -> Tensor:
        """(B, S) label on first subwords, ``IGNORE_INDEX`` elsewhere (HF token-classification style)."""
        if self.labels is None:
            raise ValueError("this batch has no labels")
        out = torch.full_like(self.input_ids, IGNORE_INDEX)
        # Padded word slots point at position 0 (the first special token): write real words only.
        rows, cols = self.word_mask.nonzero(as_tuple=True)
        out[rows, self.label_positions[rows, cols]] = self.labels[rows, cols]
        return out

    def to(self, device: torch.device | str) -> WindowBatch:
        return WindowBatch(
            *(t.to(device) for t in (self.input_ids, self.attention_mask, self.label_positions,
                                     self.word_mask, self.sentence_indices, self.word_indices)),
            labels=None if self.labels is None else self.labels.to(device),
            languages=None if self.languages is None else self.languages.to(device),
        )


def special_tokens(tokenizer) -> tuple[list[int], list[int]]:
    """(prefix, suffix) ids the tokenizer wraps a sequence in, e.g. ([CLS], [SEP]).

    Found by encoding a probe word with and without special tokens, which works for any
    post-processor (BERT, XLM-R, ...) without model-specific rules.
    """
    with_special = tokenizer(["a"], is_split_into_words=True)["input_ids"]
    plain = tokenizer(["a"], is_split_into_words=True, add_special_tokens=False)["input_ids"]
    for start in range(len(with_special) - len(plain) + 1):
        if with_special[start : start + len(plain)] == plain:
            return with_special[:start], with_special[start + len(plain) :]
    raise ValueError(f"cannot locate the content inside {with_special} for tokenizer {tokenizer!r}")


SENTENCEPIECE_MARKER = "\u2581"  # "▁", SentencePiece's word-start marker


def _drop_bare_marker(pieces: list[int], bare_marker: int | None) -> list[int]:
    return pieces[1:] if bare_marker is not None and len(pieces) > 1 and pieces[0] == bare_marker else pieces


def word_pieces(tokenizer, sentences: Sequence[Sequence[str]]) -> list[list[list[int]]]:
    """Subword ids of every word: ``out[s][w]`` lists the pieces of word ``w`` of sentence ``s``.

    A word the tokenizer turns into nothing (e.g. a lone zero-width space) becomes the unknown
    token, so that it still has a first subword to be scored on.

    A SentencePiece tokenizer (XLM-R, e5) given pre-split words prefixes each with the word
    marker; where the marker cannot merge with what follows it stays a piece of its own: every
    Chinese character becomes ["▁", "中"]. The word's label would then sit on "▁", the same
    input for every character (en->zh model transfer tagged almost everything O: 0.0 F1), and
    the sentence doubles in length. Such a bare marker is dropped when the word has other
    pieces: "中" is how unsegmented Chinese text reaches the encoder in pretraining, and
    WordPiece (mBERT, the papers' encoder) gives each character one token too.
    """
    if not getattr(tokenizer, "is_fast", False):
        return _word_pieces_one_by_one(tokenizer, sentences)
    unk = tokenizer.unk_token_id
    # One id lookup, not get_vocab(): that builds a 250k-entry dict, per call (per sentence
    # in Meta-NER's adaptation: it halved its speed).
    bare_marker = tokenizer.convert_tokens_to_ids(SENTENCEPIECE_MARKER)
    if bare_marker == unk:
        bare_marker = None  # not a SentencePiece vocabulary
    nonempty = [i for i, s in enumerate(sentences) if len(s) > 0]
    out: list[list[list[int]]] = [[] for _ in sentences]
    if not nonempty:
        return out
    encoded = tokenizer(
        [list(sentences[i]) for i in nonempty],
        is_split_into_words=True,
        add_special_tokens=False,
        verbose=False,  # long sentences are windowed below; the length warning is noise
    )
    for row, sent_index in enumerate(nonempty):
        pieces: list[list[int]] = [[] for _ in sentences[sent_index]]
        for piece, word in zip(encoded["input_ids"][row], encoded.word_ids(row)):
            if word is not None:
                pieces[word].append(piece)
        out[sent_index] = [_drop_bare_marker(p, bare_marker) if p else [unk] for p in pieces]
    return out


def _word_pieces_one_by_one(tokenizer, sentences: Sequence[Sequence[str]]) -> list[list[list[int]]]:
    """``word_pieces`` for a slow (Python) tokenizer, which has no ``word_ids()``: each distinct
    word is encoded on its own, once. XLM's (the only slow one the papers use) ends a word's
    last BPE unit with ``</w>``, so a word's pieces do not depend on its neighbours and this
    is what it makes of the whole sentence; its Moses pre-tokenisation may split a word
    (``U.S.-based``): those pieces all stay that word's."""
    unk = tokenizer.unk_token_id
    cache: dict[str, list[int]] = {}
    out = []
    for sentence in sentences:
        row = []
        for word in sentence:
            if word not in cache:
                cache[word] = tokenizer.encode(word, add_special_tokens=False) or [unk]
            row.append(list(cache[word]))
        out.append(row)
    return out


def plan_windows(piece_counts: Sequence[int], budget: int, context: int) -> list[tuple[int, int, int]]:
    """Split one sentence into windows of at most ``budget`` subwords.

    ``piece_counts[w]`` is the number of subwords of word ``w`` (each <= ``budget``). Returns
    ``(first_subword, first_word, end_word)`` per window: the window holds the subwords from
    ``first_subword`` up to the end of word ``end_word - 1`` and scores words
    ``first_word .. end_word - 1``; subwords before ``first_word`` are context. Context is
    shortened when a long word would not fit beside it, so every window scores >= 1 word.
    """
    offsets = [0]
    for count in piece_counts:
        offsets.append(offsets[-1] + count)
    windows = []
    start = 0
    while start < len(piece_counts):
        n_context = 0 if start == 0 else min(context, offsets[start])
        end = start
        while end < len(piece_counts) and offsets[end + 1] - offsets[start] <= budget - n_context:
            end += 1
        if end == start:
            n_context = min(n_context, budget - piece_counts[start])
            end = start + 1
        windows.append((offsets[start] - n_context, start, end))
        start = end
    return windows


def make_windows(
    tokenizer,
    sentences: Sequence[Sequence[str]],
    max_subwords: int = 128,
    context_subwords: int = 64,
    labels: Sequence[Sequence[int]] | None = None,
    languages: Sequence[int] | None = None,
) -> list[SubwordWindow]:
    """Windows for every sentence, in sentence order; an empty sentence gets none.

    ``max_subwords`` counts the special tokens. A word with more pieces than fit in a window
    keeps its first pieces (its first subword, which carries the label, always survives).
    ``languages``: each sentence's language id, for an encoder with language embeddings.
    """
    prefix, suffix = special_tokens(tokenizer)
    budget = max_subwords - len(prefix) - len(suffix)
    if not 0 <= context_subwords < budget:
        raise ValueError(
            f"context_subwords={context_subwords} must be >= 0 and smaller than the "
            f"{budget} content subwords of a {max_subwords}-subword window"
        )
    if labels is not None and [len(s) for s in labels] != [len(s) for s in sentences]:
        raise ValueError("labels must have one id per word of every sentence")
    if languages is not None and len(languages) != len(sentences):
        raise ValueError(f"{len(languages)} languages for {len(sentences)} sentences")
    windows = []
    for sent_index, pieces in enumerate(word_pieces(tokenizer, sentences)):
        pieces = [p[:budget] for p in pieces]
        flat = [piece for word in pieces for piece in word]
        word_starts = [0]
        for word in pieces:
            word_starts.append(word_starts[-1] + len(word))
        for first_subword, first_word, end_word in plan_windows([len(p) for p in pieces], budget, context_subwords):
            scored = tuple(range(first_word, end_word))
            windows.append(
                SubwordWindow(
                    sentence_index=sent_index,
                    input_ids=(*prefix, *flat[first_subword : word_starts[end_word]], *suffix),
                    label_positions=tuple(len(prefix) + word_starts[w] - first_subword for w in scored),
                    word_indices=scored,
                    labels=None if labels is None else tuple(labels[sent_index][w] for w in scored),
                    language=None if languages is None else int(languages[sent_index]),
                )
            )
    return windows


def collate_windows(windows: Sequence[SubwordWindow], pad_id: int) -> WindowBatch:
    """Pad a list of windows into tensors (right padding, attention mask 0 on padding)."""
    input_ids = pad([w.input_ids for w in windows], value=pad_id)
    attention_mask = pad([[1] * len(w.input_ids) for w in windows], value=0)
    label_positions = pad([w.label_positions for w in windows], value=0)
    word_indices = pad([w.word_indices for w in windows], value=-1)
    labels = None
    if all(w.labels is not None for w in windows):
        labels = pad([w.labels for w in windows], value=IGNORE_INDEX)
    languages = None
    if any(w.language is not None for w in windows):
        if any(w.language is None for w in windows):
            raise ValueError("a batch mixes windows with and without a language id")
        languages = torch.tensor([w.language for w in windows], dtype=torch.long)
    return WindowBatch(
        input_ids=input_ids,
        attention_mask=attention_mask,
        label_positions=label_positions,
        word_mask=word_indices >= 0,
        sentence_indices=torch.tensor([w.sentence_index for w in windows], dtype=torch.long),
        word_indices=word_indices,
        labels=labels,
        languages=languages,
    )


def reassemble(
    windows: Sequence[SubwordWindow], values: Sequence[Tensor], n_words: Sequence[int]
) -> list[Tensor]:
    """Put per-window, per-scored-word values back into sentences.

    ``values[i]`` holds one row per scored word of ``windows[i]``; returns, per sentence, a
    tensor with one row per word. Raises if a word is missing or scored twice.
    """
    parts: list[list[tuple[tuple[int, ...], Tensor]]] = [[] for _ in n_words]
    for window, value in zip(windows, values, strict=True):
        if value.shape[0] != len(window.word_indices):
            raise ValueError("one value row per scored word expected")
        parts[window.sentence_index].append((window.word_indices, value))
    out = []
    for sent_index, (count, sent_parts) in enumerate(zip(n_words, parts)):
        if not sent_parts:
            if count:
                raise ValueError(f"sentence {sent_index} has {count} words but no window")
            out.append(torch.empty(0))
            continue
        index = torch.tensor([w for words, _ in sent_parts for w in words], dtype=torch.long)
        rows = torch.cat([v for _, v in sent_parts], dim=0)
        if index.numel() != count or not torch.equal(index.sort().values, torch.arange(count)):
            raise ValueError(f"sentence {sent_index}: words are not each scored exactly once")
        out.append(rows[index.argsort()])
    return out
