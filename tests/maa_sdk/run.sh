#!/usr/bin/env bash
# Drive veritee's Azure Attestation (MAA) drop-in with Microsoft's @azure/attestation SDK (and,
# in maa_skr, its Key Vault drop-in with @azure/keyvault-keys): install the pinned SDKs into the
# build tree (npm ci from the checked-in lock file; again only when the
# lock file changes; never vendored), make a TLS certificate for 127.0.0.1 that node trusts
# (NODE_EXTRA_CA_CERTS: the SDK sends bearer tokens only over https), then run one node test file
# of tests/maa_sdk with node's test runner. Without node, npm, openssl or the npm registry the
# test is skipped with a message, and fails under CI=true.
# Usage: run.sh BUILD_DIR VERITEE TEST_FILE
set -euo pipefail
build=${1:?usage: run.sh BUILD_DIR VERITEE TEST_FILE}
veritee=${2:?usage: run.sh BUILD_DIR VERITEE TEST_FILE}
test_file=${3:?usage: run.sh BUILD_DIR VERITEE TEST_FILE}
here=$(cd "$(dirname "$0")" && pwd)
dir="$build/maa-sdk"

source "$here/../support/npm_lib.sh"
npm_need_node @azure/attestation
npm_install "$here" "$dir" @azure/attestation
# A self-signed certificate for https://127.0.0.1 (made once per build tree, one test at a time).
exec 9>"$dir/.lock"
flock 9
if [ ! -s "$dir/tls/cert.pem" ]; then
    mkdir -p "$dir/tls"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
        -subj "/CN=veritee maa_sdk test" -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
        -keyout "$dir/tls/key.pem.tmp" -out "$dir/tls/cert.pem.tmp" 2>/dev/null
    mv "$dir/tls/key.pem.tmp" "$dir/tls/key.pem"
    mv "$dir/tls/cert.pem.tmp" "$dir/tls/cert.pem"
fi
flock -u 9
version=$(node -p "require('$dir/node_modules/@azure/attestation/package.json').version")
echo "@azure/attestation $version, node $(node --version)"
export VERITEE=$veritee VT_MAA_SDK_DIR=$dir VT_MAA_TLS_CERT=$dir/tls/cert.pem \
    VT_MAA_TLS_KEY=$dir/tls/key.pem NODE_EXTRA_CA_CERTS=$dir/tls/cert.pem
exec node --no-warnings --test --test-reporter=spec "$here/$test_file"
