#!/usr/bin/env bash
# Collateral cache operations against the upstream double: refused upstream data (one test per
# kind of corruption), retries, Retry-After, failover, timeouts, outage serving with a Warning,
# offline mode, tcbEvaluationDataNumber enforcement and impact, signed bundles, kill -9 during an
# import and during a refresh, tokens, PCCS-style registration. Usage: cache_ops.sh VERITEE
set -uo pipefail
veritee=${1:?usage: cache_ops.sh VERITEE}
here=$(cd "$(dirname "$0")" && pwd)
support="$here/../support"
tmp=$(mktemp -d)
source "$support/cache_lib.sh"
trap cleanup EXIT

fixtures=${VERITEE_FIXTURES:-${VT_FIXTURES:-${VT_FIXTURES_DEFAULT:-}}}
if [ -z "$fixtures" ] || [ ! -d "$fixtures/dcap" ]; then
    if [ "${CI:-}" = true ]; then
        echo "FAIL: fixtures not found (set VERITEE_FIXTURES); CI requires them"
        echo "0 passed, 1 failed"
        exit 1
    fi
    echo "SKIP: fixtures not found"
    echo "0 passed, 0 failed"
    exit 0
fi

ali="$fixtures/dcap/automata-dcap-attestation/tdx-v5-fmspc90c06f000000-alibaba"
t_ali=1749945600                 # inside the alibaba set's window (eval 17)
t_2026=1771600000                # 2026-02-20: eval 18 collateral for the same FMSPC
tcb="tdx/certification/v4/tcb?fmspc=90C06F000000"
log="$tmp/cache.log"
status_of() { curl -s -o "$tmp/body" -D "$tmp/hdr" -w '%{http_code}' "$@"; }
items() { sqlite3 "$1" "SELECT COUNT(*) FROM vt_items WHERE key LIKE '%$2%'"; }

# ---- refused upstream data: never stored, never served ----
start_double "$t_ali" || { echo "0 passed, 1 failed"; exit 1; }
for fault in bad-signature wrong-fmspc truncate wrong-content html; do
    db="$tmp/fault-$fault.db"
    start_cache "$log" --db "sqlite:$db" --upstream "$DOUBLE_URL" --now "$t_ali" --retries 0 \
        --refresh-interval 0
    control "{\"fault\":\"$fault\",\"count\":-1,\"match\":\"/tcb\"}"
    st=$(status_of "$CACHE_URL/$tcb")
    check "$fault: refused with 503 (got $st)" [ "$st" = 503 ]
    check "$fault: nothing stored" [ "$(items "$db" /tcb)" = 0 ]
    check "$fault: counted as rejected" grep -q '^veritee_cache_rejected_total [1-9]' \
        <(curl -s "$CACHE_URL/metrics")
    control '{"fault":null}'
    st=$(status_of "$CACHE_URL/$tcb")
    check "$fault: good data served once the upstream is fixed" cmp -s "$tmp/body" "$ali/tcb_info.json"
    stop_pid "$CACHE_PID"
done
for fault in bad-signature truncate; do
    db="$tmp/fault-crl-$fault.db"
    start_cache "$log" --db "sqlite:$db" --upstream "$DOUBLE_URL" --now "$t_ali" --retries 0 \
        --refresh-interval 0
    control "{\"fault\":\"$fault\",\"count\":-1,\"match\":\"pckcrl\"}"
    st=$(status_of "$CACHE_URL/sgx/certification/v4/pckcrl?ca=platform&encoding=der")
    check "pckcrl $fault: refused (got $st)" [ "$st" = 503 ]
    check "pckcrl $fault: nothing stored" [ "$(items "$db" pckcrl)" = 0 ]
    control '{"fault":null}'
    stop_pid "$CACHE_PID"
done

# ---- retries, Retry-After, failover, timeouts ----
for fault in status-500 status-503 status-429 reset; do
    start_cache "$log" --db "sqlite:$tmp/retry-$fault.db" --upstream "$DOUBLE_URL" --now "$t_ali" \
        --retries 2 --backoff 50 --refresh-interval 0
    control "{\"fault\":\"$fault\",\"count\":1}"
    st=$(status_of "$CACHE_URL/$tcb")
    check "$fault once: retried and served (got $st)" [ "$st" = 200 ]
    n=$(curl -s "$CACHE_URL/metrics" | awk '/^veritee_cache_upstream_requests_total/ {print $2}')
    check "$fault once: two upstream attempts (got $n)" [ "$n" = 2 ]
    stop_pid "$CACHE_PID"
done
control '{"fault":null}'
dead="http://127.0.0.1:$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
start_cache "$log" --db "sqlite:$tmp/failover.db" --upstream "$dead" --upstream "$DOUBLE_URL" \
    --now "$t_ali" --retries 1 --backoff 20 --refresh-interval 0
st=$(status_of "$CACHE_URL/$tcb")
check "failover from a dead upstream to the next (got $st)" [ "$st" = 200 ]
stop_pid "$CACHE_PID"
control '{"fault":"hang","count":1}'
start_cache "$log" --db "sqlite:$tmp/timeout.db" --upstream "$DOUBLE_URL" --upstream "$DOUBLE_URL" \
    --now "$t_ali" --retries 0 --upstream-timeout 700 --refresh-interval 0
start=$(date +%s)
st=$(status_of "$CACHE_URL/$tcb")
check "a hanging upstream times out and the next one answers (got $st)" [ "$st" = 200 ]
check "within the timeout" [ $(($(date +%s) - start)) -lt 10 ]
stop_pid "$CACHE_PID"
control '{"fault":null}'

# ---- outage: serve what is held past nextUpdate, with a Warning, up to --max-stale ----
db="$tmp/outage.db"
start_cache "$log" --db "sqlite:$db" --upstream "$DOUBLE_URL" --now "$t_ali" --refresh-interval 0
"$veritee" verify --collateral "$CACHE_URL" --at "$t_ali" "$ali/quote.bin" >"$tmp/want.json"
check "filled for the outage test" grep -q '"verified":true' "$tmp/want.json"
stop_pid "$CACHE_PID"
late=$((1751680000 + 7200)) # two hours after the TCB info's nextUpdate (2025-07-05T03:43:45Z)
start_cache "$log" --db "sqlite:$db" --upstream "$dead" --now "$late" --retries 0 \
    --refresh-interval 0 --max-stale 86400
st=$(status_of "$CACHE_URL/$tcb")
check "outage: stale item served (got $st)" [ "$st" = 200 ]
check "outage: Warning header says stale" grep -qi '^Warning: 110 .*Stale' "$tmp/hdr"
check "outage: body unchanged" cmp -s "$tmp/body" "$ali/tcb_info.json"
m=$(curl -s "$CACHE_URL/metrics")
check "outage: metrics count stale serving" grep -q '^veritee_cache_stale_served_total [1-9]' <<<"$m"
check "outage: metrics give the age past nextUpdate" \
    grep -qE '^veritee_cache_oldest_past_next_update_seconds [0-9]{4,}' <<<"$m"
stop_pid "$CACHE_PID"
start_cache "$log" --db "sqlite:$db" --upstream "$dead" --now "$late" --retries 0 \
    --refresh-interval 0 --max-stale 60
st=$(status_of "$CACHE_URL/$tcb")
check "outage: beyond --max-stale, 503 (got $st)" [ "$st" = 503 ]
stop_pid "$CACHE_PID"

# ---- offline mode never contacts an upstream ----
start_cache "$log" --db "sqlite:$tmp/offline.db" --upstream "$DOUBLE_URL" --mode offline --now "$t_ali"
curl -s -X POST "$DOUBLE_URL/_control/reset-log" >/dev/null
st=$(status_of "$CACHE_URL/$tcb")
check "offline: a miss is 404 (got $st)" [ "$st" = 404 ]
check "offline: no upstream request" [ "$(curl -s "$DOUBLE_URL/_control/log")" = "[]" ]
stop_pid "$CACHE_PID"

# ---- signed bundles ----
src="$tmp/outage.db"
key=$("$veritee" cache key --db "sqlite:$src")
"$veritee" cache export --db "sqlite:$src" --out "$tmp/bundle.json" 2>/dev/null
n=$(sqlite3 "$src" "SELECT COUNT(*) FROM vt_items")
check "export wrote a bundle" [ -s "$tmp/bundle.json" ]
other=$("$veritee" cache key --db "sqlite:$tmp/other.db")
"$veritee" cache import --db "sqlite:$tmp/imp-wrongkey.db" --trust-key "$other" "$tmp/bundle.json" >/dev/null 2>&1
check "import refuses a bundle signed by another key" [ "$(sqlite3 "$tmp/imp-wrongkey.db" "SELECT COUNT(*) FROM vt_items")" = 0 ]
python3 - "$tmp/bundle.json" "$tmp/tampered.json" <<'PY'
import sys
b = open(sys.argv[1]).read()
i = b.index('"body":"') + 20
b = b[:i] + ('A' if b[i] != 'A' else 'B') + b[i + 1:]
open(sys.argv[2], "w").write(b)
PY
"$veritee" cache import --db "sqlite:$tmp/imp-tampered.db" --trust-key "$key" "$tmp/tampered.json" >/dev/null 2>&1
check "import refuses a tampered bundle" [ $? -ne 0 ]
check "a refused import stores nothing" [ "$(sqlite3 "$tmp/imp-tampered.db" "SELECT COUNT(*) FROM vt_items")" = 0 ]
"$veritee" cache import --db "sqlite:$tmp/imp.db" --trust-key "$key" "$tmp/bundle.json" >"$tmp/imp.out"
check "import loads every item ($n)" grep -q "\"imported\":$n" "$tmp/imp.out"
start_cache "$log" --db "sqlite:$tmp/imp.db" --mode offline --now "$t_ali"
"$veritee" verify --collateral "$CACHE_URL" --at "$t_ali" "$ali/quote.bin" >"$tmp/got.json"
check "air-gapped offline cache from a bundle verifies as online" cmp -s "$tmp/got.json" "$tmp/want.json"
stop_pid "$CACHE_PID"

# kill -9 during imports: whenever it lands, the store holds all or nothing and checks clean.
consistent=0
for i in $(seq 1 12); do
    rm -f "$tmp/kill.db"*
    "$veritee" cache import --db "sqlite:$tmp/kill.db" --trust-key "$key" "$tmp/bundle.json" \
        >/dev/null 2>&1 &
    p=$!
    sleep "0.0$((i % 10))"
    kill -9 "$p" 2>/dev/null
    wait "$p" 2>/dev/null
    c=$(sqlite3 "$tmp/kill.db" "SELECT COUNT(*) FROM vt_items" 2>/dev/null || echo 0)
    if { [ "$c" = 0 ] || [ "$c" = "$n" ]; } && "$veritee" cache check --db "sqlite:$tmp/kill.db" >/dev/null &&
        [ "$(sqlite3 "$tmp/kill.db" 'PRAGMA integrity_check' 2>/dev/null || echo ok)" = ok ]; then
        consistent=$((consistent + 1))
    fi
done
check "kill -9 during import: 12 of 12 stores consistent (got $consistent)" [ "$consistent" = 12 ]

# kill -9 during refreshes (every item due, a pass every second).
cp "$tmp/imp.db" "$tmp/refresh.db"
consistent=0
for i in $(seq 1 6); do
    start_cache "$log" --db "sqlite:$tmp/refresh.db" --upstream "$DOUBLE_URL" --now "$t_ali" \
        --refresh-interval 1 --refresh-ahead 99999999
    sleep "1.$((i * 15))"
    kill -9 "$CACHE_PID"
    wait "$CACHE_PID" 2>/dev/null
    if "$veritee" cache check --db "sqlite:$tmp/refresh.db" >/dev/null &&
        [ "$(sqlite3 "$tmp/refresh.db" 'PRAGMA integrity_check')" = ok ] &&
        [ "$(sqlite3 "$tmp/refresh.db" 'SELECT COUNT(*) FROM vt_items')" -ge "$n" ]; then
        consistent=$((consistent + 1))
    fi
done
check "kill -9 during refresh: 6 of 6 stores consistent (got $consistent)" [ "$consistent" = 6 ]
grep -q "refresh" "$log" || true

# ---- enforcement of a tcbEvaluationDataNumber, and its impact ----
stop_pid "$DOUBLE_PID"
start_double "$t_2026"
db="$tmp/enforce.db"
start_cache "$log" --db "sqlite:$db" --upstream "$DOUBLE_URL" --now "$t_2026" --refresh-interval 0
st=$(status_of "$CACHE_URL/$tcb")
check "standard TCB info is eval 18 in 2026" grep -q '"tcbEvaluationDataNumber":18' "$tmp/body"
st=$(status_of "$CACHE_URL/$tcb&tcbEvaluationDataNumber=17")
check "eval 17 by number is the 2025 body" cmp -s "$tmp/body" "$ali/tcb_info.json"
admin=$("$veritee" cache token --db "sqlite:$db" --role admin)
reader=$("$veritee" cache token --db "sqlite:$db" --role read)
st=$(status_of -X POST --data '{"tee":"tdx","tcb_eval":17}' "$CACHE_URL/admin/v1/enforce")
check "enforce without a token: 401 (got $st)" [ "$st" = 401 ]
st=$(status_of -X POST -H "Authorization: Bearer $reader" --data '{"tee":"tdx","tcb_eval":17}' "$CACHE_URL/admin/v1/enforce")
check "enforce with a read token: 401 (got $st)" [ "$st" = 401 ]
st=$(status_of -X POST -H "Authorization: Bearer ${admin}x" --data '{"tee":"tdx","tcb_eval":17}' "$CACHE_URL/admin/v1/enforce")
check "enforce with a wrong token: 401 (got $st)" [ "$st" = 401 ]
# the body's fields are typed: a missing or mistyped one is a 400 naming its JSON path
enforce_bad() { # name, body, expected detail
    st=$(status_of -X POST -H "Authorization: Bearer $admin" --data "$2" "$CACHE_URL/admin/v1/enforce")
    check "enforce, $1: 400 (got $st)" [ "$st" = 400 ]
    check "enforce, $1: the detail says $3" grep -qF "$3" "$tmp/body"
}
enforce_bad "no JSON object" '[1]' 'the body is not a JSON object'
enforce_bad "no tee" '{"tcb_eval":17}' '$.tee: required field is missing'
enforce_bad "tee a number" '{"tee":1,"tcb_eval":17}' '$.tee: expected a string, got a number'
enforce_bad "no tcb_eval" '{"tee":"tdx"}' '$.tcb_eval: required field is missing'
enforce_bad "tcb_eval a string" '{"tee":"tdx","tcb_eval":"17"}' '$.tcb_eval: expected an integer, got a string'
enforce_bad "tcb_eval 0" '{"tee":"tdx","tcb_eval":0}' '$.tcb_eval: expected an integer from 1 to 4294967295, got 0'
enforce_bad "from a number" '{"tee":"tdx","tcb_eval":17,"from":5}' '$.from: expected a string, got a number'
st=$(status_of -X POST -H "Authorization: Bearer $admin" --data '{"tee":"tdx","tcb_eval":17}' "$CACHE_URL/admin/v1/enforce")
check "enforce with the admin token (got $st)" [ "$st" = 200 ]
st=$(status_of "$CACHE_URL/$tcb")
check "pinned: the default TCB info is now eval 17" cmp -s "$tmp/body" "$ali/tcb_info.json"
st=$(status_of "$CACHE_URL/$tcb&update=early")
check "pinned: update=early still gets the newest (18)" grep -q '"tcbEvaluationDataNumber":18' "$tmp/body"
"$veritee" cache enforce --db "sqlite:$db" --tee tdx --tcb-eval 18 --from 2026-03-01T00:00:00Z >/dev/null
check "a scheduled number is listed" grep -q '"tcb_eval":18,"from":"2026-03-01' <("$veritee" cache enforce --db "sqlite:$db" --list)
st=$(status_of "$CACHE_URL/$tcb")
check "before its time the scheduled number is not served" grep -q '"tcbEvaluationDataNumber":17' "$tmp/body"
"$veritee" cache impact --db "sqlite:$db" --now "$((t_2026 + 600))" --upstream "$DOUBLE_URL" --tee tdx \
    --tcb-eval 18 "$ali/quote.bin" >"$tmp/impact.json"
check "impact: the alibaba platform is UpToDate under 17" \
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); q=[x for x in r["results"] if x["source"]=="quote"][0]; sys.exit(q["in_force"]["status"]!="UpToDate")' "$tmp/impact.json"
check "impact: eval 18 changes its status" \
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); q=[x for x in r["results"] if x["source"]=="quote"][0]; sys.exit(not q["changes"])' "$tmp/impact.json"
echo "impact of eval 18 on the alibaba platform: $(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); q=[x for x in r["results"] if x["source"]=="quote"][0]; print(q["in_force"], "->", q["proposed"])' "$tmp/impact.json")"

# ---- the refresher never replaces a higher tcbEvaluationDataNumber with a lower one ----
std_key='/tdx/certification/v4/tcb?fmspc=90c06f000000&update=standard'
std_eval() { sqlite3 "$db" "SELECT eval_num FROM vt_items WHERE key = '$std_key'"; }
check "held: the standard TCB info is eval 18 (got $(std_eval))" [ "$(std_eval)" = 18 ]
control "{\"now\":$t_ali}" # the upstream's standard TCB info is now the eval 17 one
curl -s -o /dev/null -X POST "$DOUBLE_URL/_control/reset-log"
"$veritee" cache refresh --db "sqlite:$db" --upstream "$DOUBLE_URL" --now "$t_2026" \
    --refresh-ahead 99999999 >"$tmp/refresh.json" 2>>"$log"
check "refresh asked the upstream for the standard TCB info" \
    grep -q 'tcb?fmspc=90' <(curl -s "$DOUBLE_URL/_control/log")
check "refresh kept eval 18 when the upstream offered 17 (held $(std_eval))" [ "$(std_eval)" = 18 ]
check "eval 17 stays available by number" \
    [ "$(sqlite3 "$db" "SELECT COUNT(*) FROM vt_items WHERE key LIKE '%90c06f000000&tcbEvaluationDataNumber=17'")" = 1 ]
control "{\"now\":$t_2026}"

# ---- admin endpoints over HTTP: refresh, export, import ----
st=$(status_of -X POST "$CACHE_URL/admin/v1/refresh")
check "HTTP refresh without a token: 401 (got $st)" [ "$st" = 401 ]
st=$(status_of -X POST -H "Authorization: Bearer $admin" "$CACHE_URL/admin/v1/refresh")
check "HTTP refresh with the admin token (got $st)" [ "$st" = 200 ]
check "HTTP refresh reports its counts" grep -q '"renewed":[0-9]*,"failed":[0-9]*' "$tmp/body"
st=$(status_of "$CACHE_URL/admin/v1/export")
check "HTTP export without a token: 401 (got $st)" [ "$st" = 401 ]
st=$(curl -s -o "$tmp/http-bundle.json" -w '%{http_code}' -H "Authorization: Bearer $admin" "$CACHE_URL/admin/v1/export")
check "HTTP export with the admin token (got $st)" [ "$st" = 200 ]
ekey=$("$veritee" cache key --db "sqlite:$db")
main_url=$CACHE_URL main_pid=$CACHE_PID
# (eval 17 expired in 2025: an offline cache serves it only with a large enough --max-stale)
start_cache "$log" --db "sqlite:$tmp/http-imp.db" --mode offline --now "$((t_2026 + 600))" \
    --max-stale 99999999
imp_url=$CACHE_URL imp_pid=$CACHE_PID
CACHE_URL=$main_url CACHE_PID=$main_pid
iadmin=$("$veritee" cache token --db "sqlite:$tmp/http-imp.db" --role admin)
st=$(status_of -X POST --data-binary "@$tmp/http-bundle.json" "$imp_url/admin/v1/import?trust_key=$ekey")
check "HTTP import without a token: 401 (got $st)" [ "$st" = 401 ]
st=$(status_of -X POST -H "Authorization: Bearer $iadmin" --data-binary "@$tmp/http-bundle.json" "$imp_url/admin/v1/import?trust_key=$other")
check "HTTP import of a bundle from an untrusted key: 400 (got $st)" [ "$st" = 400 ]
check "the refusal names the signature check" grep -q 'not signed by the trusted exporter key' "$tmp/body"
st=$(status_of -X POST -H "Authorization: Bearer $iadmin" --data-binary "@$tmp/http-bundle.json" "$imp_url/admin/v1/import?trust_key=$ekey")
check "HTTP import with the admin token (got $st)" [ "$st" = 200 ]
held=$(sqlite3 "$db" "SELECT COUNT(*) FROM vt_items WHERE length(body) > 0")
check "HTTP import holds every exported item ($held)" grep -q "\"imported\":$held" "$tmp/body"
st=$(status_of "$imp_url/$tcb")
check "the imported cache serves the pinned schedule's number (eval 17)" cmp -s "$tmp/body" "$ali/tcb_info.json"
st=$(status_of -X POST -H "Authorization: Bearer $iadmin" "$imp_url/admin/v1/refresh")
check "HTTP refresh of an offline cache: 409 (got $st)" [ "$st" = 409 ]
stop_pid "$imp_pid"

# ---- a 404 is remembered briefly, and retried by each refresh pass ----
absent="sgx/certification/v4/tcb?fmspc=00000000ffff"
st=$(status_of "$CACHE_URL/$absent")
check "an FMSPC the upstream does not know: 404 (got $st)" [ "$st" = 404 ]
curl -s -o /dev/null -X POST "$DOUBLE_URL/_control/reset-log"
st=$(status_of "$CACHE_URL/$absent")
asked=$(curl -s "$DOUBLE_URL/_control/log" | grep -o 'fmspc=00000000ffff' | wc -l)
check "the 404 is served from the tombstone (got $st, $asked upstream requests)" \
    [ "$st:$asked" = 404:0 ]
for pass in 1 2; do
    "$veritee" cache refresh --db "sqlite:$db" --upstream "$DOUBLE_URL" --now "$t_2026" \
        --refresh-ahead 99999999 >/dev/null 2>>"$log"
done
check "each refresh pass asks again for the absent FMSPC (2 passes)" \
    [ "$(curl -s "$DOUBLE_URL/_control/log" | grep -o 'fmspc=00000000ffff' | wc -l)" -ge 2 ]

# ---- PCCS-style registration, then pckcert by qeid ----
ppid=$(printf 'ab%.0s' $(seq 1 384))
reg="{\"qe_id\":\"00112233445566778899aabbccddeeff\",\"pce_id\":\"0000\",\"cpu_svn\":\"02020202030100050000000000000000\",\"pce_svn\":\"0d00\",\"enc_ppid\":\"$ppid\"}"
st=$(status_of -X POST --data "$reg" "$CACHE_URL/sgx/certification/v4/platforms")
check "registration needs a token (got $st)" [ "$st" = 401 ]
st=$(status_of -X POST -H "Authorization: Bearer $admin" --data "$reg" "$CACHE_URL/sgx/certification/v4/platforms")
check "registration accepted (got $st)" [ "$st" = 200 ]
st=$(status_of "$CACHE_URL/sgx/certification/v4/pckcert?qeid=00112233445566778899aabbccddeeff&cpusvn=02020202030100050000000000000000&pcesvn=0d00&pceid=0000")
check "pckcert by qeid served (got $st)" [ "$st" = 200 ]
check "pckcert carries SGX-TCBm and SGX-FMSPC" grep -qi '^SGX-FMSPC: 90C06F000000' "$tmp/hdr"
check "the registered platform is recorded with its TCB" \
    [ "$(sqlite3 "$db" "SELECT COUNT(*) FROM vt_platforms WHERE fmspc = '90c06f000000'")" -ge 1 ]
st=$(status_of "$CACHE_URL/sgx/certification/v4/pckcert?qeid=ffffffffffffffffffffffffffffffff&cpusvn=02020202030100050000000000000000&pcesvn=0d00&pceid=0000")
check "pckcert by an unknown qeid without encrypted_ppid: 400, as PCCS (got $st)" [ "$st" = 400 ]
stop_pid "$CACHE_PID"
start_cache "$log" --db "sqlite:$db" --mode offline --now "$t_2026" --read-token-required
st=$(status_of "$CACHE_URL/$tcb")
check "--read-token-required: 401 without a token (got $st)" [ "$st" = 401 ]
st=$(status_of -H "Authorization: Bearer $reader" "$CACHE_URL/$tcb&update=early")
check "--read-token-required: 200 with a read token (got $st)" [ "$st" = 200 ]

finish
