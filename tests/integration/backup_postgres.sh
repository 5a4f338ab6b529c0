#!/usr/bin/env bash
# Backup and restore on PostgreSQL (tests/unit/broker/test_broker_backup.c): `veritee serve`
# releases keys under load on a PostgreSQL server this script starts, pg_dump -Fc takes the
# backup while it runs, pg_restore writes it into a fresh database, `veritee restore --check`
# checks it (and refuses a wrong master key, naming both keys), and the restored service releases
# the same secrets, its log verifies and the receipts from before the backup check.
# Usage: backup_postgres.sh VERITEE
set -uo pipefail
veritee=${1:?usage: backup_postgres.sh VERITEE}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
chmod 755 "$tmp"
source "$here/../support/pg.sh"
trap 'pg_stop; rm -rf "$tmp"' EXIT
test_bin="$(dirname "$veritee")/tests/broker_test_broker_backup"
if [ ! -x "$test_bin" ]; then
    echo "FAIL: $test_bin not built"
    echo "0 passed, 1 failed"
    exit 1
fi
pg_start "$tmp/pg" || { echo "0 passed, 1 failed"; exit 1; }
pg_as "$(pg_bin)/createdb" -h 127.0.0.1 -p "$PG_PORT" -U veritee veritee_restored ||
    { echo "0 passed, 1 failed"; exit 1; }
if VT_BINARY="$veritee" VT_TEST_BROKER_DB="$PG_URL" VT_PG_BIN="$(pg_bin)" \
    VT_TEST_RESTORE_DB="postgres://veritee@127.0.0.1:$PG_PORT/veritee_restored" "$test_bin"; then
    echo "1 passed, 0 failed"
else
    echo "FAIL: broker_test_broker_backup on PostgreSQL"
    echo "0 passed, 1 failed"
    exit 1
fi
