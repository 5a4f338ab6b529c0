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

source "$here/../support/npm_lib.sh"
npm_need_node @aws-sdk/client-kms
npm_install "$here" "$dir" @aws-sdk/client-kms
version=$(node -p "require('$dir/node_modules/@aws-sdk/client-kms/package.json').version")
echo "@aws-sdk/client-kms $version, node $(node --version)"
export VERITEE=$veritee VT_NITRO_DOC=$nitro_doc VT_KMS_SDK_DIR=$dir
exec node --no-warnings --test --test-reporter=spec "$here/$test_file"
