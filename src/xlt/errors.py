"""Exceptions shared by every stage.

Bad input must be reported with the file (and line, where there is one) so that a user
can find and fix it; configuration mistakes get their own type so that the workflow can
tell "your data is broken" from "your config is incomplete".
"""

from __future__ import annotations

from os import PathLike


class XltError(Exception):
    """Base class of all errors raised on purpose by xlt."""


class InputError(XltError):
    """Malformed or unusable input: ``str(err)`` is ``"path:line: message"``.

    ``line`` is 1-based, or ``None`` for whole-file problems (then ``"path: message"``).
    The three parts are kept as attributes (and as ``args``, so the error pickles across
    worker processes).
    """

    def __init__(self, path: str | PathLike[str], line: int | None, message: str) -> None:
        super().__init__(str(path), line, message)
        self.path = str(path)
        self.line = line
        self.message = message

    def __str__(self) -> str:
        if self.line is None:
            return f"{self.path}: {self.message}"
        return f"{self.path}:{self.line}: {self.message}"


class FetchError(InputError):
    """A resource could not be found in any mirror, downloaded, or verified."""


class ConfigError(XltError):
    """Bad or missing configuration (e.g. a manual resource with no local file given)."""
