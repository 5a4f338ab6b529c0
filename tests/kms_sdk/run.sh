#!/usr/bin/env bash
# Drive veritee's AWS KMS drop-in with the AWS SDK for JavaScript v3: install the pinned
# @aws-sdk/client-kms into the build tree (npm ci from the checked-in lock file; again only when
# the lock file changes; never vendored), then run one node test file of tests/kms_sdk with
# node's test runner. Without node, npm or the npm registry the test is skipped with a message,
# and fails under CI=true.
# Usage: run.sh BUILD_DIR VERITEE VT_NITRO_DOC TEST_FILE
set -euo pipefail
build=${1:?usage: run.sh BUILD_DIR VERITEE VT_NITRO_DOC TEST_FILE}
veritee=${2:?usage: run.sh BUILD_DIR VERITEE VT_NITRO_DOC TEST_FILE}
nitro_doc=${3:?usage: run.sh BUILD_DIR VERITEE VT_NITRO_DOC TEST_FILE}
test_file=${4:?usage: run.sh BUILD_DIR VERITEE VT_NITRO_DOC TEST_FILE}
here=$(cd "$(dirname "$0")" && pwd)
dir="$build/kms-sdk"

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
# @aws-sdk/client-kms 3.1178 declares node >= 20 (Debian 12's own nodejs is 18).
node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)' ||
    skip "node $(node --version) is older than the SDK's minimum, 20"
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
        skip "npm ci of @aws-sdk/client-kms failed (no registry?)"
    fi
fi
flock -u 9
version=$(node -p "require('$dir/node_modules/@aws-sdk/client-kms/package.json').version")
echo "@aws-sdk/client-kms $version, node $(node --version)"
export VERITEE=$veritee VT_NITRO_DOC=$nitro_doc VT_KMS_SDK_DIR=$dir
exec node --no-warnings --test --test-reporter=spec "$here/$test_file"
