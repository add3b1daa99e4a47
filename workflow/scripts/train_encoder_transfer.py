"""Fine-tune a multilingual encoder on the source language and evaluate on every target."""
from typing import TYPE_CHECKING

from xlt import logs
from xlt.methods import encoder_transfer
from xlt.methods.common import RunSpec, run_method

if TYPE_CHECKING:
    from snakemake.iocontainers import Snakemake

    snakemake: Snakemake

logs.setup(snakemake.log[0])
run_method(
    RunSpec.from_snakemake(snakemake),
    encoder_transfer.build,
    snakemake.output.metrics,
    snakemake.output.predictions,
)
