"""Split a language's text into two disjoint halves (sanity rows of the mapping table)."""
from typing import TYPE_CHECKING

from xlt import logs
from xlt.vectors.synthetic import split_lines

if TYPE_CHECKING:
    from snakemake.iocontainers import Snakemake

    snakemake: Snakemake

with logs.to_file(snakemake.log[0]) as log:
    first, second = split_lines(snakemake.input[0], snakemake.output.first, snakemake.output.second)
    log.info("halves: %d and %d lines", first, second)
