"""Fetch one catalog file (shared cache, mirror dirs, then its pinned URL), sha256-verified."""
from pathlib import Path
from typing import TYPE_CHECKING

from xlt import logs
from xlt.catalog import load_catalog
from xlt.fetch import fetch_to_workflow

if TYPE_CHECKING:
    from snakemake.iocontainers import Snakemake

    snakemake: Snakemake

with logs.to_file(snakemake.log[0]) as log:
    resource = load_catalog(snakemake.config["catalog"]).resource(snakemake.params.resource)
    path = fetch_to_workflow(resource, Path(snakemake.config["download_dir"]), snakemake.config)
    log.info("%s -> %s", resource.id, path)
