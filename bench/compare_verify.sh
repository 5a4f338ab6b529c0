#!/usr/bin/env bash
# Compare two veritee builds' verification rates on one real piece of evidence of each kind,
# alternating the binaries so that both see the same machine load: `veritee bench --seconds 2`,
# which measures its own floor (P-256 or P-384 verifications per second) in the same run.
# Prints one line per run: WHICH EVIDENCE VERIFICATIONS/S FLOOR/S RATIO.
# With THREADS, both run `veritee bench --threads THREADS` (both binaries must have it: issue 17
# on): VERIFICATIONS/S is then the rate on THREADS threads sharing one verifier, FLOOR/S the
# floor on THREADS threads, RATIO the one against the other, and a fifth column gives SCALING
# (the THREADS-thread rate over the one-thread rate of the same run).
# Usage: bench/compare_verify.sh BEFORE_VERITEE AFTER_VERITEE [ROUNDS (3)] [THREADS]
# Fixtures: VERITEE_FIXTURES, or ../shared/fixtures beside the repository.
set -euo pipefail
usage="usage: compare_verify.sh BEFORE_VERITEE AFTER_VERITEE [ROUNDS] [THREADS]"
before=${1:?$usage}
after=${2:?$usage}
rounds=${3:-3}
threads=${4:-}
threads_args=()
if [ -n "$threads" ]; then
    threads_args=(--threads "$threads")
fi
f=${VERITEE_FIXTURES:-$(cd "$(dirname "$0")/.." && pwd)/../shared/fixtures}
[ -d "$f/dcap" ] || { echo "compare_verify: no fixtures at $f" >&2; exit 2; }
ali=$f/dcap/automata-dcap-attestation/tdx-v5-fmspc90c06f000000-alibaba
run() { # run BINARY LABEL ARGS...
    local bin=$1 label=$2
    shift 2
    "$bin" bench --seconds 2 ${threads_args[@]+"${threads_args[@]}"} "$@" | python3 -c '
import json, sys
j = json.load(sys.stdin)
if sys.argv[2]:
    print("%s %.0f %.0f %.3f %.3f" % (sys.argv[1], j["verifications_per_second"],
                                      j["floor_threads_per_second"], j["ratio_to_floor"],
                                      j["scaling"] if j["scaling"] is not None else 1.0))
else:
    print("%s %.0f %.0f %.3f" % (sys.argv[1], j["verifications_per_second"], j["floor_per_second"],
                                 j["ratio_to_floor"]))' "$label" "$threads"
}
for _ in $(seq 1 "$rounds"); do
    for which in before after; do
        bin=$before
        [ "$which" = after ] && bin=$after
        run "$bin" "$which tdx" --collateral "$ali" --at 1749945600 "$ali/quote.bin"
        run "$bin" "$which nitro" --at 2024-11-30T16:22:50Z \
            "$f/nitro/base-nitro-validator/attestation-2024-11-30.cose"
        run "$bin" "$which snp" --vcek "$f/snp/trustee/test-vcek.der" "$f/snp/trustee/test-report.bin"
    done
done
