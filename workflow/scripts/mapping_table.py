"""Gather the mapping evaluations into results/tables/mapping.csv and .md."""
from typing import TYPE_CHECKING

from xlt import logs
from xlt.vectors.evaluate import write_mapping_table

if TYPE_CHECKING:
    from snakemake.iocontainers import Snakemake

    snakemake: Snakemake

with logs.to_file(snakemake.log[0]):
    write_mapping_table([*snakemake.input.evals, *snakemake.input.synthetic], snakemake.output.csv,
                        snakemake.output.md, provenance=snakemake.params.provenance)
