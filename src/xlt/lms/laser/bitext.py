"""Sentence pairs for the stand-in encoder, from the multi-way parallel sets of the text stage.

LASER was trained on sentences of 93 languages "translated into English and/or Spanish";
offline, the mirror's text holds sentence-parallel sets (FLORES-200 devtest: the same 1,012
sentences in every language; WMT newstest 2008-2013: multi-way), one file per language and
set, line ``i`` of one the translation of line ``i`` of another. Every source language is
paired with every target language (``en``, ``es``) that has the same set, other than itself.

The last ``holdout`` lines of one set (FLORES) are kept out of training in every language:
the retrieval check reads them (:mod:`xlt.lms.laser.training`).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from xlt.errors import InputError
from xlt.lms.laser.preprocess import normalize_line


@dataclass(frozen=True)
class Bitext:
    """Aligned normalised sentences of one set: ``source[i]`` translates to ``target[i]``."""

    set_name: str
    source_lang: str
    target_lang: str
    source: tuple[tuple[str, ...], ...]
    target: tuple[tuple[str, ...], ...]


def read_lines(path: str | Path) -> list[str]:
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise InputError(path, line, f"not UTF-8 ({exc.reason})") from exc
    return text.rstrip("\n").split("\n") if text else []


def read_set(files: Mapping[str, str | Path], set_name: str) -> dict[str, list[list[str]]]:
    """Each language's normalised lines of one multi-way set; every file must have as many
    lines as the others (else the set is not aligned: an error naming both files)."""
    lines = {lang: read_lines(path) for lang, path in files.items()}
    (first_lang, first), *rest = lines.items()
    for lang, other in rest:
        if len(other) != len(first):
            raise InputError(Path(files[lang]), None,
                             f"set {set_name}: {len(other)} lines, but {files[first_lang]} ({first_lang}) has "
                             f"{len(first)}: not line-aligned")
    return {lang: [normalize_line(line, lang) for line in text] for lang, text in lines.items()}


def read_sets(sets: Mapping[str, Mapping[str, str | Path]]) -> dict[str, dict[str, list[list[str]]]]:
    """:func:`read_set` of every set (``set -> lang -> file``)."""
    return {set_name: read_set(files, set_name) for set_name, files in sorted(sets.items())}


def build_bitexts(texts: Mapping[str, Mapping[str, list[list[str]]]], targets: Sequence[str], holdout_set: str,
                  holdout: int) -> tuple[list[Bitext], dict[str, list[list[str]]]]:
    """Training pairs of every set (``set -> lang -> sentences``, :func:`read_sets`) into each
    target language, and the held-out block (``lang -> sentences``, the last ``holdout`` lines
    of ``holdout_set``). A line pair is kept when both sides have words."""
    pairs: list[Bitext] = []
    held: dict[str, list[list[str]]] = {}
    for set_name, text in sorted(texts.items()):
        text = dict(text)
        if set_name == holdout_set:
            n = len(next(iter(text.values())))
            if not 0 < holdout < n:
                raise ValueError(f"holdout {holdout} must be between 0 and the {n} lines of {set_name}")
            held = {lang: lines[n - holdout:] for lang, lines in text.items()}
            text = {lang: lines[: n - holdout] for lang, lines in text.items()}
        for target in targets:
            if target not in text:
                continue
            for source in sorted(text):
                if source == target:
                    continue
                kept = [(s, t) for s, t in zip(text[source], text[target]) if s and t]
                pairs.append(Bitext(set_name, source, target, tuple(tuple(s) for s, _ in kept),
                                    tuple(tuple(t) for _, t in kept)))
    if holdout_set not in texts:
        raise ValueError(f"the held-out set {holdout_set!r} is not among the sets {sorted(texts)}")
    return pairs, held


def catalog_sets(catalog, languages: Sequence[str], sets: Sequence[str]) -> dict[str, dict[str, object]]:
    """``set -> lang -> catalog resource`` of the multi-way sets (``text_<lang>_<set>``) that
    at least two of ``languages`` have; a set none of them pairs is left out."""
    found: dict[str, dict[str, object]] = {}
    for set_name in sets:
        files = {lang: catalog.resources[f"text_{lang}_{set_name}"] for lang in languages
                 if f"text_{lang}_{set_name}" in catalog.resources}
        if len(files) >= 2:
            found[set_name] = files
    return found
