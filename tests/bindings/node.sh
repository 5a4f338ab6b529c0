#!/usr/bin/env bash
# The Node.js binding (bindings/node) as a user builds it: libveritee installed into a prefix in
# the build tree (cmake --install), the package copied beside it with node-addon-api, node-gyp
# and typescript installed by `npm ci` from the checked-in lock file (again only when the lock
# file changes; never vendored), the addon built by node-gyp against that prefix through
# pkg-config and node's own headers, index.d.ts type-checked against test/types.ts, then the
# tests run with node's test runner: every real fixture with the command line's verdicts, the
# error paths, policies, the broker client against a live broker. Without node, npm, node's
# headers or the npm registry the test is skipped with a message, and fails under CI=true.
# Usage: node.sh BUILD_DIR VERITEE CC SANITIZE(ON|OFF)
set -euo pipefail
build=${1:?usage: node.sh BUILD_DIR VERITEE CC SANITIZE}
veritee=${2:?}
cc=${3:?}
sanitize=${4:-OFF}
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../../bindings/node" && pwd)
dir="$build/bindings/node"

skip() {
    if [ "${CI:-}" = true ]; then
        echo "FAIL: $* (under CI=true the Node.js binding test must run)"
        exit 1
    fi
    echo "SKIP: $*"
    exit 0
}

command -v node >/dev/null && command -v npm >/dev/null ||
    skip "node and npm not found (scripts/install-deps.sh installs them)"
node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)' ||
    skip "node $(node --version) is older than 20 (node-gyp 12 needs ^20.17)"
command -v pkg-config >/dev/null || skip "pkg-config not found"
command -v c++ >/dev/null || skip "no C++ compiler for node-addon-api"
# node's headers: node-gyp would download them; the distribution's are used instead.
nodedir=${VT_NODEDIR:-$(node -p 'require("path").resolve(process.execPath, "../..")')}
[ -f "$nodedir/include/node/common.gypi" ] ||
    skip "node's headers not found under $nodedir/include/node (Debian: libnode-dev; set VT_NODEDIR)"

mkdir -p "$dir"
exec 9>"$dir/.lock"
flock 9
rm -rf "$dir/prefix"
cmake --install "$build" --prefix "$dir/prefix" >"$dir/install.log" 2>&1 ||
    { cat "$dir/install.log"; exit 1; }
pc=$(find "$dir/prefix" -name veritee.pc | head -n 1)
export PKG_CONFIG_PATH=$(dirname "$pc")
pkg="$dir/pkg"
mkdir -p "$pkg"
if ! cmp -s "$src/package-lock.json" "$pkg/package-lock.json" || [ ! -d "$pkg/node_modules" ]; then
    rm -rf "$pkg/node_modules" "$pkg/package-lock.json"
    cp "$src/package.json" "$src/package-lock.json" "$pkg/"
    if ! (cd "$pkg" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >"$dir/npm.log" 2>&1); then
        cat "$dir/npm.log"
        rm -f "$pkg/package-lock.json"
        skip "npm ci of node-addon-api, node-gyp and typescript failed (no registry?)"
    fi
fi
rm -rf "$pkg/src" "$pkg/build" "$pkg/test"
cp -r "$src/src" "$src/binding.gyp" "$src/index.js" "$src/index.d.ts" "$src/package.json" "$pkg/"
# The TypeScript declarations, checked against a program using the whole API (tsc --strict).
mkdir -p "$pkg/test"
cp "$src/test/types.ts" "$src/test/tsconfig.json" "$pkg/test/"
(cd "$pkg" && node node_modules/typescript/bin/tsc -p test/tsconfig.json) ||
    { echo "FAIL: index.d.ts does not type-check test/types.ts"; exit 1; }
echo "index.d.ts: test/types.ts type-checks (typescript $(node -p "require('$pkg/node_modules/typescript/package.json').version"), --strict)"
(cd "$pkg" && node node_modules/node-gyp/bin/node-gyp.js rebuild --nodedir="$nodedir" -j 2 \
    >"$dir/gyp.log" 2>&1) || { cat "$dir/gyp.log"; exit 1; }
echo "built $pkg/build/Release/veritee.node against $(pkg-config --variable=libdir veritee)" \
    "with node-addon-api $(node -p "require('$pkg/node_modules/node-addon-api/package.json').version")," \
    "node-gyp $(node -p "require('$pkg/node_modules/node-gyp/package.json').version"), node $(node --version)"

export VERITEE_BINARY=$veritee VERITEE_NODE_PKG=$pkg
# One libuv pool thread: verifications queue on it, and the client's requests (threads of their
# own) must not need it while their JavaScript evidence functions use it.
export UV_THREADPOOL_SIZE=1
if [ "$sanitize" = ON ]; then
    # libveritee.so carries AddressSanitizer: its runtime must be loaded into node first; node's
    # own allocations are not ours to leak-check. The veritee command it starts does without.
    case "$cc" in
    *clang*) asan=$("$cc" -print-file-name=libclang_rt.asan-x86_64.so) ;;
    *) asan=$("$cc" -print-file-name=libasan.so) ;;
    esac
    export LD_PRELOAD=$asan
    export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1
fi
cd "$dir"
exec node --test --test-reporter=spec "$src"/test/*.test.mjs
