#!/usr/bin/env bash
# Security checks against a real hub on 127.0.0.1: schemathesis (GraphQL fuzzing) and
# clairvoyance (schema recovery without introspection). See tests/security/README.md.
#
#   bash tests/security/run.sh                 # builds target/debug/raccordo if needed
#   RACCORDO_BIN=target/release/raccordo bash tests/security/run.sh
#
# Exit code: 0 all checks passed, 1 a check failed, 2 the hub or a tool could not start.
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ -n "${RACCORDO_BIN:-}" ]; then
  BIN=$RACCORDO_BIN
else
  cargo build -p raccordo-api --bin raccordo
  BIN=target/debug/raccordo
fi
[ -x "$BIN" ] || { echo "no raccordo binary at $BIN" >&2; exit 2; }

# The tools, pinned, in a virtual environment kept between runs.
VENV=${SECURITY_VENV:-target/security-venv}
REQ=tests/security/requirements.txt
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
STAMP="$VENV/.requirements.sha256"
if ! sha256sum --check --status "$STAMP" 2>/dev/null; then
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$REQ"
  sha256sum "$REQ" > "$STAMP"
fi

# A copy of the binary, so that a build running beside us cannot swap it mid-run.
COPY=$(mktemp -d)/raccordo
trap 'rm -rf "$(dirname "$COPY")"' EXIT
cp "$BIN" "$COPY"

"$VENV/bin/python" tests/security/check.py --bin "$COPY" "$@"
