"""Length-bucketed batching and padding.

Batches of similar-length sentences waste little compute on padding. Sorting the whole data
set by length would make every epoch see the same batches in the same order, so for training
the data are shuffled, cut into chunks of ``chunk_batches`` batches, sorted by length inside
each chunk, and the resulting batches shuffled again. Everything random comes from one seeded
numpy Generator, so a (lengths, batch_size, seed) triple always gives the same batches.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from xlt.vocab import PAD_ID


def bucket_batches(
    lengths: Sequence[int],
    batch_size: int,
    shuffle: bool,
    seed: int = 0,
    chunk_batches: int | None = 50,
) -> list[list[int]]:
    """Group item indices into batches of similar length.

    ``shuffle=True`` (training): random order, sorted within chunks of ``chunk_batches``
    batches, batch order shuffled; vary ``seed`` per epoch (e.g. ``seed * 1000 + epoch``) for
    a new order each epoch. ``shuffle=False``: items in their given order, sorted within
    chunks; ``chunk_batches=None`` sorts all items at once (best packing, for inference where
    the caller reassembles by index anyway). Sorting is stable, so ties keep their order.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    lengths_arr = np.asarray(lengths, dtype=np.int64)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(lengths_arr)) if shuffle else np.arange(len(lengths_arr))
    chunk = len(order) if chunk_batches is None else chunk_batches * batch_size
    batches: list[list[int]] = []
    for begin in range(0, len(order), max(chunk, 1)):
        part = order[begin : begin + chunk]
        part = part[np.argsort(lengths_arr[part], kind="stable")]
        batches.extend(part[i : i + batch_size].tolist() for i in range(0, len(part), batch_size))
    if shuffle:
        batches = [batches[i] for i in rng.permutation(len(batches))]
    return batches


def pad(seqs: Sequence[Sequence[int]], value: int = PAD_ID, dtype: torch.dtype = torch.long) -> Tensor:
    """Stack ragged int sequences into a ``(B, max_len)`` tensor filled with ``value``."""
    max_len = max((len(s) for s in seqs), default=0)
    # Filled in numpy: per-row torch tensor creation costs more than the copy itself.
    out = np.full((len(seqs), max_len), value, dtype=np.int64)
    for row, seq in enumerate(seqs):
        out[row, : len(seq)] = seq
    return torch.from_numpy(out).to(dtype)


@dataclass(frozen=True)
class BiLSTMBatch:
    """Padded input of a word-level tagger. ``mask`` is True on real (left-aligned) words."""

    word_ids: Tensor  # (B, T) long
    mask: Tensor  # (B, T) bool
    char_ids: Tensor | None = None  # (B, T, C) long, 0 = padding
    tag_ids: Tensor | None = None  # (B, T) long, 0 at padding (masked out of every loss)

    @property
    def lengths(self) -> Tensor:
        return self.mask.sum(dim=1)

    def to(self, device: torch.device | str) -> BiLSTMBatch:
        def move(t: Tensor | None) -> Tensor | None:
            return None if t is None else t.to(device)

        return BiLSTMBatch(move(self.word_ids), move(self.mask), move(self.char_ids), move(self.tag_ids))


def make_bilstm_batch(
    word_ids: Sequence[Sequence[int]],
    char_ids: Sequence[Sequence[Sequence[int]]] | None = None,
    tag_ids: Sequence[Sequence[int]] | None = None,
    max_word_chars: int | None = None,
) -> BiLSTMBatch:
    """Pad encoded sentences: ``char_ids[i][j]`` holds the character ids of word ``j`` of
    sentence ``i``; words longer than ``max_word_chars`` keep their first characters."""
    if any(len(s) == 0 for s in word_ids):
        raise ValueError("empty sentence in batch: every sentence needs at least one word")
    words = pad(word_ids)
    lengths = torch.tensor([len(s) for s in word_ids])
    mask = torch.arange(words.shape[1]).unsqueeze(0) < lengths.unsqueeze(1)
    chars = None
    if char_ids is not None:
        clipped = [[w[:max_word_chars] for w in sent] for sent in char_ids]
        n_chars = max((len(w) for sent in clipped for w in sent), default=0)
        chars_np = np.full((words.shape[0], words.shape[1], max(n_chars, 1)), PAD_ID, dtype=np.int64)
        for i, sent in enumerate(clipped):
            for j, word in enumerate(sent):
                chars_np[i, j, : len(word)] = word
        chars = torch.from_numpy(chars_np)
    tags = None if tag_ids is None else pad(tag_ids, value=0)
    return BiLSTMBatch(words, mask, chars, tags)


@dataclass
class PieceBatch:
    """Padded input of a tagger whose words are read through their subword pieces (van der
    Heijden et al.'s BPE and LASER embedders). ``pieces`` holds each sentence's pieces in
    order (ids into an embedding table, or rows of a feature store; 0 = padding), ``owners``
    the word each belongs to (-1 at padding), ``word_pieces`` the same pieces grouped per word
    (``(B, T, K)``, 0 = padding); ``mask`` is True on real words."""

    pieces: Tensor  # (B, P) long
    owners: Tensor  # (B, P) long
    word_pieces: Tensor  # (B, T, K) long
    mask: Tensor  # (B, T) bool
    tag_ids: Tensor | None = None  # (B, T) long, 0 at padding

    @property
    def piece_lengths(self) -> Tensor:
        return (self.owners >= 0).sum(dim=1)

    def to(self, device: torch.device | str) -> PieceBatch:
        return PieceBatch(self.pieces.to(device), self.owners.to(device), self.word_pieces.to(device),
                          self.mask.to(device), None if self.tag_ids is None else self.tag_ids.to(device))


def make_piece_batch(pieces: Sequence[Sequence[int]], owners: Sequence[Sequence[int]],
                     tag_ids: Sequence[Sequence[int]] | None = None) -> PieceBatch:
    """Pad encoded sentences: ``owners[i][p]`` is the word (0, 1, ...) of piece ``p`` of
    sentence ``i``; every word has at least one piece and a word's pieces are contiguous."""
    if any(len(s) == 0 for s in pieces):
        raise ValueError("empty sentence in batch: every sentence needs at least one piece")
    n_words = [o[-1] + 1 for o in owners]
    grouped: list[list[list[int]]] = []
    for sent, own, n in zip(pieces, owners, n_words):
        words: list[list[int]] = [[] for _ in range(n)]
        for piece, word in zip(sent, own):
            words[word].append(piece)
        if any(not w for w in words):
            raise ValueError("a word without pieces: every word needs at least one")
        grouped.append(words)
    longest = max(len(w) for sent in grouped for w in sent)
    word_pieces = np.full((len(pieces), max(n_words), longest), PAD_ID, dtype=np.int64)
    for i, sent in enumerate(grouped):
        for j, word in enumerate(sent):
            word_pieces[i, j, : len(word)] = word
    mask = torch.arange(max(n_words)).unsqueeze(0) < torch.tensor(n_words).unsqueeze(1)
    return PieceBatch(pad(pieces), pad(owners, value=-1), torch.from_numpy(word_pieces), mask,
                      None if tag_ids is None else pad(tag_ids, value=0))
