"""The task-specific tagger of van der Heijden et al. (2019) (Table 2): a double-layer
Transformer with 2 heads and 300 hidden units topped off by a CRF
(:class:`xlt.models.transformer_crf.TransformerCRF`), over per-word features from an
embedder. The setting names the embedder, i.e. the table's column.

Built here: ``muse``, the paper's third baseline ("static crosslingual word embeddings from
the MUSE model ... as embeddings for our sequence tagger"): frozen aligned word vectors,
looked up as :mod:`xlt.vectors.lookup` says. The tagger is trained on English over the
English vectors; each target is read through its own vectors in the same space
(``word_embeddings: aligned``): the published MUSE ``wiki.multi`` files under the paper plan
(``alignment: published``), the workflow's own MUSE maps onto English under the default
plan. The paper lower-cases its data: the published vectors are lower-case, and the lookup's
second key is the lower-cased word, so a cased token reads the lower-case row.

The subword embedders (:mod:`xlt.models.word_embedders`) read each word through the BPE
pieces of a LASER-style sentence encoder (input ``laser``: the artifact of
:mod:`xlt.lms.laser.artifact`; the default plan's stand-in, trained by the workflow): ``bpe_bow``
and ``bpe_gru`` over its frozen BPE embeddings, ``laser_top`` / ``laser_elmo`` over its frozen
layer states (computed once per job, :class:`xlt.lms.laser.features.PieceStateStore`), and
``lstm_nopre``, a randomly initialised BiLSTM of ``nopre_layers`` in the encoder's place,
trained with the tagger. Words are normalised as the encoder's text (Moses punctuation
normalisation, lower case), as the paper applies "only punctuation normalization and lower
casing".

Joint training (Table 3; setting ``train_mix``, :mod:`xlt.methods.training_mix`): the subword
models train on a share of several languages' training sets (scenario A: a quarter of each
of en, nl, de, es; B: all of English and the same quarters), each sentence read through the
encoder in its own language, and are scored on every target like a zero-shot run. The MUSE
embedder reads one language's vectors in training and is not trained jointly (nor is it in
the paper's Table 3).

Training as the paper's baselines: Adam 1e-3 with L2 1e-3, dropout 0.25 between embedder
and tagger and 0.15 inside it, 15 epochs, early stopping on the source dev set after two
consecutive decreases (``patience``, ``stopping: consecutive_decreases``). The LASER models
and LSTM No Pretraining train with the 1cycle policy
(``schedule: one_cycle``: SGD with momentum, Smith 2018; ``torch.optim.lr_scheduler.OneCycleLR``
over the run's updates); the paper tunes their dropout and L2 by Bayesian optimisation and
gives no values: the config fixes them.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Sequence

import torch
from torch import Tensor, nn

from xlt.batching import BiLSTMBatch, PieceBatch, make_bilstm_batch, make_piece_batch
from xlt.checkpoints import count_parameters
from xlt.device import pick_device
from xlt.errors import ConfigError
from xlt.lms.laser.artifact import load_encoder
from xlt.lms.laser.features import PieceStateStore, encode_tagged_sentence
from xlt.lms.laser.model import LaserEncoder
from xlt.methods.bilstm_tagger import source_vector_table, target_vector_table
from xlt.methods.common import RunSpec, to_training_scheme
from xlt.methods.training_mix import mix_summary, mixed_training_data
from xlt.methods.word_tagger import WordTagger, training_labels
from xlt.models.transformer_crf import TransformerCRF
from xlt.models.word_embedders import BPEGRU, BPEBagOfWords, PieceStateWords
from xlt.plan import word_embeddings_kind
from xlt.vectors.lookup import encode_word
from xlt.vocab import Vocab

log = logging.getLogger("xlt.methods.heijden_tagger")

#: The embedders (each setting names one in ``embedder``): word vectors, or subword pieces.
WORD_EMBEDDERS = ("muse",)
PIECE_EMBEDDERS = ("bpe_bow", "bpe_gru", "laser_top", "laser_elmo", "lstm_nopre")
EMBEDDERS = WORD_EMBEDDERS + PIECE_EMBEDDERS
SCHEDULES = ("constant", "one_cycle")


class WordVectorTransformerCRF(nn.Module):
    """Frozen word vectors (the embedder) feeding the Transformer-CRF. The vectors are not
    trained, so checkpoints hold the tagger alone and a target swaps in its own rows."""

    def __init__(self, vectors: Tensor, n_tags: int, hp: dict) -> None:
        super().__init__()
        self.embedding = nn.Embedding.from_pretrained(vectors, freeze=True, padding_idx=0)
        self.tagger = TransformerCRF(
            input_dim=vectors.shape[1], n_tags=n_tags, d_model=int(hp["hidden"]), heads=int(hp["heads"]),
            layers=int(hp["layers"]), ffn=int(hp["ffn"]), dropout=float(hp["dropout"]),
            input_dropout=float(hp["input_dropout"]),
        )

    def loss(self, batch: BiLSTMBatch) -> Tensor:
        return self.tagger.loss(self.embedding(batch.word_ids), batch.tag_ids, batch.mask)

    def decode(self, batch: BiLSTMBatch) -> list[list[int]]:
        return self.tagger.decode(self.embedding(batch.word_ids), batch.mask)


def _check(spec: RunSpec) -> None:
    where = f"methods.{spec.method}.settings.{spec.setting}"
    embedder = spec.hparams.get("embedder")
    if embedder not in EMBEDDERS:
        raise ConfigError(f"{where}: embedder {embedder!r} is not built (built: {', '.join(EMBEDDERS)})")
    kind = word_embeddings_kind(spec.hparams, f"methods.{spec.method}")
    if embedder in WORD_EMBEDDERS and kind != "aligned":
        raise ConfigError(f"{where}: the MUSE embedder reads aligned vectors (word_embeddings: aligned)")
    if embedder in PIECE_EMBEDDERS:
        if kind != "subword":
            raise ConfigError(f"{where}: embedder {embedder} reads words as subword pieces (word_embeddings: subword)")
        if "laser" not in spec.inputs:
            raise ConfigError(f"{where}: embedder {embedder} needs input 'laser' (the sentence encoder's manifest)")
    if spec.hparams.get("train_mix") is not None and embedder in WORD_EMBEDDERS:
        # Table 3 trains the subword models and BERT jointly; a MUSE run reads one
        # language's vectors in training.
        raise ConfigError(f"{where}: joint training (train_mix) reads words as subword pieces, "
                          f"not through {embedder} vectors")
    if spec.hparams.get("schedule", "constant") not in SCHEDULES:
        raise ConfigError(f"{where}: schedule must be one of {list(SCHEDULES)}")


class HeijdenTagger(WordTagger):
    """The model with its vocabularies and training loop (an ``xlt.training.Tagger``)."""

    def __init__(self, spec: RunSpec, words: Vocab, vectors: Tensor, labels: Vocab) -> None:
        self.spec, self.hp = spec, spec.hparams
        self.scheme = to_training_scheme(spec.kind, self.hp)
        self.words, self.labels = words, labels
        self.device = pick_device(bool(spec.extra.get("prefer_gpu", True)))
        self.model = WordVectorTransformerCRF(vectors, len(labels), self.hp).to(self.device)
        self.train_ids: list[tuple] = []
        self.train_tag_ids: list[list[int]] = []

    @classmethod
    def from_training_data(cls, spec: RunSpec, train: tuple, source_dev: tuple) -> HeijdenTagger:
        tokens, tags, _ = train
        train_tags, labels = training_labels(spec, tags)
        words, matrix = source_vector_table(spec, tokens, source_dev)
        tagger = cls(spec, words, matrix, labels)
        tagger._set_training_data(tokens, train_tags)
        log.info("%d labels; %d parameters (%d trainable)", len(labels), tagger.n_params,
                 tagger.n_params_excl_word_embeddings)
        return tagger

    @classmethod
    def for_target(cls, spec: RunSpec, state: dict) -> HeijdenTagger:
        """Evaluation side: the target's dev/test words in the target-side vectors."""
        words, matrix = target_vector_table(spec)
        return cls(spec, words, matrix, Vocab.from_dict(state["labels"]))

    def state(self) -> dict:
        return {"labels": self.labels.to_dict()}

    @property
    def n_params(self) -> int:
        return sum(p.numel() for p in self.model.parameters())

    @property
    def n_params_excl_word_embeddings(self) -> int:
        return count_parameters(self.model, exclude=[self.model.embedding])

    def _encode(self, sentence: Sequence[str]) -> tuple[list[int], None]:
        return [encode_word(self.words, w) for w in sentence], None

    def _batch(self, encoded: list[tuple], tag_ids: list[list[int]] | None = None) -> BiLSTMBatch:
        return make_bilstm_batch([w for w, _ in encoded], None, tag_ids).to(self.device)


class PieceTransformerCRF(nn.Module):
    """A subword embedder (one vector per word) feeding the Transformer-CRF."""

    def __init__(self, embedder: nn.Module, n_tags: int, hp: dict) -> None:
        super().__init__()
        self.embedder = embedder
        self.tagger = TransformerCRF(
            input_dim=embedder.output_dim, n_tags=n_tags, d_model=int(hp["hidden"]), heads=int(hp["heads"]),
            layers=int(hp["layers"]), ffn=int(hp["ffn"]), dropout=float(hp["dropout"]),
            input_dropout=float(hp["input_dropout"]),
        )

    def loss(self, batch: PieceBatch) -> Tensor:
        return self.tagger.loss(self.embedder(batch), batch.tag_ids, batch.mask)

    def decode(self, batch: PieceBatch) -> list[list[int]]:
        return self.tagger.decode(self.embedder(batch), batch.mask)


def laser_layers(hp: dict, encoder: LaserEncoder) -> list[int]:
    """The encoder layers (1-based) an embedder reads: the top one (LASER-top), or
    ``laser_layers`` (null: every layer, LASER-elmo's "layers 1-5")."""
    if hp["embedder"] == "laser_top":
        return [encoder.n_layers]
    chosen = hp.get("laser_layers")
    return list(range(1, encoder.n_layers + 1)) if chosen is None else [int(x) for x in chosen]


def make_embedder(hp: dict, encoder: LaserEncoder) -> nn.Module:
    kind = hp["embedder"]
    table = encoder.embed_tokens.weight.detach().clone()
    padding = encoder.padding_idx
    if kind == "bpe_bow":
        return BPEBagOfWords(table, padding)
    if kind == "bpe_gru":
        return BPEGRU(table, int(hp["gru_hidden"]), padding)
    if kind in ("laser_top", "laser_elmo"):
        return PieceStateWords(len(laser_layers(hp, encoder)), encoder.hidden)
    # LSTM No Pretraining: a random BiLSTM (and, with nopre_embeddings: random, random BPE
    # embeddings) in LASER's place, trained; otherwise as LASER-elmo.
    fresh = LaserEncoder(table.shape[0], int(hp.get("nopre_embed_dim") or table.shape[1]),
                         int(hp.get("nopre_hidden") or encoder.hidden), int(hp["nopre_layers"]),
                         float(hp["nopre_dropout"]), padding_idx=padding)
    if hp["nopre_embeddings"] == "laser":
        if fresh.embed_tokens.weight.shape != table.shape:
            raise ConfigError("lstm_nopre: nopre_embeddings: laser needs nopre_embed_dim = the encoder's")
        fresh.embed_tokens = nn.Embedding.from_pretrained(table, freeze=True, padding_idx=padding)
    elif hp["nopre_embeddings"] != "random":
        raise ConfigError(f"lstm_nopre: nopre_embeddings must be random or laser, got {hp['nopre_embeddings']!r}")
    return PieceStateWords(fresh.n_layers, fresh.hidden, encoder=fresh)


class PieceTagger(WordTagger):
    """The Transformer-CRF over a subword embedder, with the frozen encoder it reads."""

    def __init__(self, spec: RunSpec, labels: Vocab) -> None:
        self.spec, self.hp = spec, spec.hparams
        self.scheme = to_training_scheme(spec.kind, self.hp)
        self.labels = labels
        self.device = pick_device(bool(spec.extra.get("prefer_gpu", True)))
        encoder, self.tokenizer, self.encoder_manifest = load_encoder(Path(spec.inputs["laser"]))
        self.lang = spec.target or spec.source  # training reads the source, evaluation its target
        self.store = None
        if self.hp["embedder"] in ("laser_top", "laser_elmo"):
            eos = self.tokenizer.token_to_id("</s>") if self.encoder_manifest.get("append_eos") else None
            self.store = PieceStateStore(encoder.to(self.device), self.tokenizer, laser_layers(self.hp, encoder),
                                         int(self.hp["feature_batch_size"]), self.device, eos_id=eos)
        self.model = PieceTransformerCRF(make_embedder(self.hp, encoder), len(labels), self.hp).to(self.device)
        self.scheduler = None
        self.train_ids: list[tuple] = []
        self.train_tag_ids: list[list[int]] = []
        self.training_mix: dict[str, int] | None = None

    @classmethod
    def from_training_data(cls, spec: RunSpec, train: tuple, source_dev: tuple) -> PieceTagger:
        # One language (the source), or a joint-training mix, each sentence read in its own.
        tokens, tags, _, langs = mixed_training_data(spec, train)
        train_tags, labels = training_labels(spec, tags)
        tagger = cls(spec, labels)
        if tagger.store is not None:
            for lang in dict.fromkeys(langs):
                tagger.store.add(lang, [s for s, x in zip(tokens, langs) if x == lang])
            tagger._sync()
        tagger._set_training_data(tokens, train_tags, langs)
        if spec.hparams.get("train_mix") is not None:
            tagger.training_mix = mix_summary(langs)
        log.info("embedder %s over %s (%s); %d labels; %d parameters (%d trainable)", spec.hparams["embedder"],
                 spec.inputs["laser"], tagger.encoder_manifest.get("kind"), len(tagger.labels), tagger.n_params,
                 tagger.n_params_excl_word_embeddings)
        return tagger

    @classmethod
    def for_target(cls, spec: RunSpec, state: dict) -> PieceTagger:
        tagger = cls(spec, Vocab.from_dict(state["labels"]))
        if tagger.encoder_manifest["weights"]["sha256"] != state["encoder_sha256"]:
            raise ConfigError(f"{spec.method}/{spec.setting}: the model was trained over the encoder with weights "
                              f"{state['encoder_sha256'][:12]}, this job reads {spec.inputs['laser']} "
                              f"({tagger.encoder_manifest['weights']['sha256'][:12]})")
        return tagger

    def state(self) -> dict:
        return {"labels": self.labels.to_dict(), "encoder_sha256": self.encoder_manifest["weights"]["sha256"]}

    def method_log(self) -> dict:
        """What the run's training recorded: its joint-training mix (sentences per language)."""
        return {"training_mix": self.training_mix} if self.training_mix else {}

    @property
    def n_params(self) -> int:
        return sum(p.numel() for p in self.model.parameters())

    @property
    def n_params_excl_word_embeddings(self) -> int:
        """Trainable parameters (frozen BPE embeddings are the encoder's, like a vector file)."""
        return sum(p.numel() for p in self.model.parameters() if p.requires_grad)

    def _sync(self) -> None:
        self.model.embedder.set_states(self.store.matrix)

    def _encode_in(self, lang: str, sentence: Sequence[str]) -> tuple[list[int], list[int]]:
        if self.store is not None:
            return self.store.rows(lang, sentence)
        return encode_tagged_sentence(self.tokenizer, lang, sentence)

    def _encode(self, sentence: Sequence[str]) -> tuple[list[int], list[int]]:
        return self._encode_in(self.lang, sentence)

    def _batch(self, encoded: list[tuple], tag_ids: list[list[int]] | None = None) -> PieceBatch:
        return make_piece_batch([p for p, _ in encoded], [o for _, o in encoded], tag_ids).to(self.device)

    def _start_epoch(self, epoch: int) -> None:
        if self.hp.get("schedule", "constant") == "one_cycle" and self.scheduler is None:
            batches = -(-len(self.train_ids) // int(self.hp["batch_size"]))
            self.scheduler = torch.optim.lr_scheduler.OneCycleLR(
                self.optimizer, max_lr=float(self.hp["lr"]), total_steps=int(self.hp["epochs"]) * batches,
                pct_start=float(self.hp["one_cycle_warmup"]), cycle_momentum=True,
                base_momentum=float(self.hp["base_momentum"]), max_momentum=float(self.hp["momentum"]))

    def _after_update(self) -> None:
        if self.scheduler is not None:
            self.scheduler.step()

    def predict(self, sentences: Sequence[Sequence[str]]) -> list[list[str]]:
        if self.store is not None:
            self.store.add(self.lang, sentences)  # one batched encoder pass for the new sentences
            self._sync()
        return super().predict(sentences)


def build(spec: RunSpec, train: tuple, source_dev: tuple) -> HeijdenTagger | PieceTagger:
    _check(spec)
    if spec.hparams["embedder"] in PIECE_EMBEDDERS:
        return PieceTagger.from_training_data(spec, train, source_dev)
    return HeijdenTagger.from_training_data(spec, train, source_dev)


def rebuild(spec: RunSpec, state: dict) -> HeijdenTagger | PieceTagger:
    _check(spec)
    if spec.hparams["embedder"] in PIECE_EMBEDDERS:
        return PieceTagger.for_target(spec, state)
    return HeijdenTagger.for_target(spec, state)
