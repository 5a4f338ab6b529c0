#!/usr/bin/env bash
# The broker's process tests (tests/unit/broker/test_broker_procs.c) on a PostgreSQL server this
# script starts: two replicas share it, a nonce issued by one is redeemed at the other, one is
# killed with -9, and the log still verifies. Then the nonces, the cap on outstanding KBS sessions
# and the collection of expired rows (tests/unit/broker/test_broker_limits.c) on the same server.
# Usage: broker_postgres.sh VERITEE
set -uo pipefail
veritee=${1:?usage: broker_postgres.sh VERITEE}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
chmod 755 "$tmp"
source "$here/../support/pg.sh"
trap 'pg_stop; rm -rf "$tmp"' EXIT
procs="$(dirname "$veritee")/tests/broker_test_broker_procs"
limits="$(dirname "$veritee")/tests/broker_test_broker_limits"
for t in "$procs" "$limits"; do
    if [ ! -x "$t" ]; then
        echo "FAIL: $t not built"
        echo "0 passed, 1 failed"
        exit 1
    fi
done
pg_start "$tmp/pg" || { echo "0 passed, 2 failed"; exit 1; }
# the limits test gets a database of its own (its broker has another master key)
pg_as "$(pg_bin)/createdb" -h 127.0.0.1 -p "$PG_PORT" -U veritee veritee_limits ||
    { echo "0 passed, 2 failed"; exit 1; }
passed=0
failed=0
for t in "$procs" "$limits"; do
    url=$PG_URL
    [ "$t" = "$limits" ] && url="postgres://veritee@127.0.0.1:$PG_PORT/veritee_limits"
    if VT_BINARY="$veritee" VT_TEST_BROKER_DB="$url" "$t"; then
        passed=$((passed + 1))
    else
        echo "FAIL: $(basename "$t") on PostgreSQL"
        failed=$((failed + 1))
    fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
