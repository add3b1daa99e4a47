"""Gather every (run, target) metrics.json into the long result tables (contracts §5).

``n_params`` follows the papers' convention (Bari et al. Table 4): the word embedding matrix is
left out; ``n_params_total`` counts every parameter.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable

import pandas as pd

from xlt.atomic import atomic_path

RUN_KEYS = ["task", "source", "method", "setting", "seed"]
ROW_KEYS = ["target", "split", "selection", "epoch", "step"]
COUNTS = ["n_sentences", "n_params", "n_params_total"]
NER_COLUMNS = RUN_KEYS + ROW_KEYS + ["f1", "precision", "recall"] + COUNTS
POS_COLUMNS = RUN_KEYS + ROW_KEYS + ["accuracy"] + COUNTS


def results_frame(metrics_files: Iterable[str | Path]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(ner rows, pos rows), sorted so the CSVs do not depend on file order."""
    rows = {"ner": [], "pos": []}
    for path in metrics_files:
        metrics = json.loads(Path(path).read_text(encoding="utf-8"))
        run = {key: metrics[key] for key in RUN_KEYS}
        for result in metrics["results"]:
            rows[metrics["kind"]].append({**run, **result, "n_params": metrics.get("n_params"),
                                          "n_params_total": metrics.get("n_params_total")})
    frames = []
    for kind, columns in (("ner", NER_COLUMNS), ("pos", POS_COLUMNS)):
        df = pd.DataFrame(rows[kind], columns=columns)
        frames.append(df.sort_values(RUN_KEYS + ROW_KEYS[:3], kind="stable").reset_index(drop=True))
    return frames[0], frames[1]


def write_results(metrics_files: Iterable[str | Path], ner_csv: str | Path, pos_csv: str | Path) -> None:
    ner, pos = results_frame(metrics_files)
    for df, path in ((ner, ner_csv), (pos, pos_csv)):
        with atomic_path(path) as tmp:
            df.to_csv(tmp, index=False, float_format="%.4f")
