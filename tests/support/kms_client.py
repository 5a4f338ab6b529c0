#!/usr/bin/env python3
"""A KMS client for the integration tests: one AWS JSON 1.1 call signed by botocore's SigV4Auth
(an implementation independent of veritee's), sent with urllib.

  kms_client.py URL REGION ACCESS_KEY_ID SECRET OPERATION JSON_BODY

prints {"status": N, "headers": {lower-case name: value}, "body": <the JSON answer>} on stdout.
An https:// URL is checked against the CA file in $KMS_CA_FILE (else the system's).
Exit status 0 whenever an HTTP answer came, 2 when botocore is missing (the caller skips).
"""
import json
import os
import ssl
import sys
import urllib.error
import urllib.request

try:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
except ImportError:
    sys.exit(2)


def main():
    url, region, akid, secret, op, body = sys.argv[1:7]
    req = AWSRequest(method="POST", url=url + "/", data=body.encode(),
                     headers={"Content-Type": "application/x-amz-json-1.1",
                              "X-Amz-Target": "TrentService." + op})
    SigV4Auth(Credentials(akid, secret), "kms", region).add_auth(req)
    r = urllib.request.Request(url + "/", data=body.encode(), method="POST",
                               headers=dict(req.headers.items()))
    ctx = None
    if url.startswith("https://") and os.environ.get("KMS_CA_FILE"):
        ctx = ssl.create_default_context(cafile=os.environ["KMS_CA_FILE"])
    try:
        with urllib.request.urlopen(r, timeout=30, context=ctx) as resp:
            status, headers, raw = resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as e:
        status, headers, raw = e.code, e.headers, e.read()
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = raw.decode(errors="replace")
    json.dump({"status": status, "headers": {k.lower(): v for k, v in headers.items()},
               "body": parsed}, sys.stdout)
    print()


if __name__ == "__main__":
    main()
