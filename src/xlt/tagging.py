"""Entity tag schemes and conversions between them.

The canonical scheme of xlt is IOB2 (every entity starts with ``B-``). Corpora come in
IOB1 (CoNLL-2003, Europeana FR), IOB2, BIOES and Szeged's B/I/E/1 scheme; they are
converted once, in the data stage. Conversions are permissive (they never fail on an
ill-formed sequence); :func:`validate_iob2` is the single strict check, run on the result.

Errors about one token raise :class:`TagError`, which carries the token index so that the
data stage can turn it into a file line number.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np

OUTSIDE = "O"


class TagError(ValueError):
    """An invalid tag at token ``index`` of a sentence."""

    def __init__(self, index: int, message: str) -> None:
        super().__init__(f"token {index + 1}: {message}")
        self.index = index
        self.message = message


def split_tag(tag: str) -> tuple[str, str | None]:
    """``"B-PER"`` -> ``("B", "PER")``; ``"O"`` -> ``("O", None)``.

    Only the first hyphen separates prefix and type, so types such as ``GPE_LOC`` or
    ``B-X-Y`` style types survive. A tag without a hyphen other than ``O`` yields
    ``(tag, None)`` and is rejected by the scheme checks.
    """
    if tag == OUTSIDE:
        return OUTSIDE, None
    prefix, sep, entity_type = tag.partition("-")
    if not sep:
        return tag, None
    return prefix, entity_type


def check_scheme(tags: Sequence[str], prefixes: str) -> None:
    """Raise :class:`TagError` for a tag that is not ``O`` or ``P-TYPE`` with P in ``prefixes``."""
    for i, tag in enumerate(tags):
        prefix, entity_type = split_tag(tag)
        if prefix == OUTSIDE:
            continue
        if prefix not in prefixes or not entity_type:
            allowed = ", ".join(f"{p}-TYPE" for p in prefixes)
            raise TagError(i, f"tag {tag!r} is not O or one of {allowed}")


def iob1_to_iob2(tags: Sequence[str]) -> list[str]:
    """IOB1 (``B-`` only between adjacent same-type entities) -> IOB2.

    An ``I-X`` that does not continue an ``X`` entity opens one and becomes ``B-X``. Applied
    to IOB2 input with stray ``I-`` starts, this is also the usual repair.
    """
    out: list[str] = []
    prev_type: str | None = None
    for tag in tags:
        prefix, entity_type = split_tag(tag)
        if prefix == "I" and entity_type != prev_type:
            tag = f"B-{entity_type}"
        out.append(tag)
        prev_type = entity_type
    return out


def iob2_to_iobes(tags: Sequence[str]) -> list[str]:
    """IOB2 -> IOBES (BIOES): single-token entities get ``S-``, last tokens ``E-``."""
    out: list[str] = []
    for i, tag in enumerate(tags):
        prefix, entity_type = split_tag(tag)
        if prefix == OUTSIDE:
            out.append(tag)
            continue
        nxt = split_tag(tags[i + 1]) if i + 1 < len(tags) else (OUTSIDE, None)
        continues = nxt == ("I", entity_type)
        if prefix == "B":
            out.append(f"{'B' if continues else 'S'}-{entity_type}")
        else:
            out.append(f"{'I' if continues else 'E'}-{entity_type}")
    return out


def iobes_to_iob2(tags: Sequence[str]) -> list[str]:
    """IOBES -> IOB2: ``S-`` becomes ``B-``, ``E-`` becomes ``I-``."""
    rename = {"S": "B", "E": "I"}
    out = []
    for tag in tags:
        prefix, entity_type = split_tag(tag)
        out.append(f"{rename[prefix]}-{entity_type}" if prefix in rename else tag)
    return out


def bie1_to_iob2(tags: Sequence[str]) -> list[str]:
    """Szeged NER's B/I/E/1 scheme -> IOB2: ``1-`` (single token) is ``B-``, ``E-`` is ``I-``."""
    rename = {"1": "B", "E": "I"}
    out = []
    for tag in tags:
        prefix, entity_type = split_tag(tag)
        out.append(f"{rename[prefix]}-{entity_type}" if prefix in rename else tag)
    return out


# The names of docs/contracts.md.
to_iobes = iob2_to_iobes
from_iobes = iobes_to_iob2

#: scheme name (datasets.yaml ``tag_scheme``) -> (allowed prefixes, converter to IOB2)
SCHEMES = {
    "IOB1": ("BI", iob1_to_iob2),
    "IOB2": ("BI", list),
    "BIOES": ("BIES", iobes_to_iob2),
    "IOBES": ("BIES", iobes_to_iob2),
    "BIE1": ("BIE1", bie1_to_iob2),
}


def scheme_to_iob2(tags: Sequence[str], scheme: str) -> list[str]:
    """Check ``tags`` against ``scheme``'s prefixes and convert them to IOB2."""
    if scheme not in SCHEMES:
        raise ValueError(f"unknown entity tag scheme {scheme!r}; known: {', '.join(SCHEMES)}")
    prefixes, convert = SCHEMES[scheme]
    check_scheme(tags, prefixes)
    return convert(tags)


def validate_iob2(tags: Sequence[str], labels: Iterable[str] | None = None) -> None:
    """Raise :class:`TagError` unless ``tags`` is well-formed IOB2 over the types ``labels``.

    Well-formed: every tag is ``O``, ``B-X`` or ``I-X``; an ``I-X`` follows ``B-X`` or ``I-X``.
    ``labels`` are entity types (``PER``, ...); ``None`` accepts any type.
    """
    allowed = None if labels is None else set(labels)
    prev_type: str | None = None
    for i, tag in enumerate(tags):
        prefix, entity_type = split_tag(tag)
        if prefix == OUTSIDE:
            prev_type = None
            continue
        if prefix not in ("B", "I") or not entity_type:
            raise TagError(i, f"tag {tag!r} is not O, B-TYPE or I-TYPE")
        if allowed is not None and entity_type not in allowed:
            raise TagError(i, f"entity type {entity_type!r} of tag {tag!r} is not one of {sorted(allowed)}")
        if prefix == "I" and entity_type != prev_type:
            raise TagError(i, f"tag {tag!r} does not continue a {entity_type} entity (IOB2 needs B- first)")
        prev_type = entity_type


def entity_spans(tags: Sequence[str]) -> list[tuple[str, int, int]]:
    """Entities of an IOB2 sequence as ``(type, start, end)`` with ``end`` exclusive.

    Like conlleval, an ``I-X`` that does not continue an ``X`` entity starts a new one, so
    the function also works on (unvalidated) model output.
    """
    spans: list[tuple[str, int, int]] = []
    start: int | None = None
    current: str | None = None
    for i, tag in enumerate(list(tags) + [OUTSIDE]):
        prefix, entity_type = split_tag(tag)
        continues = prefix == "I" and entity_type == current
        if current is not None and not continues:
            spans.append((current, start, i))  # type: ignore[arg-type]
            current = None
        if prefix in ("B", "I") and not continues:
            current, start = entity_type, i
    return spans


def map_types(tags: Sequence[str], mapping: Mapping[str, str | None]) -> list[str]:
    """Rename entity types of IOB2 ``tags``; a type mapped to ``None`` becomes ``O``.

    Types absent from ``mapping`` are kept. Used for NorNE's 8 types (``GPE_LOC`` -> ``LOC``,
    ``PROD`` -> ``MISC``, ...) and for Meta-NER's MISC -> O. Must run after conversion to
    IOB2, where every entity has its own ``B-``, so merging types never merges entities.
    """
    out = []
    for tag in tags:
        prefix, entity_type = split_tag(tag)
        if entity_type is None or entity_type not in mapping:
            out.append(tag)
        elif mapping[entity_type] is None:
            out.append(OUTSIDE)
        else:
            out.append(f"{prefix}-{mapping[entity_type]}")
    return out


def bio_allowed_transitions(labels: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Allowed IOB2 transitions over the ordered tag list ``labels`` (e.g. ``O, B-PER, I-PER``).

    Returns ``(allowed, start_allowed)``: ``allowed[i, j]`` is True when tag ``j`` may follow
    tag ``i``; ``start_allowed[j]`` when tag ``j`` may open a sentence. ``I-X`` may only follow
    ``B-X`` or ``I-X`` and never starts a sentence; everything else is free. Used by the
    constrained Viterbi decoder (UniTrans decodes softmax outputs this way).
    """
    parsed = [split_tag(label) for label in labels]
    for label, (prefix, entity_type) in zip(labels, parsed):
        if prefix != OUTSIDE and (prefix not in ("B", "I") or not entity_type):
            raise ValueError(f"label {label!r} is not an IOB2 tag")
    k = len(labels)
    allowed = np.ones((k, k), dtype=bool)
    start_allowed = np.ones(k, dtype=bool)
    for j, (prefix, entity_type) in enumerate(parsed):
        if prefix != "I":
            continue
        start_allowed[j] = False
        for i, (prev_prefix, prev_type) in enumerate(parsed):
            allowed[i, j] = prev_prefix in ("B", "I") and prev_type == entity_type
    return allowed, start_allowed
