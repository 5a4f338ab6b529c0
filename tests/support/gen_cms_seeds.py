#!/usr/bin/env python3
"""Generate the seed corpus of fuzz/fuzz_cms (CMS EnvelopedData, KMS CiphertextForRecipient shape).

Everything is synthetic: envelopes are built element by element from the layout at the top of
src/crypto/cms.c (SPEC: nitro_snp.md A6) and encrypted for the throwaway RSA-2048 test key that
fuzz/fuzz_cms.c embeds (read from that file), so that seeds reach the AES stage of vt_cms_decrypt.
The encodings cover DER, the shape KMS sends (indefinite outer elements, definite SET and
algorithm identifiers), everything indefinite, primitive and constructed encrypted content
(several segments, nested constructed OCTET STRINGs), absent or NULL hash parameters, and a few
broken envelopes. No fixture bytes are used. RSA-OAEP is computed here with fixed seeds, so
re-running reproduces the committed files.

Requires the `cryptography` package (AES-CBC and key loading only).

Usage: tests/support/gen_cms_seeds.py [repo root]   (default: two levels above this file)
"""
import hashlib
import os
import re
import sys

from cryptography.hazmat.primitives import padding, serialization
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

OID_ENVELOPED = bytes.fromhex("2a864886f70d010703")
OID_DATA = bytes.fromhex("2a864886f70d010701")
OID_OAEP = bytes.fromhex("2a864886f70d010107")
OID_MGF1 = bytes.fromhex("2a864886f70d010108")
OID_PSPECIFIED = bytes.fromhex("2a864886f70d010109")
OID_SHA256 = bytes.fromhex("608648016503040201")
OID_AES256_CBC = bytes.fromhex("60864801650304012a")


def filler(label, n):
    """n deterministic pseudo-random bytes named by label."""
    out = b""
    i = 0
    while len(out) < n:
        out += hashlib.sha256(f"{label}/{i}".encode()).digest()
        i += 1
    return out[:n]


def der_len(n):
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def tlv(tag, *children, indef=False):
    """One element; children are already-encoded bytes. indef: 0x80 ... 00 00."""
    content = b"".join(children)
    if indef:
        assert tag & 0x20, "indefinite lengths are for constructed elements"
        return bytes([tag, 0x80]) + content + b"\x00\x00"
    return bytes([tag]) + der_len(len(content)) + content


def oid(v):
    return tlv(0x06, v)


def octets(v, tag=0x04):
    return tlv(tag, v)


def mgf1(seed, n):
    out = b""
    i = 0
    while len(out) < n:
        out += hashlib.sha256(seed + i.to_bytes(4, "big")).digest()
        i += 1
    return out[:n]


def oaep_encrypt(pub, msg, seed):
    """RSAES-OAEP-ENCRYPT with SHA-256, MGF1-SHA-256, empty label (RFC 8017 7.1.1), fixed seed."""
    k = (pub.n.bit_length() + 7) // 8
    hlen = 32
    assert len(msg) <= k - 2 * hlen - 2 and len(seed) == hlen
    lhash = hashlib.sha256(b"").digest()
    db = lhash + b"\x00" * (k - len(msg) - 2 * hlen - 2) + b"\x01" + msg
    masked_db = bytes(a ^ b for a, b in zip(db, mgf1(seed, k - hlen - 1)))
    masked_seed = bytes(a ^ b for a, b in zip(seed, mgf1(masked_db, hlen)))
    em = b"\x00" + masked_seed + masked_db
    return pow(int.from_bytes(em, "big"), pub.e, pub.n).to_bytes(k, "big")


def aes_cbc(cek, iv, pt):
    p = padding.PKCS7(128).padder()
    padded = p.update(pt) + p.finalize()
    enc = Cipher(algorithms.AES(cek), modes.CBC(iv)).encryptor()
    return enc.update(padded) + enc.finalize()


def hash_alg(params="null", indef=False):
    parts = [oid(OID_SHA256)]
    if params == "null":
        parts.append(tlv(0x05))
    return tlv(0x30, *parts, indef=indef)


def envelope(pub, label, pt, *, outer_indef=False, inner_indef=False, content="prim",
             segments=1, nest=0, hash_params="null", psource=False, recipients=1,
             cek_len=32, ek=None, ed_version=2, iv_len=16, trailing=b""):
    """An envelope for pt. outer_indef: ContentInfo, [0], EnvelopedData, EncryptedContentInfo
    and the constructed content are indefinite (as KMS sends them); inner_indef: the SET, the
    recipient info and the algorithm identifiers too."""
    cek = filler(label + "/cek", cek_len)
    iv = filler(label + "/iv", iv_len)
    ct = aes_cbc(cek[:32].ljust(32, b"\x00"), iv[:16].ljust(16, b"\x00"), pt)
    if ek is None:
        ek = oaep_encrypt(pub, cek, filler(label + "/seed", 32))
    o, i = outer_indef, inner_indef

    params = [tlv(0xa0, hash_alg(hash_params, i), indef=i),
              tlv(0xa1, tlv(0x30, oid(OID_MGF1), hash_alg(hash_params, i), indef=i), indef=i)]
    if psource:
        params.append(tlv(0xa2, tlv(0x30, oid(OID_PSPECIFIED), octets(b""), indef=i), indef=i))
    kea = tlv(0x30, oid(OID_OAEP), tlv(0x30, *params, indef=i), indef=i)
    ski = hashlib.sha256(label.encode()).digest()
    ktri = tlv(0x30, tlv(0x02, b"\x02"), octets(ski, 0x80), kea, octets(ek), indef=i)
    rinfos = tlv(0x31, *([ktri] * recipients), indef=i)

    if content == "prim":
        enc = octets(ct, 0x80)
    else:
        n = max(segments, 1)
        step = (len(ct) + n - 1) // n
        segs = b"".join(octets(ct[j:j + step]) for j in range(0, len(ct), step))
        for _ in range(nest):
            segs = tlv(0x24, segs, indef=o)
        enc = tlv(0xa0, segs, indef=o)
    cea = tlv(0x30, oid(OID_AES256_CBC), octets(iv), indef=i)
    eci = tlv(0x30, oid(OID_DATA), cea, enc, indef=o)
    ed = tlv(0x30, tlv(0x02, bytes([ed_version])), rinfos, eci, indef=o)
    return tlv(0x30, oid(OID_ENVELOPED), tlv(0xa0, ed, indef=o), indef=o) + trailing


def fuzz_key(root):
    src = open(os.path.join(root, "fuzz", "fuzz_cms.c")).read()
    block = re.search(r"BEGIN FUZZ KEY \*/(.*?)/\* END FUZZ KEY", src, re.S).group(1)
    body = block[block.index("{") + 1:block.index("}")]
    der = bytes(int(x, 16) for x in re.findall(r"0x([0-9a-fA-F]{2})", body))
    return serialization.load_der_private_key(der, None).public_key().public_numbers()


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
    pub = fuzz_key(root)
    out = os.path.join(root, "fuzz", "corpus", "fuzz_cms")
    os.makedirs(out, exist_ok=True)
    secret = b"veritee fuzz seed: a 32-byte key"
    seeds = {
        "der_prim.bin": envelope(pub, "der_prim", secret),
        "der_cons.bin": envelope(pub, "der_cons", secret, content="cons"),
        "kms_shape_cons.bin": envelope(pub, "kms_cons", filler("p", 40), outer_indef=True,
                                       content="cons"),
        "kms_shape_implicit.bin": envelope(pub, "kms_impl", filler("p", 12), outer_indef=True),
        "ber_all_indef_nested.bin": envelope(pub, "all_indef", filler("p", 100),
                                             outer_indef=True, inner_indef=True, content="cons",
                                             segments=3, nest=2),
        "der_params_absent_psource.bin": envelope(pub, "absent", secret, hash_params="absent",
                                                  psource=True),
        "der_empty_plaintext.bin": envelope(pub, "empty", b""),
        "der_segments.bin": envelope(pub, "segments", filler("p", 1000), content="cons",
                                     segments=10),
        "bad_two_recipients.bin": envelope(pub, "two", secret, recipients=2),
        "bad_trailing.bin": envelope(pub, "trailing", secret, outer_indef=True,
                                     trailing=b"\x00\x00"),
        "bad_version.bin": envelope(pub, "version", secret, ed_version=0),
        "bad_iv15.bin": envelope(pub, "iv15", secret, iv_len=15),
        "bad_cek16.bin": envelope(pub, "cek16", secret, cek_len=16),
        "bad_wrong_key.bin": envelope(pub, "wrong", secret, ek=filler("ek", 256)),
    }
    cut = envelope(pub, "cut", secret, outer_indef=True, content="cons")
    seeds["bad_missing_eoc.bin"] = cut[:-2]
    for name, data in sorted(seeds.items()):
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    print(f"wrote {len(seeds)} seeds to {out}")


if __name__ == "__main__":
    main()
