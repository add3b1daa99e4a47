"""Tag scheme conversions, validation, spans, type maps and allowed transitions."""

from __future__ import annotations

import numpy as np
import pytest

from xlt.tagging import (
    TagError,
    bie1_to_iob2,
    bio_allowed_transitions,
    entity_spans,
    from_iobes,
    iob1_to_iob2,
    iob2_to_iobes,
    iobes_to_iob2,
    map_types,
    scheme_to_iob2,
    to_iobes,
    validate_iob2,
)


def tags(text: str) -> list[str]:
    return text.split()


@pytest.mark.parametrize(
    ("iob1", "iob2"),
    [
        ("I-PER I-PER O I-LOC B-LOC", "B-PER I-PER O B-LOC B-LOC"),
        ("I-PER I-ORG", "B-PER B-ORG"),
        ("O I-MISC I-MISC B-MISC I-MISC", "O B-MISC I-MISC B-MISC I-MISC"),
        ("B-PER I-PER", "B-PER I-PER"),
        ("", ""),
    ],
)
def test_iob1_to_iob2(iob1: str, iob2: str) -> None:
    assert iob1_to_iob2(tags(iob1)) == tags(iob2)


def test_iobes_round_trip() -> None:
    iob2 = tags("B-PER I-PER I-PER O B-LOC B-LOC I-LOC O B-ORG")
    iobes = tags("B-PER I-PER E-PER O S-LOC B-LOC E-LOC O S-ORG")
    assert iob2_to_iobes(iob2) == iobes and to_iobes is iob2_to_iobes
    assert iobes_to_iob2(iobes) == iob2 and from_iobes is iobes_to_iob2


def test_bie1_to_iob2() -> None:
    assert bie1_to_iob2(tags("B-ORG I-ORG E-ORG O 1-LOC 1-LOC B-PER E-PER")) == tags(
        "B-ORG I-ORG I-ORG O B-LOC B-LOC B-PER I-PER"
    )


def test_scheme_check_rejects_foreign_prefixes() -> None:
    with pytest.raises(TagError) as info:
        scheme_to_iob2(tags("B-PER S-PER"), "IOB2")
    assert info.value.index == 1
    assert scheme_to_iob2(tags("S-PER B-LOC E-LOC"), "BIOES") == tags("B-PER B-LOC I-LOC")
    with pytest.raises(ValueError, match="unknown entity tag scheme"):
        scheme_to_iob2(["O"], "BILOU")


@pytest.mark.parametrize(
    ("sequence", "index", "match"),
    [
        ("O I-PER", 1, "does not continue"),
        ("B-PER I-LOC", 1, "does not continue"),
        ("B-PER O I-PER", 2, "does not continue"),
        ("O B-FOO", 1, "entity type 'FOO'"),
        ("PER", 0, "is not O, B-TYPE or I-TYPE"),
        ("B-", 0, "is not O, B-TYPE or I-TYPE"),
    ],
)
def test_validate_iob2_reports_the_token_index(sequence: str, index: int, match: str) -> None:
    with pytest.raises(TagError, match=match) as info:
        validate_iob2(tags(sequence), ["PER", "LOC"])
    assert info.value.index == index


def test_validate_iob2_accepts_good_sequences() -> None:
    validate_iob2(tags("B-PER I-PER B-PER O B-GPE_LOC"))  # any type without labels
    validate_iob2(tags("B-PER I-PER B-LOC"), {"PER", "LOC"})


def test_entity_spans() -> None:
    assert entity_spans(tags("B-PER I-PER O B-LOC B-LOC I-LOC")) == [("PER", 0, 2), ("LOC", 3, 4), ("LOC", 4, 6)]
    assert entity_spans(tags("O I-ORG I-ORG I-PER")) == [("ORG", 1, 3), ("PER", 3, 4)]  # conlleval-style
    assert entity_spans([]) == []


def test_map_types_renames_and_drops() -> None:
    norne = {"GPE_LOC": "LOC", "GPE_ORG": "ORG", "PROD": "MISC", "EVT": "MISC", "DRV": "MISC"}
    assert map_types(tags("B-GPE_LOC I-GPE_LOC B-LOC B-PROD O B-PER"), norne) == tags(
        "B-LOC I-LOC B-LOC B-MISC O B-PER"
    )
    assert map_types(tags("B-MISC I-MISC B-PER"), {"MISC": None}) == tags("O O B-PER")


def test_bio_allowed_transitions() -> None:
    labels = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
    allowed, start = bio_allowed_transitions(labels)
    assert allowed.dtype == bool and allowed.shape == (5, 5)
    assert start.tolist() == [True, True, False, True, False]
    into_i_per = allowed[:, labels.index("I-PER")].tolist()
    assert into_i_per == [False, True, True, False, False]
    # every non-I target is reachable from everywhere
    assert allowed[:, [0, 1, 3]].all()
    assert np.array_equal(allowed[:, 4], [False, False, False, True, True])
    with pytest.raises(ValueError, match="not an IOB2 tag"):
        bio_allowed_transitions(["O", "S-PER"])
