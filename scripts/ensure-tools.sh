#!/usr/bin/env bash
# Idempotently install the Debian packages the snapmatch test suite needs.
# Does nothing (and never runs `apt-get update`) when they are all installed already.
#
#   scripts/ensure-tools.sh
set -euo pipefail

# The one list to extend. libmariadb-dev: headers and mariadb_config for building the mariadb
# connector (no Linux wheel on PyPI). prometheus: its promtool checks and unit-tests the alert
# rules in deploy/prometheus/ (the package's own server is disabled on systemd hosts).
# chromium: the browser tests/e2e drives through Playwright (a browser download by Playwright
# itself is not possible offline). redis-sentinel: the Redis failover drill and its tests run
# private sentinels on free loopback ports.
PACKAGES=(chromium docker-compose libmariadb-dev prometheus redis-sentinel)

missing=()
for pkg in "${PACKAGES[@]}"; do
    if [[ "$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null)" != installed ]]; then
        missing+=("$pkg")
    fi
done
((${#missing[@]})) || exit 0

if ((EUID == 0)); then
    as_root=()
elif command -v sudo >/dev/null 2>&1; then
    as_root=(sudo -n)
else
    echo "ensure-tools: ERROR: missing ${missing[*]}; run as root (or with sudo) to install" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
log="$(mktemp -t ensure-tools.XXXXXX)"
trap 'rm -f "$log"' EXIT
run() { # run CMD... : quiet unless it fails
    if ! "${as_root[@]}" "$@" >>"$log" 2>&1; then
        echo "ensure-tools: ERROR: '$*' failed:" >&2
        tail -n 30 "$log" >&2
        exit 1
    fi
}
run apt-get update -qq
run apt-get install -y -qq --no-install-recommends "${missing[@]}"
# Only promtool is wanted: a Prometheus server started by the package would scrape nothing.
if [[ " ${missing[*]} " == *" prometheus "* && -d /run/systemd/system ]]; then
    run systemctl disable --now prometheus
fi
echo "ensure-tools: installed ${missing[*]}"
