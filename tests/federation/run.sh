#!/usr/bin/env bash
# The federation check, one entry point for CI: installs the pinned npm packages, builds the hub
# unless RACCORDO_BIN names one, composes the supergraph, runs the end-to-end test.
#   RACCORDO_BIN   a hub binary to use (relative to the repository root, or absolute)
#   PG_SERVER_URL  PostgreSQL server with trust auth (default postgres://postgres@127.0.0.1:5432)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

command -v node >/dev/null || { echo "federation: node is not installed" >&2; exit 1; }
echo "== federation: npm ci (node $(node --version))"
(cd "$here" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)

if [[ -z "${RACCORDO_BIN:-}" ]]; then
  echo "== federation: cargo build -p raccordo-api --bin raccordo"
  (cd "$repo" && cargo build --quiet -p raccordo-api --bin raccordo)
  export RACCORDO_BIN="$repo/target/debug/raccordo"
fi
case "$RACCORDO_BIN" in /*) ;; *) export RACCORDO_BIN="$repo/$RACCORDO_BIN" ;; esac

echo "== federation: compose"
node "$here/compose.mjs"
echo "== federation: end to end"
node "$here/e2e.mjs"
