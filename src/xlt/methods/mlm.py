"""MLM (Bao et al. 2019, Table 1's "MLM (w/o alignment)"): MLMA's tagger over the LM trained
without an alignment loss (``lm: mlm``); the code is :mod:`xlt.methods.mlma`'s."""
from xlt.methods.mlma import build, rebuild  # noqa: F401
