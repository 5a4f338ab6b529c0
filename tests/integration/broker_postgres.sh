#!/usr/bin/env bash
# The broker's process tests (tests/unit/broker/test_broker_procs.c) on a PostgreSQL server this
# script starts: two replicas share it, a nonce issued by one is redeemed at the other, one is
# killed with -9, and the log still verifies. Then the nonces, the cap on outstanding KBS sessions
# and the collection of expired rows (tests/unit/broker/test_broker_limits.c) on the same server,
# and two brokers seeing each other in the replica registry (test_broker_replicas.c).
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
replicas="$(dirname "$veritee")/tests/broker_test_broker_replicas"
for t in "$procs" "$limits" "$replicas"; do
    if [ ! -x "$t" ]; then
        echo "FAIL: $t not built"
        echo "0 passed, 1 failed"
        exit 1
    fi
done
pg_start "$tmp/pg" || { echo "0 passed, 3 failed"; exit 1; }
# the limits and replicas tests get a database each (their brokers have another master key)
for name in veritee_limits veritee_replicas; do
    pg_as "$(pg_bin)/createdb" -h 127.0.0.1 -p "$PG_PORT" -U veritee "$name" ||
        { echo "0 passed, 3 failed"; exit 1; }
done
passed=0
failed=0
for t in "$procs" "$limits" "$replicas"; do
    url=$PG_URL
    [ "$t" = "$limits" ] && url="postgres://veritee@127.0.0.1:$PG_PORT/veritee_limits"
    [ "$t" = "$replicas" ] && url="postgres://veritee@127.0.0.1:$PG_PORT/veritee_replicas"
    if VT_BINARY="$veritee" VT_TEST_BROKER_DB="$url" "$t"; then
        passed=$((passed + 1))
    else
        echo "FAIL: $(basename "$t") on PostgreSQL"
        failed=$((failed + 1))
    fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
