"""Render one paper's tables (reported next to ours) and their figures."""
from pathlib import Path
from typing import TYPE_CHECKING

from xlt import logs
from xlt.tables import write_paper_tables

if TYPE_CHECKING:
    from snakemake.iocontainers import Snakemake

    snakemake: Snakemake

with logs.to_file(snakemake.log[0]):
    write_paper_tables(
        snakemake.input.spec,
        results_csvs=[snakemake.input.ner, snakemake.input.pos],
        stats_csv=snakemake.input.stats,
        out_dir=Path(snakemake.output.csv[0]).parent,
        fig_dir=Path(snakemake.output.png[0]).parent,
        provenance=snakemake.params.provenance,
        blocked=snakemake.params.blocked,
        texts_json=snakemake.input.get("texts"),
    )
