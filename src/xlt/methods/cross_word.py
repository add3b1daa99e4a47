"""Cross-Word (Bari et al. 2020, Table 4): the source BiLSTM-CRF over word vectors in a common
space of the source and one target, applied to the target's words in that space.

The space of a (source, target) pair is made by a MUSE mapping of one side onto the other's
own vectors (``xlt.plan.DIRECTIONS``): English vectors mapped into the target's space for es,
nl and de, the target's vectors mapped into English for ar and fi ("en ← ar": Bari could not
map English onto Arabic). The model is trained on source sentences with the source-side
vectors and scored on target sentences with the target-side vectors; the word embeddings are
frozen (:class:`xlt.methods.bilstm_tagger.FixedVectorsTagger`), or training would move the
source words out of the space the target words are in. One model per target space, so a
run's ``space`` is its target. Words are looked up as :mod:`xlt.vectors.lookup` says; a word
with no vector gets the (frozen, zero) unknown vector and only its characters (setting
``char``) say anything.

Cross-Shared is this model with the forward and backward LSTM cells tied, character and
word level (``shared_lstm: true``; module ``cross_shared``).
"""
from __future__ import annotations

from xlt.errors import ConfigError
from xlt.methods.bilstm_tagger import FixedVectorsTagger
from xlt.methods.common import RunSpec


def _check_space(spec: RunSpec) -> None:
    if spec.space is None:
        raise ConfigError(f"{spec.method}: a word-space method needs its common space (run space); "
                          f"configure methods.{spec.method}.word_space")


def build(spec: RunSpec, train: tuple, source_dev: tuple) -> FixedVectorsTagger:
    _check_space(spec)
    return FixedVectorsTagger.from_training_data(spec, train, source_dev)


def rebuild(spec: RunSpec, state: dict) -> FixedVectorsTagger:
    """Evaluation-side model: the target's dev/test words in the common space (target side)."""
    _check_space(spec)
    return FixedVectorsTagger.for_target(spec, state)
