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

skip() {
    if [ "${CI:-}" = true ]; then
        echo "FAIL: $* (under CI=true the SDK test must run)"
        exit 1
    fi
    echo "SKIP: $*"
    exit 0
}

command -v node >/dev/null && command -v npm >/dev/null ||
    skip "node and npm not found (scripts/install-deps.sh installs them)"
command -v openssl >/dev/null || skip "openssl not found"
# @azure/keyvault-keys 4.10 (the SKR test) declares node >= 20 (Debian 12's own nodejs is 18).
node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)' ||
    skip "node $(node --version) is older than the SDKs' minimum, 20"
mkdir -p "$dir"
# Two tests share the install: one at a time.
exec 9>"$dir/.lock"
flock 9
if ! cmp -s "$here/package-lock.json" "$dir/package-lock.json" || [ ! -d "$dir/node_modules" ]; then
    rm -rf "$dir/node_modules" "$dir/package-lock.json"
    cp "$here/package.json" "$here/package-lock.json" "$dir/"
    if ! (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >"$dir/npm.log" 2>&1); then
        cat "$dir/npm.log"
        rm -f "$dir/package-lock.json"
        skip "npm ci of @azure/attestation failed (no registry?)"
    fi
fi
# A self-signed certificate for https://127.0.0.1 (made once per build tree).
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
