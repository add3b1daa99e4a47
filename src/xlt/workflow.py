"""Small helpers for the Snakefile itself (kept here so the workflow files stay declarative)."""
from __future__ import annotations

import os


def export_library_path(src: str) -> None:
    """Make ``src`` importable in the interpreters that run ``script:`` steps.

    Snakemake runs each script in a fresh interpreter, which inherits the environment but
    not the Snakefile's ``sys.path``; this lets the workflow run from a checkout even where
    the package was not ``pip install``-ed (a conda env built from envs/xlt.yaml, say).
    """
    current = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    if src not in current:
        os.environ["PYTHONPATH"] = os.pathsep.join([src, *current])
