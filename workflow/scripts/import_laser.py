"""LASER1's published encoder, codes and vocabulary as the sentence-encoder artifact
(xlt.lms.laser.published)."""
from typing import TYPE_CHECKING

from xlt import logs
from xlt.lms.laser.published import import_laser1

if TYPE_CHECKING:
    from snakemake.iocontainers import Snakemake

    snakemake: Snakemake

with logs.to_file(snakemake.log[0]) as log:
    manifest = import_laser1(
        checkpoint=snakemake.input.checkpoint, codes=snakemake.input.codes, vocab=snakemake.input.vocab,
        weights_path=snakemake.output[0], bpe_path=snakemake.output[1], json_path=snakemake.output[2],
    )
    log.info("LASER1: %d layers of %d per direction, %d BPE codes, %d dictionary units",
             manifest["architecture"]["layers"], manifest["architecture"]["hidden"], manifest["n_codes"],
             manifest["architecture"]["vocab_size"])
