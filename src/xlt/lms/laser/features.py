"""A frozen sentence encoder's per-piece states, computed once per job.

van der Heijden et al.'s LASER-top and LASER-elmo read, for every BPE piece of a sentence,
the element-wise max of the forward and backward states of some encoder layers
(:func:`xlt.models.word_embedders.direction_max`); the encoder is pretrained and fixed, so
those states never change while the tagger trains. :class:`PieceStateStore` computes them
in batches for every distinct (language, sentence) and keeps them as consecutive rows of one
``(N + 1, n_layers, H)`` matrix (row 0: the zero padding row), so a training epoch gathers
rows instead of running the encoder — the same design as the MLMA feature store
(:mod:`xlt.lms.features`), at piece rather than word level.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from tokenizers import Tokenizer

from xlt.batching import bucket_batches, pad
from xlt.lms.laser.fastbpe import FastBPETokenizer
from xlt.lms.laser.model import LaserEncoder
from xlt.lms.laser.preprocess import encode_words, normalize_sentence
from xlt.models.word_embedders import direction_max


def encode_tagged_sentence(tokenizer: Tokenizer | FastBPETokenizer, lang: str,
                           words: Sequence[str]) -> tuple[list[int], list[int]]:
    """(piece ids, owning word of each piece) of a tagging sentence: LASER's normalisation
    (punctuation, lower case) per word, then the BPE."""
    return encode_words(tokenizer, normalize_sentence(words, lang))


class PieceStateStore:
    def __init__(self, encoder: LaserEncoder, tokenizer: Tokenizer | FastBPETokenizer, layers: Sequence[int],
                 batch_size: int = 64, device: torch.device | str = "cpu", eos_id: int | None = None) -> None:
        """``layers``: 1-based encoder layers to keep (``[n]``: LASER-top; ``1..n``: LASER-elmo).
        ``eos_id``: appended to every sentence for the encoder (LASER1 reads "pieces </s>", as
        it was trained; its state belongs to no word and is dropped)."""
        if not layers or min(layers) < 1 or max(layers) > encoder.n_layers:
            raise ValueError(f"layers {list(layers)}: the encoder has layers 1..{encoder.n_layers}")
        self.encoder, self.tokenizer = encoder.eval(), tokenizer
        self.layers = [int(layer) - 1 for layer in layers]
        self.batch_size, self.device, self.eos_id = batch_size, device, eos_id
        self.matrix = torch.zeros(1, len(self.layers), encoder.hidden)
        self._rows: dict[tuple[str, tuple[str, ...]], tuple[list[int], list[int]]] = {}

    @property
    def n_layers(self) -> int:
        return len(self.layers)

    @property
    def dim(self) -> int:
        return self.encoder.hidden

    @torch.no_grad()
    def add(self, lang: str, sentences: Sequence[Sequence[str]]) -> None:
        new = list(dict.fromkeys(tuple(s) for s in sentences if (lang, tuple(s)) not in self._rows))
        if not new:
            return
        encoded = [encode_tagged_sentence(self.tokenizer, lang, s) for s in new]
        states: list[torch.Tensor] = [torch.empty(0)] * len(new)
        for indices in bucket_batches([len(ids) for ids, _ in encoded], self.batch_size, shuffle=False,
                                      chunk_batches=None):
            tail = [] if self.eos_id is None else [self.eos_id]
            ids = pad([encoded[i][0] + tail for i in indices]).to(self.device)
            lengths = torch.tensor([len(encoded[i][0]) + len(tail) for i in indices])
            layers = self.encoder.layer_states(ids, lengths)
            picked = torch.stack([direction_max(layers[k]) for k in self.layers], dim=2)  # (B, P, L, H)
            for row, i in enumerate(indices):
                states[i] = picked[row, : len(encoded[i][0])].to("cpu", torch.float32)
        start = self.matrix.shape[0]
        for sentence, (ids, owners), block in zip(new, encoded, states):
            self._rows[(lang, sentence)] = (list(range(start, start + len(ids))), owners)
            start += len(ids)
        self.matrix = torch.cat([self.matrix, *states])

    def rows(self, lang: str, sentence: Sequence[str]) -> tuple[list[int], list[int]]:
        """(rows of the sentence's pieces, owning word of each)."""
        key = (lang, tuple(sentence))
        if key not in self._rows:
            self.add(lang, [sentence])
        return self._rows[key]
