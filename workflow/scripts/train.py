"""Train one run and save it as a model artifact (any method in xlt.methods)."""
import importlib
from pathlib import Path
from typing import TYPE_CHECKING

from xlt import logs
from xlt.methods.common import RunSpec, train_model

if TYPE_CHECKING:
    from snakemake.iocontainers import Snakemake

    snakemake: Snakemake

with logs.to_file(snakemake.log[0]):
    spec = RunSpec.from_snakemake(snakemake)
    method = importlib.import_module(f"xlt.methods.{spec.method}")
    train_model(spec, method.build, model_dir=Path(snakemake.output.model).parent)
