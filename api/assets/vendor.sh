#!/usr/bin/env bash
# Refetches the third-party browser assets the hub serves itself (issue 15: pages that work with no
# internet), from the npm registry, at the pinned versions below, with their licences. npm checks
# each tarball against the registry's integrity hash; SHA256SUMS pins the files we commit, so a
# refetch that changes a byte fails here instead of shipping unnoticed.
#
#   bash api/assets/vendor.sh          # refetch and check
#   bash api/assets/vendor.sh --check  # only check the committed files
set -euo pipefail
cd "$(dirname "$0")/vendor"

if [ "${1:-}" != "--check" ]; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && npm pack --silent react@18.3.1 react-dom@18.3.1 graphiql@3.9.0 leaflet@1.9.4 >/dev/null)
  for t in "$work"/*.tgz; do
    mkdir -p "${t%.tgz}" && tar xzf "$t" -C "${t%.tgz}"
  done
  cp "$work/react-18.3.1/package/umd/react.production.min.js" react.production.min.js
  cp "$work/react-18.3.1/package/LICENSE" LICENSE.react
  cp "$work/react-dom-18.3.1/package/umd/react-dom.production.min.js" react-dom.production.min.js
  cp "$work/react-dom-18.3.1/package/LICENSE" LICENSE.react-dom
  cp "$work/graphiql-3.9.0/package/graphiql.min.js" graphiql.min.js
  cp "$work/graphiql-3.9.0/package/graphiql.min.css" graphiql.min.css
  cp "$work/graphiql-3.9.0/package/LICENSE" LICENSE.graphiql
  cp "$work/leaflet-1.9.4/package/dist/leaflet.js" leaflet.js
  cp "$work/leaflet-1.9.4/package/dist/leaflet.css" leaflet.css
  cp "$work/leaflet-1.9.4/package/LICENSE" LICENSE.leaflet
  # Source-map comments would make a browser's developer tools ask the hub for files it lacks.
  sed -i '/^\/\/# sourceMappingURL=/d' graphiql.min.js leaflet.js react.production.min.js react-dom.production.min.js
fi
files="react.production.min.js react-dom.production.min.js graphiql.min.js graphiql.min.css leaflet.js leaflet.css"
if [ -f SHA256SUMS ]; then
  sha256sum -c --quiet SHA256SUMS
else
  # First fetch: pin what was fetched.
  sha256sum $files > SHA256SUMS
fi
