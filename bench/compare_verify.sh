#!/usr/bin/env bash
# Compare two veritee builds' verification rates on one real piece of evidence of each kind,
# alternating the binaries so that both see the same machine load: `veritee bench --seconds 2`,
# which measures its own floor (P-256 or P-384 verifications per second) in the same run.
# Prints one line per run: WHICH EVIDENCE VERIFICATIONS/S FLOOR/S RATIO.
# Usage: bench/compare_verify.sh BEFORE_VERITEE AFTER_VERITEE [ROUNDS (3)]
# Fixtures: VERITEE_FIXTURES, or ../shared/fixtures beside the repository.
set -euo pipefail
before=${1:?usage: compare_verify.sh BEFORE_VERITEE AFTER_VERITEE [ROUNDS]}
after=${2:?usage: compare_verify.sh BEFORE_VERITEE AFTER_VERITEE [ROUNDS]}
rounds=${3:-3}
f=${VERITEE_FIXTURES:-$(cd "$(dirname "$0")/.." && pwd)/../shared/fixtures}
[ -d "$f/dcap" ] || { echo "compare_verify: no fixtures at $f" >&2; exit 2; }
ali=$f/dcap/automata-dcap-attestation/tdx-v5-fmspc90c06f000000-alibaba
run() { # run BINARY LABEL ARGS...
    local bin=$1 label=$2
    shift 2
    "$bin" bench --seconds 2 "$@" | python3 -c '
import json, sys
j = json.load(sys.stdin)
print("%s %.0f %.0f %.3f" % (sys.argv[1], j["verifications_per_second"], j["floor_per_second"],
                             j["ratio_to_floor"]))' "$label"
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
