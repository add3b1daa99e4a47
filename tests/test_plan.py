"""xlt.plan: the runs a config asks for, and its mistakes caught before any job runs."""
import pytest
import yaml

from xlt.errors import ConfigError
from xlt.plan import Plan
from workflow_fixture import REPO


def _config(**overrides):
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    config.update(overrides)
    return config


def test_default_plan_runs_every_setting_and_seed():
    plan = Plan(_config())
    runs = list(plan.runs())
    # NER Source-Mono (2 random + 2 monolingual-vector settings) on English and Table 2's
    # char_monoemb on es, nl, de, ar, fi; Bari's Cross-* (2 Cross-Word settings, Cross-Shared,
    # Cross-Augmented) x 5 target spaces; Bao's MUSE* (NER char + nochar, POS nochar); van der
    # Heijden's Transformer-CRF over MUSE vectors (NER, CoNLL POS); the encoder on POS and the
    # MISC-free base model; the NER encoder (Θ_src), UniTrans' Data Transfer and its 8
    # settings, one model per target (es, nl, de): one seed each (the plan's; the teachers of
    # the ensemble's seed 2 are trained for it, not scored). Meta-NER's 4 settings on the two tasks; Table 6's two
    # low-resource methods x 3 fractions x one model per target (es, nl, de, fr, zh); Bao's MLM
    # (4 settings) and MLMA (16 NER settings, 4 POS) with one model each, multi-source MLMA one
    # per target its setting is for (char: es, nl; nochar: de); van der Heijden's Table 2: the
    # five subword columns beside MUSE on English (NER, CoNLL POS), all six trained on nl, de
    # and es for the "b" halves (German's left out later by the DAG: a manual resource), and
    # BERT's own setting on English CoNLL POS, NER (with model transfer above) and the three
    # languages of each task; one seed (Table 3's joint training is not in this plan: budget).
    assert len(runs) == ((4 + 5) + 4 * 5 + (2 + 1) + 2 + 1 + 1) + (1 + 3 * (1 + 8)) + 8 * 1 + 2 * 3 * 5 \
        + (4 + 16 + 4 + 2 * 3) + (5 * 2 + 6 * 2 * 3) + (1 + 1 + 2 * 3)
    assert {(r.method, r.space) for r in runs if r.method in ("data_transfer", "unitrans")} == {
        (m, t) for m in ("data_transfer", "unitrans") for t in ("es", "nl", "de")}
    assert plan.max_sentences("train", "unitrans") < plan.max_sentences("train")  # its own budget cap
    assert plan.word_embeddings("source_mono", "char_monoemb") == "monolingual"
    assert plan.word_embeddings("source_mono", "char") == "random"
    table2 = {r.source for r in runs if r.setting == "char_monoemb"}
    assert table2 == {"en", "es", "nl", "de", "ar", "fi"}
    assert all(plan.run_targets(r) == (r.source,) for r in runs if r.setting == "char_monoemb" and r.source != "en")
    assert {r.space for r in runs if r.method == "cross_augmented"} == {"es", "nl", "de", "ar", "fi"}
    assert {r.seed for r in runs} == {1}
    experiment = plan.experiment("ner", "en", "unitrans")
    assert plan.ensemble_seeds(experiment, "ensemble") == (1, 2)  # M = 2 teachers of Eq. 14
    assert plan.ensemble_seeds(experiment, "default") == (1,)
    assert plan.method_params("source_mono", "nochar")["use_char"] is False
    muse = {(r.task, r.setting): plan.run_targets(r) for r in runs if r.method == "muse_transfer"}
    assert muse[("ner", "nochar")] == ("es", "nl", "de", "zh") and len(muse[("pos", "nochar")]) == 8
    assert all(plan.word_embeddings("muse_transfer", s) == "aligned" for _, s in muse)


def test_paper_plan_runs_muse_transfer_once_per_setting_and_seed():
    """Bao's MUSE*: one English model per setting and seed serves every target (each target
    is read through its own alignment), with Bao's tagger settings."""
    config = _config()
    config.update(yaml.safe_load((REPO / "config" / "paper.yaml").read_text()))
    plan = Plan(config)
    runs = [r for r in plan.runs() if r.method == "muse_transfer"]
    assert len(runs) == (2 + 1) * 5 and all(r.space is None for r in runs)  # NER char+nochar, POS nochar
    assert plan.word_embeddings("muse_transfer", "char") == "aligned"
    assert plan.alignment("muse_transfer", "nochar") == "unsupervised"
    # van der Heijden read MUSE's published aligned vectors (the default plan maps its own).
    assert plan.alignment("heijden_tagger", "muse") == "published"
    assert Plan(_config()).alignment("heijden_tagger", "muse") == "unsupervised"
    params = plan.method_params("muse_transfer", "char")
    assert (params["hidden"], params["char_hidden"], params["batch_size"], params["epochs"], params["patience"]) == \
        (300, 100, 20, 20, 3)
    bad = _config(methods={**config["methods"], "muse_transfer": {**config["methods"]["muse_transfer"],
                                                                  "params": {**params, "alignment": "bilingual"}}},
                  experiments=[e for e in config["experiments"] if e["method"] == "muse_transfer"])
    with pytest.raises(ConfigError, match="alignment: supervised, unsupervised, published"):
        Plan(bad)


def test_paper_plan_reads_ner_corpora_for_the_misc_free_task():
    config = _config()
    config.update(yaml.safe_load((REPO / "config" / "paper.yaml").read_text()))
    plan = Plan(config)
    assert plan.catalog_task("ner_nomisc") == "ner" and plan.catalog_task("pos") == "pos"


@pytest.mark.parametrize(
    "experiment, message",
    [
        ({"task": "ner", "source": "en", "targets": ["es"], "method": "nope", "settings": ["x"]}, "method 'nope'"),
        ({"task": "ner", "source": "en", "targets": ["es"], "method": "source_mono", "settings": ["x"]}, "setting 'x'"),
        ({"task": "chunk", "source": "en", "targets": ["es"], "method": "source_mono", "settings": ["char"]}, "unknown task"),
    ],
)
def test_config_mistakes_are_named(experiment, message):
    with pytest.raises(ConfigError, match=message):
        Plan(_config(experiments=[experiment]))


def test_duplicate_experiments_are_refused():
    exp = {"task": "ner", "source": "en", "targets": ["es"], "method": "source_mono", "settings": ["char"]}
    with pytest.raises(ConfigError, match="listed twice"):
        Plan(_config(experiments=[exp, dict(exp)]))


def test_describe_names_the_plan_its_stand_ins_caps_and_seeds():
    text = Plan(_config()).describe()
    assert text.startswith("plan 'default'; 1 seed (1); runs read the first 1200 train")
    assert "ensemble of the teachers of seeds 1, 2" in text.split("unitrans: ")[1]
    assert "seeds 1, 2" not in text.replace("teachers of seeds 1, 2", "")  # every run: the plan's one
    assert "encoder_transfer: intfloat/multilingual-e5-small (its bottom 4 layers, bfloat16 autocast), " in text
    assert "instead of mBERT" in text  # the plan_note
    paper = Plan(_config(**yaml.safe_load((REPO / "config" / "paper.yaml").read_text()))).describe()
    assert "5 seeds" in paper and "full corpora" in paper
    assert "source_mono: 30 epochs, evaluated every 150 updates" in paper
    assert "encoder_transfer: bert-base-multilingual-cased, 3 epochs" in paper  # every layer


def test_evaluation_parameters_never_reach_training():
    plan = Plan(_config())
    assert "selections" not in plan.training_params("source_mono", "char")
    assert plan.selections("source_mono", "char") == ["src_dev", "tgt_dev", "last"]


def test_metaner_adaptation_parameters_reach_evaluation_only():
    plan = Plan(_config())
    assert {"adapt_lr", "adapt_steps", "selections"}.isdisjoint(plan.training_params("metaner", "default"))
    assert plan.evaluation_params("metaner", "default") == {"adapt_lr": 1e-5, "adapt_steps": 1}
    assert plan.evaluation_params("source_mono", "char") == {}


def test_an_experiment_may_train_its_own_seeds():
    plan = Plan(_config())
    runs = list(plan.runs())
    assert {r.seed for r in runs if r.method == "metaner"} == {1}
    assert {r.seed for r in runs if r.method == "encoder_transfer"} == {1}
    own = _config(experiments=[{**e, "seeds": [3, 4]} if e["method"] == "muse_transfer" else e
                               for e in _config()["experiments"]])
    assert {r.seed for r in Plan(own).runs() if r.method == "muse_transfer"} == {3, 4}
    assert "seeds 3, 4" in Plan(own).describe().split("muse_transfer: ")[1]
    assert {(r.task, r.setting) for r in runs if r.method == "metaner"} == {
        (task, s) for task in ("ner", "ner_nomisc") for s in ("default", "no_maxloss", "no_masking", "no_maxloss_masking")}
    assert "metaner: intfloat/multilingual-e5-small (its bottom 4 layers, bfloat16 autocast), " \
           "60 meta-updates of 8 tasks" in plan.describe()
    paper = Plan(_config(**yaml.safe_load((REPO / "config" / "paper.yaml").read_text())))
    assert {r.seed for r in paper.runs() if r.method == "metaner"} == {95, 495, 539, 667, 806}  # its code's
    assert {r.seed for r in paper.runs() if r.method == "encoder_lowres"} == {122, 649, 705, 854, 975}


def test_word_space_methods_train_one_model_per_target_in_the_papers_direction():
    config = _config()
    config.update(yaml.safe_load((REPO / "config" / "paper.yaml").read_text()))
    plan = Plan(config)
    runs = [r for r in plan.runs() if r.method == "cross_word"]
    # 2 settings x 5 seeds x 5 target spaces, each scored on its own target only.
    assert len(runs) == 2 * 5 * 5
    assert {r.space for r in runs} == {"es", "nl", "de", "ar", "fi"}
    assert all(plan.run_targets(r) == (r.space,) for r in runs)
    source_mono = next(r for r in plan.runs() if r.method == "source_mono")
    assert source_mono.space is None and "es" in plan.run_targets(source_mono)
    assert [plan.space_direction("cross_word", t) for t in ("es", "nl", "de", "ar", "fi")] == \
        ["source_to_target"] * 3 + ["target_to_source"] * 2
    assert plan.method_params("cross_shared", "default")["shared_lstm"] is True
    assert plan.method_params("cross_word", "char")["eval_every"] == 150  # Bari's cadence


@pytest.mark.parametrize("targets, direction, message", [
    (["en", "es"], {"default": "source_to_target"}, "drop the source 'en'"),
    (["es"], {"de": "source_to_target"}, "'es' gets None"),
    (["es"], {"default": "sideways"}, "'es' gets 'sideways'"),
])
def test_word_space_mistakes_are_named(targets, direction, message):
    config = _config()
    config["methods"]["cross_word"]["word_space"] = {"mapping": "unsupervised", "direction": direction}
    config["experiments"] = [{"task": "ner", "source": "en", "targets": targets, "method": "cross_word",
                              "settings": ["char"]}]
    with pytest.raises(ConfigError, match=message):
        Plan(config)


@pytest.mark.parametrize("edit, message", [
    (lambda c: c["experiments"].__setitem__(slice(None), [e for e in c["experiments"] if e["method"] != "cross_shared"]),
     "cross_shared/default, which needs its own experiment"),
    (lambda c: next(e for e in c["experiments"] if e["method"] == "cross_augmented")["targets"].append("it"),
     r"targets \['it'\], which its base"),
    (lambda c: c["methods"]["cross_augmented"]["params"].__setitem__("base_runs", ["cross_word"]),
     "is not 'method/setting'"),
])
def test_cross_augmented_needs_its_base_runs_in_the_plan(edit, message):
    config = _config()
    edit(config)
    with pytest.raises(ConfigError, match=message):
        Plan(config)


def test_paper_plan_overrides_every_budget_value_of_the_default_plan():
    """--configfile merges nested keys one by one: a key the paper plan leaves out keeps the
    default plan's (scaled-down) value. Every leaf of the default plan's mapping, data and
    method params must be restated by the paper plan."""
    default = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    paper = yaml.safe_load((REPO / "config" / "paper.yaml").read_text())

    def leaves(node, path=()):
        if isinstance(node, dict) and node:
            for key, value in node.items():
                yield from leaves(value, (*path, key))
        else:
            yield path

    def has(node, path):
        for key in path:
            if not isinstance(node, dict) or key not in node:
                return False
            node = node[key]
        return True

    scaled = [p for p in leaves({k: default[k] for k in ("data", "methods", "vectors", "mapping", "lms")})
              if not has(paper, p) and not (p[0] == "methods" and p[1] not in paper["methods"])]
    assert scaled == []


def test_a_setting_with_languages_is_scored_on_those_targets_alone():
    """Bari's GloVe row: English vectors only, so the run is scored on English only."""
    config = _config()
    config.update(yaml.safe_load((REPO / "config" / "paper.yaml").read_text()))
    plan = Plan(config)
    glove = [r for r in plan.runs() if r.setting == "glove"]
    assert len(glove) == 5 and all(plan.run_targets(r) == ("en",) for r in glove)
    assert plan.vectors_family("source_mono", "glove") == "glove"
    assert plan.vectors_family("source_mono", "char_monoemb") is None
    bad = {**config["methods"]["source_mono"]["settings"], "glove": {"word_embeddings": "monolingual", "vectors": "w2v"}}
    with pytest.raises(ConfigError, match="vectors 'w2v'"):
        Plan({**config, "methods": {**config["methods"], "source_mono": {**config["methods"]["source_mono"],
                                                                       "settings": bad}}})

    without = {**config, "vectors": {k: v for k, v in config["vectors"].items() if k != "glove"}}
    with pytest.raises(ConfigError, match="vectors.glove"):
        Plan(without)


def test_a_target_without_a_test_corpus_is_refused_by_name():
    """Adding a target the catalog has no test split for (Italian NER) names the experiment and
    the missing split, instead of scheduling evaluations with nothing to score."""
    from xlt.catalog import load_catalog

    config = _config()
    catalog = load_catalog(REPO / "config" / "datasets.yaml")
    Plan(config).check_corpora(catalog)  # the default plan is complete
    config["experiments"] = [{**exp, "targets": [*exp["targets"], "it"]} if exp["task"] == "ner" else exp
                             for exp in config["experiments"]]
    with pytest.raises(ConfigError, match="it test"):
        Plan(config).check_corpora(catalog)


def test_unitrans_trains_per_target_and_needs_the_runs_it_reads():
    """UniTrans reads Θ_src (encoder_transfer) and Θ_trans (data_transfer) as files: the plan
    must run them for its targets; each UniTrans setting trains one model per target."""
    config = _config()
    config.update(yaml.safe_load((REPO / "config" / "paper.yaml").read_text()))
    plan = Plan(config)
    runs = [r for r in plan.runs() if r.method == "unitrans" and r.setting == "default"]
    assert sorted({r.space for r in runs}) == ["de", "es", "nl", "no"]
    assert len(runs) == 4 * len(config["seeds"])
    assert all(plan.run_targets(r) == (r.space,) for r in runs)

    without = [e for e in config["experiments"] if e["method"] != "data_transfer"]
    with pytest.raises(ConfigError, match="data_transfer/default models"):
        Plan({**config, "experiments": without})
    fewer = [{**e, "targets": ["es"]} if e["method"] == "data_transfer" else e for e in config["experiments"]]
    with pytest.raises(ConfigError, match="data_transfer/default trains no model"):
        Plan({**config, "experiments": fewer})
    no_teacher = [{**e, "settings": [s for s in e["settings"] if s != "no_unlabeled"]} if e["method"] == "unitrans"
                  else e for e in config["experiments"]]
    with pytest.raises(ConfigError, match="teachers.teach"):
        Plan({**config, "experiments": no_teacher})
    assert plan.ensemble_seeds(plan.experiment("ner", "en", "unitrans"), "ensemble") == tuple(config["seeds"])
    settings = config["methods"]["unitrans"]["settings"]
    stray = {**config["methods"], "unitrans": {**config["methods"]["unitrans"], "settings": {
        **settings, "default": {**settings["default"], "teacher_seeds": [1, 2]}}}}
    with pytest.raises(ConfigError, match="teacher_seeds names the teachers of an ensemble"):
        Plan({**config, "methods": stray})
    with_source = [{**e, "targets": ["en", *e["targets"]]} if e["method"] == "unitrans" else e
                   for e in config["experiments"]]
    with pytest.raises(ConfigError, match="drop the source"):
        Plan({**config, "experiments": with_source})


def test_low_resource_runs_need_the_run_they_start_from_and_its_seed():
    config = _config()
    plan = Plan(config)
    assert plan.start_run("metaner_lowres", "lowres_1") == ("metaner", "default")
    low = [r for r in plan.runs() if r.method == "metaner_lowres"]
    assert {r.space for r in low} == {"es", "nl", "de", "fr", "zh"} and {r.seed for r in low} == {1}
    without = _config(experiments=[e for e in config["experiments"] if e["method"] != "metaner"])
    with pytest.raises(ConfigError, match="starts from metaner/default"):
        Plan(without)
    seeds = _config(experiments=[{**e, "seeds": [3]} if e["method"] == "metaner_lowres" else e
                                 for e in config["experiments"]])
    with pytest.raises(ConfigError, match=r"no seed \[3\]"):
        Plan(seeds)


def test_mlma_settings_are_scored_where_the_tables_ask_and_read_their_lm():
    """Bao's CLCR runs: char-LSTM settings for es/nl NER, _nochar for de/zh NER and all of POS;
    the default plan's one LM per variant serves every target, the paper's are pairwise."""
    plan = Plan(_config())
    targets = {(r.task, r.method, r.setting, r.space): plan.run_targets(r) for r in plan.runs()
               if r.method in ("mlm", "mlma", "mlma_multi")}
    assert targets[("ner", "mlma", "avl_sws", None)] == ("es", "nl")
    assert targets[("ner", "mlma", "avl_sws_nochar", None)] == ("de", "zh")
    assert targets[("ner", "mlma", "mv_sws_nochar", None)] == ("de",)  # Table 2 has no Mv row
    assert len(targets[("pos", "mlma", "avl_sws_nochar", None)]) == 8
    assert {k[3] for k in targets if k[1] == "mlma_multi" and k[2] == "avl_sws"} == {"es", "nl"}
    everyone = ["da", "de", "el", "en", "es", "it", "nl", "pt", "sv", "zh"]
    assert plan.lm_group("mlma", "avl_sws", "en", None) == everyone
    assert plan.co_sources("mlma_multi", "avl_sws", "es") == ["nl"]

    paper = _config()
    paper.update(yaml.safe_load((REPO / "config" / "paper.yaml").read_text()))
    paper_plan = Plan(paper)
    assert paper_plan.lm_group("mlma", "avl_sws", "en", "es") == ["en", "es"]
    assert paper_plan.lm_group("mlma_multi", "avl_sws", "en", "es") == ["en", "es", "nl"]
    assert paper_plan.lm_group("mlma_multi", "avl_sws", "en", "nl") == ["en", "es", "nl"]
    with pytest.raises(ConfigError, match="per_target"):
        paper_plan.lm_group("mlma", "avl_sws", "en", None)
    config = _config()
    config["lms"] = {**config["lms"], "languages": ["en", "es"]}
    with pytest.raises(ConfigError, match=r"lms.languages"):
        Plan(config).lm_group("mlma", "avl_sws", "en", "de")
