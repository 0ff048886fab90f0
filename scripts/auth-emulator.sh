#!/usr/bin/env bash
# Local Firebase Auth Emulator (firebase-tools pinned in config/firebase/package-lock.json).
#
#   scripts/auth-emulator.sh start    # idempotent; installs firebase-tools on first use
#   scripts/auth-emulator.sh stop     # stops only an emulator that this script started
#   scripts/auth-emulator.sh status   # exit 0 when the emulator answers, 3 when it does not
#
# Environment:
#   SNAPMATCH_AUTH_EMULATOR_HOST        host:port (default 127.0.0.1:9099)
#   SNAPMATCH_FIREBASE_PROJECT_ID       project id (default demo-snapmatch; keep the demo- prefix
#                                       so that firebase-tools never talks to Google)
#   SNAPMATCH_AUTH_EMULATOR_START_TIMEOUT  seconds `start` waits for readiness (default 60)
#
# Runtime state lives under var/ (git-ignored): var/run/auth-emulator.pid, var/log/auth-emulator.log,
# var/firebase/ (generated firebase.json; firebase-tools' cwd), var/firebase-home, var/tmp.
# A port other than 9099 gets its own pid/log/config names (suffix -PORT). The emulator also
# opens its hub on 4400 and reserves 4500 (next free ports for a second instance).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib/background.sh
source "$ROOT/scripts/lib/background.sh"
FIREBASE_DIR="$ROOT/config/firebase"
FIREBASE_BIN="$FIREBASE_DIR/node_modules/.bin/firebase"
INSTALL_STAMP="$FIREBASE_DIR/node_modules/.package-lock.json"

HOSTPORT="${SNAPMATCH_AUTH_EMULATOR_HOST:-127.0.0.1:9099}"
HOSTPORT="${HOSTPORT#http://}"
HOSTPORT="${HOSTPORT%/}"
require_hostport SNAPMATCH_AUTH_EMULATOR_HOST "$HOSTPORT"
EMU_HOST="${HOSTPORT%:*}"
EMU_PORT="${HOSTPORT##*:}"
PROJECT_ID="${SNAPMATCH_FIREBASE_PROJECT_ID:-demo-snapmatch}"
START_TIMEOUT="${SNAPMATCH_AUTH_EMULATOR_START_TIMEOUT:-60}"
URL="http://$HOSTPORT/"

VAR_DIR="$ROOT/var"
# A second emulator on another port (tests) gets its own state files.
SUFFIX=""
[[ "$EMU_PORT" == 9099 ]] || SUFFIX="-$EMU_PORT"
RUN_DIR="$VAR_DIR/firebase$SUFFIX"
PID_FILE="$VAR_DIR/run/auth-emulator$SUFFIX.pid"
LOG_FILE="$VAR_DIR/log/auth-emulator$SUFFIX.log"

log() { printf 'auth-emulator: %s\n' "$*" >&2; }

answers() {
    curl --silent --output /dev/null --max-time 2 "$URL"
}

# The pid recorded by `start` while that process is still firebase's emulators:start.
our_pid() { recorded_pid "$PID_FILE" 'emulators:start'; }

ensure_installed() {
    if [[ ! -x "$FIREBASE_BIN" || ! -f "$INSTALL_STAMP" \
        || "$FIREBASE_DIR/package-lock.json" -nt "$INSTALL_STAMP" ]]; then
        log "installing firebase-tools (npm ci in config/firebase; ~300 MB, about a minute)"
        # --ignore-scripts: the only install script that matters is re2's (optional, hosting
        # only), which tries to download a binary from GitHub and then compiles C++.
        (cd "$FIREBASE_DIR" && npm ci --no-audit --no-fund --ignore-scripts) >&2
        touch "$INSTALL_STAMP"
    fi
}

# firebase.json with the host/port of SNAPMATCH_AUTH_EMULATOR_HOST; the committed file stays as is.
write_runtime_config() {
    mkdir -p "$RUN_DIR"
    node -e '
        const fs = require("fs");
        const [src, dst, host, port] = process.argv.slice(1);
        const cfg = JSON.parse(fs.readFileSync(src, "utf8"));
        cfg.emulators = cfg.emulators || {};
        cfg.emulators.auth = { ...(cfg.emulators.auth || {}), host, port: Number(port) };
        cfg.emulators.ui = { ...(cfg.emulators.ui || {}), enabled: false };
        cfg.emulators.singleProjectMode = true;
        fs.writeFileSync(dst, JSON.stringify(cfg, null, 2) + "\n");
    ' "$FIREBASE_DIR/firebase.json" "$RUN_DIR/firebase.json" "$EMU_HOST" "$EMU_PORT"
}

wait_ready() {
    local started=$1 elapsed
    while true; do
        elapsed=$((SECONDS - started))
        if answers; then
            log "ready at $URL after ${elapsed}s (pid $(cat "$PID_FILE" 2>/dev/null || echo '?'))"
            return 0
        fi
        if ((elapsed > 2)) && ! our_pid >/dev/null; then
            log "the emulator exited during startup; last lines of $LOG_FILE:"
            tail -n 40 "$LOG_FILE" >&2 || true
            rm -f "$PID_FILE"
            return 1
        fi
        if ((elapsed >= START_TIMEOUT)); then
            log "not ready after ${START_TIMEOUT}s; last lines of $LOG_FILE:"
            tail -n 40 "$LOG_FILE" >&2 || true
            cmd_stop || true
            return 1
        fi
        sleep 0.5
    done
}

# Serialises concurrent start/stop calls (e.g. two `make run`s).
lock() { take_lock "$VAR_DIR/run/auth-emulator$SUFFIX.lock" 120; }

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
    if pid="$(our_pid)"; then
        log "pid $pid is still starting up; waiting for it"
        wait_ready "$SECONDS"
        return
    fi
    rm -f "$PID_FILE"

    ensure_installed
    mkdir -p "$VAR_DIR/run" "$VAR_DIR/log" "$VAR_DIR/firebase-home" "$VAR_DIR/tmp"
    write_runtime_config
    : >"$LOG_FILE"

    log "starting on $URL (project $PROJECT_ID, log $LOG_FILE)"
    # setsid: own session and process group, so `stop` can take down node and its children
    # together; the inner shell records its pid (== the group id) before exec'ing firebase.
    (
        cd "$RUN_DIR"
        exec setsid bash -c 'echo $$ >"$0"; exec "$@"' "$PID_FILE" \
            env CI=true NO_UPDATE_NOTIFIER=1 FIREBASE_CLI_DISABLE_UPDATE_CHECK=true \
            HOME="$VAR_DIR/firebase-home" TMPDIR="$VAR_DIR/tmp" \
            "$FIREBASE_BIN" emulators:start --only auth --project "$PROJECT_ID" \
            --config "$RUN_DIR/firebase.json"
    ) 9>&- </dev/null >>"$LOG_FILE" 2>&1 &
    wait_ready "$SECONDS"
}

cmd_stop() {
    local pid
    lock
    if ! pid="$(our_pid)"; then
        rm -f "$PID_FILE"
        if answers; then
            log "an emulator answers at $URL but was not started by this script; leaving it"
        else
            log "not running"
        fi
        return 0
    fi
    log "stopping pid $pid (process group)"
    # firebase-tools shuts down cleanly on SIGTERM within a few seconds.
    stop_group "$pid" 10
    rm -f "$PID_FILE"
    log "stopped"
}

cmd_status() {
    local pid=""
    pid="$(our_pid)" || pid=""
    if answers; then
        if [[ -n "$pid" ]]; then
            echo "running at $URL (pid $pid, started by this script, log $LOG_FILE)"
        else
            echo "running at $URL (not started by this script)"
        fi
        return 0
    fi
    if [[ -n "$pid" ]]; then
        echo "starting or unhealthy: pid $pid does not answer at $URL (log $LOG_FILE)"
    else
        echo "not running ($URL)"
    fi
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
