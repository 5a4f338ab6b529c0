#!/usr/bin/env python3
"""Upstream test double of Intel PCS v4 and AMD KDS for the collateral-cache tests.

It serves only real recorded vendor data from the fixtures folder: bodies byte-exact as recorded,
headers as the vendor sends them (issuer chains URL-encoded PEM, Request-ID, content types).
Where several recorded bodies answer one URL, the one current at the double's clock (--now) is
served, as PCS serves the document current at the time of the request. Fault injection through
POST /_control lets tests check that the cache refuses bad upstream data.

Usage: upstream_double.py --fixtures DIR --port-file FILE [--port 0] [--now UNIX]
Standard library only.
"""
import argparse
import base64
import datetime
import glob
import json
import os
import random
import re
import signal
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# ---- a small DER reader ----


def tlv(b, i):
    """(tag, content_start, end) of the DER element at i."""
    tag = b[i]
    n = b[i + 1]
    j = i + 2
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(b[j:j + k], "big")
        j += k
    return tag, j, j + n


def children(b, start, end):
    i = start
    while i < end:
        t, s, e = tlv(b, i)
        yield t, s, e
        i = e


def oid_text(raw):
    first = raw[0]
    parts = [first // 40, first % 40]
    v = 0
    for c in raw[1:]:
        v = (v << 7) | (c & 0x7F)
        if not c & 0x80:
            parts.append(v)
            v = 0
    return ".".join(map(str, parts))


def walk(b, start, end, out):
    """Collect (oid, value-bytes) pairs of every SEQUENCE {OID, value} below."""
    for t, s, e in children(b, start, end):
        if t in (0x30, 0x31, 0xA0, 0xA3) or (t == 0x04 and e > s and b[s] == 0x30):
            kids = list(children(b, s, e)) if t != 0x04 else None
            if t == 0x30:
                kids = list(children(b, s, e))
                if len(kids) >= 2 and kids[0][0] == 0x06:
                    out.append((oid_text(b[kids[0][1]:kids[0][2]]), kids[-1], b))
            try:
                walk(b, s, e, out)
            except (IndexError, ValueError):
                pass
    return out


def der_time(b, s, e, tag):
    txt = b[s:e].decode()
    fmt = "%y%m%d%H%M%SZ" if tag == 0x17 else "%Y%m%d%H%M%SZ"
    return int(datetime.datetime.strptime(txt, fmt).replace(tzinfo=datetime.timezone.utc).timestamp())


def crl_window(der):
    _, s, e = tlv(der, 0)
    tbs = list(children(der, s, e))[0]
    fields = list(children(der, tbs[1], tbs[2]))
    times = [f for f in fields if f[0] in (0x17, 0x18)]
    return der_time(der, times[0][1], times[0][2], times[0][0]), der_time(der, times[1][1], times[1][2], times[1][0])


def pem_blocks(data):
    return re.findall(rb"-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----", data)


def pem_to_der(block):
    body = b"".join(block.split(b"\n")[1:-1]) if b"\n" in block else block
    inner = re.sub(rb"-----[A-Z ]+-----|\s", b"", block)
    return base64.b64decode(inner)


def iso(s):
    return int(datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc).timestamp())


def url_encode_pem(pem):
    """PCS style: every character but unreserved ones percent-encoded (uppercase hex)."""
    return urllib.parse.quote(pem, safe="-_.~")


# ---- the index of recorded responses ----


class Doc:
    def __init__(self, body, ctype, headers, start, end, source, **kw):
        self.body, self.ctype, self.headers = body, ctype, headers
        self.start, self.end, self.source = start, end, source
        self.__dict__.update(kw)


def inner_fields(body, name):
    obj = json.loads(body)[name]
    return obj


def index(fixtures):
    idx = {"tcb": [], "qe": [], "pckcrl": [], "root": [], "eval": [], "pck": [], "vcek": [], "chain": {},
           "tcb3": [], "qe3": []}
    seen = set()
    for d in sorted(glob.glob(os.path.join(fixtures, "dcap", "*", "*"))):
        src = os.path.relpath(d, fixtures)

        def rd(n):
            p = os.path.join(d, n)
            return open(p, "rb").read() if os.path.exists(p) else None

        tcb, tchain = rd("tcb_info.json"), rd("tcb_info_issuer_chain.pem")
        if tcb and tchain and tcb not in seen:
            seen.add(tcb)
            t = inner_fields(tcb, "tcbInfo")
            idx["tcb"].append(Doc(tcb, "application/json",
                                  {"TCB-Info-Issuer-Chain": url_encode_pem(tchain.decode())},
                                  iso(t["issueDate"]), iso(t["nextUpdate"]), src + "/tcb_info.json",
                                  tee=t.get("id", "SGX"), fmspc=t["fmspc"].lower(), eval=t["tcbEvaluationDataNumber"]))
        qe, qchain = rd("qe_identity.json"), rd("qe_identity_issuer_chain.pem")
        if qe and qchain and qe not in seen:
            seen.add(qe)
            q = inner_fields(qe, "enclaveIdentity")
            idx["qe"].append(Doc(qe, "application/json",
                                 {"SGX-Enclave-Identity-Issuer-Chain": url_encode_pem(qchain.decode())},
                                 iso(q["issueDate"]), iso(q["nextUpdate"]), src + "/qe_identity.json",
                                 id=q["id"], eval=q["tcbEvaluationDataNumber"]))
        crl, cchain = rd("pck_crl.der"), rd("pck_crl_issuer_chain.pem")
        if crl and cchain and crl not in seen:
            seen.add(crl)
            a, b = crl_window(crl)
            ca = "processor" if b"Processor" in crl[:400] else "platform"
            idx["pckcrl"].append(Doc(crl, "application/pkix-crl",
                                     {"SGX-PCK-CRL-Issuer-Chain": url_encode_pem(cchain.decode())},
                                     a, b, src + "/pck_crl.der", ca=ca))
        root = rd("root_ca_crl.der")
        if root and root not in seen:
            seen.add(root)
            a, b = crl_window(root)
            idx["root"].append(Doc(root, "application/pkix-crl", {}, a, b, src + "/root_ca_crl.der"))
        quote = rd("quote.bin")
        if quote:
            blocks = pem_blocks(quote)
            if len(blocks) >= 3:
                leaf = pem_to_der(blocks[0])
                info = {}
                for oid, (t, s, e), buf in walk(leaf, 0, len(leaf), []):
                    if oid.startswith("1.2.840.113741.1.13.1."):
                        info[oid] = buf[s:e]
                cpusvn = info.get("1.2.840.113741.1.13.1.2.18")
                pcesvn = info.get("1.2.840.113741.1.13.1.2.17")
                if cpusvn is not None and pcesvn is not None:
                    pcesvn_v = int.from_bytes(pcesvn, "big")
                    chain = (blocks[1] + b"\n" + blocks[2] + b"\n").decode()
                    ca = "processor" if b"Processor" in pem_to_der(blocks[1]) else "platform"
                    pem = blocks[0].replace(b"\r\n", b"\n") + b"\n"
                    idx["pck"].append(Doc(pem, "application/x-pem-file", {
                        "SGX-PCK-Certificate-Issuer-Chain": url_encode_pem(chain),
                        "SGX-TCBm": (cpusvn + pcesvn_v.to_bytes(2, "little")).hex(),
                        "SGX-FMSPC": info["1.2.840.113741.1.13.1.4"].hex().upper(),
                        "SGX-PCK-Certificate-CA-Type": ca}, 0, 2**62, src + "/quote.bin",
                        cpusvn=cpusvn.hex(), pcesvn=pcesvn_v.to_bytes(2, "little").hex(),
                        pceid=info["1.2.840.113741.1.13.1.3"].hex()))
    bodies = os.path.join(fixtures, "dcap", "automata-dcap-attestation")
    signer = open(os.path.join(bodies, "sgx-v3-fmspc00606a000000", "tcb_info_issuer_chain.pem")).read()
    for p in sorted(glob.glob(os.path.join(bodies, "pcs-bodies", "*tcbeval.json"))):
        body = open(p, "rb").read()
        e = inner_fields(body, "tcbEvaluationDataNumbers")
        idx["eval"].append(Doc(body, "application/json",
                               {"TCB-Evaluation-Data-Numbers-Issuer-Chain": url_encode_pem(signer)},
                               iso(e["issueDate"]), iso(e["nextUpdate"]), os.path.relpath(p, fixtures), tee=e["id"]))
    # The v3 API's documents: a recorded SGX TCB info of version 2 (the v3 API's format) and a
    # recorded QE identity, served at the v3 paths with the v3 header name.
    for name, kind, member in (("0625_tcbinfo.json", "tcb3", "tcbInfo"), ("0625_identity.json", "qe3", "enclaveIdentity")):
        p = os.path.join(bodies, "pcs-bodies", name)
        if not os.path.exists(p):
            continue
        body = open(p, "rb").read()
        t = inner_fields(body, member)
        hdr = "SGX-TCB-Info-Issuer-Chain" if kind == "tcb3" else "SGX-Enclave-Identity-Issuer-Chain"
        idx[kind].append(Doc(body, "application/json", {hdr: url_encode_pem(signer)},
                             iso(t["issueDate"]), iso(t["nextUpdate"]), os.path.relpath(p, fixtures),
                             fmspc=t.get("fmspc", "").lower()))
    snp = os.path.join(fixtures, "snp")
    for rel in ["virtee-sev/vcek_milan.der", "virtee-sev/vcek_turin.der", "go-sev-guest/vcek.testcer",
                "trustee/test-vcek.der", "trustee/derived/e2e-genoa-vcek.der", "trustee-azure/vcek.pem",
                "trustee-azure/vcek-genoa.pem"]:
        p = os.path.join(snp, rel)
        if not os.path.exists(p):
            continue
        data = open(p, "rb").read()
        der = pem_to_der(pem_blocks(data)[0]) if data.startswith(b"-----") else data
        if der in seen:
            continue
        seen.add(der)
        ext = {}
        for oid, (t, s, e), buf in walk(der, 0, len(der), []):
            if oid.startswith("1.3.6.1.4.1.3704.1."):
                ext[oid] = buf[s:e]

        def spl(n):
            v = ext.get("1.3.6.1.4.1.3704.1.3." + str(n))
            if v is None:
                return None
            _, s, e = tlv(v, 0) if v and v[0] == 0x02 else (0, 0, len(v))
            return int.from_bytes(v[s:e], "big")

        name = ext["1.3.6.1.4.1.3704.1.2"]
        name = name[2:] if name[:1] == b"\x16" else name
        product = name.decode().split("-")[0]
        hwid = ext["1.3.6.1.4.1.3704.1.4"]
        idx["vcek"].append(Doc(der, "application/x-x509-ca-cert", {}, 0, 2**62, rel, product=product,
                               hwid=hwid.hex(), spl=(spl(1), spl(2), spl(3), spl(8), spl(9))))
    for prod, f, fv in [("Milan", "ask_ark_milan.pem", "ask_ark_milan_vlek.pem"),
                        ("Genoa", "ask_ark_genoa.pem", "ask_ark_genoa_vlek.pem"),
                        ("Turin", "ask_ark_turin_vcek.pem", "ask_ark_turin_vlek.pem")]:
        for kind, name in (("vcek", f), ("vlek", fv)):
            p = os.path.join(snp, "amd-roots", name)
            if os.path.exists(p):
                idx["chain"][(kind, prod)] = open(p, "rb").read()
    return idx


# ---- serving ----


class State:
    def __init__(self, idx, now):
        self.idx, self.now = idx, now
        self.fault, self.count, self.match = None, 0, ""
        self.log = []
        self.lock = threading.Lock()


def current(docs, now):
    good = [d for d in docs if d.start <= now <= d.end]
    return max(good, key=lambda d: d.start) if good else None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stderr.write("double: " + fmt % args + "\n")

    def send(self, status, body=b"", ctype=None, headers=None, intel=True):
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if intel:
            self.send_header("Request-ID", "%032x" % random.getrandbits(128))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def bad(self, msg):
        self.send(400, headers={"Error-Code": "InvalidParameter", "Error-Message": msg})

    def do_POST(self):
        st = self.server.state
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n) if n else b""
        if self.path == "/_control/reset-log":
            with st.lock:
                st.log = []
            return self.send(200, b"{}", "application/json", intel=False)
        if self.path != "/_control":
            return self.send(404)
        c = json.loads(body or b"{}")
        with st.lock:
            if "now" in c:
                st.now = int(c["now"])
            if "fault" in c:
                st.fault = c["fault"]
                st.count = int(c.get("count", 1))
                st.match = c.get("match", "")
        self.send(200, b"{}", "application/json", intel=False)

    def do_GET(self):
        st = self.server.state
        if self.path == "/_control/log":
            with st.lock:
                return self.send(200, json.dumps(st.log).encode(), "application/json", intel=False)
        if self.path == "/_control/index":
            out = {k: [d.source for d in v] for k, v in st.idx.items() if isinstance(v, list)}
            return self.send(200, json.dumps(out).encode(), "application/json", intel=False)
        with st.lock:
            st.log.append(self.path)
            fault = None
            if st.fault and st.count != 0 and st.match in self.path:
                fault = st.fault
                if st.count > 0:
                    st.count -= 1
            now = st.now
        if fault == "reset":
            self.close_connection = True
            self.connection.close()
            return
        if fault == "hang":
            time.sleep(30)
        if fault in ("status-500", "status-503", "status-429"):
            code = int(fault[-3:])
            return self.send(code, headers={"Retry-After": "1"} if code != 500 else {})
        if fault == "html":
            return self.send(200, b"<html><body>maintenance</body></html>", "text/html")
        res = self.route(now)
        if res is None:
            return
        status, body, ctype, headers, kind = res
        intel = not self.path.startswith(("/vcek/", "/vlek/"))
        if status == 200 and fault:
            body, headers = self.damage(fault, body, headers, kind, now)
        self.send(status, body, ctype, headers, intel)

    def damage(self, fault, body, headers, kind, now):
        idx = self.server.state.idx
        if fault == "truncate":
            return body[: len(body) // 2], headers
        if fault == "bad-signature":
            if body.startswith(b"{"):
                i = body.rindex(b'"signature":"') + 20
                return body[:i] + (b"0" if body[i:i + 1] != b"0" else b"1") + body[i + 1:], headers
            return body[:-1] + bytes([body[-1] ^ 1]), headers
        if fault == "wrong-fmspc" and kind == "tcb":
            other = [d for d in idx["tcb"] if d.body != body and d.tee == json.loads(body)["tcbInfo"].get("id", "SGX")
                     and d.fmspc != json.loads(body)["tcbInfo"]["fmspc"].lower()]
            if other:
                return other[0].body, other[0].headers
        if fault == "wrong-content":
            if kind == "tcb":
                q = idx["qe"][0]
                return q.body, {"TCB-Info-Issuer-Chain": q.headers["SGX-Enclave-Identity-Issuer-Chain"]}
            return idx["tcb"][0].body, headers
        return body, headers

    def route(self, now):
        st = self.server.state
        u = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(u.query))
        path = u.path
        m = re.fullmatch(r"/sgx/certification/v3/(tcb|qe/identity)", path)
        if m:
            if q.get("update", "standard") not in ("standard", "early") or "tcbEvaluationDataNumber" in q:
                return self.bad("bad update")
            kind = "tcb3" if m.group(1) == "tcb" else "qe3"
            docs = st.idx[kind]
            if kind == "tcb3":
                docs = [d for d in docs if d.fmspc == q.get("fmspc", "").lower()]
            hit = current(docs, now)
            if hit is None:
                return 404, b"", None, {}, kind
            return 200, hit.body, hit.ctype, dict(hit.headers), kind
        m = re.fullmatch(r"/(sgx|tdx)/certification/v4/(.*)", path)
        if m:
            tee, rest = m.group(1).upper(), m.group(2)
            if rest in ("tcb", "qe/identity"):
                if "update" in q and "tcbEvaluationDataNumber" in q:
                    return self.bad("update and tcbEvaluationDataNumber together")
                if q.get("update", "standard") not in ("standard", "early"):
                    return self.bad("bad update")
                if rest == "tcb":
                    f = q.get("fmspc", "")
                    if not re.fullmatch(r"[0-9A-Fa-f]{12}", f):
                        return self.bad("bad fmspc")
                    docs = [d for d in st.idx["tcb"] if d.tee == tee and d.fmspc == f.lower()]
                    kind = "tcb"
                else:
                    docs = [d for d in st.idx["qe"] if d.id == ("TD_QE" if tee == "TDX" else "QE")]
                    kind = "qe"
                if not docs:
                    return 404, b"", None, {}, kind
                if "tcbEvaluationDataNumber" in q:
                    hit = [d for d in docs if str(d.eval) == q["tcbEvaluationDataNumber"]]
                    hit = max(hit, key=lambda d: d.start) if hit else None
                    if hit is None:
                        return 410, b"", None, {}, kind
                else:
                    hit = current(docs, now)
                if hit is None:
                    return 404, b"", None, {}, kind
                return 200, hit.body, hit.ctype, dict(hit.headers), kind
            if rest == "pckcrl":
                ca = q.get("ca", "").lower()
                if ca not in ("processor", "platform") or q.get("encoding", "pem") not in ("pem", "der"):
                    return self.bad("bad ca or encoding")
                hit = current([d for d in st.idx["pckcrl"] if d.ca == ca], now)
                if hit is None:
                    return 404, b"", None, {}, "pckcrl"
                if q.get("encoding") == "der":
                    return 200, hit.body, "application/pkix-crl", dict(hit.headers), "pckcrl"
                b64 = base64.b64encode(hit.body).decode()
                pem = "-----BEGIN X509 CRL-----\n" + "".join(b64[i:i + 64] + "\n" for i in range(0, len(b64), 64)) + "-----END X509 CRL-----\n"
                return 200, pem.encode(), "application/x-pem-file", dict(hit.headers), "pckcrl"
            if rest == "tcbevaluationdatanumbers":
                hit = current([d for d in st.idx["eval"] if d.tee == tee], now)
                if hit is None:
                    return 404, b"", None, {}, "eval"
                return 200, hit.body, hit.ctype, dict(hit.headers), "eval"
            if rest == "pckcert" and tee == "SGX":
                for k in ("encrypted_ppid", "cpusvn", "pcesvn", "pceid"):
                    if k not in q:
                        return self.bad("missing " + k)
                if len(q["encrypted_ppid"]) != 768:
                    return self.bad("bad encrypted_ppid")
                for d in st.idx["pck"]:
                    if (d.cpusvn, d.pcesvn, d.pceid) == (q["cpusvn"].lower(), q["pcesvn"].lower(), q["pceid"].lower()):
                        return 200, d.body, d.ctype, dict(d.headers), "pck"
                return 404, b"", None, {}, "pck"
            return 404, b"", None, {}, "none"
        if path == "/IntelSGXRootCA.der":
            hit = current(st.idx["root"], now)
            if hit is None:
                return 404, b"", None, {}, "root"
            return 200, hit.body, hit.ctype, {}, "root"
        m = re.fullmatch(r"/(vcek|vlek)/v1/([A-Za-z]+)/([^/]+)", path)
        if m:
            kind, prod, what = m.groups()
            if prod not in ("Milan", "Genoa", "Turin"):
                return self.bad("unknown product")
            if what == "cert_chain":
                body = st.idx["chain"].get((kind, prod))
                return (200, body, "application/x-pem-file", {}, "chain") if body else (404, b"", None, {}, "chain")
            if what == "crl" or kind == "vlek":
                return 404, b"", None, {}, "crl"
            names = ["blSPL", "teeSPL", "snpSPL", "ucodeSPL"] + (["fmcSPL"] if prod == "Turin" else [])
            try:
                want = tuple(int(q[n]) for n in names)
            except (KeyError, ValueError):
                return self.bad("missing or bad SPL")
            for d in st.idx["vcek"]:
                have = d.spl[:len(names)]
                if d.product == prod and d.hwid == what.lower() and have == want:
                    return 200, d.body, d.ctype, {}, "vcek"
            return 404, b"", None, {}, "vcek"
        return 404, b"", None, {}, "none"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--fixtures", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--now", type=int, default=int(time.time()))
    a = ap.parse_args()
    idx = index(a.fixtures)
    # The go-tdx-guest set records the issuer-chain header as PCS sent it: our encoding must match.
    rec = os.path.join(a.fixtures, "dcap", "go-tdx-guest", "tdx-v4-fmspc50806f000000-spr-e4")
    if os.path.exists(os.path.join(rec, "response_headers.urlencoded.txt")):
        recorded = open(os.path.join(rec, "response_headers.urlencoded.txt")).read()
        mine = url_encode_pem(open(os.path.join(rec, "tcb_info_issuer_chain.pem")).read())
        if "TCB-Info-Issuer-Chain: " + mine not in recorded:
            sys.exit("double: URL-encoding differs from the recorded PCS header")
    srv = ThreadingHTTPServer((a.host, a.port), Handler)
    srv.daemon_threads = True
    srv.state = State(idx, a.now)
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, a.port_file)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=srv.shutdown).start())
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
