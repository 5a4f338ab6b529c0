"""Policies through the binding: compile errors with their JSON path, verdicts on a Result and
on claims as JSON, the digest, the registry."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

import veritee

NITRO = "nitro/base-nitro-validator/attestation-2024-11-30.cose"
NITRO_AT = "2024-11-30T16:30:00Z"


def _result(fixtures: Path) -> veritee.Result:
    return veritee.verify(fixtures / NITRO, at=NITRO_AT)


def test_compile_errors() -> None:
    cases = [
        ("{", "VT_E_BAD_JSON", None),
        ('{"version": 2, "rules": {"allOf": []}}', "VT_E_UNSUPPORTED_VERSION", "version"),
        ('{"version": 1, "rules": {"claim": "tdx.mrtdd", "exists": true}}', "VT_E_BAD_FIELD",
         "rules.claim"),
        ('{"version": 1, "version": 1, "rules": {"allOf": []}}', "VT_E_DUPLICATE", None),
        ('{"rules": {"allOf": []}}', "VT_E_MISSING_FIELD", None),
        ('{"version": 1, "rules": {"claim": "tdx.mrtd", "equals": "00"}}', "VT_E_BAD_LENGTH",
         None),
    ]
    for text, code, check in cases:
        with pytest.raises(veritee.VeriteeError) as e:
            veritee.Policy(text)
        assert e.value.code == code, (text, e.value)
        if check is not None:
            assert e.value.check == check
        assert e.value.detail
    with pytest.raises(TypeError):
        veritee.Policy(42)  # type: ignore[arg-type]


def test_verdicts(fixtures: Path, tmp_path: Path) -> None:
    r = _result(fixtures)
    pcr0 = r.claims["nitro.pcr0"]
    allow = {"version": 1, "allowDebug": False, "acceptStatus": ["UpToDate"],
             "rules": {"allOf": [{"claim": "nitro.pcr0", "equals": pcr0},
                                 {"claim": "tee", "in": ["nitro", "tdx"]}]}}
    p = veritee.Policy(allow)
    v = p.evaluate(r)
    assert v.allowed and bool(v) and v.reason == ""
    assert [e["path"] for e in v.explanation][:1] and all("outcome" in e for e in v.explanation)
    # The same verdict on the claims as a dict and as JSON text (vt_policy_eval).
    assert p.evaluate(r.claims).allowed
    assert p.evaluate(r.claims_json).allowed
    deny = dict(allow, rules={"not": {"claim": "nitro.pcr0", "equals": pcr0}})
    v = veritee.Policy(json.dumps(deny)).evaluate(r)
    assert not v.allowed and v.reason == "rules"
    status = dict(allow, acceptStatus=["OutOfDate"])
    assert veritee.Policy(status).evaluate(r).reason == "status"
    # From a file; the digest is SHA-256 of the exact bytes.
    f = tmp_path / "p.json"
    f.write_bytes(json.dumps(allow, indent=2).encode())
    assert veritee.Policy.from_file(f).digest == hashlib.sha256(f.read_bytes()).digest()


def test_evaluate_errors(fixtures: Path) -> None:
    p = veritee.Policy({"version": 1, "rules": {"claim": "tee", "exists": True}})
    with pytest.raises(veritee.VeriteeError) as e:
        p.evaluate("[1, 2]")
    assert e.value.category == "malformed"
    failed = veritee.verify(b"\x00" * 10, at=0, raise_errors=False)
    with pytest.raises(veritee.VeriteeError) as e:
        p.evaluate(failed)
    assert e.value.code == "VT_E_ARG"
    with pytest.raises(TypeError):
        p.evaluate(3)  # type: ignore[arg-type]


def test_registry(fixtures: Path) -> None:
    assert veritee.claim_type("tdx.mrtd") == "hex"
    assert veritee.claim_type("status") == "enum"
    assert veritee.claim_type("no.such.claim") is None
    veritee.check_claims(_result(fixtures).claims)
    with pytest.raises(veritee.VeriteeError) as e:
        veritee.check_claims({"no.such.claim": 1})
    assert e.value.code == "VT_E_BAD_FIELD" and e.value.check == "no.such.claim"
