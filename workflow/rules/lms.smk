# Language-model stage (Bao et al. 2019's MLMA): each language's LM corpus from its text, then
# one LM per (variant, language group), a cached artifact: a tagger change never retrains it.
#   lm_corpus    results/text/{lang}.txt -> results/lms/corpus/{lang}.{train,dev}.txt
#   pretrain_lm  the group's corpora (+ MUSE-aligned vectors for an init variant)
#                -> results/lms/{variant}/{group}/lm.{safetensors,json}
# A group is its languages joined by "-", in sorted order (lms.languages: one LM for the
# whole plan; null: one per source-target pair, the paper's setting).
# Input functions: workflow/rules/common.smk, "LM stage".

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
    # The LM stage's long jobs (each feeds many taggers): start them when ready.
    priority: 10
    resources:
        mem_mb=8000,
        runtime=LMS["runtime"],
        gpu=1,
    conda:
        "../../envs/xlt.yaml"
    script:
        "../scripts/pretrain_lm.py"

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

# The sentence encoder: LASER1's published files (the paper plan, laser.source: published) or
# the stand-in trained here (laser.source: trained); one artifact either way.
if LASER["source"] == "published":

    rule import_laser:
        """LASER1 (bilstm.93langs.2018-12-26.pt with its fastBPE codes and vocabulary) as the
        sentence-encoder artifact van der Heijden's subword taggers read."""
        input:
            checkpoint=resource_path(CATALOG.resource("laser_bilstm_93langs")),
            codes=resource_path(CATALOG.resource("laser_93langs_fcodes")),
            vocab=resource_path(CATALOG.resource("laser_93langs_fvocab")),
        output:
            multiext(LASER_PREFIX, ".safetensors", ".bpe.json", ".json"),
        log:
            "results/logs/lms/laser/encoder.log",
        cache: True
        resources:
            mem_mb=4000,
        conda:
            "../../envs/xlt.yaml"
        script:
            "../scripts/import_laser.py"

else:

    rule pretrain_laser:
        """The LASER-style sentence encoder (van der Heijden et al.'s LASER stand-in): joint BPE,
        BiLSTM encoder trained by translation into en / es on the text stage's parallel sets;
        logs held-out loss and retrieval accuracy."""
        input:
            unpack(pretrain_laser_inputs),
        output:
            # One artifact (weights, BPE, manifest): what Snakemake's between-workflow cache stores.
            multiext(LASER_PREFIX, ".safetensors", ".bpe.json", ".json"),
        params:
            # The stand-in's values (source only picks this rule: changing it retrains nothing).
            laser={k: v for k, v in LASER.items() if k != "source"},
            seed=LASER["seed"],
            prefer_gpu=config["prefer_gpu"],
        log:
            "results/logs/lms/laser/encoder.log",
        cache: True
        threads: LASER["threads"]
        priority: 10
        resources:
            mem_mb=8000,
            runtime=LASER["runtime"],
            gpu=1,
        conda:
            "../../envs/xlt.yaml"
        script:
            "../scripts/pretrain_laser.py"
