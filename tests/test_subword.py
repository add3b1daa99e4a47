import pytest
import torch

from xlt.models.subword import (
    IGNORE_INDEX,
    collate_windows,
    make_windows,
    plan_windows,
    reassemble,
    special_tokens,
    word_pieces,
)
from xlt.testing import make_tiny_encoder

WORDS = ["the", "cat", "sat", "on", "mat", "Paris", "went", "to"]


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory):
    from transformers import AutoTokenizer

    path = make_tiny_encoder(tmp_path_factory.mktemp("tiny"), WORDS + ["xyzzy", "éa"])
    return AutoTokenizer.from_pretrained(path)


def _long_sentence(n_words: int) -> list[str]:
    # In-vocabulary words (1 piece) mixed with out-of-vocabulary ones (several pieces).
    pool = ["the", "cat", "catsat", "Paris", "onmat", "to", "xyzzyxyzzy"]
    return [pool[(i * 5) % len(pool)] for i in range(n_words)]


def test_plan_windows_scores_every_word_once_within_budget() -> None:
    counts = [1, 3, 2, 5, 1, 1, 4, 2, 2, 1]
    windows = plan_windows(counts, budget=8, context=3)
    scored = [w for _, first, end in windows for w in range(first, end)]
    assert scored == list(range(len(counts)))
    offsets = [sum(counts[:i]) for i in range(len(counts) + 1)]
    for first_subword, first, end in windows:
        assert offsets[end] - first_subword <= 8
        assert first_subword <= offsets[first]
    # The first window has no context; later ones see up to 3 preceding subwords.
    assert windows[0] == (0, 0, 3)
    assert windows[1][0] == offsets[3] - 3
    # A word that fills the whole budget gets its window alone, without context.
    assert plan_windows([2, 8, 1], budget=8, context=3) == [(0, 0, 1), (2, 1, 2), (7, 2, 3)]


def test_special_tokens_and_word_pieces(tokenizer) -> None:
    prefix, suffix = special_tokens(tokenizer)
    assert prefix == [tokenizer.cls_token_id] and suffix == [tokenizer.sep_token_id]
    pieces = word_pieces(tokenizer, [["the", "catsat", "\u200b"], []])
    assert pieces[0][0] == [tokenizer.convert_tokens_to_ids("the")]
    # Out of vocabulary: the longest known prefix, then character pieces.
    assert pieces[0][1] == tokenizer.convert_tokens_to_ids(["cat", "##s", "##a", "##t"])
    assert pieces[0][2] == [tokenizer.unk_token_id]  # vanished word still gets a subword
    assert pieces[1] == []


def test_long_sentence_windows_reassemble_to_one_prediction_per_word(tokenizer) -> None:
    sentences = [_long_sentence(300), ["the", "cat"], [], _long_sentence(45)]
    labels = [[i % 5 for i in range(len(s))] for s in sentences]
    windows = make_windows(tokenizer, sentences, max_subwords=32, context_subwords=8, labels=labels)
    assert sum(1 for w in windows if w.sentence_index == 0) > 10
    pieces = word_pieces(tokenizer, sentences)
    for window in windows:
        assert len(window.input_ids) <= 32
        assert window.input_ids[0] == tokenizer.cls_token_id
        assert window.input_ids[-1] == tokenizer.sep_token_id
        for position, word, label in zip(window.label_positions, window.word_indices, window.labels):
            # Each label sits on the first subword of its word.
            word_ids = pieces[window.sentence_index][word]
            length = len(word_ids)
            assert list(window.input_ids[position : position + length]) == word_ids
            assert label == labels[window.sentence_index][word]
        assert window.subword_labels().count(IGNORE_INDEX) == len(window.input_ids) - len(window.labels)
    # Context: a non-first window starts with subwords of words it does not score.
    second = [w for w in windows if w.sentence_index == 0][1]
    assert second.label_positions[0] > 1

    # Reassembly with each word's own index as its "prediction": exactly one per word, in order.
    values = [torch.tensor(w.word_indices) for w in windows]
    per_sentence = reassemble(windows, values, [len(s) for s in sentences])
    assert [t.tolist() for t in per_sentence] == [list(range(len(s))) for s in sentences]


def test_word_longer_than_window_is_truncated_but_scored(tokenizer) -> None:
    sentences = [["the", "xyzzy" * 20, "cat"]]
    windows = make_windows(tokenizer, sentences, max_subwords=16, context_subwords=4, labels=[[1, 2, 3]])
    assert [w.word_indices for w in windows] == [(0,), (1,), (2,)]
    assert all(len(w.input_ids) <= 16 for w in windows)
    long_word = windows[1]
    assert long_word.label_positions == (1,) and long_word.labels == (2,)
    assert len(long_word.input_ids) == 16  # its first 14 pieces, no room for context
    with pytest.raises(ValueError, match="context_subwords"):
        make_windows(tokenizer, sentences, max_subwords=16, context_subwords=14)


def test_reassemble_detects_missing_words(tokenizer) -> None:
    windows = make_windows(tokenizer, [["the", "cat"]], max_subwords=16, context_subwords=4)
    with pytest.raises(ValueError, match="exactly once"):
        reassemble(windows, [torch.zeros(2)], [3])


def test_collate_windows(tokenizer) -> None:
    sentences = [["the", "catsat", "on"], ["Paris"]]
    windows = make_windows(tokenizer, sentences, max_subwords=32, context_subwords=4,
                           labels=[[1, 2, 3], [4]])
    batch = collate_windows(windows, tokenizer.pad_token_id)
    assert batch.input_ids.shape[0] == 2
    assert batch.attention_mask.sum(1).tolist() == [len(w.input_ids) for w in windows]
    assert batch.word_mask.tolist() == [[True, True, True], [True, False, False]]
    assert batch.labels.tolist() == [[1, 2, 3], [4, IGNORE_INDEX, IGNORE_INDEX]]
    assert batch.word_indices.tolist() == [[0, 1, 2], [0, -1, -1]]
    assert batch.sentence_indices.tolist() == [0, 1]
    subword_labels = batch.subword_labels()
    assert subword_labels[0].tolist() == windows[0].subword_labels() + [IGNORE_INDEX] * (
        batch.input_ids.shape[1] - len(windows[0].input_ids))
    assert subword_labels[1, 1].item() == 4 and subword_labels[1, 0].item() == IGNORE_INDEX


def test_bare_sentencepiece_marker_is_dropped_from_words_with_other_pieces() -> None:
    # A SentencePiece (Unigram + Metaspace) tokenizer like XLM-R's: "中" cannot merge with the
    # word marker, so the pre-split character comes out as ["▁", "中"].
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = [("<unk>", 0.0), ("\u2581", -1.0), ("中", -2.0), ("\u2581the", -1.0), ("s", -3.0)]
    raw = Tokenizer(models.Unigram(vocab, unk_id=0))
    raw.pre_tokenizer = pre_tokenizers.Metaspace()
    tok = PreTrainedTokenizerFast(tokenizer_object=raw, unk_token="<unk>")
    assert tok(["中"], is_split_into_words=True)["input_ids"] == tok.convert_tokens_to_ids(["\u2581", "中"])
    pieces = word_pieces(tok, [["中", "the", "中"]])[0]
    assert [tok.convert_ids_to_tokens(p) for p in pieces] == [["中"], ["\u2581the"], ["中"]]


def test_a_slow_tokenizer_encodes_each_word_alone_and_windows_carry_languages(tmp_path) -> None:
    """XLM's tokenizer is slow (no word_ids()): each word's pieces are what it makes of the word
    alone, the label sits on the first, and every window carries its sentence's language id."""
    from transformers import AutoTokenizer

    from xlt.testing import make_tiny_xlm_encoder

    tokenizer = AutoTokenizer.from_pretrained(make_tiny_xlm_encoder(tmp_path, WORDS, ["de", "en", "es"]))
    assert not tokenizer.is_fast
    sentences = [["the", "Cat", "sat"], ["Paris"], []]
    pieces = word_pieces(tokenizer, sentences)
    alone = tokenizer.encode("Cat", add_special_tokens=False)
    assert pieces[0][1] == alone == tokenizer.encode("cat", add_special_tokens=False)  # lower-cased
    assert [len(p) for p in pieces[0]] == [3, 3, 3] and pieces[2] == []
    prefix, suffix = special_tokens(tokenizer)
    windows = make_windows(tokenizer, sentences, max_subwords=32, context_subwords=2, labels=[[0, 1, 0], [2], []],
                           languages=[1, 0, 2])
    assert [w.language for w in windows] == [1, 0]  # the empty sentence has no window
    assert windows[0].input_ids == (*prefix, *[p for word in pieces[0] for p in word], *suffix)
    assert windows[0].label_positions == (len(prefix), len(prefix) + 3, len(prefix) + 6)
    assert collate_windows(windows, tokenizer.pad_token_id).languages.tolist() == [1, 0]
    assert collate_windows(make_windows(tokenizer, sentences[:1]), 0).languages is None
    with pytest.raises(ValueError, match="2 languages for 3 sentences"):
        make_windows(tokenizer, sentences, languages=[1, 0])
