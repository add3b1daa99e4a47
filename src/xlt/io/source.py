"""Loading a corpus file's text: plain, gzip (``.gz``) or a member of a zip archive.

Shared by every reader so that all of them report the same things the same way: the
source is named ``file`` or ``archive.zip:member``; a decoding error names the 1-based
line of the offending byte; line numbers count ``\\n`` only (``str.splitlines`` would also
split on characters such as U+0085, which is a letter-ish byte in latin-1 files, and
line numbers would drift from what an editor shows).
"""

from __future__ import annotations

import gzip
import zipfile
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

from xlt.errors import InputError


def source_name(path: str | PathLike[str], member: str | None = None) -> str:
    """How errors name a file, or a member of an archive (``archive.zip:member``)."""
    return str(path) if member is None else f"{path}:{member}"


@dataclass(frozen=True)
class SourceText:
    """The decoded text of one source together with the name errors should use."""

    name: str
    text: str
    #: the file name used to build document/sentence ids (the member's base name in a zip)
    stem: str

    def lines(self) -> list[str]:
        """Lines split on ``\\n`` (a trailing ``\\r`` is dropped); element i is line i + 1."""
        lines = [line[:-1] if line.endswith("\r") else line for line in self.text.split("\n")]
        if lines and lines[-1] == "":
            lines.pop()  # the final newline does not start another line
        return lines


def _read_bytes(path: Path, member: str | None) -> bytes:
    name = source_name(path, member)
    try:
        if member is not None:
            with zipfile.ZipFile(path) as archive:
                try:
                    return archive.read(member)
                except KeyError:
                    raise InputError(path, None, f"archive has no member {member!r}") from None
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as handle:
                return handle.read()
        return path.read_bytes()
    except FileNotFoundError:
        raise InputError(name, None, "file not found") from None
    except (zipfile.BadZipFile, gzip.BadGzipFile, EOFError) as err:
        raise InputError(name, None, f"cannot decompress: {err}") from None


def read_source(path: str | PathLike[str], encoding: str = "utf-8", member: str | None = None) -> SourceText:
    """Read and decode ``path`` (or ``member`` of the zip ``path``).

    Raises :class:`InputError` naming the line for bytes invalid in ``encoding``, and for
    an empty file. A UTF-8 byte order mark is dropped.
    """
    path = Path(path)
    name = source_name(path, member)
    raw = _read_bytes(path, member)
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        bad = raw[err.start : err.end].hex(" ")
        raise InputError(name, line, f"invalid {encoding} bytes ({bad}): {err.reason}") from None
    except LookupError:
        raise InputError(name, None, f"unknown encoding {encoding!r}") from None
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        raise InputError(name, None, "file is empty")
    stem = Path(member).name if member is not None else path.name
    if stem.endswith(".gz"):
        stem = stem[: -len(".gz")]
    return SourceText(name=name, text=text, stem=stem)
