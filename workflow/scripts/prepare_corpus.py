"""Convert one (task, lang, split) to the canonical Parquet sentence table (the whole
corpus: plans cap sentences when a run reads its data)."""
from typing import TYPE_CHECKING

from xlt import logs
from xlt.catalog import load_catalog
from xlt.data import prepare_split

if TYPE_CHECKING:
    from snakemake.iocontainers import Snakemake

    snakemake: Snakemake

with logs.to_file(snakemake.log[0]) as log:
    wc = snakemake.wildcards
    catalog = load_catalog(snakemake.config["catalog"])
    n = prepare_split(
        catalog.corpus(snakemake.params.corpus, wc.lang, wc.split),
        files=list(snakemake.input),
        task=snakemake.params.task,
        output=snakemake.output[0],
    )
    log.info("%s/%s/%s: %d sentences", wc.task, wc.lang, wc.split, n)
