#!/usr/bin/env bash
# Intel's PCCS clients against the cache, each request exactly as the client builds it (learnt
# from the clients' sources):
#  - QCNL, the QPL's network library (QuoteGeneration/qcnl/certification_service.cpp,
#    build_*_options): uppercase hex, update= as configured, encrypted_ppid=00..0 when it has no
#    PPID, pckcrl and rootcacrl in PCCS API 3.0 (hex) and 3.1 (encoding=der, crl?uri=) form,
#    customParameter, appraisalpolicy; and its v3 form (pccs_url .../sgx/certification/v3/).
#  - PCKIDRetrievalTool (tools/PCKRetrievalTool: network_wrapper.cpp, utility.cpp): POST
#    platforms with its JSON text, Content-Type and user-token headers, ?update=.
#  - The PCCS admin tool (tools/PccsAdminTool/pccsadmin.py): GET platforms?source=, PUT
#    platformcollateral (its collateral file, tests/support/pccs_upload.py), POST refresh, PUT
#    appraisalpolicy, all with admin-token.
#  - Phala's dcap-qvl (src/collateral.rs) fetching from a PCCS URL: pckcrl?...&encoding=der, tcb
#    without update, rootcacrl hex-decoded, pckcert with uppercase hex checking SGX-TCBm.
# The upstream is tests/support/upstream_double.py (recorded Intel responses only).
# Usage: cache_pccs.sh VERITEE [sqlite|postgres]
set -uo pipefail
veritee=${1:?usage: cache_pccs.sh VERITEE [sqlite|postgres]}
backend=${2:-sqlite}
here=$(cd "$(dirname "$0")" && pwd)
support="$here/../support"
tmp=$(mktemp -d)
chmod 755 "$tmp" # the PostgreSQL server runs as another user
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
    echo "SKIP: fixtures not found"
    echo "0 passed, 0 failed"
    exit 0
fi

ndb=0
new_db() { # set db to a fresh database URL for this backend
    ndb=$((ndb + 1))
    if [ "$backend" = postgres ]; then
        pg_as "$(pg_bin)/createdb" -h 127.0.0.1 -p "$PG_PORT" -U veritee "vt$ndb" || return 1
        db="postgres://veritee@127.0.0.1:$PG_PORT/vt$ndb"
    else
        db="sqlite:$tmp/cache$ndb.db"
    fi
}
if [ "$backend" = postgres ]; then
    pg_start "$tmp/pg" || { echo "0 passed, 1 failed"; exit 1; }
fi

ali="$fixtures/dcap/automata-dcap-attestation/tdx-v5-fmspc90c06f000000-alibaba"
aut="$fixtures/dcap/automata-dcap-attestation/sgx-v3-fmspc00606a000000"
bodies="$fixtures/dcap/automata-dcap-attestation/pcs-bodies"
phala="$fixtures/dcap/phala-dcap-qvl/sgx-v3-fmspc00a067110000"
t_ali=1749945600 # inside the alibaba set's window, and the recorded v3 (0625) documents'
log="$tmp/cache.log"
get() { curl -s -o "$tmp/body" -D "$tmp/hdr" -w '%{http_code}' "$@"; }
hdr() { grep -i "^$1:" "$tmp/hdr" | head -1 | cut -d' ' -f2- | tr -d '\r'; }
hexof() { od -An -v -tx1 "$1" | tr -d ' \n'; }
items() { curl -s "$CACHE_URL/healthz" | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"])'; }
zeros=$(printf '0%.0s' $(seq 1 768))
eppid=$(printf 'AB%.0s' $(seq 1 384))
# The alibaba platform's TCB as its PCK certificate gives it (QCNL writes uppercase hex).
read -r ali_tcbm ali_fmspc ali_pceid < <(python3 "$support/pccs_upload.py" "$ali" --qe-id 00 \
    --enc-ppid 00 2>&1 >/dev/null)
cpusvn=${ali_tcbm:0:32}
pcesvn=${ali_tcbm:32:4}
qeid=00112233445566778899AABBCCDDEEFF

start_double "$t_ali" || { echo "0 passed, 1 failed"; exit 1; }
new_db || { echo "0 passed, 1 failed"; exit 1; }
admin=$("$veritee" cache token --db "$db" --role admin)
reader=$("$veritee" cache token --db "$db" --role read)
# PCKIDRetrievalTool keeps its token in network_setting.conf ("user_token = ..."); the operator
# gives veritee the same value, so the tool's configuration stays as it is.
printf 'PCCS_URL=https://pccs.example:8081/sgx/certification/v4/platforms\nUSE_SECURE_CERT=FALSE\nuser_token = Pccs-Password-0123\n' \
    >"$tmp/network_setting.conf"
tool_token=$(sed -n 's/^[[:space:]]*user_token[[:space:]]*=//Ip' "$tmp/network_setting.conf" | tr -d '[:space:]')
printf '%s\n' "$tool_token" >"$tmp/user_token"
check "token --role user --value-file" "$veritee" cache token --db "$db" --role user \
    --value-file "$tmp/user_token"
printf 'short\n' >"$tmp/short_token"
check "a chosen token from a missing file is refused" \
    bash -c "! '$veritee' cache token --db '$db' --role user --value-file '$tmp/none' 2>/dev/null"
check "a chosen token under 8 characters is refused" \
    bash -c "! '$veritee' cache token --db '$db' --role user --value-file '$tmp/short_token' 2>/dev/null"
start_cache "$log" --db "$db" --upstream "$DOUBLE_URL" --now "$t_ali" --refresh-interval 0
U="$CACHE_URL/sgx/certification/v4"
T="$CACHE_URL/tdx/certification/v4"
D="$DOUBLE_URL/sgx/certification/v4"
curl -s -o "$tmp/root.der" "$DOUBLE_URL/IntelSGXRootCA.der"
curl -s -o "$tmp/pckcrl.der" "$D/pckcrl?ca=platform&encoding=der"

# ---- pckcert by QE ID, before and after PCKIDRetrievalTool registers the platform ----
qcnl_pck="$U/pckcert?qeid=$qeid&encrypted_ppid=$zeros&cpusvn=$cpusvn&pcesvn=$pcesvn&pceid=$ali_pceid"
st=$(get "$qcnl_pck")
check "QCNL pckcert, unregistered QE ID, zero PPID: 404 as PCCS (got $st)" [ "$st" = 404 ]
check "the 404 says why" grep -qi '^Error-Message: no platform with QE ID' "$tmp/hdr"
st=$(get "$U/pckcert?qeid=$qeid&cpusvn=$cpusvn&pcesvn=$pcesvn&pceid=$ali_pceid")
check "pckcert, unregistered QE ID, no PPID: 400 as PCCS (got $st)" [ "$st" = 400 ]
# generate_json_message_body (enclave mode): uppercase hex, " ," separators
body="{\"enc_ppid\": \"$eppid\" ,\"pce_id\": \"$ali_pceid\" ,\"cpu_svn\": \"$cpusvn\" ,\"pce_svn\": \"$pcesvn\" ,\"qe_id\": \"$qeid\" ,\"platform_manifest\": \"\" }"
st=$(get -X POST -H "Content-Type: application/json" -H "user-token: wrong-password-000" \
    --data "$body" "$U/platforms")
check "PCKIDRetrievalTool with a wrong user-token: 401 (got $st)" [ "$st" = 401 ]
st=$(get -X POST -H "Content-Type: application/json" -H "user-token: $reader" --data "$body" \
    "$U/platforms")
check "a read token is no user-token: 401 (got $st)" [ "$st" = 401 ]
st=$(get -X POST -H "Content-Type: application/json" -H "user-token: $tool_token" \
    --data "$body" "$U/platforms?update=early")
check "PCKIDRetrievalTool registration (?update=early): 200, the only success it knows (got $st)" \
    [ "$st" = 200 ]
check "registration fetched the PCK certificate and collateral" \
    grep -q '"pckcert":"cached".*"held":[1-9]' "$tmp/body"
st=$(get -X POST -H "user-token: $tool_token" --data "$body" "$U/platforms?update=sometimes")
check "registration with a bad update=: 400 (got $st)" [ "$st" = 400 ]
manifest="{\"pce_id\": \"0000\" ,\"qe_id\": \"$qeid\" ,\"platform_manifest\": \"ABCD\" }"
st=$(get -X POST -H "user-token: $tool_token" --data "$manifest" "$U/platforms")
check "registration by platform manifest alone (non-enclave mode): 400 (got $st)" [ "$st" = 400 ]
check "the 400 says manifest registration is not supported" grep -q 'platform manifest' "$tmp/body"

st=$(get "$qcnl_pck")
check "QCNL pckcert by QE ID with a zero PPID, registered: 200 (got $st)" [ "$st" = 200 ]
check "SGX-TCBm is the certificate's TCB" [ "$(hdr SGX-TCBm | tr a-f A-F)" = "$ali_tcbm" ]
check "SGX-FMSPC as PCS sends it" [ "$(hdr SGX-FMSPC)" = "$ali_fmspc" ]
check "SGX-PCK-Certificate-Issuer-Chain sent" [ -n "$(hdr SGX-PCK-Certificate-Issuer-Chain)" ]
cp "$tmp/body" "$tmp/pck.pem"
curl -s -o "$tmp/vendor.pem" "$D/pckcert?encrypted_ppid=$eppid&cpusvn=$cpusvn&pcesvn=$pcesvn&pceid=$ali_pceid"
check "the PCK certificate as PCS sends it" cmp -s "$tmp/pck.pem" "$tmp/vendor.pem"
st=$(get "$U/pckcert?qeid=$qeid&cpusvn=$cpusvn&pcesvn=$pcesvn&pceid=$ali_pceid")
check "pckcert with only qeid, registered: 200 (got $st)" [ "$st" = 200 ]
st=$(get "$CACHE_URL/sgx/certification/v3/pckcert?qeid=$qeid&encrypted_ppid=$zeros&cpusvn=$cpusvn&pcesvn=$pcesvn&pceid=$ali_pceid")
check "QCNL on the v3 API, pckcert by QE ID: 200 (got $st)" [ "$st" = 200 ]
# QCNL's custom_request_options.get_cert.params: extra arguments PCCS ignores
st=$(get "$qcnl_pck&param1=value1&customParameter=QUJD%2BREVG%3D")
check "QCNL pckcert with custom parameters: 200 (got $st)" [ "$st" = 200 ]

# ---- QCNL's collateral requests ----
st=$(get "$T/tcb?fmspc=$ali_fmspc&update=standard")
check "QCNL tcb (TDX): 200 (got $st)" [ "$st" = 200 ]
check "QCNL tcb: the recorded body" cmp -s "$tmp/body" "$ali/tcb_info.json"
check "QCNL tcb: TCB-Info-Issuer-Chain" [ -n "$(hdr TCB-Info-Issuer-Chain)" ]
st=$(get "$T/tcb?fmspc=$ali_fmspc&update=STANDARD")
check "update=STANDARD in capitals: 200 as PCCS (got $st)" [ "$st" = 200 ]
check "update=STANDARD: the standard document" cmp -s "$tmp/body" "$ali/tcb_info.json"
st=$(get "$T/qe/identity?update=Standard&customParameter=QUJD")
check "QCNL qe/identity (TDX), customParameter: 200 (got $st)" [ "$st" = 200 ]
check "QCNL qe/identity: the recorded body" cmp -s "$tmp/body" "$ali/qe_identity.json"
st=$(get "$U/pckcrl?ca=platform")
check "QCNL pckcrl (API 3.0): 200 (got $st)" [ "$st" = 200 ]
check "pckcrl without encoding: hex of the DER, as PCCS sends it" \
    [ "$(cat "$tmp/body")" = "$(hexof "$tmp/pckcrl.der")" ]
check "pckcrl without encoding: PCCS's content type" [ "$(hdr Content-Type)" = application/x-pem-file ]
check "pckcrl: SGX-PCK-CRL-Issuer-Chain" [ -n "$(hdr SGX-PCK-CRL-Issuer-Chain)" ]
st=$(get "$U/pckcrl?ca=platform&encoding=der")
check "QCNL pckcrl (API 3.1, encoding=der): the DER" cmp -s "$tmp/body" "$tmp/pckcrl.der"
st=$(get "$U/pckcrl?ca=platform&encoding=pem")
check "pckcrl?encoding=pem: PEM (as PCS)" grep -q '^-----BEGIN X509 CRL-----' "$tmp/body"
st=$(get "$U/rootcacrl")
check "QCNL rootcacrl (API 3.0): 200 (got $st)" [ "$st" = 200 ]
check "rootcacrl: hex of the DER, as PCCS sends it" [ "$(cat "$tmp/body")" = "$(hexof "$tmp/root.der")" ]
check "rootcacrl: application/pkix-crl" [ "$(hdr Content-Type)" = application/pkix-crl ]
# API 3.1: crl?uri= with the root CA certificate's CDP, appended unencoded
st=$(get "$U/crl?uri=https://certificates.trustedservices.intel.com/IntelSGXRootCA.der")
check "QCNL crl?uri=<root CA CDP> (API 3.1): 200 (got $st)" [ "$st" = 200 ]
check "crl?uri=: the root CA CRL in DER" cmp -s "$tmp/body" "$tmp/root.der"
st=$(get "$U/crl?uri=https%3A%2F%2Fapi.trustedservices.intel.com%2Fsgx%2Fcertification%2Fv4%2Fpckcrl%3Fca%3Dplatform%26encoding%3Dder")
check "crl?uri=<PCK CRL CDP, encoded>: the DER" cmp -s "$tmp/body" "$tmp/pckcrl.der"
st=$(get "$U/crl?uri=https://certificates.trustedservices.intel.com.example.org/IntelSGXRootCA.der")
check "crl?uri= of another host: 400 (got $st)" [ "$st" = 400 ]
check "the 400 names the uri" grep -qi '^Error-Message: uri https://certificates' "$tmp/hdr"
st=$(get "$U/crl")
check "crl without uri: 400 (got $st)" [ "$st" = 400 ]

# ---- appraisal policies (QCNL's get_default_platform_policy; pccsadmin put) ----
st=$(get "$U/appraisalpolicy?fmspc=$ali_fmspc")
check "QCNL appraisalpolicy, none held: 404 (got $st)" [ "$st" = 404 ]
st=$(get "$U/appraisalpolicy?fmspc=90C06F")
check "appraisalpolicy with a short fmspc: 400 (got $st)" [ "$st" = 400 ]
jwt() { # jwt CLASS_ID: a policy JWT as Intel's appraisal policies are shaped (unsigned here)
    python3 - "$1" <<'EOF'
import base64, json, sys
b = lambda o: base64.urlsafe_b64encode(json.dumps(o).encode()).rstrip(b"=").decode()
pp = json.dumps({"policy_array": [{"environment": {"class_id": sys.argv[1]}, "reference": {}}]})
print(b({"alg": "none"}) + "." + b({"policy_payload": pp}) + ".c2ln")
EOF
}
p1=$(jwt 9eec018b-7481-4b1c-8e1a-9f7c0c8c777f)
p2=$(jwt f708b97f-0fb2-4e6b-8b03-8a5bcd1221d3)
put_policy() { # put_policy JWT DEFAULT: pccsadmin's json.dumps({policy, is_default, fmspc})
    get -X PUT -H "user-agent: pccsadmin/0.1" -H "Content-Type: application/json" \
        -H "admin-token: $admin" \
        --data "{\"policy\": \"$1\", \"is_default\": $2, \"fmspc\": \"$ali_fmspc\"}" \
        "$U/appraisalpolicy"
}
st=$(get -X PUT -H "admin-token: $tool_token" --data "{}" "$U/appraisalpolicy")
check "PUT appraisalpolicy with a user token: 401 (got $st)" [ "$st" = 401 ]
st=$(put_policy "$p1" true)
check "pccsadmin put appraisalpolicy: 200 (got $st)" [ "$st" = 200 ]
check "the answer is the policy ID (SHA-384)" \
    [ "$(cat "$tmp/body")" = "$(printf '%s' "$p1" | sha384sum | cut -d' ' -f1)" ]
st=$(get "$U/appraisalpolicy?fmspc=$(tr A-F a-f <<<"$ali_fmspc")")
check "QCNL appraisalpolicy: 200 (got $st)" [ "$st" = 200 ]
check "appraisalpolicy: the default policy" [ "$(cat "$tmp/body")" = "$p1" ]
put_policy "$p2" false >/dev/null
get "$U/appraisalpolicy?fmspc=$ali_fmspc" >/dev/null
check "a policy that is not default is not served" [ "$(cat "$tmp/body")" = "$p1" ]
put_policy "$p2" true >/dev/null
get "$U/appraisalpolicy?fmspc=$ali_fmspc" >/dev/null
check "a new default replaces the old one, as in PCCS" [ "$(cat "$tmp/body")" = "$p2" ]
st=$(get -X PUT -H "admin-token: $admin" --data "{\"policy\": \"x\", \"is_default\": true, \"fmspc\": \"$ali_fmspc\"}" "$U/appraisalpolicy")
check "a policy that is not a JWT: 400 (got $st)" [ "$st" = 400 ]

# ---- dcap-qvl with a PCCS URL (collateral.rs) ----
st=$(get "$U/pckcrl?ca=platform&encoding=der")
check "dcap-qvl pckcrl: the DER" cmp -s "$tmp/body" "$tmp/pckcrl.der"
st=$(get "$T/tcb?fmspc=$ali_fmspc")
check "dcap-qvl tcb (no update=): the recorded body" cmp -s "$tmp/body" "$ali/tcb_info.json"
check "dcap-qvl finds TCB-Info-Issuer-Chain" [ -n "$(hdr TCB-Info-Issuer-Chain)" ]
st=$(get "$T/qe/identity?update=standard")
check "dcap-qvl qe/identity: the recorded body" cmp -s "$tmp/body" "$ali/qe_identity.json"
st=$(get "$U/rootcacrl")
check "dcap-qvl hex-decodes rootcacrl to the root CA CRL" python3 -c '
import sys; d = bytes.fromhex(open(sys.argv[1]).read()); sys.exit(d != open(sys.argv[2], "rb").read())' \
    "$tmp/body" "$tmp/root.der"
st=$(get "$U/pckcert?qeid=$qeid&encrypted_ppid=$eppid&cpusvn=$cpusvn&pcesvn=$pcesvn&pceid=$ali_pceid")
check "dcap-qvl pckcert (uppercase hex, real PPID): 200 (got $st)" [ "$st" = 200 ]
check "dcap-qvl's SGX-TCBm check: the TCB asked for" [ "$(hdr SGX-TCBm | tr a-f A-F)" = "$cpusvn$pcesvn" ]
out=$("$veritee" verify --collateral "$CACHE_URL" --at "$t_ali" "$ali/quote.bin" 2>&1)
check "veritee's own client still verifies through the cache" grep -q '"verified":true' <<<"$out"

# ---- the v3 API (QCNL with pccs_url .../sgx/certification/v3/) ----
V3="$CACHE_URL/sgx/certification/v3"
curl -s -o /dev/null -X POST "$DOUBLE_URL/_control/reset-log"
st=$(get "$V3/tcb?fmspc=00606A000000&update=standard")
check "v3 tcb: 200 (got $st)" [ "$st" = 200 ]
check "v3 tcb: the recorded version-2 TCB info" cmp -s "$tmp/body" "$bodies/0625_tcbinfo.json"
check "v3 tcb: SGX-TCB-Info-Issuer-Chain, the v3 name" [ -n "$(hdr SGX-TCB-Info-Issuer-Chain)" ]
check "v3 tcb: not the v4 name" [ -z "$(hdr TCB-Info-Issuer-Chain)" ]
check "v3 tcb asked of the upstream at v3" \
    grep -q '/sgx/certification/v3/tcb?fmspc=00606a000000&update=standard' <(curl -s "$DOUBLE_URL/_control/log")
st=$(get "$V3/qe/identity?update=standard")
check "v3 qe/identity: the recorded body" cmp -s "$tmp/body" "$bodies/0625_identity.json"
check "v3 qe/identity: SGX-Enclave-Identity-Issuer-Chain" [ -n "$(hdr SGX-Enclave-Identity-Issuer-Chain)" ]
st=$(get "$V3/pckcrl?ca=platform")
check "v3 pckcrl: hex as on v4" [ "$(cat "$tmp/body")" = "$(hexof "$tmp/pckcrl.der")" ]
st=$(get "$V3/rootcacrl")
check "v3 rootcacrl: hex as on v4" [ "$(cat "$tmp/body")" = "$(hexof "$tmp/root.der")" ]
st=$(get "$V3/crl?uri=https://certificates.trustedservices.intel.com/IntelSGXRootCA.der")
check "v3 crl?uri=: the DER" cmp -s "$tmp/body" "$tmp/root.der"
st=$(get "$V3/tcb?fmspc=00606A000000&tcbEvaluationDataNumber=17")
check "v3 has no tcbEvaluationDataNumber: 400 (got $st)" [ "$st" = 400 ]
st=$(get "$CACHE_URL/tdx/certification/v3/tcb?fmspc=$ali_fmspc")
check "no TDX v3 API, as PCCS: 404 (got $st)" [ "$st" = 404 ]

# ---- the PCCS admin tool: platforms, refresh ----
other="{\"enc_ppid\": \"$eppid\" ,\"pce_id\": \"0000\" ,\"cpu_svn\": \"FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF\" ,\"pce_svn\": \"FFFF\" ,\"qe_id\": \"FFEEDDCCBBAA99887766554433221100\" ,\"platform_manifest\": \"\" }"
st=$(get -X POST -H "Content-Type: application/json" -H "user-token: $tool_token" --data "$other" "$U/platforms")
check "registration of a platform no upstream knows: 404 (got $st)" [ "$st" = 404 ]
st=$(get -H "user-agent: pccsadmin/0.1" -H "admin-token: $admin" "$U/platforms")
check "pccsadmin get (source=reg): 200 (got $st)" [ "$st" = 200 ]
check "pending registrations: the platform whose certificate is not held" \
    grep -q '"qe_id":"FFEEDDCCBBAA99887766554433221100"' "$tmp/body"
check "pending registrations: not the one held" bash -c "! grep -q '$qeid' '$tmp/body'"
check "platform-count header" [ "$(hdr platform-count)" = 1 ]
st=$(get -g -H "admin-token: $admin" "$U/platforms?source=[$ali_fmspc]")
check "pccsadmin get -s [FMSPC]: the cached platform (got $st)" grep -q "\"qe_id\":\"$qeid\"" "$tmp/body"
st=$(get -g -H "admin-token: $admin" "$U/platforms?source=[]")
check "pccsadmin get -s []: every cached platform" grep -q "\"qe_id\":\"$qeid\"" "$tmp/body"
st=$(get -H "admin-token: $admin" "$U/platforms?source=reg_na")
check "pccsadmin get -s reg_na: [] (got $st)" [ "$(cat "$tmp/body")" = "[]" ]
st=$(get -H "admin-token: $admin" "$U/platforms?source=everything")
check "GET platforms with a bad source: 400 (got $st)" [ "$st" = 400 ]
st=$(get -H "user-token: $tool_token" "$U/platforms")
check "GET platforms with the user token: 401 (got $st)" [ "$st" = 401 ]
st=$(get -X DELETE -H "admin-token: $admin" "$U/platforms")
check "DELETE platforms: 405 (got $st)" [ "$st" = 405 ]
st=$(get -X POST -H "user-agent: pccsadmin/0.1" -H "admin-token: $admin" "$U/refresh")
check "pccsadmin refresh: 200 (got $st)" [ "$st" = 200 ]
check "refresh renewed the documents" grep -q '"renewed":[1-9]' "$tmp/body"
st=$(get -X POST -H "admin-token: $admin" "$U/refresh?type=certs&fmspc=$ali_fmspc")
check "pccsadmin refresh -f FMSPC (type=certs): 200 (got $st)" [ "$st" = 200 ]
check "type=certs renewed the PCK certificates of the FMSPC" grep -q '"renewed":[1-9]' "$tmp/body"
st=$(get -H "admin-token: $admin" "$U/refresh?type=all")
check "GET refresh?type=all: 400 (got $st)" [ "$st" = 400 ]
st=$(get -X POST -H "admin-token: $admin" "$U/refresh?type=certs&fmspc=90C06F")
check "refresh with a malformed fmspc list: 400 (got $st)" [ "$st" = 400 ]
st=$(get -X POST -H "user-token: $tool_token" "$U/refresh")
check "refresh with the user token: 401 (got $st)" [ "$st" = 401 ]
# 401 before the body: an upload announced at 50 MB without a token is refused from its head
python3 - "$CACHE_URL" >"$tmp/early" <<'EOF'
import socket, sys, urllib.parse
u = urllib.parse.urlsplit(sys.argv[1])
s = socket.create_connection((u.hostname, u.port), timeout=5)
s.sendall(b"PUT /sgx/certification/v4/platformcollateral HTTP/1.1\r\nHost: x\r\n"
          b"Content-Type: application/json\r\nContent-Length: 50000000\r\n\r\n{")
print(s.recv(4096).split(b"\r\n")[0].decode())
EOF
check "PUT platformcollateral without a token: 401 before the body" grep -q ' 401 ' "$tmp/early"
stop_pid "$CACHE_PID"

# ---- an offline cache filled by pccsadmin put (PUT platformcollateral) ----
at=$(json_field "$phala/expected.json" verification_time)
new_db || { echo "0 passed, 1 failed"; exit 1; }
admin=$("$veritee" cache token --db "$db" --role admin)
start_cache "$log" --db "$db" --mode offline --now "$at"
U="$CACHE_URL/sgx/certification/v4"
pq=0123456789ABCDEF0123456789ABCDEF
raw_cpusvn=0B0B0202FF0100000300000000000000 # above the certificate's TCB level, below the next
python3 "$support/pccs_upload.py" "$phala" --qe-id "$pq" --enc-ppid "$eppid" \
    --raw-cpusvn "$raw_cpusvn" --raw-pcesvn 0E00 >"$tmp/upload.json" 2>"$tmp/upload.tcbm"
read -r ph_tcbm ph_fmspc ph_pceid <"$tmp/upload.tcbm"
put() { # put FILE [PATH]
    get -X PUT -H "user-agent: pccsadmin/0.1" -H "Content-Type: application/json" \
        -H "admin-token: $admin" --data-binary "@$1" "${2:-$U/platformcollateral}"
}
# refused uploads change nothing
python3 - "$tmp/upload.json" "$tmp/bad-sig.json" <<'EOF'
import json, sys
o = json.load(open(sys.argv[1]))
t = o["collaterals"]["tcbinfos"][0]["sgx_tcbinfo"]
t["signature"] = ("0" if t["signature"][0] != "0" else "1") + t["signature"][1:]
json.dump(o, open(sys.argv[2], "w"))
EOF
st=$(put "$tmp/bad-sig.json")
check "an upload with a bad TCB info signature: 400 (got $st)" [ "$st" = 400 ]
check "the 400 names the document" grep -q 'tcb?fmspc=00a067110000' "$tmp/body"
check "a refused upload stores nothing" [ "$(items)" = 0 ]
sed 's/"version": 4/"version": 3/' "$tmp/upload.json" >"$tmp/v3-on-v4.json"
st=$(put "$tmp/v3-on-v4.json")
check "a version 3 file on the v4 API: 400 (got $st)" [ "$st" = 400 ]
python3 "$support/pccs_upload.py" "$phala" --qe-id "$pq" --enc-ppid "$eppid" \
    --raw-cpusvn 0B0B0202FF0000000000000000000000 --raw-pcesvn 0D00 >"$tmp/below.json" 2>/dev/null
st=$(put "$tmp/below.json")
check "a platform below every certificate's TCB: 400 (got $st)" [ "$st" = 400 ]
check "a refused upload stores nothing (2)" [ "$(items)" = 0 ]
st=$(get -X PUT -H "admin-token: $admin" --data "{" "$U/platformcollateral")
check "an upload that is not JSON: 400 (got $st)" [ "$st" = 400 ]
edit() { # edit NAME PYTHON: a copy of the upload changed by PYTHON (on o, the parsed file)
    python3 -c "import json, sys; o = json.load(open(sys.argv[1])); $2; json.dump(o, open(sys.argv[2], 'w'))" \
        "$tmp/upload.json" "$tmp/$1.json"
}
edit type1 'o["collaterals"]["tcbinfos"][0]["sgx_tcbinfo"]["tcbInfo"]["tcbType"] = 1'
st=$(put "$tmp/type1.json")
check "certificate selection on a TCB type other than 0: 400 (got $st)" grep -q 'tcbType 1' "$tmp/body"
edit notcb 'o["collaterals"]["tcbinfos"] = []'
st=$(put "$tmp/notcb.json")
check "certificate selection without the FMSPC's TCB info: 400 (got $st)" grep -q 'TCB info of FMSPC' "$tmp/body"
edit nochain 'o["collaterals"]["certificates"]["SGX-PCK-Certificate-Issuer-Chain"] = {}'
st=$(put "$tmp/nochain.json")
check "a PCK certificate without its CA's chain: 400 (got $st)" grep -q 'SGX-PCK-Certificate-Issuer-Chain.PROCESSOR' "$tmp/body"
edit wrongcrl 'o["collaterals"]["pckcacrl"] = {"platformCrl": o["collaterals"]["pckcacrl"]["processorCrl"]}; o["collaterals"]["certificates"]["SGX-PCK-Certificate-Issuer-Chain"]["PLATFORM"] = o["collaterals"]["certificates"]["SGX-PCK-Certificate-Issuer-Chain"]["PROCESSOR"]'
st=$(put "$tmp/wrongcrl.json")
check "the processor CA's CRL uploaded as the platform CA's: 400 (got $st)" [ "$st" = 400 ]
check "refused uploads store nothing (3)" [ "$(items)" = 0 ]
st=$(put "$tmp/upload.json")
check "pccsadmin put: 200 (got $st)" [ "$st" = 200 ]
check "pccsadmin put: documents imported" grep -q '"imported":[5-9]' "$tmp/body"

qcnl_pck="$U/pckcert?qeid=$pq&encrypted_ppid=$zeros&cpusvn=$raw_cpusvn&pcesvn=0E00&pceid=$ph_pceid"
st=$(get "$qcnl_pck")
check "offline, uploaded platform, QCNL pckcert for its raw TCB: 200 (got $st)" [ "$st" = 200 ]
check "the selected certificate's TCB in SGX-TCBm" [ "$(hdr SGX-TCBm | tr a-f A-F)" = "$ph_tcbm" ]
check "SGX-FMSPC" [ "$(hdr SGX-FMSPC)" = "$ph_fmspc" ]
check "SGX-PCK-Certificate-CA-Type" [ "$(hdr SGX-PCK-Certificate-CA-Type)" = processor ]
st=$(get "$U/pckcert?qeid=$pq&encrypted_ppid=$zeros&cpusvn=${ph_tcbm:0:32}&pcesvn=${ph_tcbm:32:4}&pceid=$ph_pceid")
check "pckcert at the certificate's own TCB: 200 (got $st)" [ "$st" = 200 ]
st=$(get "$U/pckcert?qeid=FEDCBA9876543210FEDCBA9876543210&encrypted_ppid=$zeros&cpusvn=$raw_cpusvn&pcesvn=0E00&pceid=$ph_pceid")
check "offline, unknown QE ID: 461 as PCCS OFFLINE (got $st)" [ "$st" = 461 ]
st=$(get "$U/tcb?fmspc=$ph_fmspc&update=standard")
check "uploaded TCB info served byte for byte" cmp -s "$tmp/body" "$phala/tcb_info.json"
st=$(get "$U/qe/identity?update=standard")
check "uploaded QE identity served byte for byte" cmp -s "$tmp/body" "$phala/qe_identity.json"
st=$(get "$U/pckcrl?ca=processor&encoding=der")
check "uploaded PCK CRL served as DER" cmp -s "$tmp/body" "$phala/pck_crl.der"
st=$(get "$U/rootcacrl")
check "uploaded root CA CRL served as PCCS does (hex)" [ "$(cat "$tmp/body")" = "$(hexof "$phala/root_ca_crl.der")" ]
out=$("$veritee" verify --collateral "$CACHE_URL" --at "$at" "$phala/quote.bin" 2>&1)
check "the quote verifies from the uploaded collateral" grep -q '"status":"ConfigurationAndSWHardeningNeeded"' <<<"$out"
st=$(get -g -H "admin-token: $admin" "$U/platforms?source=[]")
check "the uploaded platform is listed" grep -q "\"qe_id\":\"$pq\"" "$tmp/body"
st=$(get -X POST -H "admin-token: $admin" "$U/refresh")
check "refresh on an offline cache: 503 as PCCS (got $st)" [ "$st" = 503 ]
st=$(get -X POST -H "user-token: x" -H "Content-Type: application/json" --data "$body" "$U/platforms")
check "offline registration without a token: 401 (got $st)" [ "$st" = 401 ]
st=$(get -X POST -H "admin-token: $admin" -H "Content-Type: application/json" --data "$body" "$U/platforms")
check "offline registration (an admin token as user-token's equal): 200, pending (got $st)" \
    grep -q '"pckcert":"pending"' "$tmp/body"

stop_pid "$CACHE_PID"

# the v3 form of the file, on the v3 API: the recorded version-2 TCB info, selection on its levels
start_cache "$log" --db "$db" --mode offline --now "$t_ali"
python3 "$support/pccs_upload.py" "$aut" --api 3 --qe-id "$pq" --enc-ppid "$eppid" \
    --tcbinfo "$bodies/0625_tcbinfo.json" --identity "$bodies/0625_identity.json" \
    --raw-cpusvn 0E0E0303FFFF01000000000000000005 --raw-pcesvn 0D00 >"$tmp/upload3.json" 2>"$tmp/aut.tcbm"
read -r aut_tcbm aut_fmspc aut_pceid <"$tmp/aut.tcbm"
st=$(put "$tmp/upload3.json" "$CACHE_URL/sgx/certification/v3/platformcollateral")
check "pccsadmin put of a v3 file to /v3/: 200 (got $st)" [ "$st" = 200 ]
st=$(get "$CACHE_URL/sgx/certification/v3/tcb?fmspc=$aut_fmspc&update=standard")
check "v3 upload: the version-2 TCB info on /v3/" cmp -s "$tmp/body" "$bodies/0625_tcbinfo.json"
check "v3 upload: SGX-TCB-Info-Issuer-Chain" [ -n "$(hdr SGX-TCB-Info-Issuer-Chain)" ]
st=$(get "$CACHE_URL/sgx/certification/v3/pckcert?qeid=$pq&encrypted_ppid=$zeros&cpusvn=0E0E0303FFFF01000000000000000005&pcesvn=0D00&pceid=$aut_pceid")
check "v3 upload: pckcert selected on the version-2 levels (got $st)" \
    [ "$(hdr SGX-TCBm | tr a-f A-F)" = "$aut_tcbm" ]
stop_pid "$CACHE_PID"

finish
