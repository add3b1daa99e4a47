"""Cross-lingual contextual representations (CLCR, Bao et al. 2019 §2.4): the frozen LM's
states of every word of a sentence, all ``n + 1`` layers, forward ⊕ backward.

A tagger reads them through a layer mix (:mod:`xlt.models.layer_mix`) trained with it, while
the LM never changes: each sentence's states are computed once per job and kept in a
:class:`FeatureStore`, one row per word, so an epoch of the tagger is a gather, not an LM
pass (row 0 is the zero vector, the padding id of :mod:`xlt.batching`).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from xlt.batching import bucket_batches
from xlt.lms.bilm import BiTransformerLM
from xlt.lms.training import pad_batch
from xlt.lms.vocab import LMVocab


@torch.no_grad()
def sentence_states(model: BiTransformerLM, vocab: LMVocab, lang: str, sentences: Sequence[Sequence[str]],
                    batch_size: int = 64, device: torch.device | str = "cpu") -> list[Tensor]:
    """``(T, n + 1, 2d)`` per sentence (its words only: ``<s>`` and ``</s>`` dropped), on the CPU."""
    model.eval()
    out: list[Tensor] = [torch.empty(0)] * len(sentences)
    for indices in bucket_batches([len(s) for s in sentences], batch_size, shuffle=False, chunk_batches=None):
        ids = pad_batch([vocab.encode(sentences[i]) for i in indices]).to(device)
        states = model.layer_states(lang, ids)  # (n + 1, B, T + 2, 2d)
        for row, i in enumerate(indices):
            n = len(sentences[i])
            out[i] = states[:, row, 1 : n + 1].transpose(0, 1).to("cpu", torch.float32)
    return out


class FeatureStore:
    """Each distinct (language, sentence) gets consecutive rows of one ``(N + 1, n + 1, 2d)``
    matrix; ``rows(lang, sentence)`` are a sentence's word ids into it."""

    def __init__(self, model: BiTransformerLM, vocabs: dict[str, LMVocab], batch_size: int = 64,
                 device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32) -> None:
        self.model, self.vocabs = model, vocabs
        self.batch_size, self.device, self.dtype = batch_size, device, dtype
        width = 2 * model.d_model
        self.matrix = torch.zeros(1, model.n_layers + 1, width, dtype=dtype)
        self._rows: dict[tuple[str, tuple[str, ...]], list[int]] = {}

    @property
    def n_layers(self) -> int:
        return self.model.n_layers + 1

    @property
    def dim(self) -> int:
        return 2 * self.model.d_model

    def add(self, lang: str, sentences: Sequence[Sequence[str]]) -> None:
        """Compute (in batches) the states of the sentences not stored yet."""
        if lang not in self.vocabs:
            raise KeyError(f"the LM has no {lang!r} (it has {sorted(self.vocabs)})")
        new = list(dict.fromkeys(tuple(s) for s in sentences if (lang, tuple(s)) not in self._rows))
        if not new:
            return
        states = sentence_states(self.model, self.vocabs[lang], lang, new, self.batch_size, self.device)
        start = self.matrix.shape[0]
        for sentence, rows in zip(new, states):
            self._rows[(lang, sentence)] = list(range(start, start + len(sentence)))
            start += len(sentence)
        self.matrix = torch.cat([self.matrix, *(s.to(self.dtype) for s in states)])

    def rows(self, lang: str, sentence: Sequence[str]) -> list[int]:
        key = (lang, tuple(sentence))
        if key not in self._rows:
            self.add(lang, [sentence])
        return self._rows[key]
