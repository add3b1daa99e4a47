"""Train one transfer run and evaluate it on every target (any method in xlt.methods)."""
import importlib
from typing import TYPE_CHECKING

from xlt import logs
from xlt.methods.common import RunSpec, run_method

if TYPE_CHECKING:
    from snakemake.iocontainers import Snakemake

    snakemake: Snakemake

logs.setup(snakemake.log[0])
spec = RunSpec.from_snakemake(snakemake)
method = importlib.import_module(f"xlt.methods.{spec.method}")
run_method(spec, method.build, snakemake.output.metrics, snakemake.output.predictions)
