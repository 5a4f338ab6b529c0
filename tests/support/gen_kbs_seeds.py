#!/usr/bin/env python3
"""Generate the seed corpus of fuzz/fuzz_kbs_attestation.

Everything is synthetic. Seeds starting with byte 0x00 are SEV-SNP evidence as the Confidential
Containers guest sends it: {"attestation_report": the sev crate's serde rendering of a report
(every field by name, byte arrays as arrays of numbers, TCB versions decoded, the optional
members null where the version or product has none), "cert_chain": null or a table of
{"cert_type", "data"}}, for Milan, Genoa and Turin reports of versions 2, 3 and 5 made of filler
bytes, and near misses (a missing member, a byte out of range, an FMC on a Milan TCB, a table
without a VEK). Seeds starting with 0x01 are init-data TOML bodies: the shape the CoCo tooling
writes, every kind of string and escape, and near misses (dotted keys, non-string values,
duplicate keys, an unknown algorithm); 0x01 0xff selects a format other than "toml".

Output is deterministic. Regenerate from the repository root:
  python3 tests/support/gen_kbs_seeds.py [repo root]   (default: two levels above this file)
"""
import hashlib
import json
import os
import sys


def filler(label, n):
    out = b""
    i = 0
    while len(out) < n:
        out += hashlib.sha256(f"{label}/{i}".encode()).digest()
        i += 1
    return list(out[:n])


def tcb(turin, label):
    b = filler(label, 5)
    return {"fmc": b[0] if turin else None, "bootloader": b[1], "tee": b[2], "snp": b[3],
            "microcode": b[4]}


def report(product, version):
    turin = product == "turin"
    cpuid = {"milan": (0x19, 0x01, 0x01), "genoa": (0x19, 0x11, 0x01),
             "turin": (0x1a, 0x02, 0x00)}[product]
    chip = filler(f"chip/{product}", 64)
    if turin:
        chip = chip[:8] + [0] * 56
    t = tcb(turin, f"tcb/{product}")
    r = {"version": version, "guest_svn": 1, "policy": 0x30000,
         "family_id": filler("family", 16), "image_id": filler("image", 16), "vmpl": 0,
         "sig_algo": 1, "current_tcb": t, "plat_info": 0x25, "key_info": 0,
         "report_data": filler("report_data", 64), "measurement": filler("measurement", 48),
         "host_data": filler("host_data", 32), "id_key_digest": [0] * 48,
         "author_key_digest": [0] * 48, "report_id": filler("report_id", 32),
         "report_id_ma": [255] * 32, "reported_tcb": t,
         "cpuid_fam_id": cpuid[0] if version >= 3 else None,
         "cpuid_mod_id": cpuid[1] if version >= 3 else None,
         "cpuid_step": cpuid[2] if version >= 3 else None, "chip_id": chip, "committed_tcb": t,
         "current": {"major": 1, "minor": 55, "build": 21},
         "committed": {"major": 1, "minor": 55, "build": 21}, "launch_tcb": t,
         "launch_mit_vector": 3 if version >= 5 else None,
         "current_mit_vector": 7 if version >= 5 else None,
         "signature": {"r": filler("r", 48) + [0] * 24, "s": filler("s", 48) + [0] * 24}}
    return r


def write(out, name, prefix, data):
    with open(os.path.join(out, name), "wb") as f:
        f.write(prefix + (data.encode() if isinstance(data, str) else data))


def snp_seeds(out):
    fake_der = [0x30, 0x82, 0x01, 0x00] + filler("der", 60)
    for product, version in (("milan", 3), ("genoa", 2), ("turin", 5), ("milan", 5)):
        ev = {"attestation_report": report(product, version), "cert_chain": None}
        write(out, f"snp_{product}_v{version}.json", b"\x00", json.dumps(ev))
    ev = {"attestation_report": report("milan", 3),
          "cert_chain": [{"cert_type": "VCEK", "data": fake_der},
                         {"cert_type": "ASK", "data": fake_der},
                         {"cert_type": "ARK", "data": fake_der},
                         {"cert_type": {"OTHER": "d56fe6fa-5e4a-4c0e-8f3a-3f8d0b7d3c2a"},
                          "data": [1, 2]}]}
    write(out, "snp_table.json", b"\x00", json.dumps(ev))
    bad = report("milan", 3)
    del bad["measurement"]
    write(out, "snp_bad_missing.json", b"\x00",
          json.dumps({"attestation_report": bad, "cert_chain": None}))
    bad = report("milan", 3)
    bad["chip_id"][3] = 256
    write(out, "snp_bad_byte.json", b"\x00",
          json.dumps({"attestation_report": bad, "cert_chain": None}))
    bad = report("milan", 3)
    bad["launch_tcb"]["fmc"] = 1
    write(out, "snp_bad_fmc.json", b"\x00",
          json.dumps({"attestation_report": bad, "cert_chain": None}))
    write(out, "snp_bad_table.json", b"\x00",
          json.dumps({"attestation_report": report("genoa", 3),
                      "cert_chain": [{"cert_type": "ASK", "data": fake_der}]}))


def toml_seeds(out):
    good = ('algorithm = "sha384"\nversion = "0.1.0"\n\n[data]\n'
            '"aa.toml" = \'\'\'\n[token_configs.kbs]\nurl = "http://10.0.0.1:8080"\n\'\'\'\n'
            '"policy.rego" = \'\'\'\npackage agent_policy\ndefault AllowRequests := true\'\'\'\n')
    write(out, "toml_coco.toml", b"\x01", good)
    write(out, "toml_strings.toml", b"\x01",
          'version = \'0.1.0\' # c\r\nalgorithm = "sha256"\r\n[ data ]\r\n'
          'e = "\\b\\t\\n\\f\\r\\"\\\\ \\u00e9 \\U0001F600"\n'
          'm = """\nfirst \\\n    second"""\nq = """two: """""\nl = \'\'\'a"b\'\'\'\'\n'
          '"quoted key" = \'x\'\n')
    write(out, "toml_sha512_bom.toml", b"\x01",
          '\ufeffversion = "0.1.0"\nalgorithm = "sha512"\n[other]\nk = "v"\n[data]\n')
    write(out, "toml_bad_dotted.toml", b"\x01", 'version = "0.1.0"\ndata.k = "v"\n')
    write(out, "toml_bad_value.toml", b"\x01", 'version = 1\n[data]\nk = [1]\n')
    write(out, "toml_bad_duplicate.toml", b"\x01", '[data]\nk = "1"\n\'k\' = "2"\n[data]\n')
    write(out, "toml_bad_algorithm.toml", b"\x01",
          'version = "0.1.0"\nalgorithm = "sm3"\n[data]\n')
    write(out, "toml_bad_escape.toml", b"\x01", '[data]\nk = "\\uD800 \\x"\n')
    write(out, "format_json.txt", b"\x01\xff", '{"version":"0.1.0"}')


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..")
    out = os.path.join(root, "fuzz", "corpus", "fuzz_kbs_attestation")
    os.makedirs(out, exist_ok=True)
    snp_seeds(out)
    toml_seeds(out)
    print(f"{out}: {len(os.listdir(out))} files")


if __name__ == "__main__":
    main()
