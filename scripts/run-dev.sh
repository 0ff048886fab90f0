#!/usr/bin/env bash
# Runs the Auth Emulator and the object store (each unless already up), $WORKERS worker(s) in
# the background and the gateway in the foreground. Without $WORKERS:
# SNAPMATCH_WORKER_PROCESSES, whose default is one worker per available core
# (config/machine.py). Ctrl-C (or SIGTERM) stops everything this script started;
# workers get SIGTERM and finish the tasks they hold. Worker i serves its metrics on port 9100+i.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=.venv/bin/python
workers=()
started_emulator=0
started_store=0

cleanup() {
    trap - INT TERM EXIT
    for pid in "${workers[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${workers[@]}"; do wait "$pid" 2>/dev/null || true; done
    if [[ $started_emulator == 1 ]]; then scripts/auth-emulator.sh stop || true; fi
    if [[ $started_store == 1 ]]; then scripts/object-store.sh stop || true; fi
}
trap cleanup INT TERM EXIT

if ! scripts/auth-emulator.sh status >/dev/null 2>&1; then
    scripts/auth-emulator.sh start
    started_emulator=1
fi
if ! scripts/object-store.sh status >/dev/null 2>&1; then
    scripts/object-store.sh start
    started_store=1
fi

count="${WORKERS:-$("$PY" -c 'from config import get_settings; print(get_settings().worker_processes)')}"
for i in $(seq 1 "$count"); do
    SNAPMATCH_WORKER_PROCESSES="$count" \
        SNAPMATCH_WORKER_HEARTBEAT_FILE="/tmp/snapmatch-worker-$i.alive" \
        SNAPMATCH_WORKER_METRICS_PORT="$((9100 + i))" \
        "$PY" -m worker &
    workers+=("$!")
done
"$PY" -m app
