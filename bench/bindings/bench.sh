#!/usr/bin/env bash
# Throughput through the Python and Node.js bindings beside the C figure, and the Node.js binding
# beside other people's JavaScript verifiers, all on one core (taskset) in one run, on the
# evidence of bench/bench_{dcap,nitro,snp}.c (bench/bindings/evidence.json). The C figure is
# bench/bench_bindings.c: the same warm vt_verify loop over the public API as the bindings run.
# Every program reports verifications per second of wall-clock time and per second of its own CPU
# time; the tables compare CPU-time rates, which stay comparable when the machine runs other work
# (wall-clock rates then depend on what else ran at that moment). bench_dcap/nitro/snp run once
# first for the raw signature floor.
#
# Usage: bench/bindings/bench.sh BUILD_DIR [SECONDS] [CPU]
#   BUILD_DIR  a Release build with the benchmarks built and the bindings tested there once
#              (`ctest -R bindings` builds the wheel, its venv and the Node addon in BUILD_DIR)
#   SECONDS    per measurement (default 2); CPU the core to pin to (default 0)
# VT_BENCH_ROUNDS (default 3) rounds of C, Python and Node, one after the other; the tables give
# each figure's median over the rounds, the ratio of medians.
# The peers (@phala/dcap-qvl, @evervault/attestation-bindings, @lit-protocol/sev-snp-utils-sdk)
# are installed into BUILD_DIR/bench-peers by `npm ci` from bench/bindings/package-lock.json.
# Evervault's validator reads the wall clock, so it runs under faketime (scripts/install-deps.sh)
# at each document's time.
set -euo pipefail
build=$(cd "${1:?usage: bench.sh BUILD_DIR [SECONDS] [CPU]}" && pwd)
secs=${2:-2}
cpu=${3:-0}
here=$(cd "$(dirname "$0")" && pwd)
fx=${VERITEE_FIXTURES:-${VT_FIXTURES:-$here/../../../shared/fixtures}}
fx=$(cd "$fx" && pwd)
pin=(taskset -c "$cpu")
py="$build/bindings/python/venv/bin/python"
pkg="$build/bindings/node/pkg"
for f in "$build/bench/bench_dcap" "$build/bench/bench_bindings" "$py" "$pkg/build/Release/veritee.node"; do
    [ -e "$f" ] || { echo "missing $f: build the benchmarks and run ctest -R bindings in $build" >&2; exit 2; }
done
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

echo "# $(date -u +%FT%TZ), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), pinned to CPU $cpu, $secs s per measurement"
echo "# python $("$py" -c 'import sys; print(sys.version.split()[0])'), node $(node --version)"
echo "## the floor and the C benchmarks' own figures (wall clock)"
for b in dcap nitro snp; do
    "${pin[@]}" "$build/bench/bench_$b" "$fx" "$secs" 1
done
rounds=${VT_BENCH_ROUNDS:-3}
for r in $(seq 1 "$rounds"); do
    echo "## round $r: C (bench_bindings: wall/s, cpu/s)"
    "${pin[@]}" "$build/bench/bench_bindings" "$fx" "$secs" "$here/evidence.json" | tee "$out/c.$r"
    echo "## round $r: Python (wall/s, cpu/s)"
    "${pin[@]}" "$py" "$here/bench_python.py" "$fx" "$secs" | tee "$out/py.$r"
    echo "## round $r: Node.js (sync wall/s, cpu/s; async wall/s, cpu/s)"
    UV_THREADPOOL_SIZE=1 VERITEE_NODE_PKG=$pkg "${pin[@]}" node "$here/bench_node.mjs" "$fx" "$secs" |
        tee "$out/node.$r"
done

peers="$build/bench-peers"
mkdir -p "$peers"
if ! cmp -s "$here/package-lock.json" "$peers/package-lock.json" || [ ! -d "$peers/node_modules" ]; then
    rm -rf "$peers/node_modules"
    cp "$here/package.json" "$here/package-lock.json" "$peers/"
    (cd "$peers" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi
echo "## peers: $(cd "$peers" && node -p 'Object.entries(require("./package-lock.json").packages).filter(([k]) => /@(phala|evervault|lit-protocol)\/[^/]*$/.test(k)).map(([k, v]) => k.replace("node_modules/", "") + "@" + v.version).join(", ")')"
export VERITEE_NODE_PKG=$pkg VT_PEERS_DIR=$peers
for m in dcap snp; do
    "${pin[@]}" node "$here/bench_peers.mjs" "$m" "$fx" "$secs" | tee -a "$out/peers.txt"
done
node -e 'for (const e of require(process.argv[1]).nitro) console.log(e.file, e.at)' "$here/evidence.json" |
    while read -r file at; do
        when=$(date -u -d "@$at" '+%F %T')
        FAKETIME_DONT_FAKE_MONOTONIC=1 faketime -f "@$when" "${pin[@]}" \
            node "$here/bench_peers.mjs" nitro "$fx" "$secs" "$file" "$at" 2>"$out/evervault.err" |
            tee "$out/one.txt"
        # Which step Evervault's validator stopped at: only the last (the key comparison) counts.
        step=$(sort "$out/evervault.err" | uniq -c | sort -rn | head -n 1 | sed -E 's/^ *[0-9]+ //')
        case "$step" in
        *"User data was not set"* | *"public key"* | *"PublicKey"*) verdict=verified-up-to-key-check ;;
        *) verdict="stopped:$(echo "$step" | tr ' ' '_' | cut -c1-80)" ;;
        esac
        sed "s/see-stderr/$verdict/" "$out/one.txt" >>"$out/peers.txt"
    done

python3 - "$out" <<'PY'
import re, statistics, sys
from collections import defaultdict
from pathlib import Path
out = Path(sys.argv[1])
c, py, ns, na = (defaultdict(list) for _ in range(4))
# CPU-time rates: the last column of C's and Python's lines, the 2nd and 4th of Node's.
for f in out.glob("c.*"):
    for line in f.read_text().splitlines():
        c[line.split()[1]].append(float(line.split()[3]))
for f in out.glob("py.*"):
    for line in f.read_text().splitlines():
        py[line.split()[1]].append(float(line.split()[3]))
for f in out.glob("node.*"):
    for line in f.read_text().splitlines():
        ns[line.split()[1]].append(float(line.split()[3]))
        na[line.split()[1]].append(float(line.split()[5]))
med = statistics.median
print(f"\nverifications per CPU-second, medians of {len(list(out.glob('py.*')))} rounds")
print("\n| evidence | C /s | Python /s | of C | Node sync /s | of C | Node async /s | of C |")
print("|---|---|---|---|---|---|---|---|")
for label in py:
    cr = med(c[label]) if c.get(label) else 0
    p, s_, a = med(py[label]), med(ns[label]), med(na[label])
    r = lambda x: f"{x / cr:.2f}" if cr else "-"
    print(f"| {label} | {cr:,.0f} | {p:,.0f} | {r(p)} | {s_:,.0f} | {r(s_)} | {a:,.0f} | {r(a)} |")
print("\nNode.js, verifications per CPU-second")
print("\n| peer | evidence | veritee warm /s | veritee cold /s | peer /s | warm / peer | cold / peer | peer's verdict |")
print("|---|---|---|---|---|---|---|---|")
for line in (out / "peers.txt").read_text().splitlines():
    peer, kind, label, warm, cold, prate, verdict = line.split(" ", 6)
    w, co = float(warm), float(cold)
    if prate == "-":
        print(f"| {peer} | {label} | {w:,.0f} | {co:,.0f} | - | - | - | {verdict} |")
    else:
        p = float(prate)
        print(f"| {peer} | {label} | {w:,.0f} | {co:,.0f} | {p:,.1f} | {w / p:,.0f} | {co / p:,.1f} | {verdict} |")
PY
