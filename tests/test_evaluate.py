"""Entity scores equal conlleval's on hand-computed examples; POS accuracy; alignment checks."""
import pytest

from xlt.evaluate import ner_scores, pos_scores, score


def test_conlleval_example_computed_by_hand():
    # Gold entities: PER(0-1), LOC(3), ORG(5), MISC(7)      -> 4
    # Predicted:     PER(0-1), LOC(3), PER(5),  MISC(7-8)   -> 4
    # Correct (same span and type): PER(0-1), LOC(3)        -> 2
    gold = [["B-PER", "I-PER", "O", "B-LOC", "O", "B-ORG", "O", "B-MISC", "O"]]
    pred = [["B-PER", "I-PER", "O", "B-LOC", "O", "B-PER", "O", "B-MISC", "I-MISC"]]
    s = ner_scores(gold, pred)
    assert s["precision"] == pytest.approx(50.0)
    assert s["recall"] == pytest.approx(50.0)
    assert s["f1"] == pytest.approx(50.0)


def test_conlleval_reads_a_stray_i_tag_as_an_entity_start():
    # conlleval: an I-X after O (or after another type) opens an entity. Gold has
    # LOC(1-2); the prediction "O I-LOC I-LOC" is the same entity; "I-PER I-LOC" are two.
    gold = [["O", "B-LOC", "I-LOC"], ["B-PER", "B-LOC"]]
    pred = [["O", "I-LOC", "I-LOC"], ["I-PER", "I-LOC"]]
    s = ner_scores(gold, pred)
    assert s["f1"] == pytest.approx(100.0)


def test_precision_and_recall_differ_when_counts_differ():
    # 3 gold entities, 2 predicted, 1 correct: P = 1/2, R = 1/3, F1 = 2PR/(P+R) = 0.4.
    gold = [["B-PER", "O", "B-LOC", "O", "B-ORG"]]
    pred = [["B-PER", "O", "O", "O", "B-LOC"]]
    s = ner_scores(gold, pred)
    assert s["precision"] == pytest.approx(50.0)
    assert s["recall"] == pytest.approx(100 / 3)
    assert s["f1"] == pytest.approx(40.0)


def test_pos_accuracy_counts_tokens():
    assert pos_scores([["NOUN", "VERB"], ["DET"]], [["NOUN", "NOUN"], ["DET"]])["accuracy"] == pytest.approx(200 / 3)


def test_dropped_words_are_refused():
    with pytest.raises(ValueError, match="sentence 0"):
        score("ner", [["O", "B-PER"]], [["O"]])
    with pytest.raises(ValueError, match="gold sentences"):
        score("pos", [["X"]], [])
