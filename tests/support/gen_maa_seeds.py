#!/usr/bin/env python3
"""Generate the seed corpus of fuzz/fuzz_maa_request.

Everything is synthetic. Each seed is one selector byte and the bytes read (see the target):
0..3 attest bodies for SgxEnclave, OpenEnclave, TdxVm, SevSnpVm as @azure/attestation sends
them (base64url members, runtimeData and initTimeData of both data types, nonce, a draft policy)
and near misses (the standard base64 alphabet, a JSON dataType whose data is an array, a member
of another type, unknown members, duplicates, null members); 4 Open Enclave report headers
(remote, local, a wrong size, another version); 5 SevSnpVm envelopes (with and without a chain,
a chain that is not PEM); 6 and 7 policy tokens to set and reset (unsigned ones as the SDK makes
them, an RS256 header without x5c, a payload that is not a StoredAttestationPolicy).

Output is deterministic. Regenerate from the repository root:
  python3 tests/support/gen_maa_seeds.py [repo root]   (default: two levels above this file)
"""
import base64
import hashlib
import json
import os
import struct
import sys


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def filler(label, n):
    out = b""
    i = 0
    while len(out) < n:
        out += hashlib.sha256(f"{label}/{i}".encode()).digest()
        i += 1
    return out[:n]


POLICY = ("version= 1.0;\nauthorizationrules\n{\n    [ type==\"x-ms-sgx-is-debuggable\", "
          "value==false ] => permit();\n};\nissuancerules\n{\n    c:[type==\"x-ms-sgx-mrsigner\"] "
          "=> issue(type=\"signer\", value=c.value);\n};\n")


def body(o):
    return json.dumps(o, separators=(",", ":")).encode()


def seeds():
    quote = filler("quote", 600)
    rt_json = body({"keys": [{"kty": "RSA", "n": b64u(filler("n", 256)), "e": "AQAB",
                              "kid": "k1"}], "user": "data"})
    rt_bin = filler("runtime", 48)
    out = []
    for sel, ev in ((0, "quote"), (1, "report"), (2, "quote"), (3, "report")):
        s = bytes([sel])
        out.append(s + body({ev: b64u(quote)}))
        out.append(s + body({ev: b64u(quote),
                             "runtimeData": {"data": b64u(rt_json), "dataType": "JSON"},
                             "initTimeData": {"data": b64u(rt_bin), "dataType": "Binary"}}))
        out.append(s + body({ev: b64u(quote), "runtimeData": {"data": b64u(rt_bin)},
                             "nonce": "n-123", "draftPolicyForAttestation": POLICY}))
        out.append(s + body({ev: base64.b64encode(quote).decode()}))
        out.append(s + body({ev: b64u(quote),
                             "runtimeData": {"data": b64u(b"[1,2]"), "dataType": "JSON"}}))
        out.append(s + body({"quote" if ev == "report" else "report": b64u(quote)}))
        out.append(s + body({ev: b64u(quote), "extra": True, "runtimeData": None}))
        out.append(s + b'{"' + ev.encode() + b'":"QQ","' + ev.encode() + b'":"QQ"}')
        out.append(s + body({ev: b64u(quote), "runtimeData": {"data": b64u(rt_bin),
                                                                "dataType": "Text"}}))
    oe = struct.pack("<IIQ", 1, 2, len(quote)) + quote
    out.append(bytes([4]) + oe)
    out.append(bytes([4]) + struct.pack("<IIQ", 1, 1, len(quote)) + quote)
    out.append(bytes([4]) + struct.pack("<IIQ", 1, 2, len(quote) + 1) + quote)
    out.append(bytes([4]) + struct.pack("<IIQ", 3, 2, len(quote)) + quote)
    out.append(bytes([4]) + struct.pack("<IIQ", 1, 2, 0))
    report = filler("snp", 1184)
    pem = (b"-----BEGIN CERTIFICATE-----\n" + base64.encodebytes(filler("cert", 300)) +
           b"-----END CERTIFICATE-----\n")
    out.append(bytes([5]) + body({"SnpReport": b64u(report)}))
    out.append(bytes([5]) + body({"SnpReport": b64u(report), "VcekCertChain": b64u(pem)}))
    out.append(bytes([5]) + body({"SnpReport": b64u(report), "VcekCertChain": b64u(b"x")}))
    out.append(bytes([5]) + body({"SnpReport": b64u(report), "Endorsements": "x"}))
    none = b64u(b'{"alg":"none"}')
    stored = b64u(body({"AttestationPolicy": b64u(POLICY.encode())}))
    out.append(bytes([6]) + f"{none}.{stored}.".encode())
    out.append(bytes([6]) + f"{none}.{b64u(b'{}')}.".encode())
    out.append(bytes([6]) + f"{none}.{stored}.{b64u(b'sig')}".encode())
    rs = b64u(b'{"alg":"RS256"}')
    out.append(bytes([6]) + f"{rs}.{stored}.{b64u(b'sig')}".encode())
    x5c = base64.b64encode(filler("x5c", 400)).decode()
    hdr = b64u(body({"alg": "RS256", "x5c": [x5c]}))
    out.append(bytes([6]) + f"{hdr}.{stored}.{b64u(filler('s', 256))}".encode())
    out.append(bytes([7]) + f"{none}..".encode())
    out.append(bytes([7]) + f"{none}.{b64u(b'{}')}.".encode())
    out.append(bytes([7]) + f"{none}.{stored}.".encode())
    return out


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
    d = os.path.join(root, "fuzz", "corpus", "fuzz_maa_request")
    os.makedirs(d, exist_ok=True)
    for s in seeds():
        name = hashlib.sha1(s).hexdigest()
        with open(os.path.join(d, name), "wb") as f:
            f.write(s)


if __name__ == "__main__":
    main()
