"""MLMA multi-source transfer (Bao et al. 2019, Table 1's "MLMA-Avl (multi)"): one model per
target, trained on the source and the target's co-sources (``co_sources``), each sentence read
by the LM in its own language; the code is :mod:`xlt.methods.mlma`'s."""
from xlt.methods.mlma import build, rebuild  # noqa: F401
