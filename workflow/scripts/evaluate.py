"""Score one target with a saved model (any method in xlt.methods)."""
import importlib
from typing import TYPE_CHECKING

from xlt import logs
from xlt.methods.common import evaluate_target, read_manifest

if TYPE_CHECKING:
    from snakemake.iocontainers import Snakemake

    snakemake: Snakemake

with logs.to_file(snakemake.log[0]):
    method = importlib.import_module(f"xlt.methods.{read_manifest(snakemake.input.model)['method']}")
    evaluate_target(
        snakemake.input.model, method.rebuild, snakemake.wildcards.target,
        test_path=snakemake.input.test, dev_path=snakemake.input.get("dev"),
        metrics_path=snakemake.output.metrics, predictions_path=snakemake.output.predictions,
        threads=snakemake.threads, **snakemake.params.evaluation,
        extra={"mirror_dirs": snakemake.params.mirror_dirs, "prefer_gpu": snakemake.params.prefer_gpu},
        inputs={k: v for k, v in snakemake.input.items() if k not in ("model", "checkpoints", "test", "dev")},
    )
