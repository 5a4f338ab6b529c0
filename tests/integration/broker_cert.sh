#!/usr/bin/env bash
# Certificates from the broker (docs/attested-tls.md, "Certificates from the broker") as an
# operator and a workload use them: `veritee broker ca` and GET /v1/ca agree; profiles set with
# `veritee broker cert-profile`; `veritee client broker-cert` (simulated TDX) with a token and with the
# evidence in the request; the certificate read by `openssl x509 -text` (names of the profile,
# not of the CSR; the appraisal extension) and checked by `openssl verify -CAfile`; refusals by
# curl with a CSR made by openssl for a key the attestation did not bind, a policy naming another
# measurement, an unknown profile; the log and `veritee audit verify`; the CA after a restart.
# Usage: broker_cert.sh VERITEE
set -uo pipefail
veritee=${1:?usage: broker_cert.sh VERITEE}
here=$(cd "$(dirname "$0")" && pwd)
support="$here/../support"
tmp=$(mktemp -d)
source "$support/cache_lib.sh"
trap cleanup EXIT

db="sqlite:$tmp/broker.db"
mk="$tmp/master.key"
"$veritee" broker master-key >"$mk"
b() { "$veritee" broker "$@" --db "$db" --master-key-file "$mk"; }
jq_() { python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"; }

b ca >"$tmp/ca.pem"
check "veritee broker ca prints a certificate" openssl x509 -in "$tmp/ca.pem" -noout
openssl x509 -in "$tmp/ca.pem" -noout -text >"$tmp/ca.txt"
check "the CA: cA=TRUE, pathlen 0, critical" bash -c "grep -A1 'Basic Constraints: critical' $tmp/ca.txt | grep -q 'CA:TRUE, pathlen:0'"
check "the CA: keyCertSign" grep -q 'Certificate Sign, CRL Sign' "$tmp/ca.txt"
check "the CA: a P-256 key" grep -q 'NIST CURVE: P-256' "$tmp/ca.txt"
check "the CA: self-signed and valid" openssl verify -CAfile "$tmp/ca.pem" "$tmp/ca.pem"
check "veritee broker ca again: the same CA" cmp -s "$tmp/ca.pem" <(b ca)

"$veritee" client sim-export --backend sim:tdx --sim-dir "$tmp/sim" --out "$tmp/export" >/dev/null
pf="$tmp/broker.port"
"$veritee" broker serve --db "$db" --master-key-file "$mk" --collateral "$tmp/export/collateral" \
    --trust-anchor "$tmp/export/anchors/tdx.pem" --listen 127.0.0.1:0 --port-file "$pf" \
    --cert-ttl 1800 2>"$tmp/broker.log" &
pids+=($!)
url="http://127.0.0.1:$(wait_port "$pf")"
check "GET /v1/ca is the same CA, without a token" cmp -s "$tmp/ca.pem" <(curl -sf "$url/v1/ca")
"$veritee" client attest --url "$url" --backend sim:tdx --sim-dir "$tmp/sim" >"$tmp/attest.json"
mrtd=$(jq_ "$tmp/attest.json" 'j["claims"]["tdx.mrtd"]')
check "the TD attests (MRTD ${mrtd:0:16}...)" grep -Eq '^[0-9a-f]{96}$' <<<"$mrtd"
printf '{"version":1,"rules":{"claim":"tdx.mrtd","equals":"%s"}}' "$mrtd" >"$tmp/ok.json"
printf '{"version":1,"rules":{"claim":"tdx.mrtd","equals":"%096d"}}' 0 >"$tmp/other.json"
check "cert-profile vault" b cert-profile --name vault --policy "$tmp/ok.json" --dns vault.example --dns localhost
check "cert-profile other (another measurement)" b cert-profile --name other --policy "$tmp/other.json" --dns other.example
check "cert-profile refuses a bad DNS name" bash -c "! $veritee broker cert-profile --db $db --master-key-file $mk --name x --dns 'a b' 2>$tmp/err && grep -q 'not a DNS name' $tmp/err"
check "cert-profile refuses a lifetime over 7 days" bash -c "! $veritee broker cert-profile --db $db --master-key-file $mk --name x --lifetime 999999 2>/dev/null"
check "cert-profiles lists them" bash -c "$veritee broker cert-profiles --db $db --master-key-file $mk | grep -q '\"dns\":\[\"vault.example\",\"localhost\"\]'"

# a certificate with a token
cc() { "$veritee" client broker-cert --url "$url" --backend sim:tdx --sim-dir "$tmp/sim" "$@"; }
cc --profile vault --out "$tmp/vault.crt" --key-out "$tmp/vault.key" --ca-out "$tmp/ca2.pem" >"$tmp/cert.json"
check "veritee client broker-cert: ok" grep -q '"ok":true' "$tmp/cert.json"
check "the answer's CA is the CA" cmp -s "$tmp/ca.pem" "$tmp/ca2.pem"
check "the key file is private (0600)" [ "$(stat -c %a "$tmp/vault.key")" = 600 ]
check "openssl verify -CAfile: the certificate chains to the CA" openssl verify -CAfile "$tmp/ca.pem" "$tmp/vault.crt"
check "openssl verify -purpose sslserver" openssl verify -purpose sslserver -CAfile "$tmp/ca.pem" "$tmp/vault.crt"
check "the certificate is for the key in --key-out" bash -c "cmp -s <(openssl x509 -in $tmp/vault.crt -noout -pubkey) <(openssl pkey -in $tmp/vault.key -pubout)"
openssl x509 -in "$tmp/vault.crt" -noout -text >"$tmp/vault.txt"
check "openssl x509 -text: subject CN is the profile's first name" grep -q 'Subject: CN *= *vault.example' "$tmp/vault.txt"
check "openssl x509 -text: the profile's DNS names" grep -q 'DNS:vault.example, DNS:localhost' "$tmp/vault.txt"
check "openssl x509 -text: CA:FALSE" bash -c "grep -A1 'Basic Constraints: critical' $tmp/vault.txt | grep -q CA:FALSE"
check "openssl x509 -text: serverAuth and clientAuth" grep -q 'TLS Web Server Authentication, TLS Web Client Authentication' "$tmp/vault.txt"
check "openssl x509 -text: the appraisal extension (OID of atls.h)" grep -q '2.25.229478036226361393545283536436640327405' "$tmp/vault.txt"
check "openssl x509 -text: the extension carries the MRTD and the profile" bash -c "grep -q '\"tdx.mrtd\":\"$mrtd\"' $tmp/vault.txt && grep -q '\"policy\":\"vault\"' $tmp/vault.txt"
nb=$(openssl x509 -in "$tmp/vault.crt" -noout -startdate | cut -d= -f2)
na=$(openssl x509 -in "$tmp/vault.crt" -noout -enddate | cut -d= -f2)
life=$(($(date -d "$na" +%s) - $(date -d "$nb" +%s)))
check "the lifetime is cut at the token's expiry (600 s token, --cert-ttl 1800): $life s" [ "$life" -le 600 ]
idx=$(jq_ "$tmp/cert.json" 'j["log_index"]')
check "the extension's log_index is the answer's ($idx)" grep -q "\"log_index\":$idx}" "$tmp/vault.txt"
check "the receipt is for that index" [ "$(jq_ "$tmp/cert.json" 'j["receipt"]["index"]')" = "$idx" ]
jq_ "$tmp/cert.json" 'json.dumps({"receipt": j["receipt"], "receipt_kid": j["receipt_kid"]})' >"$tmp/receipt.json"
curl -sf "$url/.well-known/jwks.json" >"$tmp/jwks.json"
check "veritee audit receipt checks the issuance's receipt offline" "$veritee" audit receipt --receipt "$tmp/receipt.json" --jwks "$tmp/jwks.json"

# the library side (vt_atls_verify_cert through veritee verify) reads the certificate as a
# broker certificate: the CA, the appraisal extension, a policy on its claims
"$veritee" verify "$tmp/vault.crt" --broker-ca "$tmp/ca.pem" --policy "$tmp/ok.json" >"$tmp/verify.json" 2>"$tmp/verify.err"
check "veritee verify CERT --broker-ca --policy: a broker certificate, accepted" \
    bash -c "grep -q '\"format\":\"broker\"' $tmp/verify.json && grep -q '$mrtd' $tmp/verify.json"
"$veritee" verify "$tmp/vault.crt" --broker-ca "$tmp/ca.pem" --policy "$tmp/other.json" >/dev/null 2>"$tmp/verify.err"
check "veritee verify with a policy naming another MRTD: refused" [ $? != 0 ]
"$veritee" verify "$tmp/vault.crt" >/dev/null 2>&1
check "veritee verify without the broker's CA: refused" [ $? != 0 ]

# with the evidence in the request, an RSA key
cc --profile vault --direct --key-type RSA-2048 --out "$tmp/rsa.crt" --key-out "$tmp/rsa.key" >"$tmp/cert2.json"
check "veritee client broker-cert --direct (evidence in the request): ok with a token" bash -c "grep -q '\"ok\":true' $tmp/cert2.json && grep -q '\"token\":\"ey' $tmp/cert2.json"
check "openssl verify -CAfile (RSA-2048 key)" openssl verify -CAfile "$tmp/ca.pem" "$tmp/rsa.crt"
check "openssl x509 -text: an RSA 2048 key" bash -c "openssl x509 -in $tmp/rsa.crt -noout -text | grep -q 'Public-Key: (2048 bit)'"

# refusals
check "a policy naming another measurement: refused (403 cert-policy:rules)" bash -c \
    "! $veritee client broker-cert --url $url --backend sim:tdx --sim-dir $tmp/sim --profile other --out $tmp/x.crt --key-out $tmp/x.key >$tmp/out 2>&1 && grep -q 'HTTP 403 cert-policy:rules' $tmp/out"
check "an unknown profile: refused (404 unknown-profile)" bash -c \
    "! $veritee client broker-cert --url $url --backend sim:tdx --sim-dir $tmp/sim --profile nosuch --out $tmp/x.crt --key-out $tmp/x.key >$tmp/out 2>&1 && grep -q 'HTTP 404 unknown-profile' $tmp/out"
check "nothing written on a refusal" [ ! -e "$tmp/x.crt" ]
token=$(jq_ "$tmp/attest.json" 'j["token"]')
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$tmp/other.key" 2>/dev/null
openssl req -new -key "$tmp/other.key" -subj /CN=evil.example -addext subjectAltName=DNS:evil.example -out "$tmp/other.csr" 2>/dev/null
post_cert() { # post_cert PROFILE CSR_FILE TOKEN: status, body in $tmp/body
    python3 -c 'import json,sys; print(json.dumps({"profile": sys.argv[1], "csr": open(sys.argv[2]).read(), "token": sys.argv[3]}))' "$1" "$2" "$3" >"$tmp/req.json"
    curl -s -o "$tmp/body" -w '%{http_code}' -H 'Content-Type: application/json' --data @"$tmp/req.json" "$url/v1/cert"
}
st=$(post_cert vault "$tmp/other.csr" "$token")
check "a CSR (openssl req) for a key the attestation did not bind: 401 ($st)" [ "$st" = 401 ]
check "... reason csr-key-mismatch, naming the token's cnf.jkt" bash -c "grep -q '\"reason\":\"csr-key-mismatch\"' $tmp/body && grep -q 'cnf.jkt' $tmp/body"
head -c 9000 /dev/zero | tr '\0' A >"$tmp/big.csr"
st=$(post_cert vault "$tmp/big.csr" "$token")
check "an oversize CSR: 413 csr-size ($st)" bash -c "[ $st = 413 ] && grep -q csr-size $tmp/body"
openssl req -new -key "$tmp/other.key" -subj /CN=x -sha1 -out "$tmp/sha1.csr" 2>/dev/null
st=$(post_cert vault "$tmp/sha1.csr" "$token")
check "a CSR signed with SHA-1: 400 csr-algorithm ($st)" bash -c "[ $st = 400 ] && grep -q csr-algorithm $tmp/body"
b log --limit 1000 >"$tmp/log.json"
n_issued=$(jq_ "$tmp/log.json" 'sum(1 for e in j if e["entry"]["type"] == "cert" and e["entry"]["decision"] == "allow")')
check "the log: two issuances (type cert, allow): $n_issued" [ "$n_issued" = 2 ]
check "the log: the refusals after authentication (cert-policy, unknown-profile, csr-key-mismatch)" \
    bash -c "grep -q '\"reason\":\"cert-policy:rules\"' $tmp/log.json && grep -q '\"reason\":\"unknown-profile\"' $tmp/log.json && grep -q '\"reason\":\"csr-key-mismatch\"' $tmp/log.json"
check "the log: no oversize or SHA-1 refusal (before authentication)" bash -c "! grep -q -e csr-size -e csr-algorithm $tmp/log.json"
check "/metrics counts the cert entries and the unlogged refusals" bash -c \
    "curl -sf $url/metrics | grep -q 'veritee_broker_log_entries_total{type=\"cert\",decision=\"allow\"} 2' && curl -sf $url/metrics | grep -q 'veritee_broker_refusals_unlogged_total{endpoint=\"cert\",reason=\"request\"} 2'"
check "veritee audit verify" grep -q '"verified":true' <("$veritee" audit verify --db "$db")
check "the CA after all that: unchanged" cmp -s "$tmp/ca.pem" <(b ca)
finish
