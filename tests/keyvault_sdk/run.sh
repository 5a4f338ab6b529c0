#!/usr/bin/env bash
# Drive veritee's Azure Key Vault drop-in (veritee serve --keyvault-listen, docs/skr.md) with
# @azure/keyvault-keys: install the pinned SDK into the build tree (npm ci from the checked-in
# lock file; again only when the lock file changes; never vendored), make a CA and a server
# certificate for 127.0.0.1 with openssl (the SDK sends bearer tokens over HTTPS only; node
# trusts the CA through NODE_EXTRA_CA_CERTS), then run one node test file of tests/keyvault_sdk
# with node's test runner. Without node, npm, openssl or the npm registry the test is skipped
# with a message, and fails under CI=true. With "postgres" the service's database is on a
# PostgreSQL server the script starts (tests/support/pg.sh).
# Usage: run.sh BUILD_DIR VERITEE TEST_FILE [postgres]
set -euo pipefail
build=${1:?usage: run.sh BUILD_DIR VERITEE TEST_FILE}
veritee=${2:?usage: run.sh BUILD_DIR VERITEE TEST_FILE}
test_file=${3:?usage: run.sh BUILD_DIR VERITEE TEST_FILE}
backend=${4:-sqlite}
here=$(cd "$(dirname "$0")" && pwd)
dir="$build/keyvault-sdk"

source "$here/../support/npm_lib.sh"
npm_need_node @azure/keyvault-keys
npm_install "$here" "$dir" @azure/keyvault-keys
version=$(node -p "require('$dir/node_modules/@azure/keyvault-keys/package.json').version")
echo "@azure/keyvault-keys $version, node $(node --version)"

# A throwaway CA and the server's certificate (127.0.0.1 and localhost).
tls=$(mktemp -d)
chmod 755 "$tls" # the PostgreSQL server runs as another user
trap 'rm -rf "$tls"' EXIT
if [ "$backend" = postgres ]; then
    source "$here/../support/pg.sh"
    trap 'pg_stop; rm -rf "$tls"' EXIT
    pg_start "$tls/pg" || { echo "FAIL: PostgreSQL did not start"; exit 1; }
    export VT_KV_DB=$PG_URL
fi
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=veritee keyvault test CA" \
    -keyout "$tls/ca.key" -out "$tls/ca.pem" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" \
    2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$tls/server.key" \
    -out "$tls/server.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >"$tls/ext"
openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" \
    -CAcreateserial -days 2 -extfile "$tls/ext" -out "$tls/server.pem" 2>/dev/null

export VERITEE=$veritee VT_KV_SDK_DIR=$dir VT_KV_TLS_CERT=$tls/server.pem \
    VT_KV_TLS_KEY=$tls/server.key NODE_EXTRA_CA_CERTS=$tls/ca.pem
node --no-warnings --test --test-reporter=spec "$here/$test_file"
