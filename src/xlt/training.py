"""The epoch loop every method shares: train, score the dev sets, select checkpoints.

Selection criteria are those the papers use:

- ``src_dev``: best epoch on the source dev set (purely zero-shot; Bari's F1, Meta-NER),
- ``tgt_dev``: best epoch on that target's dev set (Bari's F1*, Bao's released scripts),
- ``last``: the final epoch (UniTrans uses the last checkpoint),
- ``tgt_test``: best epoch on that target's test set (Bari Table 4's oracle column); opt-in,
  since it is the only criterion that needs every test set scored after every epoch.

Only dev sets are scored after each epoch. The trainable weights of every epoch that some
criterion currently selects are kept in memory (frozen weights never change, so an encoder
snapshot is its top layers and head only); snapshots no criterion points to any more are
dropped, so at most (targets + 2) exist and usually one or two. After training, each
selected epoch's weights are restored once and the test sets it was chosen for are scored.
Ties keep the earlier epoch, so a result never depends on evaluation order.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Protocol, Sequence

import torch
from torch import nn

from xlt.evaluate import primary_metric, score

log = logging.getLogger("xlt.training")

SELECTIONS = ("src_dev", "tgt_dev", "last", "tgt_test")
DEFAULT_SELECTIONS = ("src_dev", "tgt_dev", "last")

Snapshot = dict[str, torch.Tensor]


@dataclass(frozen=True)
class EvalSet:
    lang: str
    split: str
    tokens: list[list[str]]
    tags: list[list[str]]
    sentence_ids: list[str]


class Tagger(Protocol):
    """What the loop needs from a method's model."""

    model: nn.Module

    def train_epoch(self, epoch: int) -> float: ...  # mean training loss

    def predict(self, sentences: Sequence[Sequence[str]]) -> list[list[str]]: ...


def snapshot(model: nn.Module) -> Snapshot:
    """Copies of the weights training can change: trainable parameters and buffers."""
    trainable = {name for name, p in model.named_parameters() if p.requires_grad}
    buffers = {name for name, _ in model.named_buffers()}
    return {
        name: tensor.detach().to("cpu", copy=True)
        for name, tensor in model.state_dict().items()
        if name in trainable or name in buffers
    }


def restore(model: nn.Module, weights: Snapshot) -> None:
    model.load_state_dict(weights, strict=False)


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
    selections: Sequence[str] = DEFAULT_SELECTIONS,
) -> Outcome:
    unknown = set(selections) - set(SELECTIONS)
    if unknown:
        raise ValueError(f"unknown selection criteria {sorted(unknown)}; known: {SELECTIONS}")
    metric = primary_metric(kind)
    by_key = {(s.lang, s.split): s for s in eval_sets}
    if (source, "dev") not in by_key:
        raise ValueError(f"the source language {source!r} needs a dev split for model selection")
    targets = sorted({s.lang for s in eval_sets if s.split == "test"})
    per_epoch_keys = [k for k in sorted(by_key) if k[1] == "dev" or "tgt_test" in selections]

    best: dict[tuple[str, str], tuple[float, int]] = {}  # (target, criterion) -> (value, epoch)
    kept: dict[int, Snapshot] = {}
    test_scores: dict[tuple[str, int], dict[str, float]] = {}  # oracle runs score tests anyway
    test_predictions: dict[tuple[str, int], list[list[str]]] = {}
    trace: list[dict] = []

    for epoch in range(1, epochs + 1):
        started = time.perf_counter()
        loss = tagger.train_epoch(epoch)
        train_seconds = time.perf_counter() - started
        scores = {}
        for key in per_epoch_keys:
            predicted = tagger.predict(by_key[key].tokens)
            scores[key] = score(kind, by_key[key].tags, predicted)
            if key[1] == "test":
                test_scores[(key[0], epoch)], test_predictions[(key[0], epoch)] = scores[key], predicted
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
            criteria = {"src_dev": scores[(source, "dev")][metric], "last": float(epoch)}
            if (lang, "dev") in scores:
                criteria["tgt_dev"] = scores[(lang, "dev")][metric]
            if (lang, "test") in scores:
                criteria["tgt_test"] = scores[(lang, "test")][metric]
            for criterion, value in criteria.items():
                if criterion not in selections:
                    continue
                current = best.get((lang, criterion))
                if current is None or value > current[0]:
                    best[(lang, criterion)] = (value, epoch)
        needed = {epoch for _, epoch in best.values()}
        if epoch in needed:
            kept[epoch] = snapshot(tagger.model)
        for stale in set(kept) - needed:
            del kept[stale]
        # Oracle runs score every test set: keep only the predictions some criterion selects.
        for key in [key for key in test_predictions if key[1] not in needed]:
            del test_predictions[key], test_scores[key]

    results, rows = [], []
    final = snapshot(tagger.model)
    by_epoch: dict[int, list[tuple[str, str]]] = {}
    for (lang, criterion), (_, epoch) in sorted(best.items()):
        by_epoch.setdefault(epoch, []).append((lang, criterion))
    for epoch in sorted(by_epoch):
        restore(tagger.model, kept[epoch])
        for lang in sorted({lang for lang, _ in by_epoch[epoch]}):
            if (lang, epoch) not in test_scores:
                test = by_key[(lang, "test")]
                test_predictions[(lang, epoch)] = tagger.predict(test.tokens)
                test_scores[(lang, epoch)] = score(kind, test.tags, test_predictions[(lang, epoch)])
    restore(tagger.model, final)

    for (lang, criterion), (_, epoch) in sorted(best.items()):
        test = by_key[(lang, "test")]
        results.append(
            {
                "target": lang,
                "split": "test",
                "selection": criterion,
                "epoch": epoch,
                **{k: round(v, 4) for k, v in test_scores[(lang, epoch)].items()},
                "n_sentences": len(test.tokens),
            }
        )
        for sid, tokens, gold, pred in zip(test.sentence_ids, test.tokens, test.tags, test_predictions[(lang, epoch)]):
            rows.append(
                {"target": lang, "split": "test", "selection": criterion, "epoch": epoch,
                 "sentence_id": sid, "tokens": list(tokens), "gold": list(gold), "pred": list(pred)}
            )
    return Outcome(results=results, trace=trace, predictions=rows)
