# Shared helpers: target lists and input functions. Everything plan-specific is read from
# `config`; nothing here knows a language or a paper by name.
import os
import sys
from functools import cache
from pathlib import Path

# Scripts run in their own interpreter: make the library importable there even without
# `pip install -e .` (PYTHONPATH is inherited; sys.path covers this process).
_SRC = str(Path(workflow.basedir) / "src")
sys.path.insert(0, _SRC)

from xlt import errors as xlt_errors  # noqa: E402
from xlt import plan as xlt_plan  # noqa: E402
from xlt.catalog import load_catalog  # noqa: E402
from xlt.workflow import export_library_path  # noqa: E402

export_library_path(_SRC)


def repo_path(path):
    """Config paths name files of this repository: resolve them against the Snakefile's
    folder, so that a run from another working directory (-d) finds them."""
    if os.path.isabs(path):
        return path
    return os.path.relpath(os.path.join(workflow.basedir, path))


# Resolved once here, so that scripts see the same paths through snakemake.config.
config["catalog"] = repo_path(config["catalog"])
config["tables_dir"] = repo_path(config["tables_dir"])

PLAN = xlt_plan.Plan(config)
CATALOG = load_catalog(config["catalog"])
PLAN.check_corpora(CATALOG)
DOWNLOADS = config["download_dir"]
SPLITS = ["train", "dev", "test"]


# Catalog files by their path under the download dir (the fetch rule's wildcard).
RESOURCE_BY_FILE = {r.file: r for r in CATALOG.resources.values() if not r.manual}


def corpus_files(wildcards):
    """Downloaded (or manually provided) files one canonical split is built from, in
    concatenation order; a tag map (POS columns -> universal tags) comes last."""
    spec = CATALOG.corpus(PLAN.catalog_task(wildcards.task), wildcards.lang, wildcards.split)
    files = [resource_path(entry.resource) for entry in spec.entries]
    if spec.tag_map is not None:
        files.append(resource_path(CATALOG.resource(spec.tag_map.resource)))
    return files


def resource_path(resource):
    if resource.manual:
        # A configured local copy, or a placeholder produced by manual_resource, which
        # fails with instructions: the DAG still resolves (dry runs of the paper plan work)
        # and only the jobs that need the missing corpus fail.
        return config["manual_files"].get(resource.id, f"resources/manual/{resource.id}")
    return f"{DOWNLOADS}/{resource.file}"


def data_table(task, lang, split):
    return f"results/data/{task}/{lang}/{split}.parquet"


# A trained model is an artifact keyed by the run; each target is scored by its own job under
# the run's folder, so adding a target adds evaluation jobs and never a training job.
MODEL_DIR = "results/models/{task}/{source}/{method}/{setting}/seed{seed}"
# Methods that train one model per target (Bari's Cross-* in each target's word space,
# UniTrans on each target's translated and unlabeled data) keep it under the target's name.
SPACE_MODEL_DIR = "results/models/{task}/{source}/{method}/{setting}/{space}/seed{seed}"
EVAL_DIR = "results/runs/{task}/{source}/{method}/{setting}/seed{seed}/{target}"


def has_word_space(method):
    return bool(config["methods"].get(method, {}).get("word_space"))


def model_dir_pattern(method):
    return SPACE_MODEL_DIR if PLAN.per_target(method) else MODEL_DIR


def run_model(task, source, method, setting, seed, target=None):
    """model.json of a run (of the model trained for ``target``, for a per-target method)."""
    model_dir = model_dir_pattern(method).format(task=task, source=source, method=method, setting=setting,
                                                 seed=seed, space=target)
    return os.path.join(model_dir, "model.json")


def unlabeled_source(method, lang):
    """Where a method's unlabeled ``lang`` sentences come from (``unlabeled_source``): the
    train split without its tags (``train``), or the monolingual text (``text``: a stand-in
    where that split is a manual resource the plan lacks)."""
    source = (config["methods"][method].get("unlabeled_source") or {}).get(lang, "train")
    if source not in ("train", "text"):
        raise ValueError(f"methods.{method}.unlabeled_source.{lang}: {source!r} is not train or text")
    return source


def unlabeled_table(task, lang, method):
    """The unlabeled sentences a method reads for ``lang`` (UniTrans' D_T): never a tag."""
    if unlabeled_source(method, lang) == "text":
        return f"results/text/{lang}.unlabeled.parquet"
    return f"results/data/{task}/{lang}/train.unlabeled.parquet"


def translated_table(task, source, target):
    return f"results/data/translated/{task}/{source}-{target}/train.parquet"


def teacher_probs_file(task, source, method, teacher, seed, target):
    return f"results/distill/{task}/{source}/{method}/{teacher}/seed{seed}/{target}.safetensors"


def teacher_run(method, teacher):
    """(method, setting) of the run that is ``teacher`` for a distilling method (``teachers``)."""
    teachers = PLAN.teachers(method)
    if teacher not in teachers:
        raise ValueError(f"methods.{method}.teachers has no {teacher!r} (has {sorted(teachers)})")
    return teachers[teacher]


def teacher_model_files(wildcards):
    """The trained run that is one teacher of a distilling method (rule teacher_probs)."""
    method, setting = teacher_run(wildcards.method, wildcards.teacher)
    model = run_model(wildcards.task, wildcards.source, method, setting, wildcards.seed,
                      wildcards.target if PLAN.per_target(method) else None)
    return {"model": model, "checkpoints": os.path.join(os.path.dirname(model), "checkpoints")}


def unitrans_inputs(exp, setting, seed, target):
    """What a UniTrans stage reads besides the source's tables (xlt.methods.unitrans): the
    translated set (teacher: as its training data; combination), Θ_src (teacher), or the
    target's unlabeled sentences and the probability files of its teachers (student; every
    seed of its teachers for an ensemble: PLAN.ensemble_seeds)."""
    from xlt.methods.unitrans_stages import probs_key, stage, student_teachers

    params = PLAN.method_params(exp.method, setting)
    which = stage(params)
    translated = translated_table(exp.task, exp.source, target)
    if which == "teacher":
        src_method, src_setting = teacher_run(exp.method, "src")
        src_target = target if PLAN.per_target(src_method) else None
        # model.json records the sha256 of each checkpoint, checked when the weights are read.
        return {"train": translated,
                "source_model": run_model(exp.task, exp.source, src_method, src_setting, seed, src_target)}
    if which == "combination":
        return {"translated": translated}
    soft, voters = student_teachers(params)
    seeds = list(PLAN.ensemble_seeds(exp, setting)) if params.get("ensemble") else [int(seed)]
    files = {"unlabeled": unlabeled_table(exp.task, target, exp.method)}
    for teacher in dict.fromkeys([*([soft] if soft else []), *voters]):
        for s in seeds:
            files[probs_key(teacher, s)] = teacher_probs_file(exp.task, exp.source, exp.method, teacher, s, target)
    return files


def representations_file(method, task, lang, split):
    return f"results/representations/{method}/{task}/{lang}/{split}.safetensors"


def reads_representations(method):
    """Whether a method reads sentence representations (Meta-NER: ``sentence_representations``)."""
    return bool(config["methods"][method].get("sentence_representations"))


def representation_params(method):
    """How a method's [CLS] vectors are made: its encoder (every setting must share it: one
    file serves them all), the layers kept, batch size and subword limit."""
    cfg = config["methods"][method]
    made = {(PLAN.method_params(method, s)["encoder"], int(PLAN.method_params(method, s)["max_subwords"]))
            for s in cfg["settings"]}
    if len(made) != 1:
        raise xlt_errors.ConfigError(f"methods.{method}: its settings read one set of sentence representations "
                                     f"and so must share one encoder and max_subwords (got {sorted(made)})")
    encoder, max_subwords = made.pop()
    return {"encoder": encoder, "layers": cfg["sentence_representations"]["layers"],
            "batch_size": int(cfg["sentence_representations"]["batch_size"]), "max_subwords": max_subwords}


def representation_cap(method, split):
    """The sentences a method's jobs read of a split: the training cap (its own, else the
    plan's) for train, the plan's evaluation caps for dev and test (as run_params, eval_params)."""
    return PLAN.max_sentences(split, method if split == "train" else None)


def word_space_vectors(method, source, target):
    """(source-side, target-side) vectors of the common space of ``source`` and ``target``:
    the MUSE mapping of one side onto the other's own vectors, in the configured direction."""
    mode = PLAN.word_space(method)["mapping"]
    if PLAN.space_direction(method, target) == "source_to_target":
        return f"results/mapping/{mode}/{source}-{target}/vectors.vec", vectors_file(target)
    return vectors_file(source), f"results/mapping/{mode}/{target}-{source}/vectors.vec"


def train_inputs(wildcards):
    """What a training job reads: the source's train and dev tables, nothing of a target
    (a word-space method also reads the source's vectors in the target's common space)."""
    exp = PLAN.experiment(wildcards.task, wildcards.source, wildcards.method)
    files = {
        "train": data_table(exp.task, exp.source, "train"),
        "source_dev": data_table(exp.task, exp.source, "dev"),
    }
    params = PLAN.method_params(wildcards.method, wildcards.setting)
    if params.get("train_data") == "translated":
        # UniTrans' Data Transfer: the source training set translated into the run's target.
        files["train"] = translated_table(exp.task, exp.source, wildcards.space)
    elif params.get("train_data") == "target":
        # Meta-NER's low-resource runs: the target's labelled training set (a seeded sample of
        # it is drawn by the method), fine-tuning the run they start from.
        files["train"] = data_table(exp.task, wildcards.space, "train")
    elif PLAN.method_params(wildcards.method, wildcards.setting).get("stage"):
        files.update(unitrans_inputs(exp, wildcards.setting, wildcards.seed, wildcards.space))
    elif has_word_space(wildcards.method):
        files["vectors"] = word_space_vectors(wildcards.method, exp.source, wildcards.space)[0]
    elif PLAN.word_embeddings(wildcards.method, wildcards.setting) in ("monolingual", "aligned"):
        # Source-Mono over monolingual vectors, MUSE direct transfer, van der Heijden's tagger:
        # the source's own vectors (the published aligned file, for alignment: published).
        files["vectors"] = aligned_vectors(wildcards.method, wildcards.setting, exp.source, exp.source)
    elif PLAN.word_embeddings(wildcards.method, wildcards.setting) == "subword":
        # van der Heijden's BPE / LASER embedders: the sentence encoder whose pieces they read.
        files.update(laser_files())
    for lang in PLAN.train_mix(wildcards.method, wildcards.setting, exp.source):
        # Joint training (van der Heijden's Table 3): the other languages' training tables, a
        # share of each drawn by the method (xlt.methods.training_mix).
        if lang != exp.source:
            files[f"mix_train_{lang}"] = data_table(exp.task, lang, "train")
    if params.get("lm"):
        # MLMA / MLM: the frozen LM whose states are the tagger's word input, and, for the
        # multi-source runs, the co-sources' training tables (each read in its language).
        space = wildcards.space if PLAN.per_target(wildcards.method) else None
        files.update(lm_files(wildcards.method, wildcards.setting, exp.source, space))
        for lang in PLAN.co_sources(wildcards.method, wildcards.setting, space) if params.get("co_sources") else ():
            files[f"co_source_train_{lang}"] = data_table(exp.task, lang, "train")
    start = PLAN.start_run(wildcards.method, wildcards.setting)
    if start is not None:
        # model.json records each checkpoint's sha256 (checked when read); the folder is
        # named too, so that a rerun of the base run reruns this one.
        files["base_model"] = run_model(exp.task, exp.source, *start, wildcards.seed)
        files["base_checkpoints"] = os.path.join(os.path.dirname(files["base_model"]), "checkpoints")
    if reads_representations(wildcards.method):
        # Meta-NER: the support sets of its pseudo-meta-NER tasks come from these vectors.
        files["representations"] = representations_file(wildcards.method, exp.task, exp.source, "train")
    bases = PLAN.base_runs(wildcards.method, wildcards.setting)
    if bases:
        # Cross-Augmented: the target's unlabeled train sentences in the same space, and the
        # trained Cross-* runs (same space and seed) it starts from.
        files["target_vectors"] = word_space_vectors(wildcards.method, exp.source, wildcards.space)[1]
        files["target_train"] = data_table(exp.task, wildcards.space, "train")
        for base_method, base_setting in bases:
            files[f"base_{base_method}_{base_setting}"] = run_model(
                exp.task, exp.source, base_method, base_setting, wildcards.seed, wildcards.space)
    return files


def eval_inputs(wildcards):
    """A saved model and one target's test (and dev, where the catalog has one) tables (and,
    for a word-space method, the target's vectors in the space the model was trained in)."""
    keys = {k: wildcards[k] for k in ("task", "source", "method", "setting", "seed")}
    model_dir = model_dir_pattern(wildcards.method).format(**keys, space=wildcards.target)
    files = {"model": f"{model_dir}/model.json", "checkpoints": f"{model_dir}/checkpoints"}
    for split in PLAN.eval_splits(wildcards.task, wildcards.target, CATALOG):
        files[split] = data_table(wildcards.task, wildcards.target, split)
    if reads_representations(wildcards.method):
        # Meta-NER's adaptation: each scored sentence's vector and the source training
        # sentences (and vectors) its support set comes from (test always; dev only when a
        # selection scores it).
        files["source_train"] = data_table(wildcards.task, wildcards.source, "train")
        files["source_representations"] = representations_file(wildcards.method, wildcards.task,
                                                               wildcards.source, "train")
        scored = ["test"] + (["dev"] if "tgt_dev" in PLAN.selections(wildcards.method, wildcards.setting) else [])
        for split in scored:
            if split in files:
                files[f"{split}_representations"] = representations_file(wildcards.method, wildcards.task,
                                                                          wildcards.target, split)
    if PLAN.method_params(wildcards.method, wildcards.setting).get("lm"):
        # The LM the model was trained over, which reads the target's sentences (the model
        # records the LM's digest: a job handed another LM fails).
        space = wildcards.target if PLAN.per_target(wildcards.method) else None
        files.update(lm_files(wildcards.method, wildcards.setting, wildcards.source, space))
    if has_word_space(wildcards.method):
        files["target_vectors"] = word_space_vectors(wildcards.method, wildcards.source, wildcards.target)[1]
    elif PLAN.word_embeddings(wildcards.method, wildcards.setting) in ("monolingual", "aligned"):
        files["target_vectors"] = aligned_vectors(wildcards.method, wildcards.setting,
                                                  wildcards.source, wildcards.target)
    elif PLAN.word_embeddings(wildcards.method, wildcards.setting) == "subword":
        files.update(laser_files())  # the model records the encoder's digest
    return files


def aligned_vectors(method, setting, source, target):
    """The vectors a run over fixed vectors reads for language ``target`` (the source itself
    in training): ``monolingual``, the language's own; ``aligned``, its vectors in the
    source's space: the published MUSE aligned file (``alignment: published``), else its
    MUSE mapping onto the source's own vectors (the source's own vectors for the source)."""
    if PLAN.word_embeddings(method, setting) == "monolingual":
        return vectors_file(target, PLAN.vectors_family(method, setting))
    mode = PLAN.alignment(method, setting)
    if mode == "published":
        if f"muse_aligned_{target}" not in CATALOG.resources:
            raise xlt_errors.ConfigError(
                f"methods.{method} (setting {setting}) reads MUSE's published aligned vectors, and the "
                f"catalog has none for {target!r} (no resource muse_aligned_{target})")
        return resource_path(CATALOG.resource(f"muse_aligned_{target}"))
    if target == source:
        return vectors_file(source)
    return f"results/mapping/{mode}/{target}-{source}/vectors.vec"


def missing_manual(task, lang, split):
    """Manual resources the canonical table (task, lang, split) needs and the config does not
    provide (``manual_files``)."""
    corpus_task = PLAN.catalog_task(task)
    if not CATALOG.has_corpus(corpus_task, lang, split):
        return []
    return [entry.resource.id for entry in CATALOG.corpus(corpus_task, lang, split).entries
            if entry.resource.manual and entry.resource.id not in config["manual_files"]]


def reads_target_train(method, setting, target):
    """Whether a run reads its target's training sentences: labelled (Meta-NER's low-resource
    fine-tuning), or unlabeled: Cross-Augmented, and
    the UniTrans students (and so the teachers' probabilities over them) unless their
    unlabeled sentences come from the target's monolingual text."""
    if PLAN.base_runs(method, setting) or PLAN.method_params(method, setting).get("train_data") == "target":
        return True
    return (PLAN.method_params(method, setting).get("stage") == "student"
            and unlabeled_source(method, target) == "train")


def run_blockers(run, target):
    """Missing manual resources of one (run, target): the source's train/dev tables, the
    target's evaluation tables, and the target's unlabeled train table for methods that read
    it (Cross-Augmented, UniTrans students: German CoNLL-2003 train is licensed)."""
    keys = [(run.task, run.source, "train"), (run.task, run.source, "dev")]
    keys += [(run.task, target, split) for split in PLAN.eval_splits(run.task, target, CATALOG)]
    if reads_target_train(run.method, run.setting, target):
        keys.append((run.task, run.space, "train"))
    keys += [(run.task, lang, "train") for lang in PLAN.train_mix(run.method, run.setting, run.source)]
    return sorted({rid for key in keys for rid in missing_manual(*key)})


def metrics_files():
    """One metrics.json per (run, target) of the plan, but those a missing manual resource
    blocks (their table cells name the resource: blocked_runs)."""
    return [
        os.path.join(EVAL_DIR.format(task=run.task, source=run.source, method=run.method,
                                     setting=run.setting, seed=run.seed, target=target), "metrics.json")
        for run in PLAN.runs()
        for target in PLAN.run_targets(run)
        if not run_blockers(run, target)
    ]


def blocked_runs():
    """(task, source, method, setting, target) the plan leaves out, with what is missing."""
    out = []
    for run in PLAN.runs():
        for target in PLAN.run_targets(run):
            missing = run_blockers(run, target)
            entry = {"task": run.task, "source": run.source, "method": run.method, "setting": run.setting,
                     "target": target, "missing": missing}
            if missing and entry not in out:
                out.append(entry)
    return out


def stats_tables():
    """Canonical tables counted in datasets.csv: those the plan uses, and every corpus a
    paper's data-statistics table reports that the catalog can build (not manual)."""
    from xlt.stats import reported_counts

    # A table whose corpus the user must provide and has not (German CoNLL-2003 train, the
    # source of Bari's Table 2 German row) is left out: its cells name the missing file.
    keys = {key for key in PLAN.data_keys(CATALOG) if not missing_manual(*key)}
    reported = reported_counts([f"{config['tables_dir']}/{paper}.yaml" for paper in config["papers"]])
    for task, lang, split in reported[["task", "lang", "split"]].dropna().itertuples(index=False):
        if CATALOG.has_corpus(task, lang, split) and not CATALOG.corpus(task, lang, split).manual:
            keys.add((task, lang, split))
    return sorted(data_table(*key) for key in keys)


@cache  # asked for by the target list and by each paper's tables step; read once
def paper_table_files(paper):
    from xlt.tables import load_paper_tables

    tables = load_paper_tables(f"{config['tables_dir']}/{paper}.yaml")
    ids = [t.id for t in tables.tables]
    figures = [f.id for f in tables.figures]  # the paper's figures (bars as CSV, the chart)
    return {
        "csv": [f"results/tables/{paper}/{i}.csv" for i in ids + figures],
        "md": [f"results/tables/{paper}/{i}.md" for i in ids],
        "png": [f"results/figures/{paper}_{i}.png" for i in ids + figures],
    }


# --------------------------------------------------------------------------- vectors stage
MAPPING_MODES = ["supervised", "unsupervised"]


def text_resources(lang):
    """Downloaded monolingual text files of a language (catalog `texts:`), in order."""
    return [resource_path(r) for r in CATALOG.texts.get(lang, ())]


def vector_text_tables(lang):
    """Train tables whose tokens join the language's text: never dev or test, never a
    corpus the user must provide (manual)."""
    tables = []
    for task in config["vectors"]["text_tasks"]:
        corpus_task = PLAN.catalog_task(task)
        if CATALOG.has_corpus(corpus_task, lang, "train") and not CATALOG.corpus(corpus_task, lang, "train").manual:
            tables.append(data_table(task, lang, "train"))
    return tables


def vector_training_text(wildcards):
    """`en` trains on results/text/en.txt; `en.a` / `en.b` on one half of it (sanity rows)."""
    lang, _, half = wildcards.name.partition(".")
    return f"results/text/halves/{lang}.{half}.txt" if half else f"results/text/{lang}.txt"


def vectors_file(name, family=None):
    """Word vectors of a language: trained on its text, or the papers' pretrained file; the
    GloVe file for ``family`` glove (rule glove_vectors)."""
    if family == "glove":
        return f"results/vectors/glove/{name}/vectors.vec"
    if config["vectors"]["source"] == "pretrained" and "." not in name:
        return resource_path(CATALOG.resource(f"fasttext_wiki_{name}"))
    return f"results/vectors/{name}/vectors.vec"


def mapping_pairs():
    """(src, tgt) of the configured pairs, in both directions (mapped in both modes)."""
    pairs = []
    for a, b in config["mapping"]["pairs"]:
        pairs += [(a, b), (b, a)]
    return pairs


def used_mappings():
    """(mode, src, tgt) of the mappings other stages read: the translation's, each word-space
    method's common spaces and the aligned targets of MUSE direct transfer (built, evaluated
    and tabled even when ``mapping.pairs`` does not list them)."""
    used = [(config["translation"]["mode"], src, tgt) for src, tgt in config["translation"]["pairs"]]
    for exp in PLAN.experiments():
        space = PLAN.word_space(exp.method)
        for target in exp.targets if space else ():
            forward = PLAN.space_direction(exp.method, target) == "source_to_target"
            used.append((space["mapping"], *((exp.source, target) if forward else (target, exp.source))))
        for setting in exp.settings:  # MUSE direct transfer: each target mapped onto the source
            if PLAN.word_embeddings(exp.method, setting) == "aligned":
                mode = PLAN.alignment(exp.method, setting)
                if mode != "published":  # published aligned vectors are downloaded, not mapped
                    used += [(mode, target, exp.source) for target in PLAN.setting_targets(exp, setting)
                             if target != exp.source]
    return used + lm_init_mappings()


def mapping_pair(src, tgt):
    """The catalog dictionary key for a mapping direction, whether its test dictionary can be
    had, and why not: {"pair", "status"} (a split-half pair uses the identity dictionary)."""
    if src.split(".")[0] == tgt.split(".")[0] and src != tgt:
        return {"pair": f"{src}-{tgt}", "status": "identity"}
    key = f"{src}-{tgt}"
    segmentation = config["vectors"].get("segmentation", {})
    chars = [lang for lang in (src, tgt) if segmentation.get(lang.split(".")[0]) == "characters"]
    if chars and config["vectors"]["source"] == "trained":
        return {"pair": key, "status": f"{', '.join(chars)} vectors are character vectors: a word dictionary does not apply"}
    if key not in CATALOG.dictionaries or "test" not in CATALOG.dictionaries[key]:
        return {"pair": key, "status": "no test dictionary in the catalog"}
    manual = [r.id for r in CATALOG.dictionary(key, "test") if r.manual]
    if manual and not all(r in config["manual_files"] for r in manual):
        return {"pair": key, "status": f"missing resource {', '.join(manual)} (manual)"}
    return {"pair": key, "status": "ok"}


def mapping_eval_inputs(wildcards):
    files = {
        "mapped": f"results/mapping/{wildcards.mode}/{wildcards.src}-{wildcards.tgt}/vectors.vec",
        "log_json": f"results/mapping/{wildcards.mode}/{wildcards.src}-{wildcards.tgt}/log.json",
        "tgt": vectors_file(wildcards.tgt),
    }
    if mapping_pair(wildcards.src, wildcards.tgt)["status"] == "ok":
        files["dictionary"] = [resource_path(r) for r in CATALOG.dictionary(f"{wildcards.src}-{wildcards.tgt}", "test")]
    return files


def mapping_eval_files():
    """The mapping table's rows: configured pairs and split-half sanity rows in both modes,
    and every mapping another stage uses."""
    names = [(src, tgt) for src, tgt in mapping_pairs()]
    names += [(f"{lang}.a", f"{lang}.b") for lang in config["mapping"].get("split_half", [])]
    rows = {(mode, src, tgt) for src, tgt in names for mode in MAPPING_MODES} | set(used_mappings())
    return [f"results/mapping/{mode}/{src}-{tgt}/eval.json" for mode, src, tgt in sorted(rows)]


def translation_inputs(wildcards):
    mode = config["translation"]["mode"]
    files = {
        "table": data_table(wildcards.task, wildcards.src, "train"),
        "mapped": f"results/mapping/{mode}/{wildcards.src}-{wildcards.tgt}/vectors.vec",
        "tgt": vectors_file(wildcards.tgt),
    }
    if config["translation"].get("casing", {}).get(wildcards.tgt):
        # Casing is sampled from target-language text (UniTrans: the target train set, which
        # is not public for German CoNLL; the monolingual text is).
        files["casing_text"] = f"results/text/{wildcards.tgt}.txt"
    return files


def translation_files():
    task = config["translation"]["task"]
    return [f"results/data/translated/{task}/{src}-{tgt}/train.parquet"
            for src, tgt in config["translation"]["pairs"]]


def all_targets():
    targets = ["results/tables/ner_f1.csv", "results/tables/pos_acc.csv", "results/tables/datasets.csv"]
    targets += ["results/tables/mapping.csv", "results/tables/mapping.md", *translation_files()]
    for paper in config["papers"]:
        files = paper_table_files(paper)
        targets += files["csv"] + files["md"] + files["png"]
    return targets


def run_params(wildcards):
    """Everything a train_* script needs to know about its run (params: a change reruns it).
    The experiment's targets are not among them: they never change a model."""
    exp = PLAN.experiment(wildcards.task, wildcards.source, wildcards.method)
    return {
        "plan": config["plan"],
        "task": wildcards.task,
        "task_config": PLAN.task(wildcards.task),
        "source": exp.source,
        "method": wildcards.method,
        "setting": wildcards.setting,
        "seed": int(wildcards.seed),
        "hparams": PLAN.training_params(wildcards.method, wildcards.setting),
        "max_sentences": {split: PLAN.max_sentences(split, wildcards.method) for split in ("train", "dev")},
        **({"space": wildcards.space} if PLAN.per_target(wildcards.method) else {}),
        **({"direction": PLAN.space_direction(wildcards.method, wildcards.space)}
           if has_word_space(wildcards.method) else {}),
    }


def eval_params(wildcards):
    """What scoring a target needs beyond the model: selection criteria and sentence caps.
    Kept out of run_params, so that asking for another criterion never retrains."""
    return {
        "selections": PLAN.selections(wildcards.method, wildcards.setting),
        "max_sentences": {split: PLAN.max_sentences(split) for split in ("dev", "test")},
        "hparams": PLAN.evaluation_params(wildcards.method, wildcards.setting),
    }


# --------------------------------------------------------------------------- LM stage
# Input functions of workflow/rules/lms.smk and of the CLCR taggers (Bao et al.'s MLMA).
LMS = config["lms"]


def lm_tokenizer(lang):
    tokenizers = LMS["corpus"]["tokenizer"]
    return tokenizers.get(lang, tokenizers["default"])


def lm_files(method, setting, source, target):
    """The LM artifact (manifest and weights) a CLCR run reads (``target``: its space, for a
    per-target method; None for a training job of a plan-wide LM)."""
    variant = PLAN.method_params(method, setting)["lm"]
    prefix = f"results/lms/{variant}/{'-'.join(PLAN.lm_group(method, setting, source, target))}/lm"
    return {"lm": f"{prefix}.json", "lm_weights": f"{prefix}.safetensors"}


def pretrain_lm_inputs(wildcards):
    languages = wildcards.group.split("-")
    if languages != sorted(set(languages)):
        raise ValueError(f"LM group {wildcards.group!r}: languages are listed once each, sorted")
    files = {}
    for lang in languages:
        files[f"train_{lang}"] = f"results/lms/corpus/{lang}.train.txt"
        files[f"dev_{lang}"] = f"results/lms/corpus/{lang}.dev.txt"
    if LMS["variants"][wildcards.variant].get("init") == "muse":
        hub = LMS["hub"]
        for lang in languages:
            files[f"vectors_{lang}"] = (vectors_file(hub) if lang == hub
                                        else f"results/mapping/{LMS['init_mapping']}/{lang}-{hub}/vectors.vec")
    return files


def lm_init_mappings():
    """(mode, lang, hub) of the MUSE maps an init variant's LMs start from (used_mappings)."""
    used = set()
    for run in PLAN.runs():
        variant = PLAN.method_params(run.method, run.setting).get("lm")
        if variant is None or LMS["variants"][variant].get("init") != "muse":
            continue
        for target in PLAN.run_targets(run):
            for lang in PLAN.lm_group(run.method, run.setting, run.source, target):
                if lang != LMS["hub"]:
                    used.add((LMS["init_mapping"], lang, LMS["hub"]))
    return sorted(used)


def neighbour_rows():
    """(row label, query) of the nearest-neighbour table (lms.neighbours)."""
    from xlt.tables import load_paper_tables

    spec = LMS["neighbours"]
    paper = load_paper_tables(f"{config['tables_dir']}/{spec['paper']}.yaml")
    table = next(t for t in paper.tables if t.id == spec["table"])
    return [(row.label, row.query) for row in table.rows if "word" in row.query or "context" in row.query]


def _one_run(kind):
    runs = {(q["method"], q["setting"]) for _, q in neighbour_rows() if kind in q}
    if len(runs) != 1:
        raise xlt_errors.ConfigError(f"lms.neighbours: the {kind} rows must name one method/setting (got {sorted(runs)})")
    return runs.pop()


def lm_neighbours_inputs(wildcards):
    spec = LMS["neighbours"]
    source, target = spec["source"], spec["target"]
    muse_method, muse_setting = _one_run("word")
    lm_method, lm_setting = _one_run("context")
    return {
        "spec": f"{config['tables_dir']}/{spec['paper']}.yaml",
        **lm_files(lm_method, lm_setting, source, target if PLAN.per_target(lm_method) else None),
        "target_corpus": f"results/lms/corpus/{target}.train.txt",
        "source_vectors": aligned_vectors(muse_method, muse_setting, source, source),
        "target_vectors": aligned_vectors(muse_method, muse_setting, source, target),
    }


def neighbour_tables(paper):
    """The text cells a paper's tables rule reads (its nearest-neighbour table), if any."""
    spec = LMS.get("neighbours")
    return {"texts": f"results/lms/neighbours/{paper}.json"} if spec and spec["paper"] == paper else {}


# ---------------------------------------------------------------- sentence encoder (LASER)
LASER = config["laser"]
LASER_PREFIX = "results/lms/laser/encoder"


def laser_files():
    """The sentence-encoder artifact a van der Heijden subword run reads."""
    return {"laser": f"{LASER_PREFIX}.json", "laser_weights": f"{LASER_PREFIX}.safetensors",
            "laser_bpe": f"{LASER_PREFIX}.bpe.json"}


def pretrain_laser_inputs(wildcards):
    """The text stage's multi-way parallel files, one per (set, language): ``<set>__<lang>``."""
    from xlt.lms.laser.bitext import catalog_sets

    sets = catalog_sets(CATALOG, LASER["languages"], LASER["sets"])
    return {f"{name}__{lang}": resource_path(res) for name, files in sets.items() for lang, res in files.items()}
