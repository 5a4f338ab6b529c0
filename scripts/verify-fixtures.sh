#!/usr/bin/env bash
# Verify every complete DCAP fixture set, every Nitro document and every SEV-SNP report with `veritee verify` at its
# expected.json time and compare the verdict with the expectation. Usage: verify-fixtures.sh VERITEE_BINARY
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
# AWS Nitro Enclaves documents: each at the start of its chain window (expected.json lists
# file, module_id, timestamp and window per document, one key per line).
nitro_exp="$fixtures/nitro/expected.json"
if [ -f "$nitro_exp" ]; then
    printf '\n%-62s %-6s %-42s %s\n' "nitro document" "tee" "module_id (expected = veritee)" "result"
    awk -F'"' '/"file":/{f=$4} /"module_id":/{m=$4} /"chain_valid_from_utc":/{print f "|" m "|" $4}' \
        "$nitro_exp" >"${TMPDIR:-/tmp}/vt-nitro-list.$$"
    while IFS='|' read -r file module from; do
        at=$(echo "$from" | sed -E 's/ /T/')
        out=$("$veritee" verify --at "$at" "$fixtures/nitro/$file")
        got=$(echo "$out" | grep -o '"nitro.module_id":"[^"]*"' | cut -d'"' -f4)
        if echo "$out" | grep -q '"verified":true' && [ "$got" = "$module" ]; then
            result=ok pass=$((pass + 1))
        else
            result="MISMATCH $(echo "$out" | grep -o '"detail":"[^"]*"' | head -c 200)"
            fail=$((fail + 1))
        fi
        printf '%-62s %-6s %-42s %s\n' "$file" nitro "$module" "$result"
    done <"${TMPDIR:-/tmp}/vt-nitro-list.$$"
    rm -f "${TMPDIR:-/tmp}/vt-nitro-list.$$"
    bad="$fixtures/nitro/base-nitro-validator/attestation-2026-01-03.as-published.b64"
    if [ -f "$bad" ]; then
        if "$veritee" verify --at 2026-01-03T20:41:07Z "$bad" >/dev/null; then
            result="MISMATCH (verified)" fail=$((fail + 1))
        else
            result="ok (rejected)" pass=$((pass + 1))
        fi
        printf '%-62s %-6s %-42s %s\n' "base-nitro-validator/…as-published.b64 (corrupt)" nitro "-" "$result"
    fi
fi

# AMD SEV-SNP reports: each with its VCEK or VLEK at the VEK's notBefore (the AWS VLEK has
# expired since), compared on the measurement; then the Azure HCL reports, and reports that must
# fail: the synthetic VCEKs without an AMD signature, and a VLEK passed for a VCEK report.
snp_exp="$fixtures/snp/expected.json"
if [ -f "$snp_exp" ]; then
    printf '\n%-62s %-6s %-42s %s\n' "snp report" "tee" "measurement (expected = veritee)" "result"
    awk -F'"' '/"report":/{r=$4} /"vek":/{v=$4} /"measurement":/{m=$4}
        /"vek_not_before":/{ if (r != "") print r "|" v "|" m "|" $4; r="" }' \
        "$snp_exp" >"${TMPDIR:-/tmp}/vt-snp-list.$$"
    snp_check() { # report vek at want-measurement label
        out=$("$veritee" verify --at "$3" --vcek "$fixtures/snp/$2" "$fixtures/snp/$1")
        got=$(echo "$out" | grep -o '"snp.measurement":"[^"]*"' | cut -d'"' -f4)
        debug=$(echo "$out" | grep -o '"debug":[a-z]*' | cut -d: -f2)
        if echo "$out" | grep -q '"verified":true' && [ "$got" = "$4" ]; then
            result="ok" pass=$((pass + 1))
            [ "$debug" = true ] && result="ok (debug policy)"
        else
            result="MISMATCH $(echo "$out" | grep -o '"detail":"[^"]*"' | head -c 200)"
            fail=$((fail + 1))
        fi
        printf '%-62s %-6s %-42s %s\n' "$1" sev-snp "${4:0:16}…" "$result"
    }
    snp_reject() { # report vek label
        if "$veritee" verify --at 2025-06-01T00:00:00Z --vcek "$fixtures/snp/$2" "$fixtures/snp/$1" >/dev/null; then
            result="MISMATCH (verified)" fail=$((fail + 1))
        else
            result="ok (rejected)" pass=$((pass + 1))
        fi
        printf '%-62s %-6s %-42s %s\n' "$3" sev-snp "-" "$result"
    }
    while IFS='|' read -r report vek measurement from; do
        snp_check "$report" "$vek" "$(echo "$from" | sed -E 's/ /T/')" "$measurement"
    done <"${TMPDIR:-/tmp}/vt-snp-list.$$"
    rm -f "${TMPDIR:-/tmp}/vt-snp-list.$$"
    hcl_m1=$(awk -F'"' '/"report": "trustee-azure\/derived\/hcl-report/{f=1} f && /"measurement":/{print $4; exit}' "$snp_exp")
    hcl_m2=$(awk -F'"' '/"report": "trustee-azure\/derived\/genoa-hcl/{f=1} f && /"measurement":/{print $4; exit}' "$snp_exp")
    snp_check trustee-azure/hcl-report.bin trustee-azure/vcek.pem 2025-06-01T00:00:00Z "$hcl_m1"
    snp_check trustee-azure/derived/genoa-hcl-report.bin trustee-azure/vcek-genoa.pem 2025-06-01T00:00:00Z "$hcl_m2"
    snp_reject trustee/test-report.bin trustee/test-vcek-invalid-legacy.der "test-vcek-invalid-legacy.der (no AMD signature)"
    snp_reject trustee/test-report.bin trustee/test-vcek-invalid-new.der "test-vcek-invalid-new.der (no AMD signature)"
    snp_reject trustee/test-report.bin trustee/test-vlek.der "test-report.bin with the VLEK as its VCEK"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
