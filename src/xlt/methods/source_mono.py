"""Source-Mono (Bari et al. 2020, Tables 2–3): a BiLSTM-CRF trained on the source language
and applied unchanged to each target, with the target's own word embeddings:

- ``word_embeddings: random`` (settings ``char``, ``nochar``; Table 3's "random word-emb"):
  the source's table is random and trained; a target gets its own random table
  (:func:`xlt.methods.bilstm_tagger.random_target_table`). No word carries anything across,
  so what transfers is the shared character BiLSTM (setting ``char``): the paper's "the model
  only learns when character embeddings (shared) are used".
- ``word_embeddings: monolingual`` (``char_monoemb``, ``nochar_monoemb``; Table 3's
  "mono-lingual word-emb", and Table 2's supervised monolingual models, where the target is
  the source): the language's own unmapped vectors, frozen; a target's words are read from
  the target's vectors, which live in a space of their own.

One model serves every target (the target's table is made by its evaluation job).
"""
from __future__ import annotations

from xlt.methods.bilstm_tagger import BiLSTMCRFTagger, FixedVectorsTagger, random_target_table, \
    target_sentences
from xlt.methods.common import RunSpec
from xlt.plan import word_embeddings_kind
from xlt.vocab import Vocab


def word_embeddings(spec: RunSpec) -> str:
    return word_embeddings_kind(spec.hparams, f"methods.{spec.method}")


def build(spec: RunSpec, train: tuple, source_dev: tuple) -> BiLSTMCRFTagger:
    tagger_class = BiLSTMCRFTagger if word_embeddings(spec) == "random" else FixedVectorsTagger
    return tagger_class.from_training_data(spec, train, source_dev)


def rebuild(spec: RunSpec, state: dict) -> BiLSTMCRFTagger:
    """The trained model as a target reads it: with the target's vectors (monolingual: its
    own; aligned: mapped onto the source's), its own random table (random, target other than
    the source), or the trained table (the source itself, or no target: a model loaded
    outside an evaluation job)."""
    if word_embeddings(spec) != "random":
        return FixedVectorsTagger.for_target(spec, state)
    chars = Vocab.from_dict(state["chars"]) if state["chars"] is not None else None
    labels = Vocab.from_dict(state["labels"])
    trained = Vocab.from_dict(state["words"])
    if spec.target is None or spec.target == spec.source:
        return BiLSTMCRFTagger(spec, trained, chars, labels)
    words, table = random_target_table(spec, target_sentences(spec), int(spec.hparams["word_dim"]))
    return BiLSTMCRFTagger(spec, words, chars, labels, word_vectors=table, own_words=True)
