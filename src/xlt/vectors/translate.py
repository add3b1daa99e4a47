"""Word-by-word translation of a labelled sentence table (Xie et al. 2018; UniTrans).

Each source token is replaced by the CSLS nearest neighbour (k=10) of its mapped vector in
the target vocabulary; its label is copied, so sentence lengths and label sequences are
unchanged. As in UniTrans' ``translate.py``:

* tokens labelled PER (``B-PER``, ``I-PER``, ...) are copied untranslated (names are
  mostly spelled the same across these languages), and so are words with no vector;
* a word is looked up by its exact form, then lowercased (UniTrans looks up only the
  lowercased form; trying the exact form first keeps cased vocabularies usable);
* the translation is taken lowercased and recased like the source token (all caps, or a
  capital first letter), or, with ``target_casing``, as the word is cased in a list of
  target-language tokens (UniTrans does this for German, whose nouns are capitalised):
  ``sample_from_target`` draws lower / Capitalised / other-upper with the frequencies seen
  there (seeded, so a run is reproducible), ``most_frequent_in_target`` takes the commonest.

Each distinct word is translated once, in blocks (:mod:`xlt.vectors.retrieval`).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from os import PathLike
from typing import Any

import numpy as np
import torch

from xlt.errors import InputError
from xlt.io.sentence import Sentence, read_table, read_table_metadata, write_table
from xlt.vectors.embeddings import Embeddings, read_vec
from xlt.vectors.retrieval import csls_topk, mean_topk_similarity, unit_rows

PathLikeStr = str | PathLike[str]

CASINGS = (None, "sample_from_target", "most_frequent_in_target")
_LOWER, _CAPITAL, _UPPER = 0, 1, 2


def casing_distribution(tokens: Iterable[str]) -> dict[str, np.ndarray]:
    """UniTrans ``get_lower_vocab``: for each lowercased word, the shares of its occurrences
    written lowercase, Capitalised, and otherwise (upper/mixed case)."""
    counts: dict[str, np.ndarray] = {}
    for token in tokens:
        lower = token.lower()
        row = counts.setdefault(lower, np.zeros(3))
        if token == lower:
            row[_LOWER] += 1
        elif token == token.capitalize():
            row[_CAPITAL] += 1
        else:
            row[_UPPER] += 1
    return {word: row / row.sum() for word, row in counts.items()}


def _apply_case(word: str, case: int) -> str:
    if case == _CAPITAL:
        return word.capitalize()
    if case == _UPPER:
        return word.upper()
    return word


def _like_source(source: str, translation: str) -> str:
    """UniTrans' default recasing: follow the source token's capitalisation."""
    if source.isupper():
        return translation.upper()
    if source[:1].isupper():
        return translation[:1].upper() + translation[1:]
    return translation


def _is_copied_type(tag: str, copy_types: Sequence[str]) -> bool:
    return len(tag) > 2 and tag[1] == "-" and tag[2:] in copy_types


def translate_words(
    words: Sequence[str],
    src: Embeddings,
    tgt: Embeddings,
    knn: int = 10,
    device: str | torch.device | None = None,
) -> dict[str, str]:
    """``{word: lowercased CSLS translation}`` for the ``words`` that have a source vector
    (exact form first, then lowercased); words without one are left out."""
    device = torch.device(device or "cpu")
    rows: dict[str, int] = {}
    for word in words:
        row = src.index.get(word, src.index.get(word.lower()))
        if row is not None:
            rows[word] = row
    if not rows:
        return {}
    src_unit = unit_rows(torch.from_numpy(src.vectors).to(device))
    tgt_unit = unit_rows(torch.from_numpy(tgt.vectors).to(device))
    distinct = sorted(set(rows.values()))
    queries = src_unit[distinct]
    k = min(knn, tgt_unit.shape[0], src_unit.shape[0])
    r_queries = mean_topk_similarity(queries, tgt_unit, k)
    r_keys = mean_topk_similarity(tgt_unit, src_unit, k)
    _, best = csls_topk(queries, tgt_unit, 1, r_queries, r_keys)
    target_of_row = {row: tgt.words[int(j)].lower() for row, j in zip(distinct, best[:, 0].tolist())}
    return {word: target_of_row[row] for word, row in rows.items()}


def translate_table(
    table_path: PathLikeStr,
    src_vec: PathLikeStr,
    tgt_vec: PathLikeStr,
    out_path: PathLikeStr,
    *,
    knn: int = 10,
    copy_types: Sequence[str] = ("PER",),
    target_casing: str | None = None,
    casing_tokens: Iterable[str] | None = None,
    max_vocab: int | None = None,
    seed: int = 0,
    device: str | torch.device | None = None,
) -> dict[str, Any]:
    """Translate the canonical table ``table_path`` with mapped source vectors ``src_vec``
    (already in the target space) and target vectors ``tgt_vec``; write ``out_path``.

    ``casing_tokens`` (target-language tokens) are required by the ``target_casing`` options.
    ``max_vocab`` limits both vocabularies to their most frequent words (UniTrans: 100k).
    Returns counts (tokens, translated, copied as PER, copied as out-of-vocabulary, ...),
    which are also stored in the output table's metadata.
    """
    if target_casing not in CASINGS:
        raise ValueError(f"target_casing must be one of {CASINGS}, got {target_casing!r}")
    casing: Mapping[str, np.ndarray] = {}
    if target_casing is not None:
        if casing_tokens is None:
            raise ValueError(f"target_casing={target_casing} needs casing_tokens (target-language tokens)")
        casing = casing_distribution(casing_tokens)
    table = read_table(table_path)
    try:
        metadata = read_table_metadata(table_path)
    except InputError:
        metadata = {}
    src = read_vec(src_vec, max_vocab)
    tgt = read_vec(tgt_vec, max_vocab, dim=src.dim)

    to_translate = sorted({token for tokens, tags in zip(table["tokens"], table["tags"])
                           for token, tag in zip(tokens, tags) if not _is_copied_type(tag, copy_types)})
    dictionary = translate_words(to_translate, src, tgt, knn, device)

    rng = np.random.default_rng(seed)
    counts = {"sentences": len(table), "tokens": 0, "translated": 0, "copied_type": 0, "copied_oov": 0,
              "distinct_words": len(to_translate), "distinct_translated": len(dictionary)}
    sentences = []
    for tokens, tags, doc_id, sentence_id in zip(table["tokens"], table["tags"], table["doc_id"], table["sentence_id"]):
        out = []
        for token, tag in zip(tokens, tags):
            counts["tokens"] += 1
            if _is_copied_type(tag, copy_types):
                counts["copied_type"] += 1
                out.append(token)
            elif token not in dictionary:
                counts["copied_oov"] += 1
                out.append(token)
            else:
                counts["translated"] += 1
                word = dictionary[token]
                shares = casing.get(word)
                if shares is None:
                    out.append(_like_source(token, word))
                elif target_casing == "sample_from_target":
                    out.append(_apply_case(word, int(rng.choice(3, p=shares))))
                else:
                    out.append(_apply_case(word, int(np.argmax(shares))))
        sentences.append(Sentence(tuple(out), tuple(tags), doc_id, sentence_id))
    settings = {"method": "word-by-word CSLS", "knn": knn, "copy_types": list(copy_types),
                "target_casing": target_casing, "max_vocab": max_vocab, "seed": seed,
                "src_vectors": str(src_vec), "tgt_vectors": str(tgt_vec), "source_table": str(table_path)}
    write_table(sentences, out_path, {**metadata, "translation": {**settings, "counts": counts}})
    return counts
