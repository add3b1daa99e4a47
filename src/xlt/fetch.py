"""Getting a catalog resource onto local disk: cache, then mirror dirs, then its pinned URL.

Contract: docs/contracts.md §3. Every byte that enters the workflow is checked against the
catalog's sha256 while it is copied or downloaded, and lands under its final name only after
the check passed (``xlt.atomic.atomic_path``), so a killed job or a corrupted mirror never
leaves a file that a later job would trust.

Mirror dirs (local folders with the catalog's file layout) come from ``$XLT_MIRROR``
(``os.pathsep``-separated) first, then the config's ``mirror_dirs``. The download dir is
``$XLT_DOWNLOAD_CACHE`` when set (one cache shared by several checkouts), else the config's
``download_dir`` (``resources/downloads``).

A ``verify: first_download`` resource (a vendor file published without a checksum) is checked
against, in order: the digest pinned under the config's ``recorded_digests.<id>``, else the
digest recorded next to the downloaded file on its first download (``<file>.sha256``, the
``sha256sum`` format). With neither, the copy is trusted once, its digest is recorded and
logged, and every later fetch must match it: a file that changes upstream fails loudly
instead of silently feeding different vectors into a rerun.
"""
from __future__ import annotations

import hashlib
import logging
import os
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from os import PathLike
from pathlib import Path
from typing import Any, BinaryIO

from xlt.atomic import atomic_path, atomic_write_text
from xlt.catalog import Resource
from xlt.errors import ConfigError, FetchError

log = logging.getLogger(__name__)

MIRROR_ENV = "XLT_MIRROR"
DOWNLOAD_CACHE_ENV = "XLT_DOWNLOAD_CACHE"
DEFAULT_DOWNLOAD_DIR = "resources/downloads"
DEFAULT_TIMEOUT = 60.0
_CHUNK = 1 << 20
_USER_AGENT = "xlt-fetch/0.1 (+https://github.com/; reproducible benchmark)"
#: Suffix of the digest recorded next to a ``verify: first_download`` file.
LEDGER_SUFFIX = ".sha256"


def sha256_file(path: str | PathLike[str]) -> str:
    """Hex sha256 of a file, read in chunks (the one place xlt hashes files)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def mirror_dirs(config: Mapping[str, Any] | None = None) -> list[Path]:
    """``$XLT_MIRROR`` entries, then ``config["mirror_dirs"]``; relative paths against cwd."""
    dirs: list[str] = [p for p in os.environ.get(MIRROR_ENV, "").split(os.pathsep) if p]
    dirs += [str(p) for p in (config or {}).get("mirror_dirs", None) or []]
    out: list[Path] = []
    for entry in dirs:
        path = Path(entry).expanduser()
        path = path if path.is_absolute() else Path.cwd() / path
        if path not in out:
            out.append(path)
    return out


def download_dir(config: Mapping[str, Any] | None = None) -> Path:
    """``$XLT_DOWNLOAD_CACHE`` if set, else ``config["download_dir"]``, else resources/downloads."""
    cache = os.environ.get(DOWNLOAD_CACHE_ENV)
    if cache:
        return Path(cache).expanduser()
    return Path((config or {}).get("download_dir") or DEFAULT_DOWNLOAD_DIR)


def _copy_hashing(source: BinaryIO, target: Path) -> str:
    digest = hashlib.sha256()
    with open(target, "wb") as out:
        for chunk in iter(lambda: source.read(_CHUNK), b""):
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest()


def _describe(resource: Resource, mirrors: list[Path]) -> str:
    tried = ", ".join(str(m) for m in mirrors) if mirrors else "none configured"
    return (f"resource {resource.id} (file {resource.file}, URL {resource.url}; "
            f"mirror dirs tried: {tried})")


def ledger_path(dest: str | PathLike[str]) -> Path:
    """Where the digest seen on a file's first download is recorded: ``<file>.sha256``."""
    dest = Path(dest)
    return dest.with_name(dest.name + LEDGER_SUFFIX)


def _read_ledger(ledger: Path, resource: Resource) -> str:
    fields = ledger.read_text(encoding="utf-8").split()
    if not fields or not _is_sha256(fields[0]):
        raise FetchError(ledger, 1, f"not a sha256sum line for resource {resource.id}; delete it to "
                                    "record the digest again on the next download")
    return fields[0]


def _is_sha256(text: str) -> bool:
    return len(text) == 64 and all(c in "0123456789abcdef" for c in text)


def expected_digest(resource: Resource, dest: str | PathLike[str],
                    recorded: Mapping[str, str] | None = None) -> tuple[str | None, str]:
    """The sha256 a fetched copy of ``resource`` must have, and where that digest comes from.

    ``(None, "first download")`` for a ``verify: first_download`` resource seen for the
    first time: the caller records what it gets.
    """
    if resource.sha256:
        return resource.sha256, "catalog"
    if not resource.digest_recorded_on_first_download:
        raise ConfigError(f"resource {resource.id} has no file/sha256 in the catalog")
    pinned = (recorded or {}).get(resource.id)
    if pinned:
        if not _is_sha256(str(pinned)):
            raise ConfigError(f"config recorded_digests.{resource.id}: not a 64-hex lowercase sha256: {pinned!r}")
        return str(pinned), f"config recorded_digests.{resource.id}"
    ledger = ledger_path(dest)
    if ledger.is_file():
        return _read_ledger(ledger, resource), f"recorded on first download ({ledger})"
    return None, "first download"


def _record(resource: Resource, dest: Path, digest: str) -> None:
    ledger = ledger_path(dest)
    atomic_write_text(ledger, f"{digest}  {dest.name}\n")
    log.warning("%s: no published checksum; recorded the digest of this first download, "
                "sha256 %s, in %s (pin it as recorded_digests.%s to share it)",
                resource.id, digest, ledger, resource.id)


def fetch(resource: Resource, dest_dir: str | PathLike[str], mirror_dirs: Iterable[str | PathLike[str]],
          *, timeout: float = DEFAULT_TIMEOUT, recorded: Mapping[str, str] | None = None) -> Path:
    """Make ``dest_dir/resource.file`` a verified copy of ``resource`` and return its path.

    An existing file with the right sha256 is returned as is (cache hit); a file with a
    wrong hash is replaced. Otherwise the first mirror dir holding ``resource.file`` is
    copied, else ``resource.url`` is downloaded. Raises FetchError naming the resource, the
    file, the URL and every mirror dir tried (and both hashes on a mismatch); ConfigError
    for a manual resource. ``recorded``: digests pinned by the user for ``verify:
    first_download`` resources (config ``recorded_digests``).
    """
    if resource.manual:
        raise ConfigError(
            f"resource {resource.id} is not downloadable ({resource.how_to_get}); "
            f"set config key {resource.config_key} to a local copy"
        )
    if not resource.file:
        raise ConfigError(f"resource {resource.id} has no file/sha256 in the catalog")
    mirrors = [Path(m) for m in mirror_dirs]
    dest = Path(dest_dir) / resource.file
    expected, origin = expected_digest(resource, dest, recorded)

    if dest.is_file():
        got = sha256_file(dest)
        if expected is None:
            # Written through atomic_path, so complete: this is the first copy seen.
            _record(resource, dest, got)
            return dest
        if got == expected:
            log.info("%s: cached at %s (sha256 %s, %s)", resource.id, dest, got, origin)
            return dest
        log.warning("%s: %s has a wrong sha256 (%s, expected %s from %s); fetching it again",
                    resource.id, dest, got, expected, origin)

    def check(got: str, where: str) -> None:
        if expected is not None and got != expected:
            raise FetchError(where, None,
                             f"sha256 mismatch for {_describe(resource, mirrors)}: "
                             f"expected {expected} ({origin}), got {got}")

    for mirror in mirrors:
        candidate = mirror / resource.file
        if not candidate.is_file():
            continue
        log.info("%s: copying %s", resource.id, candidate)
        with atomic_path(dest) as tmp:
            with open(candidate, "rb") as source:
                got = _copy_hashing(source, tmp)
            check(got, str(candidate))
        # The copy keeps a fresh mtime (no copystat): Snakemake must see it as new.
        if expected is None:
            _record(resource, dest, got)
        log.info("%s: copied to %s (sha256 %s, %s)", resource.id, dest, got, origin)
        return dest

    if not resource.url:
        raise FetchError(resource.file, None, f"not in any mirror dir and no URL: {_describe(resource, mirrors)}")
    log.info("%s: downloading %s", resource.id, resource.url)
    request = urllib.request.Request(resource.url, headers={"User-Agent": _USER_AGENT})
    try:
        with atomic_path(dest) as tmp:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                got = _copy_hashing(response, tmp)
            check(got, resource.file)
    except FetchError:
        raise
    except (urllib.error.URLError, OSError, ValueError) as err:
        # URLError/HTTPError, timeouts (socket.timeout is an OSError), refused connections,
        # malformed URLs (ValueError): all mean "could not download".
        reason = getattr(err, "reason", None) or err
        raise FetchError(resource.file, None,
                         f"not in any mirror dir and download failed ({reason}): "
                         f"{_describe(resource, mirrors)}") from err
    if expected is None:
        _record(resource, dest, got)
    log.info("%s: downloaded to %s (sha256 %s)", resource.id, dest, got)
    return dest


def fetch_resource(resource: Resource, config: Mapping[str, Any], *, timeout: float = DEFAULT_TIMEOUT) -> Path:
    """Local path of a resource under a workflow config: the manual copy, or fetched."""
    if resource.manual:
        from xlt.catalog import resolve_manual

        return resolve_manual(resource, config)
    return fetch(resource, download_dir(config), mirror_dirs(config), timeout=timeout,
                 recorded=config.get("recorded_digests"))


def fetch_to_workflow(resource: Resource, dest_dir: str | PathLike[str], config: Mapping[str, Any],
                      *, timeout: float = DEFAULT_TIMEOUT) -> Path:
    """Fetch ``resource`` into the workflow's download dir (a rule output).

    With ``$XLT_DOWNLOAD_CACHE`` set, the shared cache is filled first (from the mirrors or
    the URL) and the workflow copy comes from there, so several checkouts download once.
    """
    mirrors = mirror_dirs(config)
    shared = download_dir(config)
    recorded = config.get("recorded_digests")
    if Path(shared).resolve() != Path(dest_dir).resolve():
        fetch(resource, shared, mirrors, timeout=timeout, recorded=recorded)
        mirrors = [Path(shared), *mirrors]
        if resource.digest_recorded_on_first_download and not (recorded or {}).get(resource.id):
            # The shared cache's first-download digest binds this checkout's copy too.
            ledger = ledger_path(Path(shared) / resource.file)
            recorded = {**(recorded or {}), resource.id: _read_ledger(ledger, resource)}
    return fetch(resource, dest_dir, mirrors, timeout=timeout, recorded=recorded)
