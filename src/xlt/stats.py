"""Dataset statistics of the canonical tables, next to the counts the papers report.

``results/tables/datasets.csv`` has one row per (task, lang, split) with our sentences,
tokens and entities (IOB2 spans, counted like conlleval), the per-type counts as JSON, and
one column per paper table and count with the number that table prints (e.g.
``wu2020_unitrans/table1 sentences``). Differences are expected and informative: the papers
count -DOCSTART- lines or not, use other releases (CoNLL-2003 German 2006 revision), and the
default plan caps sentences. The count columns are what ``xlt.tables.our_count`` reads.
"""
from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from os import PathLike
from pathlib import Path
from typing import Any

import pandas as pd

from xlt.atomic import atomic_path
from xlt.errors import InputError
from xlt.io.sentence import read_table, read_table_metadata
from xlt.tagging import entity_spans

KEY_COLUMNS = ["task", "lang", "split"]
COUNT_COLUMNS = ["sentences", "tokens", "entities"]
STATS_COLUMNS = KEY_COLUMNS + COUNT_COLUMNS + ["types"]
REPORTED_COLUMNS = ["paper", "table", "column", "row", "task", "lang", "split", "count",
                    "reported", "value"]
_SPLIT_ORDER = {"train": 0, "dev": 1, "test": 2}


def corpus_stats(df: pd.DataFrame, kind: str) -> dict[str, Any]:
    """Counts of one canonical table (columns ``tokens``, ``tags``).

    ``kind`` ``ner``: ``entities`` is the number of IOB2 spans and ``types`` the spans per
    entity type. ``pos``: ``entities`` is None and ``types`` the tokens per tag.
    """
    if kind not in ("ner", "pos"):
        raise ValueError(f"kind must be ner or pos, got {kind!r}")
    types: Counter[str] = Counter()
    tokens = 0
    for tags in df["tags"]:
        tags = list(tags)
        tokens += len(tags)
        if kind == "ner":
            types.update(entity_type for entity_type, _, _ in entity_spans(tags))
        else:
            types.update(tags)
    return {
        "sentences": int(len(df)),
        "tokens": int(tokens),
        "entities": int(sum(types.values())) if kind == "ner" else None,
        "types": dict(sorted(types.items())),
    }


def _metadata(path: Path) -> dict[str, Any]:
    try:
        return read_table_metadata(path)
    except InputError:
        return {}


def _kind_of(task: str, meta: Mapping[str, Any], kinds: Mapping[str, str] | None) -> str:
    if kinds and task in kinds:
        return kinds[task]
    if meta.get("kind") in ("ner", "pos"):
        return meta["kind"]
    return "pos" if task.startswith("pos") else "ner"


def _sort(frame: pd.DataFrame) -> pd.DataFrame:
    order = frame["split"].map(lambda s: _SPLIT_ORDER.get(s, 9))
    return (frame.assign(_order=order).sort_values(["task", "lang", "_order"], kind="stable")
            .drop(columns="_order").reset_index(drop=True))


def stats_table(files: Mapping[tuple[str, str, str], str | PathLike[str]],
                kinds: Mapping[str, str] | None = None) -> pd.DataFrame:
    """One row per canonical table: task, lang, split, sentences, tokens, entities, types
    (JSON).

    ``kinds`` maps task -> ner|pos (the config's ``tasks``); without it the kind is read from
    the table's metadata, else guessed from the task name (``pos*`` -> pos).
    """
    rows = []
    for (task, lang, split), path in files.items():
        path = Path(path)
        meta = _metadata(path)
        stats = corpus_stats(read_table(path), _kind_of(task, meta, kinds))
        rows.append({"task": task, "lang": lang, "split": split,
                     "sentences": stats["sentences"], "tokens": stats["tokens"],
                     "entities": stats["entities"],
                     "types": json.dumps(stats["types"], sort_keys=True, ensure_ascii=False)})
    frame = pd.DataFrame(rows, columns=STATS_COLUMNS)
    frame["entities"] = pd.to_numeric(frame["entities"], errors="coerce").astype("Int64")
    return _sort(frame) if len(frame) else frame


def table_key(path: str | PathLike[str]) -> tuple[str, str, str]:
    """(task, lang, split) of ``results/data/{task}/{lang}/{split}.parquet``."""
    path = Path(path)
    if path.suffix != ".parquet" or len(path.parts) < 3:
        raise InputError(path, None, "expected a canonical table .../{task}/{lang}/{split}.parquet")
    return path.parent.parent.name, path.parent.name, path.stem


# --------------------------------------------------------------------------- reported counts

def _parse_number(text: str) -> float | None:
    try:
        from xlt.reported import parse
    except ImportError:  # pragma: no cover - xlt.reported ships with xlt
        cleaned = text.replace(",", "").strip()
        try:
            return float(cleaned)
        except ValueError:
            return None
    try:
        return parse(text).value
    except ValueError:
        return None


def reported_counts(tables: str | PathLike[str] | Iterable[str | PathLike[str]]) -> pd.DataFrame:
    """Every cell of the ``kind: dataset_stats`` tables of the paper table files.

    ``tables`` is a folder (every ``*.yaml`` in it but ``schema.yaml``) or a list of files.

    One row per cell with the merged query (defaults ⊕ column.query ⊕ row.query): paper,
    table, column, row, task, lang, split, count, reported (the printed text) and value.
    """
    from xlt.tables import cell_query, load_paper_tables

    if isinstance(tables, (str, PathLike)):
        paths = [p for p in sorted(Path(tables).glob("*.yaml")) if p.name != "schema.yaml"]
    else:
        paths = [Path(p) for p in tables]
    rows = []
    for path in paths:
        paper = load_paper_tables(path)
        for table in paper.tables:
            if table.kind != "dataset_stats":
                continue
            for row in table.rows:
                for column in table.columns:
                    if column.kind == "text" or column.id not in row.reported:
                        continue
                    query = cell_query(table, column, row)
                    text = str(row.reported[column.id])
                    rows.append({
                        "paper": paper.paper, "table": table.id, "column": column.id,
                        "row": row.label, "task": query.get("task"), "lang": query.get("lang"),
                        "split": query.get("split"), "count": query.get("count", "sentences"),
                        "reported": text, "value": _parse_number(text),
                    })
    return pd.DataFrame(rows, columns=REPORTED_COLUMNS)


def _reported_wide(reported: pd.DataFrame) -> pd.DataFrame:
    """(task, lang, split) x "<paper>/<table> <count>" of the reported values."""
    if reported is None or reported.empty:
        return pd.DataFrame(columns=KEY_COLUMNS)
    usable = reported.dropna(subset=["task", "lang", "split"]).copy()
    usable["column_name"] = usable["paper"] + "/" + usable["table"] + " " + usable["count"]
    wide = usable.pivot_table(index=KEY_COLUMNS, columns="column_name", values="value",
                              aggfunc="first", sort=True)
    wide.columns.name = None
    # Per paper table: sentences, tokens, entities (the papers' own row order).
    rank = {count: i for i, count in enumerate(COUNT_COLUMNS)}
    ordered = sorted(wide.columns, key=lambda name: (name.rsplit(" ", 1)[0],
                                                      rank.get(name.rsplit(" ", 1)[1], 9)))
    return wide[ordered].reset_index()


def datasets_table(stats_df: pd.DataFrame, reported_df: pd.DataFrame | None) -> pd.DataFrame:
    """Our counts with the papers' counts joined on (task, lang, split).

    Rows the papers report but we did not build (a manual corpus without a local copy) are
    kept with empty counts of ours, so every reported number is shown.
    """
    ours = stats_df.reindex(columns=STATS_COLUMNS).copy()
    wide = _reported_wide(reported_df)
    reported_columns = [c for c in wide.columns if c not in KEY_COLUMNS]
    if reported_columns:
        ours = ours.merge(wide, on=KEY_COLUMNS, how="outer")
    for column in COUNT_COLUMNS:
        ours[column] = pd.to_numeric(ours[column], errors="coerce").astype("Int64")
    for column in reported_columns:
        values = pd.to_numeric(ours[column], errors="coerce")
        # Counts are integers; a printed value with decimals (none so far) stays a float.
        if values.dropna().apply(float.is_integer).all():
            values = values.astype("Int64")
        ours[column] = values
    return _sort(ours) if len(ours) else ours


def write_datasets_table(stats_df: pd.DataFrame, reported_df: pd.DataFrame | None,
                         out_csv: str | PathLike[str], out_md: str | PathLike[str]) -> pd.DataFrame:
    """Write results/tables/datasets.csv and .md atomically; returns the table written."""
    table = datasets_table(stats_df, reported_df)
    with atomic_path(out_csv) as tmp:
        table.to_csv(tmp, index=False)
    shown = table.drop(columns=["types"])
    shown = shown.astype(object).where(shown.notna(), "")
    lines = [
        "# Dataset statistics",
        "",
        "Ours: counts of the canonical tables (results/data/{task}/{lang}/{split}.parquet), i.e.",
        "whole corpora after conversion (a plan's sentence caps apply only when runs read them);",
        "entities are IOB2 spans. Other columns: the counts printed by each paper's dataset",
        "table (empty where it prints none; empty counts of ours: a manual corpus not provided).",
        "",
        shown.to_markdown(index=False) if len(shown) else "(no tables)",
        "",
    ]
    with atomic_path(out_md) as tmp:
        tmp.write_text("\n".join(lines), encoding="utf-8")
    return table


def write_dataset_stats(tables: Iterable[str | PathLike[str]],
                        paper_tables: Iterable[str | PathLike[str]],
                        out_csv: str | PathLike[str], out_md: str | PathLike[str],
                        kinds: Mapping[str, str] | None = None) -> pd.DataFrame:
    """The dataset_stats rule: canonical tables + paper table files -> datasets.csv/.md."""
    files = {table_key(path): path for path in tables}
    return write_datasets_table(stats_table(files, kinds), reported_counts(list(paper_tables)),
                                out_csv, out_md)
