# Evaluation tables: every computed result gathered, then each paper's tables rendered with
# the reported numbers beside ours.


rule collect_results:
    """Every (run, target) metrics.json of the plan -> one long table per metric kind."""
    input:
        metrics_files(),
    localrule: True
    output:
        ner=report(
            "results/tables/ner_f1.csv",
            caption="../report/ner_f1.rst",
            category="Results",
        ),
        pos=report(
            "results/tables/pos_acc.csv",
            caption="../report/pos_acc.rst",
            category="Results",
        ),
    log:
        "results/logs/tables/collect_results.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../../envs/xlt.yaml"
    script:
        "../scripts/collect_results.py"


for _paper in config["papers"]:
    _files = paper_table_files(_paper)

    rule:
        name:
            f"tables_{_paper}"
        localrule: True
        input:
            spec=f"{config['tables_dir']}/{_paper}.yaml",
            ner="results/tables/ner_f1.csv",
            pos="results/tables/pos_acc.csv",
            stats="results/tables/datasets.csv",
            # A paper's nearest-neighbour table reads its text cells (lms.neighbours).
            **neighbour_tables(_paper),
        output:
            csv=_files["csv"],
            md=_files["md"],
            png=report(
                _files["png"],
                caption="../report/paper_table.rst",
                category="Paper tables",
                subcategory=_paper,
            ),
        params:
            paper=_paper,
            provenance=PLAN.describe(),
            blocked=blocked_runs(),
        log:
            f"results/logs/tables/{_paper}.log",
        threads: 1
        resources:
            mem_mb=2000,
            runtime=10,
        conda:
            "../../envs/xlt.yaml"
        script:
            "../scripts/paper_tables.py"
