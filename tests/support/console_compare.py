#!/usr/bin/env python3
"""Compare one admin answer of the console on SQLite and on PostgreSQL (tests/integration/
console_admin_postgres.sh): both masked, then equal, or the differing paths printed.

Masked: every RFC 3339 time (the operations ran at different moments), and the members that
belong to the process, the backend or random material rather than to the data (VOLATILE); of
the replica registry, what each replica is (replicas()).
Usage: console_compare.py NAME SQLITE.json POSTGRES.json"""
import json
import re
import sys

TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")

# members masked wherever they occur, per answer ("*": every answer)
VOLATILE = {
    # the store's backend and what it means for replicas are checked apart; upstream URLs carry
    # the double's port; the log key is random; the sequencer's batch count is the process's;
    # the cache's clock runs from --now, so what it counts from "now" may differ by a second
    "*": {"backend", "shared_store", "url", "kid", "batches", "from_unix",
          "oldest_past_next_update_s"},
    "serve-keys": {"created", "updated"},  # Unix times of the operations
}


def replicas(rows):
    """The replica registry: IDs, PIDs, ages and heartbeat-time log sizes are the processes';
    what each replica is (role, version, interval, this one or not, stale or not) is compared."""
    if not isinstance(rows, list):
        return rows
    keep = ("role", "version", "interval_s", "self", "stale")
    return sorted((json.dumps({k: r.get(k) for k in keep}, sort_keys=True) for r in rows))


def mask(v, keys, path=""):
    if isinstance(v, dict):
        return {k: ("<masked>" if k in keys else replicas(x) if k == "replicas"
                    else mask(x, keys, f"{path}.{k}")) for k, x in v.items()}
    if isinstance(v, list):
        return [mask(x, keys, f"{path}[{i}]") for i, x in enumerate(v)]
    if isinstance(v, str) and TIME.match(v):
        return "<time>"
    return v


def diff(a, b, path, out):
    if type(a) is not type(b):
        out.append(f"{path}: {json.dumps(a)[:120]} (SQLite) vs {json.dumps(b)[:120]} (PostgreSQL)")
    elif isinstance(a, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                out.append(f"{path}.{k}: only on {'SQLite' if k in a else 'PostgreSQL'}")
            else:
                diff(a[k], b[k], f"{path}.{k}", out)
    elif isinstance(a, list):
        if len(a) != len(b):
            out.append(f"{path}: {len(a)} items (SQLite) vs {len(b)} (PostgreSQL)")
        for i, (x, y) in enumerate(zip(a, b)):
            diff(x, y, f"{path}[{i}]", out)
    elif a != b:
        out.append(f"{path}: {json.dumps(a)[:120]} (SQLite) vs {json.dumps(b)[:120]} (PostgreSQL)")


def main():
    name, fa, fb = sys.argv[1:4]
    keys = VOLATILE["*"] | VOLATILE.get(name, set())
    with open(fa) as f:
        a = mask(json.load(f), keys)
    with open(fb) as f:
        b = mask(json.load(f), keys)
    if a is None or b is None:
        print(f"FAIL {name}: no answer")
        return 1
    out = []
    diff(a, b, "$", out)
    for line in out:
        print(f"  {name} {line}")
    return 1 if out else 0


if __name__ == "__main__":
    sys.exit(main())
