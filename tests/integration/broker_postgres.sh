#!/usr/bin/env bash
# The broker's process tests (tests/unit/broker/test_broker_procs.c) on a PostgreSQL server this
# script starts: two replicas share it, a nonce issued by one is redeemed at the other, one is
# killed with -9, and the log still verifies. Usage: broker_postgres.sh VERITEE
set -uo pipefail
veritee=${1:?usage: broker_postgres.sh VERITEE}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
chmod 755 "$tmp"
source "$here/../support/pg.sh"
trap 'pg_stop; rm -rf "$tmp"' EXIT
procs="$(dirname "$veritee")/tests/broker_test_broker_procs"
if [ ! -x "$procs" ]; then
    echo "FAIL: $procs not built"
    echo "0 passed, 1 failed"
    exit 1
fi
pg_start "$tmp/pg" || { echo "0 passed, 1 failed"; exit 1; }
if VT_BINARY="$veritee" VT_TEST_BROKER_DB="$PG_URL" "$procs"; then
    echo "1 passed, 0 failed"
else
    echo "0 passed, 1 failed"
    exit 1
fi
