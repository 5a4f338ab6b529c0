#!/usr/bin/env bash
# Install libveritee into a temporary prefix with `cmake --install --prefix`, then check what was
# installed and build against it from outside the tree:
#  - the installed headers are exactly the public API (include/veritee/, docs/design.md "The
#    installed API"), and libveritee.so exports exactly the functions they declare, no more, no
#    fewer (api_check.py: `nm -D --defined-only` against the preprocessed umbrella header);
#  - tests/pkgconfig/consumer.c and the examples (examples/password-vault) build with nothing but
#    `pkg-config --cflags --libs veritee` (and the examples' own dependencies), and run: the
#    consumer verifies a real Nitro document, the vault runs its self-test;
#  - the installed veritee.pc names the prefix it was installed to.
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
expected="atls.h attester.h buf.h claims.h client.h collateral.h common.h error.h limits.h policy.h receipt.h
time.h verifier.h veritee.h"
got=$(cd "$incdir/veritee" 2>/dev/null && find . -type f | sed 's,^\./,,' | sort | tr '\n' ' ')
check "the installed headers are the public API ($got)" \
    [ "$got" = "$(tr ' ' '\n' <<<"$expected" | grep . | sort | tr '\n' ' ')" ]
check "nothing but include/veritee/ under include/" \
    [ "$(ls "$incdir")" = veritee ]
so="$libdir/libveritee.so"
python3 "$here/api_check.py" "$cc" "$incdir" "$so" >"$tmp/api.log" 2>&1
rc=$?
check "libveritee.so exports exactly the functions of the installed headers ($(tail -n 1 \
    "$tmp/api.log"))" [ "$rc" -eq 0 ] || cat "$tmp/api.log"
# shellcheck disable=SC2046
$cc $extra -std=c17 -Wall -Wextra -Wpedantic -Werror "$here/consumer.c" -o "$tmp/consumer" \
    $(pkg-config --cflags --libs veritee) \
    2>"$tmp/cc.log"
check "a program builds with pkg-config --cflags --libs veritee alone" [ $? -eq 0 ] ||
    cat "$tmp/cc.log"
out=$(LD_LIBRARY_PATH="$libdir" "$tmp/consumer" 2>&1)
check "it runs against the installed shared library ($out)" grep -q "expired" <<<"$out"
# The examples, as a user builds them: the installed library through pkg-config, plus their own
# dependencies (the vault: jansson, sqlite3, libssl, libcrypto, libargon2).
vault="$here/../../examples/password-vault/vault.c"
# shellcheck disable=SC2046
$cc $extra -std=c17 -Wall -Wextra -Werror "$vault" -o "$tmp/veritee-vault" \
    $(pkg-config --cflags --libs veritee jansson sqlite3 libssl libcrypto) -largon2 2>"$tmp/vault.log"
check "examples/password-vault builds against the installed prefix" [ $? -eq 0 ] ||
    cat "$tmp/vault.log"
out=$(LD_LIBRARY_PATH="$libdir" "$tmp/veritee-vault" --self-test 2>&1)
check "the vault built that way passes its self-test ($out)" grep -q "self-test: ok" <<<"$out"
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
