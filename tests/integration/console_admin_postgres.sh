#!/usr/bin/env bash
# The console's admin queries on PostgreSQL (docs/console.md): the same operations run against a
# SQLite database and against a PostgreSQL server this script starts (tests/support/pg.sh), and
# every admin endpoint the console reads must answer the same data on both:
#  - veritee serve (the TDX simulator, offline): a TD attests, one key is released to it and
#    another refused, the first gets a second version, the second is disabled, a platform is
#    registered with its cache; then the broker's GET /admin/v1/fleet, /admin/v1/log/status,
#    /admin/v1/keys (the key versions), POST /admin/v1/policy/check (a policy that compiles and
#    one that does not), and the cache's GET /admin/v1/recoveries, /admin/v1/status and
#    /admin/v1/platforms;
#  - with the recorded fixtures, veritee cache serve filled from the upstream double in 2026: a
#    platform registered and its PCK certificate served, eval 17 enforced for TDX and 18 scheduled,
#    the platform's TCB info requested; then its recoveries, status and platforms.
# Times, process-specific members (start, pid, memory tier, latencies) and the random ones (key
# IDs, digests of random material) are masked before the comparison; everything else must match.
# Usage: console_admin_postgres.sh VERITEE
set -uo pipefail
veritee=${1:?usage: console_admin_postgres.sh VERITEE}
here=$(cd "$(dirname "$0")" && pwd)
support="$here/../support"
tmp=$(mktemp -d)
chmod 755 "$tmp" # the PostgreSQL server runs as another user
passes=0
fails=0
pids=()
source "$support/cache_lib.sh" # cleanup, check, bad, wait_port, start_double, start_cache, finish
source "$support/pg.sh"
trap cleanup EXIT

pg_start "$tmp/pg" || { bad "PostgreSQL"; finish; exit 1; }
for name in serve cache; do
    pg_as "$(pg_bin)/createdb" -h 127.0.0.1 -p "$PG_PORT" -U veritee "vt_$name" ||
        { bad "createdb vt_$name"; finish; exit 1; }
done
db_of() { # db_of BACKEND NAME
    if [ "$1" = sqlite ]; then
        echo "sqlite:$tmp/$1/$2.db"
    else
        echo "postgres://veritee@127.0.0.1:$PG_PORT/vt_$2"
    fi
}

mk="$tmp/master.key"
"$veritee" broker master-key >"$mk"
"$veritee" client sim-export --backend sim:tdx --sim-dir "$tmp/sim" --out "$tmp/sim-export" >/dev/null
ppid=$(printf 'ab%.0s' $(seq 1 384))
fixtures=${VERITEE_FIXTURES:-${VT_FIXTURES:-${VT_FIXTURES_DEFAULT:-}}}
t_2026=1771600000 # the double's eval 18 collateral for FMSPC 90C06F000000
if [ -n "$fixtures" ] && [ -d "$fixtures/dcap" ]; then
    start_double "$t_2026" || { bad "the upstream double"; finish; exit 1; }
elif [ "${CI:-}" = true ]; then
    bad "fixtures not found (set VERITEE_FIXTURES); CI requires them"
else
    echo "SKIP (part): fixtures not found: the cache serve part runs on neither backend"
fi

get() { # get URL TOKEN PATH OUT
    curl -sf -H "Authorization: Bearer $2" "$1$3" >"$4" || { bad "GET $3 ($(basename "$(dirname "$4")"))"; echo null >"$4"; }
}

run_backend() { # run_backend BACKEND: the operations, the answers under $tmp/BACKEND/out
    local be=$1 db out="$tmp/$1/out" url admin
    mkdir -p "$out"
    db=$(db_of "$be" serve)
    b() { "$veritee" broker "$@" --db "$db" --master-key-file "$mk"; }
    admin=$(b token)
    "$veritee" serve --db "$db" --master-key-file "$mk" --mode offline \
        --collateral "$tmp/sim-export/collateral" \
        --trust-anchor "$tmp/sim-export/anchors/tdx.pem" \
        --listen 127.0.0.1:0 --port-file "$tmp/$be/serve.port" 2>"$tmp/$be/serve.log" &
    local serve_pid=$!
    pids+=("$serve_pid")
    url="http://127.0.0.1:$(wait_port "$tmp/$be/serve.port")" ||
        { cat "$tmp/$be/serve.log"; bad "veritee serve on $be"; return; }
    local mrtd
    mrtd=$("$veritee" client attest --url "$url" --backend sim:tdx --sim-dir "$tmp/sim" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["claims"]["tdx.mrtd"])')
    printf '{"version":1,"rules":{"claim":"tdx.mrtd","equals":"%s"}}' "$mrtd" >"$tmp/approved.json"
    printf '{"version":1,"rules":{"claim":"tdx.mrtd","equals":"%096d"}}' 0 >"$tmp/other.json"
    b key-put --name app-key --generate 32 --policy "$tmp/approved.json" >/dev/null
    b key-put --name other-app-key --generate 32 --policy "$tmp/other.json" >/dev/null
    "$veritee" client release --url "$url" --backend sim:tdx --sim-dir "$tmp/sim" --key app-key \
        >/dev/null || bad "the release on $be"
    "$veritee" client release --url "$url" --backend sim:tdx --sim-dir "$tmp/sim" \
        --key other-app-key >/dev/null 2>&1 && bad "the denied release was released on $be"
    b key-put --name app-key --generate 32 --policy "$tmp/approved.json" >/dev/null
    b key-disable --name other-app-key >/dev/null
    curl -sf -o /dev/null -X POST -H "Authorization: Bearer $admin" \
        --data "{\"qe_id\":\"0f0e0d0c0b0a09080706050403020100\",\"pce_id\":\"0000\",\"cpu_svn\":\"02020202030100050000000000000000\",\"pce_svn\":\"0d00\",\"enc_ppid\":\"$ppid\"}" \
        "$url/sgx/certification/v4/platforms" || bad "registration with veritee serve on $be"
    get "$url" "$admin" /admin/v1/fleet "$out/serve-fleet.json"
    get "$url" "$admin" /admin/v1/log/status "$out/serve-log-status.json"
    get "$url" "$admin" /admin/v1/keys "$out/serve-keys.json"
    curl -sf -X POST -H "Authorization: Bearer $admin" --data-binary @"$tmp/approved.json" \
        "$url/admin/v1/policy/check" >"$out/serve-policy-check-ok.json" || bad "policy/check on $be"
    curl -sf -X POST -H "Authorization: Bearer $admin" \
        --data '{"version":1,"rules":{"claim":"tdx.nothing","equals":"00"}}' \
        "$url/admin/v1/policy/check" >"$out/serve-policy-check-bad.json" || bad "policy/check on $be"
    get "$url" "$admin" /admin/v1/recoveries "$out/serve-recoveries.json"
    get "$url" "$admin" /admin/v1/status "$out/serve-status.json"
    get "$url" "$admin" /admin/v1/platforms "$out/serve-platforms.json"
    stop_pid "$serve_pid"

    [ -n "${DOUBLE_URL:-}" ] || return
    local cdb cadmin
    cdb=$(db_of "$be" cache)
    cadmin=$("$veritee" cache token --db "$cdb" --role admin)
    start_cache "$tmp/$be/cache.log" --db "$cdb" --upstream "$DOUBLE_URL" --retries 0 \
        --now "$t_2026" --refresh-interval 86400 || { bad "cache serve on $be"; return; }
    local cu=$CACHE_URL
    curl -sf -o /dev/null -X POST -H "Authorization: Bearer $cadmin" \
        --data "{\"qe_id\":\"00112233445566778899aabbccddeeff\",\"pce_id\":\"0000\",\"cpu_svn\":\"02020202030100050000000000000000\",\"pce_svn\":\"0d00\",\"enc_ppid\":\"$ppid\"}" \
        "$cu/sgx/certification/v4/platforms" || bad "registration with cache serve on $be"
    curl -sf -o /dev/null "$cu/sgx/certification/v4/pckcert?qeid=00112233445566778899aabbccddeeff&cpusvn=02020202030100050000000000000000&pcesvn=0d00&pceid=0000" ||
        bad "pckcert on $be"
    curl -sf -o /dev/null -X POST -H "Authorization: Bearer $cadmin" \
        --data '{"tee":"tdx","tcb_eval":17}' "$cu/admin/v1/enforce" || bad "enforce 17 on $be"
    curl -sf -o /dev/null -X POST -H "Authorization: Bearer $cadmin" \
        --data '{"tee":"tdx","tcb_eval":18,"from":"2030-01-01T00:00:00Z"}' "$cu/admin/v1/enforce" ||
        bad "schedule 18 on $be"
    curl -sf -o /dev/null "$cu/tdx/certification/v4/tcb?fmspc=90C06F000000" || bad "tcb on $be"
    get "$cu" "$cadmin" /admin/v1/recoveries "$out/cache-recoveries.json"
    get "$cu" "$cadmin" /admin/v1/status "$out/cache-status.json"
    get "$cu" "$cadmin" /admin/v1/platforms "$out/cache-platforms.json"
    get "$cu" "$cadmin" "/admin/v1/platforms?tee=sgx" "$out/cache-platforms-sgx.json"
    stop_pid "$CACHE_PID"
}

run_backend sqlite
run_backend postgres

# The answers, masked, side by side.
for f in "$tmp"/sqlite/out/*.json; do
    name=$(basename "$f" .json)
    if python3 "$here/../support/console_compare.py" "$name" "$f" "$tmp/postgres/out/$name.json"; then
        ok
    else
        bad "$name: PostgreSQL answers differently from SQLite"
    fi
done
[ "$(ls "$tmp"/sqlite/out/*.json | wc -l)" -ge 9 ] || bad "fewer answers than the operations asked for"
# what differs by design: the backend, and that replicas share a PostgreSQL store
for f in "$tmp"/postgres/out/*status.json; do
    check "$(basename "$f"): the store is PostgreSQL, this process a live replica in it" python3 -c '
import json, sys
o = json.load(open(sys.argv[1]))
shared = o.get("replica", {}).get("shared_store", "yes")
me = [r for r in o["replicas"] if r["self"]]
sys.exit(not (o["store"]["backend"] == "postgres" and shared.startswith("yes") and len(me) == 1
              and not me[0]["stale"]))' "$f"
done
# and the answers are not empty: the data compared is there
check "the fleet lists the attested TD" python3 -c '
import json, sys
f = json.load(open(sys.argv[1]))
sys.exit(not (len(f) == 1 and f[0]["status"] == "UpToDate" and f[0]["seen"] >= 3))' \
    "$tmp/postgres/out/serve-fleet.json"
check "the key versions: app-key 1 and 2, other-app-key disabled" python3 -c '
import json, sys
k = {x["name"]: x for x in json.load(open(sys.argv[1]))}
sys.exit(not ([v["version"] for v in k["app-key"]["versions"]] == [1, 2] and k["other-app-key"]["disabled"]))' \
    "$tmp/postgres/out/serve-keys.json"
if [ -n "${DOUBLE_URL:-}" ]; then
    check "the cache's platform is UpToDate under 17 (tdx) and 17 and 18 are held" python3 -c '
import json, sys
p = json.load(open(sys.argv[1]))["platforms"]
r = json.load(open(sys.argv[2]))["platforms"]
sys.exit(not (any(x["tee"] == "tdx" and x["status"] == "UpToDate" and x["tcb_eval"] == 17 for x in p)
              and r[0]["held"] == [17, 18]))' \
        "$tmp/postgres/out/cache-platforms.json" "$tmp/postgres/out/cache-recoveries.json"
fi
finish
