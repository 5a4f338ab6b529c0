#!/usr/bin/env python3
"""Generate the seed corpora of fuzz/fuzz_snp_report and fuzz/fuzz_snp_vek_ext.

Everything is synthetic, built here from the layouts in spec/nitro_snp.md B1-B5: SEV-SNP reports
of versions 2, 3 and 5 (Milan, Genoa and Turin CPUIDs, VCEK and VLEK key info, filler fields,
filler signatures with zero high halves), near misses a parser must reject, Azure HCL envelopes
around a report, and X.509 certificates carrying the AMD VEK extensions (VCEK, Turin VCEK, VLEK,
OCTET STRING wrapped hwID) plus malformed variants. No fixture bytes are used. Reports are
deterministic; certificates use fresh keys (the parser does not check signatures), so re-running
changes the certificate files' bytes but not their shape.

Needs the `cryptography` package (python3-cryptography). Usage:
  tests/support/gen_snp_seeds.py [repo root]   (default: two levels above this file)
"""
import datetime
import hashlib
import json
import os
import struct
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def filler(label, n):
    out = b""
    i = 0
    while len(out) < n:
        out += hashlib.sha256(f"{label}/{i}".encode()).digest()
        i += 1
    return out[:n]


def tcb(product, fmc, bl, tee, snp, ucode):
    if product == "Turin":
        return bytes([fmc, bl, tee, snp, 0, 0, 0, ucode])
    return bytes([bl, tee, 0, 0, 0, 0, snp, ucode])


CPUID = {"Milan": (0x19, 0x01, 0x01), "Genoa": (0x19, 0x11, 0x01), "Turin": (0x1A, 0x02, 0x00)}


def report(label, version=3, product="Milan", signing_key=0, policy=0x30000, vmpl=0):
    t = tcb(product, 1, 4, 0, 24, 219)
    b = bytearray(0x4A0)
    struct.pack_into("<IIQ", b, 0, version, 3, policy)
    b[0x10:0x30] = filler(label + "ids", 32)
    struct.pack_into("<II", b, 0x30, vmpl, 1)
    b[0x38:0x40] = t
    struct.pack_into("<QI", b, 0x40, 0x25, signing_key << 2)
    b[0x50:0x180] = filler(label + "body", 0x130)
    b[0x180:0x188] = t
    if version >= 3:
        b[0x188:0x18B] = bytes(CPUID[product])
    chip = filler(label + "chip", 64)
    if product == "Turin":
        chip = chip[:8] + bytes(56)
    if signing_key == 1:
        chip = bytes(64)
    b[0x1A0:0x1E0] = chip
    b[0x1E0:0x1E8] = t
    b[0x1E8:0x1EB] = bytes([21, 55, 1])
    b[0x1EC:0x1EF] = bytes([21, 55, 1])
    b[0x1F0:0x1F8] = t
    if version >= 5:
        b[0x1F8:0x208] = filler(label + "mit", 16)
    b[0x2A0:0x2A0 + 48] = filler(label + "r", 48)
    b[0x2E8:0x2E8 + 48] = filler(label + "s", 48)
    return bytes(b)


def hcl(rep, runtime, version=2, pad_to=2600):
    var = json.dumps(runtime, separators=(",", ":")).encode()
    rep = bytearray(rep)
    rep[0x50:0x90] = hashlib.sha256(var).digest() + bytes(32)
    out = b"HCLA" + struct.pack("<III", version, 0x4D4 + len(var), 2) + bytes(16)
    out += bytes(rep)
    out += struct.pack("<IIIII", 20 + len(var), 1, 2, 1, len(var)) + var
    return out + bytes(max(0, pad_to - len(out)))


def der_int(v):
    body = v.to_bytes(max(1, (v.bit_length() + 8) // 8), "big")
    return bytes([0x02, len(body)]) + body


def der_ia5(s):
    return bytes([0x16, len(s)]) + s.encode()


def vek(ext, cn="SEV-VCEK"):
    key = ec.generate_private_key(ec.SECP384R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    issuer = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "SEV-Test")])
    now = datetime.datetime(2025, 1, 1)
    b = (x509.CertificateBuilder().subject_name(name).issuer_name(issuer)
         .public_key(key.public_key()).serial_number(1)
         .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=365)))
    for oid, value in ext:
        b = b.add_extension(x509.UnrecognizedExtension(x509.ObjectIdentifier(oid), value), False)
    from cryptography.hazmat.primitives.serialization import Encoding
    return b.sign(key, hashes.SHA384()).public_bytes(Encoding.DER)


A = "1.3.6.1.4.1.3704.1."


def vek_ext(product="Milan-B0", version=0, spls=(3, 0, 8, 115), fmc=None, hwid=None, csp=None,
            reserved=True):
    e = [(A + "1", der_int(version)), (A + "2", der_ia5(product)),
         (A + "3.1", der_int(spls[0])), (A + "3.2", der_int(spls[1]))]
    if reserved:
        e += [(A + f"3.{i}", der_int(0)) for i in (4, 5, 6, 7)]
    e += [(A + "3.3", der_int(spls[2])), (A + "3.8", der_int(spls[3]))]
    if fmc is not None:
        e.append((A + "3.9", der_int(fmc)))
    if hwid is not None:
        e.append((A + "4", hwid))
    if csp is not None:
        e.append((A + "5", der_ia5(csp)))
    return e


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
    rdir = os.path.join(root, "fuzz", "corpus", "fuzz_snp_report")
    vdir = os.path.join(root, "fuzz", "corpus", "fuzz_snp_vek_ext")
    os.makedirs(rdir, exist_ok=True)
    os.makedirs(vdir, exist_ok=True)
    reports = {
        "v2-milan-vcek": report("a", 2),
        "v3-milan-vcek": report("b", 3),
        "v3-genoa-vcek": report("c", 3, "Genoa"),
        "v3-milan-vlek": report("d", 3, signing_key=1, vmpl=1),
        "v5-turin-vcek": report("e", 5, "Turin"),
        "v5-genoa-debug": report("f", 5, "Genoa", policy=0xB0000),
        "v4-milan": report("g", 4),
    }
    bad = bytearray(report("h", 3))
    reports["reject-short"] = bytes(bad[:-1])
    reports["reject-long"] = bytes(bad) + b"\0"
    reports["reject-version1"] = struct.pack("<I", 1) + bytes(bad[4:])
    reports["reject-sigalgo2"] = bytes(bad[:0x34]) + struct.pack("<I", 2) + bytes(bad[0x38:])
    reports["reject-mbz"] = bytes(bad[:0x4C]) + b"\1" + bytes(bad[0x4D:])
    reports["reject-r-high"] = bytes(bad[:0x2A0 + 60]) + b"\1" + bytes(bad[0x2A0 + 61:])
    runtime = {"keys": [{"kid": "HCLAkPub", "key_ops": ["sign"], "kty": "RSA", "e": "AQAB",
                         "n": "x" * 342}],
               "vm-configuration": {"console-enabled": False, "secure-boot": True,
                                    "tpm-enabled": True, "vmUniqueId": "00000000-0000"},
               "user-data": "00" * 64}
    reports["hcl-v2"] = hcl(report("i", 3, "Genoa"), runtime)
    reports["hcl-v1-nopad"] = hcl(report("j", 2), runtime, version=1, pad_to=0)
    reports["hcl-reject-type4"] = reports["hcl-v2"][:0x4C8] + struct.pack("<I", 4) + reports["hcl-v2"][0x4CC:]
    for name, data in reports.items():
        with open(os.path.join(rdir, name), "wb") as f:
            f.write(data)
    hw = filler("hwid", 64)
    veks = {
        "vcek-milan": vek(vek_ext(hwid=hw)),
        "vcek-genoa": vek(vek_ext("Genoa", spls=(10, 0, 23, 84), hwid=hw)),
        "vcek-turin": vek(vek_ext("Turin", 1, (0, 0, 0, 9), fmc=0, hwid=hw[:8], reserved=False)),
        "vcek-wrapped-hwid": vek(vek_ext(hwid=b"\x04\x40" + hw)),
        "vlek-milan": vek(vek_ext("Milan", spls=(4, 0, 24, 217), csp="CN=cc-test.example"),
                          "SEV-VLEK"),
        "reject-spl-octets": vek([(A + "2", der_ia5("Milan")), (A + "3.1", b"\x04\x01\x03")]),
        "reject-hwid-63": vek(vek_ext(hwid=hw[:63])),
        "reject-spl-256": vek(vek_ext(spls=(256, 0, 8, 115), hwid=hw)),
        "reject-no-product": vek([(A + "3.1", der_int(3))]),
        "reject-product-long": vek(vek_ext("M" * 40, hwid=hw)),
    }
    for name, data in veks.items():
        with open(os.path.join(vdir, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
