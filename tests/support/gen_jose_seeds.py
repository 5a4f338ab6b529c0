#!/usr/bin/env python3
"""Generate the seed corpora of fuzz/fuzz_jwk and fuzz/fuzz_jose_compact.

Everything is synthetic. JWKs are made from the throwaway keys embedded in
fuzz/fuzz_jose_compact.c (read from that file) and from keys derived here from fixed scalars.
Compact JWS (ES256, RS256) and JWE (ECDH-ES+A256KW and RSA-OAEP-256 with A256GCM) are built here with
the `cryptography` package's primitives, independently of src/crypto/jose.c, for the keys that
the fuzz target embeds, so that seeds reach the signature check and the AES-GCM stage. A few
broken variants of each are written too. CEKs, IVs, ephemeral keys and OAEP seeds come from a
fixed filler and ECDSA signing is deterministic (RFC 6979) where the package supports it, so
re-running reproduces the committed files.

`--vectors` prints instead the interoperability vectors pasted into tests/unit/crypto/test_jose.c
(one JWE per algorithm, for the fuzz target's keys).

Requires the `cryptography` package.

Usage: tests/support/gen_jose_seeds.py [--vectors] [repo root]   (default: two levels above)
"""
import base64
import hashlib
import json
import os
import re
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.concatkdf import ConcatKDFHash
from cryptography.hazmat.primitives.keywrap import aes_key_wrap

FUZZ_KID = "fuzz-es256"
FUZZ_RS_KID = "fuzz-rs256"


def filler(label, n):
    """n deterministic pseudo-random bytes named by label."""
    out = b""
    i = 0
    while len(out) < n:
        out += hashlib.sha256(f"{label}/{i}".encode()).digest()
        i += 1
    return out[:n]


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def ubytes(v, n=None):
    if n is None:
        n = max(1, (v.bit_length() + 7) // 8)
    return v.to_bytes(n, "big")


def compact_json(obj):
    return json.dumps(obj, separators=(",", ":"), sort_keys=True)


# ---- keys ----


def fuzz_keys(root):
    """The PEM keys embedded in fuzz/fuzz_jose_compact.c, as cryptography objects."""
    src = open(os.path.join(root, "fuzz", "fuzz_jose_compact.c")).read()
    keys = {}
    for name in ("fuzz_p256_pem", "fuzz_rsa_pem"):
        m = re.search(r"static const char %s\[\] =\s*((?:\s*\"[^\"]*\")+);" % name, src)
        pem = "".join(re.findall(r"\"([^\"]*)\"", m.group(1))).replace("\\n", "\n")
        keys[name] = serialization.load_pem_private_key(pem.encode(), password=None)
    return keys["fuzz_p256_pem"], keys["fuzz_rsa_pem"]


def ec_jwk(pub):
    nums = pub.public_numbers()
    size = (pub.curve.key_size + 7) // 8
    crv = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}[pub.curve.name]
    return {"crv": crv, "kty": "EC", "x": b64u(ubytes(nums.x, size)),
            "y": b64u(ubytes(nums.y, size))}


def rsa_jwk(pub):
    nums = pub.public_numbers()
    return {"e": b64u(ubytes(nums.e)), "kty": "RSA", "n": b64u(ubytes(nums.n))}


def derived_ec(label, curve):
    # a bound below each curve's group order
    order = {"secp256r1": 2**256 - 2**224, "secp384r1": 2**384 - 2**256,
             "secp521r1": 2**521 - 2**260}[curve.name]
    scalar = int.from_bytes(filler(label, 64), "big") % (order - 1) + 1
    return ec.derive_private_key(scalar, curve)


# ---- JWS ES256 ----


def es256_sign(priv, data):
    try:
        alg = ec.ECDSA(hashes.SHA256(), deterministic_signing=True)
    except TypeError:  # older cryptography: randomised signatures
        alg = ec.ECDSA(hashes.SHA256())
    r, s = decode_dss_signature(priv.sign(data, alg))
    return ubytes(r, 32) + ubytes(s, 32)


def rs256_sign(priv, data):
    return priv.sign(data, padding.PKCS1v15(), hashes.SHA256())


def jws(priv, header, payload, sig=None, signer=es256_sign):
    h = b64u(header.encode() if isinstance(header, str) else compact_json(header).encode())
    p = b64u(payload)
    inp = f"{h}.{p}"
    if sig is None:
        sig = signer(priv, inp.encode())
    return f"{inp}.{b64u(sig)}"


# ---- JWE ----


def concat_kdf(z, alg, apu=b"", apv=b"", bits=256):
    other = (len(alg).to_bytes(4, "big") + alg.encode() + len(apu).to_bytes(4, "big") + apu +
             len(apv).to_bytes(4, "big") + apv + bits.to_bytes(4, "big"))
    return ConcatKDFHash(hashes.SHA256(), bits // 8, other).derive(z)


def mgf1(seed, n):
    out = b""
    i = 0
    while len(out) < n:
        out += hashlib.sha256(seed + i.to_bytes(4, "big")).digest()
        i += 1
    return out[:n]


def oaep256_encrypt(pub, msg, seed):
    """RSAES-OAEP with SHA-256 and MGF1-SHA-256, empty label, a fixed seed (RFC 8017 7.1.1)."""
    nums = pub.public_numbers()
    k = (nums.n.bit_length() + 7) // 8
    lhash = hashlib.sha256(b"").digest()
    db = lhash + b"\x00" * (k - len(msg) - 2 * 32 - 2) + b"\x01" + msg
    masked_db = bytes(a ^ b for a, b in zip(db, mgf1(seed, k - 33)))
    masked_seed = bytes(a ^ b for a, b in zip(seed, mgf1(masked_db, 32)))
    em = b"\x00" + masked_seed + masked_db
    return ubytes(pow(int.from_bytes(em, "big"), nums.e, nums.n), k)


def jwe(label, recipient_pub, pt, *, header_extra=None, kid=None, apu=b"", apv=b"",
        alg=None, enc="A256GCM"):
    """Compact JWE of pt for recipient_pub; header_extra members are added to the header."""
    cek = filler(label + "/cek", 32)
    iv = filler(label + "/iv", 12)
    header = {"enc": enc}
    if kid is not None:
        header["kid"] = kid
    if isinstance(recipient_pub, ec.EllipticCurvePublicKey):
        eph = derived_ec(label + "/epk", recipient_pub.curve)
        z = eph.exchange(ec.ECDH(), recipient_pub)
        header["alg"] = alg or "ECDH-ES+A256KW"
        header["epk"] = ec_jwk(eph.public_key())
        if apu:
            header["apu"] = b64u(apu)
        if apv:
            header["apv"] = b64u(apv)
        ek = aes_key_wrap(concat_kdf(z, "ECDH-ES+A256KW", apu, apv), cek)
    else:
        header["alg"] = alg or "RSA-OAEP-256"
        ek = oaep256_encrypt(recipient_pub, cek, filler(label + "/oaep", 32))
    header.update(header_extra or {})
    h = b64u(compact_json(header).encode())
    ct_tag = AESGCM(cek).encrypt(iv, pt, h.encode())
    return ".".join([h, b64u(ek), b64u(iv), b64u(ct_tag[:-16]), b64u(ct_tag[-16:])])


def flip(s, pos):
    """Change the base64url character at pos (negative counts from the end)."""
    c = s[pos]
    r = "A" if c != "A" else "B"
    pos %= len(s)
    return s[:pos] + r + s[pos + 1:]


# ---- corpora ----


def write(dirpath, name, data):
    with open(os.path.join(dirpath, name), "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)


def jwk_seeds(out, p256, rsa):
    p384 = derived_ec("jwk/p384", ec.SECP384R1())
    ec256 = ec_jwk(p256.public_key())
    ec384 = ec_jwk(p384.public_key())
    rsaj = rsa_jwk(rsa.public_key())
    write(out, "ec_p256.json", compact_json(ec256))
    write(out, "ec_p384.json", compact_json(ec384))
    ec521 = ec_jwk(derived_ec("jwk/p521", ec.SECP521R1()).public_key())
    write(out, "ec_p521.json", compact_json(ec521))
    write(out, "bad_p521_x_65.json", compact_json(dict(ec521, x=b64u(base64.urlsafe_b64decode(
        ec521["x"] + "==")[1:]))))
    write(out, "rsa_2048.json", compact_json(rsaj))
    # Member order, whitespace and extra public members do not change the key.
    spaced = '{\n  "y": "%s",\n  "x": "%s",\n  "kty": "EC", "crv": "P-256",\n  "kid": "k1",' \
             ' "use": "enc", "key_ops": ["deriveKey"]\n}\n' % (ec256["y"], ec256["x"])
    write(out, "ec_p256_spaced_extra.json", spaced)
    write(out, "rsa_2048_extra.json",
          compact_json(dict(rsaj, alg="RSA-OAEP-256", kid="rsa-1", use="enc")))
    # Rejects: private member, unsupported kty/crv, padding, duplicate, wrong length, off curve.
    d = b64u(ubytes(p256.private_numbers().private_value, 32))
    write(out, "bad_private_d.json", compact_json(dict(ec256, d=d)))
    write(out, "bad_kty_oct.json", '{"kty":"oct","k":"AAAA"}')
    write(out, "bad_kty_okp.json", '{"kty":"OKP","crv":"Ed25519","x":"%s"}' % ec256["x"])
    write(out, "bad_crv_p521.json", compact_json(dict(ec256, crv="P-521")))
    write(out, "bad_padding.json", compact_json(dict(rsaj, e="AQAB=")))
    write(out, "bad_duplicate.json",
          '{"kty":"EC","crv":"P-256","x":"%s","x":"%s","y":"%s"}' % (ec256["x"], ec256["x"],
                                                                     ec256["y"]))
    write(out, "bad_x_short.json", compact_json(dict(ec256, x=ec256["x"][:-2])))
    y = int.from_bytes(base64.urlsafe_b64decode(ec256["y"] + "="), "big") ^ 1
    write(out, "bad_off_curve.json", compact_json(dict(ec256, y=b64u(ubytes(y, 32)))))
    n = base64.urlsafe_b64decode(rsaj["n"] + "==")
    write(out, "bad_rsa_1024.json", compact_json(dict(rsaj, n=b64u(n[:128]))))
    write(out, "bad_rsa_leading_zero.json", compact_json(dict(rsaj, n=b64u(b"\x00" + n))))
    write(out, "bad_rsa_even_e.json", compact_json(dict(rsaj, e=b64u(b"\x01\x00\x00"))))
    write(out, "bad_not_object.json", "[1,2,3]")


def compact_seeds(out, p256, rsa):
    pub_ec = p256.public_key()
    pub_rsa = rsa.public_key()
    hdr = {"alg": "ES256", "kid": FUZZ_KID, "typ": "JWT"}
    claims = compact_json({"eat_nonce": "AAECAwQFBgc", "iss": "veritee-fuzz"}).encode()
    write(out, "jws_ok.txt", jws(p256, hdr, claims))
    write(out, "jws_ok_empty_payload.txt", jws(p256, {"alg": "ES256", "kid": FUZZ_KID}, b""))
    write(out, "jws_unknown_kid.txt", jws(p256, dict(hdr, kid="other"), claims))
    write(out, "jws_alg_none.txt", jws(p256, dict(hdr, alg="none"), claims, sig=b""))
    write(out, "jws_alg_hs256.txt", jws(p256, dict(hdr, alg="HS256"), claims, sig=bytes(32)))
    write(out, "jws_crit.txt", jws(p256, dict(hdr, crit=["exp"], exp=1), claims))
    ok = jws(p256, hdr, claims)
    write(out, "jws_bad_signature.txt", flip(ok, -5))
    write(out, "jws_extra_segment.txt", ok + ".AAAA")
    rhdr = {"alg": "RS256", "kid": FUZZ_RS_KID, "typ": "JWT", "jku": "https://maa.example/certs"}
    rs = jws(rsa, rhdr, claims, signer=rs256_sign)
    write(out, "jws_rs256_ok.txt", rs)
    write(out, "jws_rs256_bad_signature.txt", flip(rs, -5))
    write(out, "jws_rs256_unknown_kid.txt", jws(rsa, dict(rhdr, kid="other"), claims,
                                                signer=rs256_sign))
    write(out, "jws_rs256_short_signature.txt", jws(rsa, rhdr, claims, sig=bytes(128)))

    pt = b"veritee: a released secret"
    write(out, "jwe_ecdh_p256.txt", jwe("ec1", pub_ec, pt, kid="ec-1"))
    write(out, "jwe_ecdh_p256_empty.txt", jwe("ec2", pub_ec, b""))
    write(out, "jwe_ecdh_p256_apu_apv.txt", jwe("ec3", pub_ec, pt, apu=b"Alice", apv=b"Bob"))
    # for a P-521 recipient (not the target's key: it reaches the curve check)
    p521 = derived_ec("vector/p521-recipient", ec.SECP521R1()).public_key()
    write(out, "jwe_ecdh_p521.txt", jwe("ec8", p521, pt))
    write(out, "jwe_rsa_oaep256.txt", jwe("rsa1", pub_rsa, pt, kid="rsa-1"))
    write(out, "jwe_rsa_oaep256_1byte.txt", jwe("rsa2", pub_rsa, b"x"))
    write(out, "jwe_zip.txt", jwe("ec4", pub_ec, pt, header_extra={"zip": "DEF"}))
    write(out, "jwe_crit.txt", jwe("ec5", pub_ec, pt, header_extra={"crit": ["x"], "x": 1}))
    write(out, "jwe_enc_a128gcm.txt", jwe("ec6", pub_ec, pt, enc="A128GCM"))
    write(out, "jwe_alg_rsa1_5.txt", jwe("rsa3", pub_rsa, pt, alg="RSA1_5"))
    good = jwe("ec7", pub_ec, pt)
    write(out, "jwe_bad_tag.txt", flip(good, -3))
    write(out, "jwe_bad_ciphertext.txt", good.replace(good.split(".")[3],
                                                      flip(good.split(".")[3], 0)))


def vectors(p256, rsa):
    """Interoperability vectors for the unit test."""
    pt = b"interop: JWE built by tests/support/gen_jose_seeds.py"
    for name, key in (("ECDH-ES+A256KW", p256.public_key()), ("RSA-OAEP-256", rsa.public_key())):
        print(f"/* {name} */")
        v = jwe("vector/" + name, key, pt, kid="interop", apu=b"Alice", apv=b"Bob")
        for i in range(0, len(v), 90):
            print(f'    "{v[i:i + 90]}"')
    print(f"/* plaintext: {pt.decode()} */")
    # P-521 (the guest's ECDH-ES+A256KW-P521 key): a recipient derived from a fixed scalar
    p521 = derived_ec("vector/p521-recipient", ec.SECP521R1())
    print("/* P-521 recipient (PKCS#8) */")
    pem = p521.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()
    for line in pem.splitlines():
        print(f'    "{line}\\n"')
    print("/* ECDH-ES+A256KW on P-521 */")
    v = jwe("vector/ECDH-ES+A256KW-P521", p521.public_key(), pt, kid="interop")
    for i in range(0, len(v), 90):
        print(f'    "{v[i:i + 90]}"')


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    root = args[0] if args else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                             "..")
    p256, rsa = fuzz_keys(root)
    if "--vectors" in sys.argv:
        vectors(p256, rsa)
        return
    for name, fn in (("fuzz_jwk", jwk_seeds), ("fuzz_jose_compact", compact_seeds)):
        out = os.path.join(root, "fuzz", "corpus", name)
        os.makedirs(out, exist_ok=True)
        fn(out, p256, rsa)
        print(f"{out}: {len(os.listdir(out))} files")


if __name__ == "__main__":
    main()
