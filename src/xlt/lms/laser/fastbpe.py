"""LASER1's word pieces: fastBPE codes applied with fastBPE's vocabulary check.

LASER1 (Artetxe & Schwenk 2019) splits its lower-cased, Moses-normalised tokens with
fastBPE (``93langs.fcodes``: one merge "a b count" per line, ranked by line; ``93langs
.fvocab``: "unit count" per line) and looks the units up in the fairseq dictionary stored
in the checkpoint (``bilstm.93langs.2018-12-26.pt``). fastBPE's only Python binding is an
unmaintained Cython package (0.1.0, 2019), and Hugging Face ``tokenizers`` has no
equivalent of fastBPE's vocabulary check (a merged unit missing from the vocabulary is split
back along the merges that made it), so the algorithm is written out here, from fastBPE's
``process_bpe`` / ``limitVocab`` / ``decompose``:

1. a word is its characters (code points), the last one marked ``</w>``;
2. repeatedly, the adjacent pair of lowest rank is merged wherever it occurs (left to right,
   no overlaps), until no pair is a code;
3. with a vocabulary, a unit the vocabulary lacks (as ``unit@@`` inside a word, as the bare
   unit at its end) is replaced by the two units it was merged from, recursively;
4. units are written ``unit@@`` inside a word, the last one without ``</w>``.

:class:`FastBPETokenizer` wraps this with the dictionary's ids, behind the two calls the
encoder's users make (``encode_words``, ``token_to_id``), and is saved as one JSON file
(``kind: fastbpe``) beside the weights, in place of the stand-in's ``tokenizers`` file.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path

from xlt.errors import InputError

END_OF_WORD = "</w>"
CONTINUES = "@@"
KIND = "fastbpe"


def _counted_lines(path: str | Path, fields: int, what: str):
    """The fields of each line of a fastBPE file: ``fields`` space-separated, a count last."""
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            parts = line.rstrip("\n").split(" ")
            if len(parts) != fields or not parts[-1].isdigit():
                raise InputError(path, number, f"not a fastBPE {what}: {line.rstrip()!r}")
            yield parts


def read_codes(path: str | Path) -> list[tuple[str, str]]:
    """The merges of a fastBPE codes file, in rank order ("a b count" lines)."""
    return [(a, b) for a, b, _ in _counted_lines(path, 3, "code 'a b count'")]


def read_vocab(path: str | Path) -> list[str]:
    """The units of a fastBPE vocabulary file ("unit count" lines)."""
    return [unit for unit, _ in _counted_lines(path, 2, "vocabulary line 'unit count'")]


class FastBPE:
    """fastBPE's ``applybpe`` for one word at a time (cached: tagging data repeats words)."""

    def __init__(self, codes: Sequence[tuple[str, str]], vocab: Iterable[str] = ()) -> None:
        self.codes = [tuple(code) for code in codes]
        self.ranks: dict[tuple[str, str], int] = {}
        self.parts: dict[str, tuple[str, str]] = {}
        for rank, (a, b) in enumerate(self.codes):
            if (a, b) in self.ranks or a + b in self.parts:
                raise ValueError(f"fastBPE codes: merge {a!r} {b!r} (rank {rank}) repeats an earlier one")
            self.ranks[(a, b)] = rank
            self.parts[a + b] = (a, b)
        self.vocab = frozenset(vocab)
        self.apply = lru_cache(maxsize=500_000)(self._apply)

    def _merge(self, word: str) -> list[str]:
        units = [*word[:-1], word[-1] + END_OF_WORD]
        while len(units) > 1:
            ranked = [(self.ranks.get(pair, -1), i) for i, pair in enumerate(zip(units, units[1:]))]
            ranked = [(rank, i) for rank, i in ranked if rank >= 0]
            if not ranked:
                break
            best = self.codes[min(ranked)[0]]
            merged, i = [], 0
            while i < len(units):
                if i + 1 < len(units) and (units[i], units[i + 1]) == best:
                    merged.append(units[i] + units[i + 1])
                    i += 2
                else:
                    merged.append(units[i])
                    i += 1
            units = merged
        return units

    def _known(self, unit: str, final: bool) -> bool:
        return (unit[: -len(END_OF_WORD)] if final else unit + CONTINUES) in self.vocab

    def _decompose(self, unit: str, final: bool, out: list[str]) -> None:
        if unit not in self.parts:  # a single character: kept, known or not (as fastBPE)
            out.append(unit)
            return
        first, second = self.parts[unit]
        for part, part_final in ((first, False), (second, final)):
            if self._known(part, part_final):
                out.append(part)
            else:
                self._decompose(part, part_final, out)

    def _apply(self, word: str) -> tuple[str, ...]:
        if not word:
            return ()
        units = self._merge(word)
        if self.vocab:
            checked: list[str] = []
            for index, unit in enumerate(units):
                final = index == len(units) - 1
                if self._known(unit, final):
                    checked.append(unit)
                else:
                    self._decompose(unit, final, checked)
            units = checked
        return tuple(u + CONTINUES for u in units[:-1]) + (units[-1][: -len(END_OF_WORD)],)


class FastBPETokenizer:
    """LASER1's pieces as ids of its fairseq dictionary (unknown units: ``<unk>``)."""

    def __init__(self, codes: Sequence[tuple[str, str]], vocab: Sequence[str], dictionary: Mapping[str, int]) -> None:
        missing = [t for t in ("<pad>", "<unk>", "</s>") if t not in dictionary]
        if missing:
            raise ValueError(f"the dictionary lacks {missing}")
        self.bpe = FastBPE(codes, vocab)
        self.vocab = list(vocab)
        self.dictionary = {str(k): int(v) for k, v in dictionary.items()}

    def token_to_id(self, token: str) -> int | None:
        return self.dictionary.get(token)

    def get_vocab_size(self) -> int:
        return max(self.dictionary.values()) + 1

    def encode_words(self, words: Sequence[str]) -> tuple[list[int], list[int]]:
        """(piece ids, index of the word each piece belongs to); every word has >= 1 piece."""
        unk = self.dictionary["<unk>"]
        ids, owners = [], []
        for index, word in enumerate(words):
            pieces = self.bpe.apply(word) or ("<unk>",)
            ids.extend(self.dictionary.get(piece, unk) for piece in pieces)
            owners.extend([index] * len(pieces))
        return ids, owners

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps({"kind": KIND, "codes": [list(c) for c in self.bpe.codes],
                                          "vocab": self.vocab, "dictionary": self.dictionary}))

    @classmethod
    def from_file(cls, path: str | Path) -> FastBPETokenizer:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if data.get("kind") != KIND:
            raise InputError(path, None, f"not a fastBPE tokenizer file (kind {data.get('kind')!r})")
        return cls([tuple(c) for c in data["codes"]], data["vocab"], data["dictionary"])
