"""Translate a source training set word by word into a target language."""
from typing import TYPE_CHECKING

from xlt import logs
from xlt.atomic import atomic_write_json
from xlt.vectors.translate import translate_table

if TYPE_CHECKING:
    from snakemake.iocontainers import Snakemake

    snakemake: Snakemake

with logs.to_file(snakemake.log[0]) as log:
    casing_text = snakemake.input.get("casing_text")
    casing_tokens = None
    if casing_text:
        with open(casing_text, encoding="utf-8") as handle:
            casing_tokens = [token for line in handle for token in line.split()]
    counts = translate_table(
        snakemake.input.table, snakemake.input.mapped, snakemake.input.tgt, snakemake.output.table,
        knn=int(snakemake.params.knn), target_casing=snakemake.params.casing, casing_tokens=casing_tokens,
        seed=int(snakemake.params.seed),
    )
    atomic_write_json(snakemake.output.counts, {"task": snakemake.wildcards.task, "src": snakemake.wildcards.src,
                                                "tgt": snakemake.wildcards.tgt, **counts})
    log.info("translated: %s", counts)
