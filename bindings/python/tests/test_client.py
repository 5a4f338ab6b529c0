"""The attester and the broker client through the binding: runtime keys, report data, the
error paths, and attest and release against a live `veritee broker serve` with evidence from the
Nitro simulator (through a Python evidence function: the simulators are not in libveritee.so)."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path
from typing import Iterator, Tuple

import pytest

import veritee
from conftest import cli_env


def test_runtime_keys() -> None:
    for kind in ("P-256", "P-384", "RSA-2048"):
        k = veritee.RuntimeKey(kind)
        assert k.public_jwk["kty"] == ("RSA" if kind.startswith("RSA") else "EC")
        assert "d" not in k.public_jwk
    with pytest.raises(veritee.VeriteeError) as e:
        veritee.RuntimeKey("Ed25519")
    assert e.value.code == "VT_E_UNSUPPORTED_ALGORITHM" and e.value.check == "jwk.generate"


def test_report_data() -> None:
    k = veritee.RuntimeKey()
    a, b = veritee.report_data_for(b"\x01" * 32, k), veritee.report_data_for(b"\x02" * 32, k)
    assert len(a) == 64 and a != b and a == veritee.report_data_for(b"\x01" * 32, k)
    with pytest.raises(ValueError):
        veritee.report_data_for(b"\x01", k)


def test_attester_errors(tmp_path: Path) -> None:
    with pytest.raises(veritee.VeriteeError) as e:
        veritee.Attester("sim:tdx")
    assert e.value.code == "VT_E_UNSUPPORTED" and e.value.check == "attester.backend"
    with pytest.raises(veritee.VeriteeError) as e:
        veritee.Attester("tsm", tsm_root=tmp_path / "none")
    assert e.value.code == "VT_E_NOT_FOUND" and e.value.check == "tsm.root"
    with pytest.raises(veritee.VeriteeError) as e:
        veritee.Attester("nsm", nsm_path=tmp_path / "nsm")
    assert e.value.code == "VT_E_NOT_FOUND" and e.value.check == "nsm.open"
    with pytest.raises(ValueError):
        veritee.Attester("tsm", tsm_root=tmp_path, tsm_privlevel=4)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_client_errors() -> None:
    with pytest.raises(veritee.VeriteeError) as e:
        veritee.Client("ftp://example.invalid")
    assert e.value.category == "usage"
    c = veritee.Client(f"http://127.0.0.1:{_free_port()}", timeout_ms=2000)
    with pytest.raises(veritee.VeriteeError) as e:
        c.attest(lambda rd, n, spki: b"", veritee.RuntimeKey())
    assert not isinstance(e.value, veritee.BrokerRefused) and e.value.check
    with pytest.raises(ValueError):
        c.release("k", veritee.RuntimeKey())
    with pytest.raises(TypeError):
        c.attest(42, veritee.RuntimeKey())  # type: ignore[arg-type]
    c.close()
    c.close()


def _need_binary() -> str:
    b = os.environ.get("VERITEE_BINARY")
    if not b:
        if os.environ.get("CI") == "true":
            pytest.fail("VERITEE_BINARY is not set; CI requires the broker test")
        pytest.skip("VERITEE_BINARY is not set: no broker to talk to")
    return b


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tuple[str, str, Path]]:
    """A broker serving on a free port: keys "pepper" (no policy) and "tdx-only" (a policy that
    denies Nitro), trusting the Nitro simulator's root."""
    vt = _need_binary()
    tmp = tmp_path_factory.mktemp("broker")
    mk = tmp / "master.key"
    mk.write_bytes(subprocess.run([vt, "broker", "master-key"], check=True,
                                  capture_output=True, env=cli_env()).stdout)
    db = f"sqlite:{tmp / 'v.db'}"
    b = [vt, "broker"]
    common = ["--db", db, "--master-key-file", str(mk)]
    subprocess.run([vt, "client", "sim-export", "--backend", "sim:nitro", "--sim-dir",
                    str(tmp / "sim"), "--out", str(tmp / "export")], check=True,
                   capture_output=True, env=cli_env())
    subprocess.run(b + ["key-put", *common, "--name", "pepper", "--generate", "32"], check=True,
                   capture_output=True, env=cli_env())
    pol = tmp / "tdx.json"
    pol.write_text('{"version":1,"rules":{"claim":"tdx.mrtd","exists":true}}')
    subprocess.run(b + ["key-put", *common, "--name", "tdx-only", "--generate", "16", "--policy",
                        str(pol)], check=True, capture_output=True, env=cli_env())
    pf = tmp / "port"
    proc = subprocess.Popen(b + ["serve", *common, "--trust-anchor",
                                 str(tmp / "export/anchors/nitro.pem"), "--listen",
                                 "127.0.0.1:0", "--port-file", str(pf)],
                            stderr=open(tmp / "serve.log", "wb"), env=cli_env())
    try:
        for _ in range(600):  # wait for the port file (not a timing assertion)
            if pf.is_file() and pf.read_text().strip():
                break
            if proc.poll() is not None:
                pytest.fail("broker exited: " + (tmp / "serve.log").read_text())
            time.sleep(0.05)
        yield f"http://127.0.0.1:{pf.read_text().strip()}", vt, tmp
    finally:
        proc.terminate()
        proc.wait()


def _nitro_evidence(vt: str, tmp: Path):
    calls = []

    def evidence(report_data: bytes, nonce: bytes, spki: bytes) -> bytes:
        assert len(report_data) == 64 and len(nonce) == 32 and spki
        calls.append(nonce)
        (tmp / "spki.der").write_bytes(spki)
        out = tmp / f"doc-{len(calls)}.cose"
        subprocess.run([vt, "client", "evidence", "--backend", "sim:nitro", "--sim-dir",
                        str(tmp / "sim"), "--public-key", str(tmp / "spki.der"), "--nonce",
                        nonce.hex(), "--out", str(out)], check=True, capture_output=True,
                       env=cli_env())
        return out.read_bytes()

    return evidence, calls


def test_attest_and_release(broker: Tuple[str, str, Path]) -> None:
    url, vt, tmp = broker
    evidence, calls = _nitro_evidence(vt, tmp)
    key = veritee.RuntimeKey("P-256")
    with veritee.Client(url, retries=1) as c:
        a = c.attest(evidence, key)
        assert a.token.count(".") == 2 and a.claims["tee"] == "nitro"
        r1 = c.release("pepper", key, token=a.token)
        assert len(r1.secret) == 32 and r1.version == 1
        # With fresh evidence in one request, and an RSA key receiving CMS.
        rsa = veritee.RuntimeKey("RSA-2048")
        r2 = c.release("pepper", rsa, evidence=evidence, cms=True)
        assert r2.secret == r1.secret
        assert len(calls) == 2
        # Refusals: a policy's denial (403), an unknown key (404).
        with pytest.raises(veritee.BrokerRefused) as e:
            c.release("tdx-only", key, token=a.token)
        assert e.value.http_status == 403 and e.value.code == "VT_E_UNAUTHORIZED"
        assert e.value.check == "broker"
        with pytest.raises(veritee.BrokerRefused) as e:
            c.release("no-such-key", key, token=a.token)
        assert e.value.http_status == 404 and e.value.code == "VT_E_NOT_FOUND"
        # Evidence bound to another key: refused for its binding.
        other = veritee.RuntimeKey("P-256")
        with pytest.raises(veritee.BrokerRefused) as e:
            c.attest(lambda rd, n, spki: evidence(rd, n, b"\x30\x00"), other)
        assert e.value.http_status in (400, 401)
        # An evidence function that raises: its exception, re-raised after the library fails.
        def broken(rd: bytes, n: bytes, spki: bytes) -> bytes:
            raise RuntimeError("no TEE here")
        with pytest.raises(RuntimeError, match="no TEE here"):
            c.attest(broken, key)
