"""Every real fixture through the binding, with the expectations of the C tests
(tests/unit/dcap/test_fixtures.c, scripts/verify-fixtures.sh) and the command line's verdict."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any, Optional

import pytest

import veritee
from conftest import cli_verify, fixtures_root

ROOT = fixtures_root()


def _load(rel: str) -> Any:
    if ROOT is None:
        return None
    p = ROOT / rel
    return json.loads(p.read_text()) if p.is_file() else None


def _dcap_sets() -> list[str]:
    if ROOT is None or not (ROOT / "dcap").is_dir():
        return ["<no fixtures>"]
    out = []
    for exp in sorted((ROOT / "dcap").glob("*/*/expected.json")):
        d = exp.parent
        if (d / "qe_identity.json").is_file() and (d / "pck_crl.der").is_file():
            out.append(str(d.relative_to(ROOT / "dcap")))
    return out


def _utc(s: str) -> int:
    """'2022-10-12 13:49:51+00:00' -> unix seconds."""
    return int(dt.datetime.fromisoformat(s).timestamp())


NITRO = (_load("nitro/expected.json") or {}).get("documents") or [{"file": "<no fixtures>"}]
SNP = (_load("snp/expected.json") or {}).get("reports") or [{"report": "<no fixtures>"}]


def same_as_cli(result: veritee.Result, args: list[str]) -> None:
    """The binding's verdict is the command line's: the same claims, or the same error."""
    want = cli_verify(args)
    if want is None:
        return
    assert want["verified"] == result.verified
    assert want["evidence_type"] == result.evidence_type
    if result.verified:
        assert want["claims"] == result.claims
    else:
        assert want["error"]["code"] == result.error.code


@pytest.mark.parametrize("name", _dcap_sets())
def test_dcap(fixtures: Path, name: str) -> None:
    d = fixtures / "dcap" / name
    exp = json.loads((d / "expected.json").read_text())
    at = exp["verification_time"]
    quote = (d / "quote.bin").read_bytes()
    with veritee.Verifier(collateral=d) as v:
        if exp["status"].startswith("TCB_NOT_SUPPORTED"):
            with pytest.raises(veritee.VeriteeError) as e:
                v.verify(quote, at=at)
            assert e.value.code == "VT_E_TCB_NOT_SUPPORTED"
            assert e.value.number == 803 and e.value.category == "mismatch"
            r = v.verify(quote, at=at, raise_errors=False)
            assert not r.verified and r.error.code == "VT_E_TCB_NOT_SUPPORTED"
            same_as_cli(r, ["--collateral", str(d), "--at", str(at), str(d / "quote.bin")])
            return
        r = v.verify(quote, at=at)
        assert r.verified and r.evidence_type == "dcap-quote"
        assert r.tee == exp["tee"].lower()
        assert r.status == exp["status"]
        assert sorted(r.advisory_ids) == sorted(exp["advisory_ids"])
        c = r.claims
        assert c["status"] == exp["status"] and c["qe_status"] == exp["qe_status"]
        assert sorted(c["advisory_ids"]) == sorted(exp["advisory_ids"])
        assert c["dcap.quote_version"] == exp["quote_version"]
        assert c["dcap.pck_ca"] == exp["pck_ca"]
        if "tdx_module_status" in exp:
            assert c["module_status"] == exp["tdx_module_status"]
            assert c["dcap.tdx_module_identity"] == exp["tdx_module_identity"]
        assert name.split("fmspc")[1][:12].lower() == c["fmspc"].lower()
        same_as_cli(r, ["--collateral", str(d), "--at", str(at), str(d / "quote.bin")])
        # The edges of the validity window, as the C test checks them.
        lo, hi = exp["validity_window"]
        assert v.verify(quote, at=lo).status == exp["status"]
        assert v.verify(quote, at=hi - 1).status == exp["status"]
        with pytest.raises(veritee.VeriteeError) as e:
            v.verify(quote, at=hi)
        assert e.value.code == "VT_E_EXPIRED" and "not_after" in e.value.detail
        with pytest.raises(veritee.VeriteeError) as e:
            v.verify(quote, at=lo - 1)
        assert e.value.code == "VT_E_NOT_YET_VALID"
    with veritee.Verifier(collateral=d, time_mode="expiry-only") as v:
        assert v.verify(quote, at=lo - 1).status == exp["status"]
    # The one-shot function, with a datetime.
    r = veritee.verify(quote, collateral=str(d),
                       at=dt.datetime.fromtimestamp(at, tz=dt.timezone.utc))
    assert r.status == exp["status"]


def test_dcap_partial_set(fixtures: Path) -> None:
    """The partial go-tdx-guest set has no QE identity or CRLs: the error names the file."""
    d = fixtures / "dcap/go-tdx-guest/tdx-v5-fmspc90c06f000000-partial"
    if not d.is_dir():
        pytest.skip("no partial set")
    with pytest.raises(veritee.VeriteeError) as e:
        veritee.verify(d / "quote.bin", collateral=d, at="2025-06-01T00:00:00Z")
    assert e.value.code == "VT_E_COLLATERAL_MISSING"
    assert "qe_identity.json" in e.value.detail


@pytest.mark.parametrize("doc", NITRO, ids=[d["file"] for d in NITRO])
def test_nitro(fixtures: Path, doc: dict[str, Any]) -> None:
    path = fixtures / "nitro" / doc["file"]
    at = _utc(doc["chain_valid_from_utc"])
    r = veritee.verify(path, at=at)
    assert r.verified and r.evidence_type == "nitro-document" and r.tee == "nitro"
    c = r.claims
    assert c["nitro.module_id"] == doc["module_id"]
    assert c["nitro.timestamp_ms"] == doc["timestamp_ms"]
    for i, value in doc.get("pcrs_nonzero", {}).items():
        assert c[f"nitro.pcr{i}"] == value
    for field in ("public_key", "user_data", "nonce"):
        if doc.get(field):
            assert c[field] == doc[field]
    same_as_cli(r, ["--at", str(at), str(path)])
    with pytest.raises(veritee.VeriteeError) as e:
        veritee.verify(path, at=at - 1)
    assert e.value.code == "VT_E_NOT_YET_VALID"
    # notAfter itself is inside the window for Nitro certificates (RFC 5280); one second after
    # is not.
    until = _utc(doc["chain_valid_until_utc"])
    assert veritee.verify(path, at=until).verified
    with pytest.raises(veritee.VeriteeError) as e:
        veritee.verify(path, at=until + 1)
    assert e.value.code == "VT_E_EXPIRED"


def test_nitro_corrupt_document(fixtures: Path) -> None:
    bad = fixtures / "nitro/base-nitro-validator/attestation-2026-01-03.as-published.b64"
    if not bad.is_file():
        pytest.skip("no corrupt document")
    r = veritee.verify(bad, at="2026-01-03T20:41:07Z", raise_errors=False)
    assert not r.verified and r.claims is None
    same_as_cli(r, ["--at", "2026-01-03T20:41:07Z", str(bad)])


@pytest.mark.parametrize("rep", SNP, ids=[r["report"] for r in SNP])
def test_snp(fixtures: Path, rep: dict[str, Any]) -> None:
    at = _utc(rep["vek_not_before"])
    report, vek = fixtures / "snp" / rep["report"], fixtures / "snp" / rep["vek"]
    r = veritee.verify(report, vek=vek, at=at)
    assert r.verified and r.tee == "sev-snp"
    assert r.claims["snp.measurement"] == rep["measurement"]
    assert r.claims["snp.chip_id"] == rep["chip_id"] or r.claims.get("snp.chip_id_masked")
    same_as_cli(r, ["--at", str(at), "--vcek", str(vek), str(report)])
    # The VEK as bytes instead of a path; REPORT_DATA bound.
    r2 = veritee.verify(report.read_bytes(), vek=vek.read_bytes(), at=at,
                        report_data=rep["report_data"])
    assert r2.claims == r.claims


def _measurement(prefix: str) -> Optional[str]:
    for rep in SNP:
        if rep.get("report", "").startswith(prefix):
            return rep["measurement"]
    return None


@pytest.mark.parametrize("report,vek,prefix", [
    ("trustee-azure/hcl-report.bin", "trustee-azure/vcek.pem", "trustee-azure/derived/hcl-report"),
    ("trustee-azure/derived/genoa-hcl-report.bin", "trustee-azure/vcek-genoa.pem",
     "trustee-azure/derived/genoa-hcl"),
])
def test_azure_hcl(fixtures: Path, report: str, vek: str, prefix: str) -> None:
    at = "2025-06-01T00:00:00Z"
    r = veritee.verify(fixtures / "snp" / report, vek=fixtures / "snp" / vek, at=at)
    assert r.evidence_type == "azure-hcl-report"
    assert r.claims["snp.measurement"] == _measurement(prefix)
    same_as_cli(r, ["--at", at, "--vcek", str(fixtures / "snp" / vek), str(fixtures / "snp" / report)])


@pytest.mark.parametrize("vek", ["trustee/test-vcek-invalid-legacy.der",
                                 "trustee/test-vcek-invalid-new.der", "trustee/test-vlek.der"])
def test_snp_rejected(fixtures: Path, vek: str) -> None:
    """Synthetic VCEKs without an AMD signature, and a VLEK given for a VCEK-signed report."""
    report = fixtures / "snp/trustee/test-report.bin"
    r = veritee.verify(report, vek=fixtures / "snp" / vek, at="2025-06-01T00:00:00Z",
                       raise_errors=False)
    assert not r.verified and r.error is not None and r.error.check
    same_as_cli(r, ["--at", "2025-06-01T00:00:00Z", "--vcek", str(fixtures / "snp" / vek),
                    str(report)])
