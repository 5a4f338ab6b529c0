#!/usr/bin/env bash
# The Key Vault drop-in's HTTP surface as a client meets it (docs/skr.md), with curl over plain
# HTTP (the SDK itself, over HTTPS, is tests/keyvault_sdk): `veritee serve --keyvault-listen` and
# its options' usage errors; the challenge (401, WWW-Authenticate with authorization and
# resource, configurable) before any body is read; a wrong token; api-version missing or
# unknown; bad key names and versions; 404 and 405 with Allow; bodies that are not one JSON
# object, too large, with unknown members; a key created, read at the current version with and
# without the trailing slash, listed; a release refused for a malformed target and logged;
# `veritee routes keyvault`. Usage: keyvault_cli.sh VERITEE
set -uo pipefail
veritee=${1:?usage: keyvault_cli.sh VERITEE}
here=$(cd "$(dirname "$0")" && pwd)
support="$here/../support"
tmp=$(mktemp -d)
source "$support/cache_lib.sh"
trap cleanup EXIT

db="sqlite:$tmp/v.db"
mk="$tmp/master.key"
"$veritee" broker master-key >"$mk"
jq_() { # jq_ FILE EXPR: a Python expression over the JSON document j
    python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); r=eval(sys.argv[2]); print(r if isinstance(r, str) else json.dumps(r, sort_keys=True))' "$1" "$2"
}

# ---- usage ----
check "veritee serve --help names --keyvault-listen" bash -c "$veritee serve --help | grep -q -- --keyvault-issuer"
serve_fails() { # serve_fails NAME MESSAGE ARGS...: veritee serve exits non-zero saying MESSAGE
    local name=$1 msg=$2
    shift 2
    timeout 30 "$veritee" serve --db "$db" --master-key-file "$mk" --mode offline \
        --refresh-interval 0 --listen 127.0.0.1:0 --keyvault-listen 127.0.0.1:0 "$@" \
        >/dev/null 2>"$tmp/err"
    local rc=$?
    check "$name: refused (exit $rc)" [ "$rc" != 0 ]
    check "$name: says \"$msg\"" grep -q -- "$msg" "$tmp/err"
}
serve_fails "an issuer without a file" "ISSUER_URL=JWKS_FILE" --keyvault-issuer https://x
serve_fails "an issuer's missing file" "/nonexistent" --keyvault-issuer https://x=/nonexistent
serve_fails "a resource that is no URL" "kv.resource" --keyvault-resource vault
serve_fails "a leeway too long" "0 to 3600" --keyvault-token-leeway 7200
check "veritee routes keyvault" bash -c "$veritee routes keyvault | grep -q '/keys/{key-name}/{key-version}/release'"

# ---- serve ----
echo '{"keys":[]}' >"$tmp/empty.jwks"
bearer=$("$veritee" broker token --db "$db" --master-key-file "$mk" --name cli)
pf="$tmp/kv.port"
"$veritee" serve --db "$db" --master-key-file "$mk" --mode offline --refresh-interval 0 \
    --listen 127.0.0.1:0 --port-file "$tmp/p" --keyvault-listen 127.0.0.1:0 \
    --keyvault-port-file "$pf" --keyvault-resource https://kv.example \
    --keyvault-url https://vault.example 2>"$tmp/serve.log" &
pids+=($!)
url="http://127.0.0.1:$(wait_port "$pf")" || { bad "serve --keyvault-listen"; cat "$tmp/serve.log"; finish; exit 1; }
check "serve warns that the SDK needs HTTPS" grep -q "without --tls-cert" "$tmp/serve.log"

req() { # req NAME STATUS CODE METHOD PATH [BODY] [AUTH]: the answer's status and error code
    local name=$1 status=$2 code=$3 method=$4 path=$5 body=${6:-} auth=${7-$bearer}
    local args=(-s -o "$tmp/body" -D "$tmp/head" -w '%{http_code}' -X "$method")
    [ -n "$auth" ] && args+=(-H "Authorization: Bearer $auth")
    [ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
    local got
    got=$(curl "${args[@]}" "$url$path")
    check "$name: status $status (got $got)" [ "$got" = "$status" ]
    if [ -n "$code" ]; then
        check "$name: code $code" [ "$(jq_ "$tmp/body" 'j["error"]["code"]')" = "$code" ]
    fi
}

req "healthz without a token" 200 "" GET /healthz "" ""
req "no token: the challenge" 401 Unauthorized POST "/keys/k/create?api-version=7.4" "" ""
check "... WWW-Authenticate names authorization and the configured resource" \
    grep -qi '^WWW-Authenticate: Bearer authorization="https://login.microsoftonline.com/veritee", resource="https://kv.example"' "$tmp/head"
check "... a message Key Vault gives" grep -q AKV10000 "$tmp/body"
req "a wrong token" 401 Unauthorized GET "/keys/k?api-version=7.4" "" "vt_0000"
check "... with the challenge again" grep -qi '^WWW-Authenticate: Bearer' "$tmp/head"
kvtoken=$("$veritee" broker token --db "$db" --master-key-file "$mk" --name kv-only --role keyvault)
req "a token of role keyvault" 404 KeyNotFound GET "/keys/k?api-version=7.4" "" "$kvtoken"
"$veritee" broker token --db "$db" --master-key-file "$mk" --name x --role cache 2>"$tmp/err"
check "broker token --role: admin or keyvault only" bash -c "[ $? = 2 ] && grep -q keyvault '$tmp/err'"
req "no api-version" 400 BadParameter GET /keys/k
req "an unknown api-version" 400 BadParameter GET "/keys/k?api-version=2016-10-01"
req "a bad key name" 400 BadParameter GET "/keys/a_b?api-version=7.4"
req "a bad version" 404 KeyNotFound GET "/keys/k/NOTHEX?api-version=7.4"
req "an unknown path" 404 NotFound GET "/secrets/s?api-version=7.4"
req "a method the path lacks" 405 MethodNotAllowed DELETE "/keys/k?api-version=7.4"
check "... with Allow" grep -qi '^Allow: PUT, GET, HEAD, PATCH' "$tmp/head"
req "create without a body" 400 BadParameter POST "/keys/k/create?api-version=7.4"
req "create with a body that is not JSON" 400 BadParameter POST "/keys/k/create?api-version=7.4" '{"kty":'
req "create with duplicate members" 400 BadParameter POST "/keys/k/create?api-version=7.4" '{"kty":"RSA","kty":"EC"}'
req "create with an unknown member" 400 BadParameter POST "/keys/k/create?api-version=7.4" '{"kty":"RSA","size":1}'
head -c 300000 /dev/zero | tr '\0' ' ' >"$tmp/big"
req "a body over 256 KiB" 413 "" POST "/keys/k/create?api-version=7.4" "@$tmp/big"
req "a key not there" 404 KeyNotFound GET "/keys/k?api-version=7.4"

req "create an EC-HSM key" 200 "" POST "/keys/k/create?api-version=7.4" '{"kty":"EC-HSM","crv":"P-384","tags":{"app":"cli"}}'
kid=$(jq_ "$tmp/body" 'j["key"]["kid"]')
check "... its kid is under the configured vault URL" bash -c "echo '$kid' | grep -Eq '^https://vault.example/keys/k/[0-9a-f]{32}$'"
check "... no private member" bash -c "! grep -q '\"d\"' '$tmp/body'"
req "get the current version" 200 "" GET "/keys/k?api-version=2025-07-01"
check "... the same kid" [ "$(jq_ "$tmp/body" 'j["key"]["kid"]')" = "$kid" ]
req "get with a trailing slash (the SDK's getKey)" 200 "" GET "/keys/k/?api-version=7.6"
req "get the version" 200 "" GET "/keys/k/${kid##*/}?api-version=7.5"
req "the versions" 200 "" GET "/keys/k/versions?api-version=7.4"
check "... one" [ "$(jq_ "$tmp/body" 'len(j["value"])')" = 1 ]
req "the keys" 200 "" GET "/keys?api-version=7.4"
check "... the key without a version" [ "$(jq_ "$tmp/body" 'j["value"][0]["kid"]')" = "https://vault.example/keys/k" ]
req "disable it" 200 "" PATCH "/keys/k/?api-version=7.4" '{"attributes":{"enabled":false}}'
check "... disabled" [ "$(jq_ "$tmp/body" 'j["attributes"]["enabled"]')" = false ]
req "release a key that is not exportable" 403 Forbidden POST "/keys/k/release?api-version=7.4" '{"target":"x"}'
req "release without a target" 400 BadParameter POST "/keys/k/release?api-version=7.4" '{}'
"$veritee" broker log --db "$db" --master-key-file "$mk" >"$tmp/log.json"
check "the refused release is in the log" grep -q '"event":"release"' "$tmp/log.json"
"$veritee" audit verify --db "$db" >"$tmp/audit.json"
check "audit verify passes" grep -q '"verified":true' "$tmp/audit.json"

# ---- a master-key rewrap re-seals the Key Vault's keys too ----
kill "${pids[@]}" 2>/dev/null || true
wait 2>/dev/null || true
pids=()
"$veritee" backup --db "$db" --out "$tmp/before.db" >/dev/null
check "restore --check opens the Key Vault keys under the master key" grep -q '"checked":' \
    <("$veritee" restore --check --backup "$tmp/before.db" --master-key-file "$mk")
material() { sqlite3 "$tmp/v.db" "SELECT name, version, hex(material) FROM kv_key_versions"; }
material >"$tmp/material.before"
"$veritee" broker master-key >"$tmp/new.key"
"$veritee" broker rewrap --db "$db" --master-key-file "$mk" --new-master-key-file "$tmp/new.key" \
    >"$tmp/rewrap.json"
material >"$tmp/material.after"
check "broker rewrap re-seals every Key Vault key version" bash -c \
    "[ -s '$tmp/material.before' ] && [ \$(wc -l <'$tmp/material.before') = \$(wc -l <'$tmp/material.after') ] &&
     ! grep -qxFf '$tmp/material.before' '$tmp/material.after'"
"$veritee" backup --db "$db" --out "$tmp/after.db" >/dev/null
check "after broker rewrap, restore --check opens them under the new key" grep -q '"checked":' \
    <("$veritee" restore --check --backup "$tmp/after.db" --master-key-file "$tmp/new.key")
check "... which the old key no longer opens" bash -c \
    "! '$veritee' restore --check --backup '$tmp/after.db' --master-key-file '$mk' >/dev/null 2>&1"
finish
