#!/usr/bin/env bash
# The browser check, one entry point for CI: installs Debian's Chromium when missing, the pinned
# npm packages, builds the hub unless RACCORDO_BIN names one, then drives the pages.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

if ! command -v "${CHROMIUM:-/usr/bin/chromium}" >/dev/null 2>&1; then
  echo "== browser: apt-get install chromium"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null 2>&1 || {
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null
  }
fi
command -v node >/dev/null || { echo "browser: node is not installed" >&2; exit 1; }
echo "== browser: npm ci (node $(node --version))"
(cd "$here" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
if [[ -z "${RACCORDO_BIN:-}" ]]; then
  (cd "$repo" && cargo build --quiet -p raccordo-api --bin raccordo)
  export RACCORDO_BIN="$repo/target/debug/raccordo"
fi
echo "== browser: pages"
node "$here/pages.mjs"
