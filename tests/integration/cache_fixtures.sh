#!/usr/bin/env bash
# Every real DCAP and SEV-SNP fixture verifies through the collateral cache exactly as from files:
# first filled lazily from the upstream double (which serves only the recorded vendor responses),
# then by a new cache process with the upstream stopped. Served bodies must be byte-identical to
# the vendor's and carry the vendor's headers. Usage: cache_fixtures.sh VERITEE [sqlite|postgres]
set -uo pipefail
veritee=${1:?usage: cache_fixtures.sh VERITEE [sqlite|postgres]}
backend=${2:-sqlite}
here=$(cd "$(dirname "$0")" && pwd)
support="$here/../support"
tmp=$(mktemp -d)
chmod 755 "$tmp"
source "$support/cache_lib.sh"
source "$support/pg.sh"
trap cleanup EXIT

fixtures=${VERITEE_FIXTURES:-${VT_FIXTURES:-${VT_FIXTURES_DEFAULT:-}}}
if [ -z "$fixtures" ] || [ ! -d "$fixtures/dcap" ]; then
    if [ "${CI:-}" = true ]; then
        echo "FAIL: fixtures not found (set VERITEE_FIXTURES); CI requires them"
        echo "0 passed, 1 failed"
        exit 1
    fi
    echo "SKIP: fixtures not found (set VERITEE_FIXTURES)"
    echo "0 passed, 0 failed"
    exit 0
fi

ndb=0
new_db() { # set db to a fresh database URL for this backend
    ndb=$((ndb + 1))
    if [ "$backend" = postgres ]; then
        runuser_pg createdb -h 127.0.0.1 -p "$PG_PORT" -U veritee "vt$ndb" || return 1
        db="postgres://veritee@127.0.0.1:$PG_PORT/vt$ndb"
    else
        db="sqlite:$tmp/cache$ndb.db"
    fi
}
runuser_pg() {
    local bin
    bin=$(pg_bin)
    local cmd=$1
    shift
    pg_as "$bin/$cmd" "$@"
}
if [ "$backend" = postgres ]; then
    pg_start "$tmp/pg" || { echo "0 passed, 1 failed"; exit 1; }
fi

# Response headers of a GET, one "name: value" per line, lowercased names, CRs removed.
headers_of() {
    curl -s -D - -o "$2" "$1" | tr -d '\r' | awk -F': ' 'NR > 1 && NF >= 2 { print tolower($1) ": " substr($0, length($1) + 3) }'
}
same_header() { # same_header NAME FILE_A FILE_B
    local a b
    a=$(grep -i "^$1: " "$2")
    b=$(grep -i "^$1: " "$3")
    [ -n "$a" ] && [ "$a" = "$b" ]
}

# ---- DCAP: one cache per set, at the set's verification time ----
for dir in "$fixtures"/dcap/*/*/; do
    dir=${dir%/}
    [ -f "$dir/qe_identity.json" ] && [ -f "$dir/pck_crl.der" ] || continue
    name=${dir#"$fixtures/dcap/"}
    at=$(json_field "$dir/expected.json" verification_time)
    want=$("$veritee" verify --collateral "$dir" --at "$at" "$dir/quote.bin" 2>&1)
    new_db || { bad "$name: database"; continue; }
    start_double "$at" || { bad "$name: double"; continue; }
    start_cache "$tmp/cache.log" --db "$db" --upstream "$DOUBLE_URL" --now "$at" \
        --refresh-interval 0 --upstream-timeout 3000 || { bad "$name: cache"; continue; }
    got=$("$veritee" verify --collateral "$CACHE_URL" --at "$at" "$dir/quote.bin" 2>&1)
    check "$name: lazy fill verifies as from files" [ "$got" = "$want" ]
    [ "$got" = "$want" ] || { echo " want: ${want:0:300}"; echo " got:  ${got:0:300}"; }

    # Bodies and headers as the vendor sends them.
    tee=tdx
    grep -q '"id":"SGX"\|"tcbInfo":{"version":2' "$dir/tcb_info.json" && tee=sgx
    grep -q '"id":"SGX"' "$dir/tcb_info.json" && tee=sgx
    fmspc=$(grep -o '"fmspc":"[0-9A-Fa-f]*"' "$dir/tcb_info.json" | head -1 | cut -d'"' -f4)
    ca=platform
    if grep -q "Processor" "$dir/pck_crl_issuer_chain.pem" 2>/dev/null ||
        openssl crl -inform DER -in "$dir/pck_crl.der" -noout -issuer 2>/dev/null | grep -q Processor; then
        ca=processor
    fi
    for p in "$tee/certification/v4/tcb?fmspc=$fmspc|tcb_info.json|TCB-Info-Issuer-Chain" \
        "$tee/certification/v4/qe/identity|qe_identity.json|SGX-Enclave-Identity-Issuer-Chain" \
        "sgx/certification/v4/pckcrl?ca=$ca&encoding=der|pck_crl.der|SGX-PCK-CRL-Issuer-Chain"; do
        IFS='|' read -r path file hdr <<<"$p"
        headers_of "$DOUBLE_URL/$path" "$tmp/vendor.body" >"$tmp/vendor.hdr"
        headers_of "$CACHE_URL/$path" "$tmp/cache.body" >"$tmp/cache.hdr"
        check "$name: $file body byte-identical" cmp -s "$tmp/cache.body" "$dir/$file"
        check "$name: $file header $hdr as the vendor's" same_header "$hdr" "$tmp/vendor.hdr" "$tmp/cache.hdr"
        check "$name: $file content type as the vendor's" same_header content-type "$tmp/vendor.hdr" "$tmp/cache.hdr"
        check "$name: $file has a Request-ID" grep -qi '^request-id: [0-9a-f]\{32\}$' "$tmp/cache.hdr"
    done
    headers_of "$CACHE_URL/sgx/certification/v4/pckcrl?ca=$ca&encoding=pem" "$tmp/cache.body" >"$tmp/cache.hdr"
    headers_of "$DOUBLE_URL/sgx/certification/v4/pckcrl?ca=$ca" "$tmp/vendor.body" >"$tmp/vendor.hdr"
    check "$name: pckcrl?encoding=pem PEM as the vendor's" cmp -s "$tmp/cache.body" "$tmp/vendor.body"
    # without encoding=, PCCS's form: hex text of the DER
    headers_of "$CACHE_URL/sgx/certification/v4/pckcrl?ca=$ca" "$tmp/cache.body" >"$tmp/cache.hdr"
    check "$name: pckcrl without encoding hex as PCCS sends it" \
        [ "$(cat "$tmp/cache.body")" = "$(od -An -v -tx1 "$dir/pck_crl.der" | tr -d ' \n')" ]

    # The upstream goes away; a new cache process on the same store still serves everything.
    stop_pid "$DOUBLE_PID"
    stop_pid "$CACHE_PID"
    # (Its clock starts a few seconds early: some sets' verification time is one second before
    # a nextUpdate, and an item past nextUpdate is rightly renewed first.)
    start_cache "$tmp/cache.log" --db "$db" --upstream "$DOUBLE_URL" --now "$((at - 5))" \
        --refresh-interval 0 --upstream-timeout 1000 --retries 0 || { bad "$name: cache 2"; continue; }
    got=$("$veritee" verify --collateral "$CACHE_URL" --at "$at" "$dir/quote.bin" 2>&1)
    check "$name: upstream stopped, verifies as from files" [ "$got" = "$want" ]
    hits=$(curl -s "$CACHE_URL/metrics" | awk '/^veritee_cache_upstream_requests_total/ {print $2}')
    check "$name: no upstream request when everything is held" [ "$hits" = 0 ]
    stop_pid "$CACHE_PID"
done

# ---- SEV-SNP: one cache for every report (VCEKs are valid for years) ----
snp_exp="$fixtures/snp/expected.json"
new_db
start_double 1750000000 && start_cache "$tmp/cache.log" --db "$db" --upstream "$DOUBLE_URL" \
    --refresh-interval 0 || bad "snp: servers"
awk -F'"' '/"report":/{r=$4} /"vek":/{v=$4} /"vek_not_before":/{ if (r != "") print r "|" v "|" $4; r="" }' \
    "$snp_exp" >"$tmp/snp.list"
echo "trustee-azure/hcl-report.bin|trustee-azure/vcek.pem|2025-06-01 00:00:00" >>"$tmp/snp.list"
echo "trustee-azure/derived/genoa-hcl-report.bin|trustee-azure/vcek-genoa.pem|2025-06-01 00:00:00" >>"$tmp/snp.list"
snp_round() { # snp_round LABEL
    while IFS='|' read -r report vek from; do
        at=$(echo "$from" | sed -E 's/ /T/; s/$/Z/; s/ZZ$/Z/')
        want=$("$veritee" verify --at "$at" --vcek "$fixtures/snp/$vek" "$fixtures/snp/$report" 2>&1)
        extra=()
        if grep -q vlek <<<"$vek"; then
            extra=(--vcek "$fixtures/snp/$vek") # KDS does not serve VLEKs: the host gives them
        fi
        got=$("$veritee" verify --at "$at" "${extra[@]}" --collateral "$CACHE_URL" "$fixtures/snp/$report" 2>&1)
        # Equal claims, except the VEK digest and chain when the file carried its own chain.
        w=$(grep -o '"snp.measurement":"[^"]*"\|"verified":[a-z]*\|"snp.reported_tcb[^,]*' <<<"$want")
        g=$(grep -o '"snp.measurement":"[^"]*"\|"verified":[a-z]*\|"snp.reported_tcb[^,]*' <<<"$got")
        check "snp $report: $1" [ -n "$w" ] && [ "$w" = "$g" ] && grep -q '"verified":true' <<<"$got"
        [ -n "$w" ] && [ "$w" = "$g" ] || { echo " want: ${want:0:200}"; echo " got:  ${got:0:300}"; }
    done <"$tmp/snp.list"
}
snp_round "lazy fill verifies as from files"
for prod in milan genoa; do
    P=$(tr '[:lower:]' '[:upper:]' <<<"${prod:0:1}")${prod:1}
    curl -s -o "$tmp/chain" "$CACHE_URL/vcek/v1/$P/cert_chain"
    check "snp: $P cert_chain byte-identical to KDS's" cmp -s "$tmp/chain" "$fixtures/snp/amd-roots/ask_ark_$prod.pem"
done
curl -s -o "$tmp/vcek" "$CACHE_URL/vcek/v1/Milan/$(od -An -tx1 -j 416 -N 64 "$fixtures/snp/go-sev-guest/attestation.bin" | tr -d " \n")?blSPL=2&teeSPL=0&snpSPL=5&ucodeSPL=68"
check "snp: VCEK byte-identical to KDS's" cmp -s "$tmp/vcek" "$fixtures/snp/go-sev-guest/vcek.testcer"
# KDS paths exactly as the clients send them (go-sev-guest kds/kds.go at af1c107: VCEKCertURL,
# ProductCertChainURL by signer; snpguest src/fetch.rs at d3a2aed: request_vcek_kds, request_ca_kds
# with --endorser vcek|vlek), answered from the recorded responses.
kget() { # kget PATH OUT: the status of GET PATH from the cache, body to OUT
    curl -s -o "$2" -w '%{http_code}' "$CACHE_URL$1"
}
for prod in milan genoa turin; do
    P=$(tr '[:lower:]' '[:upper:]' <<<"${prod:0:1}")${prod:1}
    vc=ask_ark_$prod.pem
    [ "$prod" = turin ] && vc=ask_ark_turin_vcek.pem
    check "snp: /vcek/v1/$P/cert_chain as recorded" bash -c \
        "[ \$(curl -s -o $tmp/c -w '%{http_code}' $CACHE_URL/vcek/v1/$P/cert_chain) = 200 ] && cmp -s $tmp/c $fixtures/snp/amd-roots/$vc"
    check "snp: /vlek/v1/$P/cert_chain (VLEK-signed reports) as recorded" bash -c \
        "[ \$(curl -s -o $tmp/c -w '%{http_code}' $CACHE_URL/vlek/v1/$P/cert_chain) = 200 ] && cmp -s $tmp/c $fixtures/snp/amd-roots/ask_ark_${prod}_vlek.pem"
done
chip() { od -An -tx1 -j 416 -N 64 "$1" | tr -d " \n"; }
st=$(kget "/vcek/v1/Milan/$(chip "$fixtures/snp/trustee/test-report.bin")?blSPL=03&teeSPL=00&snpSPL=08&ucodeSPL=115" "$tmp/vcek")
check "snp: snpguest's Milan VCEK URL (SPLs zero-padded): the recorded VCEK ($st)" cmp -s "$tmp/vcek" "$fixtures/snp/trustee/test-vcek.der"
st=$(kget "/vcek/v1/Genoa/$(chip "$fixtures/snp/trustee/derived/e2e-genoa-report.bin")?blSPL=10&teeSPL=00&snpSPL=23&ucodeSPL=25" "$tmp/vcek")
check "snp: snpguest's Genoa VCEK URL: the recorded VCEK ($st)" cmp -s "$tmp/vcek" "$fixtures/snp/trustee/derived/e2e-genoa-vcek.der"
# No Turin report is recorded: the URLs are those of a report with the recorded Turin VCEK's hwID
# (1e550a8ee5cf9f4d) and TCB (fmc 0, bl 0, tee 0, snp 0, ucode 9).
st=$(kget "/vcek/v1/Turin/1e550a8ee5cf9f4d?fmcSPL=00&blSPL=00&teeSPL=00&snpSPL=00&ucodeSPL=09" "$tmp/vcek")
check "snp: snpguest's Turin VCEK URL (8-byte hwID, fmcSPL): the recorded VCEK ($st)" cmp -s "$tmp/vcek" "$fixtures/snp/virtee-sev/vcek_turin.der"
asked=$(curl -s "$DOUBLE_URL/_control/log" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
st=$(kget "/vcek/v1/Turin/1e550a8ee5cf9f4d$(printf '%0112d' 0)?blSPL=0&teeSPL=0&snpSPL=0&ucodeSPL=9" "$tmp/vcek")
check "snp: go-sev-guest's Turin VCEK URL (the whole CHIP_ID): 404 as KDS answers it ($st)" [ "$st" = 404 ]
check "snp: ... without asking the upstream" [ "$(curl -s "$DOUBLE_URL/_control/log" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = "$asked" ]
st=$(kget "/vcek/v1/Milan/crl" "$tmp/crl")
check "snp: no KDS crl is recorded: the upstream's 404 ($st; crl serving: tests/unit/cache/test_cache_kds.c)" [ "$st" = 404 ]
stop_pid "$DOUBLE_PID"
stop_pid "$CACHE_PID"
start_cache "$tmp/cache.log" --db "$db" --upstream "$DOUBLE_URL" --refresh-interval 0 \
    --upstream-timeout 1000 --retries 0 || bad "snp: cache 2"
snp_round "upstream stopped, verifies as from files"

finish
