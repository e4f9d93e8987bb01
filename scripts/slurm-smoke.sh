#!/usr/bin/env bash
# A one-node SLURM cluster on localhost, a small sweep submitted with real
# sbatch, collected, and compared with the same grid run by `sweep local`;
# then a prune study and an attention study submitted the same way.
#
#   bash scripts/slurm-smoke.sh            # needs root (apt, daemons)
#   FANAROFF=path/to/fanaroff bash scripts/slurm-smoke.sh   # skip the build
#
# Installs Debian's slurm-wlm and munge when missing, writes a slurm.conf
# for this host into a temporary folder, starts munged, slurmctld and
# slurmd, and stops every daemon it started when it exits (also on error).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
WORK=$(mktemp -d /tmp/fanaroff-slurm.XXXXXX)
STARTED=()
log() { echo "[slurm-smoke] $*"; }
# Waits up to 10 min for the queue to empty.
wait_queue() {
    for _ in $(seq 600); do
        [ -z "$(squeue -h 2>/dev/null)" ] && return 0
        sleep 1
    done
    log "jobs still queued after 10 min"; squeue; exit 1
}

cleanup() {
    for pidfile in "${STARTED[@]}"; do
        [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
    done
    sleep 1
}
trap cleanup EXIT

# 1. packages
if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    log "installing slurm-wlm and munge"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q slurm-wlm munge >/dev/null 2>&1 \
        || { apt-get update -q >/dev/null && apt-get install -y -q slurm-wlm munge >/dev/null; }
fi

# 2. munge (authentication between the SLURM daemons and clients)
if ! pgrep -x munged >/dev/null; then
    if [ ! -s /etc/munge/munge.key ]; then
        dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
    fi
    chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key
    mkdir -p /run/munge /var/log/munge /var/lib/munge
    chown munge:munge /run/munge /var/log/munge /var/lib/munge
    runuser -u munge -- /usr/sbin/munged --pid-file=/run/munge/munged.pid
    STARTED+=(/run/munge/munged.pid)
    log "started munged"
fi

# 3. a one-node cluster on this host
HOST=$(hostname -s)
CPUS=$(nproc)
MEM=$(( $(free -m | awk '/^Mem:/ {print $2}') - 1024 ))
mkdir -p "$WORK/state" "$WORK/spool"
export SLURM_CONF="$WORK/slurm.conf"
cat > "$SLURM_CONF" <<CONF
ClusterName=fanaroff-smoke
SlurmctldHost=$HOST
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$WORK/state
SlurmdSpoolDir=$WORK/spool
SlurmctldPidFile=$WORK/slurmctld.pid
SlurmdPidFile=$WORK/slurmd.pid
SlurmctldLogFile=$WORK/slurmctld.log
SlurmdLogFile=$WORK/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
ReturnToService=2
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
NodeName=$HOST CPUs=$CPUS RealMemory=$MEM State=UNKNOWN
PartitionName=smoke Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
CONF
/usr/sbin/slurmctld -c
STARTED+=("$WORK/slurmctld.pid")
/usr/sbin/slurmd
STARTED+=("$WORK/slurmd.pid")
for _ in $(seq 60); do
    sinfo -h -o %t 2>/dev/null | grep -q idle && break
    sleep 1
done
sinfo -h -o %t | grep -q idle || { log "node did not come up"; cat "$WORK"/slurm*.log; exit 1; }
log "cluster up: $(sinfo -h -o '%P %D %t %c CPUs')"

# 4. the fanaroff binary
if [ -z "${FANAROFF:-}" ]; then
    cargo build --release -q -p fanaroff-cli
    FANAROFF="$ROOT/target/release/fanaroff"
fi

# 5. a small grid: 2 temperatures x 2 seeds of the BBB LeNet on synthetic images
cat > "$WORK/grid.toml" <<GRID
[base]
name = "slurm-smoke"
data = { synthetic = 64 }
model = { kind = "bbb_lenet" }
training = { epochs = 2, batch_size = 16, progress = false, log_epochs = false }
evaluation = { samples = 4, entropy_samples = 4, val_samples = 2 }

[grid]
"model.elbo.temperature" = [1.0, 0.01]
seed = [0, 1]
GRID

log "submitting with sbatch"
"$FANAROFF" sweep slurm "$WORK/grid.toml" --out "$WORK/slurm-sweep" --cpus 1 --mem 2G --time 00:20:00 --throttle 2 --submit
wait_queue
"$FANAROFF" sweep collect "$WORK/grid.toml" --out "$WORK/slurm-sweep"
for i in 0000 0001 0002 0003; do
    [ -f "$WORK/slurm-sweep/runs/$i/record.json" ] || {
        log "index $i has no record"; cat "$WORK"/slurm-sweep/slurm/*.out || true; exit 1; }
done
grep -q "missing: none" "$WORK/slurm-sweep/summary.md"

log "the same grid with sweep local"
"$FANAROFF" sweep local "$WORK/grid.toml" --out "$WORK/local-sweep" -j 2 --threads 1
"$FANAROFF" sweep collect "$WORK/grid.toml" --out "$WORK/local-sweep" >/dev/null
if ! diff "$WORK/slurm-sweep/summary.csv" "$WORK/local-sweep/summary.csv"; then
    log "FAIL: SLURM and local tables differ"
    exit 1
fi
log "OK: 4 of 4 indices ran under sbatch; collected table identical to sweep local"
cat "$WORK/slurm-sweep/summary.md"

# 6. studies under sbatch: a prune grid and an attention grid
cat > "$WORK/prune.toml" <<GRID
[base]
name = "slurm-prune"
data = { synthetic = 32 }
model = { kind = "bbb_lenet" }
training = { epochs = 1, batch_size = 16, progress = false, log_epochs = false }
evaluation = { samples = 2, entropy_samples = 2, val_samples = 1 }
study = { kind = "prune", criteria = ["snr", "magnitude"], fractions = [0.0, 0.5], samples = 2 }

[grid]
seed = [0, 1]
GRID
cat > "$WORK/attention.toml" <<GRID
[base]
name = "slurm-attention"
data = { synthetic = 32, scaling = "symmetric" }
model = { kind = "attention_net", net = { blocks = [[4], [4], [8]], inter_channels = 4 } }
training = { epochs = 1, batch_size = 16, progress = false, log_epochs = false }
evaluation = { samples = 1, entropy_samples = 1 }
study = { kind = "attention" }

[grid]
"model.net.normalisation" = ["softmax", "sigmoid"]
GRID
for g in prune attention; do
    log "submitting the $g study with sbatch"
    "$FANAROFF" sweep slurm "$WORK/$g.toml" --out "$WORK/$g" --cpus 1 --mem 2G --time 00:20:00 --submit
done
wait_queue
for g in prune attention; do
    "$FANAROFF" sweep collect "$WORK/$g.toml" --out "$WORK/$g" >/dev/null
    grep -q "missing: none" "$WORK/$g/summary.md" || {
        log "FAIL: $g study incomplete"; cat "$WORK/$g"/slurm/*.out || true; exit 1; }
    rows=$(($(wc -l < "$WORK/$g/rows.csv") - 1))
    [ "$rows" -ge 2 ] || { log "FAIL: $g study has $rows rows"; exit 1; }
    log "OK: $g study ran under sbatch, $rows rows collected"
done
