"""Figures comparing our numbers with a paper's, one per table (results/figures/<paper>_<id>.png).

Input is the long form of xlt.tables.render_table. Output is deterministic for the same input
and library versions: Agg backend, no software/date metadata in the PNG.
"""
from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Sequence

import matplotlib

matplotlib.use("Agg")  # no display on cluster nodes; also makes rendering reproducible

import matplotlib.pyplot as plt  # noqa: E402  (after the backend is chosen)
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from xlt.atomic import atomic_path  # noqa: E402

# Parameter counts live on another scale than scores or sentence counts: one axis can't hold both.
_OTHER_SCALE_METRICS = ("n_params",)
_MAX_LABEL_CHARS = 40


def comparable_cells(long: pd.DataFrame) -> pd.DataFrame:
    """Cells with both a reported value and ours, on the table's main scale."""
    if long.empty:
        return long
    mask = (long["status"] == "ok") & long["reported_value"].notna() & long["ours_mean"].notna()
    mask &= ~long["metric"].isin(_OTHER_SCALE_METRICS)
    return long[mask]


def _short(text: str) -> str:
    return text if len(text) <= _MAX_LABEL_CHARS else text[: _MAX_LABEL_CHARS - 1] + "…"


def _save(figure: plt.Figure, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        # "Software": None drops the matplotlib version stamp; PNGs carry no date by default.
        figure.savefig(tmp, format="png", dpi=100, metadata={"Software": None})
    plt.close(figure)


def _add_footnote(figure: plt.Figure, footnote: str, width: float) -> None:
    """The plan that made "ours" (stand-ins, caps, seeds), wrapped under the axes."""
    if not footnote:
        return
    lines = textwrap.wrap(f"ours: {footnote}", width=max(60, int(width * 16)))
    figure.text(0.01, 0.01, "\n".join(lines), fontsize=7, ha="left", va="bottom", color="dimgray")
    figure.tight_layout(rect=(0, 0.025 * (len(lines) + 1), 1, 1))


def plot_table(long: pd.DataFrame, title: str, path: str | Path, unit: str = "percent",
               footnote: str = "") -> Path:
    """Grouped bars (reported vs ours, std as error bars) per row × column; always writes `path`.
    ``footnote`` says which plan made ours (it is printed under the axes)."""
    path = Path(path)
    cells = comparable_cells(long)
    if cells.empty:
        figure, axes = plt.subplots(figsize=(6, 2 + (1 if footnote else 0)))
        axes.set_axis_off()
        axes.set_title(f"{_short(title)}\nno cell has both a reported and a reproduced value",
                       fontsize=9)
        figure.tight_layout()  # keeps the two-line title inside the canvas
        _add_footnote(figure, footnote, 6)
        _save(figure, path)
        return path

    labels = [_short(f"{row} | {column}")
              for row, column in zip(cells["row"], cells["column_label"])]
    positions = np.arange(len(cells))
    width = 0.4
    figure, axes = plt.subplots(figsize=(max(6.0, 0.5 * len(cells) + 2), 5))
    axes.bar(positions - width / 2, cells["reported_value"], width, label="reported",
             yerr=cells["reported_std"].fillna(0).to_numpy(dtype=float), capsize=2,
             color="tab:gray")
    axes.bar(positions + width / 2, cells["ours_mean"], width, label="ours (mean ± std)",
             yerr=cells["ours_std"].fillna(0).to_numpy(dtype=float), capsize=2,
             color="tab:blue")
    axes.set_xticks(positions, labels, rotation=75, ha="right", fontsize=7)
    metric = cells["metric"].iloc[0]
    axes.set_ylabel(f"{metric} ({unit})" if metric not in ("sentences", "tokens", "entities")
                    else "count")
    axes.set_title(_short(title), fontsize=9)
    axes.legend(fontsize=8)
    figure.tight_layout()
    _add_footnote(figure, footnote, figure.get_figwidth())
    _save(figure, path)
    return path


def figure_changes(long: pd.DataFrame, rows: Sequence[str], columns: Sequence[tuple[str, str]],
                   baselines: dict[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    """The bars of a change figure: per (row, column) the paper's and our change, from the
    second numbers of a ``delta`` table's long form (``xlt.tables.render_table``). A row in
    ``baselines`` (row label -> the long-form cells of another table's row, by column id)
    is instead the second run's score (first + change) minus that row's cell."""
    records = []
    for row in rows:
        for column, label in columns:
            cell = long[(long["row"] == row) & (long["column"] == column)]
            if cell.empty:
                continue
            cell = cell.iloc[0]
            reported, ours = cell["reported_second"], cell["ours_second"]
            if baselines and row in baselines:
                base = baselines[row]
                base = base[base["column"] == column]
                base = base.iloc[0] if not base.empty else None
                reported = (cell["reported_value"] + cell["reported_second"] - base["reported_value"]
                            if base is not None else np.nan)
                # Ours only where both runs of the cell and the baseline were scored (a plan
                # may run Table 2's English model and not Table 3's joint ones).
                ours = (cell["ours_mean"] + cell["ours_second"] - base["ours_mean"]
                        if base is not None and base["status"] == "ok" and cell["status"] == "ok"
                        and cell["second_status"] == "ok" else np.nan)
            records.append({"row": row, "column": column, "column_label": label,
                            "reported": pd.to_numeric(reported, errors="coerce"),
                            "ours": pd.to_numeric(ours, errors="coerce")})
    return pd.DataFrame(records, columns=["row", "column", "column_label", "reported", "ours"])


def plot_changes(bars: pd.DataFrame, title: str, path: str | Path, ylabel: str, footnote: str = "") -> Path:
    """Grouped bars of changes (:func:`figure_changes`): one group per row (language), one
    bar per column (model); the paper's panel above ours. Always writes ``path``."""
    path = Path(path)
    rows = list(dict.fromkeys(bars["row"]))
    models = list(dict.fromkeys(bars["column_label"]))
    figure, panels = plt.subplots(2, 1, figsize=(max(6.0, 1.1 * len(rows) + 2), 7), sharex=True, sharey=True)
    width = 0.8 / max(len(models), 1)
    positions = np.arange(len(rows))
    for panel, (key, name) in zip(panels, (("reported", "paper"), ("ours", "ours"))):
        for k, model in enumerate(models):
            values = [bars[(bars["row"] == r) & (bars["column_label"] == model)][key] for r in rows]
            heights = [float(v.iloc[0]) if len(v) and pd.notna(v.iloc[0]) else np.nan for v in values]
            panel.bar(positions - 0.4 + width * (k + 0.5), heights, width, label=model)
        panel.axhline(0, color="black", linewidth=0.6)
        panel.set_ylabel(f"{name}: {ylabel}", fontsize=8)
        if not bars[key].notna().any():
            panel.text(0.5, 0.5, f"no {name} value", transform=panel.transAxes, ha="center", color="dimgray")
    panels[0].set_title("\n".join(textwrap.wrap(title, 90)), fontsize=9)
    panels[0].legend(fontsize=7, ncol=min(len(models), 6))
    panels[1].set_xticks(positions, [_short(r) for r in rows], rotation=30, ha="right", fontsize=8)
    figure.tight_layout()
    _add_footnote(figure, footnote, figure.get_figwidth())
    _save(figure, path)
    return path
