"""Data-stage orchestration: raw reader output -> canonical sentences.

NER: the file's scheme (IOB1, IOB2, BIOES, BIE1) is checked and converted to IOB2, entity
types are renamed or dropped (``type_map``), and the result is validated against the
allowed types. POS: UPOS tags, or the fine tags of a CoNLL POS column, are mapped to the
12 universal tags. Every failure is an :class:`InputError` naming the source file and the
line of the offending token (kept by readers in ``Sentence.token_lines``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from os import PathLike
from typing import Any

from xlt.errors import ConfigError, InputError
from xlt.io.registry import read_corpus
from xlt.io.sentence import Sentence
from xlt.io.source import source_name
from xlt.postags import UPOS_MAP, PosTagMap
from xlt.tagging import SCHEMES, TagError, map_types, scheme_to_iob2, validate_iob2

KINDS = ("ner", "pos")


def _ner_tags(
    sentence: Sentence,
    source: str,
    tag_scheme: str,
    labels: Iterable[str] | None,
    type_map: Mapping[str, str | None] | None,
) -> tuple[str, ...]:
    try:
        tags = scheme_to_iob2(sentence.tags, tag_scheme)
        if type_map:
            tags = map_types(tags, type_map)
        validate_iob2(tags, labels)
    except TagError as err:
        where = sentence.line_of(err.index)
        token = sentence.tokens[err.index]
        raise InputError(
            source, where, f"{err.message} (token {token!r}, sentence {sentence.sentence_id}, {tag_scheme})"
        ) from None
    return tuple(tags)


def _pos_tags(sentence: Sentence, source: str, fine: Sequence[str], pos_map: PosTagMap) -> tuple[str, ...]:
    tags = []
    for index, tag in enumerate(fine):
        coarse = pos_map.lookup(tag)
        if coarse is None:
            raise InputError(
                source,
                sentence.line_of(index),
                f"POS tag {tag!r} (token {sentence.tokens[index]!r}) has no universal tag in {pos_map.name}",
            )
        tags.append(coarse)
    return tuple(tags)


def _resolve_pos_map(
    pos_map: PosTagMap | Mapping[str, str] | None, tag_scheme: str, use_pos_column: bool
) -> PosTagMap:
    if isinstance(pos_map, PosTagMap):
        return pos_map
    if pos_map is not None:
        return PosTagMap("pos_map", dict(pos_map))
    if tag_scheme == "UPOS" and not use_pos_column:
        return UPOS_MAP
    raise ConfigError(
        f"POS tags of scheme {tag_scheme!r} (not UPOS) need a pos_map, e.g. a universal_tagset .map file"
    )


def to_canonical(
    sentences: Iterable[Sentence],
    *,
    kind: str,
    tag_scheme: str,
    labels: Iterable[str] | None = None,
    type_map: Mapping[str, str | None] | None = None,
    pos_map: PosTagMap | Mapping[str, str] | None = None,
    use_pos_column: bool = False,
    source_path: str | PathLike[str] = "<unknown>",
) -> list[Sentence]:
    """Canonical tags for ``sentences`` read from ``source_path`` (used in error messages).

    ``kind="ner"``: ``tag_scheme`` is one of IOB1, IOB2, BIOES, BIE1; output tags are IOB2
    over ``labels`` (entity types; ``None`` allows any) after ``type_map`` (type -> new
    type, or ``None`` for O). ``kind="pos"``: the tags come from ``Sentence.pos`` when
    ``use_pos_column`` (CoNLL-2002/2003 POS columns) else from ``Sentence.tags``, mapped
    through ``pos_map`` to the 12 universal tags. Only UPOS tags (``tag_scheme`` UPOS, not
    from a POS column) have a default map, :data:`xlt.postags.UPOS_MAP`; any other scheme
    (FINE, none, or the NER scheme of a file whose POS column is used) needs one. The
    output ``pos`` is ``None`` for POS sentences and kept for NER ones.
    """
    source = str(source_path)
    if kind == "ner":
        if tag_scheme not in SCHEMES:
            raise ConfigError(f"NER tag_scheme must be one of {sorted(SCHEMES)}, not {tag_scheme!r}")
        allowed = None if labels is None else tuple(labels)
        return [replace(s, tags=_ner_tags(s, source, tag_scheme, allowed, type_map)) for s in sentences]
    if kind == "pos":
        mapping = _resolve_pos_map(pos_map, tag_scheme, use_pos_column)
        out = []
        for s in sentences:
            fine = s.pos if use_pos_column else s.tags
            if fine is None:
                raise InputError(source, None, "use_pos_column is set but the reader gives no POS column")
            out.append(replace(s, tags=_pos_tags(s, source, fine, mapping), pos=None))
        return out
    raise ConfigError(f"kind must be one of {KINDS}, not {kind!r}")


def build_split(
    entries: Sequence[Mapping[str, Any]],
    *,
    kind: str,
    labels: Iterable[str] | None = None,
    type_map: Mapping[str, str | None] | None = None,
    pos_map: PosTagMap | Mapping[str, str] | None = None,
    use_pos_column: bool = False,
    max_sentences: int | None = None,
) -> list[Sentence]:
    """Read, convert and concatenate the resources of one (task, lang, split).

    Each entry is a mapping with ``path``, ``format``, ``tag_scheme`` and optionally
    ``encoding`` (default utf-8), ``member`` and ``options`` (reader options). Entries are
    concatenated in the given order. ``max_sentences`` keeps the first N sentences: unlike
    a random sample this keeps documents contiguous (document context stays intact, and
    CoNLL-2002 Dutch sentences are only meaningful within their article) and gives the
    same subset whatever the seed, so a scaled-down plan evaluates every seed on the same
    data and a larger cap extends a smaller one. Entries after the cap is reached are
    not read.
    """
    if max_sentences is not None and max_sentences < 0:
        raise ConfigError(f"max_sentences must be non-negative, not {max_sentences!r}")
    labels = None if labels is None else tuple(labels)
    result: list[Sentence] = []
    for entry in entries:
        if max_sentences is not None and len(result) >= max_sentences:
            break
        missing = [key for key in ("path", "format", "tag_scheme") if key not in entry]
        if missing:
            raise ConfigError(f"corpus entry {dict(entry)!r} lacks {missing}")
        member = entry.get("member")
        raw = read_corpus(
            entry["format"],
            entry["path"],
            encoding=entry.get("encoding") or "utf-8",
            member=member,
            options=entry.get("options"),
        )
        result.extend(
            to_canonical(
                raw,
                kind=kind,
                tag_scheme=entry["tag_scheme"],
                labels=labels,
                type_map=type_map,
                pos_map=pos_map,
                use_pos_column=use_pos_column,
                source_path=source_name(entry["path"], member),
            )
        )
    return result if max_sentences is None else result[:max_sentences]
