#!/usr/bin/env python3
"""Generate the seed corpus of fuzz/fuzz_p384_fast (the table path against nettle).

Input layout (see fuzz/fuzz_p384_fast.c): byte 0 = key index (bits 0-2, mod 5: d = 1, n - 1,
2 and two fixed others) | 0x80 for "sign here"; then digest (48), then r||s (96) in mode 0, or
a nonce (48) and (position, xor) pairs in mode 1. Seeds: junk, zeros and range edges (0, n - 1,
n, 2^384 - 1) for r and s; valid signatures computed here (plain Python ECDSA with fixed nonces);
signatures with u1 = 0 (digest 0 and n); the exceptional u1*G == +-u2*Q signatures for the keys
G and -G (e = r = s = x(2G) mod n); and mode-1 inputs with and without tweaks.

Output is deterministic. Needs Python 3.8+ only.
Regenerate (from the repository root; overwrites the seeds of the same names):
  python3 tests/support/gen_p384_fast_seeds.py [repo root]   (default: two levels above this file)
"""
import hashlib
import os
import sys

# SPEC: SEC 2 v2 2.5.1, secp384r1.
P = 2**384 - 2**128 - 2**96 + 2**32 - 1
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973
G = (0xAA87CA22BE8B05378EB1C71EF320AD746E1D3B628BA79B9859F741E082542A385502F25DBF55296C3A545E3872760AB7,
     0x3617DE4A96262C6F5D9E98BF9292DC29F8F41DBD289A147CE9DA3113B5F0B8C00A60B1CE1D7E819D7A431D7C90EA0E5F)
KEYS = [1, N - 1, 2,
        int.from_bytes(hashlib.sha384(b"veritee fuzz key 1").digest(), "big") % N,
        int.from_bytes(hashlib.sha384(b"veritee fuzz key 2").digest(), "big") % N]


def add(a, b):
    if a is None:
        return b
    if b is None:
        return a
    if a[0] == b[0]:
        if (a[1] + b[1]) % P == 0:
            return None
        lam = (3 * a[0] * a[0] - 3) * pow(2 * a[1], -1, P) % P
    else:
        lam = (b[1] - a[1]) * pow(b[0] - a[0], -1, P) % P
    x = (lam * lam - a[0] - b[0]) % P
    return (x, (lam * (a[0] - x) - a[1]) % P)


def mul(k, pt):
    acc = None
    while k:
        if k & 1:
            acc = add(acc, pt)
        pt = add(pt, pt)
        k >>= 1
    return acc


def b48(v):
    return v.to_bytes(48, "big")


def sign(d, e, k):
    r = mul(k, G)[0] % N
    s = pow(k, -1, N) * (e + r * d) % N
    return r, s


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
    out = os.path.join(root, "fuzz", "corpus", "fuzz_p384_fast")
    os.makedirs(out, exist_ok=True)
    seeds = {}
    for i in range(5):
        e = int.from_bytes(hashlib.sha384(b"digest %d" % i).digest(), "big")
        k = int.from_bytes(hashlib.sha384(b"nonce %d" % i).digest(), "big") % N
        r, s = sign(KEYS[i], e, k)
        seeds["valid-key%d" % i] = bytes([i]) + b48(e) + b48(r) + b48(s)
        seeds["flip-s-key%d" % i] = bytes([i]) + b48(e) + b48(r) + b48(s ^ 1)
        seeds["sign-key%d" % i] = bytes([0x80 | i]) + b48(e) + b48(k)
        seeds["sign-tweak-key%d" % i] = bytes([0x80 | i]) + b48(e) + b48(k) + bytes([60, 0x04])
        seeds["junk-key%d" % i] = bytes([i]) + hashlib.sha384(b"junk %d" % i).digest() * 3
    for name, e in (("u1zero-digest0", 0), ("u1zero-digestn", N)):
        k = int.from_bytes(hashlib.sha384(name.encode()).digest(), "big") % N
        r, s = sign(KEYS[3], e % N, k)
        seeds[name] = bytes([3]) + e.to_bytes(48, "big") + b48(r) + b48(s)
    x2g = mul(2, G)[0] % N
    seeds["g-u1g-eq-u2q"] = bytes([0]) + b48(x2g) * 3
    seeds["minus-g-infinity"] = bytes([1]) + b48(x2g) * 3
    edges = {"0": 0, "1": 1, "nm1": N - 1, "n": N, "max": 2**384 - 1}
    for a, va in edges.items():
        for b, vb in edges.items():
            seeds["edge-r%s-s%s" % (a, b)] = bytes([4]) + bytes(48) + b48(va) + b48(vb)
    seeds["zeros"] = bytes(145)
    for name, data in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    print("%d seeds in %s" % (len(seeds), out))


if __name__ == "__main__":
    main()
