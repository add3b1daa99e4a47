"""Joint training (van der Heijden et al. 2019, Table 3; xlt.methods.training_mix): scenario A
trains on a quarter of each language, B on all of English and the same quarters of the others;
the paper tables print A's score and B - A, and the "a/b" cells of Table 2 compare both halves."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from xlt import tables
from xlt.errors import ConfigError
from xlt.methods.common import RunSpec
from xlt.methods.training_mix import mixed_training_data
from xlt.plan import Plan
from workflow_fixture import REPO

A = {"languages": ["en", "nl", "de", "es"], "share": 0.25}
B = {**A, "source_share": 1.0}
A_SHARES = {"en": 0.25, "nl": 0.25, "de": 0.25, "es": 0.25}
SIZES = {"en": 400, "nl": 120, "de": 81, "es": 200}


def _corpus(lang: str) -> tuple[list[list[str]], list[list[str]], list[str]]:
    n = SIZES[lang]
    return ([[f"{lang}{i}", "."] for i in range(n)], [["O", "O"] for _ in range(n)], [f"s{i}" for i in range(n)])


def _spec(mix: dict | None, seed: int = 1, cap: int | None = None) -> RunSpec:
    return RunSpec(plan="test", task="ner", task_config={"kind": "ner", "labels": ["PER"]}, source="en",
                   method="heijden_tagger", setting="joint", seed=seed,
                   hparams={} if mix is None else {"train_mix": mix}, max_sentences={"train": cap},
                   inputs={f"mix_train_{lang}": Path(lang) for lang in ("nl", "de", "es")})


def _mix(mix: dict, seed: int = 1, cap: int | None = None) -> dict[str, set[str]]:
    """Sentences (first tokens) per language of a mixed training set."""
    def load(path: Path, limit: int | None):
        tokens, tags, ids = _corpus(str(path))
        return tokens[:limit], tags[:limit], ids[:limit]

    english = load(Path("en"), cap)
    tokens, tags, ids, langs = mixed_training_data(_spec(mix, seed, cap), english, load=load)
    assert len(tokens) == len(tags) == len(ids) == len(langs)
    out: dict[str, set[str]] = {}
    for sentence, lang, sid in zip(tokens, langs, ids):
        assert sentence[0].startswith(lang) and sid.startswith(f"{lang}/")
        out.setdefault(lang, set()).add(sentence[0])
    return out


def test_scenario_a_holds_a_seeded_quarter_of_each_languages_sentences():
    a = _mix(A)
    assert {lang: len(s) for lang, s in a.items()} == {"en": 100, "nl": 30, "de": 20, "es": 50}
    assert _mix(A) == a  # seeded: the same quarter again
    other = _mix(A, seed=2)
    assert all(other[lang] != a[lang] for lang in a)  # another seed, another quarter
    # Under a sentence cap the quarter is of the capped split (the first N sentences).
    capped = _mix(A, cap=40)
    assert {lang: len(s) for lang, s in capped.items()} == {"en": 10, "nl": 10, "de": 10, "es": 10}
    assert all(int(w[2:]) < 40 for s in capped.values() for w in s)


def test_scenario_b_adds_all_of_english_to_the_same_quarters():
    a, b = _mix(A), _mix(B)
    assert len(b["en"]) == SIZES["en"] and a["en"] < b["en"]
    assert all(b[lang] == a[lang] for lang in ("nl", "de", "es"))  # B - A is English's other three quarters


def test_without_a_mix_the_source_is_the_training_set():
    english = _corpus("en")
    tokens, _, ids, langs = mixed_training_data(_spec(None), english)
    assert tokens == english[0] and ids == english[2] and set(langs) == {"en"}


def test_a_mix_needs_the_source_shares_in_range_and_its_tables():
    english = _corpus("en")
    load = lambda p, n: _corpus(str(p))  # noqa: E731
    with pytest.raises(ConfigError, match="must include the run's source 'en'"):
        mixed_training_data(_spec({"languages": ["nl"], "share": 0.5}), english, load=load)
    with pytest.raises(ConfigError, match="share must be in"):
        mixed_training_data(_spec({"languages": ["en", "nl"], "share": 1.5}), english, load=load)
    with pytest.raises(ConfigError, match="unknown keys"):
        mixed_training_data(_spec({"languages": ["en", "nl"], "share": 0.5, "nl": 1.0}), english, load=load)
    with pytest.raises(ConfigError, match="no input 'mix_train_fr'"):
        mixed_training_data(_spec({"languages": ["en", "fr"], "share": 0.5}), english, load=load)


def _paper_plan() -> dict:
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    config.update(yaml.safe_load((REPO / "config" / "paper.yaml").read_text()))
    return config


def test_paper_plan_trains_both_scenarios_once_and_scores_every_target():
    plan = Plan(_paper_plan())
    runs = [r for r in plan.runs() if "joint" in r.setting]
    # 5 subword models x 2 scenarios on NER and CoNLL POS, BERT's and XLM's two, each one model
    # per seed.
    assert len(runs) == (5 * 2 * 2 + 2 * 2 * 2) * 5 and all(r.source == "en" and r.space is None for r in runs)
    assert plan.train_mix("heijden_tagger", "joint_b_laser_top", "en") == {**A_SHARES, "en": 1.0}
    assert plan.train_mix("encoder_transfer", "heijden_joint_a", "en") == A_SHARES
    ner = next(r for r in runs if r.task == "ner" and r.setting == "joint_a_laser_top")
    assert plan.run_targets(ner) == ("en", "nl", "de", "es", "eu", "hu")
    assert plan.train_mix("heijden_tagger", "laser_top", "en") == {}


def test_plan_refuses_a_mix_where_no_method_reads_one():
    config = _paper_plan()
    config["methods"]["source_mono"]["settings"]["char"] = {**config["methods"]["source_mono"]["settings"]["char"],
                                                           "train_mix": A}
    with pytest.raises(ConfigError, match="train_mix .* is built for heijden_tagger, encoder_transfer, not source_mono"):
        Plan(config)


# ---------------------------------------------------------------- the tables' second numbers
def _results(rows: list[tuple]) -> pd.DataFrame:
    """(source, method, setting, seed, target, f1) rows of a results table."""
    return pd.DataFrame([{"task": "ner", "source": src, "method": m, "setting": s, "seed": seed, "target": t,
                          "selection": "src_dev", "split": "test", "f1": f1}
                         for src, m, s, seed, t, f1 in rows])


def _heijden():
    return tables.load_paper_tables(REPO / "config" / "tables" / "heijden2019_multilingual_embeddings.yaml")


def _cell(long: pd.DataFrame, row: str, column: str) -> pd.Series:
    return long[(long["row"] == row) & (long["column"] == column)].iloc[0]


def test_table3_cell_is_scenario_a_and_the_per_seed_change_to_b():
    paper = _heijden()
    table3 = next(t for t in paper.tables if t.id == "table3")
    results = _results([("en", "heijden_tagger", "joint_a_laser_top", 1, "nl", 60.0),
                        ("en", "heijden_tagger", "joint_a_laser_top", 2, "nl", 64.0),
                        ("en", "heijden_tagger", "joint_b_laser_top", 1, "nl", 63.0),
                        ("en", "heijden_tagger", "joint_b_laser_top", 2, "nl", 65.0),
                        ("en", "heijden_tagger", "joint_a_bpe_gru", 1, "nl", 50.0)])
    long = tables.render_table(table3, results, None)
    laser = _cell(long, "NER Dutch", "laser_top")
    assert laser["ours_mean"] == pytest.approx(0.62) and laser["ours_second"] == pytest.approx(0.02)
    assert laser["ours_second_std"] == pytest.approx(0.01414, abs=1e-4)  # changes 0.03, 0.01
    assert laser["reported_second"] == pytest.approx(0.03)  # printed "0.709+0.03"
    assert laser["second_difference"] == pytest.approx(-0.01)
    gru = _cell(long, "NER Dutch", "bpe_gru")
    assert gru["status"] == "ok" and gru["second_status"] == "not run" and pd.isna(gru["ours_second"])
    xlm = _cell(long, "NER Dutch", "xlm")
    assert xlm["status"] == "not run" and xlm["second_status"] == "not run"
    wide = tables.wide_table(table3, long).set_index("row")
    assert wide.loc["NER Dutch", "LASER-top ours"] == "0.620 ± 0.028 (n=2) +0.020 ± 0.014"
    assert wide.loc["NER Dutch", "LASER-top diff"] == "-0.089 / -0.010"
    assert wide.loc["NER Dutch", "BPE GRU ours"] == "0.500 (n=1) (change: not run)"


def test_table2_b_half_is_the_model_trained_on_the_target_itself():
    paper = _heijden()
    table2 = next(t for t in paper.tables if t.id == "table2")
    results = _results([("en", "heijden_tagger", "laser_top", 1, "nl", 50.0),
                        ("nl", "heijden_tagger", "laser_top", 1, "nl", 80.0),
                        ("en", "heijden_tagger", "laser_top", 1, "hu", 40.0),
                        ("en", "heijden_tagger", "laser_top", 1, "en", 70.0)])
    blocked = [{"task": "ner", "source": "de", "method": "heijden_tagger", "setting": "laser_top", "target": "de",
                "missing": ["conll2003_de_train"]}]
    long = tables.render_table(table2, results, None, blocked)
    dutch = _cell(long, "NER Dutch", "laser_top")
    assert (dutch["ours_mean"], dutch["ours_second"], dutch["reported_second"]) == (0.5, 0.8, 0.785)
    assert dutch["second_difference"] == pytest.approx(0.015)
    # Cells the paper prints without a "b" (English in-language, Hungarian) get none of ours.
    for row in ("NER English", "NER Hungarian"):
        assert pd.isna(_cell(long, row, "laser_top")["second_kind"])
    german = _cell(long, "NER German", "laser_top")
    assert german["second_status"] == "missing resource conll2003_de_train"
    wide = tables.wide_table(table2, long).set_index("row")
    assert wide.loc["NER Dutch", "LASER-top ours"] == "0.500 (n=1) / 0.800"
    assert wide.loc["NER German", "LASER-top ours"] == "not run / missing resource conll2003_de_train"
    assert wide.loc["NER Hungarian", "LASER-top ours"] == "0.400 (n=1)"


def test_figure_bars_are_the_change_and_english_is_b_minus_its_monolingual_score(tmp_path):
    paper = _heijden()
    by_id = {t.id: t for t in paper.tables}
    results = _results([("en", "heijden_tagger", "laser_top", 1, "en", 80.0),  # Table 2, English in-language
                        ("en", "heijden_tagger", "joint_a_laser_top", 1, "en", 70.0),
                        ("en", "heijden_tagger", "joint_b_laser_top", 1, "en", 84.0),
                        ("en", "heijden_tagger", "joint_a_laser_top", 1, "es", 60.0),
                        ("en", "heijden_tagger", "joint_b_laser_top", 1, "es", 65.0)])
    rendered = {i: tables.render_table(t, results, None) for i, t in by_id.items() if t.kind == "results"}
    figure = next(f for f in paper.figures if f.id == "figure3")
    bars = tables.write_figure(paper, figure, rendered, tmp_path, tmp_path)
    assert "bpe_bow" not in set(bars["column"])  # the paper omits BPE BOW
    laser = bars[bars["column"] == "laser_top"].set_index("row")
    assert laser.loc["NER Spanish", "ours"] == pytest.approx(0.05)  # B - A
    assert laser.loc["NER Spanish", "reported"] == pytest.approx(0.047)
    assert laser.loc["NER English", "ours"] == pytest.approx(0.04)  # B (0.84) - monolingual (0.80)
    assert laser.loc["NER English", "reported"] == pytest.approx(0.723 + 0.012 - 0.803)
    assert pd.isna(laser.loc["NER Dutch", "ours"])
    assert (tmp_path / "heijden2019_multilingual_embeddings_figure3.png").stat().st_size > 0
    assert (tmp_path / "figure3.csv").is_file()
    # A plan with Table 2's English model and no joint runs (the default plan): no bar of ours,
    # the paper's still drawn.
    only_table2 = _results([("en", "heijden_tagger", "laser_top", 1, "en", 80.0)])
    rendered = {i: tables.render_table(t, only_table2, None) for i, t in by_id.items() if t.kind == "results"}
    bars = tables.write_figure(paper, figure, rendered, tmp_path, tmp_path)
    assert bars["ours"].isna().all() and bars["reported"].notna().any()


def test_a_figure_naming_an_unknown_row_is_refused_with_its_line(tmp_path):
    text = (REPO / "config" / "tables" / "heijden2019_multilingual_embeddings.yaml").read_text()
    bad = tmp_path / "heijden2019_multilingual_embeddings.yaml"
    bad.write_text(text.replace("rows: [POS English, POS Dutch,", "rows: [POS Klingon, POS Dutch,"))
    with pytest.raises(Exception, match="row 'POS Klingon' is not a row of table3") as err:
        tables.load_paper_tables(bad, REPO / "config" / "tables" / "schema.yaml")
    assert f"{bad}:" in str(err.value)
