# Language-model stage (Bao et al. 2019's MLMA): each language's LM corpus from its text, then
# one LM per (variant, language group), a cached artifact: a tagger change never retrains it.
#   lm_corpus    results/text/{lang}.txt -> results/lms/corpus/{lang}.{train,dev}.txt
#   pretrain_lm  the group's corpora (+ MUSE-aligned vectors for an init variant)
#                -> results/lms/{variant}/{group}/lm.{safetensors,json}
# A group is its languages joined by "-", in sorted order (lms.languages: one LM for the
# whole plan; null: one per source-target pair, the paper's setting).
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


rule lm_corpus:
    """Tokenised (NLTK; zh: its characters), lowercased, < max_length tokens, dev held out."""
    input:
        text="results/text/{lang}.txt",
    output:
        train="results/lms/corpus/{lang}.train.txt",
        dev="results/lms/corpus/{lang}.dev.txt",
        summary="results/lms/corpus/{lang}.json",
    params:
        corpus=lambda wc: {**{k: v for k, v in LMS["corpus"].items() if k != "tokenizer"},
                           "tokenizer": lm_tokenizer(wc.lang)},
    log:
        "results/logs/lms/corpus/{lang}.log",
    wildcard_constraints:
        lang=r"[a-z]{2,3}",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    conda:
        "../../envs/xlt.yaml"
    script:
        "../scripts/lm_corpus.py"


rule pretrain_lm:
    """A bidirectional Transformer LM (one embedding matrix per language, shared layers),
    with the variant's alignment loss; logs perplexity per language and alignment per layer."""
    input:
        unpack(pretrain_lm_inputs),
    output:
        # One artifact of two files (multiext: what Snakemake's between-workflow cache stores).
        multiext("results/lms/{variant}/{group}/lm", ".safetensors", ".json"),
    params:
        lms=LMS,
        seed=LMS["seed"],
        prefer_gpu=config["prefer_gpu"],
    log:
        "results/logs/lms/{variant}/{group}.log",
    wildcard_constraints:
        group=r"[a-z]{2,3}(-[a-z]{2,3})*",
    cache: True
    threads: LMS["threads"]
    resources:
        mem_mb=8000,
        runtime=LMS["runtime"],
        gpu=1,
    conda:
        "../../envs/xlt.yaml"
    script:
        "../scripts/pretrain_lm.py"


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


rule lm_neighbours:
    """Bao's Table 4: nearest target words by MUSE vectors, nearest target tokens in context by
    the LM's states, for the table's own rows."""
    input:
        unpack(lm_neighbours_inputs),
    output:
        "results/lms/neighbours/{paper}.json",
    params:
        neighbours=LMS.get("neighbours"),
        tokenizer=lambda wc: lm_tokenizer(LMS["neighbours"]["source"]),
    log:
        "results/logs/lms/neighbours/{paper}.log",
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    conda:
        "../../envs/xlt.yaml"
    script:
        "../scripts/lm_neighbours.py"
