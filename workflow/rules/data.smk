# Data stage: pinned downloads -> canonical sentence tables -> dataset statistics.


rule fetch_resource:
    """One catalog file: from a mirror dir if present, else its pinned URL; sha256-verified
    (a file published without a checksum: against the digest recorded on its first download)."""
    localrule: True
    output:
        f"{DOWNLOADS}/{{file}}",
    params:
        resource=lambda wc: RESOURCE_BY_FILE[wc.file].id,
    log:
        f"results/logs/fetch/{{file}}.log",
    wildcard_constraints:
        file=r"[^*]+",
    threads: 1
    resources:
        mem_mb=500,
        # fastText's wiki.en.vec is 6.6 GB: hours on a slow link, not minutes.
        runtime=lambda wc: 240 if RESOURCE_BY_FILE[wc.file].digest_recorded_on_first_download else 30,
    cache: "omit-software"
    conda:
        "../../envs/xlt.yaml"
    script:
        "../scripts/fetch_resource.py"


rule manual_resource:
    """A licensed or unpublished corpus: fails, saying which config key to set."""
    localrule: True
    output:
        "resources/manual/{resource}",
    log:
        "results/logs/manual/{resource}.log",
    threads: 1
    resources:
        mem_mb=100,
        runtime=1,
    conda:
        "../../envs/xlt.yaml"
    script:
        "../scripts/manual_resource.py"


rule prepare_corpus:
    """Convert one split to the canonical Parquet table (IOB2 / universal POS tags)."""
    input:
        corpus_files,
    output:
        "results/data/{task}/{lang}/{split}.parquet",
    params:
        task=lambda wc: PLAN.task(wc.task),
        corpus=lambda wc: PLAN.catalog_task(wc.task),
    log:
        "results/logs/data/{task}/{lang}/{split}.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    conda:
        "../../envs/xlt.yaml"
    script:
        "../scripts/prepare_corpus.py"


rule dataset_stats:
    """Sentences/tokens/entities per language and split, next to the papers' counts."""
    input:
        tables=stats_tables(),
        paper_tables=[f"{config['tables_dir']}/{paper}.yaml" for paper in config["papers"]],
    localrule: True
    output:
        csv=report(
            "results/tables/datasets.csv",
            caption="../report/datasets.rst",
            category="Data",
        ),
        md="results/tables/datasets.md",
    log:
        "results/logs/tables/datasets.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../../envs/xlt.yaml"
    script:
        "../scripts/dataset_stats.py"
