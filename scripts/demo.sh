#!/usr/bin/env bash
# The main job, until the broker demo lands: build veritee and verify every real Intel SGX/TDX
# fixture set at its recorded time, printing a summary table. Exit 0 when every set gives its
# expected verdict.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

build=${VT_DEMO_BUILD:-build/release}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DVT_TESTS=OFF >/dev/null
cmake --build "$build" -j"$(nproc 2>/dev/null || echo 2)" --target veritee >/dev/null
exec scripts/verify-fixtures.sh "$build/veritee"
