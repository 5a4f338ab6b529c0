#!/usr/bin/env bash
# Cached GET /sgx/certification/v4/tcb?fmspc=... requests per second and latency with wrk on
# 127.0.0.1, over plain HTTP and TLS, beside the raw floor of the same machine (wrk against the
# same server's /healthz-free static path is not a floor; we print OpenSSL's P-256 verify rate
# measured in the same run as the crypto reference). Usage: cache_wrk.sh VERITEE [SECONDS]
set -euo pipefail
veritee=${1:?usage: cache_wrk.sh VERITEE [SECONDS]}
secs=${2:-10}
here=$(cd "$(dirname "$0")" && pwd)
support="$here/../tests/support"
fixtures=${VERITEE_FIXTURES:-$here/../../shared/fixtures}
tmp=$(mktemp -d)
source "$support/cache_lib.sh"
trap cleanup EXIT
set=$fixtures/dcap/automata-dcap-attestation/sgx-v3-fmspc00606a000000
at=1755236700
path="/sgx/certification/v4/tcb?fmspc=00606A000000"
start_double "$at"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tmp/key.pem" \
    -out "$tmp/cert.pem" -days 1 -subj /CN=127.0.0.1 2>/dev/null
start_cache "$tmp/plain.log" --db "sqlite:$tmp/c.db" --upstream "$DOUBLE_URL" --now "$at" --refresh-interval 0
plain=$CACHE_URL
start_cache "$tmp/tls.log" --db "sqlite:$tmp/c.db" --upstream "$DOUBLE_URL" --now "$at" \
    --refresh-interval 0 --tls-cert "$tmp/cert.pem" --tls-key "$tmp/key.pem"
tls=${CACHE_URL/http:/https:}
curl -sf -o /dev/null "$plain$path"
curl -sfk -o /dev/null "$tls$path"
echo "body: $(curl -s "$plain$path" | wc -c) bytes; $(nproc) CPUs; wrk with 2 threads, 64 connections, ${secs}s"
for url in "$plain" "$tls"; do
    wrk -t2 -c64 -d"${secs}s" --latency "$url$path" >"$tmp/wrk.out"
    rps=$(awk '/Requests\/sec/ {print $2}' "$tmp/wrk.out")
    p99=$(awk '$1 == "99%" {print $2}' "$tmp/wrk.out")
    p50=$(awk '$1 == "50%" {print $2}' "$tmp/wrk.out")
    echo "${url%%:*}: $rps requests/s, p50 $p50, p99 $p99"
done
echo "floor reference: $(openssl speed -seconds 2 ecdsap256 2>/dev/null | awk '/256 bits ecdsa/ {print $7 " P-256 verifies/s (OpenSSL, one core)"}')"
