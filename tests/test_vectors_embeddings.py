"""The .vec format, MUSE normalisation and word-vector training (xlt.vectors.embeddings)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from xlt.errors import InputError
from xlt.vectors.embeddings import Embeddings, normalize_embeddings, read_vec, train_vectors, write_vec


def test_vec_round_trip_and_max_vocab(tmp_path: Path) -> None:
    emb = Embeddings(["the", "The", "cat", "Ünïcode"], np.arange(12, dtype=np.float32).reshape(4, 3) / 7)
    path = tmp_path / "v.vec"
    write_vec(path, emb)
    back = read_vec(path)
    assert back.words == emb.words
    np.testing.assert_allclose(back.vectors, emb.vectors, atol=1e-5)
    assert read_vec(path, max_vocab=2).words == ["the", "The"]
    # MUSE's training vocabulary: lowercased, first occurrence kept, max_vocab counts distinct forms
    lower = read_vec(path, max_vocab=2, lowercase=True)
    assert lower.words == ["the", "cat"]
    np.testing.assert_allclose(lower.vectors[1], emb.vectors[2], atol=1e-5)


def test_zero_vector_is_nudged_as_in_muse(tmp_path: Path) -> None:
    path = tmp_path / "z.vec"
    path.write_text("1 2\nzero 0 0 \n", encoding="utf-8")
    assert read_vec(path).vectors.tolist() == [[pytest.approx(0.01), 0.0]]


@pytest.mark.parametrize(("text", "line", "message"), [
    ("2 3\na 1 2 3\nb 1 2 3\n", 1, "header gives dimension 3, expected 4"),
    ("2 4\na 1 2 3 4\nb 1 2 3\n", 3, "3 values for word 'b', the header says 4"),
    ("2 4\na 1 2 3 4\nb 1 2 x 4\n", 3, "not a number"),
    ("two four\na 1 2 3 4\n", 1, "not a .vec header"),
])
def test_bad_vec_fails_naming_file_and_line(tmp_path: Path, text: str, line: int, message: str) -> None:
    path = tmp_path / "bad.vec"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_vec(path, dim=4)
    assert err.value.path == str(path) and err.value.line == line and message in err.value.message


def test_truncated_vec_fails(tmp_path: Path) -> None:
    path = tmp_path / "short.vec"
    path.write_text("3 2\na 1 2\nb 3 4\n", encoding="utf-8")
    with pytest.raises(InputError, match="short.vec: the header announces 3 rows, the file holds 2"):
        read_vec(path)


def test_normalize_embeddings_center_renorm() -> None:
    x = torch.tensor([[1.0, 2.0], [3.0, 6.0]])
    out, mean = normalize_embeddings(x, "center,renorm")
    assert torch.allclose(mean, torch.tensor([[2.0, 4.0]]))
    assert torch.allclose(out.norm(dim=1), torch.ones(2))
    assert torch.equal(x, torch.tensor([[1.0, 2.0], [3.0, 6.0]]))  # input untouched
    again, _ = normalize_embeddings(torch.tensor([[2.0, 5.0]]), "center", mean)
    assert torch.allclose(again, torch.tensor([[0.0, 1.0]]))
    with pytest.raises(ValueError, match="unknown normalisation"):
        normalize_embeddings(x, "whiten")


def test_train_vectors_is_deterministic_with_one_thread(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(60)]
    text = tmp_path / "text.txt"
    text.write_text("\n".join(" ".join(rng.choice(words, size=12)) for _ in range(300)) + "\n", encoding="utf-8")
    params = {"dim": 8, "epochs": 2, "min_count": 2, "bucket": 500, "minn": 2, "maxn": 3}
    first = train_vectors(text, tmp_path / "a.vec", params, seed=3, threads=1)
    train_vectors(text, tmp_path / "b.vec", params, seed=3, threads=1)
    train_vectors(text, tmp_path / "c.vec", params, seed=4, threads=1)
    assert first["vocabulary"] == 60 and first["deterministic"]
    a, b, c = (read_vec(tmp_path / f"{name}.vec") for name in "abc")
    assert a.words == b.words and np.array_equal(a.vectors, b.vectors)
    assert not np.array_equal(a.vectors, c.vectors)


def test_train_vectors_rejects_empty_text(tmp_path: Path) -> None:
    text = tmp_path / "empty.txt"
    text.write_text("\n", encoding="utf-8")
    with pytest.raises(InputError, match="empty.txt: no text"):
        train_vectors(text, tmp_path / "v.vec", {"dim": 4}, seed=0)
    assert not (tmp_path / "v.vec").exists()
