"""The training loop every method shares, and checkpoint selection per target.

Training and evaluation are two stages that hand each other files:

- ``fit`` trains, scores the *source* dev set at every evaluation point (once per epoch, or
  every ``eval_every`` updates as Bari et al. and Meta-NER's code do) and hands each
  evaluation point's trainable weights to a writer as it reaches it. It never reads target
  data, so adding a target language never retrains a model.
- ``select_and_score`` runs per (model, target): it picks a checkpoint by each criterion and
  scores the target's test set with it.

Selection criteria are those the papers use:

- ``src_dev``: best checkpoint on the source dev set (purely zero-shot; Bari's F1, Meta-NER),
- ``tgt_dev``: best checkpoint on that target's dev set (Bari's F1*, Bao's released scripts),
- ``last``: the final weights (UniTrans uses the last checkpoint),
- ``tgt_test``: best checkpoint on that target's test set (Bari Table 4's oracle column);
  opt-in, since it scores the test set at every checkpoint.

Ties keep the earlier checkpoint, so a result never depends on evaluation order.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Callable, Protocol, Sequence

from torch import nn

from xlt.checkpoints import Snapshot, snapshot
from xlt.evaluate import primary_metric, score

log = logging.getLogger("xlt.training")

SELECTIONS = ("src_dev", "tgt_dev", "last", "tgt_test")
#: Early-stopping rules (``fit``'s ``stopping``): ``since_best``, P epochs after the best
#: source-dev score (Bao et al.: "no improvement for 3 epochs"); ``consecutive_decreases``,
#: P evaluation points in a row each scoring below the one before (van der Heijden et al.:
#: "two rounds of consecutive decreased performance", Prechelt's UP criterion). A flat
#: score (e.g. an entity F1 of 0.0 in the first epochs) ends a run under the first, never
#: under the second.
STOPPING_RULES = ("since_best", "consecutive_decreases")
DEFAULT_SELECTIONS = ("src_dev", "tgt_dev", "last")

OnUpdate = Callable[[float], None]


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

    # One pass over the training data; ``on_update(loss)`` after every optimizer step.
    def train_epoch(self, epoch: int, on_update: OnUpdate) -> float: ...  # mean training loss

    def predict(self, sentences: Sequence[Sequence[str]]) -> list[list[str]]: ...


def checkpoint_name(step: int) -> str:
    return f"step{step}"


def fit(
    tagger: Tagger,
    *,
    kind: str,
    source_dev: EvalSet,
    epochs: int,
    eval_every: int | str | None,
    save: Callable[[str, Snapshot], None],
    patience: int | None = None,
    stopping: str = "since_best",
) -> list[dict]:
    """Train for ``epochs``; at each evaluation point score ``source_dev`` and ``save`` the
    trainable weights. Returns the trace: one entry per evaluation point (its checkpoint name,
    epoch, update count, mean loss since the previous point, source dev score, seconds).

    With ``eval_every`` = None the evaluation points are the epoch ends; with N they are every
    N updates, plus the end of training, so the last checkpoint is always the final weights;
    with "end" the end of training is the only one (UniTrans keeps the last model and reads no
    dev set: scoring and saving every epoch would be work no table uses).
    ``patience`` = P stops training early at the end of an epoch by the ``stopping`` rule
    (:data:`STOPPING_RULES`): by default the first epoch that comes P epochs after the best
    source-dev score so far (Bao et al.: "early stopping when there is no improvement for 3
    epochs"); with ``consecutive_decreases`` the first after P evaluation points in a row
    that each scored below the previous one. The checkpoints kept until then stay selectable.
    """
    at_end_only = eval_every == "end"
    if at_end_only:
        eval_every = None
    elif eval_every is not None and (not isinstance(eval_every, int) or eval_every < 1):
        raise ValueError(f"eval_every must be a positive number of updates, 'end' or null, got {eval_every!r}")
    metric = primary_metric(kind)
    trace: list[dict] = []
    state = {"epoch": 0, "step": 0, "losses": [], "clock": time.perf_counter()}

    def evaluate() -> None:
        started = time.perf_counter()
        was_training = tagger.model.training
        predicted = tagger.predict(source_dev.tokens)
        tagger.model.train(was_training)  # mid-epoch points resume training with dropout on
        value = score(kind, source_dev.tags, predicted)[metric]
        name = checkpoint_name(state["step"])
        save(name, snapshot(tagger.model))
        losses = state["losses"]
        entry = {
            "checkpoint": name,
            "epoch": state["epoch"],
            "step": state["step"],
            "loss": sum(losses) / max(len(losses), 1),
            "train_seconds": round(started - state["clock"], 3),
            "eval_seconds": round(time.perf_counter() - started, 3),
            "scores": {_dev_key(source_dev): round(value, 4)},
        }
        trace.append(entry)
        log.info("epoch %d step %d loss %.4f source dev %s %.2f (train %.1fs)", entry["epoch"],
                 entry["step"], entry["loss"], metric, value, entry["train_seconds"])
        state["losses"] = []
        state["clock"] = time.perf_counter()

    def on_update(loss: float) -> None:
        state["step"] += 1
        state["losses"].append(float(loss))
        if eval_every is not None and state["step"] % eval_every == 0:
            evaluate()

    if patience is not None and patience < 1:
        raise ValueError(f"patience must be a positive number of epochs or null, got {patience}")
    if stopping not in STOPPING_RULES:
        raise ValueError(f"stopping must be one of {list(STOPPING_RULES)}, got {stopping!r}")
    for epoch in range(1, epochs + 1):
        state["epoch"] = epoch
        tagger.train_epoch(epoch, on_update)
        if eval_every is None and (not at_end_only or epoch == epochs):
            evaluate()
        stop = (patience is not None and epoch < epochs and bool(trace)
                and _should_stop(trace, _dev_key(source_dev), epoch, patience, stopping))
        if eval_every is not None and (epoch == epochs or stop) and (not trace or trace[-1]["step"] != state["step"]):
            evaluate()  # the last checkpoint is always the final weights
        if stop:
            log.info("early stop after epoch %d (%s, patience %d)", epoch, stopping, patience)
            trace[-1]["early_stop"] = True
            break
    return trace


def _dev_key(source_dev: EvalSet) -> str:
    return f"{source_dev.lang}.dev"


def _should_stop(trace: list[dict], key: str, epoch: int, patience: int, stopping: str) -> bool:
    if stopping == "since_best":
        return epoch - _best_epoch(trace, key) >= patience
    scores = [entry["scores"][key] for entry in trace[-(patience + 1):]]
    return len(scores) == patience + 1 and all(later < earlier for earlier, later in zip(scores, scores[1:]))


def _best_epoch(trace: list[dict], key: str) -> int:
    """Epoch of the best source-dev score so far (the earliest of ties); 0 before any."""
    if not trace:
        return 0
    best = max(range(len(trace)), key=lambda i: (trace[i]["scores"][key], -i))
    return trace[best]["epoch"]


def best_checkpoint(values: Sequence[tuple[str, float]]) -> str:
    """The checkpoint with the highest value; ties keep the earliest."""
    best_name, best_value = values[0]
    for name, value in values[1:]:
        if value > best_value:
            best_name, best_value = name, value
    return best_name


def select_and_score(
    tagger: Tagger,
    *,
    kind: str,
    source: str,
    trace: Sequence[dict],
    load: Callable[[str], None],
    test: EvalSet,
    dev: EvalSet | None,
    selections: Sequence[str] = DEFAULT_SELECTIONS,
) -> tuple[list[dict], list[dict], dict[str, float]]:
    """Pick a checkpoint per criterion for one target and score its test set with it.

    ``load(name)`` puts checkpoint ``name``'s weights into ``tagger``. Returns (result rows,
    prediction rows, the target dev score of every checkpoint). A target with no dev split
    (MSRA) gets no ``tgt_dev`` row. When the target is the source, its dev scores are the
    training trace's (the same sentences), not computed again.
    """
    unknown = set(selections) - set(SELECTIONS)
    if unknown:
        raise ValueError(f"unknown selection criteria {sorted(unknown)}; known: {SELECTIONS}")
    metric = primary_metric(kind)
    names = [entry["checkpoint"] for entry in trace]
    chosen: dict[str, str] = {}
    if "src_dev" in selections:
        chosen["src_dev"] = best_checkpoint([(e["checkpoint"], e["scores"][f"{source}.dev"]) for e in trace])
    if "last" in selections:
        chosen["last"] = names[-1]

    test_predictions: dict[str, list[list[str]]] = {}
    test_scores: dict[str, dict[str, float]] = {}

    def score_test(name: str) -> dict[str, float]:
        if name not in test_scores:
            load(name)
            test_predictions[name] = tagger.predict(test.tokens)
            test_scores[name] = score(kind, test.tags, test_predictions[name])
        return test_scores[name]

    dev_scores: dict[str, float] = {}
    if "tgt_dev" in selections and dev is not None:
        for entry in trace:
            if dev.lang == source:
                dev_scores[entry["checkpoint"]] = entry["scores"][f"{source}.dev"]
            else:
                load(entry["checkpoint"])
                dev_scores[entry["checkpoint"]] = round(score(kind, dev.tags, tagger.predict(dev.tokens))[metric], 4)
        chosen["tgt_dev"] = best_checkpoint(list(dev_scores.items()))
    if "tgt_test" in selections:
        chosen["tgt_test"] = best_checkpoint([(name, score_test(name)[metric]) for name in names])
    # Oracle runs scored every checkpoint: keep only the predictions some criterion selected.
    for name in [n for n in test_predictions if n not in chosen.values()]:
        del test_predictions[name], test_scores[name]

    by_name = {entry["checkpoint"]: entry for entry in trace}
    results, rows = [], []
    for criterion in sorted(chosen):
        name = chosen[criterion]
        scores = score_test(name)
        entry = by_name[name]
        results.append({
            "target": test.lang, "split": "test", "selection": criterion,
            "checkpoint": name, "epoch": entry["epoch"], "step": entry["step"],
            **{k: round(v, 4) for k, v in scores.items()},
            "n_sentences": len(test.tokens),
        })
        for sid, tokens, gold, pred in zip(test.sentence_ids, test.tokens, test.tags, test_predictions[name]):
            rows.append({"target": test.lang, "split": "test", "selection": criterion,
                         "checkpoint": name, "sentence_id": sid, "tokens": list(tokens),
                         "gold": list(gold), "pred": list(pred)})
    return results, rows, dev_scores
