#!/usr/bin/env bash
# Start a single-node Slurm test cluster on this machine, for tests/test_slurm_profile.py
# and CI. It is a stand-in for a real cluster, not a production setup: no accounting
# (slurmdbd), no cgroups, no GPUs.
#
#   bash scripts/slurm/start-test-cluster.sh     # idempotent; run as root
#   bash scripts/slurm/stop-test-cluster.sh      # stops only what this script started
#
# What it does:
#   1. installs slurmctld, slurmd, slurm-client and munge with apt-get if `sbatch` is missing;
#   2. creates the munge key if missing;
#   3. writes /etc/slurm/slurm.conf for this host (hostname -s, nproc, 90 % of MemTotal) with
#      two partitions, `cpu` (default) and `gpu`, whose names match profiles/slurm/config.yaml;
#   4. starts munged, slurmctld and slurmd (pid files under $XLT_SLURM_RUN_DIR) unless they
#      already run, restarting our slurm daemons when slurm.conf changed;
#   5. waits until `sinfo` shows the node idle (or busy with jobs), then prints the status.
#
# Environment knobs (defaults in brackets):
#   XLT_SLURM_CLUSTER [xlttest]  XLT_SLURM_START_TIMEOUT [60 s]  XLT_SLURM_FORCE [0]:
#   overwrite a slurm.conf that this script did not write.
set -euo pipefail

CLUSTER_NAME=${XLT_SLURM_CLUSTER:-xlttest}
START_TIMEOUT=${XLT_SLURM_START_TIMEOUT:-60}
RUN_DIR=${XLT_SLURM_RUN_DIR:-/run/xlt-slurm}   # pid files of the daemons we start
STATE_DIR=/var/lib/xlt-slurm                  # slurmctld state, slurmd spool
LOG_DIR=/var/log/xlt-slurm
CONF_DIR=/etc/slurm
CONF=$CONF_DIR/slurm.conf
MARKER="# written by xlt scripts/slurm/start-test-cluster.sh"

log() { printf '[start-test-cluster] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

[[ $(id -u) -eq 0 ]] || die "run as root (installs packages, writes /etc/slurm, starts daemons)"

# A pid file names a live process with the expected command name.
pid_alive() {  # pidfile comm
    local pidfile=$1 comm=$2 pid
    [[ -s $pidfile ]] || return 1
    pid=$(<"$pidfile")
    [[ $pid =~ ^[0-9]+$ ]] && [[ -r /proc/$pid/comm ]] && [[ $(</proc/$pid/comm) == "$comm" ]]
}

# Stop a daemon this script started and wait until it has exited (slurmctld saves its
# state first, which takes a moment).
stop_daemon() {  # name
    local pidfile=$RUN_DIR/$1.pid pid
    pid_alive "$pidfile" "$1" || return 0
    pid=$(<"$pidfile")
    kill "$pid"
    for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    die "$1 (pid $pid) did not exit within 15 s"
}

# --- 1. packages -------------------------------------------------------------------------
if ! command -v sbatch >/dev/null || ! command -v slurmctld >/dev/null \
        || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null; then
    t0=$(now)
    if ! apt-cache policy slurmctld 2>/dev/null | grep -q 'Candidate: [0-9]'; then
        apt-get update -qq
    fi
    log "installing slurmctld slurmd slurm-client munge"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        slurmctld slurmd slurm-client munge >/dev/null
    log "apt install took $(elapsed "$t0") s"
fi

t_start=$(now)
mkdir -p "$RUN_DIR" "$STATE_DIR" "$LOG_DIR" "$CONF_DIR"

# --- 2. munge ----------------------------------------------------------------------------
if [[ ! -s /etc/munge/munge.key ]]; then
    log "creating /etc/munge/munge.key"
    install -d -o munge -g munge -m 0700 /etc/munge
    if command -v mungekey >/dev/null; then
        mungekey --create --keyfile=/etc/munge/munge.key
    else
        dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
    fi
    chown munge:munge /etc/munge/munge.key
    chmod 0400 /etc/munge/munge.key
fi
install -d -o munge -g munge -m 0755 /run/munge /var/lib/munge /var/log/munge

if pid_alive "$RUN_DIR/munged.pid" munged; then
    log "munged already running (pid $(<"$RUN_DIR/munged.pid"), started by this script)"
elif munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    log "a munged not started by this script is running; using it"
else
    log "starting munged"
    runuser -u munge -- munged
    # munged writes its pid to /run/munge/munged.pid; remember it as ours.
    for _ in $(seq 50); do
        [[ -s /run/munge/munged.pid ]] && break
        sleep 0.1
    done
    cp /run/munge/munged.pid "$RUN_DIR/munged.pid"
    munge -n | unmunge >/dev/null || die "munged does not answer (see /var/log/munge/munged.log)"
fi

# --- 3. slurm.conf ---------------------------------------------------------------------------
host=$(hostname -s)
cpus=$(nproc)
mem_total_kb=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)
real_memory_mb=$(( mem_total_kb * 9 / 10 / 1024 ))

new_conf=$(cat <<EOF
$MARKER
# Single-node test cluster: no accounting, no cgroups, no GPUs.
ClusterName=$CLUSTER_NAME
SlurmctldHost=$host
SlurmUser=root
AuthType=auth/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
JobCompType=jobcomp/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
# Without accounting, finished jobs are known only to squeue, for MinJobAge seconds; the
# executor plugin (slurm-status-command: squeue) needs MinJobAge >= 3 x its first
# status-check delay (40 s default).
MinJobAge=300
ReturnToService=2
InactiveLimit=0
KillWait=10
StateSaveLocation=$STATE_DIR/slurmctld
SlurmdSpoolDir=$STATE_DIR/slurmd
SlurmctldPidFile=$RUN_DIR/slurmctld.pid
SlurmdPidFile=$RUN_DIR/slurmd.pid
SlurmctldLogFile=$LOG_DIR/slurmctld.log
SlurmdLogFile=$LOG_DIR/slurmd.log
NodeName=$host CPUs=$cpus RealMemory=$real_memory_mb State=UNKNOWN
# Partition names match profiles/slurm/config.yaml (default-resources and GPU rules).
PartitionName=cpu Nodes=$host Default=YES MaxTime=INFINITE State=UP
PartitionName=gpu Nodes=$host Default=NO MaxTime=INFINITE State=UP
EOF
)

conf_changed=0
if [[ -e $CONF ]] && ! grep -qxF "$MARKER" "$CONF" && [[ ${XLT_SLURM_FORCE:-0} != 1 ]]; then
    die "$CONF exists and was not written by this script; set XLT_SLURM_FORCE=1 to replace it"
fi
if [[ ! -e $CONF ]] || [[ $(<"$CONF") != "$new_conf" ]]; then
    printf '%s\n' "$new_conf" > "$CONF"
    conf_changed=1
    log "wrote $CONF (node $host, CPUs=$cpus, RealMemory=${real_memory_mb} MB)"
fi

# slurmctld refuses to start on state saved by another ClusterName ("CLUSTER NAME MISMATCH").
mkdir -p "$STATE_DIR/slurmctld" "$STATE_DIR/slurmd"
if [[ -s $STATE_DIR/slurmctld/clustername ]] \
        && [[ $(<"$STATE_DIR/slurmctld/clustername") != "$CLUSTER_NAME" ]]; then
    log "ClusterName changed; wiping $STATE_DIR/slurmctld"
    stop_daemon slurmctld
    rm -rf "${STATE_DIR:?}/slurmctld"
    mkdir -p "$STATE_DIR/slurmctld"
fi

# --- 4. daemons ----------------------------------------------------------------------------
if (( conf_changed )); then
    for d in slurmd slurmctld; do
        if pid_alive "$RUN_DIR/$d.pid" "$d"; then
            log "slurm.conf changed; restarting $d"
            stop_daemon "$d"
        fi
    done
fi

for d in slurmctld slurmd; do
    if pid_alive "$RUN_DIR/$d.pid" "$d"; then
        log "$d already running (pid $(<"$RUN_DIR/$d.pid"))"
        continue
    fi
    if pgrep -x "$d" >/dev/null; then
        die "a $d not started by this script is running (pid $(pgrep -x "$d" | tr '\n' ' ')); stop it first"
    fi
    log "starting $d"
    "$d" -f "$CONF"   # daemonizes and writes its pid file
    for _ in $(seq 50); do pid_alive "$RUN_DIR/$d.pid" "$d" && break; sleep 0.1; done
    pid_alive "$RUN_DIR/$d.pid" "$d" || die "$d did not start; see $LOG_DIR/$d.log:
$(tail -n 20 "$LOG_DIR/$d.log" 2>/dev/null)"
done

# --- 5. wait for the node ------------------------------------------------------------------
deadline=$(( $(date +%s) + START_TIMEOUT ))
state=""
while :; do
    state=$(sinfo -h -N -n "$host" -o '%t' 2>/dev/null | head -n 1 || true)
    case $state in
        idle|mix|alloc|comp) break ;;
        down*|drain*|drng*|fail*)
            # A node that was down before the restart does not come back by itself.
            scontrol update NodeName="$host" State=RESUME >/dev/null 2>&1 || true ;;
    esac
    if (( $(date +%s) >= deadline )); then
        log "node $host not ready after ${START_TIMEOUT} s (state '${state:-unknown}')"
        tail -n 20 "$LOG_DIR/slurmctld.log" "$LOG_DIR/slurmd.log" >&2 || true
        exit 1
    fi
    sleep 0.2
done
log "node $host is $state; daemons up in $(elapsed "$t_start") s"
sinfo
