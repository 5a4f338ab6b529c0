#!/usr/bin/env python3
"""Generate the seed corpus of fuzz/fuzz_receipt (transparency-log receipts and checkpoints).

Everything is written from docs/audit-log.md, independently of the C code: the Merkle tree hashes
of RFC 9162 section 2.1.1, inclusion proofs by PATH (section 2.1.3.1), checkpoint bodies
"<origin>\\n<size>\\n<base64 root>\\n<RFC 3339 time>\\n" signed with ES256 (raw r||s), and the
receipt JSON. Signatures use the throwaway P-256 key that fuzz/fuzz_receipt.c embeds (read from
that file), so that valid seeds get past the signature check. Signing is deterministic (RFC 6979)
where the `cryptography` package supports it, so re-running reproduces the committed files.

Seeds: valid receipts of several shapes (size 1, a power of two, odd sizes, the last leaf, an
empty entry, pretty-printed with members reordered), broken receipts (bad signature, tampered
body, tree_size mismatch, a flipped proof hash, a missing proof hash, uppercase hex, unknown
member, truncated JSON), and checkpoints on their own: a bare body, and signature || body as the
target reads them for vt_checkpoint_verify.

Requires the `cryptography` package.

Usage: tests/support/gen_receipt_seeds.py [repo root]   (default: two levels above this file)
"""
import base64
import hashlib
import json
import os
import re
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature


def leaf_hash(entry):
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def split(n):
    k = 1
    while 2 * k < n:
        k *= 2
    return k


def mth(leaves):
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = split(len(leaves))
    return node_hash(mth(leaves[:k]), mth(leaves[k:]))


def path(m, leaves):
    if len(leaves) <= 1:
        return []
    k = split(len(leaves))
    if m < k:
        return path(m, leaves[:k]) + [mth(leaves[k:])]
    return path(m - k, leaves[k:]) + [mth(leaves[:k])]


def sign(key, msg):
    try:
        alg = ec.ECDSA(hashes.SHA256(), deterministic_signing=True)
    except TypeError:
        alg = ec.ECDSA(hashes.SHA256())
    r, s = decode_dss_signature(key.sign(msg, alg))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def checkpoint(key, origin, size, root, time):
    body = f"{origin}\n{size}\n{base64.b64encode(root).decode()}\n{time}\n".encode()
    return body, sign(key, body)


def receipt(entry, index, size, proof, body, sig, **over):
    r = {
        "version": 1,
        "entry": base64.b64encode(entry).decode(),
        "index": index,
        "tree_size": size,
        "inclusion": [h.hex() for h in proof],
        "checkpoint": {"body": body.decode(), "signature": sig.hex()},
    }
    r.update(over)
    return r


def dump(obj, pretty=False):
    if pretty:
        return json.dumps(obj, indent=2, sort_keys=True).encode()
    return json.dumps(obj, separators=(",", ":")).encode()


def fuzz_key(root):
    src = open(os.path.join(root, "fuzz", "fuzz_receipt.c")).read()
    block = re.search(r"BEGIN FUZZ KEY \*/(.*?)/\* END FUZZ KEY", src, re.S).group(1)
    pem = "".join(re.findall(r'"([^"]*)"', block)).replace("\\n", "\n")
    return serialization.load_pem_private_key(pem.encode(), None)


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
    key = fuzz_key(root)
    out = os.path.join(root, "fuzz", "corpus", "fuzz_receipt")
    os.makedirs(out, exist_ok=True)
    origin = "veritee.example/log"
    time = "2025-07-19T10:01:17Z"
    entries = [f'{{"event":"key_release","seq":{i}}}'.encode() for i in range(70)]
    entries[4] = b""
    leaves = [leaf_hash(e) for e in entries]
    seeds = {}

    def valid(name, size, index, pretty=False):
        body, sig = checkpoint(key, origin, size, mth(leaves[:size]), time)
        r = receipt(entries[index], index, size, path(index, leaves[:size]), body, sig)
        seeds[name] = dump(r, pretty)
        return r, body, sig

    valid("size1.json", 1, 0)
    valid("size8_last.json", 8, 7)
    valid("size13.json", 13, 5)
    valid("size13_empty_entry.json", 13, 4)
    valid("size64_first.json", 64, 0)
    r, body, sig = valid("size70_pretty.json", 70, 69, pretty=True)

    # Broken receipts, all starting from size 13, index 5.
    body, sig = checkpoint(key, origin, 13, mth(leaves[:13]), time)
    proof = path(5, leaves[:13])
    bad_sig = bytes([sig[0] ^ 1]) + sig[1:]
    seeds["bad_signature.json"] = dump(receipt(entries[5], 5, 13, proof, body, bad_sig))
    seeds["bad_body.json"] = dump(receipt(entries[5], 5, 13, proof,
                                          body.replace(b"\n13\n", b"\n12\n"), sig))
    seeds["bad_tree_size.json"] = dump(receipt(entries[5], 5, 12, proof, body, sig))
    flipped = [proof[0]] + [bytes([proof[1][0] ^ 0x80]) + proof[1][1:]] + proof[2:]
    seeds["bad_inclusion_hash.json"] = dump(receipt(entries[5], 5, 13, flipped, body, sig))
    seeds["bad_inclusion_short.json"] = dump(receipt(entries[5], 5, 13, proof[:-1], body, sig))
    seeds["bad_index.json"] = dump(receipt(entries[5], 6, 13, proof, body, sig))
    upper = receipt(entries[5], 5, 13, proof, body, sig)
    upper["checkpoint"]["signature"] = sig.hex().upper()
    seeds["bad_upper_hex.json"] = dump(upper)
    seeds["bad_unknown_member.json"] = dump(receipt(entries[5], 5, 13, proof, body, sig,
                                                    extra=True))
    seeds["bad_version.json"] = dump(receipt(entries[5], 5, 13, proof, body, sig, version=2))
    good = dump(receipt(entries[5], 5, 13, proof, body, sig))
    seeds["bad_truncated.json"] = good[:-7]
    # A validly signed but non-canonical body (leading zero in the size).
    nc_body = body.replace(b"\n13\n", b"\n013\n")
    seeds["bad_body_noncanonical.json"] = dump(receipt(entries[5], 5, 13, proof, nc_body,
                                                       sign(key, nc_body)))

    # Checkpoints alone: a bare body (vt_checkpoint_parse) and signature || body
    # (vt_checkpoint_verify).
    seeds["checkpoint_body.txt"] = body
    seeds["checkpoint_signed.bin"] = sig + body
    empty_body, empty_sig = checkpoint(key, "o", 0, hashlib.sha256(b"").digest(),
                                       "1970-01-01T00:00:00Z")
    seeds["checkpoint_empty_signed.bin"] = empty_sig + empty_body
    max_body, max_sig = checkpoint(key, "x" * 255, 2**64 - 1, mth(leaves[:3]),
                                   "9999-12-31T23:59:59Z")
    seeds["checkpoint_max_signed.bin"] = max_sig + max_body
    bad_time = body.replace(b"17Z", b"17.5Z")
    seeds["checkpoint_bad_time.bin"] = sign(key, bad_time) + bad_time

    for name, data in sorted(seeds.items()):
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    print(f"wrote {len(seeds)} seeds to {out}")


if __name__ == "__main__":
    main()
