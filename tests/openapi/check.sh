#!/usr/bin/env bash
# Install the pinned OpenAPI validator into the build tree (npm ci from the checked-in lock file;
# again only when the lock file changes), validate every docs/api/*.yaml with it, and compare
# each with the route table of its service (`veritee routes`).
# Usage: check.sh BUILD_DIR VERITEE
set -euo pipefail
build=${1:?usage: check.sh BUILD_DIR VERITEE}
veritee=${2:?usage: check.sh BUILD_DIR VERITEE}
here=$(cd "$(dirname "$0")" && pwd)
dir="$build/openapi-check"
mkdir -p "$dir"
if ! cmp -s "$here/package-lock.json" "$dir/package-lock.json" || [ ! -d "$dir/node_modules" ]; then
    cp "$here/package.json" "$here/package-lock.json" "$dir/"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi
"$veritee" routes >"$dir/routes.json"
exec node "$here/check.mjs" "$dir" "$dir/routes.json" "$here"/../../docs/api/*.yaml
