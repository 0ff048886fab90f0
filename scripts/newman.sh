#!/usr/bin/env bash
# Runs newman (pinned in config/newman/package-lock.json), installing it on first use.
#
#   scripts/newman.sh run docs/postman/snapmatch.postman_collection.json \
#       -e docs/postman/snapmatch.postman_environment.json --working-dir docs/postman/files
#
# Every argument goes to newman; `make run` in another terminal provides the live stack.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NEWMAN_DIR="$ROOT/config/newman"
NEWMAN_BIN="$NEWMAN_DIR/node_modules/.bin/newman"
INSTALL_STAMP="$NEWMAN_DIR/node_modules/.package-lock.json"

if [[ ! -x "$NEWMAN_BIN" || ! -f "$INSTALL_STAMP" \
    || "$NEWMAN_DIR/package-lock.json" -nt "$INSTALL_STAMP" ]]; then
    printf 'newman: installing (npm ci in config/newman; ~70 MB)\n' >&2
    # --ignore-scripts: newman and its dependencies need no install scripts.
    (cd "$NEWMAN_DIR" && npm ci --no-audit --no-fund --ignore-scripts) >&2
    touch "$INSTALL_STAMP"
fi
exec "$NEWMAN_BIN" "$@"
