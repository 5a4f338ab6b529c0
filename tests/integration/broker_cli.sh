#!/usr/bin/env bash
# The broker's commands and `veritee serve` as an operator uses them: master key, admin token,
# keys (put, version, policy, disable/enable, list), attestation policy, signing-key rotation,
# master-key rewrap, --help of every command; then `veritee serve` (cache and broker in one
# process on one SQLite file) answering both APIs on one port, a real TDX quote attested through
# it with collateral from its own cache (filled from the upstream double) at the quote's time,
# and `veritee audit verify` on the resulting log. Usage: broker_cli.sh VERITEE
set -uo pipefail
veritee=${1:?usage: broker_cli.sh VERITEE}
here=$(cd "$(dirname "$0")" && pwd)
support="$here/../support"
tmp=$(mktemp -d)
source "$support/cache_lib.sh"
trap cleanup EXIT

db="sqlite:$tmp/v.db"
mk="$tmp/master.key"
b() { "$veritee" broker "$@" --db "$db" --master-key-file "$mk"; }

for cmd in "broker --help" "serve --help" "audit --help"; do
    check "veritee $cmd" bash -c "$veritee $cmd | grep -q Usage"
done
"$veritee" broker master-key >"$mk"
check "master key is 64 hex characters" grep -Eq '^[0-9a-f]{64}$' "$mk"
check "no master key: refused" bash -c "! VERITEE_MASTER_KEY= $veritee broker keys --db $db 2>/dev/null"
echo 00 >"$tmp/short.key"
check "a short master key: refused" bash -c "! $veritee broker keys --db $db --master-key-file $tmp/short.key 2>/dev/null"
admin=$(b token)
check "admin token" grep -Eq '^vt_[0-9a-f]{56}$' <<<"$admin"
printf 'top secret\n' >"$tmp/s.bin"
echo '{"version":1,"rules":{"claim":"tdx.mrtd","exists":true}}' >"$tmp/p.json"
check "key-put from a file with a policy" grep -q '"version":1' <(b key-put --name vault --secret-file "$tmp/s.bin" --policy "$tmp/p.json")
check "key-put generates a new version" grep -q '"version":2' <(b key-put --name vault --generate 32)
check "key-put refuses a bad name" bash -c "! $veritee broker key-put --db $db --master-key-file $mk --name 'a/b' --generate 8 2>/dev/null"
echo '{"version":1,"rules":{"claim":"tdx.mrtdd","exists":true}}' >"$tmp/bad.json"
b key-policy --name vault --policy "$tmp/bad.json" 2>"$tmp/err"
check "key-policy refuses an unknown claim, naming its path" grep -q 'rules.claim' "$tmp/err"
check "keys lists the key, version 2, no secret" bash -c "$veritee broker keys --db $db --master-key-file $mk | grep -q '\"name\":\"vault\",\"version\":2' && ! $veritee broker keys --db $db --master-key-file $mk | grep -q 'top secret'"
b key-disable --name vault && check "key-disable" grep -q '"disabled":true' <(b keys)
b key-enable --name vault && check "key-enable" grep -q '"disabled":false' <(b keys)
check "policy sets the attestation policy" b policy --policy "$tmp/p.json"
check "rotate-signing-key prints the new kid" grep -q '"kid":"vt-' <(b rotate-signing-key)
check "the plaintext is not in the database" bash -c "! grep -q 'top secret' $tmp/v.db*"
"$veritee" broker master-key >"$tmp/new.key"
check "rewrap under a new master key" grep -q '"rewrapped":' <(b rewrap --new-master-key-file "$tmp/new.key")
check "the old master key no longer opens it" bash -c "! $veritee broker keys --db $db --master-key-file $mk 2>/dev/null"
mv "$tmp/new.key" "$mk"
check "the new one does" grep -q vault <(b keys)
check "audit verify of an empty log" grep -q '"verified":true' <("$veritee" audit verify --db "$db")
printf '# a config file\ndb = %s\nmaster-key-file = %s   # comment\n\nissuer = cfg-test\nmax-nonces = 100\nmax-kbs-sessions = 100\nkbs-token-profile = trustee\nnew-fetch-rate = 5\nnew-fetch-burst = 50\n' "$db" "$mk" >"$tmp/v.conf"
check "--config: options from a file" grep -q vault <("$veritee" broker keys --config "$tmp/v.conf")
check "--config: the command line overrides the file" grep -q '^\[\]$' <("$veritee" broker keys --config "$tmp/v.conf" --db "sqlite:$tmp/other.db")
check "a limit of 0 is refused" bash -c "$veritee broker keys --config $tmp/v.conf --max-nonces 0 2>&1 | grep -q 'at least 1'"
check "--kbs-token-profile other than veritee or trustee is refused" bash -c "! $veritee broker keys --config $tmp/v.conf --kbs-token-profile ear 2>$tmp/ktp.err && grep -q 'veritee or trustee' $tmp/ktp.err"
printf 'not an option line\n' >"$tmp/bad.conf"
check "--config: a bad line is refused with its number" bash -c "$veritee broker keys --config $tmp/bad.conf 2>&1 | grep -q 'line 1'"

fixtures=${VERITEE_FIXTURES:-${VT_FIXTURES:-${VT_FIXTURES_DEFAULT:-}}}
if [ -z "$fixtures" ] || [ ! -d "$fixtures/dcap" ]; then
    if [ "${CI:-}" = true ]; then
        bad "fixtures not found (set VERITEE_FIXTURES); CI requires them"
    else
        echo "SKIP: the veritee serve part needs the fixtures"
    fi
    finish
    exit
fi
ali="$fixtures/dcap/automata-dcap-attestation/tdx-v5-fmspc90c06f000000-alibaba"
t_ali=1749945600
start_double "$t_ali" || { bad "upstream double"; finish; exit; }
pf="$tmp/serve.port"
"$veritee" serve --db "$db" --master-key-file "$mk" --upstream "$DOUBLE_URL" --now "$t_ali" \
    --listen 127.0.0.1:0 --port-file "$pf" --refresh-interval 0 --max-nonces 3 --max-kbs-sessions 3 2>"$tmp/serve.log" &
pids+=($!)
url="http://127.0.0.1:$(wait_port "$pf")"
check "serve: the cache API" bash -c "curl -sf '$url/sgx/certification/v4/tcb?fmspc=90C06F000000' >/dev/null || curl -sf '$url/tdx/certification/v4/tcb?fmspc=90C06F000000' >/dev/null"
check "serve: the broker API on the same port (JWKS)" bash -c "curl -sf $url/.well-known/jwks.json | grep -q '\"kty\":\"EC\"'"
check "serve: the cache's health" bash -c "curl -sf $url/healthz | grep -q status"
check "serve: broker admin needs the token" [ "$(curl -s -o /dev/null -w '%{http_code}' "$url/admin/v1/keys")" = 401 ]
check "serve: broker admin with the token" bash -c "curl -sf -H 'Authorization: Bearer $admin' $url/admin/v1/keys | grep -q vault"
nonce=$(curl -s -X POST "$url/v1/challenge" | python3 -c 'import json,sys; print(json.load(sys.stdin)["nonce"])')
python3 - "$ali/quote.bin" "$nonce" >"$tmp/attest.json" <<'PY'
import base64, json, sys
q = open(sys.argv[1], "rb").read()
key = {"kty": "EC", "crv": "P-256", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
       "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}
print(json.dumps({"evidence": base64.b64encode(q).decode(), "nonce": sys.argv[2], "runtime_key": key}))
PY
st=$(curl -s -o "$tmp/out.json" -w '%{http_code}' -X POST --data-binary "@$tmp/attest.json" "$url/v1/attest")
check "serve: a real TDX quote verifies with collateral from the in-process cache and is refused only for its binding ($st)" \
    bash -c "[ $st = 401 ] && grep -q '\"reason\":\"binding\"' $tmp/out.json"
check "serve: the cache was filled for it" bash -c "sqlite3 $tmp/v.db \"SELECT COUNT(*) FROM vt_items WHERE key LIKE '%90c06f000000%'\" | grep -qv '^0$'"
check "audit verify after serve" grep -q '"verified":true,"entries":1' <("$veritee" audit verify --db "$db")
# --max-nonces is accepted and ignored (challenges are not stored); --max-kbs-sessions 3 is a cap
check "serve: --max-nonces has no effect, and says so" grep -q 'max-nonces.*has no effect' "$tmp/serve.log"
for i in 1 2 3 4; do curl -s -o /dev/null -X POST "$url/v1/challenge"; done
check "serve: challenges are not stored: only the one redeemed above is" [ "$(sqlite3 "$tmp/v.db" 'SELECT COUNT(*) FROM vb_nonces')" = 1 ]
for i in 1 2 3; do curl -s -o /dev/null -X POST -H 'Content-Type: application/json' --data '{"version":"0.4.0","tee":"tdx","extra-params":""}' "$url/kbs/v0/auth"; done
curl -s -D "$tmp/limit.hdr" -o "$tmp/limit.json" -X POST -H 'Content-Type: application/json' --data '{"version":"0.4.0","tee":"tdx","extra-params":""}' "$url/kbs/v0/auth"
check "serve: --max-kbs-sessions: 503 kbs-session-limit with Retry-After" bash -c \
    "grep -q '^HTTP/1.1 503' $tmp/limit.hdr && grep -qi '^Retry-After: [0-9]' $tmp/limit.hdr && grep -q '\"reason\":\"kbs-session-limit\"' $tmp/limit.json"
curl -s "$url/metrics" >"$tmp/metrics.txt"
check "serve: one /metrics with the cache's and the broker's counters" bash -c \
    "grep -q '^veritee_cache_hits_total ' $tmp/metrics.txt && grep -q '^veritee_broker_limit_refusals_total{limit=\"kbs_sessions\"} 1$' $tmp/metrics.txt && grep -q '^veritee_broker_refusals_unlogged_total{endpoint=\"attest\",reason=\"evidence\"} 0$' $tmp/metrics.txt"
# the cache's bundle-signing key in this shared database: sealed under the master key
check "serve: the bundle key is printed with the master key" grep -Eq '^[0-9a-f]{128}$' <("$veritee" cache key --db "$db" --master-key-file "$mk")
check "serve: the bundle key is stored sealed" bash -c "sqlite3 $tmp/v.db \"SELECT value FROM vt_meta WHERE name = 'bundle_key'\" | grep -q '^sealed:'"
check "serve: without the master key the cache cannot sign" bash -c "env -u VERITEE_MASTER_KEY $veritee cache key --db $db 2>&1 | grep -q 'sealed under the master key'"
finish
