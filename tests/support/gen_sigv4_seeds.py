#!/usr/bin/env python3
"""Generate the seed corpus of fuzz/fuzz_sigv4 (fuzz/corpus/fuzz_sigv4/).

Requests signed by botocore's SigV4Auth / SigV4QueryAuth with the fuzz target's key and clock
(FUZZ_AKID, FUZZ_SECRET, FUZZ_NOW in fuzz/fuzz_sigv4.c), so that seeds reach the signature
comparison, and broken variants of them. The format is the target's: "METHOD\\nPATH\\nQUERY\\n",
header lines "Name:value", an empty line, the body. botocore's clock is pinned as in
tests/support/sigv4_vectors.py, so re-running reproduces the committed files.

Requires botocore (python3-botocore).

Usage: tests/support/gen_sigv4_seeds.py [repo root]   (default: two levels above)
"""
import datetime
import hashlib
import os
import sys
from urllib.parse import urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sigv4_vectors  # noqa: E402  (the pinned clock)

from botocore.auth import SigV4Auth, SigV4QueryAuth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402

AKID = "AKIDFUZZ0001"
SECRET = "fuzz/secret+0123456789abcdefghij"
NOW = datetime.datetime(2025, 7, 19, 10, 1, 17)
KMS_JSON = "application/x-amz-json-1.1"


def signed(method, url, headers, body=b"", params=None, region="eu-west-1", when=NOW,
           query_form=False, expires=300, extra=()):
    creds = Credentials(AKID, SECRET)
    req = AWSRequest(method=method, url=url, headers=dict(headers), data=body, params=params)
    for k, v in extra:
        req.headers[k] = v
    signer = (SigV4QueryAuth(creds, "kms", region, expires=expires) if query_form
              else SigV4Auth(creds, "kms", region))
    with sigv4_vectors.fixed_time(when):
        signer.add_auth(req)
    prepared = req.prepare()
    parts = urlsplit(prepared.url)
    body = prepared.body or b""
    if isinstance(body, str):
        body = body.encode()
    return method, parts.path, parts.query, list(req.headers.items()), body


def encode(method, path, query, headers, body):
    head = "".join(f"{k}:{v}\n" for k, v in headers)
    return f"{method}\n{path}\n{query}\n{head}\n".encode() + body


def replace(headers, name, value):
    return [(k, value if k.lower() == name.lower() else v) for k, v in headers]


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
    out = os.path.join(root, "fuzz", "corpus", "fuzz_sigv4")
    os.makedirs(out, exist_ok=True)
    host = "kms.eu-west-1.amazonaws.com"
    url = f"https://{host}/"
    kms = {"Host": host, "Content-Type": KMS_JSON, "X-Amz-Target": "TrentService.Encrypt"}
    body = b'{"KeyId":"alias/app","Plaintext":"aGVsbG8="}'
    seeds = {}
    enc = signed("POST", url, kms, body)
    seeds["header_encrypt"] = enc
    seeds["folded_repeated"] = signed(
        "POST", url, dict(kms, **{"X-Amz-Meta-Note": "  a   b \t c "}), body,
        extra=[("X-Amz-Meta-Note", "second")])
    seeds["query_params"] = signed("GET", url, {"Host": host},
                                   params=[("b", "2"), ("a", "y y"), ("a", "+/*~")])
    seeds["path_dots"] = signed("POST", f"https://{host}/a/./b/../c%20d//", kms, body)
    seeds["date_header"] = signed("POST", url, dict(kms, Date="Sat, 19 Jul 2025 10:01:17 GMT"),
                                  body)
    seeds["content_sha256"] = signed(
        "POST", url, dict(kms, **{"X-Amz-Content-SHA256": hashlib.sha256(body).hexdigest()}), body)
    seeds["presigned"] = signed("GET", url, {"Host": host}, params={"Action": "ListKeys"},
                                query_form=True)
    seeds["presigned_expired"] = signed("GET", url, {"Host": host}, params={"Action": "ListKeys"},
                                        query_form=True, when=NOW - datetime.timedelta(hours=1))
    seeds["other_key_region"] = signed("POST", url, kms, body, region="us-east-1")
    # Broken variants.
    m, p, q, h, b = enc
    seeds["no_auth"] = (m, p, q, [kv for kv in h if kv[0] != "Authorization"], b)
    auth = dict(h)["Authorization"]
    seeds["auth_no_equal"] = (m, p, q, replace(h, "Authorization",
                                               auth.replace("Signature=", "Signature ")), b)
    seeds["auth_sha512"] = (m, p, q, replace(h, "Authorization",
                                             auth.replace("SHA256", "SHA512", 1)), b)
    seeds["skewed"] = signed("POST", url, kms, body, when=NOW - datetime.timedelta(minutes=16))
    seeds["body_changed"] = (m, p, q, h, b.replace(b"app", b"apq"))
    seeds["unsigned_payload"] = signed("POST", url, dict(kms, **{
        "X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"}), body)
    for name, seed in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(encode(*seed))
    print(f"{len(seeds)} seeds in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
