"""Verifications per second through the Python binding, one thread, warm Verifier (collateral
and chains cached by one verification before measuring), as bench/bench_bindings.c measures C.
Usage: bench_python.py FIXTURES SECONDS   (bench/bindings/bench.sh runs it on one core)
Prints one line per evidence: KIND LABEL WALL_RATE CPU_RATE (per second of wall-clock time, and
per second of the process's CPU time)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import veritee

HERE = Path(__file__).resolve().parent


def measure(fn, seconds: float) -> str:
    for _ in range(500):  # warm-up
        fn()
    n = 0
    start, cpu0 = time.perf_counter(), time.process_time()
    deadline = start + seconds
    while True:
        for _ in range(50):
            fn()
        n += 50
        now = time.perf_counter()
        if now >= deadline:
            return f"{n / (now - start):.0f} {n / (time.process_time() - cpu0):.0f}"


def main() -> int:
    root = Path(sys.argv[1])
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 2.0
    ev = json.loads((HERE / "evidence.json").read_text())
    for e in ev["dcap"]:
        d = root / "dcap" / e["set"]
        q = (d / "quote.bin").read_bytes()
        with veritee.Verifier(collateral=d) as v:
            assert v.verify(q, at=e["at"]).verified
            print(f"dcap {e['set']} {measure(lambda: v.verify(q, at=e['at']), seconds)}",
                  flush=True)
    for e in ev["nitro"]:
        doc = (root / "nitro" / e["file"]).read_bytes()
        with veritee.Verifier() as v:
            print(f"nitro {e['file']} {measure(lambda: v.verify(doc, at=e['at']), seconds)}",
                  flush=True)
    for e in ev["snp"]:
        rep = (root / "snp" / e["report"]).read_bytes()
        vek = (root / "snp" / e["vek"]).read_bytes()
        with veritee.Verifier() as v:
            rate = measure(lambda: v.verify(rep, at=e["at"], vek=vek), seconds)
            print(f"snp {e['report']} {rate}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
