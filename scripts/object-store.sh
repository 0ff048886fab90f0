#!/usr/bin/env bash
# Local S3-compatible object store (npm @20minutes/s3rver, pinned in
# config/s3rver/package-lock.json, run by config/s3rver/server.js). It verifies SigV4 signatures
# and refuses unsigned requests, so presigned URLs behave as on S3 or MinIO; Docker users get
# MinIO from docker-compose instead. The project creates its buckets itself (the gateway at
# start, or `python -m app.storage setup`): nothing here is public.
#
#   scripts/object-store.sh start    # idempotent; installs s3rver on first use
#   scripts/object-store.sh stop     # stops only a server that this script started
#   scripts/object-store.sh status   # exit 0 when the store answers, 3 when it does not
#
# Environment:
#   SNAPMATCH_OBJECT_STORE_LISTEN     host:port to serve on (default 127.0.0.1:9000)
#   SNAPMATCH_OBJECT_STORE_START_TIMEOUT  seconds `start` waits for readiness (default 30)
#
# Runtime state lives under var/ (git-ignored): var/object-store/ (the objects),
# var/run/object-store.pid, var/log/object-store.log. A port other than 9000 gets its own names.
# Credentials are s3rver's fixed development pair, S3RVER / S3RVER (the Settings' defaults).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib/background.sh
source "$ROOT/scripts/lib/background.sh"
S3RVER_DIR="$ROOT/config/s3rver"
S3RVER_MODULE="$S3RVER_DIR/node_modules/@20minutes/s3rver"
INSTALL_STAMP="$S3RVER_DIR/node_modules/.package-lock.json"

HOSTPORT="${SNAPMATCH_OBJECT_STORE_LISTEN:-127.0.0.1:9000}"
require_hostport SNAPMATCH_OBJECT_STORE_LISTEN "$HOSTPORT"
HOST="${HOSTPORT%:*}"
PORT="${HOSTPORT##*:}"
START_TIMEOUT="${SNAPMATCH_OBJECT_STORE_START_TIMEOUT:-30}"
URL="http://$HOSTPORT/"

VAR_DIR="$ROOT/var"
SUFFIX=""
[[ "$PORT" == 9000 ]] || SUFFIX="-$PORT"
DATA_DIR="$VAR_DIR/object-store$SUFFIX"
PID_FILE="$VAR_DIR/run/object-store$SUFFIX.pid"
LOG_FILE="$VAR_DIR/log/object-store$SUFFIX.log"

log() { printf 'object-store: %s\n' "$*" >&2; }

# Any S3 server answers an anonymous GET / (403 AccessDenied here, from MinIO or from S3).
answers() {
    local code
    code="$(curl --silent --output /dev/null --write-out '%{http_code}' --max-time 2 "$URL")" || return 1
    [[ "$code" != 000 ]]
}

our_pid() { recorded_pid "$PID_FILE" 's3rver/server.js'; }

ensure_installed() {
    if [[ ! -d "$S3RVER_MODULE" || ! -f "$INSTALL_STAMP" \
        || "$S3RVER_DIR/package-lock.json" -nt "$INSTALL_STAMP" ]]; then
        log "installing s3rver (npm ci in config/s3rver; a few seconds)"
        (cd "$S3RVER_DIR" && npm ci --no-audit --no-fund --ignore-scripts) >&2
        touch "$INSTALL_STAMP"
    fi
}

lock() { take_lock "$VAR_DIR/run/object-store$SUFFIX.lock" 60; }

wait_ready() {
    local started=$SECONDS
    until answers; do
        if ! our_pid >/dev/null; then
            log "s3rver exited during startup; last lines of $LOG_FILE:"
            tail -n 30 "$LOG_FILE" >&2 || true
            rm -f "$PID_FILE"
            return 1
        fi
        if ((SECONDS - started >= START_TIMEOUT)); then
            log "not ready after ${START_TIMEOUT}s; see $LOG_FILE"
            return 1
        fi
        sleep 0.2
    done
    log "ready at $URL (data $DATA_DIR)"
}

cmd_start() {
    local pid
    lock
    if answers; then
        if pid="$(our_pid)"; then
            log "already running at $URL (pid $pid)"
        else
            log "something already answers at $URL (not started by this script); using it"
        fi
        return 0
    fi
    rm -f "$PID_FILE"
    ensure_installed
    mkdir -p "$DATA_DIR" "$VAR_DIR/run" "$VAR_DIR/log"
    log "starting on $URL (log $LOG_FILE)"
    # --openssl-legacy-provider: s3rver encrypts ListObjectsV2 continuation tokens with DES,
    # which OpenSSL 3 only offers from its legacy provider (without it, any listing longer
    # than one page fails with InternalError).
    (
        exec setsid bash -c 'echo $$ >"$0"; exec "$@"' "$PID_FILE" \
            node --openssl-legacy-provider "$S3RVER_DIR/server.js" "$DATA_DIR" "$HOST" "$PORT"
    ) 9>&- </dev/null >>"$LOG_FILE" 2>&1 &
    wait_ready
}

cmd_stop() {
    local pid
    lock
    if ! pid="$(our_pid)"; then
        rm -f "$PID_FILE"
        log "not running (or not started by this script)"
        return 0
    fi
    log "stopping pid $pid"
    stop_group "$pid" 5
    rm -f "$PID_FILE"
    log "stopped"
}

cmd_status() {
    if answers; then
        echo "running at $URL"
        return 0
    fi
    echo "not running ($URL)"
    return 3
}

case "${1:-}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    *)
        echo "usage: $0 {start|stop|status}" >&2
        exit 2
        ;;
esac
