#!/usr/bin/env bash
# Broker round trips on loopback with SQLite and with a PostgreSQL this script starts, beside the
# verification floor measured in the same run (bench/bench_broker.c).
# Usage: bench/broker_bench.sh BUILD_DIR [SECONDS]   (a Release build with VT_TESTS=ON)
set -euo pipefail
build=${1:?usage: broker_bench.sh BUILD_DIR [SECONDS]}
seconds=${2:-3}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
chmod 755 "$tmp"
source "$here/../tests/support/pg.sh"
trap 'pg_stop; rm -rf "$tmp"' EXIT
"$build/bench/bench_broker" "$seconds"
pg_start "$tmp/pg"
"$build/bench/bench_broker" "$seconds" "$PG_URL"
