"""Word-translation precision P@k (MUSE ``get_word_translation_accuracy``).

A bilingual dictionary lists ``src tgt`` pairs (whitespace separated, one per line; a source
word may have several lines). Pairs with a word missing from either vocabulary are dropped
and the coverage is reported, as MUSE does (it only logs it). A source word counts as
correct at k when *any* of its gold translations is among its k best retrieved targets,
and P@k is the percentage of covered source words that are correct.

Retrieval is NN (cosine) or CSLS, over the whole target vocabulary, with CSLS neighbourhood
means over the whole vocabularies (as MUSE), computed in blocks (:mod:`xlt.vectors.retrieval`).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from os import PathLike
from typing import Any

import torch

from xlt.errors import InputError
from xlt.vectors.embeddings import read_vec
from xlt.vectors.retrieval import block_rows, csls_topk, mean_topk_similarity, nn_topk, unit_rows

PathLikeStr = str | PathLike[str]

DEFAULT_METHODS = ("nn", "csls_knn_10")
DEFAULT_KS = (1, 5, 10)


def read_dictionary(paths: PathLikeStr | Sequence[PathLikeStr], encoding: str = "utf-8") -> list[tuple[str, str]]:
    """The (source, target) pairs of one or more dictionary files, concatenated in order.

    Blank lines are skipped (MUSE skips them too); any other line that is not exactly two
    fields raises InputError naming the file and line (MUSE would crash on it).
    """
    if isinstance(paths, (str, PathLike)):
        paths = [paths]
    pairs: list[tuple[str, str]] = []
    for path in paths:
        try:
            with open(path, encoding=encoding) as handle:
                for lineno, line in enumerate(handle, start=1):
                    fields = line.split()
                    if not fields:
                        continue
                    if len(fields) != 2:
                        raise InputError(path, lineno, f"expected 'source target', got {len(fields)} fields")
                    pairs.append((fields[0], fields[1]))
        except UnicodeDecodeError as err:
            raise InputError(path, None, f"not valid {encoding}: {err.reason}") from err
    return pairs


def lookup_pairs(
    pairs: Iterable[tuple[str, str]], src_index: Mapping[str, int], tgt_index: Mapping[str, int]
) -> tuple[torch.Tensor, dict[str, int]]:
    """Index pairs (sorted by source rank, as MUSE) of the pairs both vocabularies cover, and
    the coverage: pairs and source words listed / found."""
    pairs = list(pairs)
    found = sorted({(src_index[s], tgt_index[t]) for s, t in pairs if s in src_index and t in tgt_index})
    coverage = {
        "pairs": len(pairs),
        "pairs_found": len(found),
        "source_words": len({s for s, _ in pairs}),
        "source_words_found": len({i for i, _ in found}),
    }
    dico = torch.tensor(found, dtype=torch.long).reshape(-1, 2)
    return dico, coverage


def precision_at_k(
    src_unit: torch.Tensor,
    tgt_unit: torch.Tensor,
    dico: torch.Tensor,
    methods: Sequence[str] = DEFAULT_METHODS,
    ks: Sequence[int] = DEFAULT_KS,
    block: int | None = None,
) -> dict[str, dict[str, float]]:
    """``{method: {"p@k": percent}}`` for unit-normalised (mapped) source and target vectors."""
    if dico.shape[0] == 0:
        return {method: {f"p@{k}": float("nan") for k in ks} for method in methods}
    block = block or block_rows(tgt_unit.shape[0], tgt_unit.element_size())
    sources, inverse = torch.unique(dico[:, 0], return_inverse=True)
    queries = src_unit[sources]
    kmax = min(max(ks), tgt_unit.shape[0])
    results: dict[str, dict[str, float]] = {}
    for method in methods:
        if method == "nn":
            _, top = nn_topk(queries, tgt_unit, kmax, block)
        elif method.startswith("csls_knn_"):
            knn = int(method[len("csls_knn_"):])
            r_src = mean_topk_similarity(queries, tgt_unit, knn, block)
            r_tgt = mean_topk_similarity(tgt_unit, src_unit, knn, block)
            _, top = csls_topk(queries, tgt_unit, kmax, r_src, r_tgt, block)
        else:
            raise ValueError(f"unknown retrieval method {method!r} (nn or csls_knn_<k>)")
        results[method] = {}
        for k in ks:
            hit_pair = (top[inverse, :k] == dico[:, 1:2]).any(dim=1)
            # A source word is correct if any of its gold translations is retrieved.
            hit_word = torch.zeros(sources.shape[0], dtype=torch.long, device=hit_pair.device)
            hit_word.scatter_reduce_(0, inverse, hit_pair.long(), "amax")
            results[method][f"p@{k}"] = 100.0 * float(hit_word.float().mean())
    return results


def word_translation(
    src_vec: PathLikeStr,
    tgt_vec: PathLikeStr,
    dictionary: PathLikeStr | Sequence[PathLikeStr] | Sequence[tuple[str, str]],
    *,
    max_vocab: int | None = 200_000,
    lowercase: bool = True,
    methods: Sequence[str] = DEFAULT_METHODS,
    ks: Sequence[int] = DEFAULT_KS,
    device: str | torch.device | None = None,
) -> dict[str, Any]:
    """P@k of mapped source vectors ``src_vec`` against ``tgt_vec`` on ``dictionary`` files.

    The vocabularies are read as MUSE evaluates (``max_vocab`` 200k, lowercased: the MUSE
    dictionaries are lowercase). ``dictionary`` is dictionary files, or the (source, target)
    pairs themselves. Returns ``{"nn": {"p@1": ...}, ..., "coverage": {...}}``.
    """
    device = torch.device(device or "cpu")
    src = read_vec(src_vec, max_vocab, lowercase=lowercase)
    tgt = read_vec(tgt_vec, max_vocab, dim=src.dim, lowercase=lowercase)
    given = list(dictionary) if not isinstance(dictionary, (str, PathLike)) else [dictionary]
    pairs = given if given and isinstance(given[0], tuple) else read_dictionary(given)
    dico, coverage = lookup_pairs(pairs, src.index, tgt.index)
    src_unit = unit_rows(torch.from_numpy(src.vectors).to(device))
    tgt_unit = unit_rows(torch.from_numpy(tgt.vectors).to(device))
    scores: dict[str, Any] = precision_at_k(src_unit, tgt_unit, dico.to(device), methods, ks)
    scores["coverage"] = coverage
    return scores


# --------------------------------------------------------------------------- workflow steps

#: Identity dictionary of the split-half sanity rows: source-vocabulary ranks [start, end),
#: 1,500 words as a MUSE test dictionary, away from the most frequent (function) words.
IDENTITY_RANKS = (1000, 2500)


def identity_dictionary(src_vec: PathLikeStr, tgt_vec: PathLikeStr, max_vocab: int | None,
                        ranks: tuple[int, int] = IDENTITY_RANKS) -> list[tuple[str, str]]:
    """``(w, w)`` for the source words of frequency ranks ``ranks`` that the target also has."""
    src = read_vec(src_vec, max_vocab, lowercase=True)
    tgt = read_vec(tgt_vec, max_vocab, dim=src.dim, lowercase=True)
    return [(w, w) for w in src.words[ranks[0]:ranks[1]] if w in tgt.index]


def evaluate_mapping(*, mapped: PathLikeStr, tgt: PathLikeStr, log_json: PathLikeStr,
                     dictionary: Sequence[PathLikeStr], pair: Mapping[str, str], mode: str, src: str,
                     tgt_lang: str, max_vocab: int | None, out: PathLikeStr) -> dict[str, Any]:
    """P@k of one mapping direction, with the mapping's selection record, written to ``out``.

    ``pair["status"]`` says where the gold pairs come from: ``ok`` (the catalog's test
    dictionary files ``dictionary``), ``identity`` (a split-half pair), or why there are none
    (then the row says so and carries no score).
    """
    import json

    from xlt.atomic import atomic_write_json
    from xlt.provenance import input_hashes

    record = json.loads(open(log_json, encoding="utf-8").read())
    row: dict[str, Any] = {
        "src": src, "tgt": tgt_lang, "mode": mode, "dictionary": pair["status"],
        "kept": record["kept_candidate"]["stage"] + f" {record['kept_candidate']['step']}",
        "status": record["status"], "criterion": record["kept_candidate"]["criterion"],
        "identity_criterion": record["baseline_identity"]["criterion"], "reason": record["reason"],
        "warnings": record["warnings"], "seconds": record["seconds"],
    }
    if pair["status"] == "ok":
        row["scores"] = word_translation(mapped, tgt, list(dictionary), max_vocab=max_vocab)
    elif pair["status"] == "identity":
        gold = identity_dictionary(mapped, tgt, max_vocab)
        row["scores"] = word_translation(mapped, tgt, gold, max_vocab=max_vocab)
        row["dictionary"] = f"identity, source ranks {IDENTITY_RANKS[0]}-{IDENTITY_RANKS[1]}"
    row["inputs"] = input_hashes([mapped, tgt, *dictionary])
    atomic_write_json(out, row)
    return row


def evaluate_synthetic(mode: str, synthetic: Mapping[str, Any], params: Mapping[str, Any], seed: int,
                       out: PathLikeStr) -> dict[str, Any]:
    """Map synthetic spaces related by a known rotation (``xlt.vectors.synthetic``) and score
    P@k against the true alignment; the identity map's score is the floor to beat."""
    from xlt.atomic import atomic_write_json
    from xlt.vectors.mapping import align
    from xlt.vectors.synthetic import rotated_pair

    src, tgt, gold = rotated_pair(int(synthetic["words"]), int(synthetic["dim"]),
                                  float(synthetic.get("angle", 0.2)), int(synthetic["seed"]))
    # Synthetic words are not strings of a language: supervised mode gets the gold pairs of the
    # 1,000 first words as its seed dictionary (identical strings would find none).
    seed_dico = None
    if mode == "supervised":
        seed_dico = torch.tensor([(src.index[s], tgt.index[t]) for s, t in gold[:1000]], dtype=torch.long)
    settings = {**params, "max_vocab": None, "lowercase": False, "dis_most_frequent": len(src.words)}
    result = align(src, tgt, settings, seed=seed, mode=mode, seed_dictionary=seed_dico)
    test = gold[1000:]
    dico, coverage = lookup_pairs(test, src.index, tgt.index)
    tgt_unit = unit_rows(torch.from_numpy(tgt.vectors))
    mapped = unit_rows(torch.from_numpy(src.vectors) @ result.w.t())
    scores = precision_at_k(mapped, tgt_unit, dico)
    identity = precision_at_k(unit_rows(torch.from_numpy(src.vectors)), tgt_unit, dico)
    row = {"src": f"synthetic ({synthetic['words']} words x {synthetic['dim']} d)",
           "tgt": f"its rotation exp({synthetic.get('angle', 0.2)}·A)", "mode": mode,
           "dictionary": "true alignment, words 1000+" + (" (seed: words 0-999)" if seed_dico is not None else ""),
           "scores": {**scores, "coverage": coverage}, "identity_scores": identity,
           "kept": f"{result.candidates[result.kept]['stage']} {result.candidates[result.kept]['step']}",
           "status": result.status, "criterion": result.candidates[result.kept]["criterion"],
           "identity_criterion": result.baseline["criterion"], "reason": result.reason,
           "warnings": result.warnings, "seconds": round(result.seconds, 2)}
    atomic_write_json(out, row)
    return row


def write_mapping_table(rows_json: Sequence[PathLikeStr], out_csv: PathLikeStr, out_md: PathLikeStr,
                        provenance: str = "") -> "Any":
    """One line per mapping: P@1/5/10 with NN and CSLS, coverage, and how the map was kept."""
    import json

    import pandas as pd

    from xlt.atomic import atomic_path, atomic_write_text

    lines = []
    for path in rows_json:
        row = json.loads(open(path, encoding="utf-8").read())
        scores = row.get("scores")
        line = {"pair": f"{row['src']} → {row['tgt']}", "mode": row["mode"], "dictionary": row["dictionary"]}
        for method, label in (("nn", "NN"), ("csls_knn_10", "CSLS")):
            for k in (1, 5, 10):
                value = scores[method][f"p@{k}"] if scores else None
                line[f"{label} P@{k}"] = None if value is None else round(value, 2)
        if scores:
            cov = scores["coverage"]
            line["coverage"] = f"{cov['source_words_found']}/{cov['source_words']}"
        else:
            line["coverage"] = ""
        line["kept map"] = f"{row['kept']} ({row['status']})"
        line["criterion (identity)"] = f"{row['criterion']:.4f} ({row['identity_criterion']:.4f})"
        line["seconds"] = row["seconds"]
        lines.append(line)
    table = pd.DataFrame(lines)
    with atomic_path(out_csv) as tmp:
        table.assign(plan=provenance).to_csv(tmp, index=False)
    text = ["# Word-translation precision of the cross-lingual mappings (ours, beyond the papers)", "",
            "P@k (%) on the MUSE test dictionaries (5000-6500) of the mirror, NN and CSLS retrieval "
            "over the mapped vocabularies; rows without a dictionary say why. Sanity rows: vectors "
            "trained on two disjoint halves of one language's text (identity dictionary; "
            "supervised mode's identical-strings seed contains the test words, so that row is an "
            "upper bound) and synthetic spaces related by a known rotation. 'kept map' is the "
            "candidate MUSE's criterion (mean CSLS cosine) picked among those no diagnostic flags; "
            "the identity map's criterion is the floor.", ""]
    if provenance:
        text += [f"Ours: {provenance}", ""]
    shown = table.astype(object).where(table.notna(), "")
    text.append(shown.to_markdown(index=False, disable_numparse=True))
    atomic_write_text(out_md, "\n".join(text) + "\n")
    return table
