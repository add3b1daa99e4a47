"""Per-language LM vocabularies and the identical strings between them (Bao et al. 2019).

A vocabulary is the language's most frequent lowercased tokens (§3.2: "all characters are
preprocessed to lowercase"; 200k per language in the paper), after the four specials of
:mod:`xlt.lms.bilm`, in descending frequency (ties by string, so it is deterministic): the
sampled softmax's log-uniform proposal assumes frequency-ranked ids. Unknown tokens map to
``UNK``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from xlt.atomic import atomic_write_json
from xlt.errors import InputError
from xlt.lms.bilm import BOS, EOS, PAD, UNK

SPECIALS = ("<pad>", "<s>", "</s>", "<unk>")
assert [PAD, BOS, EOS, UNK] == list(range(len(SPECIALS)))


@dataclass(frozen=True)
class LMVocab:
    tokens: tuple[str, ...]  # id -> token, specials first
    counts: tuple[int, ...]  # id -> corpus count (0 for specials)

    @classmethod
    def build(cls, sentences: Iterable[Sequence[str]], max_size: int | None = None, min_count: int = 1) -> LMVocab:
        counter = Counter(token.lower() for sentence in sentences for token in sentence)
        ranked = sorted((t for t, c in counter.items() if c >= min_count and t not in SPECIALS),
                        key=lambda t: (-counter[t], t))
        if max_size is not None:
            ranked = ranked[: max(0, max_size - len(SPECIALS))]
        return cls(SPECIALS + tuple(ranked), (0,) * len(SPECIALS) + tuple(counter[t] for t in ranked))

    def __len__(self) -> int:
        return len(self.tokens)

    @cached_property
    def index(self) -> dict[str, int]:
        """token -> id, built once (encoding calls it per sentence)."""
        return {t: i for i, t in enumerate(self.tokens)}

    def encode(self, sentence: Sequence[str]) -> list[int]:
        """``<s> w_1 .. w_N </s>`` as ids, lowercased; unknown words are ``UNK``."""
        index = self.index
        return [BOS, *(index.get(t.lower(), UNK) for t in sentence), EOS]

    def save(self, path: str | Path) -> None:
        atomic_write_json(path, {"tokens": list(self.tokens), "counts": list(self.counts)})

    @classmethod
    def load(cls, path: str | Path) -> LMVocab:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            tokens, counts = tuple(data["tokens"]), tuple(data["counts"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise InputError(path, None, f"not an LM vocabulary file ({exc})") from exc
        if tokens[: len(SPECIALS)] != SPECIALS or len(tokens) != len(counts):
            raise InputError(path, None, f"an LM vocabulary starts with {SPECIALS} and has one count per token")
        return cls(tokens, counts)


def identical_strings(vocab_s: LMVocab, vocab_t: LMVocab) -> tuple[list[int], list[int]]:
    """Ids in ``s`` and in ``t`` of every non-special string both vocabularies hold, in
    ``s``'s order (L_iden's W_iden)."""
    index_t = vocab_t.index
    pairs = [(i, index_t[t]) for i, t in enumerate(vocab_s.tokens) if i >= len(SPECIALS) and t in index_t]
    return [i for i, _ in pairs], [j for _, j in pairs]
