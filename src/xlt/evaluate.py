"""The one evaluation entry point: entity F1 for NER, token accuracy for POS.

Entity scores come from seqeval in its default mode, which reproduces conlleval (an I-X
after O or after another type opens a new entity), the scorer every paper here reports.
Scores are percentages.
"""
from __future__ import annotations

from typing import Sequence

Tags = Sequence[Sequence[str]]


def ner_scores(gold: Tags, pred: Tags) -> dict[str, float]:
    # Imported here: seqeval pulls in scikit-learn (~1.1 s cold), which a POS job never needs.
    from seqeval.metrics import f1_score, precision_score, recall_score

    _check_aligned(gold, pred)
    gold_l, pred_l = [list(s) for s in gold], [list(s) for s in pred]
    return {
        "precision": 100.0 * precision_score(gold_l, pred_l, zero_division=0),
        "recall": 100.0 * recall_score(gold_l, pred_l, zero_division=0),
        "f1": 100.0 * f1_score(gold_l, pred_l, zero_division=0),
    }


def pos_scores(gold: Tags, pred: Tags) -> dict[str, float]:
    _check_aligned(gold, pred)
    total = sum(len(s) for s in gold)
    correct = sum(g == p for gs, ps in zip(gold, pred) for g, p in zip(gs, ps))
    return {"accuracy": 100.0 * correct / total if total else 0.0}


def score(kind: str, gold: Tags, pred: Tags) -> dict[str, float]:
    if kind == "ner":
        return ner_scores(gold, pred)
    if kind == "pos":
        return pos_scores(gold, pred)
    raise ValueError(f"unknown task kind {kind!r}")


def primary_metric(kind: str) -> str:
    return "f1" if kind == "ner" else "accuracy"


def _check_aligned(gold: Tags, pred: Tags) -> None:
    # A dropped word would silently inflate scores (UniTrans' scripts drop words past the
    # subword limit); refuse instead.
    if len(gold) != len(pred):
        raise ValueError(f"{len(gold)} gold sentences but {len(pred)} predicted")
    for i, (g, p) in enumerate(zip(gold, pred)):
        if len(g) != len(p):
            raise ValueError(f"sentence {i}: {len(g)} gold tags but {len(p)} predicted")
