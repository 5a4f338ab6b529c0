#!/usr/bin/env bash
# veritee's AWS KMS drop-in driven by Debian's awscli, a second client independent of the
# JavaScript SDK (tests/kms_sdk): `veritee kms serve` on 127.0.0.1 with a temporary SQLite
# database, an access key from `veritee kms access-key create` in AWS_ACCESS_KEY_ID and
# AWS_SECRET_ACCESS_KEY, and `aws kms ... --endpoint-url http://127.0.0.1:PORT --region R`:
# create-key, describe-key, list-keys, aliases, encrypt/decrypt with fileb:// and an encryption
# context, generate-data-key, generate-random, key policies, disable-key and the refused calls with
# their error codes in stderr, a wrong secret, schedule-key-deletion. Skipped with a message when
# awscli is not installed (scripts/install-deps.sh installs it), failed under CI=true.
# AWS_KMS_CLI names another aws binary. Usage: kms_awscli.sh VERITEE
set -uo pipefail
veritee=${1:?usage: kms_awscli.sh VERITEE}
here=$(cd "$(dirname "$0")" && pwd)
support="$here/../support"
tmp=$(mktemp -d)
source "$support/cache_lib.sh"
trap cleanup EXIT

# Debian's package first (/usr/bin/aws), else whatever aws is on the PATH.
aws=${AWS_KMS_CLI:-$(if [ -x /usr/bin/aws ]; then echo /usr/bin/aws; else command -v aws; fi)}
if [ -z "$aws" ] || ! "$aws" --version >/dev/null 2>&1; then
    if [ "${CI:-}" = true ]; then
        bad "awscli not found (scripts/install-deps.sh installs Debian's awscli)"
    else
        echo "SKIP: awscli not found (scripts/install-deps.sh installs Debian's awscli)"
    fi
    finish
    exit
fi
echo "client: $("$aws" --version 2>&1) ($aws)"

# No configuration of the machine's user is read: only the environment below.
export AWS_CONFIG_FILE=$tmp/aws-config AWS_SHARED_CREDENTIALS_FILE=$tmp/aws-credentials
export AWS_PAGER="" AWS_DEFAULT_OUTPUT=json AWS_EC2_METADATA_DISABLED=true AWS_MAX_ATTEMPTS=1 AWS_RETRY_MODE=standard
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_DEFAULT_REGION AWS_REGION AWS_ENDPOINT_URL
: >"$AWS_CONFIG_FILE"
: >"$AWS_SHARED_CREDENTIALS_FILE"

region=eu-central-1
account=111122223333
db="sqlite:$tmp/kms.db"
mk="$tmp/master.key"
"$veritee" broker master-key >"$mk"
creds=$("$veritee" kms access-key create --db "$db" --master-key-file "$mk" \
    --principal "arn:aws:iam::$account:role/admin" --admin)
field() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
export AWS_ACCESS_KEY_ID=$(field AccessKeyId <<<"$creds")
export AWS_SECRET_ACCESS_KEY=$(field SecretAccessKey <<<"$creds")
pf="$tmp/kms.port"
"$veritee" kms serve --db "$db" --master-key-file "$mk" --account "$account" --region "$region" \
    --listen 127.0.0.1:0 --port-file "$pf" 2>"$tmp/serve.log" &
pids+=($!)
port=$(wait_port "$pf") || {
    cat "$tmp/serve.log"
    bad "veritee kms serve did not start"
    finish
    exit
}
endpoint="http://127.0.0.1:$port"

k() { # k SUBCOMMAND ARGS...: aws kms, JSON on stdout, errors in $tmp/err
    "$aws" kms "$@" --endpoint-url "$endpoint" --region "$region" 2>"$tmp/err"
}
refused() { # refused CODE NAME SUBCOMMAND ARGS...: the call fails with CODE named in stderr
    local code=$1 name=$2
    shift 2
    if k "$@" >/dev/null; then
        bad "$name: succeeded"
    elif grep -q "($code)" "$tmp/err"; then
        ok
    else
        bad "$name: stderr does not name $code: $(cat "$tmp/err")"
    fi
}
json() { # json EXPR: a Python expression on the JSON in $out (as j)
    python3 -c 'import json,sys; j=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1" <<<"$out"
}

out=$(k create-key --description "awscli test key")
check "create-key" [ "$(json 'j["KeyMetadata"]["KeyState"]')" = Enabled ]
key=$(json 'j["KeyMetadata"]["KeyId"]')
arn=$(json 'j["KeyMetadata"]["Arn"]')
check "create-key: the ARN names region, account and key id" \
    [ "$arn" = "arn:aws:kms:$region:$account:key/$key" ]
out=$(k describe-key --key-id "$arn")
check "describe-key by ARN" [ "$(json 'j["KeyMetadata"]["Description"]')" = "awscli test key" ]
out=$(k list-keys)
check "list-keys holds the key" [ "$(json "[x['KeyId'] for x in j['Keys']].count('$key')")" = 1 ]

k create-alias --alias-name alias/awscli-test --target-key-id "$key" &&
    out=$(k list-aliases --key-id "$key")
check "create-alias, list-aliases" \
    [ "$(json '[a["AliasName"] for a in j["Aliases"]]')" = "['alias/awscli-test']" ]

printf 'attack at dawn\n' >"$tmp/plain.txt"
out=$(k encrypt --key-id alias/awscli-test --plaintext "fileb://$tmp/plain.txt" \
    --encryption-context purpose=test,tenant=alpha --query CiphertextBlob --output text)
base64 -d <<<"$out" >"$tmp/blob.bin"
check "encrypt with fileb:// through an alias" [ -s "$tmp/blob.bin" ]
out=$(k decrypt --ciphertext-blob "fileb://$tmp/blob.bin" \
    --encryption-context purpose=test,tenant=alpha --query Plaintext --output text)
check "decrypt: the plaintext back" [ "$(base64 -d <<<"$out")" = "attack at dawn" ]
refused InvalidCiphertextException "decrypt with another encryption context" \
    decrypt --ciphertext-blob "fileb://$tmp/blob.bin" --encryption-context purpose=test,tenant=beta

out=$(k generate-data-key --key-id "$key" --key-spec AES_256)
json 'j["Plaintext"]' | base64 -d >"$tmp/dk.bin"
json 'j["CiphertextBlob"]' | base64 -d >"$tmp/dk.blob"
check "generate-data-key: 32 bytes" [ "$(stat -c %s "$tmp/dk.bin")" = 32 ]
out=$(k decrypt --ciphertext-blob "fileb://$tmp/dk.blob" --query Plaintext --output text)
check "the data key's blob decrypts to the data key" \
    cmp -s "$tmp/dk.bin" <(base64 -d <<<"$out")
out=$(k generate-random --number-of-bytes 48 --query Plaintext --output text)
check "generate-random: 48 bytes" [ "$(base64 -d <<<"$out" | wc -c)" = 48 ]

out=$(k get-key-policy --key-id "$key" --policy-name default --query Policy --output text)
check "get-key-policy: the default policy (the account's root)" \
    grep -q "arn:aws:iam::$account:root" <<<"$out"
printf '{"Version":"2012-10-17","Statement":[{"Sid":"x","Effect":"Permit","Principal":"*","Action":"kms:*","Resource":"*"}]}' \
    >"$tmp/bad-policy.json"
refused MalformedPolicyDocumentException "put-key-policy with Effect Permit" \
    put-key-policy --key-id "$key" --policy-name default --policy "file://$tmp/bad-policy.json"

k disable-key --key-id "$key"
out=$(k describe-key --key-id "$key")
check "disable-key" [ "$(json 'j["KeyMetadata"]["KeyState"]')" = Disabled ]
refused DisabledException "encrypt under a disabled key" \
    encrypt --key-id "$key" --plaintext "fileb://$tmp/plain.txt"
refused DisabledException "decrypt under a disabled key" \
    decrypt --ciphertext-blob "fileb://$tmp/blob.bin" --encryption-context purpose=test,tenant=alpha
k enable-key --key-id "$key"
out=$(k decrypt --ciphertext-blob "fileb://$tmp/blob.bin" \
    --encryption-context purpose=test,tenant=alpha --query Plaintext --output text)
check "enable-key: decrypts again" [ "$(base64 -d <<<"$out")" = "attack at dawn" ]

refused NotFoundException "describe-key of an unknown key" \
    describe-key --key-id 00000000-0000-4000-8000-000000000000
refused ValidationException "generate-random of 2000 bytes" generate-random --number-of-bytes 2000
AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY}x refused InvalidSignatureException \
    "a wrong secret key" list-keys
AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE refused UnrecognizedClientException \
    "an unknown access key id" list-keys
"$aws" kms list-keys --endpoint-url "$endpoint" --region us-west-2 >/dev/null 2>"$tmp/err"
check "a signature for another region: InvalidSignatureException" \
    grep -q "(InvalidSignatureException)" "$tmp/err"

out=$(k schedule-key-deletion --key-id "$key" --pending-window-in-days 7)
check "schedule-key-deletion: PendingDeletion, 7 days" \
    [ "$(json 'j["KeyState"], j["PendingWindowInDays"]')" = "('PendingDeletion', 7)" ]
refused KMSInvalidStateException "encrypt under a key pending deletion" \
    encrypt --key-id "$key" --plaintext "fileb://$tmp/plain.txt"
out=$(k cancel-key-deletion --key-id "$key")
check "cancel-key-deletion" [ "$(json 'j["KeyId"]')" = "$arn" ]
out=$(k describe-key --key-id "$key")
check "a key whose deletion is cancelled is Disabled (as in KMS)" \
    [ "$(json 'j["KeyMetadata"]["KeyState"]')" = Disabled ]

finish
