# Shared by the tests that drive veritee with other people's npm clients (tests/kms_sdk,
# tests/maa_sdk, tests/keyvault_sdk, tests/console): skipping without the tools (a failure under
# CI=true) and installing a checked-in package.json + package-lock.json into the build tree with npm ci (again
# only when the lock file changes; never vendored). Source it; it defines:
#   npm_skip MESSAGE...           SKIP (exit 0), or FAIL (exit 1) under CI=true
#   npm_need_node WHAT            node, npm and openssl present and node >= 20 (WHAT's minimum)
#   npm_install SRC_DIR DEST_DIR WHAT
#                                 npm ci of SRC_DIR's lock file into DEST_DIR, one test at a time

npm_skip() {
    if [ "${CI:-}" = true ]; then
        echo "FAIL: $* (under CI=true the test must run)"
        exit 1
    fi
    echo "SKIP: $*"
    exit 0
}

npm_need_node() {
    command -v node >/dev/null && command -v npm >/dev/null ||
        npm_skip "node and npm not found (scripts/install-deps.sh installs them)"
    command -v openssl >/dev/null || npm_skip "openssl not found"
    # The SDKs pinned here declare node >= 20 (Debian 12's own nodejs is 18).
    node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)' ||
        npm_skip "node $(node --version) is older than $1's minimum, 20"
}

npm_install() {
    local src=$1 dest=$2 what=$3
    mkdir -p "$dest"
    # Tests sharing an install take turns.
    exec 9>"$dest/.lock"
    flock 9
    if ! cmp -s "$src/package-lock.json" "$dest/package-lock.json" || [ ! -d "$dest/node_modules" ]; then
        rm -rf "$dest/node_modules" "$dest/package-lock.json"
        cp "$src/package.json" "$src/package-lock.json" "$dest/"
        if ! (cd "$dest" && npm ci --no-audit --no-fund --loglevel=error >"$dest/npm.log" 2>&1); then
            cat "$dest/npm.log"
            rm -f "$dest/package-lock.json"
            flock -u 9
            npm_skip "npm ci of $what failed (no registry?)"
        fi
    fi
    flock -u 9
}
