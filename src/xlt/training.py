"""The epoch loop every method shares: train, evaluate every split, select checkpoints.

Model selection is done on the fly rather than by re-loading checkpoints: after each epoch
every dev and test split is scored, and for each selection criterion the test predictions of
the best epoch so far are kept. The criteria are those the papers use:

- ``src_dev``: best epoch on the source dev set (purely zero-shot; Bari's F1, Meta-NER),
- ``tgt_dev``: best epoch on that target's dev set (Bari's F1*, Bao's released scripts),
- ``tgt_test``: best epoch on that target's test set (Bari Table 4's oracle column),
- ``last``: the final epoch (UniTrans uses the last checkpoint).

Ties keep the earlier epoch, so a result never depends on evaluation order.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Callable, Protocol, Sequence

from xlt.evaluate import primary_metric, score

log = logging.getLogger("xlt.training")

SELECTIONS = ("src_dev", "tgt_dev", "tgt_test", "last")


@dataclass(frozen=True)
class EvalSet:
    lang: str
    split: str
    tokens: list[list[str]]
    tags: list[list[str]]
    sentence_ids: list[str]


class Tagger(Protocol):
    """What the loop needs from a method's model."""

    def train_epoch(self, epoch: int) -> float: ...  # mean training loss

    def predict(self, sentences: Sequence[Sequence[str]]) -> list[list[str]]: ...


@dataclass
class Selected:
    criterion_score: float
    epoch: int
    scores: dict[str, float]
    predictions: list[list[str]]


@dataclass
class Outcome:
    results: list[dict]
    trace: list[dict]
    predictions: list[dict] = field(default_factory=list)


def fit_and_select(
    tagger: Tagger,
    *,
    kind: str,
    source: str,
    epochs: int,
    eval_sets: Sequence[EvalSet],
    on_epoch_end: Callable[[int], None] | None = None,
) -> Outcome:
    metric = primary_metric(kind)
    by_key = {(s.lang, s.split): s for s in eval_sets}
    if (source, "dev") not in by_key:
        raise ValueError(f"the source language {source!r} needs a dev split for model selection")
    targets = sorted({s.lang for s in eval_sets if s.split == "test"})
    best: dict[tuple[str, str], Selected] = {}
    trace: list[dict] = []

    for epoch in range(1, epochs + 1):
        started = time.perf_counter()
        loss = tagger.train_epoch(epoch)
        train_seconds = time.perf_counter() - started
        predictions = {key: tagger.predict(s.tokens) for key, s in by_key.items()}
        scores = {key: score(kind, by_key[key].tags, pred) for key, pred in predictions.items()}
        trace.append(
            {
                "epoch": epoch,
                "loss": loss,
                "train_seconds": round(train_seconds, 3),
                "eval_seconds": round(time.perf_counter() - started - train_seconds, 3),
                "scores": {f"{lang}.{split}": round(s[metric], 4) for (lang, split), s in scores.items()},
            }
        )
        log.info(
            "epoch %d/%d loss %.4f source dev %s %.2f (train %.1fs)",
            epoch, epochs, loss, metric, scores[(source, "dev")][metric], train_seconds,
        )
        for lang in targets:
            test_key = (lang, "test")
            criteria = {
                "src_dev": scores[(source, "dev")][metric],
                "tgt_test": scores[test_key][metric],
                "last": float(epoch),
            }
            if (lang, "dev") in scores:
                criteria["tgt_dev"] = scores[(lang, "dev")][metric]
            for criterion, value in criteria.items():
                current = best.get((lang, criterion))
                if current is None or value > current.criterion_score:
                    best[(lang, criterion)] = Selected(value, epoch, scores[test_key], predictions[test_key])
        if on_epoch_end is not None:
            on_epoch_end(epoch)

    results, rows = [], []
    for (lang, criterion), chosen in sorted(best.items()):
        test = by_key[(lang, "test")]
        results.append(
            {
                "target": lang,
                "split": "test",
                "selection": criterion,
                "epoch": chosen.epoch,
                **{k: round(v, 4) for k, v in chosen.scores.items()},
                "n_sentences": len(test.tokens),
            }
        )
        for sid, tokens, gold, pred in zip(test.sentence_ids, test.tokens, test.tags, chosen.predictions):
            rows.append(
                {"target": lang, "split": "test", "selection": criterion, "sentence_id": sid,
                 "tokens": list(tokens), "gold": list(gold), "pred": list(pred)}
            )
    return Outcome(results=results, trace=trace, predictions=rows)
