"""Each reader on a tiny hand-written fixture that mirrors the real file's format."""

from __future__ import annotations

import gzip
import zipfile
from pathlib import Path

import pytest

from xlt.errors import ConfigError, InputError
from xlt.io.registry import READERS, read_corpus, reader_options
from xlt.io.sentence import Sentence

FIXTURES = Path(__file__).parent / "fixtures" / "io"


def zipped(tmp_path: Path, member: str, source: Path) -> Path:
    """A zip holding ``source`` as ``member`` (zips are built here, not stored as fixtures)."""
    archive = tmp_path / "corpus.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.write(source, member)
    return archive


def test_registry_has_every_contract_format() -> None:
    assert set(READERS) == {
        "conll2002", "conll2003", "conllu", "wikiann", "msra",
        "basqueglue_jsonl", "szeged", "europeana_bio", "ntunlp", "ptb_treebank",
    }  # fmt: skip


def test_conll2003_english_documents_and_pos() -> None:
    sentences = read_corpus("conll2003", FIXTURES / "conll2003_en.txt")
    assert [s.tokens for s in sentences] == [
        ("EU", "rejects", "German", "call", "."),
        ("Peter", "Blackburn"),
        ("BRUSSELS", "1996-08-22"),
        ('"', "Germany", "Paris", "."),
    ]
    assert sentences[0].tags == ("I-ORG", "O", "I-MISC", "O", "O")
    assert sentences[0].pos == ("NNP", "VBZ", "JJ", "NN", ".")
    assert [s.doc_id for s in sentences] == ["conll2003_en.txt:doc1"] * 2 + ["conll2003_en.txt:doc2"] * 2
    assert sentences[1].sentence_id == "conll2003_en.txt:2"
    assert sentences[1].token_lines == (9, 10)


def test_conll2003_german_latin1_five_columns() -> None:
    sentences = read_corpus("conll2003", FIXTURES / "conll2003_de.latin1", encoding="latin-1")
    assert sentences[0].tokens == ("Die", "Stadt", "Köln", ".")
    assert sentences[0].pos == ("ART", "NN", "NE", "$.")
    assert sentences[0].tags == ("O", "O", "I-LOC", "O")
    assert sentences[1].tags == ("I-ORG", "I-ORG")


def test_conll2002_zip_member_with_inline_docstart(tmp_path: Path) -> None:
    archive = zipped(tmp_path, "conll2002/ned.mini", FIXTURES / "conll2002_ned.txt")
    sentences = read_corpus("conll2002", archive, member="conll2002/ned.mini")
    assert len(sentences) == 3
    assert sentences[0].tokens[0] == "De"  # the -DOCSTART- line is not a token
    assert sentences[0].token_lines[0] == 2
    assert [s.doc_id for s in sentences] == ["ned.mini:doc1", "ned.mini:doc1", "ned.mini:doc2"]
    assert sentences[1].tags == ("B-PER", "O", "O", "O")
    assert sentences[1].pos == ("N", "V", "Adj", "Punc")


def test_conllu_upos_skips_ranges_and_empty_nodes() -> None:
    sentences = read_corpus("conllu", FIXTURES / "ud.conllu")
    first = sentences[0]
    assert first.tokens == ("Google", "'s", "parent", "left", ".")
    assert first.tags == ("PROPN", "PART", "NOUN", "VERB", "PUNCT")
    assert first.pos is None
    assert (first.doc_id, first.sentence_id) == ("doc-a", "s1")
    assert sentences[1].sentence_id == "s-p2"  # the old "# sent_id x" form
    assert sentences[1].doc_id == "doc-a"
    assert sentences[2].doc_id == "ud.conllu:doc2"  # "# newdoc" without id
    assert sentences[2].sentence_id == "ud.conllu:3"
    assert sentences[2].tags == ("CONJ",)
    assert first.token_lines == (5, 6, 7, 9, 10)


def test_conllu_ner_misc_reads_norne_names() -> None:
    sentences = read_corpus("conllu", FIXTURES / "norne.conllu", options={"column": "ner_misc"})
    assert sentences[0].sentence_id == "018107"
    assert sentences[0].tags == ("B-GPE_ORG", "I-GPE_ORG", "O", "B-PER", "I-PER", "O")
    assert sentences[0].pos == ("PROPN", "NOUN", "CCONJ", "PROPN", "PROPN", "PUNCT")
    assert sentences[1].tags == ("B-GPE_LOC", "B-LOC", "B-PROD")


def test_wikiann_strips_exactly_the_language_prefix() -> None:
    sentences = read_corpus("wikiann", FIXTURES / "wikiann_en.txt")
    assert sentences[0].tokens == ("Sioux", "Falls", "Arena", "(", "Sioux", "Falls", ")")
    assert sentences[1].tokens == ("George", ":", "en:x")
    assert sentences[0].tags[:3] == ("B-ORG", "I-ORG", "I-ORG")


def test_msra_character_tokens() -> None:
    sentences = read_corpus("msra", FIXTURES / "msra.txt")
    assert ["".join(s.tokens) for s in sentences] == ["中共中央致", "我们在北京。"]
    assert sentences[1].tags == ("O", "O", "O", "B-LOC", "I-LOC", "O")


def test_basqueglue_jsonl_skips_empty_records() -> None:
    sentences = read_corpus("basqueglue_jsonl", FIXTURES / "basque.jsonl")
    assert [s.sentence_id for s in sentences] == ["basque.jsonl:0", "basque.jsonl:2"]
    assert sentences[1].tags == ("B-PER", "I-PER", "O")
    assert sentences[1].token_lines == (4, 4, 4)


def test_basqueglue_jsonl_integer_ids_with_label_names() -> None:
    sentences = read_corpus(
        "basqueglue_jsonl", FIXTURES / "basque_ids.jsonl", options={"label_names": ["O", "B-PER", "I-PER"]}
    )
    assert sentences[0].tags == ("O", "O", "B-PER", "I-PER")


def test_ntunlp_ignores_leading_and_repeated_blank_lines() -> None:
    sentences = read_corpus("ntunlp", FIXTURES / "ntunlp_fi.txt")
    assert [len(s.tokens) for s in sentences] == [5, 5]
    assert sentences[1].token_lines[0] == 10


def test_szeged_gzip_and_contiguous_split(tmp_path: Path) -> None:
    path = tmp_path / "szeged.ner.train+test+devel.gz"
    path.write_bytes(gzip.compress((FIXTURES / "szeged.txt").read_bytes()))
    every = read_corpus("szeged", path)
    assert len(every) == 10
    assert every[0].tags == ("O", "O", "B-ORG", "E-ORG", "O")
    assert every[0].pos == ("NOUN", "ART", "NOUN", "NOUN", "VERB")
    assert every[0].sentence_id == "szeged.ner.train+test+devel:1"
    parts = {split: read_corpus("szeged", path, options={"split": split}) for split in ("train", "test", "dev")}
    assert [len(parts[s]) for s in ("train", "test", "dev")] == [8, 1, 1]
    assert parts["train"] + parts["test"] + parts["dev"] == every  # contiguous, in file order


def test_europeana_segmentation_and_reproducible_test_sample() -> None:
    path = FIXTURES / "europeana_fr.bio"
    every = read_corpus("europeana_bio", path)
    assert [s.tokens[-1] for s in every] == [".", ".", "Figaro"]  # only "." ends a sentence
    capped = read_corpus("europeana_bio", path, options={"max_tokens": 4, "end_tokens": [".", "!"]})
    assert [len(s.tokens) for s in capped] == [4, 1, 4, 2, 2, 2]
    options = {"split": "test", "test_fraction": 0.34, "split_seed": 3}
    test = read_corpus("europeana_bio", path, options=options)
    train = read_corpus("europeana_bio", path, options={**options, "split": "train"})
    assert len(test) == 1 and len(train) == 2
    assert sorted(train + test, key=lambda s: s.token_lines[0]) == every
    assert read_corpus("europeana_bio", path, options=options) == test


def test_ptb_treebank_preterminals_without_traces(tmp_path: Path) -> None:
    single = read_corpus("ptb_treebank", FIXTURES / "wsj_0001.mrg")
    assert single[0].tokens == ("Pierre", "Vinken", "will", "join", "the", "board", ".")
    assert single[1].tags == ("NNP", "NNP", "VBZ", "VBN", "TO", "VB", ".")
    assert (single[1].doc_id, single[1].sentence_id, single[1].token_lines[0]) == ("wsj_0001", "wsj_0001:2", 9)
    traces = read_corpus("ptb_treebank", FIXTURES / "wsj_0001.mrg", options={"drop_traces": False})
    assert "*-1" in traces[1].tokens


def test_ptb_treebank_directory_member_with_file_range(tmp_path: Path) -> None:
    archive = tmp_path / "treebank.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        for stem in ("wsj_0003", "wsj_0001", "wsj_0002"):
            handle.write(FIXTURES / "wsj_0001.mrg", f"treebank/combined/{stem}.mrg")
        handle.writestr("treebank/combined/README", "not a tree")
        handle.write(FIXTURES / "wsj_0001.mrg", "treebank/parsed/wsj_0001.mrg")
    member = "treebank/combined/"
    every = read_corpus("ptb_treebank", archive, member=member)
    assert [s.doc_id for s in every] == ["wsj_0001"] * 2 + ["wsj_0002"] * 2 + ["wsj_0003"] * 2
    later = read_corpus("ptb_treebank", archive, member=member, options={"first_file": "wsj_0002"})
    assert later == every[2:]
    first = read_corpus("ptb_treebank", archive, member=member, options={"last_file": "wsj_0001"})
    assert first == every[:2]
    with pytest.raises(InputError, match="no .mrg member"):
        read_corpus("ptb_treebank", archive, member=member, options={"first_file": "wsj_0100"})
    with pytest.raises(ConfigError, match="directory member"):
        read_corpus("ptb_treebank", FIXTURES / "wsj_0001.mrg", options={"first_file": "wsj_0001"})


def test_unknown_reader_option_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="splitt"):
        read_corpus("szeged", FIXTURES / "szeged.txt", options={"splitt": "train"})
    assert reader_options("conllu") == ["column"]


def test_sentence_rejects_mismatched_lengths() -> None:
    with pytest.raises(ValueError, match="tags"):
        Sentence(("a", "b"), ("O",), "d", "s")
