#!/usr/bin/env bash
# The Python binding (bindings/python) as a user installs it: libveritee installed into a prefix
# in the build tree (cmake --install), a wheel built from a copy of bindings/python against that
# prefix through pkg-config (python3 -m build --wheel --no-isolation: no network), installed into a
# virtual environment in the build tree, then its pytest suite run from outside the source tree
# (every real fixture, compared with `veritee verify`; the error paths; policies; the client
# against a live broker). Debian's python3 with python3-cffi, python3-build, python3-pytest and
# python3-venv (scripts/install-deps.sh); without them the test is skipped with a message, and
# fails under CI=true.
# Usage: python.sh BUILD_DIR VERITEE CC SANITIZE(ON|OFF)
set -euo pipefail
build=${1:?usage: python.sh BUILD_DIR VERITEE CC SANITIZE}
veritee=${2:?}
cc=${3:?}
sanitize=${4:-OFF}
here=$(cd "$(dirname "$0")" && pwd)
src="$here/../../bindings/python"
dir="$build/bindings/python"

skip() {
    if [ "${CI:-}" = true ]; then
        echo "FAIL: $* (under CI=true the Python binding test must run)"
        exit 1
    fi
    echo "SKIP: $*"
    exit 0
}

# Debian's interpreter, where the python3-* packages are (a pyenv or other python3 earlier on
# PATH does not see them). VT_PYTHON chooses another.
py=${VT_PYTHON:-/usr/bin/python3}
[ -x "$py" ] || py=$(command -v python3 || true)
[ -n "$py" ] || skip "no python3"
for m in cffi build pytest venv setuptools wheel; do
    "$py" -c "import $m" 2>/dev/null ||
        skip "$py has no module $m (scripts/install-deps.sh installs python3-cffi python3-build python3-pytest python3-venv)"
done
command -v pkg-config >/dev/null || skip "pkg-config not found"

mkdir -p "$dir"
exec 9>"$dir/.lock"
flock 9
rm -rf "$dir/prefix" "$dir/src" "$dir/dist"
cmake --install "$build" --prefix "$dir/prefix" >"$dir/install.log" 2>&1 ||
    { cat "$dir/install.log"; exit 1; }
pc=$(find "$dir/prefix" -name veritee.pc | head -n 1)
export PKG_CONFIG_PATH=$(dirname "$pc")
# A copy: setuptools writes build/ and *.egg-info beside the sources.
cp -r "$src" "$dir/src"
rm -rf "$dir/src/tests"
(cd "$dir/src" && "$py" -m build --wheel --no-isolation --outdir "$dir/dist" >"$dir/build.log" 2>&1) ||
    { cat "$dir/build.log"; exit 1; }
wheel=$(ls "$dir"/dist/veritee-*.whl)
echo "built $(basename "$wheel") against $(pkg-config --variable=libdir veritee)"
# The venv sees Debian's packages (cffi's backend, pytest); the binding comes from the wheel only.
if [ ! -x "$dir/venv/bin/python" ]; then
    "$py" -m venv --system-site-packages "$dir/venv"
fi
"$dir/venv/bin/python" -m pip install -q --no-index --no-deps --force-reinstall "$wheel"

export VERITEE_BINARY=$veritee
if [ "$sanitize" = ON ]; then
    # libveritee.so carries AddressSanitizer: its runtime must be loaded first, and the
    # interpreter's own allocations are not ours to leak-check.
    case "$cc" in
    *clang*) asan=$("$cc" -print-file-name=libclang_rt.asan-x86_64.so) ;;
    *) asan=$("$cc" -print-file-name=libasan.so) ;;
    esac
    export LD_PRELOAD=$asan
    export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1
fi
"$dir/venv/bin/python" -c 'import veritee, sys; print("veritee", veritee.__version__, "from", veritee.__file__)'
export PYTHONDONTWRITEBYTECODE=1
cd "$dir"
exec "$dir/venv/bin/python" -m pytest -p no:cacheprovider -v -rs "$src/tests"
