"""Job-minutes per rule from a Snakemake log: how the README's per-stage costs are measured.

Snakemake prints a timestamp line before each job it starts ("rule X:" / "localrule X:" with
its "jobid: N") and before each "Finished jobid: N (Rule: X)". A job's time is the span
between the two (1-second resolution); summed per rule they are the plan's job-minutes,
which on a machine kept busy relate to wall time as job-minutes / cores.

    python benchmarks/job_minutes.py .snakemake/log/<run>.snakemake.log [--top 10]
"""
from __future__ import annotations

import argparse
import re
import sys
from collections import defaultdict
from datetime import datetime
from pathlib import Path

STAMP = re.compile(r"^\[(\w{3} \w{3} +\d+ \d\d:\d\d:\d\d \d{4})\]$")
START = re.compile(r"^(?:local)?rule (\w+):$")
JOBID = re.compile(r"^\s+jobid: (\d+)$")
FINISHED = re.compile(r"^Finished jobid: (\d+) \(Rule: (\w+)\)$")


def job_spans(lines: list[str]) -> dict[int, tuple[str, float]]:
    """jobid -> (rule, seconds) for every job that started and finished in the log."""
    stamp: datetime | None = None
    started: dict[int, tuple[str, datetime]] = {}
    pending_rule: tuple[str, datetime] | None = None
    spans: dict[int, tuple[str, float]] = {}
    for line in lines:
        if m := STAMP.match(line):
            stamp = datetime.strptime(" ".join(m.group(1).split()), "%a %b %d %H:%M:%S %Y")
        elif (m := START.match(line)) and stamp is not None:
            pending_rule = (m.group(1), stamp)
        elif (m := JOBID.match(line)) and pending_rule is not None:
            started[int(m.group(1))] = pending_rule
            pending_rule = None
        elif (m := FINISHED.match(line)) and stamp is not None:
            jobid = int(m.group(1))
            if jobid in started:
                rule, begun = started.pop(jobid)
                spans[jobid] = (rule, (stamp - begun).total_seconds())
    return spans


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("log", type=Path)
    parser.add_argument("--top", type=int, default=0, help="also list the N longest jobs' rules")
    args = parser.parse_args(argv)
    spans = job_spans(args.log.read_text(encoding="utf-8").splitlines())
    per_rule: dict[str, list[float]] = defaultdict(list)
    for rule, seconds in spans.values():
        per_rule[rule].append(seconds)
    total = sum(sum(v) for v in per_rule.values())
    print(f"{'rule':<44} {'jobs':>5} {'job-min':>8} {'mean s':>7}")
    for rule, values in sorted(per_rule.items(), key=lambda kv: -sum(kv[1])):
        print(f"{rule:<44} {len(values):>5} {sum(values) / 60:>8.1f} {sum(values) / len(values):>7.1f}")
    print(f"{'total':<44} {len(spans):>5} {total / 60:>8.1f}")
    if args.top:
        for jobid, (rule, seconds) in sorted(spans.items(), key=lambda kv: -kv[1][1])[: args.top]:
            print(f"  job {jobid:>5} {rule:<40} {seconds:>6.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
