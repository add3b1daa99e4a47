"""Atomic file creation: an output either appears complete or not at all.

Snakemake treats an existing output as done, so a half-written file left by a crash would
silently poison later steps. Every writer in xlt therefore writes to a temporary sibling
and renames it into place only after the write succeeded (``os.replace`` is atomic within
one file system, which is why the temporary lives in the same directory).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; move it onto ``path`` on success.

    The temporary keeps ``path``'s suffix, so writers that pick a format from the file
    extension (pandas, matplotlib, ...) behave as for the final name. It is not created:
    the block must create it (a file or a directory). On an exception it is removed and
    ``path`` is left untouched. Parent directories are created.
    """
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(f".{final.stem}.{secrets.token_hex(4)}.tmp{final.suffix}")
    try:
        yield tmp
        if tmp.is_dir() and final.is_dir():
            # os.replace cannot replace a non-empty directory.
            shutil.rmtree(final)
        os.replace(tmp, final)
    except BaseException:
        _remove(tmp)
        raise


def atomic_write_text(path: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> None:
    """Write ``text`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding=encoding)


def atomic_write_json(path: str | os.PathLike[str], obj: Any, *, indent: int = 2) -> None:
    """Write ``obj`` as JSON atomically, keys sorted so equal data gives equal bytes."""
    atomic_write_text(path, json.dumps(obj, indent=indent, sort_keys=True, ensure_ascii=False) + "\n")
