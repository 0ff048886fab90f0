#!/usr/bin/env bash
# The web page (web/, bundled by Vite into build/web, which the gateway serves under /app/).
#
#   scripts/web.sh build   # npm ci when web/package-lock.json changed, then vite build
#   scripts/web.sh test    # the page's pure modules under node --test (no install needed)
#
# `make web` runs `build` only when a source file is newer than the build.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WEB_DIR="$ROOT/web"
INSTALL_STAMP="$WEB_DIR/node_modules/.package-lock.json"

log() { printf 'web: %s\n' "$*" >&2; }

require_node() {
    local version
    if ! version="$(node --version 2>/dev/null)"; then
        log "node is not installed (Node 20.19 or newer, with npm)"
        exit 1
    fi
    # Vite 8 needs Node ^20.19 or >= 22.12.
    if ! node -e 'const [a, b] = process.versions.node.split(".").map(Number);
                  process.exit(a > 22 || (a === 22 && b >= 12) || (a === 20 && b >= 19) ? 0 : 1)'; then
        log "node $version is too old for Vite 8: install Node 20.19+ or 22.12+"
        exit 1
    fi
}

ensure_installed() {
    if [[ ! -f "$INSTALL_STAMP" || "$WEB_DIR/package-lock.json" -nt "$INSTALL_STAMP" ]]; then
        log "installing the page's npm packages (npm ci in web/; ~460 MB, under a minute)"
        # --ignore-scripts: none is needed (Vite's native bundler comes as an optional
        # package), and swagger-ui-dist's @scarf/scarf would report the install to a server.
        (cd "$WEB_DIR" && npm ci --no-audit --no-fund --ignore-scripts) >&2
        touch "$INSTALL_STAMP"
    fi
}

case "${1:-}" in
    build)
        require_node
        ensure_installed
        (cd "$WEB_DIR" && node_modules/.bin/vite build --logLevel warn)
        log "built into build/web"
        ;;
    test)
        require_node
        (cd "$WEB_DIR" && node --test test/)
        ;;
    *)
        echo "usage: $0 {build|test}" >&2
        exit 2
        ;;
esac
