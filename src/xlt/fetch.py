"""Getting a catalog resource onto local disk: cache, then mirror dirs, then its pinned URL.

Contract: docs/contracts.md §3. Every byte that enters the workflow is checked against the
catalog's sha256 while it is copied or downloaded, and lands under its final name only after
the check passed (``xlt.atomic.atomic_path``), so a killed job or a corrupted mirror never
leaves a file that a later job would trust.

Mirror dirs (local folders with the catalog's file layout) come from ``$XLT_MIRROR``
(``os.pathsep``-separated) first, then the config's ``mirror_dirs``. The download dir is
``$XLT_DOWNLOAD_CACHE`` when set (one cache shared by several checkouts), else the config's
``download_dir`` (``resources/downloads``).
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

from xlt.atomic import atomic_path
from xlt.catalog import Resource
from xlt.errors import ConfigError, FetchError

log = logging.getLogger(__name__)

MIRROR_ENV = "XLT_MIRROR"
DOWNLOAD_CACHE_ENV = "XLT_DOWNLOAD_CACHE"
DEFAULT_DOWNLOAD_DIR = "resources/downloads"
DEFAULT_TIMEOUT = 60.0
_CHUNK = 1 << 20
_USER_AGENT = "xlt-fetch/0.1 (+https://github.com/; reproducible benchmark)"


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


def fetch(resource: Resource, dest_dir: str | PathLike[str], mirror_dirs: Iterable[str | PathLike[str]],
          *, timeout: float = DEFAULT_TIMEOUT) -> Path:
    """Make ``dest_dir/resource.file`` a verified copy of ``resource`` and return its path.

    An existing file with the right sha256 is returned as is (cache hit); a file with a
    wrong hash is replaced. Otherwise the first mirror dir holding ``resource.file`` is
    copied, else ``resource.url`` is downloaded. Raises FetchError naming the resource, the
    file, the URL and every mirror dir tried (and both hashes on a mismatch); ConfigError
    for a manual resource.
    """
    if resource.manual:
        raise ConfigError(
            f"resource {resource.id} is not downloadable ({resource.how_to_get}); "
            f"set config key {resource.config_key} to a local copy"
        )
    if not resource.file or not resource.sha256:
        raise ConfigError(f"resource {resource.id} has no file/sha256 in the catalog")
    mirrors = [Path(m) for m in mirror_dirs]
    dest = Path(dest_dir) / resource.file
    expected = resource.sha256

    if dest.is_file():
        if sha256_file(dest) == expected:
            log.info("%s: cached at %s", resource.id, dest)
            return dest
        log.warning("%s: %s has a wrong sha256; fetching it again", resource.id, dest)

    for mirror in mirrors:
        candidate = mirror / resource.file
        if not candidate.is_file():
            continue
        log.info("%s: copying %s", resource.id, candidate)
        with atomic_path(dest) as tmp:
            with open(candidate, "rb") as source:
                got = _copy_hashing(source, tmp)
            if got != expected:
                raise FetchError(candidate, None,
                                 f"sha256 mismatch for {_describe(resource, mirrors)}: "
                                 f"expected {expected}, got {got}")
        # The copy keeps a fresh mtime (no copystat): Snakemake must see it as new.
        return dest

    if not resource.url:
        raise FetchError(resource.file, None, f"not in any mirror dir and no URL: {_describe(resource, mirrors)}")
    log.info("%s: downloading %s", resource.id, resource.url)
    request = urllib.request.Request(resource.url, headers={"User-Agent": _USER_AGENT})
    try:
        with atomic_path(dest) as tmp:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                got = _copy_hashing(response, tmp)
            if got != expected:
                raise FetchError(resource.file, None,
                                 f"sha256 mismatch after download for {_describe(resource, mirrors)}: "
                                 f"expected {expected}, got {got}")
    except FetchError:
        raise
    except (urllib.error.URLError, OSError, ValueError) as err:
        # URLError/HTTPError, timeouts (socket.timeout is an OSError), refused connections,
        # malformed URLs (ValueError): all mean "could not download".
        reason = getattr(err, "reason", None) or err
        raise FetchError(resource.file, None,
                         f"not in any mirror dir and download failed ({reason}): "
                         f"{_describe(resource, mirrors)}") from err
    log.info("%s: downloaded to %s", resource.id, dest)
    return dest


def fetch_resource(resource: Resource, config: Mapping[str, Any], *, timeout: float = DEFAULT_TIMEOUT) -> Path:
    """Local path of a resource under a workflow config: the manual copy, or fetched."""
    if resource.manual:
        from xlt.catalog import resolve_manual

        return resolve_manual(resource, config)
    return fetch(resource, download_dir(config), mirror_dirs(config), timeout=timeout)


def fetch_to_workflow(resource: Resource, dest_dir: str | PathLike[str], config: Mapping[str, Any],
                      *, timeout: float = DEFAULT_TIMEOUT) -> Path:
    """Fetch ``resource`` into the workflow's download dir (a rule output).

    With ``$XLT_DOWNLOAD_CACHE`` set, the shared cache is filled first (from the mirrors or
    the URL) and the workflow copy comes from there, so several checkouts download once.
    """
    mirrors = mirror_dirs(config)
    shared = download_dir(config)
    if Path(shared).resolve() != Path(dest_dir).resolve():
        fetch(resource, shared, mirrors, timeout=timeout)
        mirrors = [Path(shared), *mirrors]
    return fetch(resource, dest_dir, mirrors, timeout=timeout)
