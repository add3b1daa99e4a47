"""Logging for workflow steps: to the rule's log file (and stderr), with timestamps."""
from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def setup(log_path: str | Path | None, level: int = logging.INFO) -> logging.Logger:
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_path:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_path, mode="w", encoding="utf-8"))
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=handlers,
        force=True,
    )
    return logging.getLogger("xlt")


@contextmanager
def to_file(log_path: str | Path | None, level: int = logging.INFO) -> Iterator[logging.Logger]:
    """``setup``, and an exception escaping the block is written to the log with its traceback
    before it propagates: on a cluster the console is gone, and Snakemake's "check log
    file(s)" must find the error there."""
    logger = setup(log_path, level)
    try:
        yield logger
    except BaseException as err:
        if not isinstance(err, (KeyboardInterrupt, SystemExit)):
            logger.exception("failed: %s: %s", type(err).__name__, err)
        for handler in logging.getLogger().handlers:
            handler.flush()
        raise
