"""Dataset statistics of the plan's canonical tables, next to the papers' counts."""
from typing import TYPE_CHECKING

from xlt import logs
from xlt.stats import write_dataset_stats

if TYPE_CHECKING:
    from snakemake.iocontainers import Snakemake

    snakemake: Snakemake

with logs.to_file(snakemake.log[0]):
    write_dataset_stats(
        tables=list(snakemake.input.tables),
        paper_tables=list(snakemake.input.paper_tables),
        out_csv=snakemake.output.csv,
        out_md=snakemake.output.md,
    )
