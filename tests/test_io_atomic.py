"""xlt.errors formatting and xlt.atomic's all-or-nothing writes."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest

from xlt.atomic import atomic_path, atomic_write_json, atomic_write_text
from xlt.errors import ConfigError, FetchError, InputError


def test_input_error_formats_path_and_line() -> None:
    assert str(InputError("data/eng.train", 12, "bad tag")) == "data/eng.train:12: bad tag"
    assert str(InputError(Path("x.zip"), None, "empty")) == "x.zip: empty"
    err = pickle.loads(pickle.dumps(FetchError("f", 3, "m")))
    assert (type(err), err.path, err.line, err.message) == (FetchError, "f", 3, "m")
    assert isinstance(err, InputError) and not isinstance(ConfigError("c"), InputError)


def test_atomic_path_moves_into_place_on_success(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "out.csv"
    with atomic_path(target) as tmp:
        assert tmp.parent == target.parent and tmp.suffix == ".csv" and not tmp.exists()
        tmp.write_text("a,b\n")
    assert target.read_text() == "a,b\n"
    assert list(target.parent.iterdir()) == [target]


def test_atomic_path_leaves_nothing_on_exception(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("crash")
    assert target.read_text() == "old"
    assert list(tmp_path.iterdir()) == [target]


def test_atomic_path_removes_a_partial_directory(tmp_path: Path) -> None:
    target = tmp_path / "model"
    with pytest.raises(KeyboardInterrupt), atomic_path(target) as tmp:
        tmp.mkdir()
        (tmp / "weights.bin").write_bytes(b"\0")
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_atomic_write_helpers(tmp_path: Path) -> None:
    atomic_write_text(tmp_path / "a.txt", "héllo")
    atomic_write_json(tmp_path / "b.json", {"z": 1, "a": [1, 2]})
    assert (tmp_path / "a.txt").read_text(encoding="utf-8") == "héllo"
    text = (tmp_path / "b.json").read_text()
    assert text.index('"a"') < text.index('"z"') and text.endswith("\n")
    assert json.loads(text) == {"z": 1, "a": [1, 2]}
