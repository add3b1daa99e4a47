"""Map one language's vectors onto another's (MUSE supervised or unsupervised)."""
from typing import TYPE_CHECKING

from xlt import logs
from xlt.device import pick_device
from xlt.vectors.mapping import map_vectors

if TYPE_CHECKING:
    from snakemake.iocontainers import Snakemake

    snakemake: Snakemake

with logs.to_file(snakemake.log[0]) as log:
    result = map_vectors(
        snakemake.input.src, snakemake.input.tgt,
        {"vectors": snakemake.output.vectors, "matrix": snakemake.output.matrix,
         "log": snakemake.output.log_json},
        params=snakemake.params.mapping, seed=int(snakemake.params.seed), mode=snakemake.wildcards.mode,
        device=pick_device(bool(snakemake.params.prefer_gpu)),
    )
    log.info("kept candidate %d (%s): %s", result.kept, result.status, result.reason)
