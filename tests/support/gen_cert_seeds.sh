#!/usr/bin/env bash
# Seeds for fuzz/fuzz_broker_cert_request (written once, committed): certificate requests made
# with the openssl command (P-256, P-384, RSA-2048 as PEM and DER; refused kinds: Ed25519, SHA-1,
# RSA-1024, secp256k1; a truncated one) and /v1/cert bodies carrying them. Every key is fresh and
# protects nothing. Usage: gen_cert_seeds.sh OUT_DIR
set -euo pipefail
out=${1:?usage: gen_cert_seeds.sh OUT_DIR}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"
req() { # req NAME KEYGEN_ARGS... : a CSR for a new key
    local name=$1
    shift
    openssl genpkey "$@" -out "$tmp/$name.key" 2>/dev/null
    openssl req -new -key "$tmp/$name.key" -subj "/CN=$name.example" ${DIGEST:+-$DIGEST} \
        -out "$out/$name.pem" 2>/dev/null
}
req p256 -algorithm EC -pkeyopt ec_paramgen_curve:P-256
req p384 -algorithm EC -pkeyopt ec_paramgen_curve:P-384
req rsa2048 -algorithm RSA -pkeyopt rsa_keygen_bits:2048
req ed25519 -algorithm ED25519
req rsa1024 -algorithm RSA -pkeyopt rsa_keygen_bits:1024
req k256 -algorithm EC -pkeyopt ec_paramgen_curve:secp256k1
DIGEST=sha1 req sha1 -algorithm EC -pkeyopt ec_paramgen_curve:P-256
openssl req -in "$out/p256.pem" -outform DER -out "$out/p256.der"
openssl req -in "$out/rsa2048.pem" -outform DER -out "$out/rsa2048.der"
head -c 200 "$out/p384.pem" >"$out/p384_truncated.pem"
python3 - "$out" <<'PY'
import json, sys, os
out = sys.argv[1]
pem = open(os.path.join(out, "p256.pem")).read()
tok = "eyJhbGciOiJFUzI1NiJ9.eyJleHAiOjF9.AAAA"
bodies = {
    "body_token.json": {"profile": "vault", "csr": pem, "token": tok},
    "body_evidence.json": {"profile": "vault", "csr": pem, "evidence": "AwACAAAAAAA=",
                           "nonce": "A" * 43, "vcek": "MAA="},
    "body_both.json": {"profile": "vault", "csr": pem, "token": tok, "evidence": "AAAA"},
    "body_neither.json": {"profile": "vault", "csr": pem},
    "body_bad_profile.json": {"profile": "../x", "csr": pem, "token": tok},
}
for name, b in bodies.items():
    with open(os.path.join(out, name), "w") as f:
        json.dump(b, f)
with open(os.path.join(out, "body_dup.json"), "w") as f:
    f.write('{"profile":"a","profile":"b","csr":"x","token":"t"}')
PY
