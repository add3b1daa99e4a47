"""Pretrained-encoder tagger: Hugging Face encoder + dropout + linear head on first subwords.

The model transfer baseline of UniTrans / Meta-NER and the BERT rows of Bao and van der
Heijden. Sentences go through ``xlt.models.subword`` windows, so no word is ever dropped.

``autocast="bfloat16"`` runs the encoder and head under mixed precision (weights, optimizer
state and the loss stay float32; matrix products in bfloat16): on a CPU with AVX512-BF16 a
training update of e5-small's bottom 4 layers took half the time of float32
(benchmarks/encoder_depth.py). ``None`` is plain float32.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from transformers import MODEL_MAPPING, AutoConfig, AutoModel, AutoTokenizer

from xlt.atomic import atomic_path
from xlt.batching import bucket_batches, pad
from xlt.models.crf import constrained_decode, paths_to_lists
from xlt.models.subword import (
    IGNORE_INDEX,
    SubwordWindow,
    WindowBatch,
    collate_windows,
    make_windows,
    reassemble,
)

Decode = Literal["argmax", "bio_viterbi"]
AUTOCAST_DTYPES = {"bfloat16": torch.bfloat16, "float16": torch.float16}
HEAD_FILE = "tagger_head.pt"
TAGGER_CONFIG_FILE = "tagger_config.json"


def load_encoder(name_or_path: str, num_layers: int | None = None) -> nn.Module:
    """``AutoModel`` in float32 (mirror copies may be stored in fp16), without the pooler.

    The pooler is unused by a tagger and, being untrained in some checkpoints, only adds
    parameters; ``add_pooling_layer`` is passed only to model classes that accept it.
    ``num_layers`` keeps only the bottom N transformer layers (``num_hidden_layers``; the
    weights of the layers above are not loaded): a smaller encoder for CPU-sized plans.
    """
    config = AutoConfig.from_pretrained(name_or_path)
    model_class = MODEL_MAPPING.get(type(config), None)
    kwargs = {}
    if model_class is not None and "add_pooling_layer" in inspect.signature(model_class.__init__).parameters:
        kwargs["add_pooling_layer"] = False
    if num_layers is not None:
        available = getattr(config, "num_hidden_layers", None)
        if available is None:
            raise ValueError(f"{name_or_path}: {type(config).__name__} has no num_hidden_layers to truncate")
        if not 1 <= num_layers <= available:
            raise ValueError(f"{name_or_path}: cannot keep {num_layers} of its {available} layers")
        kwargs["num_hidden_layers"] = num_layers
    return AutoModel.from_pretrained(name_or_path, dtype=torch.float32, **kwargs)


def freeze_bottom(encoder: nn.Module, freeze_embeddings: bool, n_layers: int) -> None:
    """Freeze the embeddings and the lowest ``n_layers`` transformer layers.

    UniTrans freezes embeddings + 3 layers, Meta-NER's code 4. Works for BERT-like models
    (``.embeddings`` and ``.encoder.layer``: BERT, RoBERTa, XLM-R, ELECTRA, e5); other layouts
    raise instead of silently training everything.
    """
    if freeze_embeddings:
        if not hasattr(encoder, "embeddings"):
            raise ValueError(f"{type(encoder).__name__} has no .embeddings to freeze")
        encoder.embeddings.requires_grad_(False)
    if n_layers:
        layers = getattr(getattr(encoder, "encoder", None), "layer", None)
        if layers is None:
            raise ValueError(f"{type(encoder).__name__} has no .encoder.layer to freeze")
        if n_layers > len(layers):
            raise ValueError(f"cannot freeze {n_layers} of {len(layers)} layers")
        for layer in layers[:n_layers]:
            layer.requires_grad_(False)


class EncoderTagger(nn.Module):
    def __init__(
        self,
        encoder_name_or_path: str,
        num_labels: int,
        dropout: float = 0.1,
        freeze_embeddings: bool = True,
        freeze_layers: int = 3,
        max_subwords: int = 128,
        context_subwords: int = 64,
        num_layers: int | None = None,
        autocast: str | None = None,
        fallback_language: str | None = None,
    ) -> None:
        super().__init__()
        if autocast is not None and autocast not in AUTOCAST_DTYPES:
            raise ValueError(f"autocast must be null or one of {sorted(AUTOCAST_DTYPES)}, got {autocast!r}")
        self.config_values = {
            "num_labels": num_labels, "dropout": dropout, "freeze_embeddings": freeze_embeddings,
            "freeze_layers": freeze_layers, "max_subwords": max_subwords,
            "context_subwords": context_subwords, "num_layers": num_layers, "autocast": autocast,
            "fallback_language": fallback_language,
        }
        self.autocast = autocast
        self.tokenizer = AutoTokenizer.from_pretrained(encoder_name_or_path)
        self.encoder = load_encoder(encoder_name_or_path, num_layers)
        freeze_bottom(self.encoder, freeze_embeddings, freeze_layers)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(self.encoder.config.hidden_size, num_labels)
        self.max_subwords = max_subwords
        self.context_subwords = context_subwords
        # Encoders with language embeddings (XLM: ``use_lang_emb``, ``lang2id``) read each
        # sentence with its language's id. ``language`` is the one of sentences passed without
        # one (the method sets it: the source in training, the target when scoring);
        # ``fallback_language`` stands in for a language the encoder has no embedding for.
        config = self.encoder.config
        self.language_ids: dict[str, int] | None = None
        if getattr(config, "use_lang_emb", False) and int(getattr(config, "n_langs", 1)) > 1:
            self.language_ids = {str(k): int(v) for k, v in (config.lang2id or {}).items()}
            if not self.language_ids:
                raise ValueError(f"{encoder_name_or_path}: language embeddings but no lang2id in its config")
        self.fallback_language = fallback_language
        self.language: str | None = None

    def language_id(self, lang: str) -> int:
        """The encoder's id of ``lang``, or of ``fallback_language`` for one it was not
        pretrained on (XLM-15 has no Dutch, Basque or Hungarian)."""
        if self.language_ids is None:
            raise ValueError("the encoder has no language embeddings")
        if lang in self.language_ids:
            return self.language_ids[lang]
        if self.fallback_language is None:
            raise ValueError(f"the encoder has no language embedding for {lang!r} (it has "
                             f"{sorted(self.language_ids)}) and no fallback_language is set")
        if self.fallback_language not in self.language_ids:
            raise ValueError(f"fallback_language {self.fallback_language!r} is not one of the encoder's "
                             f"{sorted(self.language_ids)}")
        return self.language_ids[self.fallback_language]

    @property
    def device(self) -> torch.device:
        return self.classifier.weight.device

    @property
    def n_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    # -- data -----------------------------------------------------------------------------
    def windows(
        self, sentences: Sequence[Sequence[str]], labels: Sequence[Sequence[int]] | None = None,
        languages: Sequence[str] | None = None,
    ) -> list[SubwordWindow]:
        """Windows of ``sentences``; ``languages`` (one per sentence, default ``language``)
        matter only to an encoder with language embeddings."""
        ids = None
        if self.language_ids is not None:
            if languages is None:
                if self.language is None:
                    raise ValueError("an encoder with language embeddings needs each sentence's language")
                languages = [self.language] * len(sentences)
            ids = [self.language_id(lang) for lang in languages]
        return make_windows(self.tokenizer, sentences, self.max_subwords, self.context_subwords, labels, ids)

    def collate(self, windows: Sequence[SubwordWindow]) -> WindowBatch:
        return collate_windows(windows, self.tokenizer.pad_token_id).to(self.device)

    def batches(
        self,
        windows: Sequence[SubwordWindow],
        batch_size: int,
        shuffle: bool,
        seed: int = 0,
    ) -> Iterator[WindowBatch]:
        """Length-bucketed batches on the model's device (``shuffle`` for training)."""
        chunk = 50 if shuffle else None  # inference: sort everything, order is restored later
        lengths = [len(w.input_ids) for w in windows]
        for batch in bucket_batches(lengths, batch_size, shuffle, seed, chunk_batches=chunk):
            yield self.collate([windows[i] for i in batch])

    # -- model ----------------------------------------------------------------------------
    def hidden_states(self, batch: WindowBatch) -> Tensor:
        """Last encoder layer, (B, S, hidden)."""
        extra = {}
        if batch.languages is not None:  # XLM: one language id per position
            extra["langs"] = batch.languages.unsqueeze(1).expand_as(batch.input_ids)
        out = self.encoder(input_ids=batch.input_ids, attention_mask=batch.attention_mask, **extra)
        return out.last_hidden_state

    def forward(self, batch: WindowBatch) -> Tensor:
        """Word-level float32 logits (B, W, num_labels) at each scored word's first subword."""
        dtype = AUTOCAST_DTYPES.get(self.autocast)  # None: float32, autocast off
        with torch.autocast(self.device.type, dtype=dtype, enabled=dtype is not None):
            states = self.hidden_states(batch)
            index = batch.label_positions.unsqueeze(2).expand(-1, -1, states.shape[2])
            first_subwords = states.gather(1, index)
            logits = self.classifier(self.dropout(first_subwords))
        return logits.float()

    def loss(self, batch: WindowBatch) -> Tensor:
        """Cross-entropy over scored words (first subwords), mean over words."""
        if batch.labels is None:
            raise ValueError("loss needs a batch with labels")
        logits = self(batch)
        return F.cross_entropy(
            logits.reshape(-1, logits.shape[-1]), batch.labels.reshape(-1), ignore_index=IGNORE_INDEX
        )

    # -- inference ------------------------------------------------------------------------
    def log_probs(self, sentences: Sequence[Sequence[str]], batch_size: int = 32) -> list[Tensor]:
        """Per sentence, a (n_words, num_labels) tensor of log-softmax scores on the CPU."""
        windows = self.windows(sentences)
        per_window: list[Tensor | None] = [None] * len(windows)
        was_training = self.training
        self.eval()
        try:
            with torch.inference_mode():
                lengths = [len(w.input_ids) for w in windows]
                for batch_ids in bucket_batches(lengths, batch_size, shuffle=False, chunk_batches=None):
                    batch = self.collate([windows[i] for i in batch_ids])
                    scores = self(batch).float().log_softmax(-1).cpu()
                    for row, window_index in enumerate(batch_ids):
                        per_window[window_index] = scores[row, : len(windows[window_index].word_indices)]
        finally:
            self.train(was_training)
        sentences_scores = reassemble(windows, per_window, [len(s) for s in sentences])
        num_labels = self.classifier.out_features
        return [s if s.numel() else torch.empty(0, num_labels) for s in sentences_scores]

    def predict(
        self,
        sentences: Sequence[Sequence[str]],
        batch_size: int = 32,
        decode: Decode = "argmax",
        allowed: tuple | None = None,
    ) -> list[list[int]]:
        """Label ids per word. ``bio_viterbi`` (NER, UniTrans) needs ``allowed`` =
        ``(allowed, start_allowed)`` as from ``xlt.tagging.bio_allowed_transitions``."""
        scores = self.log_probs(sentences, batch_size)
        if decode == "argmax":
            return [s.argmax(-1).tolist() for s in scores]
        if decode != "bio_viterbi":
            raise ValueError(f"unknown decode {decode!r}; use 'argmax' or 'bio_viterbi'")
        if allowed is None:
            raise ValueError("bio_viterbi decoding needs the allowed transitions")
        predictions: list[list[int]] = [[] for _ in sentences]
        nonempty = [i for i, s in enumerate(scores) if s.shape[0]]
        lengths = [scores[i].shape[0] for i in nonempty]
        # Decode sentences of similar length together: one batched Viterbi per group.
        for group in bucket_batches(lengths, 256, shuffle=False, chunk_batches=None):
            ids = [nonempty[g] for g in group]
            padded = nn.utils.rnn.pad_sequence([scores[i] for i in ids], batch_first=True)
            mask = pad([[1] * scores[i].shape[0] for i in ids], value=0).bool()
            paths = constrained_decode(padded, mask, *allowed)
            for i, path in zip(ids, paths_to_lists(paths, mask)):
                predictions[i] = path
        return predictions

    # -- persistence ----------------------------------------------------------------------
    def save(self, directory: str | Path) -> None:
        """Encoder + tokenizer (HF layout) + head + constructor values, written atomically."""
        with atomic_path(directory) as tmp:
            tmp.mkdir()
            self.encoder.save_pretrained(tmp)
            self.tokenizer.save_pretrained(tmp)
            torch.save({k: v for k, v in self.state_dict().items() if k.startswith("classifier.")},
                       tmp / HEAD_FILE)
            (tmp / TAGGER_CONFIG_FILE).write_text(json.dumps(self.config_values, indent=2, sort_keys=True))

    @classmethod
    def load(cls, directory: str | Path) -> EncoderTagger:
        directory = Path(directory)
        values = json.loads((directory / TAGGER_CONFIG_FILE).read_text())
        tagger = cls(str(directory), **values)
        head = torch.load(directory / HEAD_FILE, weights_only=True)
        tagger.classifier.load_state_dict({k.removeprefix("classifier."): v for k, v in head.items()})
        return tagger
