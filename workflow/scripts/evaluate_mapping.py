"""Word-translation precision of one mapping on its test dictionary."""
from typing import TYPE_CHECKING

from xlt import logs
from xlt.vectors.evaluate import evaluate_mapping

if TYPE_CHECKING:
    from snakemake.iocontainers import Snakemake

    snakemake: Snakemake

with logs.to_file(snakemake.log[0]):
    wc = snakemake.wildcards
    evaluate_mapping(
        mapped=snakemake.input.mapped, tgt=snakemake.input.tgt, log_json=snakemake.input.log_json,
        dictionary=list(snakemake.input.get("dictionary", [])), pair=snakemake.params.pair,
        mode=wc.mode, src=wc.src, tgt_lang=wc.tgt, max_vocab=snakemake.params.max_vocab,
        out=snakemake.output[0],
    )
