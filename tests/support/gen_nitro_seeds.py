#!/usr/bin/env python3
"""Generate the seed corpus of fuzz/fuzz_nitro_doc (AWS Nitro Enclaves attestation documents).

Everything is synthetic: COSE_Sign1 envelopes and payload maps are encoded here, field by field,
from the layout in spec/nitro_snp.md A1/A2 (the shape NSM writes: untagged, protected a1 01 38 22,
empty unprotected map, nine text keys, 16 PCRs of 48 bytes, null optionals), plus the variants a
parser must handle (tagged, indefinite maps and arrays, present optionals, unknown keys, any key
order, 32/64-byte PCRs) and a few rejects. Certificates and signatures are filler bytes: the
parser does not look inside them. No fixture bytes are used. Output is deterministic, so re-running
reproduces the committed files.

Usage: tests/support/gen_nitro_seeds.py [repo root]   (default: two levels above this file)
"""
import hashlib
import os
import sys


def filler(label, n):
    """n deterministic pseudo-random bytes named by label."""
    out = b""
    i = 0
    while len(out) < n:
        out += hashlib.sha256(f"{label}/{i}".encode()).digest()
        i += 1
    return out[:n]


# ---- a minimal canonical CBOR encoder (RFC 8949 preferred serialisation) ----

def head(major, arg):
    top = major << 5
    if arg < 24:
        return bytes([top | arg])
    for info, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if arg < 1 << (8 * size):
            return bytes([top | info]) + arg.to_bytes(size, "big")
    raise ValueError(arg)


def uint(v):
    return head(0, v)


def nint(v):  # v < 0
    return head(1, -1 - v)


def bstr(b):
    return head(2, len(b)) + b


def text(s):
    b = s.encode()
    return head(3, len(b)) + b


NULL = b"\xf6"


def array(items, indefinite=False):
    if indefinite:
        return b"\x9f" + b"".join(items) + b"\xff"
    return head(4, len(items)) + b"".join(items)


def cmap(pairs, indefinite=False, brk=True):
    body = b"".join(k + v for k, v in pairs)
    if indefinite:
        return b"\xbf" + body + (b"\xff" if brk else b"")
    return head(5, len(pairs)) + body


# ---- documents ----

def pcrs(indices=range(16), size=48, indefinite=False, label="pcr"):
    pairs = []
    for i in indices:
        # PCR0..4 measured, the rest zero, as in a production enclave.
        value = filler(f"{label}{i}", size) if i < 5 else bytes(size)
        pairs.append((uint(i), bstr(value)))
    return cmap(pairs, indefinite)


def fake_cert(label, n):
    # DER-looking SEQUENCE header, then filler: the parser treats certificates as opaque bytes.
    return b"\x30\x82" + (n - 4).to_bytes(2, "big") + filler(label, n - 4)


def payload_entries(**over):
    entries = [
        ("module_id", text("i-0f1e2d3c4b5a69788-enc0198a7b6c5d4e3f2")),
        ("digest", text("SHA384")),
        ("timestamp", uint(1767225600123)),
        ("pcrs", pcrs()),
        ("certificate", bstr(fake_cert("leaf", 180))),
        ("cabundle", array([bstr(fake_cert(f"ca{i}", 120 + 10 * i)) for i in range(4)])),
        ("public_key", NULL),
        ("user_data", NULL),
        ("nonce", NULL),
    ]
    out = []
    for key, value in entries:
        if key in over:
            if over[key] is None:
                continue
            value = over[key]
        out.append((key, value))
    return out


def payload(entries, indefinite=False, brk=True, trailing=b""):
    return cmap([(text(k), v) for k, v in entries], indefinite, brk) + trailing


def cose(body, tagged=False, protected=b"\xa1\x01\x38\x22", unprotected=b"\xa0",
         sig=None, trailing=b""):
    if sig is None:
        sig = filler("sig/" + hashlib.sha256(body).hexdigest(), 96)
    doc = array([bstr(protected), unprotected, bstr(body), bstr(sig)])
    return (b"\xd2" if tagged else b"") + doc + trailing


def seeds():
    nsm = payload(payload_entries())
    yield "nsm.cose", cose(nsm)
    yield "tagged.cose", cose(nsm, tagged=True)
    yield "indefinite_payload.cose", cose(payload(payload_entries(), indefinite=True))
    yield "indefinite_all.cose", cose(payload(payload_entries(
        pcrs=pcrs(indefinite=True),
        cabundle=array([bstr(fake_cert("ca0", 120))], indefinite=True)), indefinite=True))
    yield "optionals.cose", cose(payload(payload_entries(
        public_key=bstr(filler("spki", 294)),
        user_data=bstr(b""),
        nonce=bstr(filler("nonce", 256)))))
    yield "optionals_absent.cose", cose(payload(payload_entries(
        public_key=None, user_data=None, nonce=None)))
    yield "unknown_keys.cose", cose(payload(payload_entries() + [
        ("veritee_extra", cmap([(text("n"), nint(-2)),
                                (text("a"), array([uint(1), bstr(b"\x00\xff"), text("x"),
                                                   NULL, b"\xf5"])),
                                (text("t"), b"\xc1" + uint(0))])),
        ("", array([], indefinite=True)),
    ]))
    yield "reversed_keys.cose", cose(payload(list(reversed(payload_entries()))))
    yield "pcrs_32_64.cose", cose(payload(payload_entries(
        pcrs=cmap([(uint(i), bstr(filler(f"p{i}", 64 if i % 2 else 32)))
                   for i in reversed(range(32))]))))
    yield "unprotected_kid.cose", cose(nsm, unprotected=cmap([(uint(4), bstr(b"kid"))]))
    # Rejects: a parser must refuse each of these.
    yield "bad_alg_es256.cose", cose(nsm, protected=b"\xa1\x01\x26")
    yield "bad_duplicate_key.cose", cose(payload(payload_entries() + [("digest", text("SHA384"))]))
    yield "bad_missing_cabundle.cose", cose(payload(payload_entries(cabundle=None)))
    yield "bad_no_break.cose", cose(payload(payload_entries(), indefinite=True, brk=False))
    yield "bad_payload_trailing.cose", cose(payload(payload_entries(), trailing=b"\x00"))
    yield "bad_trailing.cose", cose(nsm, trailing=b"\x00")
    yield "bad_sig_95.cose", cose(nsm, sig=filler("short", 95))
    yield "bad_pcr_dup.cose", cose(payload(payload_entries(
        pcrs=cmap([(uint(1), bstr(bytes(48))), (uint(1), bstr(bytes(48)))]))))
    yield "bad_truncated.cose", cose(nsm)[:-20]


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
    out = os.path.join(root, "fuzz", "corpus", "fuzz_nitro_doc")
    os.makedirs(out, exist_ok=True)
    for name, data in seeds():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
