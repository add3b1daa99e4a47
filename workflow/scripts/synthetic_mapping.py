"""A mapping mode on synthetic spaces related by a known rotation."""
from typing import TYPE_CHECKING

from xlt import logs
from xlt.vectors.evaluate import evaluate_synthetic

if TYPE_CHECKING:
    from snakemake.iocontainers import Snakemake

    snakemake: Snakemake

with logs.to_file(snakemake.log[0]):
    evaluate_synthetic(snakemake.wildcards.mode, snakemake.params.synthetic, snakemake.params.mapping,
                       int(snakemake.params.seed), snakemake.output[0])
