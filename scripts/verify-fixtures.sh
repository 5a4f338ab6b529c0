#!/usr/bin/env bash
# Verify every complete DCAP fixture set with `veritee verify` at its expected.json time and
# compare the verdict with the expectation. Usage: verify-fixtures.sh VERITEE_BINARY
set -uo pipefail
veritee=${1:?usage: verify-fixtures.sh VERITEE_BINARY}
fixtures=${VERITEE_FIXTURES:-${VT_FIXTURES:-$(dirname "$0")/../../shared/fixtures}}
if [ ! -d "$fixtures/dcap" ]; then
    echo "fixtures not found at $fixtures (set VERITEE_FIXTURES)" >&2
    exit 2
fi

# Value of a scalar member of a one-object JSON file, without a JSON tool.
json_scalar() { tr -d '\n' <"$1" | grep -o "\"$2\": *[^,}]*" | head -n 1 | sed -E 's/^[^:]*: *"?([^"]*)"?$/\1/'; }
json_strings() { tr -d '\n ' <"$1" | grep -o "\"$2\":\[[^]]*\]" | head -n 1 | sed -E 's/^[^[]*\[//; s/\]$//; s/"//g'; }

pass=0 fail=0
printf '%-62s %-4s %-34s %-34s %s\n' "fixture set" "tee" "expected" "veritee" "result"
for exp in "$fixtures"/dcap/*/*/expected.json; do
    dir=$(dirname "$exp")
    name=${dir#"$fixtures"/dcap/}
    [ -f "$dir/qe_identity.json" ] && [ -f "$dir/pck_crl.der" ] || continue
    at=$(json_scalar "$exp" verification_time)
    want=$(json_scalar "$exp" status | cut -d' ' -f1)
    want_adv=$(json_strings "$exp" advisory_ids)
    out=$("$veritee" verify --collateral "$dir" --at "$at" "$dir/quote.bin")
    tee=$(echo "$out" | grep -o '"tee":"[^"]*"' | head -n 1 | cut -d'"' -f4)
    if echo "$out" | grep -q '"verified":true'; then
        got=$(echo "$out" | grep -o '"status":"[^"]*"' | head -n 1 | cut -d'"' -f4)
        got_adv=$(echo "$out" | grep -o '"advisory_ids":\[[^]]*\]' | sed -E 's/^[^[]*\[//; s/\]$//; s/"//g')
    else
        got=$(echo "$out" | grep -o '"code":"[^"]*"' | cut -d'"' -f4)
        got_adv=""
        [ "$got" = "VT_E_TCB_NOT_SUPPORTED" ] && got=TCB_NOT_SUPPORTED
    fi
    if [ "$got" = "$want" ] && [ "$got_adv" = "$want_adv" ]; then
        result=ok pass=$((pass + 1))
    else
        result=MISMATCH fail=$((fail + 1))
    fi
    shown=$got
    [ -n "$got_adv" ] && shown="$got [$got_adv]"
    printf '%-62s %-4s %-34s %-34s %s\n' "$name" "${tee:--}" "$want" "$shown" "$result"
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
