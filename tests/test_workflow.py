"""The whole DAG on the fixture plan, plus dry runs of the real plans and the linter.

The fixture plan (tests/fixtures/workflow/) has the default plan's shape — both methods, NER
and POS, several targets, two seeds, every paper's tables — on tiny hand-made corpora served
by a fixture mirror, and a tiny random BERT saved by the test.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from workflow_fixture import FIXTURE, REPO, write_fixture_config

SNAKEMAKE = [sys.executable, "-m", "snakemake"]
PAPERS = [
    "bao2019_mlma", "bari2020_zero_resource_ner", "heijden2019_multilingual_embeddings",
    "wu2020_unitrans", "wu2020_metaner",
]

pytestmark = pytest.mark.workflow


def snakemake(args: list[str], cwd: Path, env_extra: dict | None = None, timeout: int = 600):
    env = {k: v for k, v in os.environ.items() if k != "XLT_MIRROR"}  # hermetic: fixture mirror only
    env.update(env_extra or {})
    return subprocess.run(
        [*SNAKEMAKE, "-s", str(REPO / "Snakefile"), "-d", str(cwd), *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout,
    )


@pytest.fixture(scope="module")
def fixture_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("dag")
    config = write_fixture_config(workdir)
    result = snakemake(["--configfile", str(config), "--cores", "2", "all"], workdir)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-6000:]
    return workdir, config


def test_every_table_target_is_built(fixture_run):
    workdir, _ = fixture_run
    for paper in PAPERS:
        spec = yaml.safe_load((REPO / "config" / "tables" / f"{paper}.yaml").read_text())
        for table in spec["tables"]:
            for path in (
                workdir / "results" / "tables" / paper / f"{table['id']}.csv",
                workdir / "results" / "tables" / paper / f"{table['id']}.md",
                workdir / "results" / "figures" / f"{paper}_{table['id']}.png",
            ):
                assert path.is_file() and path.stat().st_size > 0, path
    assert (workdir / "results" / "tables" / "datasets.csv").is_file()


def test_result_tables_hold_every_run(fixture_run):
    workdir, _ = fixture_run
    ner = pd.read_csv(workdir / "results" / "tables" / "ner_f1.csv")
    pos = pd.read_csv(workdir / "results" / "tables" / "pos_acc.csv")
    # 2 source_mono settings + 1 encoder setting, 2 seeds, 4 targets, 3 selections.
    assert len(ner) == 3 * 2 * 4 * 3
    assert set(ner["target"]) == {"en", "es", "nl", "de"}
    assert set(ner["method"]) == {"source_mono", "encoder_transfer"}
    assert ner["f1"].between(0, 100).all()
    # 1 source_mono setting + 1 encoder setting, 2 seeds, 3 targets, 3 selections.
    assert len(pos) == 2 * 2 * 3 * 3
    assert pos["accuracy"].between(0, 100).all()
    # The char model learns the toy English NER: source test F1 well above zero.
    en = ner[(ner.method == "source_mono") & (ner.setting == "char") & (ner.target == "en") & (ner.selection == "src_dev")]
    assert en["f1"].mean() > 20


def test_paper_tables_mark_unbuilt_methods(fixture_run):
    workdir, _ = fixture_run
    bari3 = pd.read_csv(workdir / "results" / "tables" / "bari2020_zero_resource_ner" / "table3.csv")
    text = bari3.to_csv()
    assert "not implemented" in text  # monolingual-embedding rows need word vectors
    md = (workdir / "results" / "tables" / "bao2019_mlma" / "table1.md").read_text()
    assert "not implemented" in md and "prior work (cited)" in md
    # The built method's row carries our number next to the reported one.
    bao = pd.read_csv(workdir / "results" / "tables" / "bao2019_mlma" / "table1.csv")
    mbert = bao[bao["row"].str.startswith("Multilingual BERT")].iloc[0]
    assert mbert["es reported"] == "66.42 ± 1.15"
    assert "(n=2)" in mbert["es ours"]


def test_rerun_is_a_no_op(fixture_run):
    workdir, config = fixture_run
    result = snakemake(["--configfile", str(config), "--cores", "2", "-n", "all"], workdir)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Nothing to be done" in result.stdout + result.stderr


def test_missing_manual_corpus_names_the_config_key(fixture_run):
    workdir, config = fixture_run
    result = snakemake(
        ["--configfile", str(config), "--cores", "1", "results/data/ner/de/train.parquet"], workdir
    )
    assert result.returncode != 0
    log = (workdir / "results" / "logs" / "manual" / "fx_de_train.log").read_text()
    assert "manual_files.fx_de_train" in log + result.stderr


def test_paper_plan_resolves_every_table_target(tmp_path):
    result = snakemake(
        # The README's form: --configfile=FILE, then the targets.
        ["-n", f"--configfile={REPO / 'config' / 'paper.yaml'}", "all", "results/tables/ner_f1.csv"], tmp_path
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "train_encoder_transfer" in result.stdout


def test_lint_is_clean():
    result = subprocess.run([*SNAKEMAKE, "--lint"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
