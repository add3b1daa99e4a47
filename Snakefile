# xlt: one DAG from pinned corpus downloads to the results tables of five papers.
# Thin on purpose: stages live in workflow/rules/, logic in the xlt package (src/xlt).
import os

from snakemake.utils import min_version, validate

min_version("9.0")


# The default plan lives next to this file, so the workflow also runs from another
# working directory (-d); --configfile overrides it.
configfile: os.path.join(workflow.basedir, "config", "config.yaml")


validate(config, "config/schema.yaml")


report: "workflow/report/workflow.rst"


wildcard_constraints:
    task=r"[a-z0-9_]+",
    lang=r"[a-z]{2,3}",
    split=r"train|dev|test",
    source=r"[a-z]{2,3}",
    target=r"[a-z]{2,3}",
    setting=r"[A-Za-z0-9_]+",
    seed=r"\d+",


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/lms.smk"
include: "workflow/rules/vectors.smk"
include: "workflow/rules/transfer.smk"
include: "workflow/rules/unitrans.smk"
include: "workflow/rules/metaner.smk"
include: "workflow/rules/tables.smk"


rule all:
    input:
        all_targets(),
    default_target: True
