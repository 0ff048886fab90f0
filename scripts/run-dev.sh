#!/usr/bin/env bash
# Runs the Auth Emulator and the object store (each unless already up), $WORKERS worker(s) in the background and
# the gateway in the foreground. Ctrl-C (or SIGTERM) stops everything this script started;
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

for i in $(seq 1 "${WORKERS:-1}"); do
    SNAPMATCH_WORKER_HEARTBEAT_FILE="/tmp/snapmatch-worker-$i.alive" \
        SNAPMATCH_WORKER_METRICS_PORT="$((9100 + i))" \
        "$PY" -m worker &
    workers+=("$!")
done
"$PY" -m app
