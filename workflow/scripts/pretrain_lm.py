"""Pretrain one MLMA / MLM language model over a language group (xlt.lms.pretrain)."""
from typing import TYPE_CHECKING

from xlt import logs
from xlt.device import pick_device
from xlt.lms.pretrain import pretrain

if TYPE_CHECKING:
    from snakemake.iocontainers import Snakemake

    snakemake: Snakemake

with logs.to_file(snakemake.log[0]) as log:
    languages = snakemake.wildcards.group.split("-")
    inputs = dict(snakemake.input.items())
    manifest = pretrain(
        variant_name=snakemake.wildcards.variant, languages=languages,
        train_files={lang: inputs[f"train_{lang}"] for lang in languages},
        dev_files={lang: inputs[f"dev_{lang}"] for lang in languages},
        vectors={lang: inputs[f"vectors_{lang}"] for lang in languages if f"vectors_{lang}" in inputs},
        config=snakemake.params.lms, seed=int(snakemake.params.seed),
        weights_path=snakemake.output[0], json_path=snakemake.output[1],
        threads=snakemake.threads, device=pick_device(bool(snakemake.params.prefer_gpu)),
    )
    log.info("LM %s/%s: %.0fs; perplexity %s", snakemake.wildcards.variant, snakemake.wildcards.group,
             manifest["train_seconds"], {k: round(v, 1) for k, v in manifest["final_perplexity"].items()})
