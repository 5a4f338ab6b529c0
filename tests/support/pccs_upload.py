#!/usr/bin/env python3
"""Write a PCCS platform collateral file as Intel's PCCS admin tool writes it (`pccsadmin fetch`,
tools/PccsAdminTool: pccsadmin.py PlatformCollateralFetcher and lib/intelsgx/pcs.py), from one
fixture set of real Intel collateral, for the PUT platformcollateral tests.

The tool's shape: {"platforms": [...], "collaterals": {"version", "pck_certs": [{qe_id, pce_id,
enc_ppid, platform_manifest, certs: [{tcb, tcbm, cert}]}], "tcbinfos": [{fmspc, sgx_tcbinfo}],
"pckcacrl": {processorCrl|platformCrl}, "qeidentity", "tdqeidentity", "qveidentity",
"certificates": {...}, "rootcacrl_cdp", "rootcacrl"}}. CRLs are lowercase hex (binascii.hexlify),
issuer chains are the URL-encoded header values, TCB infos are parsed JSON objects, identities the
PCS body text, PCK certificates URL-encoded PEM, and the file is json.dump's default output.
The v3 form (--api 3) names TCB infos "tcbinfo" and the chain "SGX-TCB-Info-Issuer-Chain".

The PCK certificate is the one the set's quote carries; the QE ID and encrypted PPID (which
identify the platform to the cache, and which no fixture records) are given on the command line.

Usage: pccs_upload.py SETDIR --qe-id HEX --enc-ppid HEX [--raw-cpusvn HEX --raw-pcesvn HEX]
                      [--api 3|4] [--tcbinfo FILE] [--identity FILE] > platform_collaterals.json
Prints the PCK certificate's TCBm on stderr. Standard library only.
"""
import argparse
import binascii
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import upstream_double as u  # noqa: E402  (its DER reader and PCS-style URL encoding)


def pck_of(quote):
    blocks = u.pem_blocks(quote)
    leaf = u.pem_to_der(blocks[0])
    info = {}
    for oid, (t, s, e), buf in u.walk(leaf, 0, len(leaf), []):
        if oid.startswith("1.2.840.113741.1.13.1."):
            info[oid] = buf[s:e]
    comps = [int.from_bytes(info["1.2.840.113741.1.13.1.2.%d" % i], "big") for i in range(1, 17)]
    pcesvn = int.from_bytes(info["1.2.840.113741.1.13.1.2.17"], "big")
    cpusvn = info["1.2.840.113741.1.13.1.2.18"]
    processor = b"Processor" in u.pem_to_der(blocks[1])
    pem = blocks[0].replace(b"\r\n", b"\n").decode() + "\n"
    chain = (blocks[1] + b"\n" + blocks[2] + b"\n").decode()
    return {"pem": pem, "chain": chain, "comps": comps, "pcesvn": pcesvn,
            "tcbm": (cpusvn + pcesvn.to_bytes(2, "little")).hex().upper(),
            "fmspc": info["1.2.840.113741.1.13.1.4"].hex().upper(),
            "pceid": info["1.2.840.113741.1.13.1.3"].hex().upper(), "processor": processor}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("set")
    ap.add_argument("--qe-id", required=True)
    ap.add_argument("--enc-ppid", required=True)
    ap.add_argument("--raw-cpusvn", default="")
    ap.add_argument("--raw-pcesvn", default="")
    ap.add_argument("--api", type=int, default=4)
    ap.add_argument("--tcbinfo")
    ap.add_argument("--identity")
    a = ap.parse_args()

    def rd(name):
        return open(os.path.join(a.set, name), "rb").read()

    p = pck_of(rd("quote.bin"))
    ca = "PROCESSOR" if p["processor"] else "PLATFORM"
    if a.api >= 4:
        tcb = {"sgxtcbcomponents": [{"svn": c} for c in p["comps"]], "pcesvn": p["pcesvn"]}
    else:
        tcb = {"sgxtcbcomp%02dsvn" % (i + 1): c for i, c in enumerate(p["comps"])}
        tcb["pcesvn"] = p["pcesvn"]
    tcbinfo = open(a.tcbinfo, "rb").read() if a.tcbinfo else rd("tcb_info.json")
    identity = open(a.identity, "rb").read() if a.identity else rd("qe_identity.json")
    tcb_hdr = "TCB-Info-Issuer-Chain" if a.api >= 4 else "SGX-TCB-Info-Issuer-Chain"
    platform = {"qe_id": a.qe_id, "pce_id": p["pceid"], "cpu_svn": a.raw_cpusvn,
                "pce_svn": a.raw_pcesvn, "enc_ppid": a.enc_ppid, "platform_manifest": ""}
    out = {
        "platforms": [platform],
        "collaterals": {
            "version": a.api,
            "pck_certs": [{"qe_id": a.qe_id, "pce_id": p["pceid"], "enc_ppid": a.enc_ppid,
                           "platform_manifest": "",
                           "certs": [{"tcb": tcb, "tcbm": p["tcbm"],
                                      "cert": u.url_encode_pem(p["pem"])}]}],
            "tcbinfos": [{"fmspc": p["fmspc"],
                          ("sgx_tcbinfo" if a.api >= 4 else "tcbinfo"): json.loads(tcbinfo)}],
            "pckcacrl": {("processorCrl" if p["processor"] else "platformCrl"):
                         binascii.hexlify(rd("pck_crl.der")).decode()},
            "qeidentity": identity.decode(),
            "tdqeidentity": "",
            "qveidentity": "",
            "certificates": {
                "SGX-PCK-Certificate-Issuer-Chain": {ca: u.url_encode_pem(p["chain"])},
                tcb_hdr: u.url_encode_pem(rd("tcb_info_issuer_chain.pem").decode()),
                "SGX-Enclave-Identity-Issuer-Chain":
                    u.url_encode_pem(rd("qe_identity_issuer_chain.pem").decode()),
            },
            "rootcacrl_cdp": "https://certificates.trustedservices.intel.com/IntelSGXRootCA.der",
            "rootcacrl": binascii.hexlify(rd("root_ca_crl.der")).decode(),
        },
    }
    json.dump(out, sys.stdout)
    sys.stderr.write(p["tcbm"] + " " + p["fmspc"] + " " + p["pceid"] + "\n")


if __name__ == "__main__":
    main()
