"""[CLS] vectors of one canonical table's sentences (Meta-NER): xlt.methods.metaner."""
from typing import TYPE_CHECKING

from xlt import logs
from xlt.methods.metaner import write_representations

if TYPE_CHECKING:
    from snakemake.iocontainers import Snakemake

    snakemake: Snakemake

with logs.to_file(snakemake.log[0]):
    encoding = snakemake.params.encoding
    write_representations(
        snakemake.input.table, snakemake.output[0], encoder=encoding["encoder"], layers=encoding["layers"],
        batch_size=encoding["batch_size"], max_subwords=encoding["max_subwords"],
        max_sentences=snakemake.params.max_sentences, mirror=snakemake.params.mirror_dirs,
        prefer_gpu=snakemake.params.prefer_gpu,
    )
