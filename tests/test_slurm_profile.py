"""profiles/slurm: its keys are accepted, and a small workflow really runs through Slurm.

The Slurm test needs a cluster with an idle node (CI: `bash scripts/slurm/start-test-cluster.sh`)
and is skipped otherwise. Helpers live in tests/conftest_slurm.py.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from conftest_slurm import (
    DEFAULT_PROFILE,
    SLURM_PROFILE,
    SlurmNode,
    require_slurm_cluster,
    slurm_log_job_ids,
    snakemake_on_slurm,
    write_test_overlay,
)

REPO = Path(__file__).resolve().parents[1]

# Three rules, one feeding the next, shaped like the real ones: log:, threads, resources,
# and a rule named like the real GPU rule, so the profile's set-resources apply to it.
# Each job writes the Slurm job id and partition it ran under.
TINY_SNAKEFILE = r'''
SLURM_INFO = "job=${{SLURM_JOB_ID:-}} partition=${{SLURM_JOB_PARTITION:-}} threads={threads}"

rule all:
    input: "results/summary.txt"

rule make_numbers:
    output: "results/numbers.txt"
    log: "results/logs/make_numbers.log"
    threads: 1
    resources: mem_mb=200, runtime=5
    shell: "(echo " + SLURM_INFO + "; seq 1 10) > {output} 2> {log}"

rule train_encoder_transfer:
    input: "results/numbers.txt"
    output: "results/model.txt"
    log: "results/logs/train_encoder_transfer.log"
    threads: 2
    resources: mem_mb=300, runtime=5, gpu=1
    shell: "(echo " + SLURM_INFO + "; grep -v = {input} | awk '{{s += $1}} END {{print s}}') > {output} 2> {log}"

rule summarize:
    input: numbers="results/numbers.txt", model="results/model.txt"
    output: "results/summary.txt"
    log: "results/logs/summarize.log"
    threads: 1
    shell: "(echo " + SLURM_INFO + "; tail -n 1 {input.model}) > {output} 2> {log}"
'''


def slurm_info(path: Path) -> dict[str, str]:
    """The `job=... partition=... threads=...` line a tiny-workflow job wrote first."""
    first = path.read_text().splitlines()[0]
    return dict(field.split("=", 1) for field in first.split())


@pytest.fixture
def tiny_workflow(tmp_path: Path) -> Path:
    (tmp_path / "Snakefile").write_text(TINY_SNAKEFILE)
    return tmp_path


def test_slurm_profile_keys_are_accepted(tiny_workflow: Path) -> None:
    """A dry run parses every profile key (an unknown key is an argparse error)."""
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "--dry-run", "--profile", str(SLURM_PROFILE),
         "--workflow-profile", str(DEFAULT_PROFILE)],
        cwd=tiny_workflow, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout
    gpu_job = result.stdout.split("rule train_encoder_transfer:")[1].split("rule ")[0]
    # The cluster profile routes the GPU rule; its needs (gpu, memory) stay the rule's own.
    for resource in ("slurm_partition=gpu", "gpu=1", "cpus_per_gpu=4", "mem_mb=300"):
        assert resource in gpu_job, gpu_job
    cpu_job = result.stdout.split("rule summarize:")[1].split("rule ")[0]
    assert "slurm_partition=cpu" in cpu_job and "runtime=60" in cpu_job, cpu_job


def test_overlay_fits_gpu_rules_to_a_cpu_node(tmp_path: Path) -> None:
    node = SlurmNode(name="n1", cpus=2, mem_mb=8000, gpus=0)
    overlay = write_test_overlay(tmp_path, node, gpu_rules=("pretrain_lm",))
    config = yaml.safe_load((overlay / "config.yaml").read_text())
    gpu_rule = config["set-resources"]["train_encoder_transfer"]
    assert gpu_rule["gpu"] == 0 and "cpus_per_gpu" not in gpu_rule
    assert gpu_rule["slurm_partition"] == "gpu"
    assert config["set-resources"]["pretrain_lm"] == {"gpu": 0}
    assert config["max-threads"] == 2


@pytest.mark.slurm
def test_tiny_workflow_runs_through_slurm(tiny_workflow: Path) -> None:
    node = require_slurm_cluster()
    overlay = write_test_overlay(tiny_workflow / "overlay", node)

    result = snakemake_on_slurm([], overlay=overlay, workdir=tiny_workflow,
                                snakefile=tiny_workflow / "Snakefile", timeout_s=300)
    print(f"tiny workflow through Slurm: {result.elapsed_s:.1f} s")
    assert result.returncode == 0, result.stdout[-5000:]

    results = tiny_workflow / "results"
    assert (results / "summary.txt").read_text().splitlines()[-1] == "55"
    jobs = {
        rule: slurm_info(results / output)
        for rule, output in [("make_numbers", "numbers.txt"),
                             ("train_encoder_transfer", "model.txt"),
                             ("summarize", "summary.txt")]
    }
    # Every job ran inside a Slurm allocation of its own ...
    job_ids = {rule: info["job"] for rule, info in jobs.items()}
    assert all(job_id.isdigit() for job_id in job_ids.values()), jobs
    assert len(set(job_ids.values())) == 3, jobs
    # ... in the partition the profile gives it (set-resources for the GPU rule) ...
    assert jobs["make_numbers"]["partition"] == "cpu"
    assert jobs["train_encoder_transfer"]["partition"] == "gpu"
    assert jobs["train_encoder_transfer"]["threads"] == str(min(2, node.cpus))
    # ... and the executor kept one Slurm log per job, named by its job id.
    assert slurm_log_job_ids(tiny_workflow) == {
        rule: [job_id] for rule, job_id in job_ids.items()
    }


def test_make_slurm_profile_installs_the_named_profile(tmp_path: Path) -> None:
    """`make slurm-profile` links profiles/slurm where Snakemake looks up `--profile slurm`."""
    xdg = tmp_path / "xdg"
    result = subprocess.run(["make", "-s", "slurm-profile", f"XDG_CONFIG_HOME={xdg}"], cwd=REPO,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    link = xdg / "snakemake" / "slurm"
    assert link.is_symlink() and link.resolve() == (REPO / "profiles" / "slurm").resolve()


def _repo_copy(dest: Path) -> Path:
    """The files a clone of this working tree has (tracked and not ignored), without results."""
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                           cwd=REPO, capture_output=True, check=True).stdout
    for name in files.decode().split("\0"):
        if name and (REPO / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, dest / name)
    return dest


@pytest.mark.slurm
def test_the_documented_command_runs_the_dag_through_slurm(tmp_path: Path, monkeypatch) -> None:
    """`snakemake --profile slurm results/tables/ner_f1.csv`, literally, from the root of a
    checkout whose default plan is the fixture plan, with profiles/slurm installed by
    `make slurm-profile` and edited for the test cluster as a user edits it for theirs (no
    GPUs, two CPUs). Data, training and evaluation jobs are Slurm jobs; the table comes out."""
    import pandas as pd
    from workflow_fixture import write_fixture_config

    node = require_slurm_cluster()
    monkeypatch.delenv("XLT_MIRROR", raising=False)  # the fixture has its own mirror
    repo = _repo_copy(tmp_path / "checkout")
    # The checkout's default plan (config/config.yaml) becomes the fixture plan, cut to one
    # seed and NER en -> {en, es} for source_mono and encoder_transfer: every kind of job,
    # each Slurm job costs seconds (the word-space methods run in the local fixture DAG).
    plan = yaml.safe_load(write_fixture_config(repo).read_text())
    plan["seeds"] = [1]
    plan["experiments"] = [{**exp, "targets": ["en", "es"]} for exp in plan["experiments"]
                           if exp["task"] == "ner" and exp["source"] == "en"
                           and exp["method"] in ("source_mono", "encoder_transfer")]
    (repo / "config" / "config.yaml").write_text(yaml.safe_dump(plan, sort_keys=False))
    xdg = tmp_path / "xdg"
    subprocess.run(["make", "-s", "slurm-profile", f"XDG_CONFIG_HOME={xdg}"], cwd=repo, check=True,
                   capture_output=True, timeout=60)
    fitted = write_test_overlay(tmp_path / "overlay", node, profile=repo / "profiles" / "slurm")
    profile = repo / "profiles" / "slurm" / "config.yaml"
    merged = {**yaml.safe_load(profile.read_text()), **yaml.safe_load((fitted / "config.yaml").read_text())}
    profile.write_text(yaml.safe_dump(merged, sort_keys=False))

    env = {**os.environ, "XDG_CONFIG_HOME": str(xdg),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    started = time.monotonic()
    result = subprocess.run(
        ["timeout", "-s", "INT", "1500", "bash", "-c",
         "snakemake --profile slurm results/tables/ner_f1.csv"],
        cwd=repo, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    print(f"fixture DAG through Slurm: {time.monotonic() - started:.1f} s")
    assert result.returncode == 0, result.stdout[-6000:]
    assert "Using profiles slurm and workflow specific profile" in result.stdout
    jobs = slurm_log_job_ids(repo)
    for rule in ("prepare_corpus", "train_source_mono", "train_encoder_transfer",
                 "evaluate_source_mono", "evaluate_encoder_transfer"):
        assert jobs.get(rule), f"no Slurm job logs for {rule}: {sorted(jobs)}"
    # Local rules (downloads, result collection) never went to Slurm.
    assert "fetch_resource" not in jobs and "collect_results" not in jobs
    ner = pd.read_csv(repo / "results" / "tables" / "ner_f1.csv")
    assert len(ner) == 3 * 1 * 2 * 3  # runs x seeds x targets x selections
