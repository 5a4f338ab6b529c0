"""The error paths of verification: every failure is a VeriteeError naming its check."""

from __future__ import annotations

import json
import math
import threading
from pathlib import Path

import pytest

import veritee

NITRO = "nitro/base-nitro-validator/attestation-2024-11-30.cose"
NITRO_AT = "2024-11-30T16:30:00Z"
ALI = "dcap/automata-dcap-attestation/tdx-v5-fmspc90c06f000000-alibaba"


def _raises(code: str, fn, *args, **kw) -> veritee.VeriteeError:
    with pytest.raises(veritee.VeriteeError) as e:
        fn(*args, **kw)
    assert e.value.code == code, e.value
    return e.value


def test_not_evidence() -> None:
    e = _raises("VT_E_UNKNOWN_EVIDENCE", veritee.verify, b"\x00" * 100, at=0)
    assert e.check == "evidence.type" and "100 bytes" in e.detail
    assert e.number == 401 and e.category == "unsupported"
    assert str(e).startswith("VT_E_UNKNOWN_EVIDENCE: evidence.type: ")
    assert e.to_dict()["code"] == "VT_E_UNKNOWN_EVIDENCE"
    _raises("VT_E_UNKNOWN_EVIDENCE", veritee.verify, b"", at=0)
    _raises("VT_E_BAD_BASE64", veritee.verify, b"xyz", at=0)


def test_raise_errors_false() -> None:
    r = veritee.verify(b"\x01" * 64, at=0, raise_errors=False)
    assert not r.verified and r.claims is None and r.status is None and r.advisory_ids == []
    assert r.error.code == "VT_E_UNKNOWN_EVIDENCE"
    assert r.to_dict()["error"]["check"] == "evidence.type"
    assert "verified=False" in repr(r)


def test_bad_arguments(fixtures: Path) -> None:
    doc = fixtures / NITRO
    _raises("VT_E_BAD_TIME", veritee.verify, doc, at="yesterday")
    with pytest.raises(TypeError):
        veritee.verify(doc, at=[1])
    with pytest.raises(TypeError):
        veritee.verify(doc, at=True)
    with pytest.raises(ValueError):
        veritee.verify(doc, at=math.nan)
    with pytest.raises(ValueError):
        veritee.verify(doc, at=NITRO_AT, nonce="zz")
    with pytest.raises(ValueError):
        veritee.verify(doc, at=NITRO_AT, report_data=b"\x00" * 65)
    with pytest.raises(ValueError):
        veritee.verify(doc, at=NITRO_AT, max_age=-1)
    with pytest.raises(ValueError):
        veritee.Verifier(time_mode="lenient")
    with pytest.raises(ValueError):
        veritee.Verifier(collateral_ttl=0)
    with pytest.raises(FileNotFoundError):
        veritee.verify(fixtures / "no-such-file", at=0)


def test_times_agree(fixtures: Path) -> None:
    """Unix seconds, a fraction, RFC 3339 and a datetime name the same second."""
    doc = (fixtures / NITRO).read_bytes()
    t = veritee.to_epoch(NITRO_AT)
    assert veritee.to_epoch(t + 0.9) == t and veritee.to_epoch(str(t)) == t
    import datetime as dt
    assert veritee.to_epoch(dt.datetime(2024, 11, 30, 16, 30)) == t
    assert veritee.verify(doc, at=t).claims == veritee.verify(doc, at=NITRO_AT).claims


def test_text_evidence(fixtures: Path) -> None:
    """Hex and base64 text are decoded as the command line decodes them."""
    import base64
    raw = (fixtures / NITRO).read_bytes()
    want = veritee.verify(raw, at=NITRO_AT).claims
    assert veritee.verify(raw.hex().encode(), at=NITRO_AT).claims == want
    assert veritee.verify(base64.b64encode(raw) + b"\n", at=NITRO_AT).claims == want
    assert veritee.verify(bytearray(raw), at=NITRO_AT).claims == want
    assert veritee.verify(memoryview(raw), at=NITRO_AT).claims == want


def test_nitro_binding(fixtures: Path) -> None:
    doc = fixtures / NITRO
    e = _raises("VT_E_NONCE_MISMATCH", veritee.verify, doc, at=NITRO_AT, nonce=b"\x01" * 8)
    assert e.check
    # The document was made at 16:22:48: at 16:30 it is 432 s old.
    r = veritee.verify(doc, at=NITRO_AT, max_age=600)
    assert r.verified
    r = veritee.verify(doc, at=NITRO_AT, max_age=60, raise_errors=False)
    assert not r.verified and r.error.check
    _raises("VT_E_UNSUPPORTED", veritee.verify, doc, at=NITRO_AT, report_data=b"\x00")


def test_flipped_signature(fixtures: Path) -> None:
    raw = bytearray((fixtures / NITRO).read_bytes())
    raw[-10] ^= 1
    r = veritee.verify(bytes(raw), at=NITRO_AT, raise_errors=False)
    assert not r.verified and r.error.category == "signature"


def test_dcap_errors(fixtures: Path) -> None:
    d = fixtures / ALI
    at = json.loads((d / "expected.json").read_text())["verification_time"]
    quote = (d / "quote.bin").read_bytes()
    e = _raises("VT_E_COLLATERAL_MISSING", veritee.verify, quote, at=at)
    assert e.check == "collateral.source"
    e = _raises("VT_E_BINDING", veritee.verify, quote, collateral=d, at=at,
                report_data=b"\x01" * 64)
    assert e.check
    r = veritee.verify(quote[:700], collateral=d, at=at, raise_errors=False)
    assert not r.verified and r.error.category in ("truncated", "malformed")
    # A collateral directory that does not exist fails when the quote's documents are fetched.
    r = veritee.verify(quote, collateral=fixtures / "no-such-dir", at=at, raise_errors=False)
    assert not r.verified and r.error.code in ("VT_E_IO", "VT_E_COLLATERAL_MISSING")


def test_snp_without_vek(fixtures: Path) -> None:
    e = _raises("VT_E_COLLATERAL_MISSING", veritee.verify, fixtures / "snp/trustee/test-report.bin",
                at="2025-06-01T00:00:00Z")
    assert e.check == "vcek"
    _raises("VT_E_BINDING", veritee.verify, fixtures / "snp/trustee/test-report.bin",
                vek=fixtures / "snp/trustee/test-vcek.der", at="2023-01-25T00:00:00Z",
                report_data=b"\xff" * 64)


def test_trust_anchors(fixtures: Path, tmp_path: Path) -> None:
    root = fixtures / "nitro/aws-root/AWS_NitroEnclaves_Root-G1.pem"
    r = veritee.verify(fixtures / NITRO, at=NITRO_AT, trust_anchors=[root, str(root)])
    assert r.verified
    e = _raises("VT_E_IO", veritee.verify, fixtures / NITRO, at=NITRO_AT,
                trust_anchors=[tmp_path / "missing.pem"])
    assert "missing.pem" in e.detail
    bad = tmp_path / "bad.pem"
    bad.write_text("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    with pytest.raises(veritee.VeriteeError) as ei:
        veritee.verify(fixtures / NITRO, at=NITRO_AT, trust_anchors=[bad])
    assert ei.value.category == "malformed"


def test_closed_verifier(fixtures: Path) -> None:
    v = veritee.Verifier()
    v.close()
    v.close()
    e = _raises("VT_E_STATE", v.verify, fixtures / NITRO, at=NITRO_AT)
    assert e.check == "verifier"


def test_threads_share_one_verifier(fixtures: Path) -> None:
    """Verifications from several threads on one Verifier (the GIL is released in vt_verify)
    give the single-threaded verdicts."""
    d = fixtures / ALI
    at = json.loads((d / "expected.json").read_text())["verification_time"]
    quote = (d / "quote.bin").read_bytes()
    doc = (fixtures / NITRO).read_bytes()
    with veritee.Verifier(collateral=d) as v:
        want_q = v.verify(quote, at=at).claims
        want_d = v.verify(doc, at=NITRO_AT).claims
        bad: list[str] = []

        def work() -> None:
            for i in range(50):
                got = v.verify(quote, at=at).claims if i % 2 else v.verify(doc, at=NITRO_AT).claims
                if got != (want_q if i % 2 else want_d):
                    bad.append(f"iteration {i}")

        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert bad == []
