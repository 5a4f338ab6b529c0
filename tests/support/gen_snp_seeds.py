#!/usr/bin/env python3
"""Generate the seed corpora of fuzz/fuzz_snp_report and fuzz/fuzz_snp_vek_ext.

Everything is synthetic, built here from the layouts in spec/nitro_snp.md B1-B5: SEV-SNP reports
of versions 2, 3, 4 and 5 (Milan, Genoa and Turin CPUIDs, VCEK and VLEK key info, filler fields,
filler signatures with zero high halves), near misses a parser must reject (wrong size, version
1 and 6, signature algorithm 2, non-zero MBZ and reserved bytes, non-zero r/s high bytes), Azure
HCL envelopes around a report ("HCLA" header, report at 0x20, runtime header at 0x4C0, JSON var
data at 0x4D4) and their near misses, and X.509 certificates carrying the AMD VEK extensions
under 1.3.6.1.4.1.3704.1 (Milan/Genoa/Turin VCEK, VLEK, OCTET STRING wrapped hwID, two-byte SPL)
plus malformed variants (SPL of the wrong type or out of range, 63-byte hwID, productName too
long, missing productName). No fixture bytes are used.

Output is deterministic: reports are filler bytes, and certificates are signed with a fixed P-384
key using RFC 6979 deterministic ECDSA (the parser does not check signatures), so re-running
reproduces the committed files. Needs Python 3 and the `cryptography` package (>= 44 for the
deterministic signatures; older versions still work but change the certificate bytes).

Regenerate (from the repository root; overwrites the seeds of the same names):
  python3 tests/support/gen_snp_seeds.py [repo root]   (default: two levels above this file)
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
from cryptography.hazmat.primitives.serialization import Encoding
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


def hcl(rep, runtime, version=2, pad_to=2600, hash_type=1):
    var = json.dumps(runtime, separators=(",", ":")).encode()
    rep = bytearray(rep)
    digest = {1: hashlib.sha256, 2: hashlib.sha384, 3: hashlib.sha512}[hash_type](var).digest()
    rep[0x50:0x90] = (digest + bytes(64))[:64]
    out = b"HCLA" + struct.pack("<III", version, 0x4D4 + len(var), 2) + bytes(16)
    out += bytes(rep)
    out += struct.pack("<IIIII", 20 + len(var), 1, 2, hash_type, len(var)) + var
    return out + bytes(max(0, pad_to - len(out)))


def der_int(v):
    body = v.to_bytes(max(1, (v.bit_length() + 8) // 8), "big")
    return bytes([0x02, len(body)]) + body


def der_ia5(s):
    return bytes([0x16, len(s)]) + s.encode()


KEY = ec.derive_private_key(int.from_bytes(filler("vek-key", 40), "big") % (2**383), ec.SECP384R1())


def vek(ext, cn="SEV-VCEK"):
    key = KEY
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    issuer = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "SEV-Test")])
    now = datetime.datetime(2025, 1, 1)
    b = (x509.CertificateBuilder().subject_name(name).issuer_name(issuer)
         .public_key(key.public_key()).serial_number(1)
         .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=365)))
    for oid, value in ext:
        b = b.add_extension(x509.UnrecognizedExtension(x509.ObjectIdentifier(oid), value), False)
    try:
        cert = b.sign(key, hashes.SHA384(), ecdsa_deterministic=True)
    except TypeError:  # cryptography < 44
        cert = b.sign(key, hashes.SHA384())
    return cert.public_bytes(Encoding.DER)


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
        "v5-turin-vlek": report("k", 5, "Turin", signing_key=1),
    }
    bad = bytearray(report("h", 3))
    reports["reject-short"] = bytes(bad[:-1])
    reports["reject-long"] = bytes(bad) + b"\0"
    reports["reject-version1"] = struct.pack("<I", 1) + bytes(bad[4:])
    reports["reject-sigalgo2"] = bytes(bad[:0x34]) + struct.pack("<I", 2) + bytes(bad[0x38:])
    reports["reject-mbz"] = bytes(bad[:0x4C]) + b"\1" + bytes(bad[0x4D:])
    reports["reject-r-high"] = bytes(bad[:0x2A0 + 60]) + b"\1" + bytes(bad[0x2A0 + 61:])
    reports["reject-version6"] = struct.pack("<I", 6) + bytes(bad[4:])
    reports["reject-s-high"] = bytes(bad[:0x2E8 + 71]) + b"\x80" + bytes(bad[0x2E8 + 72:])
    reports["reject-sig-reserved"] = bytes(bad[:0x400]) + b"\1" + bytes(bad[0x401:])
    v2 = report("l", 2)
    reports["reject-v2-cpuid"] = v2[:0x188] + bytes(CPUID["Milan"]) + v2[0x18B:]
    runtime = {"keys": [{"kid": "HCLAkPub", "key_ops": ["sign"], "kty": "RSA", "e": "AQAB",
                         "n": "x" * 342}],
               "vm-configuration": {"console-enabled": False, "secure-boot": True,
                                    "tpm-enabled": True, "vmUniqueId": "00000000-0000"},
               "user-data": "00" * 64}
    reports["hcl-v2"] = hcl(report("i", 3, "Genoa"), runtime)
    reports["hcl-v1-nopad"] = hcl(report("j", 2), runtime, version=1, pad_to=0)
    reports["hcl-reject-type4"] = reports["hcl-v2"][:0x4C8] + struct.pack("<I", 4) + reports["hcl-v2"][0x4CC:]
    reports["hcl-v2-sha384"] = hcl(report("m", 5, "Turin"), runtime, hash_type=2, pad_to=2048)
    reports["hcl-reject-padding"] = reports["hcl-v2"][:-1] + b"\1"
    reports["hcl-reject-size"] = reports["hcl-v2"][:8] + struct.pack("<I", 0x4D3) + reports["hcl-v2"][12:]
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
        "vcek-milan-spl-high": vek(vek_ext("Milan-B0", spls=(3, 0, 24, 219), hwid=hw)),
        "vcek-turin-wrapped-hwid": vek(vek_ext("Turin", 1, (1, 0, 1, 72), fmc=3,
                                                hwid=b"\x04\x08" + hw[:8], reserved=False)),
        "vlek-turin": vek(vek_ext("Turin", 1, (1, 0, 1, 72), fmc=3, csp="cc-eu-west-1.example",
                                  reserved=False), "SEV-VLEK"),
        "reject-spl-ia5": vek(vek_ext(hwid=hw)[:2] + [(A + "3.1", der_ia5("3"))]),
        "reject-spl-negative": vek(vek_ext(hwid=hw) + [(A + "3.9", b"\x02\x01\xff")]),
        "reject-version-string": vek([(A + "1", der_ia5("0"))] + vek_ext(hwid=hw)[1:]),
        "reject-csp-empty": vek(vek_ext("Milan", csp=""), "SEV-VLEK"),
        "reject-no-amd-ext": vek([]),
    }
    for name, data in veks.items():
        with open(os.path.join(vdir, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
