#!/usr/bin/env bash
# Command-line contract of `veritee verify` and `veritee bench`: JSON on stdout, exit status 0
# verified / 1 not verified / 2 usage or I/O, no crash on any input.
set -uo pipefail
veritee=${1:?usage: verify_cli.sh VERITEE}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0 passes=0

expect() { # expect NAME WANT_STATUS GREP_PATTERN -- command...
    local name=$1 want=$2 pattern=$3
    shift 4
    local out status
    out=$("$@" 2>"$tmp/stderr")
    status=$?
    if [ "$status" -ne "$want" ] || ! grep -qE -- "$pattern" <<<"$out$(cat "$tmp/stderr")"; then
        echo "FAIL $name: status $status (want $want), output: $out $(head -c 300 "$tmp/stderr")"
        fails=$((fails + 1))
    else
        passes=$((passes + 1))
    fi
}

# bench_ok NAME THREADS COLD(0|1) -- command...: exit status 0 and one JSON line whose figures
# are positive numbers, "threads" THREADS, "scaling" a number (null for one thread), the cold
# figures present with --cold only. Never a rate or a ratio compared with anything.
bench_ok() {
    local name=$1 threads=$2 cold=$3
    shift 4
    local out status
    out=$("$@" 2>"$tmp/stderr")
    status=$?
    if [ "$status" -ne 0 ] || ! python3 - "$threads" "$cold" "$out" 2>>"$tmp/stderr" <<'PY'
import json, sys
threads, cold, j = int(sys.argv[1]), sys.argv[2] == "1", json.loads(sys.argv[3])
def number(k):
    v = j[k]
    assert isinstance(v, (int, float)) and not isinstance(v, bool), "%s: %r" % (k, v)
    return v
positive = ["verifications", "seconds", "verifications_per_second",
            "one_thread_verifications_per_second", "verify_per_second", "floor_per_second",
            "floor_threads_per_second", "ratio_to_floor"]
cold_fields = ["cold_verifications", "cold_seconds", "cold_verifications_per_second"]
for k in positive + (cold_fields if cold else []):
    assert number(k) > 0, "%s: %r" % (k, j[k])
for k in cold_fields if not cold else []:
    assert k not in j, "%s without --cold" % k
assert j["threads"] == threads and not isinstance(j["threads"], bool), j["threads"]
if threads > 1:
    assert number("scaling") > 0, j["scaling"]
else:
    assert j["scaling"] is None, j["scaling"]
    assert j["floor_threads_per_second"] == j["floor_per_second"]
assert j["verify_algorithm"] in ("ECDSA P-256", "ECDSA P-384"), j["verify_algorithm"]
assert j["tee"] in ("sgx", "tdx", "nitro", "sev-snp"), j["tee"]
PY
    then
        echo "FAIL $name: status $status (want 0), output: $out $(tail -c 300 "$tmp/stderr")"
        fails=$((fails + 1))
    else
        passes=$((passes + 1))
    fi
}

expect help 0 'Usage: veritee verify' -- "$veritee" verify --help
expect bench-help 0 'Usage: veritee bench' -- "$veritee" bench --help
for field in threads scaling floor_threads_per_second cold_verifications_per_second; do
    expect "bench-help-$field" 0 "^  ([a-z_]+, )*$field( |,|$)" -- "$veritee" bench --help
done
# --threads takes 1 to 64; --threads and --cold are options of bench only.
threads_msg='--threads takes a whole number from 1 to 64, not'
expect bench-threads-0 2 "$threads_msg \"0\"" -- "$veritee" bench --threads 0 /dev/null
expect bench-threads-65 2 "$threads_msg \"65\"" -- "$veritee" bench --threads 65 /dev/null
expect bench-threads-x 2 "$threads_msg \"x\"" -- "$veritee" bench --threads x /dev/null
expect bench-threads-negative 2 "$threads_msg \"-1\"" -- "$veritee" bench --threads -1 /dev/null
expect bench-threads-suffix 2 "$threads_msg \"2x\"" -- "$veritee" bench --threads 2x /dev/null
expect bench-threads-empty 2 "$threads_msg \"\"" -- "$veritee" bench --threads '' /dev/null
expect verify-threads 2 '--threads is an option of bench' -- "$veritee" verify --threads 2 /dev/null
expect verify-cold 2 '--cold is an option of bench' -- "$veritee" verify --cold /dev/null
expect verify-seconds 2 '--seconds is an option of bench' -- "$veritee" verify --seconds 1 /dev/null
expect main-help 0 'Commands:' -- "$veritee" help
expect no-command 2 'Usage' -- "$veritee"
expect unknown-command 2 'unknown command' -- "$veritee" frobnicate
expect no-operand 2 'exactly one EVIDENCE' -- "$veritee" verify
expect bad-option 2 'Usage' -- "$veritee" verify --bogus x
expect missing-file 2 '"code":"VT_E_IO"' -- "$veritee" verify "$tmp/nonexistent"
# Files that cannot be read, or are larger than the limit for their input, are input problems
# (exit status 2) whose error names the file: evidence, --trust-anchor, --vcek, and in bench.
head -c $((1024 * 1024 + 1)) /dev/zero >"$tmp/big.bin"
head -c $((1024 * 1024)) /dev/zero >"$tmp/limit.bin"
ln -s "$tmp/loop" "$tmp/loop"
mkdir "$tmp/adir"
big_detail='"check":"file.size","detail":"[^"]*/big.bin: larger than 1048576 bytes"'
expect evidence-too-large 2 '"code":"VT_E_TOO_LARGE".*'"$big_detail" -- "$veritee" verify "$tmp/big.bin"
expect evidence-at-limit 1 '"code":"VT_E_UNKNOWN_EVIDENCE"' -- "$veritee" verify "$tmp/limit.bin"
expect evidence-loop 2 '"code":"VT_E_IO".*"check":"file.read","detail":"[^"]*/loop: Too many levels' -- \
    "$veritee" verify "$tmp/loop"
expect evidence-directory 2 '"code":"VT_E_IO".*"check":"file.read","detail":"[^"]*/adir: Is a directory' -- \
    "$veritee" verify "$tmp/adir"
expect anchor-too-large 2 '"code":"VT_E_TOO_LARGE".*'"$big_detail" -- \
    "$veritee" verify --trust-anchor "$tmp/big.bin" "$tmp/random.bin"
expect anchor-loop 2 '"code":"VT_E_IO".*"check":"file.read"' -- \
    "$veritee" verify --trust-anchor "$tmp/loop" "$tmp/random.bin"
expect bench-evidence-too-large 2 '"code":"VT_E_TOO_LARGE".*'"$big_detail" -- \
    "$veritee" bench --seconds 0.1 "$tmp/big.bin"
head -c 1000 /dev/urandom >"$tmp/random.bin"
expect unknown-evidence 1 '"code":"VT_E_UNKNOWN_EVIDENCE"' -- "$veritee" verify "$tmp/random.bin"
: >"$tmp/empty.bin"
expect empty-evidence 1 '"verified":false' -- "$veritee" verify "$tmp/empty.bin"
expect bad-time 2 '"code":"VT_E_BAD_TIME"' -- "$veritee" verify --at yesterday "$tmp/random.bin"
# --at takes unix seconds with a fraction (the time parses; the evidence is what fails).
expect at-fraction 1 '"code":"VT_E_UNKNOWN_EVIDENCE"' -- "$veritee" verify --at 1752919277.5 "$tmp/random.bin"
expect at-negative-fraction 1 '"code":"VT_E_UNKNOWN_EVIDENCE"' -- "$veritee" verify --at -0.5 "$tmp/random.bin"
expect at-bad-fraction 2 '"code":"VT_E_BAD_TIME"' -- "$veritee" verify --at 1752919277. "$tmp/random.bin"
expect at-bad-fraction-2 2 '"code":"VT_E_BAD_TIME"' -- "$veritee" verify --at 1.5e3 "$tmp/random.bin"

fixtures=${VERITEE_FIXTURES:-${VT_FIXTURES:-${VT_FIXTURES_DEFAULT:-}}}
if [ -n "$fixtures" ] && [ -d "$fixtures/dcap" ]; then
    set_dir="$fixtures/dcap/phala-dcap-qvl/sgx-v3-fmspc00a067110000"
    expect sgx-verified 0 '"verified":true.*"status":"ConfigurationAndSWHardeningNeeded"' -- \
        "$veritee" verify --collateral "$set_dir" --at 1752919277 "$set_dir/quote.bin"
    expect sgx-rfc3339 0 '"verified":true' -- \
        "$veritee" verify --collateral "$set_dir" --at 2025-07-19T10:01:17Z "$set_dir/quote.bin"
    # Unix seconds with a fraction: the second that contains the instant.
    expect sgx-unix-fraction 0 '"verified":true.*"verified_at":"2025-07-19T10:01:17Z"' -- \
        "$veritee" verify --collateral "$set_dir" --at 1752919277.999 "$set_dir/quote.bin"
    expect sgx-stdin 0 '"verified":true' -- \
        sh -c "'$veritee' verify --collateral '$set_dir' --at 1752919277 - <'$set_dir/quote.bin'"
    xxd_hex() { od -An -v -tx1 "$1" | tr -d ' \n'; }
    xxd_hex "$set_dir/quote.bin" >"$tmp/quote.hex"
    expect sgx-hex-evidence 0 '"verified":true' -- \
        "$veritee" verify --collateral "$set_dir" --at 1752919277 "$tmp/quote.hex"
    expect sgx-expired 1 '"code":"VT_E_EXPIRED".*"detail":"now 2025-07-19T10:01:19Z' -- \
        "$veritee" verify --collateral "$set_dir" --at 1752919279 "$set_dir/quote.bin"
    # The earliest expiration date (the PCK CRL's nextUpdate, 10:01:18) is expired, as in QvE.
    expect sgx-expired-at-edge 1 '"code":"VT_E_EXPIRED".*"detail":"now 2025-07-19T10:01:18Z is at or after not_after 2025-07-19T10:01:18Z' -- \
        "$veritee" verify --collateral "$set_dir" --at 1752919278 "$set_dir/quote.bin"
    expect sgx-expired-at-edge-fraction 1 '"code":"VT_E_EXPIRED"' -- \
        "$veritee" verify --expiry-only --collateral "$set_dir" --at 1752919278.0 "$set_dir/quote.bin"
    expect sgx-not-yet-valid 1 '"code":"VT_E_NOT_YET_VALID"' -- \
        "$veritee" verify --collateral "$set_dir" --at 1750330570 "$set_dir/quote.bin"
    expect sgx-expiry-only 0 '"verified":true' -- \
        "$veritee" verify --expiry-only --collateral "$set_dir" --at 1750330570 "$set_dir/quote.bin"
    expect no-collateral 2 '"code":"VT_E_ARG"' -- "$veritee" verify "$set_dir/quote.bin"
    expect collateral-missing 2 '"code":"VT_E_COLLATERAL_MISSING"' -- \
        "$veritee" verify --collateral "$tmp" "$set_dir/quote.bin"
    # A collateral file too large, or present but unreadable, is named as such (not "missing").
    mkdir -p "$tmp/coll-big" "$tmp/coll-loop"
    cp "$set_dir"/* "$tmp/coll-big/"
    cp "$set_dir"/* "$tmp/coll-loop/"
    cp "$tmp/big.bin" "$tmp/coll-big/tcb_info.json"
    rm "$tmp/coll-loop/qe_identity.json"
    ln -s "$tmp/coll-loop/qe_identity.json" "$tmp/coll-loop/qe_identity.json"
    expect collateral-too-large 2 '"code":"VT_E_TOO_LARGE".*"check":"file.size","detail":"[^"]*/tcb_info.json: larger than 1048576 bytes"' -- \
        "$veritee" verify --collateral "$tmp/coll-big" --at 1752919277 "$set_dir/quote.bin"
    expect collateral-loop 2 '"code":"VT_E_IO".*"check":"file.read","detail":"[^"]*/qe_identity.json: Too many levels' -- \
        "$veritee" verify --collateral "$tmp/coll-loop" --at 1752919277 "$set_dir/quote.bin"
    # Collateral with CRLs as PEM and hex, and URL-encoded issuer chains, gives the same verdict.
    mkdir -p "$tmp/alt"
    cp "$set_dir"/{tcb_info.json,qe_identity.json,qe_identity_issuer_chain.pem} "$tmp/alt/"
    od -An -v -tx1 "$set_dir/pck_crl.der" | tr -d ' \n' >"$tmp/alt/pck_crl.hex"
    { echo "-----BEGIN X509 CRL-----"; base64 -w 64 "$set_dir/root_ca_crl.der"; echo "-----END X509 CRL-----"; } >"$tmp/alt/root_ca_crl.pem"
    sed -e 's/ /%20/g' "$set_dir/tcb_info_issuer_chain.pem" | sed -e ':a;N;$!ba;s/\n/%0A/g' >"$tmp/alt/tcb_info_issuer_chain.pem"
    expect alt-encodings 0 '"verified":true.*"status":"ConfigurationAndSWHardeningNeeded"' -- \
        "$veritee" verify --collateral "$tmp/alt" --at 1752919277 "$set_dir/quote.bin"
    # A synthetic root cannot stand in for Intel's: the quote's chain still needs Intel's root.
    head -c 100 "$set_dir/quote.bin" >"$tmp/truncated.bin"
    expect truncated 1 '"code":"VT_E_TRUNCATED"' -- \
        "$veritee" verify --collateral "$set_dir" --at 1752919277 "$tmp/truncated.bin"
    set5="$fixtures/dcap/phala-dcap-qvl/tdx-v5-fmspc90c06f000000-tcb-not-supported"
    expect not-supported 1 '"code":"VT_E_TCB_NOT_SUPPORTED"' -- \
        "$veritee" verify --collateral "$set5" --at 1772707803 "$set5/quote.bin"
    expect bench 0 '"verifications_per_second":[0-9]' -- \
        "$veritee" bench --seconds 0.2 --collateral "$set_dir" --at 1752919277 "$set_dir/quote.bin"
    bench_ok bench-fields 1 0 -- \
        "$veritee" bench --seconds 0.2 --collateral "$set_dir" --at 1752919277 "$set_dir/quote.bin"
    bench_ok bench-threads-cold 2 1 -- "$veritee" bench --threads 2 --cold --seconds 0.2 \
        --collateral "$set_dir" --at 1752919277 "$set_dir/quote.bin"
    bench_ok bench-cold 1 1 -- "$veritee" bench --cold --seconds 0.2 \
        --collateral "$set_dir" --at 1752919277 "$set_dir/quote.bin"
    nitro_doc="$fixtures/nitro/base-nitro-validator/attestation-2024-11-30.cose"
    bench_ok bench-nitro-threads-cold 2 1 -- "$veritee" bench --threads 2 --cold --seconds 0.2 \
        --at 2024-11-30T16:22:50Z "$nitro_doc"
    # Evidence that does not verify: exit status 1 before anything is measured.
    expect bench-threads-not-verified 1 '"error":\{"code":"VT_E_EXPIRED"' -- \
        "$veritee" bench --threads 2 --cold --seconds 0.2 --collateral "$set_dir" \
        --at 1752919279 "$set_dir/quote.bin"
    # Mutated quotes never crash the command (exit 1 with an error object, never a signal).
    for i in $(seq 1 40); do
        cp "$set_dir/quote.bin" "$tmp/mut.bin"
        off=$(( (i * 113) % 4600 ))
        printf '\xff\xff\xff\xff' | dd of="$tmp/mut.bin" bs=1 seek="$off" conv=notrunc 2>/dev/null
        expect "mutation-$off" 1 '"verified":false' -- \
            "$veritee" verify --collateral "$set_dir" --at 1752919277 "$tmp/mut.bin"
    done
elif [ "${CI:-}" = "true" ]; then
    echo "FAIL fixtures folder not found under CI=true"
    fails=$((fails + 1))
else
    echo "fixtures not found: skipping the fixture cases (set VERITEE_FIXTURES)"
fi

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
