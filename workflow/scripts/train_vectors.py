"""Train one language's word vectors."""
from typing import TYPE_CHECKING

from xlt import logs
from xlt.atomic import atomic_write_json
from xlt.provenance import input_hashes, package_versions
from xlt.vectors.embeddings import train_vectors

if TYPE_CHECKING:
    from snakemake.iocontainers import Snakemake

    snakemake: Snakemake

with logs.to_file(snakemake.log[0]) as log:
    summary = train_vectors(snakemake.input.text, snakemake.output.vectors, snakemake.params.vectors,
                            seed=int(snakemake.params.seed), threads=snakemake.threads)
    atomic_write_json(snakemake.output.summary, {
        **summary, "versions": package_versions(("gensim", "numpy")),
        "inputs": input_hashes([snakemake.input.text]),
    })
    log.info("%s: %d words from %d tokens", snakemake.wildcards.name, summary["vocabulary"], summary["tokens"])
