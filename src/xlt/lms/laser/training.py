"""Training the stand-in encoder by translation, and the retrieval check.

As LASER: every pair is one example "encode the source, decode the target in its language",
teacher-forced token cross-entropy, Adam, dropout; batches of pairs of similar source length
(:func:`xlt.batching.bucket_batches`, one seeded order per pass). Every ``eval_every``
updates and at the end: the held-out pairs' loss and the retrieval accuracy of held-out
sentences — for each language, the share of its sentences whose nearest English sentence by
cosine of the sentence vectors (:func:`xlt.vectors.retrieval.nn_topk`) is their translation:
the similarity-search check of Artetxe & Schwenk (2019, §4.3, there as an error rate).
"""
from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
from tokenizers import Tokenizer

from xlt.batching import bucket_batches, pad
from xlt.lms.laser.bitext import Bitext
from xlt.lms.laser.model import LaserEncoder, LaserTranslator
from xlt.lms.laser.preprocess import BOS, EOS, encode_words
from xlt.optim import adam
from xlt.vectors.retrieval import nn_topk, unit_rows

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LaserTrainingParams:
    steps: int
    batch_size: int = 64
    lr: float = 1e-3
    clip: float | None = 5.0
    max_pieces: int = 64  # longer sentences are cut (source and target sides)
    eval_every: int = 500
    eval_sentences: int = 200  # held-out pairs per language pair for the dev loss


def encode_sentence(tokenizer: Tokenizer, words: Sequence[str], max_pieces: int) -> list[int]:
    ids = encode_words(tokenizer, words)[0]
    return ids[:max_pieces] or [tokenizer.token_to_id("<unk>")]


@dataclass
class EncodedPairs:
    source: list[list[int]]
    target: list[list[int]]  # <s> ... </s>
    lang_ids: list[int]


def encode_pairs(tokenizer: Tokenizer, bitexts: Sequence[Bitext], targets: Sequence[str], max_pieces: int) -> EncodedPairs:
    bos, eos = tokenizer.token_to_id(BOS), tokenizer.token_to_id(EOS)
    out = EncodedPairs([], [], [])
    for bitext in bitexts:
        lang_id = list(targets).index(bitext.target_lang)
        for source, target in zip(bitext.source, bitext.target):
            out.source.append(encode_sentence(tokenizer, source, max_pieces))
            out.target.append([bos, *encode_sentence(tokenizer, target, max_pieces), eos])
            out.lang_ids.append(lang_id)
    return out


def _batch(pairs: EncodedPairs, indices: Sequence[int], device: torch.device | str):
    src = [pairs.source[i] for i in indices]
    lengths = torch.tensor([len(s) for s in src])
    return (pad(src).to(device), lengths, torch.tensor([pairs.lang_ids[i] for i in indices], device=device),
            pad([pairs.target[i] for i in indices]).to(device))


@torch.no_grad()
def encode_sentences(encoder: LaserEncoder, tokenizer: Tokenizer, sentences: Sequence[Sequence[str]],
                     max_pieces: int, batch_size: int = 128, device: torch.device | str = "cpu") -> torch.Tensor:
    """``(N, 2 * hidden)`` sentence vectors (eval mode), in the given order."""
    was_training = encoder.training
    encoder.eval()
    ids = [encode_sentence(tokenizer, s, max_pieces) for s in sentences]
    out = torch.zeros(len(ids), encoder.output_dim)
    for indices in bucket_batches([len(i) for i in ids], batch_size, shuffle=False, chunk_batches=None):
        batch = [ids[i] for i in indices]
        out[indices] = encoder(pad(batch).to(device), torch.tensor([len(b) for b in batch])).float().cpu()
    encoder.train(was_training)
    return out


def retrieval_accuracy(encoder: LaserEncoder, tokenizer: Tokenizer, held: Mapping[str, Sequence[Sequence[str]]],
                       pivot: str, max_pieces: int, device: torch.device | str = "cpu") -> dict[str, float]:
    """Per language other than ``pivot``: the fraction of its held-out sentences whose
    cosine-nearest ``pivot`` sentence is their own translation (same line)."""
    keys = unit_rows(encode_sentences(encoder, tokenizer, held[pivot], max_pieces, device=device))
    scores = {}
    for lang, sentences in sorted(held.items()):
        if lang == pivot:
            continue
        queries = unit_rows(encode_sentences(encoder, tokenizer, sentences, max_pieces, device=device))
        nearest = nn_topk(queries, keys, 1)[1][:, 0]
        scores[lang] = float((nearest == torch.arange(len(sentences))).float().mean())
    return scores


@torch.no_grad()
def mean_loss(model: LaserTranslator, pairs: EncodedPairs, batch_size: int, device: torch.device | str) -> float:
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    for indices in bucket_batches([len(s) for s in pairs.source], batch_size, shuffle=False, chunk_batches=None):
        total += float(model.loss(*_batch(pairs, indices, device))) * len(indices)
        count += len(indices)
    model.train(was_training)
    return total / max(count, 1)


def train_translator(model: LaserTranslator, tokenizer: Tokenizer, train: EncodedPairs, dev: EncodedPairs,
                     held: Mapping[str, Sequence[Sequence[str]]], params: LaserTrainingParams, seed: int,
                     pivot: str = "en", device: torch.device | str = "cpu") -> list[dict]:
    """Train in place for ``params.steps`` updates; the evaluation history."""
    optimizer = adam(model.parameters(), lr=params.lr)
    history: list[dict] = []
    started = time.perf_counter()

    def evaluate(step: int, train_loss: float | None) -> None:
        record = {"step": step, "seconds": round(time.perf_counter() - started, 1), "train_loss": train_loss,
                  "dev_loss": mean_loss(model, dev, params.batch_size, device),
                  "retrieval_accuracy": retrieval_accuracy(model.encoder, tokenizer, held, pivot,
                                                           params.max_pieces, device)}
        history.append(record)
        log.info("step %d (%.0fs): train loss %s, dev loss %.3f, retrieval X->%s %s", step, record["seconds"],
                 "-" if train_loss is None else f"{train_loss:.3f}", record["dev_loss"], pivot,
                 {k: round(v, 3) for k, v in record["retrieval_accuracy"].items()})

    model.train()
    evaluate(0, None)
    step, epoch, running = 0, 0, []
    while step < params.steps:
        for indices in bucket_batches([len(s) for s in train.source], params.batch_size, shuffle=True,
                                      seed=seed * 1000 + epoch):
            loss = model.loss(*_batch(train, indices, device))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if params.clip is not None:
                torch.nn.utils.clip_grad_norm_(model.parameters(), params.clip)
            optimizer.step()
            running.append(loss.item())
            step += 1
            if step % params.eval_every == 0 or step == params.steps:
                evaluate(step, sum(running) / len(running))
                running = []
            if step == params.steps:
                break
        epoch += 1
    return history
