"""The 12 universal POS tags of Petrov, Das & McDonald (2012) and the maps onto them.

Bao et al. (2019) and van der Heijden et al. (2019) evaluate POS with these 12 tags, not
with the 17 UPOS tags of current UD. Two kinds of map lead there:

* treebank tag sets -> 12 tags: the ``universal_tagset`` maps of NLTK
  (``universal_tagset/en-ptb.map`` etc., lines ``FINE<TAB>COARSE``), loaded with
  :func:`load_tagset_map` / :func:`build_pos_map`;
* UPOS -> 12 tags: :data:`UPOS_TO_UNIVERSAL12`, fixed here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from os import PathLike

from xlt.errors import InputError
from xlt.io.source import read_source

#: Petrov et al.'s tag set, in the order of their paper.
UNIVERSAL12 = ("VERB", "NOUN", "PRON", "ADJ", "ADV", "ADP", "CONJ", "DET", "NUM", "PRT", "X", ".")

#: UD v2's 17 UPOS tags.
UPOS17 = (
    "ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM",
    "PART", "PRON", "PROPN", "PUNCT", "SCONJ", "SYM", "VERB", "X",
)  # fmt: skip

#: UPOS -> 12 tags. UPOS refines the 12-tag set, so most tags merge back into their
#: parent: AUX -> VERB and PROPN -> NOUN (Petrov maps PTB's MD and NNP likewise),
#: CCONJ / SCONJ -> CONJ, PART -> PRT, PUNCT -> ".". INTJ and SYM have no 12-tag
#: counterpart and go to X, as PTB's UH and SYM do in en-ptb.map. ``CONJ`` is UD v1's
#: name of CCONJ (the UD 1.3 Arabic-PADT files still use it).
UPOS_TO_UNIVERSAL12: dict[str, str] = {
    "ADJ": "ADJ",
    "ADP": "ADP",
    "ADV": "ADV",
    "AUX": "VERB",
    "CCONJ": "CONJ",
    "CONJ": "CONJ",
    "DET": "DET",
    "INTJ": "X",
    "NOUN": "NOUN",
    "NUM": "NUM",
    "PART": "PRT",
    "PRON": "PRON",
    "PROPN": "NOUN",
    "PUNCT": ".",
    "SCONJ": "CONJ",
    "SYM": "X",
    "VERB": "VERB",
    "X": "X",
}


@dataclass(frozen=True)
class PosTagMap:
    """A fine tag set -> 12 universal tags.

    With ``prefix_completion`` a tag missing from ``table`` is mapped when every table
    entry that extends it maps to one and the same universal tag. CoNLL-2002 Spanish
    needs this: its POS column holds truncated EAGLES tags (``NC``, ``VMI``, ``AQ``) while
    ``es-eagles.map`` lists full ones (``NCMS000``, ``VMIP3S0``, ...).
    """

    name: str
    table: Mapping[str, str]
    prefix_completion: bool = False
    _completions: dict[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        options: dict[str, set[str]] = {}
        if self.prefix_completion:
            for fine, coarse in self.table.items():
                for end in range(1, len(fine)):
                    options.setdefault(fine[:end], set()).add(coarse)
        unique = {prefix: next(iter(tags)) for prefix, tags in options.items() if len(tags) == 1}
        object.__setattr__(self, "_completions", unique)

    def lookup(self, tag: str) -> str | None:
        """The universal tag of ``tag``, or ``None`` when the map does not cover it."""
        coarse = self.table.get(tag)
        return coarse if coarse is not None else self._completions.get(tag)


UPOS_MAP = PosTagMap("UPOS->universal12", UPOS_TO_UNIVERSAL12)


def load_tagset_map(path: str | PathLike[str], member: str | None = None) -> dict[str, str]:
    """Read a ``FINE<TAB>COARSE`` map file (or zip member, e.g. ``universal_tagset/en-ptb.map``).

    Fields are split on any whitespace and a lone carriage return also ends an entry:
    NLTK's own ``es-iula.map`` has space-separated lines, ``ru-rnc.map`` a trailing tab and
    ``es-eagles.map`` some old-Mac line breaks. Raises :class:`InputError` naming the line for
    a line without exactly two fields, a coarse tag outside :data:`UNIVERSAL12`, or a fine
    tag listed twice with different coarse tags.
    """
    source = read_source(path, "utf-8", member)
    table: dict[str, str] = {}
    for number, line in enumerate(source.lines(), start=1):
        for entry in line.split("\r"):
            fields = entry.split()
            if not fields:
                continue
            if len(fields) != 2:
                raise InputError(source.name, number, f"expected 'FINE<TAB>COARSE', found {entry!r}")
            fine, coarse = fields
            if coarse not in UNIVERSAL12:
                raise InputError(source.name, number, f"{coarse!r} is not one of the 12 universal tags")
            if table.get(fine, coarse) != coarse:
                raise InputError(source.name, number, f"{fine!r} mapped to both {table[fine]!r} and {coarse!r}")
            table[fine] = coarse
    if not table:
        raise InputError(source.name, None, "no tag mappings found")
    return table


def build_pos_map(
    path: str | PathLike[str],
    member: str | None = None,
    *,
    extra: Mapping[str, str] | None = None,
    prefix_completion: bool = False,
) -> PosTagMap:
    """A :class:`PosTagMap` from a map file plus ``extra`` entries (which win).

    ``extra`` covers tags a corpus uses but the map lacks, e.g. the plain double quote in
    CoNLL-2003 English (en-ptb.map lists only the PTB quote tags), ``PAV`` (old STTS name of
    ``PROAV``) in CoNLL-2003 German, ``Y`` (abbreviation) in CoNLL-2002 Spanish.
    """
    table = load_tagset_map(path, member)
    for fine, coarse in (extra or {}).items():
        if coarse not in UNIVERSAL12:
            raise ValueError(f"extra POS mapping {fine!r} -> {coarse!r}: not one of the 12 universal tags")
        table[fine] = coarse
    name = f"{path}:{member}" if member else str(path)
    return PosTagMap(name, table, prefix_completion)
