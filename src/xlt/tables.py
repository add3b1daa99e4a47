"""Paper tables: load config/tables/<paper>.yaml, compare with our results, render CSV/Markdown.

Contract: docs/contracts.md §6. A table file lists, per table of a paper, the columns and rows
as printed, the printed cell text (`reported`) and for each cell a query
(`defaults ⊕ column.query ⊕ row.query`) that selects our runs or our dataset statistics.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

import jsonschema
import numpy as np
import pandas as pd
import yaml

from xlt import reported as reported_cells
from xlt.atomic import atomic_path
from xlt.errors import InputError
from xlt.methods.registry import in_vocabulary, is_implemented

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "config" / "tables" / "schema.yaml"

# Keys on which result rows (contracts §5) are filtered; `target` is handled on its own because
# it may be a list.
RUN_FILTER_KEYS = ("task", "source", "method", "setting", "selection", "split")
SCORE_METRICS = ("f1", "precision", "recall", "accuracy")
COUNT_METRICS = ("n_params", "sentences", "tokens", "entities")
STATS_FILTER_KEYS = ("task", "lang", "split")
# Columns of the results CSVs read as text, so that e.g. a seed-less target "no" stays a string.
RESULT_KEY_DTYPES = {key: "string" for key in ("task", "source", "target", "method", "setting",
                                               "selection", "split")}

STATUS_OK = "ok"
STATUS_CITED = "cited"
STATUS_NOT_IMPLEMENTED = "not implemented"
STATUS_NOT_RUN = "not run"
STATUS_REPORTED_ONLY = "reported only"

LONG_COLUMNS = ["table", "row_index", "row", "column", "column_label", "metric", "stat",
                "status", "reported", "reported_value", "reported_std", "ours_mean", "ours_std",
                "n_seeds", "per_seed", "difference",
                "second_kind", "second_status", "reported_second", "ours_second", "ours_second_std",
                "second_difference", "note"]

#: What the second number of a cell is (``second.kind`` of a table): ``value``, the number after
#: "/" ("0.578/0.785": van der Heijden's monolingual half), or ``delta``, a printed change
#: ("0.723+0.012": scenario B minus scenario A), ours being the second query's score minus
#: the cell's.
SECOND_KINDS = ("value", "delta")


# --------------------------------------------------------------------------- the table model

@dataclass(frozen=True)
class Column:
    id: str
    label: str
    kind: str = "value"  # value | text
    query: dict[str, Any] = field(default_factory=dict)
    # The run of the cell's second number (``Second``), over the table's second query.
    second_query: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Second:
    """A table whose cells print two numbers: ``kind`` (SECOND_KINDS) says how the second
    is read, ``query`` what its run is (over the cell's query; ``"{target}"`` in a value
    stands for the cell's target: ``source: "{target}"`` is monolingual training)."""

    kind: str
    query: dict[str, Any] = field(default_factory=dict)
    label: str = ""


@dataclass(frozen=True)
class Figure:
    """A paper figure drawn from a table's second numbers (van der Heijden's Figures 3-4:
    the B - A change per model and language): the rows and columns it shows, and rows whose
    bar is instead the second run's score minus another table's cell (``baselines``: row
    label -> {table, row}; English's bar is scenario B minus the monolingual baseline)."""

    id: str
    caption: str
    table: str
    rows: tuple[str, ...]
    exclude_columns: tuple[str, ...] = ()
    baselines: dict[str, dict[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Row:
    label: str
    cited: bool = False
    query: dict[str, Any] = field(default_factory=dict)
    reported: dict[str, str] = field(default_factory=dict)
    note: str | None = None
    stand_in: str | None = None


@dataclass(frozen=True)
class Table:
    id: str
    caption: str
    kind: str  # results | dataset_stats | text
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    unit: str = "percent"  # percent | fraction
    defaults: dict[str, Any] = field(default_factory=dict)
    note: str | None = None
    second: Second | None = None


@dataclass(frozen=True)
class PaperTables:
    paper: str
    title: str
    tables: tuple[Table, ...]
    path: Path
    figures: tuple[Figure, ...] = ()


#: Per-target overrides a query may carry: {target: value} for the key named.
BY_TARGET = {"task_by_target": "task", "setting_by_target": "setting"}


def for_target(query: dict[str, Any], target: str) -> dict[str, Any]:
    """``query`` as it applies to one target: its ``task_by_target`` / ``setting_by_target``
    entry for that target, if any, replaces the task / setting (Meta-NER's MISC-free task for
    fr and zh; Bao's MUSE* without the character LSTM for de and zh)."""
    out = dict(query)
    for key, field in BY_TARGET.items():
        if target in query.get(key, {}):
            out[field] = query[key][target]
    return out


def cell_query(table: Table, column: Column, row: Row) -> dict[str, Any]:
    """The query of one cell: defaults ⊕ column.query ⊕ row.query (later wins), with the
    per-target overrides of a single-target cell applied."""
    query = {**table.defaults, **column.query, **row.query}
    return for_target(query, query["target"]) if isinstance(query.get("target"), str) else query


def second_query(table: Table, column: Column, row: Row) -> dict[str, Any] | None:
    """The query of a cell's second number: the cell's ⊕ the table's ``second.query`` ⊕ the
    column's ``second_query``, ``"{target}"`` replaced by the cell's target; None for a
    table without second numbers."""
    if table.second is None:
        return None
    query = cell_query(table, column, row)
    target = query.get("target")
    for key, value in {**table.second.query, **column.second_query}.items():
        if isinstance(value, str) and "{target}" in value:
            if not isinstance(target, str):
                raise ValueError(f"table {table.id}: second query {key}: {value!r} needs a cell with one target")
            value = value.replace("{target}", target)
        query[key] = value
    return query


# --------------------------------------------------------------------------- loading

def _line_at(node: yaml.Node | None, path: Sequence[str | int]) -> int | None:
    """1-based line of the deepest YAML node reachable along `path` (a JSON path)."""
    if node is None:
        return None
    line = node.start_mark.line + 1
    for key in path:
        child = None
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if key_node.value == key:
                    child = value_node
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) \
                and key < len(node.value):
            child = node.value[key]
        if child is None:
            break
        node = child
        line = node.start_mark.line + 1
    return line


def _load_schema(schema_path: Path) -> dict:
    with open(schema_path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def _validate_schema(data: Any, root: yaml.Node | None, path: Path, schema_path: Path) -> None:
    validator = jsonschema.Draft202012Validator(_load_schema(schema_path))
    errors = sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.absolute_path) or "(top level)"
        more = f" (and {len(errors) - 1} more schema errors)" if len(errors) > 1 else ""
        raise InputError(path, _line_at(root, list(first.absolute_path)),
                         f"{where}: {first.message}{more}")


def _check_table(raw_table: dict, table_index: int, root: yaml.Node | None, path: Path) -> None:
    """Checks the schema cannot express: ids, reported keys, parseable numbers, method names."""
    table_path: list[str | int] = ["tables", table_index]

    def fail(sub_path: list[str | int], message: str) -> None:
        raise InputError(path, _line_at(root, table_path + sub_path),
                         f"table {raw_table['id']}: {message}")

    column_kinds: dict[str, str] = {}
    for column_index, column in enumerate(raw_table["columns"]):
        if column["id"] in column_kinds:
            fail(["columns", column_index], f"duplicate column id {column['id']!r}")
        column_kinds[column["id"]] = column.get("kind", "value")
        if column.get("second_query") and "second" not in raw_table:
            fail(["columns", column_index, "second_query"],
                 f"column {column['id']!r} has a second_query and the table no `second:`")

    defaults = raw_table.get("defaults", {})
    for row_index, row in enumerate(raw_table["rows"]):
        row_path: list[str | int] = ["rows", row_index]
        for key, text in row.get("reported", {}).items():
            if key not in column_kinds:
                fail(row_path + ["reported", key],
                     f"row {row['label']!r}: reported key {key!r} is not a column id "
                     f"(columns: {', '.join(column_kinds)})")
            # Cells of `kind: text` tables are words (e.g. nearest neighbours), not numbers.
            if column_kinds[key] == "value" and raw_table["kind"] != "text":
                try:
                    reported_cells.parse(text)
                except ValueError as err:
                    fail(row_path + ["reported", key], f"row {row['label']!r}: {err}")
        if row.get("cited") or raw_table["kind"] != "results":
            continue
        # A computed row names its method in the row, the defaults or every value column.
        for column in raw_table["columns"]:
            if column.get("kind", "value") != "value":
                continue
            query = {**defaults, **column.get("query", {}), **row.get("query", {})}
            method = query.get("method")
            if method is None:
                fail(row_path, f"row {row['label']!r} is neither cited nor names a method "
                               f"(column {column['id']!r})")
            for setting in {query.get("setting"), *query.get("setting_by_target", {}).values()}:
                if not in_vocabulary(method, setting):
                    fail(row_path, f"row {row['label']!r}: method {method!r} setting "
                                   f"{setting!r} is not in the vocabulary of docs/contracts.md §7")
            if "second" in raw_table:
                second = {**query, **raw_table["second"].get("query", {}), **column.get("second_query", {})}
                if not in_vocabulary(second.get("method"), second.get("setting")):
                    fail(row_path, f"row {row['label']!r}: the second number's method {second.get('method')!r} "
                                   f"setting {second.get('setting')!r} (column {column['id']!r}) is not in the "
                                   "vocabulary of docs/contracts.md §7")


def _build_table(raw: dict) -> Table:
    second = raw.get("second")
    return Table(
        id=raw["id"], caption=raw["caption"], kind=raw["kind"], unit=raw.get("unit", "percent"),
        defaults=dict(raw.get("defaults", {})), note=raw.get("note"),
        second=None if second is None else Second(kind=second["kind"], query=dict(second.get("query", {})),
                                                  label=second.get("label", "")),
        columns=tuple(Column(id=c["id"], label=c["label"], kind=c.get("kind", "value"),
                             query=dict(c.get("query", {})), second_query=dict(c.get("second_query", {})))
                      for c in raw["columns"]),
        rows=tuple(Row(label=r["label"], cited=r.get("cited", False),
                       query=dict(r.get("query", {})), reported=dict(r.get("reported", {})),
                       note=r.get("note"), stand_in=r.get("stand_in")) for r in raw["rows"]),
    )


def load_paper_tables(path: str | Path, schema_path: str | Path | None = None) -> PaperTables:
    """Read and check one table file; raises InputError naming the file and line.

    The schema is `schema_path`, else a schema.yaml next to the table file (config/tables/),
    else the repository's config/tables/schema.yaml.
    """
    path = Path(path)
    if schema_path is None:
        sibling = path.parent / "schema.yaml"
        schema_path = sibling if sibling.exists() and sibling != path else SCHEMA_PATH
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise InputError(path, None, f"cannot read table file: {err.strerror}") from err
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        raise InputError(path, mark.line + 1 if mark else None, f"invalid YAML: {err}") from err
    _validate_schema(data, root, path, Path(schema_path))
    seen_ids: set[str] = set()
    for table_index, raw_table in enumerate(data["tables"]):
        if raw_table["id"] in seen_ids:
            raise InputError(path, _line_at(root, ["tables", table_index]),
                             f"duplicate table id {raw_table['id']!r}")
        seen_ids.add(raw_table["id"])
        _check_table(raw_table, table_index, root, path)
    tables = tuple(_build_table(t) for t in data["tables"])
    figures = tuple(_build_figure(f, i, tables, root, path) for i, f in enumerate(data.get("figures", [])))
    return PaperTables(paper=data["paper"], title=data["title"], path=path, tables=tables, figures=figures)


def _build_figure(raw: dict, index: int, tables: Sequence[Table], root: yaml.Node | None, path: Path) -> Figure:
    """A figure entry, checked against the tables it reads (rows by label, columns by id)."""
    by_id = {t.id: t for t in tables}

    def fail(sub: list[str | int], message: str) -> None:
        raise InputError(path, _line_at(root, ["figures", index, *sub]), f"figure {raw['id']}: {message}")

    table = by_id.get(raw["table"])
    if table is None or table.second is None:
        fail(["table"], f"table {raw['table']!r} is not a table with second numbers of this file")
    labels = {row.label for row in table.rows}
    for row in raw["rows"]:
        if row not in labels:
            fail(["rows"], f"row {row!r} is not a row of {table.id}")
    for column in raw.get("exclude_columns", []):
        if column not in {c.id for c in table.columns}:
            fail(["exclude_columns"], f"column {column!r} is not a column of {table.id}")
    for row, base in raw.get("baselines", {}).items():
        other = by_id.get(base["table"])
        if row not in labels or other is None or base["row"] not in {r.label for r in other.rows}:
            fail(["baselines", row], f"baseline {base} of row {row!r} names no row of this file's tables")
    return Figure(id=raw["id"], caption=raw["caption"], table=table.id, rows=tuple(raw["rows"]),
                  exclude_columns=tuple(raw.get("exclude_columns", [])), baselines=dict(raw.get("baselines", {})))


# --------------------------------------------------------------------------- our numbers

@dataclass(frozen=True)
class Ours:
    """Our value for one cell, in the table's unit."""

    value: float | None
    std: float | None
    per_seed: dict[int, float]


def _filter(frame: pd.DataFrame, query: dict[str, Any], keys: Iterable[str]) -> pd.DataFrame:
    mask = pd.Series(True, index=frame.index)
    for key in keys:
        if key in query:
            if key not in frame.columns:
                return frame.iloc[0:0]
            mask &= frame[key].astype("string").eq(str(query[key])).fillna(False).astype(bool)
    return frame[mask]


def _per_seed(results: pd.DataFrame, query: dict[str, Any], target: str | None,
              metric: str) -> pd.Series:
    """Metric per seed for one target; duplicates of a seed (should not occur) are averaged."""
    if results.empty or metric not in results.columns or "seed" not in results.columns:
        return pd.Series(dtype=float)
    if target is not None:
        query = for_target(query, target)
    rows = _filter(results, query, RUN_FILTER_KEYS)
    if target is not None:
        rows = _filter(rows, {"target": target}, ["target"])
    if metric == "n_params":
        # The parameter count is a property of the run: one value per seed, not per result.
        rows = rows.drop_duplicates(subset=["seed"])
    values = pd.to_numeric(rows[metric], errors="coerce")
    return values.groupby(rows["seed"]).mean().dropna()


def _sample_std(values: pd.Series) -> float | None:
    # Sample standard deviation over seeds (ddof=1); undefined for a single seed.
    return float(values.std(ddof=1)) if len(values) > 1 else None


def our_result(results: pd.DataFrame, query: dict[str, Any], unit: str) -> Ours | None:
    """Mean ± std over seeds (or max/std per `stat`) of the cell's metric; None if no runs.

    A `target` list is the mean over targets of each target's mean, defined only when every
    target has results; the std is that of the per-seed averages over the seeds all share.
    """
    metric = query.get("metric", "f1")
    targets = query.get("target")
    target_list = targets if isinstance(targets, list) else [targets]
    per_target = [_per_seed(results, query, target, metric) for target in target_list]
    if any(series.empty for series in per_target):
        return None
    scale = 0.01 if unit == "fraction" and metric in SCORE_METRICS else 1.0
    by_seed = pd.concat(per_target, axis=1, keys=range(len(per_target))) * scale
    # Per-seed average over the targets, on the seeds every target has (one target: itself).
    seed_means = by_seed.dropna().mean(axis=1)
    per_seed = {int(seed): float(value) for seed, value in seed_means.items()}
    stat = query.get("stat", "mean")
    if stat == "f1_of_mean_pr":
        # UniTrans' aggregation script: precision and recall are averaged over seeds and F1 is
        # computed from those means (per target; a target list averages those F1s). The std
        # and the per-seed values stay those of each seed's own F1.
        if metric != "f1":
            raise ValueError(f"stat f1_of_mean_pr aggregates F1, not {metric!r}")
        f1s = []
        for target in target_list:
            p = float(_per_seed(results, query, target, "precision").mean())
            r = float(_per_seed(results, query, target, "recall").mean())
            f1s.append(2 * p * r / (p + r) if p + r else 0.0)
        return Ours(value=float(np.mean(f1s)) * scale, std=_sample_std(seed_means), per_seed=per_seed)
    if stat == "max":
        return Ours(value=float(seed_means.max()), std=None, per_seed=per_seed)
    if stat == "std":
        return Ours(value=_sample_std(seed_means), std=None, per_seed=per_seed)
    # Mean over targets of each target's mean over all its seeds.
    return Ours(value=float(by_seed.mean(axis=0).mean()), std=_sample_std(seed_means),
                per_seed=per_seed)


def our_count(stats: pd.DataFrame | None, query: dict[str, Any]) -> Ours | None:
    """A dataset statistic (sentences/tokens/entities) for task/lang/split; None if absent."""
    count = query.get("count", "sentences")
    if stats is None or stats.empty or count not in stats.columns:
        return None
    rows = _filter(stats, query, STATS_FILTER_KEYS)
    values = pd.to_numeric(rows[count], errors="coerce").dropna()
    if values.empty:
        return None
    return Ours(value=float(values.iloc[0]), std=None, per_seed={})


# --------------------------------------------------------------------------- rendering

def _decimals(table: Table, metric: str) -> int:
    if metric in COUNT_METRICS:
        return 0
    return 3 if table.unit == "fraction" else 2


#: Keys a blocked run (``blocked`` of :func:`render_table`) is matched on.
BLOCKED_KEYS = ("task", "source", "method", "setting", "target")


def _missing(query: dict[str, Any], blocked: Sequence[dict[str, Any]]) -> list[str]:
    """Resources missing for the run a query asks for (empty: none known to be missing)."""
    for entry in blocked:
        if all(query.get(k) in (None, entry.get(k)) for k in BLOCKED_KEYS if k in entry):
            return list(entry["missing"])
    return []


def _status(table: Table, column: Column, row: Row, query: dict[str, Any],
            ours: Ours | None, blocked: Sequence[dict[str, Any]] = ()) -> str:
    if row.cited:
        return STATUS_CITED
    if column.kind == "text" or table.kind == "text":
        return STATUS_REPORTED_ONLY
    if table.kind == "results":
        method = query.get("method")
        if method is None:
            return STATUS_REPORTED_ONLY
        if not is_implemented(method, query.get("setting")):
            return STATUS_NOT_IMPLEMENTED
    if ours is not None and ours.value is not None:
        return STATUS_OK
    missing = _missing(query, blocked) if table.kind == "results" else []
    return f"missing resource {', '.join(missing)}" if missing else STATUS_NOT_RUN


def _row_note(row: Row) -> str:
    parts = [row.note] if row.note else []
    if row.stand_in:
        parts.append(f"stand-in: {row.stand_in}")
    return "; ".join(parts)


def render_table(table: Table, results: pd.DataFrame, stats: pd.DataFrame | None,
                 blocked: Sequence[dict[str, Any]] = ()) -> pd.DataFrame:
    """Long form: one row per (table row, column) with reported and our numbers and a status.

    ``blocked``: runs the plan could not make, each ``{task, source, method, setting, target,
    missing: [resource ids]}``; a cell without a result that asks for one says which
    resources are missing instead of "not run"."""
    records = []
    for row_index, row in enumerate(table.rows):
        for column in table.columns:
            query = cell_query(table, column, row)
            metric = query.get("count", "sentences") if table.kind == "dataset_stats" \
                else query.get("metric", "f1")
            text = row.reported.get(column.id, "")
            is_value = column.kind == "value" and table.kind != "text"
            printed = reported_cells.parse(text) if is_value else None
            ours = None
            if not row.cited and is_value:
                if table.kind == "results":
                    ours = our_result(results, query, table.unit)
                elif table.kind == "dataset_stats":
                    ours = our_count(stats, query)
            status = _status(table, column, row, query, ours, blocked)
            if status != STATUS_OK:
                ours = None
            decimals = _decimals(table, metric)
            reported_value = printed.value if printed else None
            difference = None
            if ours is not None and ours.value is not None and reported_value is not None:
                difference = ours.value - reported_value
            second = _second_cell(table, column, row, printed, ours, status, results, blocked) \
                if is_value and not row.cited and table.kind == "results" else {}
            records.append({
                "table": table.id, "row_index": row_index, "row": row.label,
                "column": column.id, "column_label": column.label,
                "metric": metric if is_value else None,
                "stat": query.get("stat", "mean") if table.kind == "results" else None,
                "status": status, "reported": text, "reported_value": reported_value,
                "reported_std": printed.std if printed else None,
                "ours_mean": ours.value if ours else None,
                "ours_std": ours.std if ours else None,
                "n_seeds": len(ours.per_seed) if ours and ours.per_seed else None,
                "per_seed": "; ".join(f"seed{seed}={value:.{decimals}f}"
                                      for seed, value in sorted(ours.per_seed.items()))
                if ours else "",
                "difference": difference, **second, "note": _row_note(row),
            })
    long = pd.DataFrame.from_records(records, columns=LONG_COLUMNS)
    return long.astype({"n_seeds": "Int64"})


def _second_cell(table: Table, column: Column, row: Row, printed: reported_cells.Reported | None,
                 ours: Ours | None, status: str, results: pd.DataFrame,
                 blocked: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The second number of a cell (``table.second``): printed, ours and their difference.
    A ``value`` is looked for only where the paper prints one ("a/b"); a ``delta`` (ours: the
    second run's score minus the cell's, per seed on the seeds both have) in every cell."""
    if table.second is None:
        return {}
    kind = table.second.kind
    reported = None if printed is None else (printed.second if kind == "value" else printed.delta)
    if kind == "value" and reported is None:
        return {}
    query = second_query(table, column, row)
    other = our_result(results, query, table.unit)
    other_status = _status(table, column, row, query, other, blocked)
    value = std = None
    if kind == "delta" and other_status == STATUS_OK and status != STATUS_OK:
        other_status = status  # a change needs both runs: say what the first one lacks
    if other_status == STATUS_OK:
        if kind == "value":
            value, std = other.value, other.std
        else:
            value = other.value - ours.value
            shared = sorted(set(other.per_seed) & set(ours.per_seed))
            changes = pd.Series([other.per_seed[s] - ours.per_seed[s] for s in shared], dtype=float)
            std = _sample_std(changes)
    return {"second_kind": kind, "second_status": other_status, "reported_second": reported,
            "ours_second": value, "ours_second_std": std,
            "second_difference": None if value is None or reported is None else value - reported}


def _is_number(value: Any) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def _ours_text(cell: pd.Series, decimals: int) -> str:
    if cell["status"] == STATUS_CITED:
        return "prior work (cited)" if cell["reported"] not in ("", "-", "—") else ""
    if cell["status"] != STATUS_OK:
        return "" if cell["status"] == STATUS_REPORTED_ONLY else cell["status"]
    text = f"{cell['ours_mean']:.{decimals}f}"
    if _is_number(cell["ours_std"]):
        text += f" ± {cell['ours_std']:.{decimals}f}"
    if not pd.isna(cell["n_seeds"]):
        text += f" (n={cell['n_seeds']})"
    return text


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def _second_text(cell: pd.Series, decimals: int) -> str:
    """Our second number after the first, as the paper prints it: " / b" (a value), " +d"
    (a change); its status where it has no number."""
    kind = cell["second_kind"]
    if _is_blank(kind):
        return ""
    if cell["second_status"] != STATUS_OK:
        return f" / {cell['second_status']}" if kind == "value" else f" (change: {cell['second_status']})"
    std = f" ± {cell['ours_second_std']:.{decimals}f}" if _is_number(cell["ours_second_std"]) else ""
    if kind == "value":
        return f" / {cell['ours_second']:.{decimals}f}{std}"
    return f" {cell['ours_second']:+.{decimals}f}{std}"


def wide_table(table: Table, long: pd.DataFrame, texts: dict[str, dict[str, str]] | None = None) -> pd.DataFrame:
    """One line per table row: label, then per column reported / ours / diff, then the note.
    ``texts``: our text cells of a ``kind: text`` table (row label -> column id -> text, e.g.
    nearest neighbours), printed beside the paper's."""
    lines = []
    for row_index, cells in long.groupby("row_index", sort=True):
        line: dict[str, str] = {"row": cells["row"].iloc[0]}
        for column, (_, cell) in zip(table.columns, cells.iterrows()):
            decimals = _decimals(table, cell["metric"] or "")
            if column.kind == "text" or table.kind == "text":
                line[column.label] = cell["reported"]
                if texts is not None and table.kind == "text":
                    line[f"{column.label} ours"] = texts.get(line["row"], {}).get(column.id, "")
                continue
            line[f"{column.label} reported"] = cell["reported"]
            line[f"{column.label} ours"] = _ours_text(cell, decimals) + _second_text(cell, decimals)
            diffs = [f"{cell[key]:+.{decimals}f}" if _is_number(cell[key]) else ""
                     for key in ("difference", "second_difference")]
            line[f"{column.label} diff"] = diffs[0] if _is_blank(cell["second_kind"]) \
                else " / ".join(d or "·" for d in diffs) if any(diffs) else ""
        line["note"] = cells["note"].iloc[0]
        lines.append(line)
    return pd.DataFrame(lines)


def markdown_table(paper: PaperTables, table: Table, wide: pd.DataFrame, provenance: str = "") -> str:
    """The wide table as Markdown, under the paper title and caption."""
    # A "|" inside a cell would end the cell: escape it.
    escaped = wide.map(lambda text: str(text).replace("|", "\\|"))
    escaped.columns = [str(name).replace("|", "\\|") for name in escaped.columns]
    if not (wide["note"] != "").any():
        escaped = escaped.drop(columns="note")
    parts = [f"# {paper.title} — {table.id}", "", table.caption, ""]
    if table.note:
        parts += [f"Note: {table.note}", ""]
    if provenance:
        parts += [f"Ours: {provenance}", ""]
    aggregate = ("F1 of the seed-mean precision and recall ± std of the per-seed F1, n seeds"
                 if table.defaults.get("stat") == "f1_of_mean_pr" else "mean ± std over seeds, n seeds")
    parts += [f"Cells: reported | ours ({aggregate}) | ours − reported"
              + (" (ours converted to fractions)" if table.unit == "fraction" else ""), ""]
    # disable_numparse: tabulate would otherwise reformat "+1.00" as "1" and "65.00" as "65".
    parts.append(escaped.to_markdown(index=False, disable_numparse=True))
    return "\n".join(parts) + "\n"


# --------------------------------------------------------------------------- files

def read_results(paths: Iterable[str | Path]) -> pd.DataFrame:
    """Concatenate results CSVs (ner_f1.csv, pos_acc.csv); a 0-byte file counts as empty."""
    frames = []
    for path in paths:
        path = Path(path)
        if not path.exists():
            raise InputError(path, None, "results file does not exist")
        if path.stat().st_size == 0:
            continue
        frames.append(pd.read_csv(path, dtype=RESULT_KEY_DTYPES, keep_default_na=False,
                                  na_values=[""]))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def read_stats(path: str | Path | None) -> pd.DataFrame | None:
    if path is None:
        return None
    return pd.read_csv(path, dtype={"task": "string", "lang": "string", "split": "string"},
                       keep_default_na=False, na_values=[""])


def write_paper_tables(paper_yaml: str | Path, results_csvs: Sequence[str | Path],
                       stats_csv: str | Path | None, out_dir: str | Path,
                       fig_dir: str | Path, provenance: str = "",
                       blocked: Sequence[dict[str, Any]] = (),
                       texts_json: str | Path | None = None) -> dict[str, pd.DataFrame]:
    """Render every table of one paper: <out_dir>/<id>.csv and .md, <fig_dir>/<paper>_<id>.png.

    ``provenance`` (``xlt.plan.Plan.describe``: which plan, stand-ins, caps, seeds) is printed
    under every table and figure, so that "ours" is never read as the paper's setting.
    ``blocked``: runs left out for missing resources (:func:`render_table`). ``texts_json``:
    our cells of the paper's text tables, ``{table id: {row label: {column id: text}}}``
    (Bao's Table 4 neighbours: rule lm_neighbours).
    Returns the long form of each table by id.
    """
    from xlt.figures import plot_table  # matplotlib is only needed here

    paper = load_paper_tables(paper_yaml)
    texts = {} if texts_json is None else json.loads(Path(texts_json).read_text(encoding="utf-8"))
    results = read_results(results_csvs)
    stats = read_stats(stats_csv)
    out_dir, fig_dir = Path(out_dir), Path(fig_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    fig_dir.mkdir(parents=True, exist_ok=True)
    rendered = {}
    for table in paper.tables:
        long = render_table(table, results, stats, blocked)
        wide = wide_table(table, long, texts.get(table.id) if table.kind == "text" else None)
        with atomic_path(out_dir / f"{table.id}.csv") as tmp:
            wide.assign(plan=provenance).to_csv(tmp, index=False)
        with atomic_path(out_dir / f"{table.id}.md") as tmp:
            Path(tmp).write_text(markdown_table(paper, table, wide, provenance), encoding="utf-8")
        plot_table(long, title=f"{paper.paper} {table.id}: {table.caption}",
                   path=fig_dir / f"{paper.paper}_{table.id}.png", unit=table.unit,
                   footnote=provenance)
        rendered[table.id] = long
    for figure in paper.figures:
        write_figure(paper, figure, rendered, out_dir, fig_dir, provenance)
    return rendered


def write_figure(paper: PaperTables, figure: Figure, rendered: dict[str, pd.DataFrame], out_dir: Path,
                 fig_dir: Path, provenance: str = "") -> pd.DataFrame:
    """One change figure (:class:`Figure`): its bars as <out_dir>/<id>.csv (paper and ours per
    row and model) and the chart <fig_dir>/<paper>_<id>.png."""
    from xlt.figures import figure_changes, plot_changes

    table = next(t for t in paper.tables if t.id == figure.table)
    columns = [(c.id, c.label) for c in table.columns if c.kind == "value" and c.id not in figure.exclude_columns]
    baselines = {row: rendered[base["table"]][rendered[base["table"]]["row"] == base["row"]]
                 for row, base in figure.baselines.items()}
    bars = figure_changes(rendered[table.id], figure.rows, columns, baselines)
    with atomic_path(out_dir / f"{figure.id}.csv") as tmp:
        bars.assign(plan=provenance).to_csv(tmp, index=False)
    plot_changes(bars, title=f"{paper.paper} {figure.id}: {figure.caption}",
                 path=fig_dir / f"{paper.paper}_{figure.id}.png",
                 ylabel=f"change ({table.unit})", footnote=provenance)
    return bars


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m xlt.tables FILE...`: check table files, print a one-line summary each."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("files", nargs="+", type=Path)
    args = parser.parse_args(argv)
    status = 0
    for path in args.files:
        try:
            paper = load_paper_tables(path)
        except InputError as err:
            print(err, file=sys.stderr)
            status = 1
            continue
        print(f"{path}: ok, {len(paper.tables)} tables, "
              f"{sum(len(t.rows) for t in paper.tables)} rows")
    return status


if __name__ == "__main__":
    sys.exit(main())
