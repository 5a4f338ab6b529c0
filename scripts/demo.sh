#!/usr/bin/env bash
# The main job: build veritee, start the collateral cache and the key broker in one process on
# embedded SQLite (veritee serve), fill the cache from recorded vendor responses (the upstream
# double serves only the real responses in ../shared/fixtures: no vendor service is contacted),
# verify one real piece of evidence of each TEE type through it and print a summary table; then
# run the password vault with simulated TDX evidence (attestation, key release, a user registered
# and logged in, a release denied for an unapproved measurement) and verify the audit log; then
# an enclave written for AWS KMS, pointed at veritee's KMS endpoint (a data key for its image, a
# key approved for another image refused); then act as a hostile client (request smuggling, an encoded admin path, an unauthenticated upload,
# a flood of challenges) and show each refused; in between, the operator's side: schema versions,
# an online backup and a checked restore.
# Everything runs on 127.0.0.1 and is stopped at the end. Exit 0 when every step succeeds.
# With --console the demo ends by printing the operator's console URL (docs/console.md) and an
# admin token, and keeps veritee serve running until Ctrl-C.
set -uo pipefail
cd "$(dirname "$0")/.."
keep_console=false
case "${1:-}" in
--console) keep_console=true ;;
"") ;;
*) echo "usage: scripts/demo.sh [--console]"; exit 2 ;;
esac
scripts/install-deps.sh

build=${VT_DEMO_BUILD:-build/release}
echo "== build (Release) =="
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DVT_TESTS=OFF >/dev/null &&
    cmake --build "$build" -j"$(nproc 2>/dev/null || echo 2)" --target veritee veritee-vault \
        >/dev/null || { echo "build failed"; exit 1; }
veritee=$PWD/$build/veritee
vault=$PWD/$build/examples/password-vault/veritee-vault
fixtures=${VERITEE_FIXTURES:-$PWD/../shared/fixtures}
[ -d "$fixtures/dcap" ] || { echo "fixtures not found at $fixtures (set VERITEE_FIXTURES)"; exit 2; }

start=$(date +%s)
tmp=$(mktemp -d)
support=tests/support
source "$support/cache_lib.sh" # start_double, wait_port, cleanup (stops every server we start)
trap cleanup EXIT
steps=0 failed=0
step() { # step "what" COMMAND...: run, report
    local what=$1
    shift
    steps=$((steps + 1))
    if "$@"; then
        printf '  ok    %s\n' "$what"
    else
        printf '  FAIL  %s\n' "$what"
        failed=$((failed + 1))
    fi
}

echo "== veritee serve: cache + broker on sqlite:$tmp/veritee.db =="
db="sqlite:$tmp/veritee.db"
mk="$tmp/master.key"
"$veritee" broker master-key >"$mk"
t0=1749945600 # the double's first clock; each verification sets the time of its evidence
start_double "$t0" >/dev/null 2>&1 || { echo "upstream double failed"; exit 1; }
"$veritee" client sim-export --backend sim:tdx --sim-dir "$tmp/sim" --out "$tmp/sim-export"
pf="$tmp/serve.port"
"$veritee" serve --db "$db" --master-key-file "$mk" --upstream "$DOUBLE_URL" \
    --max-stale 999999999 --refresh-interval 0 --collateral "$tmp/sim-export/collateral" \
    --trust-anchor "$tmp/sim-export/anchors/tdx.pem" --listen 127.0.0.1:0 --port-file "$pf" \
    2>"$tmp/serve.log" &
pids+=($!)
serve_pid=$!
url="http://127.0.0.1:$(wait_port "$pf")" || { echo "serve failed"; cat "$tmp/serve.log"; exit 1; }
echo "  serving on $url (cache: PCS/KDS API; broker: /v1, /kbs/v0)"

echo "== real evidence, one of each TEE, collateral through the cache =="
verify_one() { # verify_one TEE LABEL AT ARGS...: verify, print a table row
    local tee=$1 label=$2 at=$3
    shift 3
    curl -s -o /dev/null -X POST --data "{\"now\":$at}" "$DOUBLE_URL/_control"
    local out verified status
    out=$("$veritee" verify --at "$at" "$@" 2>&1)
    verified=$(grep -o '"verified":[a-z]*' <<<"$out" | head -1 | cut -d: -f2)
    status=$(grep -o '"status":"[^"]*"' <<<"$out" | head -1 | cut -d'"' -f4)
    printf '  %-8s %-58s %-9s %s\n' "$tee" "$label" "${verified:-error}" "${status:-$(grep -o '"message":"[^"]*"' <<<"$out" | head -1)}"
    rows=$((rows + 1))
    [ "$verified" = true ] || bad_rows=$((bad_rows + 1))
}
rows=0 bad_rows=0
printf '  %-8s %-58s %-9s %s\n' TEE evidence verified "TCB status"
sgx="$fixtures/dcap/phala-dcap-qvl/sgx-v3-fmspc00a067110000"
tdx="$fixtures/dcap/automata-dcap-attestation/tdx-v5-fmspc90c06f000000-alibaba"
verify_one SGX "${sgx#"$fixtures/"}/quote.bin" 1752919277 --collateral "$url" "$sgx/quote.bin"
verify_one TDX "${tdx#"$fixtures/"}/quote.bin" 1749945600 --collateral "$url" "$tdx/quote.bin"
verify_one SEV-SNP "snp/trustee/test-report.bin" 1750000000 --collateral "$url" \
    "$fixtures/snp/trustee/test-report.bin"
verify_one Nitro "nitro/base-nitro-validator/attestation-2024-11-30.cose" 2024-11-30T16:30:00Z \
    "$fixtures/nitro/base-nitro-validator/attestation-2024-11-30.cose"
step "4 real pieces of evidence verified (SGX, TDX, SEV-SNP, Nitro)" [ "$rows:$bad_rows" = 4:0 ]
# One signature per quote once the platform is cached, on both cores (docs/verify.md, Caches).
perf=$("$veritee" bench --seconds 0.5 --threads 2 --at 1749945600 --collateral "$tdx" "$tdx/quote.bin")
field() { grep -o "\"$1\":[0-9.]*" <<<"$perf" | cut -d: -f2; }
step "the TDX quote again and again on 2 threads: $(field verifications_per_second | cut -d. -f1)/s, $(field ratio_to_floor) of one P-256 verification per quote, $(field scaling) x one thread" \
    [ -n "$(field ratio_to_floor)" ]
items=$(sqlite3 "$tmp/veritee.db" "SELECT COUNT(*) FROM vt_items WHERE length(body) > 0")
step "the cache holds the vendors' documents it fetched ($items)" [ "$items" -gt 5 ]

echo "== the password vault in a (simulated) TD =="
b() { "$veritee" broker "$@" --db "$db" --master-key-file "$mk"; }
mrtd=$("$veritee" client attest --url "$url" --backend sim:tdx --sim-dir "$tmp/sim" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["claims"]["tdx.mrtd"])')
step "the TD attests to the broker (MRTD ${mrtd:0:16}...)" [ ${#mrtd} = 96 ]
printf '{"version":1,"rules":{"claim":"tdx.mrtd","equals":"%s"}}' "$mrtd" >"$tmp/approved.json"
printf '{"version":1,"rules":{"claim":"tdx.mrtd","equals":"%096d"}}' 0 >"$tmp/other.json"
b key-put --name vault-pepper --generate 32 --policy "$tmp/approved.json" >/dev/null
b key-put --name other-app-pepper --generate 32 --policy "$tmp/other.json" >/dev/null
vpf="$tmp/vault.port"
"$vault" --broker "$url" --key vault-pepper --backend sim:tdx --sim-dir "$tmp/sim" \
    --db "sqlite:$tmp/users.db" --listen 127.0.0.1:0 --port-file "$vpf" 2>"$tmp/vault.log" &
pids+=($!)
vurl="http://127.0.0.1:$(wait_port "$vpf")" || { cat "$tmp/vault.log"; }
step "the vault attested and received its pepper" grep -q "pepper received" "$tmp/vault.log"
post() { curl -s -o /dev/null -w '%{http_code}' -X POST --data "$2" "$vurl$1"; }
step "register alice" [ "$(post /register '{"user":"alice","password":"correct horse"}')" = 201 ]
step "alice logs in" [ "$(post /login '{"user":"alice","password":"correct horse"}')" = 200 ]
step "a wrong password is refused" [ "$(post /login '{"user":"alice","password":"wrong"}')" = 401 ]
"$veritee" client release --url "$url" --backend sim:tdx --sim-dir "$tmp/sim" \
    --key other-app-pepper >"$tmp/denied.json" 2>/dev/null
step "another app's pepper is denied to this measurement (403 release-policy)" \
    grep -q '"status":403,"reason":"release-policy:rules"' "$tmp/denied.json"
audit=$("$veritee" audit verify --db "$db")
step "the audit log verifies ($(grep -o '"entries":[0-9]*' <<<"$audit"))" grep -q '"verified":true' <<<"$audit"

echo "== an enclave written for AWS KMS, its endpoint pointed at veritee (docs/kms.md) =="
# veritee kms serve on its own database; the enclave's attestation documents come from the Nitro
# simulator (veritee client evidence). The enclave's call is the AWS SDK for JavaScript's when a
# build tree has it installed (tests/kms_sdk, ctest -R kms_sdk), otherwise one signed by botocore.
kdb="sqlite:$tmp/kms.db"
kak() { "$veritee" kms access-key create --db "$kdb" --master-key-file "$mk" --principal "$@"; }
kjs() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
kadmin=$(kak arn:aws:iam::111122223333:role/admin --admin)
kenclave=$(kak arn:aws:iam::111122223333:role/enclave)
"$veritee" client sim-export --backend sim:nitro --sim-dir "$tmp/sim" --out "$tmp/sim-export"
kpf="$tmp/kms.port"
"$veritee" kms serve --db "$kdb" --master-key-file "$mk" --account 111122223333 \
    --region eu-west-1 --trust-anchor "$tmp/sim-export/anchors/nitro.pem" --listen 127.0.0.1:0 \
    --port-file "$kpf" 2>"$tmp/kms.log" &
pids+=($!)
kurl="http://127.0.0.1:$(wait_port "$kpf")" || cat "$tmp/kms.log"
kcall() { # kcall KEYS OP JSON: a call signed by botocore; prints the answer's JSON body
    python3 "$support/kms_client.py" "$kurl" eu-west-1 "$(kjs AccessKeyId <<<"$1")" \
        "$(kjs SecretAccessKey <<<"$1")" "$2" "$3" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["body"]))'
}
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tmp/enclave.pem" 2>/dev/null
openssl pkey -in "$tmp/enclave.pem" -pubout -outform DER -out "$tmp/enclave.spki" 2>/dev/null
"$veritee" client evidence --backend sim:nitro --sim-dir "$tmp/sim" --public-key "$tmp/enclave.spki" \
    --out "$tmp/enclave.doc"
pcr0=$("$veritee" verify --trust-anchor "$tmp/sim-export/anchors/nitro.pem" "$tmp/enclave.doc" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["claims"]["nitro.pcr0"])')
kpolicy() { # kpolicy IMAGE: AWS's Nitro Enclaves key policy (the enclave role, one image)
    python3 -c 'import json,sys; print(json.dumps({"Policy": json.dumps({"Version": "2012-10-17", "Statement": [
    {"Sid": "admin", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/admin"}, "Action": "kms:*", "Resource": "*"},
    {"Sid": "enclave", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/enclave"},
     "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": "*",
     "Condition": {"StringEqualsIgnoreCase": {"kms:RecipientAttestation:ImageSha384": sys.argv[1]}}}]})}))' "$1"
}
kkey=$(kcall "$kadmin" CreateKey "$(kpolicy "$pcr0")" | python3 -c 'import json,sys; print(json.load(sys.stdin)["KeyMetadata"]["KeyId"])')
kother=$(kcall "$kadmin" CreateKey "$(kpolicy "$(printf '%096d' 1)")" | python3 -c 'import json,sys; print(json.load(sys.stdin)["KeyMetadata"]["KeyId"])')
# VT_DEMO_KMS_SDK= (empty) takes botocore's signer even where the SDK is installed.
sdk=${VT_DEMO_KMS_SDK-$(ls -d "$PWD"/build/*/kms-sdk/node_modules/@aws-sdk/client-kms 2>/dev/null | head -1)}
node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)' 2>/dev/null || sdk="" # the SDK needs node 20
enclave_gdk() { # enclave_gdk KEY OUT: GenerateDataKey with a Recipient, as the enclave calls it
    if [ -n "$sdk" ]; then
        AWS_ACCESS_KEY_ID=$(kjs AccessKeyId <<<"$kenclave") \
            AWS_SECRET_ACCESS_KEY=$(kjs SecretAccessKey <<<"$kenclave") \
            node --no-warnings tests/kms_sdk/enclave.mjs "${sdk%/node_modules/*}" "$kurl" eu-west-1 "$1" \
            "$tmp/enclave.doc" "$2" 2>&1
    else
        kcall "$kenclave" GenerateDataKey "$(python3 -c 'import base64,json,sys
print(json.dumps({"KeyId": sys.argv[1], "KeySpec": "AES_256", "Recipient": {"KeyEncryptionAlgorithm": "RSAES_OAEP_SHA_256", "AttestationDocument": base64.b64encode(open(sys.argv[2], "rb").read()).decode()}}))' "$1" "$tmp/enclave.doc")" |
            python3 -c 'import base64,json,sys; j=json.load(sys.stdin)
if "CiphertextForRecipient" in j: open(sys.argv[1], "wb").write(base64.b64decode(j["CiphertextForRecipient"]))
else: print(j.get("__type")); sys.exit(1)' "$2"
    fi
}
client_name=$([ -n "$sdk" ] && echo "the AWS SDK for JavaScript v3" || echo "botocore's signer")
echo "  veritee kms serve on $kurl; the enclave's image (PCR0) ${pcr0:0:16}...; client: $client_name"
enclave_gdk "$kkey" "$tmp/cfr.der" >/dev/null
step "the enclave gets a data key for its image: GenerateDataKey with its attestation document, CiphertextForRecipient opened by its own key ($(openssl cms -decrypt -inform DER -in "$tmp/cfr.der" -inkey "$tmp/enclave.pem" -binary 2>/dev/null | wc -c) bytes)" \
    [ "$(openssl cms -decrypt -inform DER -in "$tmp/cfr.der" -inkey "$tmp/enclave.pem" -binary 2>/dev/null | wc -c)" = 32 ]
kdenied=$(enclave_gdk "$kother" "$tmp/cfr-other.der")
step "a key approved for another image is refused to it (${kdenied:-no error})" \
    [ "$kdenied" = AccessDeniedException ]
step "every KMS call is in the audit log, which verifies" \
    grep -q '"verified":true' <<<"$("$veritee" audit verify --db "$kdb")"

echo "== the vault over attested TLS: users check the TD before they send a password (docs/attested-tls.md) =="
curl -sf "$url/v1/ca" >"$tmp/broker-ca.pem"
b cert-profile --name vault --policy "$tmp/approved.json" --dns localhost >/dev/null
b cert-profile --name anything --dns localhost >/dev/null
b key-put --name rogue-pepper --generate 32 >/dev/null
cp -r "$tmp/sim" "$tmp/sim-rogue"
printf '%096d\n' 7 | tr 0 a >"$tmp/sim-rogue/tdx/measurement" # the same platform, other code
tls_vault() { # tls_vault SIM_DIR KEY PROFILE: a vault serving HTTPS with a broker certificate
    local vpf="$tmp/tls.$RANDOM.port"
    "$vault" --broker "$url" --key "$2" --backend sim:tdx --sim-dir "$1" \
        --db "sqlite:$tmp/tls-users.db" --listen 127.0.0.1:0 --port-file "$vpf" \
        --tls broker --cert-profile "$3" 2>>"$tmp/vault-tls.log" &
    pids+=($!)
    turl="https://localhost:$(wait_port "$vpf")"
}
vclient() { # vclient register|login: the vault's client, policy naming the approved MRTD
    VAULT_PASSWORD='tls horse battery' "$vault" "$1" --url "$turl" --user dave \
        --policy "$tmp/approved.json" --broker-ca "$tmp/broker-ca.pem" >"$tmp/vc.out" 2>"$tmp/vc.err"
}
tls_vault "$tmp/sim" vault-pepper vault
vclient register
step "register dave over TLS: the client checked the broker certificate's appraisal first" \
    grep -q 'is attested (tdx) and satisfies' "$tmp/vc.err"
vclient login
step "dave logs in through the verified connection" grep -q 'logged in' "$tmp/vc.out"
tls_vault "$tmp/sim-rogue" rogue-pepper anything
vclient login
step "a vault running unapproved code: the client refuses, the password is not sent ($(grep -o 'tdx.mrtd' "$tmp/vc.err" | head -1))" \
    grep -q 'password was not sent' "$tmp/vc.err"
"$veritee" client cert --backend sim:tdx --sim-dir "$tmp/sim" --out-cert "$tmp/td.crt" \
    --out-key "$tmp/td.key" --dns localhost >/dev/null 2>&1
step "an RA-TLS certificate carrying the TD's quote, verified by veritee verify ($("$veritee" verify --trust-anchor "$tmp/sim-export/anchors/tdx.pem" --collateral "$tmp/sim-export/collateral" "$tmp/td.crt" 2>&1 | grep -o '"format":"[^"]*"' | head -1))" \
    bash -c '"$1" verify --trust-anchor "$2" --collateral "$3" "$4" | grep -q "\"verified\":true"' _ \
    "$veritee" "$tmp/sim-export/anchors/tdx.pem" "$tmp/sim-export/collateral" "$tmp/td.crt"

echo "== an Azure Secure Key Release app, its endpoints pointed at veritee (docs/maa.md, docs/skr.md) =="
# One veritee serve speaks Azure Attestation and Key Vault over https; the app's calls are plain
# curl here (tests/maa_sdk drives the same with Microsoft's @azure/attestation and
# @azure/keyvault-keys). The enclave is the SGX simulator; its runtime key is an RSA key.
adb="sqlite:$tmp/azure.db"
"$veritee" client sim-export --backend sim:sgx --sim-dir "$tmp/sim" --out "$tmp/sgx-export"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=localhost \
    -addext subjectAltName=DNS:localhost -keyout "$tmp/tls.key" -out "$tmp/tls.crt" 2>/dev/null
atoken=$("$veritee" broker token --db "$adb" --master-key-file "$mk" --name demo 2>/dev/null | tail -1)
"$veritee" serve --db "$adb" --master-key-file "$mk" --mode offline \
    --collateral "$tmp/sgx-export/collateral" --trust-anchor "$tmp/sgx-export/anchors/sgx.pem" \
    --listen 127.0.0.1:0 --port-file "$tmp/az.port" --maa-listen 127.0.0.1:0 \
    --maa-port-file "$tmp/maa.port" --keyvault-listen 127.0.0.1:0 \
    --keyvault-port-file "$tmp/kv.port" --tls-cert "$tmp/tls.crt" --tls-key "$tmp/tls.key" \
    2>"$tmp/azure.log" &
pids+=($!)
maa="https://localhost:$(wait_port "$tmp/maa.port")" || cat "$tmp/azure.log"
kv="https://localhost:$(wait_port "$tmp/kv.port")"
acurl() { curl -s --cacert "$tmp/tls.crt" -H 'Content-Type: application/json' "$@"; }
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tmp/skr.pem" 2>/dev/null
runtime=$(python3 -c 'import base64,json,sys
n = bytes.fromhex(sys.argv[1].split("=")[1])
u = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
print(json.dumps({"keys": [{"kid": "enclave-key", "kty": "RSA", "key_ops": ["encrypt"], "e": "AQAB", "n": u(n)}]}))' \
    "$(openssl rsa -in "$tmp/skr.pem" -noout -modulus 2>/dev/null)")
"$veritee" client evidence --backend sim:sgx --sim-dir "$tmp/sim" \
    --report-data "$(printf '%s' "$runtime" | sha256sum | cut -c1-64)" --out "$tmp/sgx.quote"
b64u() { base64 -w0 | tr '+/' '-_' | tr -d '='; }
attest_body=$(printf '{"quote":"%s","runtimeData":{"data":"%s","dataType":"JSON"}}' \
    "$(b64u <"$tmp/sgx.quote")" "$(printf '%s' "$runtime" | b64u)")
mtoken=$(acurl -X POST --data "$attest_body" "$maa/attest/SgxEnclave?api-version=2022-08-01" | kjs token)
claim() { python3 -c 'import base64,json,sys; p=sys.argv[1].split(".")[1]; print(json.loads(base64.urlsafe_b64decode(p+"="*(-len(p)%4)))[sys.argv[2]])' "$mtoken" "$1"; }
mrenclave=$(claim x-ms-sgx-mrenclave)
step "attest/SgxEnclave: an RS256 token from $(claim iss), MRENCLAVE ${mrenclave:0:16}..., runtime key bound" \
    [ "$(claim x-ms-attestation-type)" = sgx ]
skr_key() { # skr_key NAME MRENCLAVE: an exportable RSA-HSM key whose release policy names it
    local policy
    policy=$(printf '{"version":"1.0.0","anyOf":[{"authority":"%s","allOf":[{"claim":"x-ms-sgx-mrenclave","equals":"%s"}]}]}' "$(claim iss)" "$2" | b64u)
    acurl -H "Authorization: Bearer $atoken" -X POST "$kv/keys/$1/create?api-version=7.4" \
        --data "{\"kty\":\"RSA-HSM\",\"key_size\":2048,\"attributes\":{\"exportable\":true},\"release_policy\":{\"contentType\":\"application/json; charset=utf-8\",\"data\":\"$policy\"}}"
}
release() { # release NAME: POST .../release with the MAA token; prints the answer
    acurl -H "Authorization: Bearer $atoken" -X POST "$kv/keys/$1/release?api-version=7.4" \
        --data "{\"target\":\"$mtoken\",\"enc\":\"CKM_RSA_AES_KEY_WRAP\"}"
}
skr_key skr-key "$mrenclave" | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"]["n"])' >"$tmp/skr.n"
release skr-key | kjs value | python3 -c 'import base64,json,sys
d = lambda s: base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
p = json.loads(d(sys.stdin.read().strip().split(".")[1]))
open(sys.argv[1], "wb").write(d(json.loads(d(p["response"]["key"]["key"]["key_hsm"]))["ciphertext"]))' "$tmp/skr.blob"
head -c 256 "$tmp/skr.blob" | openssl pkeyutl -decrypt -inkey "$tmp/skr.pem" \
    -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha1 -out "$tmp/skr.kek" 2>/dev/null
tail -c +257 "$tmp/skr.blob" | openssl enc -d -id-aes256-wrap-pad -iv A65959A6 \
    -K "$(od -An -tx1 -v "$tmp/skr.kek" | tr -d ' \n')" -out "$tmp/skr.der" 2>/dev/null
step "Key Vault release: the key wrapped to the enclave's runtime key (CKM_RSA_AES_KEY_WRAP), unwrapped by it, and it is the vault's key" \
    python3 -c 'import base64,subprocess,sys
n = subprocess.run(["openssl", "rsa", "-inform", "DER", "-in", sys.argv[1], "-noout", "-modulus"], capture_output=True, text=True).stdout.split("=")[1].strip()
want = base64.urlsafe_b64decode(open(sys.argv[2]).read().strip() + "==").hex().upper().lstrip("0")
sys.exit(n.lstrip("0") != want)' "$tmp/skr.der" "$tmp/skr.n"
skr_key other-enclave "$(printf '%064d' 0)" >/dev/null
denied=$(release other-enclave | python3 -c 'import json,sys; print(json.load(sys.stdin).get("error", {}).get("code", ""))')
step "a key whose release policy names another enclave: refused (${denied:-not refused})" [ -n "$denied" ]
step "every release decision is in veritee's audit log, which verifies" \
    grep -q '"verified":true' <<<"$("$veritee" audit verify --db "$adb")"

echo "== operations: schema versions, an online backup, a checked restore (docs/deploy.md) =="
status=$("$veritee" db status --db "$db")
step "db status: every component at this veritee's schema ($(python3 -c 'import json,sys
print(", ".join("%s %d" % (c["component"], c["database_version"]) for c in json.load(sys.stdin)["components"]))' <<<"$status"))" \
    python3 -c 'import json,sys; sys.exit(not all(c["state"] == "current" for c in json.load(sys.stdin)["components"]))' <<<"$status"
step "an online backup while the service runs" \
    bash -c '"$1" backup --db "$2" --out "$3" >/dev/null' _ "$veritee" "$db" "$tmp/backup.db"
restored=$("$veritee" restore --backup "$tmp/backup.db" --db "sqlite:$tmp/restored.db" \
    --master-key-file "$mk" 2>/dev/null)
step "the restore checks every sealed key and the log first ($(grep -o '"log_entries":[0-9]*' <<<"$restored"))" \
    grep -q '"log_verified":true' <<<"$restored"
"$veritee" broker master-key >"$tmp/wrong.key"
step "a restore with another master key is refused, naming both key ids" \
    bash -c 'out=$("$1" restore --check --backup "$2" --master-key-file "$3" 2>&1); [ $? = 2 ] &&
        grep -q "records master key id" <<<"$out"' _ \
    "$veritee" "$tmp/backup.db" "$tmp/wrong.key"

echo "== hostile clients (docs/http.md) =="
raw() { # raw REQUEST: send bytes as they are, print what comes back until the server closes
    python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(sys.argv[2].encode().decode("unicode_escape").encode("latin-1"))
s.settimeout(3)
out = b""
try:
    while True:
        b = s.recv(65536)
        if not b:
            break
        out += b
except socket.timeout:
    pass
print(out.decode("latin-1"))' "${url##*:}" "$1"
}
smuggle=$(raw 'POST /v1/challenge HTTP/1.1\r\nHost: a\r\nContent-Length: 44\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /admin/v1/keys HTTP/1.1\r\nHost: a\r\n\r\n')
step "Content-Length with Transfer-Encoding: one 400, no second request" \
    bash -c '[ "$(grep -c "^HTTP/1.1 " <<<"$1")" = 1 ] && grep -q "http.framing" <<<"$1"' _ "$smuggle"
step "an encoded path (/%61dmin/v1/keys) is refused, not decoded" \
    grep -q '"reason":"http.path"' <<<"$(raw 'GET /%61dmin/v1/keys HTTP/1.1\r\nHost: a\r\n\r\n')"
step "a 7 MiB upload without a token: 401 before a byte of it is read" \
    grep -q '^HTTP/1.1 401 ' <<<"$(raw 'POST /admin/v1/keys HTTP/1.1\r\nHost: a\r\nContent-Length: 7340032\r\n\r\n')"
flood=$(python3 -c '
import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]))
st, ra = [], ""
for i in range(150):
    c.request("POST", "/v1/challenge")
    r = c.getresponse()
    r.read()
    st.append(r.status)
    ra = r.getheader("Retry-After") or ra
print("%d 201 first, then %d 429 (Retry-After: %s)" % (st.index(429) if 429 in st else len(st), st.count(429), ra))' "${url##*:}")
step "150 challenges at once from one client: $flood" \
    bash -c 'set -- $1; [ "$1" -ge 100 ] && [ "$5" -gt 0 ]' _ "$flood"

ctok=$(b token)
fleet=$(curl -s -H "Authorization: Bearer $ctok" "$url/admin/v1/fleet" | python3 -c '
import json, sys
print("; ".join("%s %s... on %s %s..., %s, seen %d times" % (r["tee"], r["identity"][:8], r["platform_kind"],
                r["platform"][:8], r["status"], r["seen"]) for r in json.load(sys.stdin)))')
step "the console's fleet: $fleet" grep -q . <<<"$fleet"
reps=$(curl -s -H "Authorization: Bearer $ctok" "$url/admin/v1/log/status" | python3 -c '
import json, sys
print(", ".join("%s (pid %d, %s)" % (r["role"], r["pid"], "stale" if r["stale"] else "live") for r in json.load(sys.stdin)["replicas"]))')
step "the replicas heartbeating into the store: $reps" grep -q 'broker' <<<"$reps"
hdrs=$(curl -s -D - -o /dev/null "$url/console")
step "the operator's console at $url/console, with a strict Content-Security-Policy" \
    grep -q "^Content-Security-Policy: default-src 'self'" <<<"$hdrs"

if [ "$keep_console" = true ]; then
    console_token=$(b token)
    echo "== the operator's console (docs/console.md) =="
    echo "  $((steps - failed)) of $steps steps ok so far"
    echo "  admin token: $console_token"
    echo "  open $url/console and paste the token; Ctrl-C stops everything"
    trap 'echo; cleanup; echo "$((steps - failed)) passed, $failed failed"; exit $((failed > 0 ? 1 : 0))' INT TERM
    while kill -0 "$serve_pid" 2>/dev/null; do
        sleep 1 &
        wait $!
    done
fi

cleanup
trap - EXIT
elapsed=$(($(date +%s) - start))
echo "== $((steps - failed)) of $steps steps ok, in ${elapsed}s; nothing left running =="
echo "$((steps - failed)) passed, $failed failed"
[ "$failed" = 0 ]
