#!/usr/bin/env bash
# Command-line contract of `veritee policy check|eval` and `veritee verify --policy`: JSON on
# stdout, exit status 0 valid/allowed, 1 denied, 2 invalid policy/claims, usage or I/O.
set -uo pipefail
veritee=${1:?usage: policy_cli.sh VERITEE}
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
        echo "FAIL $name: status $status (want $want), output: $(head -c 600 <<<"$out") $(head -c 300 "$tmp/stderr")"
        fails=$((fails + 1))
    else
        passes=$((passes + 1))
    fi
}

mre=33d8736db756ed4997e04ba358d27833188f1932ff7b1d156904d3f560452fbb
zero64=0000000000000000000000000000000000000000000000000000000000000000

# ---- help and usage ----
expect policy-help 0 'Usage: veritee policy check' -- "$veritee" policy --help
expect check-help 0 'Usage: veritee policy check --policy FILE' -- "$veritee" policy check --help
expect eval-help 0 'Usage: veritee policy eval.*--explain' -- "$veritee" policy eval --help
expect main-help 0 'policy    check' -- "$veritee" help
expect verify-help 0 '--policy FILE' -- "$veritee" verify --help
expect no-subcommand 2 'Usage: veritee policy' -- "$veritee" policy
expect bad-subcommand 2 "unknown policy subcommand 'frob'" -- "$veritee" policy frob
expect check-no-policy 2 '--policy FILE is required' -- "$veritee" policy check
expect eval-no-claims 2 '--claims FILE is required' -- "$veritee" policy eval --policy /dev/null
expect check-claims 2 'takes only --policy' -- "$veritee" policy check --policy x --claims y
expect check-operand 2 "unexpected operand 'extra'" -- "$veritee" policy check --policy x extra
expect bench-policy 2 '--policy is an option of verify' -- \
    "$veritee" bench --policy x --seconds 1 /dev/null

# ---- policy check ----
printf '{"version":1}' >"$tmp/min.json"
sha=$(sha256sum "$tmp/min.json" | cut -d' ' -f1)
expect check-valid 0 "^\\{\"valid\":true,\"policy_sha256\":\"$sha\"\\}$" -- \
    "$veritee" policy check --policy "$tmp/min.json"
expect check-stdin 0 '"valid":true' -- sh -c "'$veritee' policy check --policy - <'$tmp/min.json'"
expect check-missing 2 '"valid":false.*"code":"VT_E_IO"' -- \
    "$veritee" policy check --policy "$tmp/nonexistent.json"
check_bad() { # check_bad NAME CODE CHECK JSON
    printf '%s' "$4" >"$tmp/bad.json"
    expect "check-$1" 2 "\"valid\":false.*\"code\":\"$2\".*\"check\":\"$3\"" -- \
        "$veritee" policy check --policy "$tmp/bad.json"
}
check_bad syntax VT_E_BAD_JSON '\$' '{"version":1'
check_bad no-version VT_E_MISSING_FIELD version '{}'
check_bad version-2 VT_E_UNSUPPORTED_VERSION version '{"version":2}'
check_bad unknown-member VT_E_BAD_FIELD rulez '{"version":1,"rulez":{}}'
check_bad unknown-claim VT_E_BAD_FIELD 'rules\.allOf\[1\]\.anyOf\[0\]\.claim' \
    '{"version":1,"rules":{"allOf":[{"claim":"debug","equals":false},{"anyOf":[{"claim":"sgx.mrenclav","exists":true}]}]}}'
check_bad two-ops VT_E_BAD_FIELD 'rules\.lte' '{"version":1,"rules":{"claim":"sgx.isv_svn","gte":1,"lte":2}}'
check_bad empty-allof VT_E_BAD_FIELD 'rules\.allOf' '{"version":1,"rules":{"allOf":[]}}'
check_bad hex-length VT_E_BAD_LENGTH 'rules\.in\[0\]' '{"version":1,"rules":{"claim":"sgx.mrenclave","in":["abcd"]}}'
check_bad gte-hex VT_E_BAD_FIELD 'rules\.gte' "{\"version\":1,\"rules\":{\"claim\":\"sgx.mrenclave\",\"gte\":\"$mre\"}}"
check_bad status-name VT_E_BAD_FIELD 'acceptStatus\[0\]' '{"version":1,"acceptStatus":["Fine"]}'
printf '{"version":1,"rules":{"claim":"sgx.mrenclav","exists":true}}' >"$tmp/bad.json"
expect check-stderr 2 'rules.claim: unknown claim "sgx.mrenclav"; did you mean "sgx.mrenclave"' -- \
    "$veritee" policy check --policy "$tmp/bad.json"

# ---- policy eval on synthetic claims ----
cat >"$tmp/claims.json" <<EOF
{"tee":"sgx","status":"UpToDate","advisory_ids":[],"debug":false,"sgx.mrenclave":"$mre","sgx.isv_svn":5}
EOF
cat >"$tmp/allow.json" <<EOF
{"version":1,"rules":{"allOf":[{"claim":"tee","equals":"sgx"},{"claim":"sgx.mrenclave","in":["${mre^^}"]},{"claim":"sgx.isv_svn","gte":5}]}}
EOF
cat >"$tmp/deny.json" <<EOF
{"version":1,"rules":{"allOf":[{"claim":"tee","equals":"sgx"},{"claim":"sgx.isv_svn","gte":6},{"claim":"tdx.mrtd","exists":true}]}}
EOF
expect eval-allowed 0 '^\{"allowed":true,"reason":null,"policy_sha256":"[0-9a-f]{64}"\}$' -- \
    "$veritee" policy eval --policy "$tmp/allow.json" --claims "$tmp/claims.json"
expect eval-denied 1 '^\{"allowed":false,"reason":"rules.allOf\[1\]","policy_sha256":"[0-9a-f]{64}"\}$' -- \
    "$veritee" policy eval --policy "$tmp/deny.json" --claims "$tmp/claims.json"
expect eval-explain 1 '"explanation":\[\{"path":"allowDebug".*\{"path":"rules.allOf\[1\]","outcome":false,"op":"gte","claim":"sgx.isv_svn","expected":6,"actual":5,"present":true\}.*\{"path":"rules.allOf\[2\]","outcome":false,"op":"exists","claim":"tdx.mrtd","expected":true,"actual":null,"present":false\}' -- \
    "$veritee" policy eval --policy "$tmp/deny.json" --claims "$tmp/claims.json" --explain
expect eval-explain-allowed 0 '"allowed":true.*"explanation":\[.*"path":"rules.allOf\[1\]","outcome":true' -- \
    "$veritee" policy eval --explain --policy "$tmp/allow.json" --claims "$tmp/claims.json"
sed -e 's/"debug":false/"debug":true/' "$tmp/claims.json" >"$tmp/debug.json"
expect eval-debug 1 '"reason":"debug"' -- \
    "$veritee" policy eval --policy "$tmp/allow.json" --claims "$tmp/debug.json"
printf '{"version":1,"allowDebug":true}' >"$tmp/allowdebug.json"
expect eval-allow-debug 0 '"allowed":true' -- \
    "$veritee" policy eval --policy "$tmp/allowdebug.json" --claims "$tmp/debug.json"
for st in OutOfDate Revoked ConfigurationNeeded; do
    sed -e "s/\"UpToDate\"/\"$st\"/" "$tmp/claims.json" >"$tmp/st.json"
    expect "eval-default-$st" 1 '"reason":"status"' -- \
        "$veritee" policy eval --policy "$tmp/min.json" --claims "$tmp/st.json"
done
printf '{"version":1,"acceptStatus":["UpToDate","OutOfDate"]}' >"$tmp/accept.json"
expect eval-accept-status-refuses 1 '"reason":"status"' -- \
    "$veritee" policy eval --policy "$tmp/accept.json" --claims "$tmp/st.json"
sed -e 's/"UpToDate"/"OutOfDate"/' "$tmp/claims.json" >"$tmp/ood.json"
expect eval-accept-ood 0 '"allowed":true' -- \
    "$veritee" policy eval --policy "$tmp/accept.json" --claims "$tmp/ood.json"
# The whole output of `veritee verify` is accepted as claims.
printf '{"verified":true,"evidence_type":"dcap-quote","claims":%s}' "$(cat "$tmp/claims.json")" >"$tmp/verify-out.json"
expect eval-verify-output 0 '"allowed":true' -- \
    "$veritee" policy eval --policy "$tmp/allow.json" --claims "$tmp/verify-out.json"
printf '{"verified":false,"evidence_type":"dcap-quote","claims":null,"error":{}}' >"$tmp/failed.json"
expect eval-failed-verification 2 '"error":.*"verified\\": false' -- \
    "$veritee" policy eval --policy "$tmp/allow.json" --claims "$tmp/failed.json"
printf '[1,2]' >"$tmp/array.json"
expect eval-claims-array 2 '"code":"VT_E_BAD_FIELD"' -- \
    "$veritee" policy eval --policy "$tmp/allow.json" --claims "$tmp/array.json"
printf '{"tee":' >"$tmp/broken.json"
expect eval-claims-syntax 2 '"code":"VT_E_BAD_JSON"' -- \
    "$veritee" policy eval --policy "$tmp/allow.json" --claims "$tmp/broken.json"
expect eval-claims-missing 2 '"code":"VT_E_IO"' -- \
    "$veritee" policy eval --policy "$tmp/allow.json" --claims "$tmp/nonexistent.json"
printf '{"version":1,"rules":{"claim":"sgx.mrenclave","equals":"zz"}}' >"$tmp/badhex.json"
expect eval-bad-policy 2 '"code":"VT_E_BAD_HEX".*"check":"rules.equals"' -- \
    "$veritee" policy eval --policy "$tmp/badhex.json" --claims "$tmp/claims.json"
expect eval-stdin-claims 0 '"allowed":true' -- \
    sh -c "'$veritee' policy eval --policy '$tmp/allow.json' --claims - <'$tmp/claims.json'"

# ---- real fixtures: verify --policy, and eval on verify's output ----
fixtures=${VERITEE_FIXTURES:-${VT_FIXTURES:-${VT_FIXTURES_DEFAULT:-}}}
if [ -n "$fixtures" ] && [ -d "$fixtures/dcap" ]; then
    set_dir="$fixtures/dcap/phala-dcap-qvl/sgx-v3-fmspc00a067110000"
    # This platform is ConfigurationAndSWHardeningNeeded: refused by default.
    printf '{"version":1,"rules":{"claim":"sgx.mrenclave","equals":"%s"}}' "$mre" >"$tmp/sgx-default.json"
    expect verify-default-status 1 '"verified":true.*"policy":\{"allowed":false,"reason":"status","policy_sha256":"[0-9a-f]{64}"\}\}$' -- \
        "$veritee" verify --policy "$tmp/sgx-default.json" --collateral "$set_dir" --at 1752919277 "$set_dir/quote.bin"
    cat >"$tmp/sgx-allow.json" <<EOF
{"version": 1,
 "acceptStatus": ["UpToDate", "SWHardeningNeeded", "ConfigurationAndSWHardeningNeeded"],
 "rules": {"allOf": [
   {"claim": "tee", "equals": "sgx"},
   {"claim": "sgx.mrenclave", "in": ["$zero64", "$mre"]},
   {"claim": "collateral.earliest_expiry", "gte": "2025-07-19T10:01:17Z"}]}}
EOF
    sha=$(sha256sum "$tmp/sgx-allow.json" | cut -d' ' -f1)
    expect verify-allowed 0 "\"verified\":true.*\"sgx.mrenclave\":\"$mre\".*\"policy\":\\{\"allowed\":true,\"reason\":null,\"policy_sha256\":\"$sha\"\\}\\}\$" -- \
        "$veritee" verify --policy "$tmp/sgx-allow.json" --collateral "$set_dir" --at 1752919277 "$set_dir/quote.bin"
    sed -e "s/\"$mre\"/\"$zero64\"/" "$tmp/sgx-allow.json" >"$tmp/sgx-wrong.json"
    expect verify-denied 1 '"verified":true.*"policy":\{"allowed":false,"reason":"rules.allOf\[1\]"' -- \
        "$veritee" verify --policy "$tmp/sgx-wrong.json" --collateral "$set_dir" --at 1752919277 "$set_dir/quote.bin"
    # Without --policy the output has no policy member; a failed verification is not evaluated.
    "$veritee" verify --collateral "$set_dir" --at 1752919277 "$set_dir/quote.bin" >"$tmp/sgx-out.json" 2>/dev/null
    expect verify-no-policy 0 '"verified":true' -- cat "$tmp/sgx-out.json"
    if grep -q '"policy":{' "$tmp/sgx-out.json"; then
        echo "FAIL verify-no-policy-member: output has a policy member"
        fails=$((fails + 1))
    fi
    expect verify-failed-no-eval 1 '"verified":false.*"code":"VT_E_EXPIRED"' -- \
        "$veritee" verify --policy "$tmp/sgx-allow.json" --collateral "$set_dir" --at 1752919279 "$set_dir/quote.bin"
    expect verify-bad-policy 2 'rules.claim: unknown claim' -- \
        "$veritee" verify --policy "$tmp/bad.json" --collateral "$set_dir" --at 1752919277 "$set_dir/quote.bin"
    expect verify-missing-policy 2 'policy .*nonexistent' -- \
        "$veritee" verify --policy "$tmp/nonexistent" --collateral "$set_dir" --at 1752919277 "$set_dir/quote.bin"
    # policy eval takes verify's whole output, and explains the real claims.
    expect eval-real-allowed 0 '"allowed":true' -- \
        "$veritee" policy eval --policy "$tmp/sgx-allow.json" --claims "$tmp/sgx-out.json"
    expect eval-real-explain 1 "\"path\":\"rules.allOf\\[1\\]\",\"outcome\":false,\"op\":\"in\",\"claim\":\"sgx.mrenclave\",\"expected\":\\[\"$zero64\",\"$zero64\"\\],\"actual\":\"$mre\"" -- \
        "$veritee" policy eval --explain --policy "$tmp/sgx-wrong.json" --claims "$tmp/sgx-out.json"
    if [ -d "$fixtures/nitro" ]; then
        doc="$fixtures/nitro/evervault/test-data/beta/debug-mode-attestation-doc-bytes"
        printf '{"version":1,"rules":{"claim":"nitro.pcr0","equals":"%096d"}}' 0 >"$tmp/nitro.json"
        expect nitro-debug-refused 1 '"policy":\{"allowed":false,"reason":"debug"' -- \
            "$veritee" verify --policy "$tmp/nitro.json" --at 2022-10-12T14:00:00Z "$doc"
        printf '{"version":1,"allowDebug":true,"rules":{"allOf":[{"claim":"nitro.pcr0","equals":"%096d"},{"claim":"nitro.pcr3","equals":"4A9329D69C836267B18ABBF9F4A38889124490453419E426818626348D21F989DC930B1562682A9082887454E53425AA"},{"claim":"nitro.pcr31","exists":false}]}}' 0 >"$tmp/nitro.json"
        expect nitro-debug-allowed 0 '"policy":\{"allowed":true' -- \
            "$veritee" verify --policy "$tmp/nitro.json" --at 2022-10-12T14:00:00Z "$doc"
    fi
elif [ "${CI:-}" = "true" ]; then
    echo "FAIL fixtures folder not found under CI=true"
    fails=$((fails + 1))
else
    echo "fixtures not found: skipping the fixture cases (set VERITEE_FIXTURES)"
fi

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
