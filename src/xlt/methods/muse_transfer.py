"""MUSE direct transfer (Bao et al. 2019, the "MUSE*" rows of Tables 1–3): a BiLSTM-CRF
trained on English over English word vectors and applied to each target over the target's
vectors mapped into the English space by MUSE ("we compare with the unsupervised method MUSE
from Conneau et al. (2017)"; "the results of MUSE embeddings are produced by using them for
direct model transfer").

The model is the tagger of Bao et al.'s §4 (Lample et al.'s BiLSTM-CRF, sized as theirs: word
LSTM 300, char LSTM 100 over 100-d character embeddings, dropout 0.5 at the word LSTM's input
and output; Adam 1e-3 decayed each epoch, batch 20, 20 epochs, early stopping after 3 epochs
without improvement), over frozen vectors: ``word_embeddings: aligned`` in its params. The
code is Source-Mono's (:mod:`xlt.methods.source_mono`): the source's own vectors in training,
the target's aligned vectors (``results/mapping/{alignment}/{target}-{source}``) in each
evaluation job, so one English model serves every target. Bao disable the character LSTM
for en-de and en-zh NER and for POS: the settings ``char`` and ``nochar``, and the tables ask
for ``nochar`` in those cells (``setting_by_target``).
"""
from __future__ import annotations

from xlt.errors import ConfigError
from xlt.methods import source_mono
from xlt.methods.bilstm_tagger import BiLSTMCRFTagger
from xlt.methods.common import RunSpec


def _check(spec: RunSpec) -> None:
    if source_mono.word_embeddings(spec) != "aligned":
        raise ConfigError(f"{spec.method}: MUSE direct transfer reads aligned vectors: set "
                          f"methods.{spec.method}.params.word_embeddings: aligned")


def build(spec: RunSpec, train: tuple, source_dev: tuple) -> BiLSTMCRFTagger:
    _check(spec)
    return source_mono.build(spec, train, source_dev)


def rebuild(spec: RunSpec, state: dict) -> BiLSTMCRFTagger:
    _check(spec)
    return source_mono.rebuild(spec, state)
