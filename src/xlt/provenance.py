"""What produced a result: package versions and input hashes, recorded in every metrics file."""
from __future__ import annotations

import platform
from importlib import metadata
from pathlib import Path
from typing import Iterable

PACKAGES = (
    "torch", "transformers", "tokenizers", "numpy", "pandas", "pyarrow", "seqeval",
    "snakemake", "xlt",
)


def package_versions(packages: Iterable[str] = PACKAGES) -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in packages:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def input_hashes(paths: Iterable[str | Path]) -> dict[str, str]:
    from xlt.fetch import sha256_file

    return {str(p): sha256_file(Path(p)) for p in sorted({str(p) for p in paths})}
