"""Train the LASER-style sentence encoder on the parallel sets (xlt.lms.laser.pretrain)."""
from typing import TYPE_CHECKING

from xlt import logs
from xlt.device import pick_device
from xlt.lms.laser.pretrain import pretrain_laser

if TYPE_CHECKING:
    from snakemake.iocontainers import Snakemake

    snakemake: Snakemake

with logs.to_file(snakemake.log[0]) as log:
    sets: dict[str, dict[str, str]] = {}
    for key, path in snakemake.input.items():
        set_name, lang = key.split("__")
        sets.setdefault(set_name, {})[lang] = path
    manifest = pretrain_laser(
        sets=sets, config=snakemake.params.laser, seed=int(snakemake.params.seed),
        weights_path=snakemake.output[0], bpe_path=snakemake.output[1], json_path=snakemake.output[2],
        threads=snakemake.threads, device=pick_device(bool(snakemake.params.prefer_gpu)),
    )
    log.info("sentence encoder: %.0fs; retrieval accuracy X->%s %s", manifest["train_seconds"],
             manifest["targets"][0], {k: round(v, 3) for k, v in manifest["final_retrieval_accuracy"].items()})
