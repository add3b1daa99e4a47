"""Train and evaluate one Source-Mono BiLSTM-CRF run (Bari et al. 2020)."""
from typing import TYPE_CHECKING

from xlt import logs
from xlt.methods import source_mono
from xlt.methods.common import RunSpec, run_method

if TYPE_CHECKING:
    from snakemake.iocontainers import Snakemake

    snakemake: Snakemake

logs.setup(snakemake.log[0])
run_method(
    RunSpec.from_snakemake(snakemake),
    source_mono.build,
    snakemake.output.metrics,
    snakemake.output.predictions,
)
