#!/usr/bin/env bash
# Idempotently make sure the local backing services for snapmatch are running,
# then create the project's RabbitMQ vhost(s) and user (and MariaDB database(s) and user).
#
#   scripts/ensure-services.sh [--with-mariadb] [--database NAME]... [VHOST...]
#                                                   (default vhost: snapmatch)
#   make test calls:  scripts/ensure-services.sh --database snapmatch --database snapmatch_test \
#                         snapmatch snapmatch-test
#
# --database NAME (implies --with-mariadb) creates the database NAME (utf8mb4) and grants the
# MariaDB user all privileges on NAME and on NAME_* (scratch databases of the test suite).
# The user is created for 127.0.0.1 (TCP) and localhost (socket); root is used over the socket.
#
# Only services that are not answering get started. Quiet on success apart from
# one line per action ("redis: already running", "rabbitmq: started in 7.9 s",
# "rabbitmq: vhost snapmatch-test created", ...).
#
# Environment:
#   SNAPMATCH_RABBITMQ_USER      (default snapmatch)
#   SNAPMATCH_RABBITMQ_PASSWORD  (default snapmatch; an existing user's password is reset to it)
#   SNAPMATCH_MARIADB_USER       (default snapmatch)
#   SNAPMATCH_MARIADB_PASSWORD   (default snapmatch; an existing user's password is reset to it)
#   ENSURE_SERVICES_TIMEOUT      seconds to wait for a service to come up
#                                (default: redis 20, rabbitmq 90, mariadb 60)
set -euo pipefail

ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$ROOT"

RMQ_USER="${SNAPMATCH_RABBITMQ_USER:-snapmatch}"
RMQ_PASSWORD="${SNAPMATCH_RABBITMQ_PASSWORD:-snapmatch}"
DB_USER="${SNAPMATCH_MARIADB_USER:-snapmatch}"
DB_PASSWORD="${SNAPMATCH_MARIADB_PASSWORD:-snapmatch}"
declare -A DEFAULT_TIMEOUT=([redis]=20 [rabbitmq]=90 [mariadb]=60)

# Services checked by default, in order. Adding one later = one word here
# plus its <name>_alive / <name>_start / <name>_ready / <name>_logs functions.
SERVICES=(redis rabbitmq)

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; }

VHOSTS=()
DATABASES=()
while (($#)); do
    case "$1" in
        --with-mariadb) [[ " ${SERVICES[*]} " == *" mariadb "* ]] || SERVICES+=(mariadb) ;;
        --database)
            (($# > 1)) || { echo "ensure-services: --database needs a name" >&2; exit 2; }
            [[ " ${SERVICES[*]} " == *" mariadb "* ]] || SERVICES+=(mariadb)
            DATABASES+=("$2")
            shift ;;
        -h | --help) usage; exit 0 ;;
        --) shift; VHOSTS+=("$@"); break ;;
        -*) echo "ensure-services: unknown option: $1" >&2; usage >&2; exit 2 ;;
        *) VHOSTS+=("$1") ;;
    esac
    shift
done
((${#VHOSTS[@]})) || VHOSTS=(snapmatch)
[[ -n "$RMQ_USER" ]] || { echo "ensure-services: SNAPMATCH_RABBITMQ_USER is empty" >&2; exit 2; }
[[ -n "$RMQ_PASSWORD" ]] || { echo "ensure-services: SNAPMATCH_RABBITMQ_PASSWORD is empty" >&2; exit 2; }

# ---------------------------------------------------------------- helpers

die() { echo "ensure-services: ERROR: $*" >&2; exit 1; }

# Run a command as root (directly, or through passwordless sudo when available).
as_root() {
    if ((EUID == 0)); then
        "$@"
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        sudo -n "$@"
    else
        "$@"
    fi
}

port_open() { timeout 2 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; }

now() { echo "${EPOCHREALTIME/,/.}"; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
elapsed_int() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%d", b - a }'; }

tail_logs() { # tail_logs FILE... : last lines of each existing, non-empty file, to stderr
    local f
    for f in "$@"; do
        if [[ -s "$f" ]]; then
            echo "----- last 30 lines of $f -----" >&2
            as_root tail -n 30 -- "$f" >&2 || true
        fi
    done
}

# rmqctl TIMEOUT_S ARGS... : rabbitmqctl with its arguments passed verbatim. Debian's
# /usr/sbin/rabbitmqctl wrapper re-joins arguments into an `su -c` string (escaping only
# double quotes), which mangles passwords containing $, ` or \ — so on that layout run
# the real CLI as the rabbitmq user directly.
rmqctl() {
    local limit="$1" cli=/usr/lib/rabbitmq/bin/rabbitmqctl home
    shift
    if [[ -x "$cli" ]] && home="$(getent passwd rabbitmq | cut -d: -f6)" && [[ -n "$home" ]] \
        && command -v runuser >/dev/null 2>&1; then
        (cd "$home" && as_root timeout "$limit" runuser -u rabbitmq -- env HOME="$home" "$cli" "$@")
    else
        as_root timeout "$limit" rabbitmqctl "$@"
    fi
}

# ---------------------------------------------------------------- redis

REDIS_LOG=/var/log/redis/ci.log
redis_ping() { [[ "$(timeout 3 redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" == PONG ]]; }
redis_alive() { redis_ping; }
redis_start() {
    as_root mkdir -p /var/lib/redis /var/log/redis
    as_root redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" \
        --appendonly no --dir /var/lib/redis --logfile "$REDIS_LOG"
}
redis_ready() { redis_ping; }
redis_gone() { ! pgrep -x redis-server >/dev/null; }
redis_logs() { echo "$REDIS_LOG"; }

# ---------------------------------------------------------------- rabbitmq

RMQ_START_OUT="$(mktemp -t ensure-services-rabbitmq.XXXXXX)"
trap 'rm -f "$RMQ_START_OUT"' EXIT
rabbitmq_alive() { port_open 127.0.0.1 5672; }
rabbitmq_start() {
    # A node that answers but has no AMQP listener is most likely still booting
    # (started by someone else): wait for it instead of starting a second one.
    if rmqctl 15 -q ping >/dev/null 2>&1 </dev/null; then
        echo "rabbitmq: node already up without AMQP listener; waiting for it" \
            "(if its app was stopped: rabbitmqctl start_app)"
        return 0
    fi
    as_root rabbitmq-server -detached >"$RMQ_START_OUT" 2>&1
}
rabbitmq_ready() { port_open 127.0.0.1 5672; }
rabbitmq_gone() { ! pgrep -x beam.smp >/dev/null; }
rabbitmq_logs() {
    echo "$RMQ_START_OUT"
    as_root bash -c 'ls -t /var/log/rabbitmq/*.log 2>/dev/null | head -n 1' || true
    echo /var/log/rabbitmq/startup_err
}

# ---------------------------------------------------------------- mariadb (opt-in)

mariadb_alive() { port_open 127.0.0.1 3306; }
mariadb_start() {
    as_root start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
}
mariadb_ready() {
    port_open 127.0.0.1 3306 || return 1
    ! command -v mariadb-admin >/dev/null 2>&1 || as_root mariadb-admin --silent ping >/dev/null 2>&1
}
mariadb_logs() { echo /var/log/mysql/error.log; }

# Databases and the application user. Names are restricted to [A-Za-z0-9_] so they can be
# quoted safely; the password goes through sql_string.
sql_string() { # sql_string VALUE : VALUE as a single-quoted SQL string literal
    local s="${1//\\/\\\\}"
    s="${s//\'/\\\'}"
    printf "'%s'" "$s"
}
mariadb_root() { as_root mariadb --protocol=socket --user=root --batch --skip-column-names "$@"; }

mariadb_provision() {
    local db sql existing pattern user password host
    for db in "${DATABASES[@]}"; do
        [[ "$db" =~ ^[A-Za-z0-9_]{1,48}$ ]] || die "mariadb: invalid database name '$db'"
    done
    [[ "$DB_USER" =~ ^[A-Za-z0-9_]{1,32}$ ]] || die "mariadb: invalid user name '$DB_USER'"
    [[ -n "$DB_PASSWORD" ]] || die "SNAPMATCH_MARIADB_PASSWORD is empty"
    existing="$(mariadb_root -e 'SELECT SCHEMA_NAME FROM information_schema.SCHEMATA' </dev/null)" \
        || die "mariadb: cannot connect as root over the socket"
    user="$(sql_string "$DB_USER")"
    password="$(sql_string "$DB_PASSWORD")"
    sql=""
    for host in 127.0.0.1 localhost; do
        sql+="CREATE USER IF NOT EXISTS $user@'$host' IDENTIFIED BY $password;"
        sql+="ALTER USER $user@'$host' IDENTIFIED BY $password;"
    done
    for db in "${DATABASES[@]}"; do
        sql+="CREATE DATABASE IF NOT EXISTS \`$db\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;"
        pattern="${db//_/\\_}"
        for host in 127.0.0.1 localhost; do
            sql+="GRANT ALL PRIVILEGES ON \`$pattern\`.* TO $user@'$host';"
            sql+="GRANT ALL PRIVILEGES ON \`$pattern\\_%\`.* TO $user@'$host';"
        done
    done
    mariadb_root <<<"$sql" >/dev/null || die "mariadb: provisioning failed"
    for db in "${DATABASES[@]}"; do
        grep -qx -- "$db" <<<"$existing" || echo "mariadb: database $db created (user $DB_USER)"
    done
}

# ---------------------------------------------------------------- generic start/wait

# ensure NAME: nothing if <name>_alive; else <name>_start, then poll <name>_ready until the
# service's deadline, failing early if <name>_gone says the process died. Optional hook
# <name>_settle runs in both cases (e.g. rabbitmqctl await_startup).
ensure() {
    local name="$1" t0 deadline limit
    limit="${ENSURE_SERVICES_TIMEOUT:-${DEFAULT_TIMEOUT[$name]:-60}}"
    deadline=$((SECONDS + limit))
    if "${name}_alive"; then
        echo "$name: already running"
        ! declare -F "${name}_settle" >/dev/null || "${name}_settle" "$deadline"
        return 0
    fi
    t0="$(now)"
    # 9>&-: daemons must not inherit (and so hold forever) the lock below.
    "${name}_start" 9>&- || fail "$name" "start command failed"
    until "${name}_ready"; do
        ((SECONDS < deadline)) || fail "$name" "not ready after ${limit}s"
        if (($(elapsed_int "$t0") >= 3)) && declare -F "${name}_gone" >/dev/null \
            && "${name}_gone"; then
            fail "$name" "process exited during startup"
        fi
        sleep 0.2
    done
    ! declare -F "${name}_settle" >/dev/null || "${name}_settle" "$deadline"
    echo "$name: started in $(elapsed "$t0") s"
}

fail() { # fail NAME MESSAGE : error plus the service's log tails, exit 1
    local logs
    echo "ensure-services: ERROR: $1: $2" >&2
    mapfile -t logs < <("${1}_logs")
    tail_logs "${logs[@]}"
    exit 1
}

# The AMQP port opens before the node has finished booting; await_startup is the real gate.
rabbitmq_settle() { # rabbitmq_settle DEADLINE (in $SECONDS terms)
    local left=$(($1 - SECONDS))
    ((left > 10)) || left=10
    rmqctl $((left + 10)) -q await_startup --timeout "$left" >/dev/null 2>&1 </dev/null \
        || fail rabbitmq "'rabbitmqctl await_startup' failed"
}

# ---------------------------------------------------------------- rabbitmq vhosts/user

# Decide what to change from one `export_definitions` call (each rabbitmqctl call costs
# ~1 s): missing vhosts, missing user, wrong password (checked against the stored salted
# hash), missing full permissions. Prints one tab-separated action per line.
RMQ_PLAN_PY='
import base64, hashlib, json, os, sys

defs = json.load(sys.stdin)
user, password = os.environ["RMQ_USER"], os.environ["RMQ_PASSWORD"].encode()
wanted = sys.argv[1:]
vhosts = {v["name"] for v in defs.get("vhosts", [])}
users = {u["name"]: u for u in defs.get("users", [])}
perms = {(p["user"], p["vhost"]): p for p in defs.get("permissions", [])}

def password_ok(u):
    algo = {
        "rabbit_password_hashing_sha256": hashlib.sha256,
        "rabbit_password_hashing_sha512": hashlib.sha512,
        "rabbit_password_hashing_md5": hashlib.md5,
    }.get(u.get("hashing_algorithm", ""))
    try:
        raw = base64.b64decode(u.get("password_hash") or "")
    except ValueError:
        return False
    return algo is not None and len(raw) > 4 and algo(raw[:4] + password).digest() == raw[4:]

for v in wanted:
    if v not in vhosts:
        print("add_vhost", v, sep="\t")
if user not in users:
    print("add_user")
elif not password_ok(users[user]):
    print("change_password")
for v in wanted:
    p = perms.get((user, v))
    if p is None or any(p.get(k) != ".*" for k in ("configure", "write", "read")):
        print("set_permissions", v, sep="\t")
'

rabbitmq_provision() {
    local defs plan action vhost py
    py="$(command -v python3)" || die "python3 is required to inspect RabbitMQ definitions"
    defs="$(rmqctl 60 -q export_definitions - --format json 2>&1 </dev/null)" \
        || die "rabbitmq: export_definitions failed: $defs"
    plan="$(RMQ_USER="$RMQ_USER" RMQ_PASSWORD="$RMQ_PASSWORD" \
        "$py" -c "$RMQ_PLAN_PY" "${VHOSTS[@]}" <<<"$defs")" \
        || die "rabbitmq: could not parse definitions"
    while IFS=$'\t' read -r action vhost; do
        [[ -n "$action" ]] || continue
        case "$action" in
            add_vhost)
                rmq_do add_vhost "$vhost"
                echo "rabbitmq: vhost $vhost created" ;;
            add_user)
                rmq_do add_user "$RMQ_USER" "$RMQ_PASSWORD"
                echo "rabbitmq: user $RMQ_USER created" ;;
            change_password)
                rmq_do change_password "$RMQ_USER" "$RMQ_PASSWORD"
                echo "rabbitmq: user $RMQ_USER password reset" ;;
            set_permissions)
                rmq_do set_permissions -p "$vhost" "$RMQ_USER" '.*' '.*' '.*'
                echo "rabbitmq: user $RMQ_USER granted full permissions on vhost $vhost" ;;
        esac
    done <<<"$plan"
}

rmq_do() { # rmq_do ARGS... : rabbitmqctl command, output only on failure (never echoes a password)
    local out
    out="$(rmqctl 60 -q "$@" 2>&1 </dev/null)" || die "rabbitmq: 'rabbitmqctl $1' failed: $out"
}

# ---------------------------------------------------------------- main

# Serialise concurrent runs (parallel CI jobs on one machine share these services).
LOCK=/tmp/snapmatch-ensure-services.lock
if { exec 9>>"$LOCK"; } 2>/dev/null; then
    chmod 0666 "$LOCK" 2>/dev/null || true
    flock -w 300 9 || die "another ensure-services run has held $LOCK for 300 s"
fi

for svc in "${SERVICES[@]}"; do
    ensure "$svc"
done
rabbitmq_provision
((${#DATABASES[@]} == 0)) || mariadb_provision
