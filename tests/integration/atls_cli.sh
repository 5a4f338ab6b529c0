#!/usr/bin/env bash
# Attested TLS on the command line (docs/attested-tls.md): `veritee client cert` makes an
# attested certificate with each simulator backend, `veritee verify CERT.pem` verifies it (and
# refuses a policy mismatch, a certificate from another PKI, a plain certificate), and
# `veritee client connect` connects to `openssl s_server` serving it: accepted with a matching
# policy, refused (exit 1, the check named) otherwise; broker CA certificates via --broker-ca.
set -uo pipefail
veritee=${1:?usage: atls_cli.sh VERITEE}
tmp=$(mktemp -d)
server_pid=
cleanup() {
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null; fi
    rm -rf "$tmp"
}
trap cleanup EXIT
fails=0 passes=0

expect() { # expect NAME WANT_STATUS GREP_PATTERN -- command...
    local name=$1 want=$2 pattern=$3
    shift 4
    local out status
    out=$("$@" 2>"$tmp/stderr")
    status=$?
    if [ "$status" -ne "$want" ] || ! grep -qE -- "$pattern" <<<"$out$(cat "$tmp/stderr")"; then
        echo "FAIL $name: status $status (want $want), output: $(head -c 600 <<<"$out") $(head -c 300 "$tmp/stderr")"
        fails=$((fails + 1))
    else
        passes=$((passes + 1))
    fi
}

# Start openssl s_server on a free port with CERT and KEY; sets $port (polls its output, no
# fixed sleep).
serve() {
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null; fi
    : >"$tmp/server.out"
    openssl s_server -accept 127.0.0.1:0 -cert "$1" -key "$2" -www \
        >"$tmp/server.out" 2>&1 </dev/null &
    server_pid=$!
    port=
    for _ in $(seq 100); do
        port=$(sed -n 's/^ACCEPT 127.0.0.1:\([0-9]*\)$/\1/p' "$tmp/server.out")
        [ -n "$port" ] && return 0
        sleep 0.05
    done
    echo "FAIL openssl s_server did not start: $(cat "$tmp/server.out")"
    fails=$((fails + 1))
    return 1
}

# ---- help and usage ----
expect client-help 0 'client cert --backend B' -- "$veritee" client --help
expect cert-help 0 'Usage: veritee client cert' -- "$veritee" client cert --help
expect connect-help 0 'Usage: veritee client connect URL' -- "$veritee" client connect --help
expect verify-help 0 '--broker-ca FILE' -- "$veritee" verify --help
expect cert-missing 2 '--backend, --out-cert and --out-key are needed' -- "$veritee" client cert
expect cert-format 2 'expected ratls-sgx, ratls-tdx, oe or cmw' -- \
    "$veritee" client cert --backend sim:sgx --format pem --out-cert x --out-key y
expect cert-wrong-format 2 'atls.format: format oe cannot carry evidence of the attester.s TEE tdx' -- \
    "$veritee" client cert --backend sim:tdx --sim-dir "$tmp/pki-x" --format oe \
    --out-cert "$tmp/x.pem" --out-key "$tmp/x.key"
expect cert-key-type 2 'x509.key_type' -- \
    "$veritee" client cert --backend sim:sgx --key-type Ed25519 --out-cert x --out-key y
expect connect-no-url 2 'expected one URL' -- "$veritee" client connect
expect connect-bad-url 2 'expected one URL' -- "$veritee" client connect http://x:1
expect connect-bad-count 2 '--count takes 1 to 1000' -- "$veritee" client connect h:1 --count 0
expect connect-missing-policy 2 'file.read' -- \
    "$veritee" client connect 127.0.0.1:1 --policy "$tmp/nonexistent.json"

# ---- one PKI per simulator, one collateral directory for all ----
mkdir -p "$tmp/coll"
anchors=()
for tee in sgx tdx snp nitro; do
    "$veritee" client sim-export --backend "sim:$tee" --sim-dir "$tmp/pki-$tee" \
        --out "$tmp/exp-$tee" || { echo "FAIL sim-export $tee"; exit 1; }
done
cp -r "$tmp/exp-sgx/collateral/sgx" "$tmp/coll/sgx"
cp -r "$tmp/exp-tdx/collateral/tdx" "$tmp/coll/tdx"
cp "$tmp/exp-snp/collateral/snp/cert_chain.pem" "$tmp/coll/"
for a in "$tmp"/exp-*/anchors/*.pem; do anchors+=(--trust-anchor "$a"); done
trust=(--collateral "$tmp/coll" "${anchors[@]}")

policy_for() { printf '{"version":1,"rules":{"claim":"tee","equals":"%s"}}' "$1" >"$tmp/p-$1.json"; }
for t in sgx tdx sev-snp nitro; do policy_for "$t"; done

# backend format tee
cases="sim:sgx ratls-sgx sgx
sim:sgx oe sgx
sim:tdx ratls-tdx tdx
sim:snp cmw sev-snp
sim:nitro cmw nitro"
while read -r backend format tee; do
    name=${backend#sim:}-$format
    pki=$tmp/pki-${backend#sim:}
    expect "cert-$name" 0 '^$' -- "$veritee" client cert --backend "$backend" --sim-dir "$pki" \
        --format "$format" --dns localhost --cn "$name" \
        --out-cert "$tmp/$name.pem" --out-key "$tmp/$name.key"
    expect "verify-$name" 0 "\"verified\":true,\"evidence_type\":\"attested-certificate\",\"format\":\"$format\".*\"tee\":\"$tee\"" -- \
        "$veritee" verify "${trust[@]}" --policy "$tmp/p-$tee.json" "$tmp/$name.pem"
    other=sgx
    [ "$tee" = sgx ] && other=nitro
    expect "verify-policy-$name" 1 '"verified":false.*"check":"atls.policy".*claim tee equals' -- \
        "$veritee" verify "${trust[@]}" --policy "$tmp/p-$other.json" "$tmp/$name.pem"
    # the key file is private
    expect "key-mode-$name" 0 '^600$' -- stat -c %a "$tmp/$name.key"
    if serve "$tmp/$name.pem" "$tmp/$name.key"; then
        expect "connect-$name" 0 "\"connected\":true.*\"format\":\"$format\".*\"verifications\":1,\"cache_hits\":2.*\"tee\":\"$tee\"" -- \
            "$veritee" client connect "https://127.0.0.1:$port/" --policy "$tmp/p-$tee.json" \
            "${trust[@]}" --count 3
        expect "connect-refused-$name" 1 '"connected":false.*"claims":null.*"check":"atls.policy"' -- \
            "$veritee" client connect "127.0.0.1:$port" --policy "$tmp/p-$other.json" "${trust[@]}"
    fi
done <<<"$cases"

# ---- refusals ----
# a certificate whose evidence comes from a PKI the verifier does not trust
"$veritee" client cert --backend sim:nitro --out-cert "$tmp/rogue.pem" --out-key "$tmp/rogue.key" \
    || echo "FAIL rogue cert"
expect verify-rogue 1 '"verified":false.*"code":"VT_E_UNTRUSTED_ROOT"' -- \
    "$veritee" verify "${trust[@]}" "$tmp/rogue.pem"
# a plain TLS server
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=plain -days 1 \
    -keyout "$tmp/plain.key" -out "$tmp/plain.pem" 2>/dev/null
expect verify-plain 1 '"check":"atls.extension"' -- "$veritee" verify "${trust[@]}" "$tmp/plain.pem"
if serve "$tmp/plain.pem" "$tmp/plain.key"; then
    expect connect-plain 1 '"connected":false.*"check":"atls.extension"' -- \
        "$veritee" client connect "127.0.0.1:$port" "${trust[@]}"
fi
# expired at --at: a day later than the one-hour certificate
"$veritee" client cert --backend sim:nitro --sim-dir "$tmp/pki-nitro" --validity 3600 \
    --out-cert "$tmp/short.pem" --out-key "$tmp/short.key" || echo "FAIL short cert"
expect verify-expired 1 '"code":"VT_E_EXPIRED".*"check":"atls.validity"' -- \
    "$veritee" verify "${trust[@]}" --at "$(($(date +%s) + 86400))" "$tmp/short.pem"
expect connect-closed 1 '"connected":false.*"check":"atls.connect"' -- \
    "$veritee" client connect "127.0.0.1:1" "${trust[@]}"

# ---- a broker CA's certificate (made here with openssl, as the header defines it) ----
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=broker CA" \
    -days 2 -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign \
    -keyout "$tmp/ca.key" -out "$tmp/ca.pem" 2>/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=other CA" \
    -days 2 -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign \
    -keyout "$tmp/other.key" -out "$tmp/other.pem" 2>/dev/null
claims=$("$veritee" verify "${trust[@]}" "$tmp/sgx-ratls-sgx.pem" |
    python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["claims"],separators=(",",":")))')
json="{\"v\":1,\"claims\":$claims,\"ear\":\"a.b.c\",\"log_index\":7}"
# the extension's value: a DER UTF8String holding the JSON
der_hex=$(python3 -c '
import sys
b = sys.argv[1].encode()
n = len(b)
head = bytes([n]) if n < 128 else (bytes([0x81, n]) if n < 256 else bytes([0x82, n >> 8, n & 255]))
print((b"\x0c" + head + b).hex())' "$json")
printf 'not a certificate\n' >"$tmp/ext.cnf"
printf '[ext]\n2.25.229478036226361393545283536436640327405=DER:%s\nbasicConstraints=critical,CA:FALSE\n' \
    "$der_hex" >"$tmp/leaf.cnf"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=workload \
    -keyout "$tmp/wl.key" -out "$tmp/wl.csr" 2>/dev/null
openssl x509 -req -in "$tmp/wl.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" -days 1 \
    -extfile "$tmp/leaf.cnf" -extensions ext -out "$tmp/wl.pem" 2>/dev/null
expect verify-broker 0 '"verified":true,"evidence_type":"attested-certificate","format":"broker".*"tee":"sgx"' -- \
    "$veritee" verify --broker-ca "$tmp/ca.pem" --policy "$tmp/p-sgx.json" "$tmp/wl.pem"
expect verify-broker-policy 1 '"check":"atls.policy"' -- \
    "$veritee" verify --broker-ca "$tmp/ca.pem" --policy "$tmp/p-tdx.json" "$tmp/wl.pem"
expect verify-broker-wrong-ca 1 '"code":"VT_E_UNTRUSTED_ROOT".*"check":"atls.broker"' -- \
    "$veritee" verify --broker-ca "$tmp/other.pem" "$tmp/wl.pem"
expect verify-broker-no-ca 1 '"check":"atls.broker"' -- "$veritee" verify "$tmp/wl.pem"
expect verify-broker-bad-ca-file 2 'broker_ca' -- \
    "$veritee" verify --broker-ca "$tmp/ext.cnf" "$tmp/wl.pem"
if serve "$tmp/wl.pem" "$tmp/wl.key"; then
    expect connect-broker 0 '"connected":true.*"format":"broker".*"tee":"sgx"' -- \
        "$veritee" client connect "127.0.0.1:$port" --ca "$tmp/ca.pem" --policy "$tmp/p-sgx.json"
    expect connect-broker-wrong-ca 1 '"connected":false.*"check":"atls.broker"' -- \
        "$veritee" client connect "127.0.0.1:$port" --ca "$tmp/other.pem"
fi

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
