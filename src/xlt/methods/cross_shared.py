"""Cross-Shared (Bari et al. 2020, Table 4): Cross-Word with the forward and backward LSTM
cells tied in the character and the word BiLSTM, "to encourage order invariance": the code of
:mod:`xlt.methods.cross_word` with ``shared_lstm: true`` (checked here)."""
from __future__ import annotations

from xlt.errors import ConfigError
from xlt.methods import cross_word
from xlt.methods.common import RunSpec
from xlt.methods.bilstm_tagger import FixedVectorsTagger
from xlt.methods.cross_word import rebuild

__all__ = ["build", "rebuild"]


def build(spec: RunSpec, train: tuple, source_dev: tuple) -> FixedVectorsTagger:
    if not spec.hparams.get("shared_lstm"):
        raise ConfigError("cross_shared ties the LSTM directions: set methods.cross_shared.params.shared_lstm: true")
    return cross_word.build(spec, train, source_dev)
