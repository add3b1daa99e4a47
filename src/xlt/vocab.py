"""Token <-> id maps for words, characters and labels, saved as JSON.

Word and character vocabularies reserve id 0 for padding and id 1 for unknown symbols, so
padded batches and out-of-vocabulary target-language words need no special casing anywhere.
Label vocabularies have no specials: an unknown label is an error, never silently mapped.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from xlt.atomic import atomic_write_json

PAD, UNK = "<pad>", "<unk>"
PAD_ID, UNK_ID = 0, 1
_DIGIT = re.compile(r"\d")


@dataclass
class Vocab:
    """An ordered list of symbols; a symbol's id is its index.

    ``lowercase`` / ``normalize_digits`` (every digit -> ``0``, as Lample et al. 2016) are
    applied to a symbol before lookup, both when building and when encoding, so the options
    travel with the vocabulary through ``save``/``load``.
    """

    symbols: list[str]
    lowercase: bool = False
    normalize_digits: bool = False
    has_specials: bool = True
    _index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.has_specials and self.symbols[:2] != [PAD, UNK]:
            raise ValueError(f"a vocabulary with specials must start with {PAD!r}, {UNK!r}")
        self._index = {s: i for i, s in enumerate(self.symbols)}
        if len(self._index) != len(self.symbols):
            raise ValueError("vocabulary symbols must be unique")

    # -- construction ---------------------------------------------------------------------
    @classmethod
    def build(
        cls,
        sentences: Iterable[Sequence[str]],
        *,
        min_count: int = 1,
        max_size: int | None = None,
        lowercase: bool = False,
        normalize_digits: bool = False,
    ) -> Vocab:
        """Word vocabulary of ``sentences`` (token lists): most frequent first, ties by text."""
        probe = cls([PAD, UNK], lowercase, normalize_digits)
        counts = Counter(probe.normalize(tok) for sent in sentences for tok in sent)
        return cls._from_counts(counts, min_count, max_size, lowercase, normalize_digits)

    @classmethod
    def build_chars(cls, sentences: Iterable[Sequence[str]], *, min_count: int = 1) -> Vocab:
        """Character vocabulary: case and digits are kept (they are what chars are for)."""
        counts = Counter(ch for sent in sentences for tok in sent for ch in tok)
        return cls._from_counts(counts, min_count, None, False, False)

    @classmethod
    def for_labels(cls, labels: Iterable[str]) -> Vocab:
        """Label vocabulary in the given order (keep it sorted for stable ids), no specials."""
        return cls(list(labels), has_specials=False)

    @classmethod
    def _from_counts(
        cls, counts: Counter[str], min_count: int, max_size: int | None, lower: bool, digits: bool
    ) -> Vocab:
        kept = sorted((s for s, c in counts.items() if c >= min_count and s not in (PAD, UNK)),
                      key=lambda s: (-counts[s], s))
        if max_size is not None:
            kept = kept[: max(0, max_size - 2)]
        return cls([PAD, UNK, *kept], lower, digits)

    # -- lookup ---------------------------------------------------------------------------
    def normalize(self, symbol: str) -> str:
        if self.lowercase:
            symbol = symbol.lower()
        if self.normalize_digits:
            symbol = _DIGIT.sub("0", symbol)
        return symbol

    def __len__(self) -> int:
        return len(self.symbols)

    def __contains__(self, symbol: str) -> bool:
        return self.normalize(symbol) in self._index

    def id(self, symbol: str) -> int:
        """Id of ``symbol``; ``UNK_ID`` when unknown (``KeyError`` for a label vocabulary)."""
        key = self.normalize(symbol)
        if self.has_specials:
            return self._index.get(key, UNK_ID)
        try:
            return self._index[key]
        except KeyError:
            raise KeyError(f"unknown label {symbol!r}; known: {self.symbols}") from None

    def encode(self, symbols: Iterable[str]) -> list[int]:
        """Ids of a token list, or of a word's characters when given a ``str``."""
        return [self.id(s) for s in symbols]

    def decode(self, ids: Iterable[int]) -> list[str]:
        return [self.symbols[i] for i in ids]

    # -- persistence ----------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {
            "symbols": self.symbols,
            "lowercase": self.lowercase,
            "normalize_digits": self.normalize_digits,
            "has_specials": self.has_specials,
        }

    def save(self, path: str | Path) -> None:
        atomic_write_json(path, self.to_dict())

    @classmethod
    def load(cls, path: str | Path) -> Vocab:
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))

    @classmethod
    def from_dict(cls, data: dict) -> Vocab:
        return cls(
            list(data["symbols"]),
            lowercase=bool(data.get("lowercase", False)),
            normalize_digits=bool(data.get("normalize_digits", False)),
            has_specials=bool(data.get("has_specials", True)),
        )
