#!/usr/bin/env bash
# The AWS KMS drop-in as an operator and a client use it (docs/kms.md): `veritee kms --help`,
# access keys (create, list, disable; usage errors), `veritee kms serve` on a free port (port
# file) signed to by botocore's SigV4 signer (tests/support/kms_client.py: an implementation
# that is not veritee's): CreateKey, an alias, Encrypt/Decrypt with an encryption context, a key
# policy on the enclave image, GenerateDataKey with a Recipient document made by `veritee client
# evidence --backend sim:nitro` and opened by `openssl cms -decrypt` with the enclave's key, the
# other image refused, its receipt checked by `veritee audit receipt`, a disabled access key
# refused, `veritee audit verify`; then `veritee serve --kms-listen` (the same API beside the
# cache and the broker, on the same database) and `veritee broker rewrap` keeping the keys
# readable. Usage: kms_cli.sh VERITEE
set -uo pipefail
veritee=${1:?usage: kms_cli.sh VERITEE}
here=$(cd "$(dirname "$0")" && pwd)
support="$here/../support"
tmp=$(mktemp -d)
source "$support/cache_lib.sh"
trap cleanup EXIT

if ! python3 -c 'import botocore.auth' 2>/dev/null; then
    if [ "${CI:-}" = true ]; then
        bad "botocore is missing (python3-botocore, scripts/install-deps.sh)"
        finish
        exit 1
    fi
    echo "SKIP: botocore is missing (python3-botocore)"
    exit 0
fi

db="sqlite:$tmp/v.db"
mk="$tmp/master.key"
k() { "$veritee" kms "$@" --db "$db" --master-key-file "$mk"; }
jq_() { # jq_ FILE EXPR: a Python expression over the JSON document j
    python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); r=eval(sys.argv[2]); print(r if isinstance(r, str) else json.dumps(r, sort_keys=True))' "$1" "$2"
}

# ---- help and usage ----
check "veritee kms --help" bash -c "$veritee kms --help | grep -q 'access-key create'"
check "veritee kms serve --help lists the server limits" bash -c "$veritee kms serve --help | grep -q -- --max-connections"
check "veritee --help names kms" bash -c "$veritee --help | grep -q '^  kms '"
"$veritee" kms 2>/dev/null
check "veritee kms without a subcommand: exit 2" [ $? = 2 ]
"$veritee" kms frobnicate 2>"$tmp/err"
check "an unknown subcommand: exit 2, named" bash -c "[ $? = 2 ] && grep -q frobnicate '$tmp/err'"
"$veritee" broker master-key >"$mk"
k access-key create 2>"$tmp/err"
check "access-key create without --principal: exit 2" bash -c "[ $? = 2 ] && grep -q -- --principal '$tmp/err'"
k access-key create --principal role/x 2>"$tmp/err"
check "access-key create with a principal that is no ARN: exit 2" [ $? = 2 ]
k access-key rotate 2>/dev/null
check "an unknown access-key verb: exit 2" [ $? = 2 ]
k serve --listen 127.0.0.1:0 2>"$tmp/err"
check "serve without --account: exit 2" bash -c "[ $? = 2 ] && grep -q -- --account '$tmp/err'"
k serve --account 1234 --listen 127.0.0.1:0 2>/dev/null
check "serve with a short account id: exit 2" [ $? = 2 ]

# ---- access keys ----
k access-key create --principal arn:aws:iam::111122223333:role/admin --admin >"$tmp/admin.json"
check "access-key create prints the id and the secret" \
    [ "$(jq_ "$tmp/admin.json" 'str(len(j["AccessKeyId"])) + " " + str(len(j["SecretAccessKey"])) + " " + j["Account"] + " " + str(j["Admin"])')" = "20 40 111122223333 True" ]
k access-key create --principal arn:aws:iam::111122223333:role/enclave >"$tmp/enclave.json"
k access-key create --principal arn:aws:iam::444455556666:role/spare >"$tmp/spare.json"
k access-key list >"$tmp/list.json"
check "access-key list: three keys, no secret" \
    bash -c "[ \"\$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' '$tmp/list.json')\" = 3 ] && ! grep -qF \"\$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[\"SecretAccessKey\"])' '$tmp/admin.json')\" '$tmp/list.json'"
check "the secret is stored sealed, not in the clear" \
    bash -c "! grep -qaF \"\$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[\"SecretAccessKey\"])' '$tmp/admin.json')\" '$tmp/v.db'"

# ---- a Nitro simulator and an enclave key ----
"$veritee" client sim-export --backend sim:nitro --sim-dir "$tmp/sim" --out "$tmp/export" >/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tmp/enclave.pem" 2>/dev/null
openssl pkey -in "$tmp/enclave.pem" -pubout -outform DER -out "$tmp/enclave.spki" 2>/dev/null
"$veritee" client evidence --backend sim:nitro --sim-dir "$tmp/sim" --public-key "$tmp/enclave.spki" \
    --out "$tmp/doc.cbor"
check "veritee client evidence writes a Nitro document" [ -s "$tmp/doc.cbor" ]
pcr0=$("$veritee" verify --trust-anchor "$tmp/export/anchors/nitro.pem" "$tmp/doc.cbor" 2>/dev/null |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["claims"]["nitro.pcr0"])')
check "the document verifies, PCR0 read" grep -Eq '^[0-9a-f]{96}$' <<<"$pcr0"

# ---- veritee kms serve ----
start_kms() { # start_kms LOG ARGS...: sets KMS_URL and KMS_PID
    local log=$1
    shift
    local pf="$tmp/kms.$RANDOM.port"
    "$veritee" kms serve --db "$db" --listen 127.0.0.1:0 --port-file "$pf" "$@" 2>>"$log" &
    pids+=($!)
    KMS_PID=$!
    KMS_URL="http://127.0.0.1:$(wait_port "$pf")" || { cat "$log"; return 1; }
}
start_kms "$tmp/kms.log" --master-key-file "$mk" --account 111122223333 --region eu-west-1 \
    --trust-anchor "$tmp/export/anchors/nitro.pem" || { bad "kms serve"; finish; exit 1; }
check "kms serve: healthz" [ "$(curl -s "$KMS_URL/healthz")" = '{"status":"ok"}' ]
call() { # call WHO OP JSON [URL]: the answer in $tmp/r.json ($KMS_CA_FILE: for https)
    local who=$1 op=$2 body=$3 url=${4:-$KMS_URL}
    python3 "$support/kms_client.py" "$url" eu-west-1 "$(jq_ "$tmp/$who.json" 'j["AccessKeyId"]')" \
        "$(jq_ "$tmp/$who.json" 'j["SecretAccessKey"]')" "$op" "$body" >"$tmp/r.json"
}
st() { jq_ "$tmp/r.json" 'str(j["status"]) + " " + str((j["body"] or {}).get("__type", "ok"))'; }
call admin CreateKey '{"Description":"cli test"}'
check "CreateKey (botocore-signed)" [ "$(st)" = "200 ok" ]
key=$(jq_ "$tmp/r.json" 'j["body"]["KeyMetadata"]["KeyId"]')
check "the key's ARN names the region and account" \
    [ "$(jq_ "$tmp/r.json" 'j["body"]["KeyMetadata"]["Arn"]')" = "arn:aws:kms:eu-west-1:111122223333:key/$key" ]
check "a request id" grep -Eq '"x-amzn-requestid": "[0-9a-f-]{36}"' "$tmp/r.json"
check "the JSON 1.1 content type" grep -q '"content-type": "application/x-amz-json-1.1"' "$tmp/r.json"
call admin CreateAlias "{\"AliasName\":\"alias/cli\",\"TargetKeyId\":\"$key\"}"
check "CreateAlias" [ "$(st)" = "200 ok" ]
call enclave Encrypt '{"KeyId":"alias/cli","Plaintext":"c2VjcmV0","EncryptionContext":{"app":"vault"}}'
check "Encrypt by the enclave role (the default policy: its account)" [ "$(st)" = "200 ok" ]
blob=$(jq_ "$tmp/r.json" 'j["body"]["CiphertextBlob"]')
call enclave Decrypt "{\"CiphertextBlob\":\"$blob\",\"EncryptionContext\":{\"app\":\"vault\"}}"
check "Decrypt" [ "$(jq_ "$tmp/r.json" 'j["body"]["Plaintext"]')" = "c2VjcmV0" ]
call enclave Decrypt "{\"CiphertextBlob\":\"$blob\"}"
check "Decrypt without the context: InvalidCiphertextException 400" [ "$(st)" = "400 InvalidCiphertextException" ]
call spare Decrypt "{\"CiphertextBlob\":\"$blob\",\"EncryptionContext\":{\"app\":\"vault\"}}"
check "another account: AccessDeniedException" [ "$(st)" = "400 AccessDeniedException" ]
call admin DescribeKey '{"KeyId":"alias/none"}'
check "an unknown alias: NotFoundException 404" [ "$(st)" = "404 NotFoundException" ]
call admin Sign '{}'
check "an unimplemented operation: UnsupportedOperationException" [ "$(st)" = "400 UnsupportedOperationException" ]

# ---- a key policy on the enclave image, and a Recipient ----
python3 - "$pcr0" >"$tmp/policy.json" <<'EOF'
import json, sys
print(json.dumps({"Version": "2012-10-17", "Statement": [
    {"Sid": "admin", "Effect": "Allow",
     "Principal": {"AWS": "arn:aws:iam::111122223333:role/admin"},
     "Action": "kms:*", "Resource": "*"},
    {"Sid": "Enable enclave data processing", "Effect": "Allow",
     "Principal": {"AWS": "arn:aws:iam::111122223333:role/enclave"},
     "Action": ["kms:Decrypt", "kms:GenerateDataKey", "kms:GenerateRandom"], "Resource": "*",
     "Condition": {"StringEqualsIgnoreCase": {
         "kms:RecipientAttestation:ImageSha384": sys.argv[1]}}}]}))
EOF
call admin PutKeyPolicy "$(python3 -c 'import json,sys; print(json.dumps({"KeyId": sys.argv[1], "Policy": open(sys.argv[2]).read()}))' "$key" "$tmp/policy.json")"
check "PutKeyPolicy with an attestation condition" [ "$(st)" = "200 ok" ]
recipient() { # recipient DOC: the Recipient member
    printf '"Recipient":{"KeyEncryptionAlgorithm":"RSAES_OAEP_SHA_256","AttestationDocument":"%s"}' \
        "$(base64 -w0 "$1")"
}
call enclave GenerateDataKey "{\"KeyId\":\"$key\",\"KeySpec\":\"AES_256\"}"
check "GenerateDataKey without a document: AccessDeniedException" [ "$(st)" = "400 AccessDeniedException" ]
call enclave GenerateDataKey "{\"KeyId\":\"$key\",\"KeySpec\":\"AES_256\",$(recipient "$tmp/doc.cbor")}"
check "GenerateDataKey with the enclave's document" [ "$(st)" = "200 ok" ]
check "... no Plaintext in the answer" [ "$(jq_ "$tmp/r.json" '"Plaintext" in j["body"]')" = false ]
jq_ "$tmp/r.json" 'j["body"]["CiphertextForRecipient"]' | base64 -d >"$tmp/cfr.der"
openssl cms -decrypt -inform DER -in "$tmp/cfr.der" -inkey "$tmp/enclave.pem" -binary \
    -out "$tmp/data_key.bin" 2>"$tmp/cms.err"
check "openssl cms opens CiphertextForRecipient with the enclave's key: 32 bytes" \
    [ "$(stat -c %s "$tmp/data_key.bin" 2>/dev/null)" = 32 ]
wrapped=$(jq_ "$tmp/r.json" 'j["body"]["CiphertextBlob"]')
jq_ "$tmp/r.json" '__import__("base64").b64decode(j["headers"]["x-veritee-receipt"]).decode()' >"$tmp/receipt.json"
python3 -c 'import json,sys; print(json.dumps({"receipt": json.load(open(sys.argv[1])), "receipt_kid": sys.argv[2]}))' \
    "$tmp/receipt.json" "$(jq_ "$tmp/r.json" 'j["headers"]["x-veritee-receipt-kid"]')" >"$tmp/receipt_resp.json"
logkey=$(sqlite3 "$tmp/v.db" "SELECT public_xy FROM vb_signing_keys WHERE retired = 0 LIMIT 1")
"$veritee" audit receipt --receipt "$tmp/receipt_resp.json" --key "$logkey" --entry >"$tmp/rc.json" 2>&1
check "the receipt in x-veritee-receipt checks offline" grep -q '"verified":true' "$tmp/rc.json"
call admin Decrypt "{\"CiphertextBlob\":\"$wrapped\"}"
check "the CiphertextBlob holds the same data key" \
    [ "$(jq_ "$tmp/r.json" 'j["body"]["Plaintext"]')" = "$(base64 -w0 "$tmp/data_key.bin")" ]
# another image: a key policy on another PCR0
other=$(python3 -c 'import sys; p=sys.argv[1]; print(("f" if p[0] != "f" else "e") + p[1:])' "$pcr0")
sed "s/$pcr0/$other/" "$tmp/policy.json" >"$tmp/policy2.json"
call admin CreateKey "$(python3 -c 'import json,sys; print(json.dumps({"Policy": open(sys.argv[1]).read()}))' "$tmp/policy2.json")"
key2=$(jq_ "$tmp/r.json" 'j["body"]["KeyMetadata"]["KeyId"]')
call enclave GenerateDataKey "{\"KeyId\":\"$key2\",\"KeySpec\":\"AES_256\",$(recipient "$tmp/doc.cbor")}"
check "a document of another image than the policy's: AccessDeniedException" [ "$(st)" = "400 AccessDeniedException" ]
head -c 100 "$tmp/doc.cbor" >"$tmp/cut.cbor"
call enclave GenerateRandom "{\"NumberOfBytes\":16,$(recipient "$tmp/cut.cbor")}"
check "a cut document: ValidationException" [ "$(st)" = "400 ValidationException" ]
call enclave GenerateRandom "{\"NumberOfBytes\":16,$(recipient "$tmp/doc.cbor")}"
check "GenerateRandom with a Recipient" [ "$(jq_ "$tmp/r.json" 'str(j["status"]) + " " + str("CiphertextForRecipient" in j["body"])')" = "200 True" ]

# ---- a disabled access key ----
k access-key disable --access-key-id "$(jq_ "$tmp/spare.json" 'j["AccessKeyId"]')" >/dev/null
call spare GenerateRandom '{"NumberOfBytes":8}'
check "a disabled access key: UnrecognizedClientException" [ "$(st)" = "400 UnrecognizedClientException" ]
k access-key disable --access-key-id AKIANOSUCHKEY0000000 2>/dev/null
check "disabling an unknown access key fails" [ $? != 0 ]
stop_pid "$KMS_PID"
"$veritee" audit verify --db "$db" >"$tmp/audit.json"
check "veritee audit verify passes on the KMS calls' log" grep -q '"verified":true' "$tmp/audit.json"
check "... every call by a known access key logged (15)" [ "$(jq_ "$tmp/audit.json" 'j["entries"]')" = 15 ]
"$veritee" broker log --db "$db" --master-key-file "$mk" --limit 1000 >"$tmp/log.json"
check "the log names the document's image and the denials" \
    bash -c "grep -q image_sha384 '$tmp/log.json' && grep -q '\\\\\"decision\\\\\":\\\\\"deny\\\\\"' '$tmp/log.json'"
check "no data key in the log" bash -c "! grep -qF '$(base64 -w0 "$tmp/data_key.bin")' '$tmp/log.json'"

# ---- veritee serve --kms-listen ----
pf="$tmp/serve.port"
kpf="$tmp/serve-kms.port"
"$veritee" serve --db "$db" --master-key-file "$mk" --listen 127.0.0.1:0 --port-file "$pf" \
    --kms-listen 127.0.0.1:0 --kms-port-file "$kpf" --kms-account 111122223333 \
    --kms-region eu-west-1 --mode offline --refresh-interval 0 2>"$tmp/serve.log" &
pids+=($!)
serve_pid=$!
url="http://127.0.0.1:$(wait_port "$pf")" || bad "serve"
kurl="http://127.0.0.1:$(wait_port "$kpf")" || bad "serve --kms-listen"
check "veritee serve: the broker's JWKS" bash -c "curl -s '$url/.well-known/jwks.json' | grep -q keys"
call enclave Decrypt "{\"CiphertextBlob\":\"$blob\",\"EncryptionContext\":{\"app\":\"vault\"},$(recipient "$tmp/doc.cbor")}" "$kurl"
check "veritee serve --kms-listen: Decrypt refused without the simulator's root (not trusted there)" \
    [ "$(st)" = "400 ValidationException" ]
call admin Decrypt "{\"CiphertextBlob\":\"$blob\",\"EncryptionContext\":{\"app\":\"vault\"}}" "$kurl"
check "veritee serve --kms-listen: Decrypt by the admin" [ "$(jq_ "$tmp/r.json" 'j["body"]["Plaintext"]')" = "c2VjcmV0" ]
check "the KMS path is not the main listener's" [ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$url/")" != 200 ]
stop_pid "$serve_pid"
"$veritee" serve --db "$db" --master-key-file "$mk" --listen 127.0.0.1:0 --kms-listen 127.0.0.1:0 \
    --mode offline 2>"$tmp/err" >/dev/null
check "serve --kms-listen without --kms-account: exit 2" bash -c "[ $? = 2 ] && grep -q -- --kms-account '$tmp/err'"

# ---- HTTPS, and options from a config file ----
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tmp/tls.key" -out "$tmp/tls.crt" -days 2 \
    -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null
printf 'db = %s\nmaster-key-file = %s\naccount = 111122223333\nregion = eu-west-1\n' "$db" "$mk" \
    >"$tmp/kms.conf"
printf 'tls-cert = %s\ntls-key = %s\n' "$tmp/tls.crt" "$tmp/tls.key" >>"$tmp/kms.conf"
pf="$tmp/tls.port"
"$veritee" kms serve --config "$tmp/kms.conf" --listen 127.0.0.1:0 --port-file "$pf" \
    2>"$tmp/tls.log" &
pids+=($!)
tls_pid=$!
turl="https://127.0.0.1:$(wait_port "$pf")" || bad "kms serve over TLS"
check "kms serve --config with --tls-cert: says https" grep -q 'serving on https://' "$tmp/tls.log"
KMS_CA_FILE="$tmp/tls.crt" call admin ListKeys '{}' "$turl"
check "a signed call over HTTPS (the server's certificate checked)" [ "$(st)" = "200 ok" ]
stop_pid "$tls_pid"
check "access-key list from a config file's db and master-key-file" \
    grep -q 'role/admin' <("$veritee" kms access-key list --config "$tmp/kms.conf")

# ---- the master key follows a rewrap ----
"$veritee" broker master-key >"$tmp/new.key"
"$veritee" broker rewrap --db "$db" --master-key-file "$mk" --new-master-key-file "$tmp/new.key" >"$tmp/rewrap.json"
check "rewrap counts the KMS key versions and access keys" [ "$(jq_ "$tmp/rewrap.json" 'j["rewrapped"] >= 5')" = true ]
start_kms "$tmp/kms2.log" --master-key-file "$tmp/new.key" --account 111122223333 --region eu-west-1 ||
    bad "kms serve after rewrap"
call admin Decrypt "{\"CiphertextBlob\":\"$blob\",\"EncryptionContext\":{\"app\":\"vault\"}}"
check "after the rewrap: the old access key signs, the old blob decrypts" [ "$(jq_ "$tmp/r.json" 'j["body"]["Plaintext"]')" = "c2VjcmV0" ]
stop_pid "$KMS_PID"
k access-key list >/dev/null 2>"$tmp/err"
check "the old master key is refused after the rewrap" bash -c "[ $? != 0 ] && grep -q master_key '$tmp/err'"
finish
