"""MLMA and MLM (Bao et al. 2019, Tables 1–3): a BiLSTM-CRF over cross-lingual contextual
representations of a frozen multilingual LM (:mod:`xlt.lms`), trained on the source and
applied to each target, whose sentences the same LM reads with the target's own embeddings.

The setting picks the LM (``lm``: a variant of the LM stage, ``lms.variants``: ``mlm`` no
alignment, ``iden`` / ``mv`` / ``avl`` the alignment losses, ``avl_init`` Avl from
MUSE-initialised embeddings) and the layer mix (``mix``: ``sws`` / ``fws``), and, as MUSE*,
whether the character BiLSTM is on (Bao disable it for en-de and en-zh NER and for POS:
the ``_nochar`` settings). The tagger is Bao's (§4; :mod:`xlt.methods.muse_transfer`'s
sizes and schedule). Its CLCR inputs are computed once per job
(:class:`xlt.lms.features.FeatureStore`): the LM is frozen, so a word's states never change.

Multi-source transfer (``mlma_multi``, Table 1's "MLMA-Avl (multi)"): the tagger trains on the
source and on ``co_sources[target]`` (es and de from en + nl, nl from en + es, "following
Mayhew et al. 2017"), one model per target; each co-source sentence is read by the LM in
its own language.

The model's parameter count is the tagger's (the mix, LSTMs, CRF): the LM is an input
artifact, like a word-vector file.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Sequence

from xlt.batching import make_bilstm_batch
from xlt.device import pick_device
from xlt.errors import ConfigError
from xlt.lms.artifact import load_lm
from xlt.lms.features import FeatureStore
from xlt.methods.bilstm_tagger import decayed_learning_rate
from xlt.methods.common import RunSpec, label_inventory, load_sentences, to_training_scheme
from xlt.methods.word_tagger import WordTagger
from xlt.models.clcr import CLCRBiLSTMCRF
from xlt.vocab import Vocab

log = logging.getLogger("xlt.methods.mlma")

CO_SOURCE_PREFIX = "co_source_train_"


def lm_input(spec: RunSpec) -> Path:
    if "lm" not in spec.inputs:
        raise ConfigError(f"{spec.method}/{spec.setting}: a CLCR tagger needs input 'lm' (the LM manifest)")
    return Path(spec.inputs["lm"])


class CLCRTagger(WordTagger):
    def __init__(self, spec: RunSpec, chars: Vocab | None, labels: Vocab) -> None:
        hp = spec.hparams
        self.spec, self.hp = spec, hp
        self.scheme = to_training_scheme(spec.kind, hp)
        self.chars, self.labels = chars, labels
        self.use_char = bool(hp["use_char"])
        if self.use_char != (chars is not None):
            raise ValueError("use_char needs a character vocabulary, and only then")
        self.device = pick_device(bool(spec.extra.get("prefer_gpu", True)))
        lm, vocabs, self.lm_manifest = load_lm(lm_input(spec))
        self.store = FeatureStore(lm.to(self.device), vocabs, int(hp["feature_batch_size"]), self.device)
        # Training reads the source (and co-sources); an evaluation job its target.
        self.lang = spec.target or spec.source
        self.model = CLCRBiLSTMCRF(
            n_layers=self.store.n_layers, feature_dim=self.store.dim, mix=str(hp["mix"]),
            sws_hidden=int(hp["sws_hidden"]), n_chars=len(chars) if chars else 1, n_tags=len(labels),
            char_dim=int(hp["char_dim"]), char_hidden=int(hp["char_hidden"]), hidden=int(hp["hidden"]),
            dropout=float(hp["dropout"]), use_char=self.use_char,
        ).to(self.device)
        self.train_ids: list[tuple] = []
        self.train_tag_ids: list[list[int]] = []

    # ---------------------------------------------------------------- building
    @classmethod
    def from_training_data(cls, spec: RunSpec, train: tuple, source_dev: tuple) -> CLCRTagger:
        hp = spec.hparams
        tokens, tags, _ = train
        langs = [spec.source] * len(tokens)
        for key, path in sorted(spec.inputs.items()):
            if key.startswith(CO_SOURCE_PREFIX):
                co_tokens, co_tags, _ = load_sentences(path, spec.max_sentences.get("train"))
                log.info("co-source %s: %d training sentences from %s", key[len(CO_SOURCE_PREFIX):],
                         len(co_tokens), path)
                tokens, tags = [*tokens, *co_tokens], [*tags, *co_tags]
                langs += [key[len(CO_SOURCE_PREFIX):]] * len(co_tokens)
        limit = hp.get("max_train_length")
        keep = [i for i, sent in enumerate(tokens) if limit is None or len(sent) <= int(limit)]
        scheme = to_training_scheme(spec.kind, hp)
        train_tags = [scheme.encode(tags[i]) for i in keep]
        chars = Vocab.build_chars([tokens[i] for i in keep]) if bool(hp["use_char"]) else None
        labels = Vocab.for_labels(label_inventory(spec, train_tags, scheme.name))
        tagger = cls(spec, chars, labels)
        for lang in dict.fromkeys(langs):
            tagger.store.add(lang, [tokens[i] for i in keep if langs[i] == lang])
        tagger.train_ids = [tagger._encode_in(langs[i], tokens[i]) for i in keep]
        tagger.train_tag_ids = [labels.encode(t) for t in train_tags]
        tagger._sync()
        log.info("LM %s (%s); %d feature rows of %d layers x %d; %d tagger parameters",
                 lm_input(spec), tagger.lm_manifest.get("variant"), tagger.store.matrix.shape[0],
                 tagger.store.n_layers, tagger.store.dim, tagger.n_params)
        return tagger

    @classmethod
    def for_target(cls, spec: RunSpec, state: dict) -> CLCRTagger:
        trained_with = state["lm_sha256"]
        tagger = cls(spec, Vocab.from_dict(state["chars"]) if state["chars"] is not None else None,
                     Vocab.from_dict(state["labels"]))
        if tagger.lm_manifest["weights"]["sha256"] != trained_with:
            raise ConfigError(f"{spec.method}/{spec.setting}: the model was trained over the LM with weights "
                              f"{trained_with[:12]}, this job reads {lm_input(spec)} "
                              f"({tagger.lm_manifest['weights']['sha256'][:12]})")
        return tagger

    def state(self) -> dict:
        return {"chars": self.chars.to_dict() if self.chars else None, "labels": self.labels.to_dict(),
                "lm_sha256": self.lm_manifest["weights"]["sha256"]}

    @property
    def n_params(self) -> int:
        return self.model.n_params

    n_params_excl_word_embeddings = n_params  # no word table: every parameter is the tagger's

    # ---------------------------------------------------------------- encoding
    def _sync(self) -> None:
        self.model.features = self.store.matrix

    def _encode_in(self, lang: str, sentence: Sequence[str]) -> tuple[list[int], list[list[int]] | None]:
        rows = self.store.rows(lang, sentence)
        chars = [self.chars.encode(w) for w in sentence] if self.chars else None
        return rows, chars

    def _encode(self, sentence: Sequence[str]) -> tuple[list[int], list[list[int]] | None]:
        return self._encode_in(self.lang, sentence)

    def _batch(self, encoded: list[tuple], tag_ids: list[list[int]] | None = None):
        return make_bilstm_batch([w for w, _ in encoded], [c for _, c in encoded] if self.use_char else None,
                                 tag_ids).to(self.device)

    def _start_epoch(self, epoch: int) -> None:
        for group in self.optimizer.param_groups:
            group["lr"] = decayed_learning_rate(self.hp, epoch)

    def predict(self, sentences: Sequence[Sequence[str]]) -> list[list[str]]:
        self.store.add(self.lang, sentences)  # one batched LM pass for the sentences not seen yet
        self._sync()
        return super().predict(sentences)


def build(spec: RunSpec, train: tuple, source_dev: tuple) -> CLCRTagger:
    return CLCRTagger.from_training_data(spec, train, source_dev)


def rebuild(spec: RunSpec, state: dict) -> CLCRTagger:
    return CLCRTagger.for_target(spec, state)
