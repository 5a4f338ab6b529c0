#!/usr/bin/env python3
"""Generate the seed corpora of fuzz/fuzz_cache_request, fuzz/fuzz_doc_check,
fuzz/fuzz_cache_bundle and fuzz/fuzz_cache_pccs (the collateral cache's parsers of untrusted
input).

Everything is synthetic: request paths are written from the PCS v4 and KDS path grammar
(docs/cache.md), documents are built here with the shapes the vendors use (SPEC: dcap.md 5-8,
nitro_snp.md B) and signed by a throwaway P-256 key with a fixed private value, so they parse but
never verify against the vendor roots. No fixture bytes are used. ECDSA signatures are randomised,
so re-running changes those bytes only.

Requires the `cryptography` package.

Usage: tests/support/gen_cache_seeds.py [repo root] [target...]   (default: two levels above this
file; every target)
"""
import base64
import datetime
import json
import os
import sys
import urllib.parse

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

ROOT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
CORPUS = os.path.join(ROOT, "fuzz", "corpus")
FMSPC = "00906ed50000"
HWID = "ab" * 64
KEY = ec.derive_private_key(0x5EED5EED5EED5EED5EED5EED5EED5EED, ec.SECP256R1())
T0 = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def cert(cn, ca=True):
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    b = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
         .public_key(KEY.public_key()).serial_number(7)
         .not_valid_before(T0).not_valid_after(T0 + datetime.timedelta(days=365))
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    return b.sign(KEY, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode()


def crl(cn):
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    b = (x509.CertificateRevocationListBuilder().issuer_name(name).last_update(T0)
         .next_update(T0 + datetime.timedelta(days=30)))
    return b.sign(KEY, hashes.SHA256())


def signed(member, obj):
    inner = json.dumps(obj, separators=(",", ":"))
    return '{"%s":%s,"signature":"%s"}' % (member, inner, "5a" * 64)


REQUESTS = [
    "/sgx/certification/v4/tcb?fmspc=" + FMSPC,
    "/sgx/certification/v4/tcb?fmspc=00906ED50000&update=early",
    "/tdx/certification/v4/tcb?fmspc=" + FMSPC + "&tcbEvaluationDataNumber=17",
    "/sgx/certification/v4/qe/identity?update=standard",
    "/tdx/certification/v4/qe/identity",
    "/sgx/certification/v4/qve/identity?tcbEvaluationDataNumber=18",
    "/sgx/certification/v4/pckcrl?ca=processor&encoding=der",
    "/sgx/certification/v4/pckcrl?ca=Platform",
    "/sgx/certification/v4/rootcacrl",
    "/tdx/certification/v4/tcbevaluationdatanumbers",
    "/sgx/certification/v4/fmspcs?platform=E5",
    "/sgx/certification/v4/pckcert?encrypted_ppid=" + "0f" * 384 + "&cpusvn=" + "01" * 16
    + "&pcesvn=0d00&pceid=0000",
    "/sgx/certification/v4/pckcert?qeid=" + "ab" * 16 + "&cpusvn=" + "01" * 16
    + "&pcesvn=0d00&pceid=0000",
    "/sgx/certification/v4/pckcerts?encrypted_ppid=" + "0f" * 384 + "&pceid=0000",
    "/vcek/v1/Milan/" + HWID + "?blSPL=3&teeSPL=0&snpSPL=8&ucodeSPL=115",
    "/vcek/v1/Turin/" + "cd" * 8 + "?blSPL=1&teeSPL=0&snpSPL=2&ucodeSPL=3&fmcSPL=4",
    "/vcek/v1/Genoa/cert_chain",
    "/vlek/v1/Milan/crl",
    "/sgx/certification/v4/tcb?fmspc=%30%30906ed50000&update=late",
    # PCCS's forms: update in any case, the v3 API, crl?uri=, QCNL's pckcert with a zero PPID
    "/sgx/certification/v4/tcb?fmspc=00906ED50000&update=STANDARD",
    "/sgx/certification/v3/tcb?fmspc=00906ED50000&update=standard",
    "/sgx/certification/v3/qe/identity?update=Early",
    "/sgx/certification/v3/pckcrl?ca=processor",
    "/sgx/certification/v3/rootcacrl",
    "/sgx/certification/v4/crl?uri=https://certificates.trustedservices.intel.com/IntelSGXRootCA.der",
    "/sgx/certification/v4/crl?uri=https://api.trustedservices.intel.com/sgx/certification/v4/pckcrl"
    "?ca=processor&encoding=der",
    "/sgx/certification/v3/crl?uri=https://x.az.sgxprod.adsdcsp.com/sgx/certification/v3/pckcrl"
    "?ca=Platform",
    "/sgx/certification/v4/pckcert?qeid=" + "AB" * 16 + "&encrypted_ppid=" + "0" * 768 + "&cpusvn="
    + "01" * 16 + "&pcesvn=0D00&pceid=0000",
    "/sgx/certification/v3/pckcert?qeid=" + "ab" * 16 + "&encrypted_ppid=" + "0f" * 384
    + "&cpusvn=" + "01" * 16 + "&pcesvn=0d00&pceid=0000",
]


# KDS paths as the clients send them (docs/cache.md, "KDS"): go-sev-guest's VCEKCertURL (the whole
# CHIP_ID under every product, also Turin), VLEKCertURL and cert_chain/crl by signer; snpguest's
# zero-padded SPLs and Turin form (8-byte hwID, fmcSPL first); SPLs left out; hwIDs of the other
# product's form; bad SPL values.
TURIN_CHIP_ID = "cd" * 8 + "00" * 56
KDS_REQUESTS = [
    "/vcek/v1/Turin/" + TURIN_CHIP_ID + "?blSPL=2&teeSPL=4&snpSPL=0&ucodeSPL=219",
    "/vcek/v1/Turin/" + "cd" * 8 + "?fmcSPL=02&blSPL=04&teeSPL=01&snpSPL=24&ucodeSPL=219",
    "/vcek/v1/Genoa/" + HWID + "?blSPL=04&teeSPL=01&snpSPL=24&ucodeSPL=219",
    "/vcek/v1/Milan/" + HWID,
    "/vcek/v1/Turin/" + "CD" * 8 + "?ucodeSPL=9",
    "/vcek/v1/Milan/" + "cd" * 8 + "?blSPL=3",
    "/vcek/v1/Genoa/" + HWID + "?blSPL=3&fmcSPL=7&teeSPL=&snpSPL=-1",
    "/vlek/v1/Milan/cert?blSPL=3&teeSPL=0&snpSPL=8&ucodeSPL=115",
    "/vlek/v1/Turin/cert_chain",
    "/vlek/v1/Genoa/crl",
    "/vcek/v1/Turin/crl",
]


def requests():
    for i, r in enumerate(REQUESTS):
        write("fuzz_cache_request", "req%02d" % i, r)
    for i, r in enumerate(KDS_REQUESTS):
        write("fuzz_cache_request", "kds%02d" % i, r)


def tcb_info(tee):
    t = {"id": tee, "version": 3, "issueDate": "2026-01-01T00:00:00Z",
         "nextUpdate": "2026-02-01T00:00:00Z", "fmspc": FMSPC, "pceId": "0000",
         "tcbType": 0, "tcbEvaluationDataNumber": 17,
         "tcbLevels": [{"tcb": {"sgxtcbcomponents": [{"svn": 2}] * 16, "pcesvn": 13},
                        "tcbDate": "2025-01-01T00:00:00Z", "tcbStatus": "UpToDate"}]}
    return signed("tcbInfo", t)


def identity(ident):
    e = {"id": ident, "version": 2, "issueDate": "2026-01-01T00:00:00Z",
         "nextUpdate": "2026-02-01T00:00:00Z", "tcbEvaluationDataNumber": 17,
         "miscselect": "00000000", "miscselectMask": "FFFFFFFF",
         "attributes": "11000000000000000000000000000000",
         "attributesMask": "FBFFFFFFFFFFFFFF0000000000000000", "mrsigner": "8c" * 32,
         "isvprodid": 1, "tcbLevels": [{"tcb": {"isvsvn": 8}, "tcbDate": "2025-01-01T00:00:00Z",
                                         "tcbStatus": "UpToDate"}]}
    return signed("enclaveIdentity", e)


def eval_numbers(tee):
    e = {"id": tee, "version": 1, "issueDate": "2026-01-01T00:00:00Z",
         "nextUpdate": "2026-02-01T00:00:00Z",
         "tcbEvalNumbers": [{"tcbEvaluationDataNumber": 18, "tcbRecoveryEventDate":
                             "2025-11-12T00:00:00Z", "tcbDate": "2025-11-13T00:00:00Z"},
                            {"tcbEvaluationDataNumber": 17, "tcbRecoveryEventDate":
                             "2024-11-12T00:00:00Z", "tcbDate": "2024-11-13T00:00:00Z"}]}
    return signed("tcbEvaluationDataNumbers", e)


def doc_checks():
    # kind index as in enum vt_doc_kind (1-based); byte 0 is kind - 1, byte 1 the flags.
    chain = urllib.parse.quote(cert("Synthetic Signing") + cert("Synthetic Root"))
    pck = cert("Synthetic PCK Certificate", ca=False)
    c = crl("Synthetic PCK Processor CA")
    seeds = {
        "tcb_sgx": (1, 0x08, tcb_info("SGX"), chain),
        "tcb_tdx": (1, 0x19, tcb_info("TDX"), chain),
        "qe_identity": (2, 0x00, identity("QE"), chain),
        "td_qe_identity": (2, 0x01, identity("TD_QE"), chain),
        "qve_identity": (3, 0x10, identity("QVE"), chain),
        "eval_numbers": (4, 0x00, eval_numbers("SGX"), chain),
        "eval_numbers_tdx": (4, 0x01, eval_numbers("TDX"), ""),
        "pck_crl_der": (5, 0x02, c.public_bytes(serialization.Encoding.DER), chain),
        "pck_crl_pem": (5, 0x04, c.public_bytes(serialization.Encoding.PEM), chain),
        "pck_crl_hex": (5, 0x02, c.public_bytes(serialization.Encoding.DER).hex(), chain),
        "root_crl": (6, 0x00, c.public_bytes(serialization.Encoding.DER), None),
        "pck_cert": (7, 0x02, pck, chain, "01" * 16 + "0d00", FMSPC),
        "pck_certs": (8, 0x00, json.dumps([{"tcb": {"pcesvn": 13}, "tcbm": "01" * 18,
                                            "cert": urllib.parse.quote(pck)},
                                           {"tcb": {"pcesvn": 1}, "tcbm": "00" * 18,
                                            "cert": "Not available"}]), chain),
        "pck_certs_none": (8, 0x00, '[{"tcbm":"00","cert":"Not available"}]', chain),
        "fmspcs": (9, 0x00, json.dumps([{"fmspc": FMSPC, "platform": "E5"},
                                        {"fmspc": "00a067110000", "platform": "client"}]), None),
        "vcek": (10, 0x00, x509.load_pem_x509_certificate(pck.encode()).public_bytes(
            serialization.Encoding.DER), None),
        "amd_chain": (11, 0x00, cert("SEV-Milan") + cert("ARK-Milan"), None),
        "amd_crl": (12, 0x40, c.public_bytes(serialization.Encoding.DER), None),
    }
    for name, (kind, flags, body, chain_v, *hdrs) in seeds.items():
        data = bytes([kind - 1, flags]) + (body if isinstance(body, bytes) else body.encode())
        fields = [chain_v] + list(hdrs) if chain_v is not None else []
        for f in fields:
            data += b"\0" + f.encode()
        write("fuzz_doc_check", name, data)


def bundles():
    items = [
        {"key": "/sgx/certification/v4/tcb?fmspc=" + FMSPC + "&update=standard",
         "content_type": "application/json",
         "headers": "TCB-Info-Issuer-Chain: " + urllib.parse.quote(cert("Synthetic Signing")) + "\n",
         "body": base64.b64encode(tcb_info("SGX").encode()).decode(),
         "fetched_at": 1767225600, "issue_date": 1767225600, "next_update": 1769904000},
        {"key": "/vcek/v1/Milan/cert_chain", "content_type": "application/x-pem-file",
         "headers": "", "body": base64.b64encode(cert("SEV-Milan").encode()).decode(),
         "fetched_at": 1767225600, "issue_date": 0, "next_update": 0},
    ]
    enforce = [{"tee": 1, "tcb_eval": 18, "from": 1767225600}]

    def inner(its, enf, fmt="veritee-collateral-bundle", version=1):
        return json.dumps({"format": fmt, "version": version, "created": "2026-01-01T00:00:00Z",
                           "exporter": "00" * 64, "items": its, "enforcement": enf},
                          separators=(",", ":"))

    # Mode byte 0x00: the harness signs the rest; 0x01: the rest is the whole file.
    write("fuzz_cache_bundle", "items", b"\0" + inner(items, enforce).encode())
    write("fuzz_cache_bundle", "empty", b"\0" + inner([], []).encode())
    write("fuzz_cache_bundle", "schedule_only", b"\0" + inner([], enforce).encode())
    write("fuzz_cache_bundle", "bad_schedule",
          b"\0" + inner([], [{"tee": 9, "tcb_eval": -1, "from": "x"}]).encode())
    write("fuzz_cache_bundle", "bad_key", b"\0" + inner([dict(items[0], key="/nope")], []).encode())
    write("fuzz_cache_bundle", "bad_base64",
          b"\0" + inner([dict(items[1], body="!!")], []).encode())
    write("fuzz_cache_bundle", "old_format", b"\0" + inner(items, [], version=2).encode())
    write("fuzz_cache_bundle", "unsigned",
          b"\1" + ('{"bundle":%s,"signature":"%s"}' % (inner(items, enforce), "00" * 64)).encode())


def pccs():
    """Bodies of PCCS's routes (byte 0: 0 registration, 1 appraisal policy, 2/3 upload v4/v3)."""
    ppid = "0F" * 384
    write("fuzz_cache_pccs", "registration",
          b"\0" + ('{"enc_ppid": "%s" ,"pce_id": "0000" ,"cpu_svn": "%s" ,"pce_svn": "0D00" ,'
                   '"qe_id": "%s" ,"platform_manifest": "" }' % (ppid, "0B" * 16, "AB" * 16)).encode())
    write("fuzz_cache_pccs", "registration_manifest",
          b"\0" + ('{"pce_id": "0000" ,"qe_id": "%s" ,"platform_manifest": "%s" }'
                   % ("AB" * 16, "CD" * 64)).encode())

    def b64(o):
        return base64.urlsafe_b64encode(json.dumps(o).encode()).rstrip(b"=").decode()
    pp = json.dumps({"policy_array": [{"environment": {"class_id":
                                                      "3123ec35-8d38-4ea5-87a5-d6c48b567570"}}]})
    jwt = b64({"alg": "none"}) + "." + b64({"policy_payload": pp}) + ".c2ln"
    write("fuzz_cache_pccs", "policy",
          b"\1" + json.dumps({"policy": jwt, "is_default": True, "fmspc": FMSPC}).encode())
    chain = urllib.parse.quote(cert("Synthetic Signing") + cert("Synthetic Root"), safe="-_.~")
    pck = urllib.parse.quote(cert("Synthetic PCK Processor Certificate", ca=False), safe="-_.~")
    c = crl("Synthetic PCK Processor CA").public_bytes(serialization.Encoding.DER).hex()
    platform = {"qe_id": "AB" * 16, "pce_id": "0000", "cpu_svn": "0B" * 16, "pce_svn": "0E00",
                "enc_ppid": ppid, "platform_manifest": ""}

    def upload(version, tcb_key, tcb_hdr, with_pck):
        col = {"version": version,
               "pck_certs": [{"qe_id": "AB" * 16, "pce_id": "0000", "enc_ppid": ppid,
                              "platform_manifest": "",
                              "certs": [{"tcb": {"pcesvn": 13}, "tcbm": "0B" * 16 + "0D00",
                                         "cert": pck},
                                        {"tcb": {"pcesvn": 1}, "tcbm": "00" * 18,
                                         "cert": "Not available"}]}] if with_pck else [],
               "tcbinfos": [{"fmspc": FMSPC.upper(), tcb_key: json.loads(tcb_info("SGX"))}],
               "pckcacrl": {"processorCrl": c}, "qeidentity": identity("QE"),
               "tdqeidentity": "", "qveidentity": identity("QVE"),
               "certificates": {"SGX-PCK-Certificate-Issuer-Chain": {"PROCESSOR": chain},
                                tcb_hdr: chain, "SGX-Enclave-Identity-Issuer-Chain": chain},
               "rootcacrl_cdp": "https://certificates.trustedservices.intel.com/IntelSGXRootCA.der",
               "rootcacrl": c}
        return json.dumps({"platforms": [platform], "collaterals": col}).encode()
    write("fuzz_cache_pccs", "upload_v4", b"\2" + upload(4, "sgx_tcbinfo", "TCB-Info-Issuer-Chain",
                                                         False))
    write("fuzz_cache_pccs", "upload_v4_pck", b"\2" + upload(4, "sgx_tcbinfo",
                                                             "TCB-Info-Issuer-Chain", True))
    write("fuzz_cache_pccs", "upload_v3", b"\3" + upload(3, "tcbinfo", "SGX-TCB-Info-Issuer-Chain",
                                                         False))


if __name__ == "__main__":
    targets = sys.argv[2:] or ["requests", "doc_checks", "bundles", "pccs"]
    for t in targets:
        globals()[t]()
