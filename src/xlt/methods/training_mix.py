"""Training sets drawn from several languages (van der Heijden et al.'s joint training, Table 3).

A setting's ``train_mix`` names the training languages and the share of each one's (capped)
training split that the run trains on: ``languages`` (the source among them: it names the
run, as the English source of a zero-shot run), ``share`` of each, and ``source_share`` of the
source (default: ``share``). Scenario A is ``{languages: [en, nl, de, es], share: 0.25}``,
scenario B the same with ``source_share: 1.0``. (A list and scalars, not a language -> share
mapping: a config overlay replaces a list but merges a mapping's keys, which would add the
base plan's languages to an overlay's mix.) The other languages' training tables are the
job's inputs ``mix_train_<lang>``.

The share of a language is a seeded sample of its sentences, seeded by the run's seed and
the language alone, so that scenario A and B of one seed hold the same quarter of Dutch,
German and Spanish and their difference is English's other three quarters; a share of 1
keeps every sentence. The languages are kept per sentence: a tagger that reads a sentence
through a language-aware tokenizer (LASER's punctuation normalisation) reads each in its own.
"""
from __future__ import annotations

import logging
import random
import zlib
from typing import Any, Sequence

from xlt.errors import ConfigError

log = logging.getLogger("xlt.methods.training_mix")

MIX_INPUT_PREFIX = "mix_train_"


def sample_indices(n: int, fraction: float, seed: int) -> list[int]:
    """A seeded random ``fraction`` of ``n`` sentences (at least one), in corpus order."""
    if not 0 < fraction <= 1:
        raise ConfigError(f"a sample fraction must be in (0, 1], got {fraction}")
    k = max(1, round(fraction * n))
    return sorted(random.Random(seed).sample(range(n), k))


def language_seed(seed: int, lang: str) -> int:
    """The sampling seed of one language's share: the run's seed and the language, nothing
    else (a stable hash: Python's ``hash`` of a string changes between processes)."""
    return seed * 1_000_003 + zlib.crc32(lang.encode("utf-8"))


def check_train_mix(mix: Any, source: str, where: str) -> dict[str, float]:
    """The ``train_mix`` of a setting, checked, as language -> share in (0, 1] (the source
    first)."""
    if not isinstance(mix, dict) or not isinstance(mix.get("languages"), list) or "share" not in mix:
        raise ConfigError(f"{where}: train_mix needs languages (a list) and share (of each language's "
                          f"training set), got {mix!r}")
    unknown = sorted(set(mix) - {"languages", "share", "source_share"})
    if unknown:
        raise ConfigError(f"{where}: train_mix has unknown keys {unknown} (languages, share, source_share)")
    languages = [str(lang) for lang in mix["languages"]]
    if source not in languages:
        raise ConfigError(f"{where}: train_mix languages {languages} must include the run's source {source!r}")
    if len(set(languages)) != len(languages):
        raise ConfigError(f"{where}: train_mix lists a language twice: {languages}")
    shares = {}
    for key in ("share", "source_share"):
        value = mix.get(key, mix["share"])
        try:
            shares[key] = float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{where}: train_mix {key} is not a number: {value!r}") from None
        if not 0 < shares[key] <= 1:
            raise ConfigError(f"{where}: train_mix {key} must be in (0, 1], got {value!r}")
    return {source: shares["source_share"], **{lang: shares["share"] for lang in languages if lang != source}}


def mixed_training_data(spec, train: tuple,
                        load: Any = None) -> tuple[list[list[str]], list[list[str]], list[str], list[str]]:
    """(tokens, tags, sentence ids, language per sentence) a run trains on: the source's
    ``train`` as read (capped) without ``train_mix``; with one, each language's share, the
    source first, then the others in the mix's order. ``load(path, limit)`` reads a table
    (``xlt.methods.common.load_sentences``)."""
    tokens, tags, ids = train
    mix = spec.hparams.get("train_mix")
    if mix is None:
        return list(tokens), list(tags), list(ids), [spec.source] * len(tokens)
    if load is None:
        from xlt.methods.common import load_sentences as load
    shares = check_train_mix(mix, spec.source, f"methods.{spec.method}.settings.{spec.setting}")
    out_tokens: list[list[str]] = []
    out_tags: list[list[str]] = []
    out_ids: list[str] = []
    langs: list[str] = []
    for lang in shares:  # the source first
        if lang == spec.source:
            sentences = (tokens, tags, ids)
        else:
            key = f"{MIX_INPUT_PREFIX}{lang}"
            if key not in spec.inputs:
                raise ConfigError(f"{spec.method}/{spec.setting}: train_mix names {lang!r} and the job has no "
                                  f"input {key!r} (its training table)")
            sentences = load(spec.inputs[key], spec.max_sentences.get("train"))
        chosen = sample_indices(len(sentences[0]), shares[lang], language_seed(spec.seed, lang))
        log.info("training mix: %s %d of %d sentences (share %g)", lang, len(chosen), len(sentences[0]),
                 shares[lang])
        out_tokens += [list(sentences[0][i]) for i in chosen]
        out_tags += [list(sentences[1][i]) for i in chosen]
        out_ids += [f"{lang}/{sentences[2][i]}" for i in chosen]
        langs += [lang] * len(chosen)
    return out_tokens, out_tags, out_ids, langs


def mix_summary(langs: Sequence[str]) -> dict[str, int]:
    """Training sentences per language (recorded in the model's manifest)."""
    counts: dict[str, int] = {}
    for lang in langs:
        counts[lang] = counts.get(lang, 0) + 1
    return counts
