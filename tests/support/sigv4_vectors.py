#!/usr/bin/env python3
"""Known-answer vectors for veritee's SigV4 verifier (src/kms/sigv4.c), signed at test time by an
independent implementation: botocore's SigV4Auth (Authorization header) and SigV4QueryAuth (query
form). tests/unit/kms/test_sigv4.c runs this and checks that vt_sigv4_verify accepts every request
and that vt_sigv4_sign writes the same Authorization value botocore did.

Prints one JSON object: {"botocore": VERSION, "vectors": [...]}, each vector
  name, form ("header" | "query"), method, path, query (as sent, still encoded),
  headers ([name, value] pairs as sent, repeats kept, Authorization / X-Amz-Date included),
  body_hex, access_key, secret, region, service, time (unix seconds of the signature),
  authorization (header form: the value botocore wrote), date_header (true when botocore signed
  with the Date header instead of X-Amz-Date), compare_sign (true when vt_sigv4_sign must give
  the same Authorization value from the headers botocore signed).

Exit status 77 when botocore cannot be imported (the test skips, or fails under CI=true).
"""
import datetime
import hashlib
import json
import sys
import types
from unittest import mock
from urllib.parse import urlsplit

try:
    import botocore
    import botocore.auth
    from botocore.auth import SigV4Auth, SigV4QueryAuth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
except ImportError as e:  # pragma: no cover - depends on the machine
    print(f"botocore is not installed ({e}): apt-get install python3-botocore", file=sys.stderr)
    sys.exit(77)

ACCESS_KEY = "AKIDVERITEETEST0001"
SECRET = "vtTestSecret/0123+abcdefghijklmnopQRSTUVwx"


def fixed_time(when):
    """A context manager pinning botocore's clock to `when` (a naive UTC datetime): newer
    botocore asks botocore.auth.get_current_datetime, older calls datetime.datetime.utcnow."""

    class Fixed(datetime.datetime):
        @classmethod
        def utcnow(cls):
            return when

        @classmethod
        def now(cls, tz=None):
            return when if tz is None else when.replace(tzinfo=tz)

    if hasattr(botocore.auth, "get_current_datetime"):
        return mock.patch.object(botocore.auth, "get_current_datetime", lambda *a, **k: when)
    shim = types.SimpleNamespace(datetime=Fixed, timezone=datetime.timezone)
    return mock.patch.object(botocore.auth, "datetime", shim)


def sign(name, *, method, url, headers, body=b"", params=None, region, when, query_form=False,
         expires=3600, extra_headers=(), service="kms"):
    creds = Credentials(ACCESS_KEY, SECRET)
    req = AWSRequest(method=method, url=url, headers=dict(headers), data=body, params=params)
    for k, v in extra_headers:  # repeated fields: HTTPHeaders appends
        req.headers[k] = v
    signer = (SigV4QueryAuth(creds, service, region, expires=expires) if query_form
              else SigV4Auth(creds, service, region))
    with fixed_time(when):
        signer.add_auth(req)
    prepared = req.prepare()
    parts = urlsplit(prepared.url)
    sent = [[k, v] for k, v in req.headers.items()]
    authorization = req.headers.get("Authorization")
    body_bytes = prepared.body or b""
    if isinstance(body_bytes, str):
        body_bytes = body_bytes.encode("utf-8")
    return {
        "name": name,
        "form": "query" if query_form else "header",
        "method": method,
        "path": parts.path,
        "query": parts.query,
        "headers": sent,
        "body_hex": body_bytes.hex(),
        "access_key": ACCESS_KEY,
        "secret": SECRET,
        "region": region,
        "service": service,
        "time": int(when.replace(tzinfo=datetime.timezone.utc).timestamp()),
        "authorization": authorization,
        "date_header": "Date" in req.headers,
        "compare_sign": not query_form and "Date" not in req.headers,
    }


def main():
    t0 = datetime.datetime(2025, 7, 19, 10, 1, 17)
    kms_json = "application/x-amz-json-1.1"
    decrypt_body = b'{"CiphertextBlob":"AQICAHg=","KeyId":"arn:aws:kms:eu-west-3:1:key/k"}'
    vectors = [
        # KMS Encrypt as an SDK sends it: POST / with X-Amz-Target and a JSON body.
        sign("kms_encrypt", method="POST", url="https://kms.us-east-1.amazonaws.com/",
             headers={"Host": "kms.us-east-1.amazonaws.com", "Content-Type": kms_json,
                      "X-Amz-Target": "TrentService.Encrypt"},
             body=b'{"KeyId":"alias/app","Plaintext":"aGVsbG8gd29ybGQ="}',
             region="us-east-1", when=t0),
        # Decrypt with the body's hash in X-Amz-Content-SHA256, another region, a leap day.
        sign("kms_decrypt_content_sha256", method="POST",
             url="https://kms.eu-west-3.amazonaws.com/",
             headers={"Host": "kms.eu-west-3.amazonaws.com", "Content-Type": kms_json,
                      "X-Amz-Target": "TrentService.Decrypt",
                      "X-Amz-Content-SHA256": hashlib.sha256(decrypt_body).hexdigest()},
             body=decrypt_body, region="eu-west-3",
             when=datetime.datetime(2024, 2, 29, 23, 59, 59)),
        # Folded spaces, tabs and a repeated field (joined with ',').
        sign("folded_spaces", method="POST", url="https://kms.ap-southeast-2.amazonaws.com/",
             headers={"Host": "kms.ap-southeast-2.amazonaws.com", "Content-Type": kms_json,
                      "X-Amz-Target": "TrentService.GenerateDataKey",
                      "X-Amz-Meta-Note": "  a   b \t c  ", "X-Custom": "one  two"},
             extra_headers=[("X-Custom", "\tthree   four ")],
             body=b'{"KeyId":"alias/app","KeySpec":"AES_256"}',
             region="ap-southeast-2", when=datetime.datetime(2026, 1, 1, 0, 0, 0)),
        # A query with repeated names and characters that must be encoded; botocore's preparer
        # writes a space as '+'.
        sign("query_params", method="GET", url="https://kms.ca-central-1.amazonaws.com/",
             headers={"Host": "kms.ca-central-1.amazonaws.com"},
             params=[("b", "2"), ("a", "z"), ("a", "y y"), ("odd", "+/ *~\u00e9&=;"),
                     ("empty", ""), ("Caps", "x")],
             region="ca-central-1", when=datetime.datetime(2025, 12, 31, 23, 59, 0)),
        # Dot segments, empty segments and an escape in the path (encoded a second time).
        sign("path_segments", method="POST",
             url="https://kms.us-gov-west-1.amazonaws.com/a/./b/../c%20d//e%2Ff/",
             headers={"Host": "kms.us-gov-west-1.amazonaws.com", "Content-Type": kms_json,
                      "X-Amz-Target": "TrentService.ListKeys"},
             body=b"{}", region="us-gov-west-1", when=t0),
        # No body at all.
        sign("empty_body", method="GET", url="https://kms.me-south-1.amazonaws.com/",
             headers={"Host": "kms.me-south-1.amazonaws.com"},
             region="me-south-1", when=datetime.datetime(2000, 1, 1, 12, 0, 0)),
        # The Date header instead of X-Amz-Date (botocore writes "..., -0000").
        sign("date_header", method="POST", url="https://kms.sa-east-1.amazonaws.com/",
             headers={"Host": "kms.sa-east-1.amazonaws.com", "Content-Type": kms_json,
                      "X-Amz-Target": "TrentService.DescribeKey",
                      "Date": "Thu, 01 Jan 1970 00:00:00 GMT"},
             body=b'{"KeyId":"alias/app"}', region="sa-east-1", when=t0),
        # Query form (presigned): repeated parameters, X-Amz-Expires of 300 s.
        sign("query_form_get", method="GET", url="https://kms.eu-central-1.amazonaws.com/",
             headers={"Host": "kms.eu-central-1.amazonaws.com"},
             params={"Action": "ListKeys", "k": ["v2", "v1"], "sp ace": "a b+c"},
             region="eu-central-1", when=t0, query_form=True, expires=300),
        # Query form over a signed body and X-Amz-Target, seven days.
        sign("query_form_post", method="POST", url="https://kms.us-west-2.amazonaws.com/",
             headers={"Host": "kms.us-west-2.amazonaws.com", "Content-Type": kms_json,
                      "X-Amz-Target": "TrentService.Sign"},
             body=b'{"KeyId":"alias/sig","Message":"bWVzc2FnZQ==","SigningAlgorithm":"ECDSA_SHA_256"}',
             region="us-west-2", when=datetime.datetime(2025, 3, 1, 6, 30, 0), query_form=True,
             expires=604800),
    ]
    json.dump({"botocore": botocore.__version__, "vectors": vectors}, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
