"""Helpers for tests that run Snakemake through Slurm with profiles/slurm.

Not collected by pytest on its own; use it from a test module:

    from conftest_slurm import (
        require_slurm_cluster, write_test_overlay, snakemake_on_slurm, slurm_log_job_ids,
    )

    @pytest.mark.slurm
    def test_fixture_dag_on_slurm(tmp_path):
        node = require_slurm_cluster()              # skips unless a Slurm node is idle
        overlay = write_test_overlay(tmp_path / "overlay", node)
        result = snakemake_on_slurm(
            ["results/tables/ner_f1.csv"], overlay=overlay, workdir=tmp_path / "run",
            extra_args=["--configfile", "tests/fixtures/config.yaml"], timeout_s=900,
        )
        assert result.returncode == 0, result.stdout[-5000:]

The overlay is a second profile, loaded after profiles/slurm, that fits the real
profile to the test cluster (scripts/slurm/start-test-cluster.sh): no GPUs, few CPUs,
little memory, and a 1 s first status check instead of 40 s.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
SLURM_PROFILE = REPO_ROOT / "profiles" / "slurm"
DEFAULT_PROFILE = REPO_ROOT / "profiles" / "default"

# Resources that ask Slurm for a GPU; all of them go when the cluster has none.
GPU_RESOURCES = ("gpu", "gpu_model", "gres", "cpus_per_gpu", "tasks_per_gpu")


@dataclass(frozen=True)
class SlurmNode:
    """An idle node of the test cluster, as sinfo reports it."""

    name: str
    cpus: int
    mem_mb: int
    gpus: int


def _parse_gpu_count(gres: str) -> int:
    """Count GPUs in sinfo's %G column, e.g. '(null)', 'gpu:2', 'gpu:a100:4(S:0)'."""
    total = 0
    for item in gres.split(","):
        fields = item.split("(")[0].split(":")
        if fields[0] == "gpu" and fields[-1].isdigit():
            total += int(fields[-1])
    return total


def find_idle_slurm_node() -> SlurmNode | str:
    """The largest idle (or partly used) node, or a reason why there is none."""
    missing = [tool for tool in ("sbatch", "squeue", "sinfo") if shutil.which(tool) is None]
    if missing:
        return f"{', '.join(missing)} not on PATH (start one: bash scripts/slurm/start-test-cluster.sh)"
    try:
        out = subprocess.run(
            ["sinfo", "--noheader", "--Node", "--format", "%n|%t|%c|%m|%G"],
            capture_output=True, text=True, timeout=20, check=True,
        ).stdout
    except (subprocess.SubprocessError, OSError) as err:
        return f"sinfo failed: {err}"
    nodes = []
    for line in out.splitlines():
        name, state, cpus, mem_mb, gres = line.strip().split("|")
        if state.rstrip("*~#") in ("idle", "mix"):
            nodes.append(SlurmNode(name, int(cpus), int(mem_mb), _parse_gpu_count(gres)))
    if not nodes:
        return f"no idle Slurm node; sinfo says:\n{out}"
    return max(nodes, key=lambda node: (node.cpus, node.mem_mb))


def require_slurm_cluster() -> SlurmNode:
    """Skip the calling test unless a Slurm cluster with an idle node is reachable."""
    node = find_idle_slurm_node()
    if isinstance(node, str):
        pytest.skip(node)
    return node


def _fit_resources(resources: dict, node: SlurmNode) -> dict:
    fitted = dict(resources)
    if node.gpus == 0 and any(key in fitted for key in GPU_RESOURCES):
        for key in GPU_RESOURCES:
            fitted.pop(key, None)
        fitted["gpu"] = 0  # also cancels a `gpu=` declared in the rule itself
    elif "gpu" in fitted and isinstance(fitted["gpu"], int):
        fitted["gpu"] = min(fitted["gpu"], node.gpus)
    for key, limit in (("mem_mb", node.mem_mb), ("cpus_per_task", node.cpus),
                       ("cpus_per_gpu", node.cpus)):
        if isinstance(fitted.get(key), int):
            fitted[key] = min(fitted[key], limit)
    return fitted


def write_test_overlay(dest: Path, node: SlurmNode, *, gpu_rules: tuple[str, ...] = (),
                       profile: Path = SLURM_PROFILE) -> Path:
    """Write a profile that fits `profile` to `node`; return its folder.

    Pass it as a second --profile after the real one. Profiles override each other key by
    key, so the overlay restates set-resources and default-resources in full, fitted:
    GPU requests removed when the node has no GPU (for every rule in set-resources and for
    `gpu_rules`, rules that declare `gpu=` only in their own resources), memory and CPUs
    capped at the node's. `max-threads` and the global `resources: mem_mb` cap what rules
    declare themselves.
    """
    config = yaml.safe_load((profile / "config.yaml").read_text())
    set_resources = {
        rule: _fit_resources(resources, node)
        for rule, resources in (config.get("set-resources") or {}).items()
    }
    for rule in gpu_rules:
        set_resources[rule] = _fit_resources({**set_resources.get(rule, {}), "gpu": 1}, node)
    overlay = {
        # First status check after 1 s instead of 40 s (the cluster keeps finished jobs
        # for MinJobAge = 300 s >= 3 x 1 s, so squeue still sees them).
        "slurm-init-seconds-before-status-checks": 1,
        # Keep Slurm's job logs so tests can see which jobs went through Slurm.
        "slurm-keep-successful-logs": True,
        # No accounting on the test cluster: skip the plugin's account guess (a warning).
        "slurm-no-account": True,
        "max-threads": node.cpus,
        "resources": [f"mem_mb={node.mem_mb}"],
        "default-resources": _fit_resources(config.get("default-resources") or {}, node),
        "set-resources": set_resources,
    }
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "config.yaml").write_text(
        "# Test overlay for profiles/slurm, written by tests/conftest_slurm.py\n"
        + yaml.safe_dump(overlay, sort_keys=False)
    )
    return dest


def snakemake_on_slurm(targets: list[str], *, overlay: Path, workdir: Path,
                       snakefile: Path | None = None, extra_args: list[str] = (),
                       timeout_s: int = 600) -> subprocess.CompletedProcess:
    """Run Snakemake with profiles/slurm + overlay (+ profiles/default, as in the repo root).

    Bounded with `timeout -s INT`: on SIGINT Snakemake scancels its jobs and exits, where
    SIGTERM would make it wait for them. Output (stdout + stderr) is in `.stdout`;
    `.elapsed_s` holds the wall time.
    """
    cmd = [
        "timeout", "-s", "INT", str(timeout_s),
        sys.executable, "-m", "snakemake",
        "--snakefile", str(snakefile or REPO_ROOT / "Snakefile"),
        "--directory", str(workdir),
        "--profile", str(SLURM_PROFILE),
        "--profile", str(overlay),
        # cwd is not the repo root, so name the workflow profile that users get there.
        "--workflow-profile", str(DEFAULT_PROFILE),
        *targets,
        # After the targets: options such as --configfile take several values.
        *extra_args,
    ]
    workdir.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    result = subprocess.run(cmd, cwd=REPO_ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    result.elapsed_s = time.monotonic() - start
    return result


def slurm_log_job_ids(workdir: Path, logdir: str | None = None) -> dict[str, list[str]]:
    """Slurm job ids per rule, from the job logs the executor wrote (rule_<name>/.../<id>.log)."""
    if logdir is None:
        logdir = yaml.safe_load((SLURM_PROFILE / "config.yaml").read_text())["slurm-logdir"]
    jobs: dict[str, list[str]] = {}
    for log in sorted((workdir / logdir).glob("rule_*/**/*.log")):
        rule = log.relative_to(workdir / logdir).parts[0].removeprefix("rule_")
        jobs.setdefault(rule, []).append(log.stem)
    return jobs
