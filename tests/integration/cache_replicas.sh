#!/usr/bin/env bash
# Two cache processes on one PostgreSQL serve the same data: one fills from the upstream double,
# the other (offline, no upstream) serves the same bytes; an enforcement set through one is
# served by the other; killing one (kill -9) leaves the other serving. Usage: cache_replicas.sh VERITEE
set -uo pipefail
veritee=${1:?usage: cache_replicas.sh VERITEE}
here=$(cd "$(dirname "$0")" && pwd)
support="$here/../support"
tmp=$(mktemp -d)
chmod 755 "$tmp"
source "$support/cache_lib.sh"
source "$support/pg.sh"
trap cleanup EXIT

fixtures=${VERITEE_FIXTURES:-${VT_FIXTURES:-${VT_FIXTURES_DEFAULT:-}}}
if [ -z "$fixtures" ] || [ ! -d "$fixtures/dcap" ]; then
    if [ "${CI:-}" = true ]; then
        echo "FAIL: fixtures not found; CI requires them"
        echo "0 passed, 1 failed"
        exit 1
    fi
    echo "SKIP: fixtures not found"
    echo "0 passed, 0 failed"
    exit 0
fi
pg_start "$tmp/pg" || { echo "0 passed, 1 failed"; exit 1; }
ali="$fixtures/dcap/automata-dcap-attestation/tdx-v5-fmspc90c06f000000-alibaba"
t=1771600000
tcb="tdx/certification/v4/tcb?fmspc=90c06f000000"
start_double "$t"
start_cache "$tmp/a.log" --db "$PG_URL" --upstream "$DOUBLE_URL" --now "$t" --refresh-interval 0
a=$CACHE_URL
a_pid=$CACHE_PID
# (The recorded eval-17 body is past its nextUpdate in 2026; PCS would re-sign it, the recording
# cannot, so B allows a long staleness.)
start_cache "$tmp/b.log" --db "$PG_URL" --mode offline --now "$t" --max-stale 40000000
b=$CACHE_URL
curl -s -o "$tmp/a.tcb" "$a/$tcb"
curl -s -o "$tmp/b.tcb" "$b/$tcb"
check "replica B serves what A filled, byte for byte" cmp -s "$tmp/a.tcb" "$tmp/b.tcb"
check "and it is the vendor's eval 18 body" grep -q '"tcbEvaluationDataNumber":18' "$tmp/b.tcb"
curl -s -o /dev/null "$a/$tcb&tcbEvaluationDataNumber=17"
admin=$("$veritee" cache token --db "$PG_URL" --role admin)
st=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $admin" \
    --data '{"tee":"tdx","tcb_eval":17}' "$b/admin/v1/enforce")
check "enforce through replica B with a token stored by the CLI (got $st)" [ "$st" = 200 ]
sleep 3 # past the memory tier's lifetime on A
curl -s -o "$tmp/a2.tcb" "$a/$tcb"
check "replica A serves the number pinned through B" cmp -s "$tmp/a2.tcb" "$ali/tcb_info.json"
kill -9 "$a_pid"
wait "$a_pid" 2>/dev/null
curl -s -o "$tmp/b2.tcb" "$b/$tcb"
check "after kill -9 of A, B still serves" cmp -s "$tmp/b2.tcb" "$ali/tcb_info.json"
"$veritee" cache check --db "$PG_URL" >"$tmp/check.out"
check "the shared store checks clean" grep -q '"bad":0' "$tmp/check.out"
finish
