"""xlt.tables / xlt.figures: loading and checking table files, comparing with our results."""
from __future__ import annotations

import itertools
import re
from pathlib import Path

import pandas as pd
import pytest

from xlt import tables
from xlt.errors import InputError
from xlt.methods.registry import IMPLEMENTED, VOCABULARY, is_implemented

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "tables"
PAPER_FILES = [ROOT / "config" / "tables" / "bari2020_zero_resource_ner.yaml",
               ROOT / "config" / "tables" / "wu2020_unitrans.yaml"]


@pytest.fixture(scope="module")
def fake_paper() -> tables.PaperTables:
    return tables.load_paper_tables(FIXTURES / "fake_paper.yaml")


@pytest.fixture(scope="module")
def results() -> pd.DataFrame:
    return tables.read_results([FIXTURES / "results.csv"])


@pytest.fixture(scope="module")
def stats() -> pd.DataFrame:
    return tables.read_stats(FIXTURES / "stats.csv")


def table(paper: tables.PaperTables, table_id: str) -> tables.Table:
    return next(t for t in paper.tables if t.id == table_id)


def cell(long: pd.DataFrame, row_label: str, column: str) -> pd.Series:
    [index] = long.index[(long["row"] == row_label) & (long["column"] == column)]
    return long.loc[index]


# ----------------------------------------------------------------------------- queries

def test_cell_query_is_defaults_then_column_then_row(fake_paper):
    results_table = table(fake_paper, "results")
    row = results_table.rows[1]
    column = next(c for c in results_table.columns if c.id == "es_tgt")
    query = tables.cell_query(results_table, column, row)
    assert query == {"task": "ner", "source": "en", "metric": "f1", "split": "test",
                     "stat": "mean", "selection": "tgt_dev", "target": "es",
                     "method": "source_mono", "setting": "char"}


def test_row_query_wins_over_column_and_defaults():
    t = tables.Table(id="t", caption="", kind="results", defaults={"split": "test"},
                     columns=(tables.Column(id="a", label="a", query={"split": "dev"}),),
                     rows=(tables.Row(label="r", query={"split": "train"}),))
    assert tables.cell_query(t, t.columns[0], t.rows[0])["split"] == "train"


# ----------------------------------------------------------------------------- statuses

@pytest.fixture()
def xlm_unbuilt(monkeypatch):
    """The fixture paper's "MLMA" row queries encoder_transfer/xlm, made unbuilt here: every
    setting of the vocabulary is built today, and "not implemented" must still render."""
    from xlt.methods import registry

    monkeypatch.setitem(registry.IMPLEMENTED, "encoder_transfer", registry.IMPLEMENTED["encoder_transfer"] - {"xlm"})


def test_statuses(fake_paper, results, stats, xlm_unbuilt):
    long = tables.render_table(table(fake_paper, "results"), results, stats)
    assert cell(long, "Somebody et al. (2012)", "es")["status"] == "cited"
    assert cell(long, "Source-Mono char", "es")["status"] == "ok"
    assert cell(long, "Source-Mono char", "pair")["status"] == "reported only"
    assert cell(long, "Source-Mono nochar", "es")["status"] == "not run"
    assert cell(long, "MLMA", "es")["status"] == "not implemented"
    cited = cell(long, "Somebody et al. (2012)", "es")
    assert cited["reported_value"] == pytest.approx(59.30) and pd.isna(cited["ours_mean"])


def test_a_run_blocked_by_a_missing_resource_names_it(fake_paper, results, stats):
    blocked = [{"task": "ner", "source": "en", "method": "source_mono", "setting": "nochar", "target": "es",
                "missing": ["conll2002_es_train"]}]
    long = tables.render_table(table(fake_paper, "results"), results, stats, blocked)
    assert cell(long, "Source-Mono nochar", "es")["status"] == "missing resource conll2002_es_train"
    assert cell(long, "Source-Mono char", "es")["status"] == "ok"  # another setting: not blocked
    assert pd.isna(cell(long, "Source-Mono nochar", "es")["ours_mean"])


def test_registry():
    heijden = {"bpe_bow", "bpe_gru", "laser_top", "laser_elmo", "lstm_nopre"}
    assert IMPLEMENTED == {"source_mono": {"char", "nochar", "char_monoemb", "nochar_monoemb", "glove"},
                           "encoder_transfer": {"default", "heijden", "heijden_joint_a", "heijden_joint_b",
                                                "xlm", "xlm_joint_a", "xlm_joint_b"},
                           "cross_word": {"char", "nochar"}, "cross_shared": {"default"},
                           "cross_augmented": {"default"}, "muse_transfer": {"char", "nochar"},
                           "heijden_tagger": {"muse", *heijden, *{f"joint_{s}_{f}" for s in "ab" for f in heijden}},
                           "data_transfer": {"default"},
                           "unitrans": {"default", "no_soft", "no_hard", "teacher_src", "teacher_trans",
                                        "no_unlabeled", "data_combination", "ensemble"},
                           "metaner": {"default", "no_maxloss", "no_masking", "no_maxloss_masking"},
                           "encoder_lowres": {"lowres_1", "lowres_2", "lowres_5"},
                           "metaner_lowres": {"lowres_1", "lowres_2", "lowres_5"},
                           "mlm": {"sws", "fws", "sws_nochar", "fws_nochar"},
                           "mlma": {f"{lm}_{mix}{c}" for lm in ("iden", "mv", "avl", "avl_init")
                                    for mix in ("sws", "fws") for c in ("", "_nochar")},
                           "mlma_multi": {"avl_sws", "avl_fws", "avl_sws_nochar", "avl_fws_nochar"}}
    assert is_implemented("source_mono", "char")
    assert is_implemented("heijden_tagger", "bpe_bow") and not is_implemented("heijden_tagger", "xlm")
    assert is_implemented("metaner", "default") and is_implemented("encoder_transfer", "xlm_joint_a")
    assert not is_implemented("encoder_transfer", "mbert") and not is_implemented("laser")


def test_setting_by_target_picks_each_targets_variant():
    """Bao's MUSE* row: the char model for es, the no-char one for de (one row)."""
    frame = pd.DataFrame([
        {"task": "ner", "source": "en", "method": "muse_transfer", "setting": setting, "target": target,
         "seed": seed, "selection": "tgt_dev", "split": "test", "f1": value + seed}
        for setting, target, value in [("char", "es", 60.0), ("nochar", "es", 40.0),
                                       ("char", "de", 30.0), ("nochar", "de", 50.0)]
        for seed in (1, 2)
    ])
    base = {"task": "ner", "source": "en", "method": "muse_transfer", "setting": "char",
            "setting_by_target": {"de": "nochar"}, "selection": "tgt_dev", "split": "test"}
    assert tables.for_target(base, "de")["setting"] == "nochar"
    assert tables.for_target(base, "es")["setting"] == "char"
    assert tables.our_result(frame, {**base, "target": "de"}, "percent").value == pytest.approx(51.5)
    assert tables.our_result(frame, {**base, "target": "es"}, "percent").value == pytest.approx(61.5)
    # An average column resolves each target on its own.
    assert tables.our_result(frame, {**base, "target": ["es", "de"]}, "percent").value == pytest.approx(56.5)


def test_unitrans_aggregate_is_f1_of_the_seed_mean_precision_and_recall():
    """UniTrans' script: P and R averaged over seeds, F1 recomputed (not the mean of F1s)."""
    rows = [(1, 80.0, 40.0), (2, 40.0, 80.0)]  # per-seed F1 53.33 both; F1 of the means 60
    frame = pd.DataFrame([
        {"task": "ner", "source": "en", "method": "unitrans", "setting": "default", "target": target,
         "seed": seed, "selection": "last", "split": "test", "precision": p, "recall": r, "f1": 2 * p * r / (p + r)}
        for seed, p, r in rows for target in ("es", "nl")
    ])
    query = {"task": "ner", "source": "en", "method": "unitrans", "setting": "default", "selection": "last",
             "split": "test", "target": "es"}
    assert tables.our_result(frame, query, "percent").value == pytest.approx(160 / 3)
    ours = tables.our_result(frame, {**query, "stat": "f1_of_mean_pr"}, "percent")
    assert ours.value == pytest.approx(60.0)
    assert ours.per_seed == {1: pytest.approx(160 / 3), 2: pytest.approx(160 / 3)}  # per-seed F1 kept
    assert tables.our_result(frame, {**query, "stat": "f1_of_mean_pr", "target": ["es", "nl"]},
                             "percent").value == pytest.approx(60.0)
    with pytest.raises(ValueError, match="aggregates F1"):
        tables.our_result(frame, {**query, "stat": "f1_of_mean_pr", "metric": "precision"}, "percent")


# ----------------------------------------------------------------------------- our numbers

def test_mean_std_over_seeds_and_filtering(fake_paper, results, stats):
    long = tables.render_table(table(fake_paper, "results"), results, stats)
    es = cell(long, "Source-Mono char", "es")
    # seeds 1-3 on test/src_dev of en→es only: the dev-split and de-source rows are filtered out
    assert es["ours_mean"] == pytest.approx(62.0)
    assert es["ours_std"] == pytest.approx(2.0)
    assert es["n_seeds"] == 3
    assert es["per_seed"] == "seed1=60.00; seed2=62.00; seed3=64.00"
    assert es["difference"] == pytest.approx(62.0 - 61.0)
    tgt = cell(long, "Source-Mono char", "es_tgt")
    assert tgt["ours_mean"] == pytest.approx(71.0) and tgt["n_seeds"] == 2
    maximum = cell(long, "Source-Mono char", "es_max")
    assert maximum["ours_mean"] == pytest.approx(64.0) and pd.isna(maximum["ours_std"])
    params = cell(long, "Source-Mono char", "params")
    assert params["ours_mean"] == pytest.approx(1200) and params["difference"] == 200


def test_failed_reported_cell_has_no_difference(fake_paper, results, stats):
    long = tables.render_table(table(fake_paper, "results"), results, stats)
    de = cell(long, "Source-Mono char", "de")
    assert de["reported"] == "x" and de["ours_mean"] == pytest.approx(41.0)
    assert pd.isna(de["difference"])


def test_target_list_is_mean_of_per_target_means(fake_paper, results, stats):
    long = tables.render_table(table(fake_paper, "results"), results, stats)
    average = cell(long, "Source-Mono char", "avg")
    # es has seeds 1-3 (mean 62), de seeds 1-2 (mean 41)
    assert average["ours_mean"] == pytest.approx((62.0 + 41.0) / 2)
    assert average["per_seed"] == "seed1=50.00; seed2=52.00"


def test_target_list_is_empty_unless_all_targets_present(fake_paper, results):
    only_es = results[results["target"] == "es"]
    query = {"task": "ner", "source": "en", "method": "source_mono", "setting": "char",
             "selection": "src_dev", "split": "test", "target": ["es", "de"]}
    assert tables.our_result(only_es, query, "percent") is None
    assert tables.our_result(results, query, "percent") is not None


def test_fraction_unit_converts_our_percentages(fake_paper, results, stats):
    long = tables.render_table(table(fake_paper, "fraction"), results, stats)
    es = cell(long, "Source-Mono char", "es")
    assert es["reported_value"] == pytest.approx(0.600)
    assert es["ours_mean"] == pytest.approx(0.62)
    assert es["ours_std"] == pytest.approx(0.02)
    assert es["difference"] == pytest.approx(0.02)


def test_dataset_stats(fake_paper, results, stats):
    long = tables.render_table(table(fake_paper, "stats"), results, stats)
    train = cell(long, "English", "train")
    assert train["status"] == "ok"
    assert train["ours_mean"] == 14041 and train["difference"] == 14041 - 14987
    assert cell(long, "Klingon", "train")["status"] == "not run"
    no_stats = tables.render_table(table(fake_paper, "stats"), results, None)
    assert set(no_stats["status"]) == {"not run"}


# ----------------------------------------------------------------------------- rendering

def test_wide_and_markdown(fake_paper, results, stats, xlm_unbuilt):
    results_table = table(fake_paper, "results")
    wide = tables.wide_table(results_table, tables.render_table(results_table, results, stats))
    line = wide.set_index("row").loc["Source-Mono char"]
    assert line["es reported"] == "61.00 ± 1.00"
    assert line["es ours"] == "62.00 ± 2.00 (n=3)"
    assert line["es diff"] == "+1.00"
    assert line["Lang. pair"] == "en-{es,de}"
    assert wide.set_index("row").loc["MLMA", "es ours"] == "not implemented"
    markdown = tables.markdown_table(fake_paper, results_table, wide)
    assert "| 61.00 ± 1.00 " in markdown and "| 62.00 ± 2.00 (n=3) " in markdown
    assert "| +1.00 " in markdown
    assert "stand-in: random embeddings" in markdown


def test_write_paper_tables(tmp_path):
    out_dir, fig_dir = tmp_path / "tables", tmp_path / "figures"
    tables.write_paper_tables(FIXTURES / "fake_paper.yaml", [FIXTURES / "results.csv"],
                              FIXTURES / "stats.csv", out_dir, fig_dir)
    for table_id in ("stats", "results", "fraction"):
        assert (out_dir / f"{table_id}.csv").stat().st_size > 0
        assert (out_dir / f"{table_id}.md").read_text(encoding="utf-8").startswith("# A Fake")
        assert (fig_dir / f"fake_paper_{table_id}.png").stat().st_size > 0
    assert sorted(p.name for p in out_dir.iterdir()) == sorted(
        f"{t}.{ext}" for t in ("stats", "results", "fraction") for ext in ("csv", "md"))
    wide = pd.read_csv(out_dir / "results.csv", keep_default_na=False)
    assert list(wide["row"])[:2] == ["Somebody et al. (2012)", "Source-Mono char"]


def test_figure_is_deterministic_and_written_without_comparable_cells(tmp_path, fake_paper,
                                                                      results, stats):
    from xlt.figures import plot_table

    long = tables.render_table(table(fake_paper, "results"), results, stats)
    first, second = tmp_path / "a.png", tmp_path / "b.png"
    plot_table(long, "t", first)
    plot_table(long, "t", second)
    assert first.read_bytes() == second.read_bytes()
    empty = tables.render_table(table(fake_paper, "results"), results.iloc[0:0], stats)
    plot_table(empty, "t", tmp_path / "empty.png")
    assert (tmp_path / "empty.png").stat().st_size > 0


# ----------------------------------------------------------------------------- validation

GOOD_TABLE = """\
paper: p
title: P
tables:
  - id: t
    caption: c
    kind: results
    defaults: {task: ner, source: en, method: source_mono, setting: char}
    columns:
      - {id: es, label: es, query: {target: es}}
    rows:
      - label: r
        reported: {es: "1.0"}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "paper.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_minimal_table_loads(tmp_path):
    paper = tables.load_paper_tables(write(tmp_path, GOOD_TABLE))
    assert paper.tables[0].unit == "percent"
    assert paper.tables[0].columns[0].kind == "value"


def test_reported_key_must_be_a_column(tmp_path):
    path = write(tmp_path, GOOD_TABLE.replace('{es: "1.0"}', '{es: "1.0", fr: "2.0"}'))
    with pytest.raises(InputError, match=r"paper\.yaml:12: .*reported key 'fr' is not a column"):
        tables.load_paper_tables(path)


@pytest.mark.parametrize("old, new, message", [
    ('{es: "1.0"}', "{es: 1.0}", "is not of type 'string'"),
    ("kind: results", "kind: numbers", "is not one of"),
    ("source: en,", "source: en, seed: 1,", "Additional properties"),
    ('{es: "1.0"}', '{es: "about 1"}', "cannot read reported cell"),
    ("setting: char", "setting: chars", "not in the vocabulary"),
    ("method: source_mono, ", "", "neither cited nor names a method"),
])
def test_invalid_tables_are_rejected(tmp_path, old, new, message):
    assert old in GOOD_TABLE
    with pytest.raises(InputError, match=message):
        tables.load_paper_tables(write(tmp_path, GOOD_TABLE.replace(old, new)))


def test_error_names_the_line(tmp_path):
    with pytest.raises(InputError) as err:
        tables.load_paper_tables(write(tmp_path, GOOD_TABLE.replace("kind: results",
                                                                    "kind: numbers")))
    assert str(err.value).startswith(f"{tmp_path / 'paper.yaml'}:6: ")


# ----------------------------------------------------------------------------- real papers

def contracts_vocabulary() -> dict[str, set[str]]:
    """Method → settings, read from the table of docs/contracts.md §7."""
    text = (ROOT / "docs" / "contracts.md").read_text(encoding="utf-8")
    section = text.split("## 7.")[1]
    vocabulary: dict[str, set[str]] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 3 or not cells[0].startswith("`") or "settings" in cells[1]:
            continue
        methods = re.findall(r"`([a-z_]+)`", cells[0])
        if not methods or cells[0].startswith("`ner") or cells[0].startswith("`pos"):
            continue
        settings: set[str] = set()
        for pattern in re.findall(r"`([^`]+)`", cells[1]):
            parts = re.split(r"(\{[^}]*\})", pattern)
            choices = [p[1:-1].split(",") if p.startswith("{") else [p] for p in parts if p]
            settings |= {"".join(combo) for combo in itertools.product(*choices)}
        for method in methods:
            vocabulary[method] = settings
    return vocabulary


def test_registry_vocabulary_matches_contracts():
    assert VOCABULARY == contracts_vocabulary()


@pytest.mark.parametrize("path", PAPER_FILES, ids=lambda p: p.stem)
def test_real_paper_files_load_and_name_known_methods(path):
    paper = tables.load_paper_tables(path)
    assert paper.paper == path.stem
    vocabulary = contracts_vocabulary()
    for t in paper.tables:
        for row in t.rows:
            if row.cited or t.kind != "results":
                continue
            for column in t.columns:
                if column.kind == "text":
                    continue
                query = tables.cell_query(t, column, row)
                assert query["method"] in vocabulary, (t.id, row.label)
                assert query["setting"] in vocabulary[query["method"]], (t.id, row.label)


def test_real_paper_tables_render_without_results(tmp_path):
    expected_tables = {"bari2020_zero_resource_ner": 5, "wu2020_unitrans": 4}
    for path in PAPER_FILES:
        paper = tables.load_paper_tables(path)
        assert len(paper.tables) == expected_tables[path.stem]
        for t in paper.tables:
            long = tables.render_table(t, pd.DataFrame(), None)
            assert set(long["status"]) <= {"cited", "not implemented", "not run",
                                           "reported only"}


def test_text_table_cells_are_not_parsed(tmp_path):
    text = GOOD_TABLE.replace("kind: results", "kind: text").replace('"1.0"', '"casa, hogar"')
    paper = tables.load_paper_tables(write(tmp_path, text))
    long = tables.render_table(paper.tables[0], pd.DataFrame(), None)
    assert list(long["status"]) == ["reported only"]
    assert list(long["reported"]) == ["casa, hogar"]


def test_task_by_target_averages_across_task_variants():
    """Meta-NER's Average mixes tasks: fr comes from the MISC -> O variant of the task."""
    import pandas as pd

    from xlt.tables import our_result

    rows = []
    for seed in (1, 2):
        rows.append({"task": "ner", "source": "en", "method": "m", "setting": "s", "seed": seed,
                     "target": "es", "split": "test", "selection": "src_dev", "f1": 60.0 + seed})
        rows.append({"task": "ner_nomisc", "source": "en", "method": "m", "setting": "s", "seed": seed,
                     "target": "fr", "split": "test", "selection": "src_dev", "f1": 40.0 + seed})
        rows.append({"task": "ner", "source": "en", "method": "m", "setting": "s", "seed": seed,
                     "target": "fr", "split": "test", "selection": "src_dev", "f1": 0.0})
    results = pd.DataFrame(rows)
    query = {"task": "ner", "method": "m", "setting": "s", "source": "en", "split": "test",
             "selection": "src_dev", "metric": "f1", "target": ["es", "fr"],
             "task_by_target": {"fr": "ner_nomisc"}}
    ours = our_result(results, query, "percent")
    assert ours.value == pytest.approx((61.5 + 41.5) / 2)
    assert ours.per_seed == {1: pytest.approx(51.0), 2: pytest.approx(52.0)}
