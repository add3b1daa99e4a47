"""The whole DAG on the fixture plan, plus dry runs of the real plans and the linter.

The fixture plan (tests/fixtures/workflow/) has the default plan's shape — both methods, NER
and POS, several targets, two seeds, every paper's tables — on tiny hand-made corpora served
by a fixture mirror, and a tiny random BERT saved by the test.
"""
from __future__ import annotations

import json
import os
import re
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


def snakemake(args: list[str], cwd: Path, env_extra: dict | None = None, timeout: int = 1200):
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
    # 2 source_mono settings + 1 encoder setting, 2 seeds, 4 targets, 3 selections; plus
    # 2 cross_word settings + cross_shared + cross_augmented, 2 seeds, their one target space
    # (es), 4 selections (tgt_test too: the default plan's Cross-* params, under the fixture's);
    # plus the Spanish monolingual char_monoemb model, MUSE* and van der Heijden's tagger (over
    # MUSE vectors, BPE GRU and LASER-top; LASER-top trained jointly, scenarios A and B, and on
    # Spanish itself), 2 seeds, scored on es, 3 selections (van der Heijden's: English dev
    # only, the paper's selection, from the default plan's params); plus Data Transfer and the 8 UniTrans
    # settings, 2 seeds, es, the last checkpoint only (UniTrans uses no dev set); plus Meta-NER,
    # 2 settings on ner and 1 on ner_nomisc, its one seed, es, English dev selection only; plus
    # the ner_nomisc base model, 2 seeds, es, 3 selections.
    assert len(ner) == (3 * 2 * 4 * 3 + 4 * 2 * 1 * 4 + 2 * 2 * 1 * 3 + 6 * 2 * 1 * 1 + 9 * 2 * 1 * 1
                        + 3 * 1 * 1 * 1 + 1 * 2 * 1 * 3 + 2 * 1 * 1 * 1  # + the two low-resource runs on es
                        + 2 * 1 * 1 * 3)  # + MLMA (es) and multi-source MLMA (nl), seed 1, 3 selections
    assert set(ner["target"]) == {"en", "es", "nl", "de"}
    assert set(ner["method"]) == {"source_mono", "encoder_transfer", "cross_word", "cross_shared", "cross_augmented",
                                  "muse_transfer", "heijden_tagger", "data_transfer", "unitrans", "metaner",
                                  "encoder_lowres", "metaner_lowres", "mlma", "mlma_multi"}
    assert set(ner.loc[ner["method"] == "cross_augmented", "selection"]) == {"src_dev", "tgt_dev", "tgt_test", "last"}
    assert ner["f1"].between(0, 100).all()
    # 1 source_mono setting + 1 encoder setting, 2 seeds, 2 targets, 3 selections.
    assert len(pos) == 2 * 2 * 2 * 3
    assert pos["accuracy"].between(0, 100).all()
    # The char model learns the toy English NER: source test F1 well above zero.
    en = ner[(ner.method == "source_mono") & (ner.setting == "char") & (ner.target == "en") & (ner.selection == "src_dev")]
    assert en["f1"].mean() > 20


def test_paper_tables_mark_unbuilt_methods(fixture_run):
    workdir, _ = fixture_run
    bari2 = pd.read_csv(workdir / "results" / "tables" / "bari2020_zero_resource_ner" / "table2.csv")
    glove = bari2[bari2["row"] == "English: Our"].iloc[0]
    assert glove["F1 score ours"] == "not run"  # GloVe: built, in the paper plan only (not in the mirror)
    bari3 = pd.read_csv(workdir / "results" / "tables" / "bari2020_zero_resource_ner" / "table3.csv")
    mono = bari3[bari3["row"] == "Mono-lingual word-emb, Ch-LSTM-Wrd-LSTM-CRF, en-es"].iloc[0]
    assert mono["F1 (tuned on src dev) ours"] == "not run"  # built, but not in the fixture plan
    md = (workdir / "results" / "tables" / "bao2019_mlma" / "table1.md").read_text()
    assert "prior work (cited)" in md
    md = (workdir / "results" / "tables" / "heijden2019_multilingual_embeddings" / "table2.md").read_text()
    heijden2 = pd.read_csv(workdir / "results" / "tables" / "heijden2019_multilingual_embeddings" / "table2.csv")
    # XLM: built, in the paper plan only (no offline weights); "a / b" on the zero-shot rows.
    assert set(heijden2["XLM ours"].dropna()) == {"not run", "not run / not run"}
    # Every table says which plan made "ours" (caps, seeds, encoder), in the md and the csv.
    assert "Ours: plan 'fixture'; 2 seeds (1, 2); runs read the first 30 train" in md
    # The built method's row carries our number next to the reported one.
    bao = pd.read_csv(workdir / "results" / "tables" / "bao2019_mlma" / "table1.csv")
    mbert = bao[bao["row"].str.startswith("Multilingual BERT")].iloc[0]
    assert mbert["es reported"] == "66.42 ± 1.15"
    assert mbert["plan"].startswith("plan 'fixture'")
    assert "(n=2)" in mbert["es ours"]


def test_models_are_artifacts_scored_per_target(fixture_run):
    workdir, _ = fixture_run
    model_dir = workdir / "results" / "models" / "ner" / "en" / "source_mono" / "char" / "seed1"
    manifest = json.loads((model_dir / "model.json").read_text())
    # eval_every: 5 in the fixture plan: checkpoints every 5 updates, plus the final weights.
    steps = [entry["step"] for entry in manifest["trace"]]
    assert steps[:2] == [5, 10] and len(steps) >= 3
    assert all((model_dir / entry["file"]).is_file() for entry in manifest["trace"])
    for target in ("en", "es", "nl", "de"):
        metrics = json.loads((workdir / "results" / "runs" / "ner" / "en" / "source_mono" / "char"
                              / "seed1" / target / "metrics.json").read_text())
        assert metrics["target"] == target
        assert metrics["artifacts"]["model"] == "results/models/ner/en/source_mono/char/seed1/model.json"
        assert set(metrics["checkpoints"]) == {f"results/models/ner/en/source_mono/char/seed1/{e['file']}"
                                               for e in manifest["trace"]}


def test_unitrans_teachers_are_files_and_no_gold_target_tag_reaches_it(fixture_run):
    """Each teacher's probabilities are computed once per (teacher, seed, target) and read by
    every student that needs them; the students and teachers read the target's training set
    only as a table without tags; the UniTrans tables get numbers."""
    from safetensors import safe_open

    workdir, _ = fixture_run
    distill = workdir / "results" / "distill" / "ner" / "en" / "unitrans"
    files = sorted(p.relative_to(distill).as_posix() for p in distill.rglob("*.safetensors"))
    assert files == [f"{t}/seed{s}/es.safetensors" for t in ("src", "teach", "trans") for s in (1, 2)]
    for path in distill.rglob("*.safetensors"):
        with safe_open(str(path), framework="pt") as handle:
            about = json.loads(handle.metadata()["about"])
        assert about["unlabeled"] == "results/data/ner/es/train.unlabeled.parquet"
    gold = "results/data/ner/es/train.parquet"
    models = workdir / "results" / "models" / "ner" / "en" / "unitrans"
    manifests = {p.relative_to(models).parts[0] + "/" + p.parts[-2]: json.loads(p.read_text())
                 for p in models.rglob("model.json")}
    assert len(manifests) == 8 * 2
    for manifest in manifests.values():
        assert gold not in manifest["inputs"]

    def probs(manifest):
        return sorted(k.removeprefix("results/distill/ner/en/unitrans/") for k in manifest["inputs"] if "distill" in k)

    # The student reads its own seed's three teachers; the ensemble every seed's; the
    # teacher-ablations one teacher; the teacher and data combination none.
    assert probs(manifests["default/seed1"]) == [f"{t}/seed1/es.safetensors" for t in ("src", "teach", "trans")]
    assert probs(manifests["no_hard/seed2"]) == ["teach/seed2/es.safetensors"]
    assert probs(manifests["teacher_src/seed1"]) == ["src/seed1/es.safetensors"]
    assert probs(manifests["ensemble/seed1"]) == [f"{t}/seed{s}/es.safetensors"
                                                  for t in ("src", "teach", "trans") for s in (1, 2)]
    assert probs(manifests["no_unlabeled/seed1"]) == probs(manifests["data_combination/seed1"]) == []
    voted = manifests["default/seed1"]["method_log"]
    assert voted["voters"] == ["teach", "src", "trans"] and 0 <= voted["hard_labelled_words"] <= voted["words"]
    assert manifests["no_hard/seed1"]["method_log"]["hard_labelled_words"] is None
    # The teacher starts from Θ_src and trains on the translated set.
    assert "results/models/ner/en/encoder_transfer/default/seed1/model.json" in manifests["no_unlabeled/seed1"]["inputs"]
    assert "results/data/translated/ner/en-es/train.parquet" in manifests["no_unlabeled/seed1"]["inputs"]

    tables = workdir / "results" / "tables" / "wu2020_unitrans"
    for table, rows in (("table2", ["Data Transfer (reimp.)", "UniTrans"]),
                        ("table3", ["1) UniTrans w/o L_soft^x̃", "5) UniTrans w/o D_T (i.e., Θ_teach)", "8) Data Combination"]),
                        ("table4", ["+ Teacher Ensembling"])):
        df = pd.read_csv(tables / f"{table}.csv").set_index("row")
        for row in rows:
            assert re.match(r"^\d+\.\d", str(df.loc[row, "es ours"])), (table, row, df.loc[row, "es ours"])


def test_metaner_reads_cached_representations_and_adapts_per_sentence(fixture_run):
    """[CLS] vectors are computed once per (task, language, split) and read by every setting
    of the method; evaluation adapts with the evaluation-only parameters; MISC -> O for
    ner_nomisc; Meta-NER's tables get numbers from the experiment's one seed."""
    from safetensors import safe_open

    workdir, _ = fixture_run
    reps = workdir / "results" / "representations" / "metaner"
    assert sorted(str(p.relative_to(reps)) for p in reps.rglob("*.safetensors")) == [
        "ner/en/train.safetensors", "ner/es/test.safetensors",
        "ner_nomisc/en/train.safetensors", "ner_nomisc/es/test.safetensors"]
    with safe_open(str(reps / "ner" / "en" / "train.safetensors"), framework="pt") as handle:
        ids = json.loads(handle.metadata()["sentence_ids"])
        assert len(ids) == handle.get_slice("vectors").get_shape()[0] == 30  # the fixture's train cap
    models = workdir / "results" / "models" / "ner" / "en" / "metaner"
    assert sorted(p.name for p in models.iterdir()) == ["default", "no_maxloss"]
    assert not (models / "default" / "seed2").exists()  # the experiment's own seeds: [1]
    for setting in ("default", "no_maxloss"):
        manifest = json.loads((models / setting / "seed1" / "model.json").read_text())
        assert "results/representations/metaner/ner/en/train.safetensors" in manifest["inputs"]
        assert "adapt_lr" not in manifest["config"]["hparams"]  # evaluation-only: never retrains
        metrics = json.loads((workdir / "results" / "runs" / "ner" / "en" / "metaner" / setting / "seed1" / "es"
                              / "metrics.json").read_text())
        assert metrics["config"]["eval_hparams"] == {"adapt_lr": 0.001, "adapt_steps": 1}
        assert "results/representations/metaner/ner/es/test.safetensors" in metrics["inputs"]
        assert [r["selection"] for r in metrics["results"]] == ["src_dev"]
    log = (workdir / "results" / "runs" / "ner" / "en" / "metaner" / "default" / "seed1" / "es" / "evaluate.log").read_text()
    assert "adapted to 6 sentences" in log
    nomisc = json.loads((workdir / "results" / "models" / "ner_nomisc" / "en" / "metaner" / "default" / "seed1"
                         / "model.json").read_text())
    assert not any("MISC" in tag for tag in nomisc["state"]["labels"]["symbols"])
    table4 = pd.read_csv(workdir / "results" / "tables" / "wu2020_metaner" / "table4.csv").set_index("row")
    assert "(n=1)" in table4.loc["Ours w/o max loss", "es ours"]
    assert table4.loc["Ours w/o masking", "es ours"] == "not run"
    assert "(n=2)" in table4.loc["Ours w/o meta-train/max loss/masking (i.e., Base Model)", "es ours"]


def test_low_resource_runs_fine_tune_the_source_model_on_a_target_sample(fixture_run):
    """Table 6: one model per target, started from the base / meta-learned run of the same
    seed at its English-dev checkpoint, trained on a seeded sample of the target's labelled
    train set; a target whose train set is a manual resource is left out and named."""
    workdir, _ = fixture_run
    models = workdir / "results" / "models" / "ner" / "en"
    for method, base in (("encoder_lowres", "encoder_transfer/default"), ("metaner_lowres", "metaner/default")):
        manifest = json.loads((models / method / "lowres_5" / "es" / "seed1" / "model.json").read_text())
        started = manifest["method_log"]
        assert started["base_model"] == f"results/models/ner/en/{base}/seed1/model.json"
        assert started["base_model"] in manifest["inputs"] and "results/data/ner/es/train.parquet" in manifest["inputs"]
        assert 0 < started["target_sentences"] == len(started["sentence_ids"]) < started["of"]
    assert not (models / "encoder_lowres" / "lowres_5" / "de").exists()  # German train is manual here
    table6 = pd.read_csv(workdir / "results" / "tables" / "wu2020_metaner" / "table6.csv").set_index("row")
    assert "(n=1)" in table6.loc["5% Ours", "es ours"] and "(n=1)" in table6.loc["5% Base Model", "es ours"]
    assert "fx_de_train" in table6.loc["5% Base Model", "de ours"]


def test_cross_word_models_live_in_their_target_space(fixture_run):
    workdir, _ = fixture_run
    model_dir = workdir / "results" / "models" / "ner" / "en" / "cross_word" / "char" / "es" / "seed1"
    manifest = json.loads((model_dir / "model.json").read_text())
    assert manifest["space"] == "es" and manifest["direction"] == "source_to_target"
    # Trained on English words mapped into the Spanish space, scored with Spanish vectors.
    assert "results/mapping/unsupervised/en-es/vectors.vec" in manifest["inputs"]
    metrics = json.loads((workdir / "results" / "runs" / "ner" / "en" / "cross_word" / "char" / "seed1" / "es"
                          / "metrics.json").read_text())
    assert "results/vectors/es/vectors.vec" in metrics["inputs"]
    shared = json.loads((workdir / "results" / "models" / "ner" / "en" / "cross_shared" / "default" / "es"
                         / "seed1" / "model.json").read_text())
    assert shared["n_params_excl_word_embeddings"] < manifest["n_params_excl_word_embeddings"]
    bari4 = pd.read_csv(workdir / "results" / "tables" / "bari2020_zero_resource_ner" / "table4.csv")
    row = bari4[bari4["row"] == "Cross-Word (No char LSTM), en → es"].iloc[0]
    assert "(n=2)" in row["F1° (tuned on src-dev) ours"]
    # Cross-Augmented starts from one of the three runs of its space and seed, and reads the
    # Spanish train table (tokens only) and both sides' vectors.
    augmented = json.loads((workdir / "results" / "models" / "ner" / "en" / "cross_augmented" / "default" / "es"
                            / "seed1" / "model.json").read_text())
    base = augmented["method_log"]["base"]
    assert base["run"] in {"cross_word/nochar", "cross_word/char", "cross_shared/default"}
    assert base["model"] == f"results/models/ner/en/{base['run']}/es/seed1/model.json"
    assert {"results/data/ner/es/train.parquet", "results/vectors/es/vectors.vec",
            "results/mapping/unsupervised/en-es/vectors.vec"} <= set(augmented["inputs"])
    row = bari4[bari4["row"] == "Cross-Augmented, en → es"].iloc[0]
    assert "(n=2)" in row["F1• (tuned on tgt-test) ours"] and "(n=2)" in row["F1• -max (tgt-test) ours"]


def test_monolingual_vectors_runs_read_their_languages_vectors(fixture_run):
    """Bari Table 2's shape: Spanish trained and scored over Spanish's own vectors."""
    workdir, _ = fixture_run
    manifest = json.loads((workdir / "results" / "models" / "ner" / "es" / "source_mono" / "char_monoemb"
                           / "seed1" / "model.json").read_text())
    assert "results/vectors/es/vectors.vec" in manifest["inputs"] and "words" not in manifest["state"]
    metrics = json.loads((workdir / "results" / "runs" / "ner" / "es" / "source_mono" / "char_monoemb" / "seed1"
                          / "es" / "metrics.json").read_text())
    assert "results/vectors/es/vectors.vec" in metrics["inputs"]
    bari2 = pd.read_csv(workdir / "results" / "tables" / "bari2020_zero_resource_ner" / "table2.csv")
    spanish = bari2[bari2["row"] == "Spanish: Our"].iloc[0]
    assert "(n=2)" in spanish["F1 score ours"]
    german = bari2[bari2["row"] == "German: Our"].iloc[0]
    assert german["F1 score ours"] == "missing resource fx_de_train"
    assert not (workdir / "results" / "data" / "ner" / "de" / "train.parquet").exists()


def test_muse_transfer_reads_targets_through_their_mapping_onto_english(fixture_run):
    """Bao's MUSE*: one English model over English vectors; Spanish scored over its vectors
    mapped onto English (a mapping the DAG builds and tables because a method reads it)."""
    workdir, _ = fixture_run
    manifest = json.loads((workdir / "results" / "models" / "ner" / "en" / "muse_transfer" / "char" / "seed1"
                           / "model.json").read_text())
    assert "results/vectors/en/vectors.vec" in manifest["inputs"] and "space" not in manifest
    metrics = json.loads((workdir / "results" / "runs" / "ner" / "en" / "muse_transfer" / "char" / "seed1" / "es"
                          / "metrics.json").read_text())
    assert "results/mapping/unsupervised/es-en/vectors.vec" in metrics["inputs"]
    bao1 = pd.read_csv(workdir / "results" / "tables" / "bao2019_mlma" / "table1.csv")
    muse = bao1[bao1["row"] == "MUSE*"].iloc[0]
    assert "(n=2)" in muse["es ours"]
    assert muse["de ours"] == "not run"  # the table asks for nochar for de: not in the fixture plan
    # van der Heijden's MUSE column: the Transformer-CRF over the same aligned vectors.
    metrics = json.loads((workdir / "results" / "runs" / "ner" / "en" / "heijden_tagger" / "muse" / "seed1" / "es"
                          / "metrics.json").read_text())
    assert "results/mapping/unsupervised/es-en/vectors.vec" in metrics["inputs"]
    heijden = pd.read_csv(workdir / "results" / "tables" / "heijden2019_multilingual_embeddings" / "table2.csv")
    spanish = heijden[heijden["row"] == "NER Spanish"].iloc[0]
    # BPE BOW: built, not in the fixture (either half of "a/b").
    assert "(n=2)" in spanish["MUSE ours"] and spanish["BPE BOW ours"] == "not run / not run"
    assert "(n=2)" in spanish["LASER-top ours"] and "(n=2)" in spanish["BPE GRU ours"]
    # The "b" half of "a/b": LASER-top trained on Spanish itself, compared with the paper's b.
    zero_shot, monolingual = spanish["LASER-top ours"].split(" / ")
    assert "(n=2)" in zero_shot and re.fullmatch(r"\d\.\d{3} ± \d\.\d{3}", monolingual)
    assert spanish["LASER-top diff"].count("/") == 1 and spanish["BPE GRU ours"].endswith(" / not run")


def test_heijden_joint_training_mixes_languages_and_table3_prints_the_change(fixture_run):
    """Table 3: scenario A trains on a quarter of each language, B on all of English and the
    same quarters of the others; the cell is A's score and B - A; Figure 3 is drawn from it."""
    workdir, _ = fixture_run
    models = workdir / "results" / "models" / "ner" / "en" / "heijden_tagger"
    a = json.loads((models / "joint_a_laser_top" / "seed1" / "model.json").read_text())
    b = json.loads((models / "joint_b_laser_top" / "seed1" / "model.json").read_text())
    # English: 30 training sentences (capped), a quarter is 8 (round(7.5)); Spanish: 20, 5.
    assert a["method_log"]["training_mix"] == {"en": 8, "es": 5}
    assert b["method_log"]["training_mix"] == {"en": 30, "es": 5}
    assert any(path.endswith("results/data/ner/es/train.parquet") for path in a["inputs"])
    table3 = pd.read_csv(workdir / "results" / "tables" / "heijden2019_multilingual_embeddings" / "table3.csv")
    spanish = table3[table3["row"] == "NER Spanish"].iloc[0]
    assert re.fullmatch(r"\d\.\d{3} ± \d\.\d{3} \(n=2\) [+-]\d\.\d{3}( ± \d\.\d{3})?", spanish["LASER-top ours"])
    assert spanish["LASER-top reported"] == "0.619+0.047" and spanish["BERT ours"].startswith("not run")
    bars = pd.read_csv(workdir / "results" / "tables" / "heijden2019_multilingual_embeddings" / "figure3.csv")
    assert "BPE BOW" not in set(bars["column_label"])  # omitted, as in the paper
    laser = bars[(bars["row"] == "NER Spanish") & (bars["column"] == "laser_top")].iloc[0]
    assert laser["reported"] == pytest.approx(0.047) and pd.notna(laser["ours"])
    assert (workdir / "results" / "figures" / "heijden2019_multilingual_embeddings_figure3.png").stat().st_size > 0


def test_heijden_subword_embedders_read_the_cached_sentence_encoder(fixture_run):
    """The sentence-encoder stage writes one artifact (weights, BPE, manifest with held-out
    retrieval accuracy); the BPE / LASER taggers read it and record its digest."""
    workdir, _ = fixture_run
    manifest = json.loads((workdir / "results" / "lms" / "laser" / "encoder.json").read_text())
    assert manifest["kind"] == "laser_standin" and manifest["targets"] == ["en", "es"]
    assert set(manifest["final_retrieval_accuracy"]) == {"es", "nl"}
    assert manifest["pairs"]["nl->en"] == 50 and manifest["pairs"]["en->es"] == 50  # 60 lines, 10 held out
    assert [h["step"] for h in manifest["history"]] == [0, 10, 20]
    for setting in ("laser_top", "bpe_gru"):
        run = workdir / "results" / "models" / "ner" / "en" / "heijden_tagger" / setting / "seed1"
        model = json.loads((run / "model.json").read_text())
        assert model["state"]["encoder_sha256"] == manifest["weights"]["sha256"]
        metrics = json.loads((workdir / "results" / "runs" / "ner" / "en" / "heijden_tagger" / setting / "seed1"
                              / "es" / "metrics.json").read_text())
        assert "results/lms/laser/encoder.json" in metrics["inputs"]


def test_mlma_taggers_read_a_cached_lm_and_table4_is_regenerated(fixture_run):
    """Bao's MLMA: the LM stage writes one artifact per variant (perplexity per language and
    alignment per layer logged); taggers over it record its digest, the multi-source run reads
    the co-source's training table; Table 4 gets our neighbours beside the paper's."""
    workdir, _ = fixture_run
    group = workdir / "results" / "lms" / "avl_init" / "en-es-nl"
    lm = json.loads((group / "lm.json").read_text())
    history = lm["history"][-1]
    assert set(history["perplexity"]) == {"en", "es", "nl"} and all(v > 1 for v in history["perplexity"].values())
    assert {"avl/l0", "avl/l1"} <= set(history["alignment"])  # 1 layer + embeddings: l0, l1
    assert lm["init"]["languages"]["es"]["vectors"] == "results/mapping/unsupervised/es-en/vectors.vec"
    model = json.loads((workdir / "results" / "models" / "ner" / "en" / "mlma" / "avl_init_sws" / "seed1"
                        / "model.json").read_text())
    assert model["state"]["lm_sha256"] == lm["weights"]["sha256"]
    assert str(group / "lm.json").endswith(next(k for k in model["inputs"] if k.endswith("lm.json")))
    metrics = json.loads((workdir / "results" / "runs" / "ner" / "en" / "mlma" / "avl_init_sws" / "seed1" / "es"
                          / "metrics.json").read_text())
    assert {r["selection"] for r in metrics["results"]} == {"src_dev", "tgt_dev", "last"}
    assert all(0 <= r["f1"] <= 100 for r in metrics["results"])
    multi = json.loads((workdir / "results" / "models" / "ner" / "en" / "mlma_multi" / "avl_fws" / "nl" / "seed1"
                        / "model.json").read_text())
    assert "results/data/ner/es/train.parquet" in multi["inputs"]  # nl's co-source
    bao1 = pd.read_csv(workdir / "results" / "tables" / "bao2019_mlma" / "table1.csv")
    assert "(n=1)" in bao1[bao1["row"] == "MLMA-Avl (init) + s.w.s."].iloc[0]["es ours"]
    bao4 = pd.read_csv(workdir / "results" / "tables" / "bao2019_mlma" / "table4.csv").set_index("row")
    assert bao4.loc["MLMA-Av1: chair (noun)", "English ours"] == "sweden currently holds the eu [chair] ."
    assert "[" in bao4.loc["MLMA-Av1: chair (noun)", "Nearest Spanish ours"]
    assert len(bao4.loc["MUSE: brown", "Nearest Spanish ours"].split(", ")) in (1, 5)


def test_vectors_mappings_and_translations_are_built(fixture_run):
    workdir, _ = fixture_run
    results = workdir / "results"
    # Text: the catalog's texts, deduplicated, then the train tables' tokens (never test).
    counts = json.loads((results / "text" / "en.json").read_text())
    assert [s["source"] for s in counts["sources"]] == ["fx_text_en", "table", "table"]
    assert counts["sources"][0]["lines_kept"] < counts["sources"][0]["lines_read"] == 300
    assert not any("test" in s["path"] or "dev" in s["path"] for s in counts["sources"])
    mapping = pd.read_csv(results / "tables" / "mapping.csv")
    # 1 pair x 2 directions x 2 modes, halves, synthetic, and the nl -> en map the MUSE-initialised
    # LM reads (a mapping another stage uses is built and tabled).
    assert len(mapping) == 1 * 2 * 2 + 2 + 2 + 1
    assert "nl → en" in set(mapping["pair"])
    synthetic = mapping[mapping["pair"].str.startswith("synthetic")].set_index("mode")
    assert synthetic.loc["supervised", "CSLS P@1"] > 95  # Procrustes on a known rotation
    log = json.loads((results / "mapping" / "unsupervised" / "en-es" / "log.json").read_text())
    assert log["candidates"] and "reason" in log and "criterion" in log["baseline_identity"]
    translated = pd.read_parquet(results / "data" / "translated" / "ner" / "en-es" / "train.parquet")
    source = pd.read_parquet(results / "data" / "ner" / "en" / "train.parquet")
    assert list(translated["tags"].map(list)) == list(source["tags"].map(list))
    assert list(translated["tokens"].map(len)) == list(source["tokens"].map(len))
    assert (translated["tokens"].map(list) != source["tokens"].map(list)).any()


def test_adding_a_target_trains_nothing(fixture_run):
    """A new POS target adds that language's data and evaluation jobs, and no training job."""
    workdir, config = fixture_run
    more = workdir / "more_targets.yaml"
    more.write_text(config.read_text().replace("targets: [en, es],", "targets: [en, es, de],"))
    result = snakemake(["--configfile", str(more), "--cores", "2", "-n", "--quiet", "rules", "all"], workdir)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    jobs = dict(line.split()[:2] for line in result.stdout.splitlines()
                if len(line.split()) == 2 and line.split()[1].isdigit())
    assert not any(rule.startswith("train_") for rule in jobs), jobs
    assert jobs["evaluate_source_mono"] == "2" and jobs["evaluate_encoder_transfer"] == "2", jobs
    assert jobs["prepare_corpus"] == "2", jobs  # de dev and test (de POS train is never read)


def test_failing_job_writes_its_traceback_to_its_log(tmp_path):
    """On a cluster the console is gone: the rule's log must hold the error."""
    workdir = tmp_path / "broken"
    workdir.mkdir()
    config = write_fixture_config(workdir)
    text = config.read_text().replace("eval_every: 5", "eval_every: -1")
    config.write_text(text)
    result = snakemake(["--configfile", str(config), "--cores", "1",
                        "results/models/ner/en/source_mono/char/seed1/model.json"], workdir)
    assert result.returncode != 0
    log = (workdir / "results" / "models" / "ner" / "en" / "source_mono" / "char" / "seed1" / "train.log").read_text()
    assert "Traceback" in log and "eval_every must be a positive number" in log


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
    # van der Heijden's MUSE column reads MUSE's published aligned vectors of both languages:
    # downloaded, never mapped by the workflow.
    assert "resources/downloads/muse/vectors/wiki.multi.hu.vec" in result.stdout
    assert "results/mapping/unsupervised/hu-en" not in result.stdout
    # Bari's English GloVe row: GloVe's 200-d member converted once, scored on English alone.
    assert "results/vectors/glove/en/vectors.vec" in result.stdout
    glove_targets = set(re.findall(r"results/runs/ner/en/source_mono/glove/seed\d+/(\w+)/metrics\.json", result.stdout))
    assert glove_targets == {"en"}


def test_lint_is_clean():
    result = subprocess.run([*SNAKEMAKE, "--lint"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
