# Functions shared by the scripts that start a local server in the background and stop only what they
# started (scripts/auth-emulator.sh, scripts/object-store.sh). Source it; it defines functions
# only.

# require_hostport NAME VALUE: exit 2 unless VALUE is host:port.
require_hostport() {
    local host="${2%:*}" port="${2##*:}"
    if [[ -z "$host" || "$host" == "$2" || ! "$port" =~ ^[0-9]+$ ]]; then
        printf '%s must be host:port, got %s\n' "$1" "'$2'" >&2
        exit 2
    fi
}

# recorded_pid PID_FILE PATTERN: print the pid recorded in PID_FILE while that process is alive
# and its command line still contains PATTERN (guards against pid reuse); fail otherwise.
recorded_pid() {
    local pid
    [[ -f "$1" ]] || return 1
    pid="$(<"$1")"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$2" || return 1
    printf '%s\n' "$pid"
}

# take_lock LOCK_FILE SECONDS: serialise concurrent start/stop calls on file descriptor 9 (the
# started server must not inherit it: start it with `9>&-`).
take_lock() {
    mkdir -p "$(dirname "$1")"
    exec 9>"$1"
    flock -w "$2" 9 || { echo "timed out waiting for another start/stop ($1)" >&2; exit 1; }
}

# stop_group PID SECONDS: SIGTERM the process group PID leads, SIGKILL it after SECONDS.
stop_group() {
    local i
    kill -TERM -- "-$1" 2>/dev/null || true
    for i in $(seq 1 $(($2 * 4))); do
        kill -0 -- "-$1" 2>/dev/null || return 0
        sleep 0.25
    done
    echo "process group $1 still alive after ${2}s; sending SIGKILL" >&2
    kill -KILL -- "-$1" 2>/dev/null || true
    sleep 0.5
}
