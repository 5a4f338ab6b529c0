#!/usr/bin/env bash
# Generate the seed corpus of fuzz/fuzz_atls_cert: attested TLS certificates (DER) of every
# format from the simulator backends (`veritee client cert`), a broker certificate made with
# openssl, a plain certificate, broken variants (truncated, a flipped byte in the extension, two
# attestation extensions), and the bare extension values (RA-TLS quote, OE report, CMW
# collection, broker UTF8String) with near misses. Synthetic PKIs only; no fixture bytes.
#
#   tests/support/gen_atls_seeds.sh VERITEE [OUTDIR]   (default fuzz/corpus/fuzz_atls_cert)
#
# Needs openssl and Python 3 with the `cryptography` package. The simulators' keys are fresh on
# every run, so the bytes differ between runs (the structure does not).
set -euo pipefail
veritee=${1:?usage: gen_atls_seeds.sh VERITEE [OUTDIR]}
out=${2:-$(dirname "$0")/../../fuzz/corpus/fuzz_atls_cert}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"

make_cert() { # make_cert NAME BACKEND FORMAT [KEY_TYPE]
    "$veritee" client cert --backend "$2" --sim-dir "$tmp/pki-${2#sim:}" --format "$3" \
        --key-type "${4:-P-256}" --dns seed.example --out-cert "$tmp/$1.pem" --out-key "$tmp/$1.key"
    openssl x509 -in "$tmp/$1.pem" -outform DER -out "$out/$1.der"
}
make_cert ratls_sgx sim:sgx ratls-sgx
make_cert oe_sgx sim:sgx oe RSA-2048
make_cert ratls_tdx sim:tdx ratls-tdx
make_cert cmw_snp sim:snp cmw P-384
make_cert cmw_nitro sim:nitro cmw

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=plain -days 1 \
    -keyout "$tmp/plain.key" -outform DER -out "$out/plain.der" 2>/dev/null

python3 - "$out" <<'PY'
import datetime, sys
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ObjectIdentifier

out = sys.argv[1]
def w(name, b):
    open(f"{out}/{name}", "wb").write(b)

def der_len(n):
    if n < 128:
        return bytes([n])
    if n < 256:
        return bytes([0x81, n])
    return bytes([0x82, n >> 8, n & 255])

BROKER = "2.25.229478036226361393545283536436640327405"
exts = {}
for name in ["ratls_sgx", "oe_sgx", "ratls_tdx", "cmw_snp", "cmw_nitro"]:
    c = x509.load_der_x509_certificate(open(f"{out}/{name}.der", "rb").read())
    for e in c.extensions:
        if e.oid.dotted_string not in ("2.5.29.19", "2.5.29.15", "2.5.29.37", "2.5.29.17"):
            exts[name] = (e.oid.dotted_string, e.value.value)
            w(f"ext_{name}.bin", e.value.value)

# near misses of the bare values
oe = exts["oe_sgx"][1]
w("ext_oe_bad_version.bin", b"\x02" + oe[1:])
w("ext_oe_bad_size.bin", oe[:-1])
cmw = exts["cmw_snp"][1]
w("ext_cmw_trailing.bin", cmw + b"\x00")
w("ext_cmw_truncated.bin", cmw[:len(cmw) // 2])
claims = b'{"tee":"sgx","debug":false,"status":"UpToDate"}'
js = b'{"v":1,"claims":' + claims + b',"ear":"a.b.c","log_index":1}'
w("ext_broker.bin", b"\x0c" + der_len(len(js)) + js)
w("ext_broker_octets.bin", b"\x04" + der_len(len(js)) + js)

now = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
ca_key = ec.generate_private_key(ec.SECP256R1())
ca_name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "seed broker CA")])
def cert(subject_key, subject, issuer, signer, extra):
    b = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
         .public_key(subject_key.public_key()).serial_number(7)
         .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1)))
    for oid, val in extra:
        b = b.add_extension(x509.UnrecognizedExtension(ObjectIdentifier(oid), val), critical=False)
    return b.sign(signer, hashes.SHA256()).public_bytes(serialization.Encoding.DER)

wk = ec.generate_private_key(ec.SECP256R1())
wl = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "workload")])
w("broker.der", cert(wk, wl, ca_name, ca_key, [(BROKER, b"\x0c" + der_len(len(js)) + js)]))
w("broker_ca.der", cert(ca_key, ca_name, ca_name, ca_key, []))
# two attestation extensions; an unsupported one (TCG DICE)
q = exts["ratls_sgx"][1]
w("two_extensions.der", cert(wk, wl, wl, wk, [exts["ratls_sgx"], ("1.2.840.113741.1.5.5.1.6", q)]))
w("tcg_dice.der", cert(wk, wl, wl, wk, [("2.23.133.5.4.9", q)]))
w("gramine_plain_oid.der", cert(wk, wl, wl, wk, [("1.2.840.113741.1337.6", q)]))
# a byte flipped inside the extension, a truncated certificate
d = bytearray(open(f"{out}/ratls_sgx.der", "rb").read())
i = bytes(d).find(q[:64])
d[i + 100] ^= 1
w("ratls_sgx_flipped.der", bytes(d))
w("ratls_tdx_truncated.der", open(f"{out}/ratls_tdx.der", "rb").read()[:700])
PY
echo "$(ls "$out" | wc -l) seeds in $out"
