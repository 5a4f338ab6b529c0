#!/usr/bin/env python3
"""Generate the seed corpora of fuzz/fuzz_dcap_quote and fuzz/fuzz_pck_ext.

Everything is synthetic: quotes are built field by field from the layout in spec/dcap.md
section 1 (v3/v4/v5, every body type, several certification data types, trailing padding) and
the SGX extensions from section 2 (Processor-CA and Platform-CA forms). No fixture bytes are
used. Output is deterministic, so re-running reproduces the committed files.

Usage: tests/support/gen_dcap_seeds.py [repo root]   (default: two levels above this file)
"""
import hashlib
import os
import struct
import sys

INTEL_QE_VENDOR = bytes.fromhex("939A7233F79C4CA9940A0DB3957F0607")
SGX, TDX = 0x00, 0x81
BODY_SIZE = {1: 384, 2: 584, 3: 648}


def filler(label, n):
    """n deterministic pseudo-random bytes named by label."""
    out = b""
    i = 0
    while len(out) < n:
        out += hashlib.sha256(f"{label}/{i}".encode()).digest()
        i += 1
    return out[:n]


def fake_pem_chain():
    body = "MIIB" + "A" * 60
    cert = f"-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n"
    return (cert * 3).encode() + b"\0"


def cert_data_for(cert_type):
    if cert_type in (1, 2, 3):
        ppid = {1: 16, 2: 256, 3: 384}[cert_type]
        # PPID (clear or encrypted) || CPUSVN || PCESVN || PCEID
        return filler(f"ppid{cert_type}", ppid) + filler("cpusvn", 16) + b"\x0d\x00\x00\x00"
    if cert_type == 4:
        return filler("leaf", 120)
    if cert_type == 5:
        return fake_pem_chain()
    return filler("manifest", 64)


def quote(version, tee=SGX, body_type=None, cert_type=5, auth_len=32, trailing=0,
          label="q"):
    if body_type is None:
        body_type = 1 if tee == SGX else 2
    hdr = struct.pack("<HHIHH", version, 2, tee, 7 if version == 3 else 0,
                      13 if version == 3 else 0)
    hdr += INTEL_QE_VENDOR + filler(label + "/user", 20)
    body = filler(label + "/body", BODY_SIZE[body_type])
    if version == 5:
        signed = hdr + struct.pack("<HI", body_type, len(body)) + body
    else:
        signed = hdr + body
    cert = cert_data_for(cert_type)
    qe = filler(label + "/qe_report", 384) + filler(label + "/qe_sig", 64)
    qe += struct.pack("<H", auth_len) + filler(label + "/auth", auth_len)
    qe += struct.pack("<HI", cert_type, len(cert)) + cert
    sig = filler(label + "/sig", 64) + filler(label + "/key", 64)
    if version == 3:
        sig += qe
    else:
        sig += struct.pack("<HI", 6, len(qe)) + qe
    return signed + struct.pack("<I", len(sig)) + sig + b"\0" * trailing


# ---- DER ----

SGX_OID = bytes([0x2A, 0x86, 0x48, 0x86, 0xF8, 0x4D, 0x01, 0x0D, 0x01])


def tlv(tag, content):
    n = len(content)
    if n < 0x80:
        head = bytes([n])
    elif n < 0x100:
        head = bytes([0x81, n])
    else:
        head = bytes([0x82, n >> 8, n & 0xFF])
    return bytes([tag]) + head + content


def der_uint(v):
    b = v.to_bytes(max(1, (v.bit_length() + 7) // 8), "big")
    if b[0] & 0x80:
        b = b"\0" + b
    return b


def pair(arcs, value):
    return tlv(0x30, tlv(0x06, SGX_OID + bytes(arcs)) + value)


def tcb(comps, pcesvn, cpusvn):
    entries = [pair([2, k + 1], tlv(0x02, der_uint(c))) for k, c in enumerate(comps)]
    entries.append(pair([2, 17], tlv(0x02, der_uint(pcesvn))))
    entries.append(pair([2, 18], tlv(0x04, cpusvn)))
    return entries


def extension(platform, order=None, config=(1, 2, 3), sgx_type=1, extra=b"", drop=(),
              unknown=False):
    comps = [14, 14, 3, 3, 255, 255, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    top = {
        1: pair([1], tlv(0x04, filler("ppid", 16))),
        2: pair([2], tlv(0x30, b"".join(tcb(comps, 13, bytes(comps))))),
        3: pair([3], tlv(0x04, b"\x00\x00")),
        4: pair([4], tlv(0x04, bytes.fromhex("00a067110000"))),
        5: pair([5], tlv(0x0A, der_uint(sgx_type))),
    }
    if unknown:
        top[5] = pair([8], tlv(0x0A, der_uint(sgx_type)))
    if platform:
        top[6] = pair([6], tlv(0x04, filler("pinst", 16)))
        cfg = b"".join(pair([7, k], tlv(0x01, b"\xff" if k != 2 else b"\x00")) for k in config)
        top[7] = pair([7], tlv(0x30, cfg))
    keys = [k for k in (order or sorted(top)) if k not in drop]
    return tlv(0x30, b"".join(top[k] for k in keys)) + extra


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.normpath(os.path.join(here, "..", ".."))
    qdir = os.path.join(root, "fuzz", "corpus", "fuzz_dcap_quote")
    edir = os.path.join(root, "fuzz", "corpus", "fuzz_pck_ext")
    quotes = {
        "v3_sgx_chain": quote(3, label="a"),
        "v3_sgx_ppid_clear": quote(3, cert_type=1, label="b"),
        "v3_sgx_ppid_rsa3072": quote(3, cert_type=3, label="c"),
        "v4_sgx_chain": quote(4, SGX, label="d"),
        "v4_tdx_chain": quote(4, TDX, label="e"),
        "v4_tdx_chain_pad70": quote(4, TDX, trailing=70, label="f"),
        "v4_tdx_leaf": quote(4, TDX, cert_type=4, label="g"),
        "v4_tdx_manifest": quote(4, TDX, cert_type=7, label="h"),
        "v4_tdx_ppid_rsa2048_noauth": quote(4, TDX, cert_type=2, auth_len=0, label="i"),
        "v5_sgx": quote(5, SGX, 1, label="j"),
        "v5_td10": quote(5, TDX, 2, label="k"),
        "v5_td15": quote(5, TDX, 3, trailing=39, label="l"),
    }
    # Near misses, so the fuzzer starts next to the reject paths.
    bad = bytearray(quotes["v5_td15"])
    struct.pack_into("<I", bad, 50, 584)
    quotes["bad_v5_body_size"] = bytes(bad)
    quotes["bad_truncated_v3"] = quotes["v3_sgx_chain"][:700]
    exts = {
        "processor": extension(False),
        "platform": extension(True),
        "platform_reordered": extension(True, order=[7, 5, 3, 1, 2, 4, 6], config=(3, 1)),
        "platform_empty_config": extension(True, config=(), sgx_type=2),
        "processor_standard": extension(False, sgx_type=0),
        "bad_six_entries": extension(True, drop=(7,)),
        "bad_trailing": extension(False, extra=b"\x00"),
        "bad_four_entries": extension(False, drop=(5,)),
        "bad_unknown_oid": extension(False, unknown=True),
    }
    for d, items in ((qdir, quotes), (edir, exts)):
        os.makedirs(d, exist_ok=True)
        for name, data in items.items():
            with open(os.path.join(d, name + ".bin"), "wb") as f:
                f.write(data)
        print(f"{d}: {len(items)} files")


if __name__ == "__main__":
    main()
