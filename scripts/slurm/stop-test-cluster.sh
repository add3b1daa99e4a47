#!/usr/bin/env bash
# Stop the daemons that scripts/slurm/start-test-cluster.sh started, by their pid files;
# a munged or slurm daemon started otherwise is left alone. Jobs still running are killed
# with slurmd. Add --purge to also delete the cluster's state (queued jobs, node state).
set -euo pipefail

RUN_DIR=${XLT_SLURM_RUN_DIR:-/run/xlt-slurm}
STATE_DIR=/var/lib/xlt-slurm

log() { printf '[stop-test-cluster] %s\n' "$*" >&2; }

pid_alive() {  # pidfile comm
    local pidfile=$1 comm=$2 pid
    [[ -s $pidfile ]] || return 1
    pid=$(<"$pidfile")
    [[ $pid =~ ^[0-9]+$ ]] && [[ -r /proc/$pid/comm ]] && [[ $(</proc/$pid/comm) == "$comm" ]]
}

for d in slurmd slurmctld munged; do
    pidfile=$RUN_DIR/$d.pid
    if pid_alive "$pidfile" "$d"; then
        pid=$(<"$pidfile")
        log "stopping $d (pid $pid)"
        kill "$pid"
        for _ in $(seq 100); do pid_alive "$pidfile" "$d" || break; sleep 0.1; done
        if pid_alive "$pidfile" "$d"; then
            log "$d did not exit in 10 s; sending SIGKILL"
            kill -KILL "$pid"
        fi
    else
        log "$d: not running from this script"
    fi
    rm -f "$pidfile"
done

if [[ ${1:-} == --purge ]]; then
    log "deleting $STATE_DIR"
    rm -rf "${STATE_DIR:?}"
fi
