#!/usr/bin/env bash
# Build everything with clang, -Werror, AddressSanitizer and UndefinedBehaviorSanitizer, then run
# every test: unit, command-line integration, fuzz corpus replay and a short fuzzing run per
# target, and the clang-format check. Ends with "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

build=${VT_CHECK_BUILD:-build/check}
jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DVT_SANITIZE=ON -DVT_WERROR=ON -DVT_FUZZ=ON >/dev/null
cmake --build "$build" -j"$jobs"
# The demo builds with the system compiler (gcc): it must be warning-free too.
cmake -S . -B "$build-gcc" -DCMAKE_C_COMPILER=gcc -DCMAKE_BUILD_TYPE=Release -DVT_WERROR=ON \
    >/dev/null
cmake --build "$build-gcc" -j"$jobs" >/dev/null

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
ctest --test-dir "$build" --output-on-failure -j"$jobs" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
summary=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1)
if [ -z "$summary" ]; then
    echo "0 passed, 1 failed"
    exit 1
fi
failed=$(echo "$summary" | sed -E 's/.*passed, ([0-9]+) tests? failed out of ([0-9]+).*/\1/')
total=$(echo "$summary" | sed -E 's/.*out of ([0-9]+).*/\1/')
echo "$((total - failed)) passed, $failed failed"
exit "$status"
