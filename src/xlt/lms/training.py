"""Training MLMA (Bao et al. 2019, §2.3): ``L = Σ_i λ_lm NLL_i + L_reg``.

Every update holds the same number of sentences of each language (§2.3, "we sample
equivalent number of sentences from the monolingual corpora of each language for each
mini-batch"); the LM loss of each language is its forward plus backward NLL (Eq. 4) under
the sampled softmax, and the alignment loss is the variant's (``none`` = MLM, ``iden``,
``mv``, ``avl``) summed over every pair of languages, computed on the current batch's states
(the paper's approximation) with padding left out. Adam, constant lr, gradients clipped by
global norm.

Logged every ``eval_every`` updates: the training loss, each alignment term per layer
(summed over pairs) and each language's held-out perplexity under the full softmax (the
exponent of the mean of its forward and backward per-token NLL).
"""

from __future__ import annotations

import itertools
import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from xlt.lms.alignment import average_linkage_loss, identical_strings_loss, mean_variance_loss
from xlt.lms.bilm import PAD, BiTransformerLM, join_directions
from xlt.optim import adam

log = logging.getLogger(__name__)

ALIGNMENTS = ("none", "iden", "mv", "avl")


@dataclass(frozen=True)
class LMTrainingParams:
    steps: int
    alignment: str = "none"
    sentences_per_language: int = 32
    lr: float = 1.0e-4
    clip: float = 5.0
    num_sampled: int | None = 8192
    label_smoothing: float = 0.0
    lm_weight: float = 1.0
    iden_weight: float = 100.0
    mean_weight: float = 0.1
    variance_weight: float = 0.01
    avl_weight: float = 1.0
    eval_every: int = 1000
    eval_batch_size: int = 64
    # Which language pairs are aligned: ``all`` (the paper: "adding the alignment between
    # each pair of languages"), or ``hub``: each language with ``hub`` only (a star around
    # the source: with many languages in one LM, the pairs the paper's two-language LMs
    # align, at a fraction of the cost).
    pairs: str = "all"
    hub: str | None = None
    # Group each update's sentences by length (the paper: "group them into batches by
    # length"): one random length quantile per update, and every language's sentences drawn
    # from around that quantile of its own corpus, so the shared layers pad little.
    group_by_length: bool = True

    def __post_init__(self) -> None:
        if self.alignment not in ALIGNMENTS:
            raise ValueError(f"alignment {self.alignment!r} is not one of {ALIGNMENTS}")
        if self.steps < 1 or self.sentences_per_language < 1:
            raise ValueError("steps and sentences_per_language must be positive")
        if self.pairs not in ("all", "hub") or (self.pairs == "hub") != (self.hub is not None):
            raise ValueError(f"pairs must be 'all', or 'hub' with a hub language (got {self.pairs!r}, {self.hub!r})")

    def aligned_pairs(self, languages: Sequence[str]) -> list[tuple[str, str]]:
        """The (sorted) language pairs the alignment loss covers."""
        pairs = list(itertools.combinations(sorted(languages), 2))
        if self.pairs == "hub":
            if self.hub not in languages:
                raise ValueError(f"hub language {self.hub!r} is not one of {sorted(languages)}")
            pairs = [p for p in pairs if self.hub in p]
        return pairs


def pad_batch(sentences: Sequence[Sequence[int]]) -> Tensor:
    """``(B, T)`` ids padded with ``PAD`` on the right."""
    width = max(len(s) for s in sentences)
    return torch.tensor([list(s) + [PAD] * (width - len(s)) for s in sentences], dtype=torch.long)


def real_token_states(layer_states: Tensor, ids: Tensor) -> list[Tensor]:
    """One ``(N_real, 2d)`` tensor per layer of ``(n + 1, B, T, 2d)`` states."""
    real = ids.ne(PAD)
    return [layer[real] for layer in layer_states]


def alignment_terms(
    params: LMTrainingParams,
    model: BiTransformerLM,
    states: Mapping[str, list[Tensor]],
    identical: Mapping[tuple[str, str], tuple[Tensor, Tensor]],
) -> dict[str, Tensor]:
    """The variant's alignment loss split into named terms (``mv/l0``, ``avl/l3``, ``iden``),
    each summed over the language pairs; their sum is ``L_reg``."""
    terms: dict[str, Tensor] = {}
    if params.alignment == "none":
        return terms
    for s, t in params.aligned_pairs(list(states)):
        if params.alignment == "iden":
            ids_s, ids_t = identical[(s, t)]
            value = identical_strings_loss(model.embeddings[s].weight, model.embeddings[t].weight, ids_s, ids_t,
                                           params.iden_weight)
            terms["iden"] = terms.get("iden", 0) + value
            continue
        for layer, (hs, ht) in enumerate(zip(states[s], states[t])):
            if params.alignment == "mv":
                value = mean_variance_loss([hs], [ht], params.mean_weight, params.variance_weight)
            else:
                value = average_linkage_loss([hs], [ht], params.avl_weight)
            terms[f"{params.alignment}/l{layer}"] = terms.get(f"{params.alignment}/l{layer}", 0) + value
    return terms


@torch.no_grad()
def perplexities(model: BiTransformerLM, dev: Mapping[str, Sequence[Sequence[int]]], batch_size: int = 64) -> dict[str, float]:
    """Each language's held-out perplexity (full softmax, both directions, token-weighted)."""
    was_training = model.training
    device = next(model.parameters()).device
    model.eval()
    out = {}
    for lang, sentences in sorted(dev.items()):
        total, count = 0.0, 0
        for start in range(0, len(sentences), batch_size):
            ids = pad_batch(sentences[start : start + batch_size]).to(device)
            n = int(ids.ne(PAD)[:, 1:].sum())
            fwd, bwd = model.lm_loss(lang, ids)
            total += (float(fwd) + float(bwd)) / 2 * n
            count += n
        out[lang] = math.exp(total / count) if count else float("nan")
    model.train(was_training)
    return out


def _pick(by_length: list[int], quantile: float, params: LMTrainingParams, generator: torch.Generator) -> list[int]:
    """``sentences_per_language`` sentence ids drawn from the window of ``WINDOW`` times as
    many around ``quantile`` of the length-sorted ids: similar lengths, still a random draw."""
    k = params.sentences_per_language
    window = min(len(by_length), WINDOW * k)
    start = int(quantile * (len(by_length) - window))
    offsets = torch.randint(window, (k,), generator=generator).tolist()
    return [by_length[start + o] for o in offsets]


WINDOW = 8


def train_lm(
    model: BiTransformerLM,
    corpora: Mapping[str, Sequence[Sequence[int]]],
    dev: Mapping[str, Sequence[Sequence[int]]],
    params: LMTrainingParams,
    seed: int,
    identical: Mapping[tuple[str, str], tuple[Sequence[int], Sequence[int]]] | None = None,
    on_eval: Callable[[dict], None] | None = None,
) -> list[dict]:
    """Trains ``model`` in place for ``params.steps`` updates; returns the evaluation log
    (one record per evaluation: step, loss, alignment terms, perplexities, seconds)."""
    languages = sorted(corpora)
    if sorted(model.languages) != languages:
        raise ValueError(f"corpora of {languages} for a model of {model.languages}")
    for lang in languages:
        if not corpora[lang]:
            raise ValueError(f"no training sentences for {lang}")
    device = next(model.parameters()).device
    id_pairs = {}
    if params.alignment == "iden":
        for pair in params.aligned_pairs(languages):
            if identical is None or pair not in identical:
                raise ValueError(f"alignment 'iden' needs the identical strings of {pair}")
            id_pairs[pair] = tuple(torch.tensor(list(x), dtype=torch.long, device=device) for x in identical[pair])
    by_length = {lang: sorted(range(len(corpora[lang])), key=lambda i, c=corpora[lang]: (len(c[i]), i))
                 for lang in languages}
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    optimizer = adam(model.parameters(), lr=params.lr)
    model.train()
    history, started = [], time.perf_counter()
    for step in range(1, params.steps + 1):
        lm_total = torch.zeros((), device=device)
        states = {}
        batches = {}
        quantile = float(torch.rand((), generator=generator))
        for lang in languages:
            pool = corpora[lang]
            picks = _pick(by_length[lang], quantile, params, generator) if params.group_by_length else \
                torch.randint(len(pool), (params.sentences_per_language,), generator=generator).tolist()
            batches[lang] = pad_batch([pool[i] for i in picks]).to(device)
        for lang, directional in model.multilingual_states(batches).items():
            ids = batches[lang]
            fwd, bwd = model.lm_loss(lang, ids, params.num_sampled, generator, params.label_smoothing,
                                     states=directional)
            lm_total = lm_total + params.lm_weight * (fwd + bwd)
            if params.alignment in ("mv", "avl"):
                states[lang] = real_token_states(join_directions(*directional), ids)
            else:
                states[lang] = []
        terms = alignment_terms(params, model, states, id_pairs)
        loss = lm_total + sum(terms.values(), torch.zeros((), device=device))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), params.clip)
        optimizer.step()
        if step % params.eval_every == 0 or step == params.steps:
            record = {
                "step": step,
                "loss": loss.item(),
                "lm_loss": lm_total.item(),
                "alignment": {k: v.item() for k, v in sorted(terms.items())},
                "perplexity": perplexities(model, dev, params.eval_batch_size),
                "seconds": round(time.perf_counter() - started, 1),
            }
            log.info("step %d/%d loss %.4f (LM %.4f) perplexity %s alignment %s (%.2fs per update)",
                     step, params.steps, record["loss"], record["lm_loss"],
                     {k: round(v, 1) for k, v in record["perplexity"].items()},
                     {k: round(v, 4) for k, v in record["alignment"].items()},
                     record["seconds"] / step)
            history.append(record)
            if on_eval is not None:
                on_eval(record)
    return history
