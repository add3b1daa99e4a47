"""Gather all metrics.json of the plan into results/tables/ner_f1.csv and pos_acc.csv."""
from typing import TYPE_CHECKING

from xlt import logs
from xlt.results import write_results

if TYPE_CHECKING:
    from snakemake.iocontainers import Snakemake

    snakemake: Snakemake

with logs.to_file(snakemake.log[0]):
    write_results(list(snakemake.input), snakemake.output.ner, snakemake.output.pos)
