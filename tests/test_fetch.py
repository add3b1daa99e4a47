"""xlt.fetch: cache, mirror dirs, pinned URL download, sha256 verification, error messages."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from xlt.catalog import Resource
from xlt.errors import ConfigError, FetchError, InputError
from xlt.fetch import (download_dir, fetch, fetch_resource, fetch_to_workflow, ledger_path,
                       mirror_dirs, sha256_file)

FIXTURES = Path(__file__).parent / "fixtures" / "fetch"
MIRROR = FIXTURES / "mirror"
FILE = "corpus/sample.txt"
UNREACHABLE_URL = "https://raw.githubusercontent.com/xlt/none/" + "0" * 40 + "/sample.txt"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _resource(url: str = UNREACHABLE_URL, sha256: str | None = None, file: str = FILE) -> Resource:
    return Resource(id="sample_corpus", format="conll2003", file=file, url=url,
                    sha256=sha256 or _sha(MIRROR / FILE), bytes=(MIRROR / FILE).stat().st_size)


def _leftovers(directory: Path) -> list[Path]:
    return [p for p in directory.rglob("*") if p.is_file() and p.name.startswith(".")]


def test_sha256_file_matches_hashlib(tmp_path):
    path = tmp_path / "big.bin"
    path.write_bytes(os.urandom(3 * (1 << 20) + 17))  # spans several read chunks
    assert sha256_file(path) == hashlib.sha256(path.read_bytes()).hexdigest()


def test_fetch_copies_from_the_mirror(tmp_path):
    dest = fetch(_resource(), tmp_path / "downloads", [tmp_path / "empty", MIRROR])
    assert dest == tmp_path / "downloads" / FILE
    assert dest.read_bytes() == (MIRROR / FILE).read_bytes()
    assert not _leftovers(tmp_path)


def test_fetch_cache_hit_needs_no_source(tmp_path):
    downloads = tmp_path / "downloads"
    fetch(_resource(), downloads, [MIRROR])
    before = (downloads / FILE).stat().st_mtime_ns
    # No mirror and an unreachable URL: only the cached, verified copy can satisfy this.
    dest = fetch(_resource(url="file:///nonexistent/" + "0" * 40 + "/x"), downloads, [], timeout=2)
    assert dest.stat().st_mtime_ns == before


def test_fetch_replaces_a_corrupt_cached_file(tmp_path):
    downloads = tmp_path / "downloads"
    (downloads / "corpus").mkdir(parents=True)
    (downloads / FILE).write_text("truncated")
    dest = fetch(_resource(), downloads, [MIRROR])
    assert dest.read_bytes() == (MIRROR / FILE).read_bytes()


def test_fetch_mismatch_in_mirror_names_everything(tmp_path):
    other_mirror = tmp_path / "other_mirror"
    other_mirror.mkdir()
    resource = _resource(sha256="ab" * 32)
    with pytest.raises(FetchError) as info:
        fetch(resource, tmp_path / "downloads", [other_mirror, MIRROR])
    message = str(info.value)
    for part in ("sample_corpus", FILE, UNREACHABLE_URL, str(other_mirror), str(MIRROR),
                 "ab" * 32, _sha(MIRROR / FILE)):
        assert part in message
    assert isinstance(info.value, InputError)
    assert not (tmp_path / "downloads" / FILE).exists()
    assert not _leftovers(tmp_path)


def test_fetch_downloads_from_the_url_when_no_mirror_has_it(tmp_path):
    source = tmp_path / "remote" / "sample.txt"
    source.parent.mkdir()
    source.write_bytes((MIRROR / FILE).read_bytes())
    dest = fetch(_resource(url=source.as_uri()), tmp_path / "downloads", [tmp_path / "empty"])
    assert dest.read_bytes() == source.read_bytes()
    assert not _leftovers(tmp_path)


def test_fetch_download_mismatch_leaves_nothing(tmp_path):
    source = tmp_path / "remote.txt"
    source.write_text("not the catalogued bytes\n")
    with pytest.raises(FetchError) as info:
        fetch(_resource(url=source.as_uri()), tmp_path / "downloads", [])
    message = str(info.value)
    assert source.as_uri() in message and _sha(source) in message and "sample_corpus" in message
    assert not (tmp_path / "downloads" / FILE).exists()
    assert not _leftovers(tmp_path)


@pytest.mark.parametrize("url", [
    "file:///nonexistent/xlt/" + "0" * 40 + "/sample.txt",  # missing path
    "http://127.0.0.1:9/" + "0" * 40 + "/sample.txt",        # discard port: connection refused
])
def test_fetch_unreachable_url_names_url_and_mirrors(tmp_path, url):
    empty = tmp_path / "empty_mirror"
    empty.mkdir()
    with pytest.raises(FetchError) as info:
        fetch(_resource(url=url), tmp_path / "downloads", [empty], timeout=2)
    message = str(info.value)
    assert url in message and str(empty) in message and "sample_corpus" in message
    assert FILE in message
    assert not (tmp_path / "downloads" / FILE).exists()


def test_fetch_without_mirrors_says_so(tmp_path):
    with pytest.raises(FetchError, match="none configured"):
        fetch(_resource(url="file:///nonexistent/" + "0" * 40 + "/x"), tmp_path, [], timeout=2)


def test_fetch_manual_resource_names_the_config_key(tmp_path):
    manual = Resource(id="conll2003_de_train", format="conll2003", manual=True,
                      config_key="manual_files.conll2003_de_train", how_to_get="licensed corpus")
    with pytest.raises(ConfigError, match=r"manual_files\.conll2003_de_train"):
        fetch(manual, tmp_path, [MIRROR])
    with pytest.raises(ConfigError, match=r"manual_files\.conll2003_de_train"):
        fetch_resource(manual, {"manual_files": {}})
    local = tmp_path / "deu.train"
    local.write_text("x")
    assert fetch_resource(manual, {"manual_files": {"conll2003_de_train": str(local)}}) == local


def test_mirror_dirs_env_first_then_config(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XLT_MIRROR", os.pathsep.join(["rel_mirror", str(tmp_path / "abs"), ""]))
    dirs = mirror_dirs({"mirror_dirs": ["from_config", str(tmp_path / "abs")]})
    assert dirs == [tmp_path / "rel_mirror", tmp_path / "abs", tmp_path / "from_config"]
    monkeypatch.delenv("XLT_MIRROR")
    assert mirror_dirs({}) == []
    assert mirror_dirs({"mirror_dirs": None}) == []


def test_download_dir_prefers_the_shared_cache(tmp_path, monkeypatch):
    monkeypatch.delenv("XLT_DOWNLOAD_CACHE", raising=False)
    assert download_dir({}) == Path("resources/downloads")
    assert download_dir({"download_dir": "elsewhere"}) == Path("elsewhere")
    monkeypatch.setenv("XLT_DOWNLOAD_CACHE", str(tmp_path / "cache"))
    assert download_dir({"download_dir": "elsewhere"}) == tmp_path / "cache"


def test_fetch_resource_uses_env_mirror_and_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XLT_MIRROR", str(MIRROR))
    monkeypatch.setenv("XLT_DOWNLOAD_CACHE", str(tmp_path / "cache"))
    path = fetch_resource(_resource(), {"mirror_dirs": [], "download_dir": "unused"})
    assert path == tmp_path / "cache" / FILE


def test_shared_download_cache_is_filled_and_reused(tmp_path, monkeypatch):
    from xlt.fetch import fetch_to_workflow

    mirror = tmp_path / "mirror"
    (mirror / "sub").mkdir(parents=True)
    payload = b"shared cache payload\n"
    (mirror / "sub" / "f.txt").write_bytes(payload)
    import hashlib

    from xlt.catalog import Resource

    resource = Resource(id="r", format="conll2003", file="sub/f.txt",
                        url="file:///nonexistent/f.txt", sha256=hashlib.sha256(payload).hexdigest())
    cache = tmp_path / "cache"
    monkeypatch.setenv("XLT_DOWNLOAD_CACHE", str(cache))
    monkeypatch.delenv("XLT_MIRROR", raising=False)
    out = fetch_to_workflow(resource, tmp_path / "wf1", {"mirror_dirs": [str(mirror)]})
    assert out.read_bytes() == payload and (cache / "sub" / "f.txt").read_bytes() == payload
    # A second checkout with no mirror at all is served by the shared cache.
    out2 = fetch_to_workflow(resource, tmp_path / "wf2", {"mirror_dirs": []})
    assert out2.read_bytes() == payload


# --------------------------------------------------------------------------- digest recorded on first download

def _unpublished(url: str = UNREACHABLE_URL) -> Resource:
    """A vendor file published without a checksum (fastText's wiki.<lang>.vec)."""
    return Resource(id="vendor_vectors", format="word_vectors", file=FILE, url=url,
                    verify="first_download", note="no checksum published")


def test_first_download_records_the_digest_and_later_fetches_check_it(tmp_path, caplog):
    downloads = tmp_path / "downloads"
    dest = fetch(_unpublished(), downloads, [MIRROR])
    ledger = ledger_path(dest)
    assert ledger.read_text() == f"{_sha(MIRROR / FILE)}  {dest.name}\n"
    assert "recorded the digest" in caplog.text
    # A cache hit is checked against the recorded digest ...
    assert fetch(_unpublished(), downloads, []) == dest
    # ... and a file that changed (upstream, or on disk) is refetched, then rejected.
    dest.write_text("different bytes")
    other = tmp_path / "other_mirror"
    (other / "corpus").mkdir(parents=True)
    (other / FILE).write_text("different bytes")
    with pytest.raises(FetchError, match=r"expected [0-9a-f]{64} \(recorded on first download"):
        fetch(_unpublished(), downloads, [other])


def test_a_pinned_digest_overrides_the_first_download(tmp_path):
    wrong = "0" * 64
    with pytest.raises(FetchError, match=r"config recorded_digests\.vendor_vectors"):
        fetch(_unpublished(), tmp_path / "downloads", [MIRROR], recorded={"vendor_vectors": wrong})
    assert not (tmp_path / "downloads" / FILE).exists()
    assert not ledger_path(tmp_path / "downloads" / FILE).exists()
    right = _sha(MIRROR / FILE)
    dest = fetch(_unpublished(), tmp_path / "downloads", [MIRROR], recorded={"vendor_vectors": right})
    assert dest.is_file() and not ledger_path(dest).exists()
    with pytest.raises(ConfigError, match="not a 64-hex"):
        fetch(_unpublished(), tmp_path / "downloads", [MIRROR], recorded={"vendor_vectors": "abc"})


def test_a_corrupt_ledger_names_its_file(tmp_path):
    downloads = tmp_path / "downloads"
    dest = fetch(_unpublished(), downloads, [MIRROR])
    ledger_path(dest).write_text("garbage\n")
    with pytest.raises(FetchError, match=r"\.sha256.*not a sha256sum line"):
        fetch(_unpublished(), downloads, [MIRROR])


def test_first_download_through_the_shared_cache_binds_the_checkout_copy(tmp_path, monkeypatch):
    shared = tmp_path / "shared"
    monkeypatch.setenv("XLT_DOWNLOAD_CACHE", str(shared))
    monkeypatch.delenv("XLT_MIRROR", raising=False)
    config = {"mirror_dirs": [str(MIRROR)]}
    dest = fetch_to_workflow(_unpublished(), tmp_path / "work", config)
    assert dest.read_bytes() == (MIRROR / FILE).read_bytes()
    assert ledger_path(shared / FILE).is_file()
    # Corrupt the shared cache's copy and its mirror: the checkout's copy is still checked
    # against the digest first recorded.
    (shared / FILE).write_text("changed upstream")
    bad = tmp_path / "bad_mirror"
    (bad / "corpus").mkdir(parents=True)
    (bad / FILE).write_text("changed upstream")
    with pytest.raises(FetchError, match="sha256 mismatch"):
        fetch_to_workflow(_unpublished(), tmp_path / "work2", {"mirror_dirs": [str(bad)]})
