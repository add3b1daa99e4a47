import pytest
import torch

from xlt.batching import bucket_batches, make_bilstm_batch, pad
from xlt.vocab import PAD, PAD_ID, UNK, UNK_ID, Vocab


def test_bucket_batches_cover_every_item_once_and_are_deterministic() -> None:
    lengths = [(i * 7919) % 53 + 1 for i in range(1000)]
    batches = bucket_batches(lengths, batch_size=16, shuffle=True, seed=3, chunk_batches=5)
    assert sorted(i for b in batches for i in b) == list(range(1000))
    assert all(len(b) <= 16 for b in batches)
    assert batches == bucket_batches(lengths, batch_size=16, shuffle=True, seed=3, chunk_batches=5)
    assert batches != bucket_batches(lengths, batch_size=16, shuffle=True, seed=4, chunk_batches=5)
    # Bucketing pays off: far less padding than batches of randomly ordered items.
    def padding(bs: list[list[int]]) -> int:
        return sum(max(lengths[i] for i in b) * len(b) - sum(lengths[i] for i in b) for b in bs)
    random_batches = [list(range(i, min(i + 16, 1000))) for i in range(0, 1000, 16)]
    assert padding(batches) < padding(random_batches) / 3


def test_bucket_batches_without_shuffle_sort_by_length() -> None:
    lengths = [5, 1, 3, 3, 2]
    assert bucket_batches(lengths, 2, shuffle=False, chunk_batches=None) == [[1, 4], [2, 3], [0]]
    # Chunks of one batch: items keep their order between chunks.
    assert bucket_batches(lengths, 2, shuffle=False, chunk_batches=1) == [[1, 0], [2, 3], [4]]
    assert bucket_batches([], 4, shuffle=True) == []
    with pytest.raises(ValueError):
        bucket_batches(lengths, 0, shuffle=False)


def test_pad() -> None:
    assert pad([[1, 2, 3], [4]], value=-1).tolist() == [[1, 2, 3], [4, -1, -1]]
    assert pad([]).shape == (0, 0)


def test_make_bilstm_batch_shapes_and_masks() -> None:
    batch = make_bilstm_batch(
        word_ids=[[2, 3, 4], [5]],
        char_ids=[[[2, 3], [4], [5, 6, 7, 8]], [[9]]],
        tag_ids=[[1, 0, 2], [1]],
        max_word_chars=3,
    )
    assert batch.word_ids.tolist() == [[2, 3, 4], [5, PAD_ID, PAD_ID]]
    assert batch.mask.tolist() == [[True, True, True], [True, False, False]]
    assert batch.lengths.tolist() == [3, 1]
    assert batch.char_ids.shape == (2, 3, 3)
    assert batch.char_ids[0, 2].tolist() == [5, 6, 7]  # clipped to max_word_chars
    assert batch.char_ids[1, 1].tolist() == [0, 0, 0]
    assert batch.tag_ids.tolist() == [[1, 0, 2], [1, 0, 0]]
    assert batch.to("cpu").word_ids is not None
    with pytest.raises(ValueError, match="empty sentence"):
        make_bilstm_batch([[1], []])


def test_vocab_build_options_and_roundtrip(tmp_path) -> None:
    sentences = [["The", "cat", "sat", "in", "1999"], ["the", "Cat", "ran", "in", "2001"]]
    vocab = Vocab.build(sentences, min_count=2, lowercase=True, normalize_digits=True)
    assert vocab.symbols == [PAD, UNK, "0000", "cat", "in", "the"]
    assert vocab.encode(["THE", "dog", "1234"]) == [5, UNK_ID, 2]
    assert "Cat" in vocab and "dog" not in vocab
    vocab.save(tmp_path / "vocab.json")
    loaded = Vocab.load(tmp_path / "vocab.json")
    assert loaded == vocab and loaded.encode(["THE"]) == [5]

    chars = Vocab.build_chars(sentences)
    assert chars.id("C") != chars.id("c")  # characters keep case
    assert chars.encode("Cat") == [chars.id("C"), chars.id("a"), chars.id("t")]
    assert chars.id("é") == UNK_ID

    assert len(Vocab.build(sentences, max_size=4)) == 4


def test_label_vocab_rejects_unknown_labels() -> None:
    labels = Vocab.for_labels(["O", "B-PER", "I-PER"])
    assert labels.encode(["B-PER", "O"]) == [1, 0]
    assert labels.decode([2]) == ["I-PER"]
    with pytest.raises(KeyError, match="B-LOC"):
        labels.id("B-LOC")
    with pytest.raises(ValueError):
        Vocab(["a", "b"])  # a word vocabulary must start with the specials
    assert torch.tensor(labels.encode(["O"])).tolist() == [0]
