"""Figures comparing our numbers with a paper's, one per table (results/figures/<paper>_<id>.png).

Input is the long form of xlt.tables.render_table. Output is deterministic for the same input
and library versions: Agg backend, no software/date metadata in the PNG.
"""
from __future__ import annotations

import textwrap
from pathlib import Path

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
