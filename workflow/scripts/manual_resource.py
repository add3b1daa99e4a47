"""A manual resource that was not configured: fail with where to put it."""
from typing import TYPE_CHECKING

from xlt import logs
from xlt.catalog import load_catalog, resolve_manual

if TYPE_CHECKING:
    from snakemake.iocontainers import Snakemake

    snakemake: Snakemake

with logs.to_file(snakemake.log[0]) as log:
    catalog = load_catalog(snakemake.config["catalog"])
    # Raises ConfigError naming manual_files.<id> and how to obtain the corpus.
    resolve_manual(catalog.resource(snakemake.wildcards.resource), snakemake.config)
