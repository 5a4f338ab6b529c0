#!/usr/bin/env bash
# Install libveritee into a temporary prefix with `cmake --install --prefix`, then build
# tests/pkgconfig/consumer.c with nothing but `pkg-config --cflags --libs veritee` from that
# prefix, run it, and check that the installed veritee.pc names the prefix it was installed to.
# Usage: install_consumer.sh BUILD_DIR CC [EXTRA_CFLAGS]   (sanitizer flags of the build, if any)
set -uo pipefail
build=${1:?usage: install_consumer.sh BUILD_DIR CC [EXTRA_CFLAGS]}
cc=${2:?}
extra=${3:-}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passes=0 fails=0
check() {
    local what=$1
    shift
    if "$@"; then passes=$((passes + 1)); else echo "FAIL $what"; fails=$((fails + 1)); fi
}

prefix="$tmp/elsewhere/prefix" # not the configured prefix
cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" 2>&1
check "cmake --install --prefix" [ $? -eq 0 ]
pc=$(find "$prefix" -name veritee.pc | head -n 1)
check "veritee.pc installed" [ -n "$pc" ]
export PKG_CONFIG_PATH=$(dirname "$pc")
check "veritee.pc does not name the configure-time prefix" bash -c "! grep -q '/usr/local' '$pc'"
incdir=$(pkg-config --variable=includedir veritee)
check "includedir resolves into the install prefix ($incdir)" \
    bash -c '[ "$(cd "$1" && pwd -P)" = "$(cd "$2/include" && pwd -P)" ]' _ "$incdir" "$prefix"
libdir=$(pkg-config --variable=libdir veritee)
# shellcheck disable=SC2046
$cc $extra "$here/consumer.c" -o "$tmp/consumer" $(pkg-config --cflags --libs veritee) \
    2>"$tmp/cc.log"
check "a program builds with pkg-config --cflags --libs veritee alone" [ $? -eq 0 ] ||
    cat "$tmp/cc.log"
out=$(LD_LIBRARY_PATH="$libdir" "$tmp/consumer" 2>&1)
check "it runs against the installed shared library ($out)" grep -q "expired" <<<"$out"
fixtures=${VERITEE_FIXTURES:-${VT_FIXTURES:-${VT_FIXTURES_DEFAULT:-}}}
doc="$fixtures/nitro/base-nitro-validator/attestation-2024-11-30.cose"
if [ -f "$doc" ]; then
    out=$(LD_LIBRARY_PATH="$libdir" "$tmp/consumer" "$doc" 2024-11-30T16:30:00Z 2>&1)
    check "it verifies a real Nitro document ($out)" grep -q "verified: nitro-document UpToDate" \
        <<<"$out"
elif [ "${CI:-}" = true ]; then
    check "fixtures present under CI" false
else
    echo "SKIP: the real Nitro document needs the fixtures (set VERITEE_FIXTURES)"
fi
echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
