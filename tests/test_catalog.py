"""config/datasets.yaml and xlt.catalog: the real catalog's facts, and validation errors."""
from __future__ import annotations

import csv
import os
import re
import textwrap
from pathlib import Path

import pytest

from xlt.catalog import (FORMATS, READER_FORMATS, TAG_SCHEMES, Catalog, load_catalog,
                         resolve_manual)
from xlt.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
CATALOG_PATH = ROOT / "config" / "datasets.yaml"
COMMIT_URL = re.compile(r"^https://\S+/[0-9a-f]{40}/\S+$")


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(CATALOG_PATH)


def _manifest() -> dict[str, dict[str, str]] | None:
    for entry in os.environ.get("XLT_MIRROR", "").split(os.pathsep):
        manifest = Path(entry) / "MANIFEST.tsv" if entry else None
        if manifest is not None and manifest.is_file():
            with open(manifest, newline="", encoding="utf-8") as handle:
                return {row["path"]: row for row in csv.DictReader(handle, delimiter="\t")}
    return None


# --------------------------------------------------------------------------- the real catalog

def test_downloadable_resources_are_pinned(catalog):
    downloadable = [r for r in catalog.resources.values()
                    if not r.manual and not r.digest_recorded_on_first_download]
    assert len(downloadable) > 100
    for resource in downloadable:
        assert COMMIT_URL.match(resource.url), resource.id
        assert re.fullmatch(r"[0-9a-f]{64}", resource.sha256), resource.id
        assert resource.format in FORMATS, resource.id
        assert resource.tag_scheme in TAG_SCHEMES, resource.id
        assert resource.bytes > 0 and resource.license and resource.description, resource.id
        assert not resource.file.startswith("/"), resource.id


def test_resources_match_the_mirror_manifest(catalog):
    manifest = _manifest()
    if manifest is None:
        pytest.skip("XLT_MIRROR does not name a mirror with MANIFEST.tsv")
    for resource in catalog.resources.values():
        if resource.manual or resource.digest_recorded_on_first_download:
            continue
        row = manifest.get(resource.file)
        assert row is not None, f"{resource.id}: {resource.file} is not in the mirror MANIFEST"
        assert row["sha256"] == resource.sha256, resource.id
        assert int(row["bytes"]) == resource.bytes, resource.id
        assert row["canonical_url"] == resource.url, resource.id


def test_every_corpus_data_file_of_the_mirror_is_catalogued(catalog):
    manifest = _manifest()
    if manifest is None:
        pytest.skip("XLT_MIRROR does not name a mirror with MANIFEST.tsv")
    files = {r.file for r in catalog.resources.values()}
    # Documentation (README, .xml metadata) and the hf/ encoder (resolved by model id) aside.
    wanted = {p for p in manifest if not p.startswith("hf/")
              and not re.search(r"(README(\.md)?|\.xml|\.md)$", p)}
    assert wanted - files == set()


def test_manual_resources_say_how_to_get_them(catalog):
    manual = {rid: r for rid, r in catalog.resources.items() if r.manual}
    for rid, resource in manual.items():
        assert resource.config_key == f"manual_files.{rid}"
        assert resource.how_to_get
    expected = {
        "conll2003_de_train", "norne_nob_train", "msra_zh_train", "ontonotes4_zh_test",
        "ud_en_ewt_train", "aqmar_ar", "mbert_base_multilingual_cased",
        "muse_train_en_es", "conll2006_da_test", "conll2007_el_test", "conll2007_it_test",
    }
    assert expected <= set(manual)
    assert catalog.resource("mbert_base_multilingual_cased").file == "hf/bert-base-multilingual-cased"


def test_the_papers_vectors_are_downloads_verified_by_their_first_digest(catalog):
    for lang in ("en", "es", "nl", "de", "ar", "fi"):
        resource = catalog.resource(f"fasttext_wiki_{lang}")
        assert not resource.manual and resource.digest_recorded_on_first_download
        assert resource.url == f"https://dl.fbaipublicfiles.com/fasttext/vectors-wiki/wiki.{lang}.vec"
        assert resource.sha256 is None and resource.note and resource.lang == lang
    for lang in ("en", "es", "nl", "de"):
        assert catalog.resource(f"muse_aligned_{lang}").url.endswith(f"/wiki.multi.{lang}.vec")
    # van der Heijden's LASER1: the encoder checkpoint and its fastBPE codes and vocabulary.
    for rid, name in (("laser_bilstm_93langs", "bilstm.93langs.2018-12-26.pt"),
                      ("laser_93langs_fcodes", "93langs.fcodes"), ("laser_93langs_fvocab", "93langs.fvocab")):
        resource = catalog.resource(rid)
        assert not resource.manual and resource.digest_recorded_on_first_download
        assert resource.url == f"https://dl.fbaipublicfiles.com/laser/models/{name}"


def test_encodings_and_schemes_checked_on_the_files(catalog):
    assert catalog.resource("conll2003_de_testa").encoding == "latin-1"
    assert catalog.resource("conll2003_de_train").encoding == "latin-1"
    assert catalog.resource("conll2003_en_train").tag_scheme == "IOB1"
    assert catalog.resource("ntunlp_ar_train").tag_scheme == "IOB1"
    assert catalog.resource("ntunlp_ar_train_iob2").tag_scheme == "IOB2"
    assert catalog.resource("szeged_ner_hu").tag_scheme == "BIE1"
    assert catalog.resource("europeana_fr_bnf").tag_scheme == "IOB1"
    assert catalog.resource("wikiann_en_dev").tag_scheme == "IOB2"
    conll2007 = catalog.resource("nltk_conll2007")
    assert conll2007.member("conll2007/eus.train").encoding == "latin-1"
    assert conll2007.member("conll2007/esp.train").encoding == "utf-8"


def test_corpora_cover_the_tasks(catalog):
    required = {
        "ner": {"en": "train dev test", "de": "train dev test", "es": "train dev test",
                "nl": "train dev test", "ar": "train dev test", "fi": "train dev test",
                "no": "train dev test", "fr": "train test", "zh": "train test",
                "eu": "train dev test", "hu": "train dev test"},
        "ner_wikiann": {lang: "dev test" for lang in ("en", "de", "fr", "nl", "pt")},
        "pos": {"en": "train dev test", **{lang: "dev test" for lang in
                                           ("es", "nl", "de", "da", "el", "it", "pt", "sv")}},
        "pos_conll": {lang: "train dev test" for lang in ("en", "es", "nl", "de")},
    }
    for task, langs in required.items():
        for lang, splits in langs.items():
            for split in splits.split():
                assert catalog.has_corpus(task, lang, split), (task, lang, split)


def test_corpus_entries_reference_existing_resources(catalog):
    for task in catalog.tasks():
        for lang in catalog.langs(task):
            for split in catalog.splits(task, lang):
                spec = catalog.corpus(task, lang, split)
                assert len(spec) >= 1
                for resource, member, options in spec:
                    assert catalog.resources[resource.id] is resource
                    assert resource.format in READER_FORMATS
                    if resource.members and not resource.manual:
                        assert member is not None
                        resource.member(member)
                    assert isinstance(options, dict)
                if spec.stand_in_for:
                    assert catalog.resource(spec.stand_in_for).manual


def test_pos_targets_stand_in_for_conll2006(catalog):
    for lang, stand_in in [("es", "conll2006_es_test"), ("de", "conll2006_de_test"),
                           ("el", "conll2007_el_test"), ("sv", "conll2006_sv_test")]:
        spec = catalog.corpus("pos", lang, "test")
        assert spec.stand_in_for == stand_in
        assert spec.entries[0].resource.format == "conllu"
        assert spec.entries[0].options == {"column": "upos"}


def test_zip_members_and_options(catalog):
    spec = catalog.corpus("ner", "es", "train")
    (resource, member, options), = spec
    assert (resource.id, member, options) == ("nltk_conll2002", "conll2002/esp.train", {})
    # esp.* have one I- tag opening an entity each: the member declares IOB1 (repairs it).
    assert spec.entries[0].encoding == "utf-8" and spec.entries[0].tag_scheme == "IOB1"
    assert catalog.corpus("ner", "nl", "train").entries[0].tag_scheme == "IOB2"
    assert catalog.corpus("ner", "no", "dev").entries[0].options == {"column": "ner_misc"}
    fr_train = catalog.corpus("ner", "fr", "train").entries[0].options
    fr_test = catalog.corpus("ner", "fr", "test").entries[0].options
    assert {**fr_train, "split": "test"} == fr_test  # complements: same fraction and seed
    treebank = catalog.corpus("pos", "en", "train").entries[0]
    assert treebank.member == "treebank/combined/"
    conll = catalog.corpus("pos_conll", "es", "test")
    assert conll.use_pos_column and conll.tag_map.name == "es-eagles"
    assert conll.tag_map.member == "universal_tagset/es-eagles.map"
    assert catalog.corpus("ner", "de", "train").manual
    assert not catalog.corpus("ner", "de", "test").manual


def test_reader_options_are_accepted_by_the_readers(catalog):
    registry = pytest.importorskip("xlt.io.registry")
    missing = set()
    for task in catalog.tasks():
        for lang in catalog.langs(task):
            for split in catalog.splits(task, lang):
                for entry in catalog.corpus(task, lang, split):
                    if entry.format not in registry.READERS:
                        missing.add(entry.format)
                        continue
                    accepted = set(registry.reader_options(entry.format))
                    assert set(entry.options) <= accepted, (task, lang, split, entry.options)
    assert not missing, f"formats without a reader in xlt.io.registry: {sorted(missing)}"


def test_dictionaries(catalog):
    en_de = catalog.dictionary("en-de", "test")
    assert [r.id for r in en_de] == [f"muse_test_en_de_{c}" for c in ("a", "n", "nw", "o", "pn", "v")]
    assert [r.id for r in catalog.dictionary("en-es")] == ["muse_test_en_es_o", "muse_test_en_es_pn"]
    assert catalog.dictionary("en-nl", "test")[0].manual
    assert catalog.dictionary("en-de", "train")[0].manual
    with pytest.raises(ConfigError, match="en-xx"):
        catalog.dictionary("en-xx")


def test_unknown_corpus_is_a_config_error(catalog):
    assert not catalog.has_corpus("ner", "fr", "dev")
    with pytest.raises(ConfigError, match="task=ner lang=fr split=dev"):
        catalog.corpus("ner", "fr", "dev")


# --------------------------------------------------------------------------- validation

GOOD_RESOURCE = f"""\
  corpus_a:
    file: a/a.txt
    url: https://raw.githubusercontent.com/o/r/{'a' * 40}/a.txt
    sha256: {'ab' * 32}
    bytes: 10
    format: conll2003
    encoding: utf-8
    tag_scheme: IOB1
    license: "x"
    description: "y"
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "datasets.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_minimal_catalog_loads(tmp_path):
    path = _write(tmp_path, "resources:\n" + GOOD_RESOURCE
                  + "corpora:\n  ner:\n    en:\n      test: {resources: [corpus_a]}\n")
    catalog = load_catalog(path)
    assert catalog.corpus("ner", "en", "test").resources == [catalog.resource("corpus_a")]


def test_unknown_resource_id_names_file_line_and_id(tmp_path):
    path = _write(tmp_path, "resources:\n" + GOOD_RESOURCE
                  + "corpora:\n  ner:\n    en:\n      test: {resources: [corpus_b]}\n")
    with pytest.raises(ConfigError) as info:
        load_catalog(path)
    message = str(info.value)
    assert f"{path}:" in message and "corpus_b" in message and "corpora.ner.en.test" in message


def test_bad_sha256_is_rejected(tmp_path):
    path = _write(tmp_path, "resources:\n" + GOOD_RESOURCE.replace("ab" * 32, "XYZ"))
    with pytest.raises(ConfigError, match="sha256"):
        load_catalog(path)


def test_unpinned_url_is_rejected(tmp_path):
    text = GOOD_RESOURCE.replace(f"/{'a' * 40}/", "/main/")
    with pytest.raises(ConfigError, match="not pinned"):
        load_catalog(_write(tmp_path, "resources:\n" + text))


def test_unknown_format_is_rejected(tmp_path):
    text = GOOD_RESOURCE.replace("format: conll2003", "format: conll2099")
    with pytest.raises(ConfigError, match="conll2099"):
        load_catalog(_write(tmp_path, "resources:\n" + text))


FIRST_DOWNLOAD = """\
  vecs:
    verify: first_download
    file: v/wiki.xx.vec
    url: https://example.org/wiki.xx.vec
    format: word_vectors
    note: "no checksum published"
"""


def test_first_download_resources_are_checked(tmp_path):
    assert load_catalog(_write(tmp_path, "resources:\n" + FIRST_DOWNLOAD)).resource("vecs").sha256 is None
    for broken, pattern in [
        (FIRST_DOWNLOAD.replace("    note: \"no checksum published\"\n", ""), "needs a note"),
        (FIRST_DOWNLOAD + "    sha256: " + "a" * 64 + "\n", "drop verify"),
        (FIRST_DOWNLOAD.replace("https://", "http://"), "not an https URL"),
        (FIRST_DOWNLOAD.replace("first_download", "trust_me"), "unknown verify mode 'trust_me'"),
        (FIRST_DOWNLOAD.replace("    file: v/wiki.xx.vec\n", ""), "needs file"),
    ]:
        with pytest.raises(ConfigError, match=pattern):
            load_catalog(_write(tmp_path, "resources:\n" + broken))


def test_manual_without_config_key_names_the_key(tmp_path):
    text = """\
    resources:
      deu_train:
        manual: true
        format: conll2003
        how_to_get: "licensed"
    """
    with pytest.raises(ConfigError, match=r"manual_files\.deu_train"):
        load_catalog(_write(tmp_path, text))


def test_archive_needs_a_listed_member(tmp_path):
    zipped = GOOD_RESOURCE.replace("a/a.txt", "a/a.zip") + "    members:\n      x/inner.txt: {lang: en}\n"
    for item, pattern in [("corpus_a", "name its member"),
                          ("{id: corpus_a, member: x/other.txt}", "no member 'x/other.txt'")]:
        path = _write(tmp_path, "resources:\n" + zipped
                      + f"corpora:\n  ner:\n    en:\n      test: {{resources: [{item}]}}\n")
        with pytest.raises(ConfigError, match=pattern):
            load_catalog(path)


def test_bad_split_name_is_rejected(tmp_path):
    path = _write(tmp_path, "resources:\n" + GOOD_RESOURCE
                  + "corpora:\n  ner:\n    en:\n      testb: {resources: [corpus_a]}\n")
    with pytest.raises(ConfigError, match="split must be one of"):
        load_catalog(path)


# --------------------------------------------------------------------------- manual files

def test_resolve_manual(catalog, tmp_path):
    resource = catalog.resource("conll2003_de_train")
    with pytest.raises(ConfigError) as info:
        resolve_manual(resource, {"manual_files": {}})
    message = str(info.value)
    assert message.startswith("resource conll2003_de_train is not downloadable (")
    assert message.endswith("); set config key manual_files.conll2003_de_train to a local copy")
    with pytest.raises(ConfigError, match="does not exist"):
        resolve_manual(resource, {"manual_files": {"conll2003_de_train": str(tmp_path / "nope")}})
    local = tmp_path / "deu.train"
    local.write_text("x", encoding="latin-1")
    assert resolve_manual(resource, {"manual_files": {"conll2003_de_train": str(local)}}) == local
    with pytest.raises(ConfigError):
        resolve_manual(catalog.resource("conll2003_en_train"), {})
