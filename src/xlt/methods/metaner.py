"""Enhanced meta-learning for cross-lingual NER (Wu et al. 2020, "Meta-NER"): the pieces.

- Sentence representations: the final-layer first-token ([CLS]) vector of the *pretrained*
  encoder (not fine-tuned), computed once per sentence set (``sentence_representations``).
- Pseudo-meta-NER tasks: each source training sentence is the query of a task whose support
  set is its top-K cosine neighbours among the *other* training sentences (Eq. 6;
  ``neighbours``: batched, never an N x N matrix; ``xlt.vectors.retrieval``).
- Meta-training (Algorithm 1): first-order MAML. Per task, ``inner_steps`` updates of a fresh
  Adam (lr alpha) on the support set, then the gradient of the query loss at the adapted
  weights; the weights are restored and the gradients of ``tasks_per_update`` tasks summed
  (Eq. 10) into one step of the meta optimizer (Adam, lr beta).
- Entity masking: every subword of a word inside an entity (B-/I-) is replaced by the mask
  token with probability ``mask_rate``, re-drawn every time a sentence is used
  (``mask_entities``); the paper masks the support and query examples of meta-training.
- Max loss (Eq. 13): mean token cross-entropy + lambda x the largest token cross-entropy of
  each sentence (averaged over the sentences of a batch, as the public code does)
  (``max_loss``).
- Adaptation: per target test sentence, one step of a fresh Adam (lr gamma, plain
  cross-entropy, no masking) on its K nearest source training sentences, predict, restore
  the meta-trained weights bit for bit (``MetaNERTagger.adapt_and_predict``).

Everything else (encoder, head on first subwords, frozen bottom layers, BIO-constrained
decoding) is the base model of ``xlt.methods.encoder_transfer``.
"""
from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors import safe_open
from safetensors.torch import save_file
from transformers import get_linear_schedule_with_warmup

from xlt.atomic import atomic_path
from xlt.batching import bucket_batches
from xlt.device import pick_device
from xlt.encoders import resolve_encoder
from xlt.errors import InputError
from xlt.fetch import mirror_dirs
from xlt.methods.common import RunSpec, label_inventory, load_sentences
from xlt.provenance import input_hashes
from xlt.methods.encoder_transfer import MAX_GRAD_NORM, EncoderTransferTagger
from xlt.models.encoder_tagger import load_encoder
from xlt.optim import adam, make_inner_optimizer
from xlt.models.subword import (
    IGNORE_INDEX,
    SubwordWindow,
    WindowBatch,
    collate_windows,
    make_windows,
    special_tokens,
)
from xlt.training import OnUpdate
from xlt.vectors.retrieval import nn_topk, unit_rows
from xlt.vocab import Vocab

log = logging.getLogger("xlt.methods.metaner")


# -- sentence representations and retrieval ------------------------------------------------
def sentence_representations(encoder_path: str, sentences: Sequence[Sequence[str]], *, batch_size: int = 64,
                             num_layers: int | None = None, max_subwords: int = 128,
                             device: torch.device | str = "cpu") -> torch.Tensor:
    """(N, hidden) float32: the last layer's vector at the first position ([CLS], <s>) of
    each sentence's first window, from the pretrained encoder in eval mode (dropout off).
    A sentence longer than ``max_subwords`` is represented by its first window."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(encoder_path)
    encoder = load_encoder(encoder_path, num_layers).to(device).eval()
    windows = make_windows(tokenizer, sentences, max_subwords, 0)
    first: dict[int, SubwordWindow] = {}
    for window in windows:
        first.setdefault(window.sentence_index, window)
    prefix, suffix = special_tokens(tokenizer)
    empty = SubwordWindow(-1, (*prefix, *suffix), (), ())  # an empty sentence: the specials alone
    ordered = [first.get(i, empty) for i in range(len(sentences))]
    out = torch.empty(len(sentences), encoder.config.hidden_size)
    lengths = [len(w.input_ids) for w in ordered]
    with torch.inference_mode():
        for rows in bucket_batches(lengths, batch_size, shuffle=False, chunk_batches=None):  # less padding
            batch = collate_windows([ordered[i] for i in rows], tokenizer.pad_token_id).to(device)
            states = encoder(input_ids=batch.input_ids, attention_mask=batch.attention_mask).last_hidden_state
            out[rows] = states[:, 0].float().cpu()
    return out


def write_representations(table: str | Path, out: str | Path, *, encoder: str, layers: int | None,
                          batch_size: int, max_subwords: int, max_sentences: int | None,
                          mirror: Sequence[str] = (), prefer_gpu: bool = True) -> int:
    """The [CLS] vectors of the first ``max_sentences`` sentences of a canonical table, as a
    safetensors file (``vectors``), with the sentence ids, encoder, layers and the table's
    sha256 in its metadata (provenance; ``read_representations`` checks the ids against the
    sentences a job reads). Returns N."""
    tokens, _, ids = load_sentences(Path(table), max_sentences)
    path = resolve_encoder(encoder, mirror_dirs({"mirror_dirs": list(mirror)}))
    started = time.perf_counter()
    vectors = sentence_representations(str(path), tokens, batch_size=batch_size, num_layers=layers,
                                       max_subwords=max_subwords, device=pick_device(prefer_gpu))
    log.info("%d [CLS] vectors of %s in %.1fs", len(tokens), table, time.perf_counter() - started)
    metadata = {"sentence_ids": json.dumps(ids), "encoder": str(encoder), "layers": json.dumps(layers),
                "table": str(table), "table_sha256": input_hashes([table])[str(table)]}
    with atomic_path(out) as tmp:
        save_file({"vectors": vectors.contiguous()}, str(tmp), metadata=metadata)
    return len(tokens)


def read_representations(path: str | Path, sentence_ids: Sequence[str]) -> torch.Tensor:
    """The vectors of ``sentence_ids`` (a job's sentences, in order) from a file of
    ``write_representations``; an error naming the file when they are not the file's first rows."""
    with safe_open(str(path), framework="pt") as handle:
        if "vectors" not in handle.keys():
            raise InputError(path, None, "no 'vectors' tensor: not a file of write_representations")
        stored = json.loads((handle.metadata() or {}).get("sentence_ids", "null") or "null")
        vectors = handle.get_tensor("vectors")
    if stored is None or list(stored[: len(sentence_ids)]) != list(sentence_ids):
        raise InputError(path, None, f"its sentences are not the {len(sentence_ids)} the job reads "
                         "(representations of another table or cap)")
    return vectors[: len(sentence_ids)]


def neighbours(queries: torch.Tensor, keys: torch.Tensor, k: int, *, exclude_self: bool = False,
               block: int | None = None) -> torch.Tensor:
    """(Nq, k) indices of the ``k`` keys most cosine-similar to each query, best first.

    ``exclude_self``: queries and keys are the same set (pseudo-meta-NER tasks: the support
    set comes from D_train minus the query itself); row i never lists i. Retrieval is in
    row blocks (``xlt.vectors.retrieval``): memory O(block x N), never N x N."""
    q, kk = unit_rows(queries.float()), unit_rows(keys.float())
    if not exclude_self:
        return nn_topk(q, kk, k, block)[1]
    if queries.shape[0] != keys.shape[0]:
        raise ValueError("exclude_self needs the queries to be the keys")
    top = nn_topk(q, kk, k + 1, block)[1]
    rows = torch.arange(top.shape[0])[:, None]
    keep = top != rows
    # Row i keeps its first k entries that are not i (i itself may be missing from the top
    # k+1 when duplicates of the sentence tie with it: then the last entry is dropped).
    order = torch.argsort((~keep).to(torch.int8), dim=1, stable=True)[:, :k]
    return top.gather(1, order)


# -- losses and masking ------------------------------------------------------------------
def max_loss(logits: torch.Tensor, labels: torch.Tensor, weight: float) -> torch.Tensor:
    """Eq. 13: mean token cross-entropy over the batch's scored words + ``weight`` x the mean,
    over the batch's windows, of each window's largest token cross-entropy.

    ``logits`` (B, W, C), ``labels`` (B, W) with ``IGNORE_INDEX`` at padding. ``weight`` 0 is
    the plain cross-entropy (Eq. 3)."""
    active = labels != IGNORE_INDEX
    losses = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1),
                             ignore_index=IGNORE_INDEX, reduction="none").view(labels.shape)
    mean = losses[active].mean()
    if not weight:
        return mean
    has_words = active.any(dim=1)
    per_window = losses.masked_fill(~active, float("-inf")).max(dim=1).values[has_words]
    return mean + weight * per_window.mean()


def mask_entities(windows: Sequence[SubwordWindow], entity_labels: set[int], rate: float, mask_id: int,
                  n_suffix: int, generator: torch.Generator) -> list[SubwordWindow]:
    """Copies of ``windows`` in which each scored word labelled with one of ``entity_labels``
    (B-/I- ids) has all its subwords replaced by ``mask_id`` with probability ``rate``. The
    draw is made anew on every call. Context subwords (scored in an earlier window) and the
    special tokens are never touched."""
    if rate <= 0:
        return list(windows)
    out = []
    for window in windows:
        if window.labels is None:
            raise ValueError("masking entities needs windows with labels")
        ids = list(window.input_ids)
        draws = torch.rand(len(window.labels), generator=generator).tolist()
        ends = [*window.label_positions[1:], len(ids) - n_suffix]
        for label, start, end, draw in zip(window.labels, window.label_positions, ends, draws):
            if label in entity_labels and draw < rate:
                ids[start:end] = [mask_id] * (end - start)
        out.append(replace(window, input_ids=tuple(ids)))
    return out


def entity_label_ids(labels: Vocab) -> set[int]:
    return {i for i, tag in enumerate(labels.symbols) if tag[:2] in ("B-", "I-")}


# -- the tagger --------------------------------------------------------------------------
class MetaNERTagger(EncoderTransferTagger):
    """The base model's encoder tagger, trained by first-order MAML over pseudo-meta-NER tasks
    (``train_epoch`` runs the meta-updates) and adapted per test sentence."""

    def __init__(self, spec: RunSpec, labels: Vocab) -> None:
        super().__init__(spec, labels)
        tokenizer = self.model.tokenizer
        if tokenizer.mask_token_id is None:
            raise ValueError(f"{self.encoder}: the tokenizer has no mask token for entity masking")
        self.mask_id = int(tokenizer.mask_token_id)
        self.n_suffix = len(special_tokens(tokenizer)[1])
        self.entities = entity_label_ids(labels)
        self.generator = torch.Generator().manual_seed(spec.seed)
        self.params = [p for p in self.model.parameters() if p.requires_grad]

    # -- weights ----------------------------------------------------------------------
    def save_weights(self) -> list[torch.Tensor]:
        return [p.detach().clone() for p in self.params]

    def load_weights(self, weights: Sequence[torch.Tensor]) -> None:
        with torch.no_grad():
            for p, w in zip(self.params, weights):
                p.copy_(w)

    def _by_sentence(self, tokens: list[list[str]], tags: list[list[str]]) -> list[list[SubwordWindow]]:
        """The labelled windows of each sentence (none for an empty one)."""
        grouped: list[list[SubwordWindow]] = [[] for _ in tokens]
        for window in self.model.windows(tokens, [self.labels.encode(t) for t in tags]):
            grouped[window.sentence_index].append(window)
        return grouped

    def _loss(self, windows: Sequence[SubwordWindow], weight: float) -> torch.Tensor:
        batch: WindowBatch = self.model.collate(windows)
        return max_loss(self.model(batch), batch.labels, weight)

    def _masked(self, windows: Sequence[SubwordWindow], rate: float) -> list[SubwordWindow]:
        return mask_entities(windows, self.entities, rate, self.mask_id, self.n_suffix, self.generator)

    def _fresh_optimizer(self, lr: float) -> torch.optim.Optimizer:
        """The ``inner_optimizer`` (AdamW, or the code's BertAdam: xlt.optim) in the state of a
        new one (step 0, zero moments), at ``lr``. One optimizer
        is kept and reset in place: allocating two moment buffers per weight for every task and
        test sentence took a fifth of the adaptation time (benchmarks/README.md)."""
        optimizer = getattr(self, "_inner_optimizer", None)
        if optimizer is None:
            optimizer = self._inner_optimizer = make_inner_optimizer(
                str(self.hp.get("inner_optimizer", "adamw")), self._groups(float(self.hp["weight_decay"])), lr)
        for group in optimizer.param_groups:
            group["lr"] = lr
        # (step,) exp_avg, exp_avg_sq of every weight, zeroed in one call (a zero_ per tensor
        # was 5 ms of each adapted sentence).
        state = [value for values in optimizer.state.values() for value in values.values()
                 if isinstance(value, torch.Tensor)]
        if state:
            torch._foreach_zero_(state)
        return optimizer

    def fresh_step(self, windows: Sequence[SubwordWindow], lr: float, steps: int, weight: float,
                   mask_rate: float) -> float:
        """``steps`` updates of a fresh Adam (the inner update U^n of Eq. 7; adaptation with
        steps 1, weight 0, rate 0) on ``windows``; returns the last loss."""
        if steps <= 0:
            return float("nan")
        optimizer = self._fresh_optimizer(lr)
        loss_value = float("nan")
        for _ in range(steps):
            loss = self._loss(self._masked(windows, mask_rate), weight)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            loss_value = loss.item()
        return loss_value

    # -- meta-training ----------------------------------------------------------------
    def prepare_meta(self, tokens: list[list[str]], tags: list[list[str]], representations: torch.Tensor) -> None:
        """Windows of every source sentence, its support set (top-K neighbours but itself) and
        the meta optimizer with its warmup-and-decay schedule over ``meta_steps`` updates."""
        hp = self.hp
        if representations.shape[0] != len(tokens):
            raise ValueError(f"{representations.shape[0]} sentence representations for {len(tokens)} sentences")
        self.sentence_windows = self._by_sentence(tokens, tags)
        windows = [w for ws in self.sentence_windows for w in ws]
        self.usable = [i for i, w in enumerate(self.sentence_windows) if w]
        started = time.perf_counter()
        self.support = neighbours(representations, representations, int(hp["support_size"]), exclude_self=True)
        log.info("support sets: top-%d of %d sentences in %.1fs", int(hp["support_size"]), len(tokens),
                 time.perf_counter() - started)
        self.meta_steps = int(hp["meta_steps"])
        self.optimizer = adam(self._groups(float(hp["weight_decay"])), decoupled=True, lr=float(hp["lr_meta"]))
        self.scheduler = get_linear_schedule_with_warmup(
            self.optimizer, int(float(hp["warmup"]) * self.meta_steps), self.meta_steps)
        self.windows = windows
        self._order: list[int] = []

    def inner_lr(self, step: int) -> float:
        """alpha on the meta schedule (the public code's warmup-then-linear-decay of alpha)."""
        warmup = float(self.hp["warmup"])
        progress = step / max(self.meta_steps, 1)
        scale = progress / warmup if progress < warmup else max((progress - 1.0) / (warmup - 1.0), 0.0)
        return float(self.hp["lr_inner"]) * scale if warmup > 0 else float(self.hp["lr_inner"]) * (1 - progress)

    def sample_tasks(self, n: int) -> list[int]:
        """The next ``n`` queries of a seeded shuffle of the sentences, reshuffled when used up."""
        out = []
        while len(out) < n:
            if not self._order:
                self._order = [self.usable[i] for i in torch.randperm(len(self.usable), generator=self.generator)]
            out.append(self._order.pop())
        return out

    def meta_update(self, queries: Sequence[int], step: int) -> float:
        """One first-order MAML meta-update over the tasks of ``queries`` (Eqs. 7-12); returns
        the mean query loss. The weights before it come back exactly after each task."""
        hp = self.hp
        weight = float(hp["max_loss_weight"])
        rate = float(hp["mask_rate"])
        inner_steps, lr = int(hp["inner_steps"]), self.inner_lr(step)
        theta = self.save_weights()
        meta_grads = [torch.zeros_like(p) for p in self.params]
        losses = []
        self.model.train()
        for query in queries:
            support = [w for i in self.support[query].tolist() for w in self.sentence_windows[i]]
            if inner_steps and support:
                self.fresh_step(support, lr, inner_steps, weight, rate if hp.get("mask_support", True) else 0.0)
            loss = self._loss(self._masked(self.sentence_windows[query], rate), weight)
            grads = torch.autograd.grad(loss, self.params, allow_unused=True)
            for acc, g in zip(meta_grads, grads):
                if g is not None:
                    acc.add_(g)
            losses.append(loss.item())
            self.load_weights(theta)
        self.optimizer.zero_grad(set_to_none=True)
        for p, g in zip(self.params, meta_grads):
            p.grad = g
        clip = hp.get("meta_clip", MAX_GRAD_NORM)
        if clip is not None:
            torch.nn.utils.clip_grad_norm_(self.params, float(clip))
        self.optimizer.step()
        self.scheduler.step()
        return sum(losses) / max(len(losses), 1)

    def train_epoch(self, epoch: int, on_update: OnUpdate) -> float:
        """All ``meta_steps`` meta-updates (the plan sets one "epoch")."""
        total, tasks = 0.0, int(self.hp["tasks_per_update"])
        started = time.perf_counter()
        for step in range(self.meta_steps):
            loss = self.meta_update(self.sample_tasks(tasks), step)
            total += loss
            on_update(loss)
            if (step + 1) % 10 == 0:
                log.info("meta-update %d/%d query loss %.4f (%.2fs per update)", step + 1, self.meta_steps,
                         total / (step + 1), (time.perf_counter() - started) / (step + 1))
        return total / max(self.meta_steps, 1)

    # -- adaptation -------------------------------------------------------------------
    def prepare_adaptation(self, tokens: list[list[str]], tags: list[list[str]], representations: torch.Tensor,
                           targets: dict[tuple[str, ...], torch.Tensor]) -> None:
        """Evaluation: the source training sentences (windows and vectors) a target sentence
        draws its support from, and the vectors of the target sentences, by their words.
        From here on ``predict`` adapts to each sentence (the paper's test-time adaptation)."""
        self.source_windows = self._by_sentence(tokens, tags)
        # Support comes from sentences that have windows (an empty one has nothing to learn).
        self.source_usable = torch.tensor([i for i, w in enumerate(self.source_windows) if w], dtype=torch.long)
        self.source_vectors = representations[self.source_usable]
        self.target_vectors = targets

    def predict(self, sentences: Sequence[Sequence[str]]) -> list[list[str]]:
        """Tags; after ``prepare_adaptation``, each sentence adapted to (``adapt_and_predict``
        on its ``support_size`` nearest source training sentences) first."""
        if getattr(self, "target_vectors", None) is None:
            return super().predict(sentences)
        missing = [i for i, s in enumerate(sentences) if tuple(s) not in self.target_vectors]
        if missing:
            files = sorted(str(v) for k, v in self.spec.inputs.items()
                           if k.endswith("_representations") and k != "source_representations")
            raise ValueError(f"{len(missing)} of {len(sentences)} sentences have no [CLS] vector in {files} "
                             f"(first: {' '.join(sentences[missing[0]])!r}): representations of another "
                             "table or sentence cap")
        queries = torch.stack([self.target_vectors[tuple(s)] for s in sentences])
        nearest = self.source_usable[neighbours(queries, self.source_vectors, int(self.hp["support_size"]))]
        support = [[w for i in row.tolist() for w in self.source_windows[i]] for row in nearest]
        started = time.perf_counter()
        predictions = self.adapt_and_predict(sentences, support)
        log.info("adapted to %d sentences: %.1f sentences/s", len(sentences),
                 len(sentences) / max(time.perf_counter() - started, 1e-9))
        return predictions

    def adapt_and_predict(self, sentences: Sequence[Sequence[str]],
                          support: Sequence[Sequence[SubwordWindow]]) -> list[list[str]]:
        """Per sentence: one step of a fresh Adam (lr ``adapt_lr``, plain cross-entropy, no
        masking) on ``support[j]`` (windows of its nearest source sentences), predict it,
        restore the weights. The adaptation step's dropout is seeded by (run seed, j): a
        sentence's prediction does not depend on what was adapted or scored before it."""
        lr, steps = float(self.hp["adapt_lr"]), int(self.hp.get("adapt_steps", 1))
        theta = self.save_weights()
        predictions = []
        devices = [self.device] if self.device.type == "cuda" else []
        for j, (sentence, windows) in enumerate(zip(sentences, support)):
            with torch.random.fork_rng(devices=devices):
                torch.manual_seed(self.spec.seed * 1_000_003 + j)
                self.model.train()  # the adaptation step trains with dropout, as meta-training
                self.fresh_step(list(windows), lr, steps, 0.0, 0.0)
            predictions.append(super().predict([sentence])[0])
            self.load_weights(theta)
        return predictions


def build(spec: RunSpec, train: tuple, source_dev: tuple) -> MetaNERTagger:
    if spec.kind != "ner":
        raise ValueError("metaner is a NER method (masking and decoding assume BIO labels)")
    if "representations" not in spec.inputs:
        raise ValueError("metaner: the job lacks its input 'representations' (the source's [CLS] vectors)")
    tokens, tags, ids = train
    tagger = MetaNERTagger(spec, Vocab.for_labels(label_inventory(spec, tags, "IOB2")))
    tagger.prepare_meta(tokens, tags, read_representations(spec.inputs["representations"], ids))
    return tagger


#: Evaluation inputs: the source training table and its vectors (the support sentences), and
#: the vectors of each target split the evaluation scores (``<split>_representations``).
ADAPTATION_INPUTS = ("source_train", "source_representations")


def rebuild(spec: RunSpec, state: dict) -> MetaNERTagger:
    """The meta-trained tagger; in an evaluation job (which passes the source training table,
    its vectors and the target's), one that adapts to each target sentence before tagging it."""
    tagger = MetaNERTagger(spec, Vocab.from_dict(state["labels"]))
    if all(key in spec.inputs for key in ADAPTATION_INPUTS):
        tokens, tags, ids = load_sentences(spec.inputs["source_train"], spec.max_sentences.get("train"))
        targets = {}
        for key, path in spec.inputs.items():
            split = key.removesuffix("_representations")
            if key.endswith("_representations") and split in spec.inputs and key != "source_representations":
                split_tokens, _, split_ids = load_sentences(spec.inputs[split])
                vectors = read_representations(path, split_ids[: stored_rows(path)])
                targets.update({tuple(t): v for t, v in zip(split_tokens, vectors)})
        tagger.prepare_adaptation(tokens, tags, read_representations(spec.inputs["source_representations"], ids),
                                  targets)
    return tagger


def stored_rows(path: str | Path) -> int:
    """How many sentences a representations file holds (the cap it was made with)."""
    with safe_open(str(path), framework="pt") as handle:
        if "vectors" not in handle.keys():
            raise InputError(path, None, "no 'vectors' tensor: not a file of write_representations")
        return handle.get_slice("vectors").get_shape()[0]
