"""The attester (include/veritee/attester.h) and the broker client (include/veritee/client.h)."""

from __future__ import annotations

import json
import os
from typing import Any, Callable, Optional, Tuple, Union

from ._errors import BrokerRefused, VeriteeError, check, error_from_diag, new_diag
from ._native import ffi, lib

__all__ = ["Attester", "RuntimeKey", "Client", "Attestation", "Release", "EvidenceFunction",
           "report_data_for"]

#: A Python evidence source for the client: called with (report_data: 64 bytes, nonce: 32 bytes,
#: spki: the runtime key as DER SubjectPublicKeyInfo); returns the evidence, or a pair
#: (evidence, VEK DER) for SEV-SNP. An exception fails the request (VT_E_IO, check
#: "client.evidence", its text as the detail).
EvidenceFunction = Callable[[bytes, bytes, bytes], Union[bytes, Tuple[bytes, bytes]]]

_Path = Union[str, "os.PathLike[str]"]


def _take_buf(b: Any) -> bytes:
    return bytes(ffi.buffer(b.data, b.len)) if b.data != ffi.NULL else b""


class Attester:
    """Evidence from inside a TEE, by backend name.

    Backends: ``"tsm"`` (Linux configfs-tsm: TDX quotes, SEV-SNP reports), ``"nsm"`` (the AWS
    Nitro Secure Module). The simulators (``"sim:*"``) live outside the installed library
    (libveritee_sim): opening one here fails with VT_E_UNSUPPORTED ("attester.backend").
    Not thread-safe: one per thread, or serialise calls.

    Args:
        backend: the backend name.
        tsm_root: tsm: the report directory (default /sys/kernel/config/tsm/report).
        tsm_privlevel: tsm: the SEV-SNP VMPL to write before inblob (0..3), if any.
        tsm_wait_ms: tsm: how long to wait for an attribute to appear.
        nsm_path: nsm: the device (default /dev/nsm).

    Raises:
        VeriteeError: the backend cannot be opened (VT_E_NOT_FOUND "tsm.root", VT_E_IO
            "nsm.open", VT_E_UNSUPPORTED "attester.backend").
    """

    def __init__(self, backend: str, *, tsm_root: Optional[_Path] = None,
                 tsm_privlevel: Optional[int] = None, tsm_wait_ms: int = 0,
                 nsm_path: Optional[_Path] = None) -> None:
        self._a: Any = ffi.NULL
        opts = ffi.new("struct vt_attester_opts *")
        keep = []
        if tsm_root is not None:
            keep.append(ffi.new("char[]", os.fsencode(tsm_root)))
            opts.tsm_root = keep[-1]
        if tsm_privlevel is not None:
            if not 0 <= tsm_privlevel <= 3:
                raise ValueError(f"tsm_privlevel: {tsm_privlevel} is not in 0..3")
            opts.tsm_set_privlevel = True
            opts.tsm_privlevel = tsm_privlevel
        opts.tsm_wait_ms = tsm_wait_ms
        if nsm_path is not None:
            keep.append(ffi.new("char[]", os.fsencode(nsm_path)))
            opts.nsm_path = keep[-1]
        out = ffi.new("struct vt_attester **")
        d = new_diag()
        check(lib.vt_attester_open(backend.encode(), opts, out, d), d)
        self._a = out[0]

    @property
    def backend(self) -> str:
        """The backend name given when opened."""
        return ffi.string(lib.vt_attester_backend(self._a)).decode()

    @property
    def tee(self) -> str:
        """The TEE of the evidence (``"tdx"``, ``"sev-snp"``, ``"nitro"``; tsm: ``"none"``
        until evidence was produced)."""
        return ffi.string(lib.vt_tee_name(lib.vt_attester_tee(self._a))).decode()

    def evidence(self, report_data: bytes = b"", *, nonce: Optional[bytes] = None,
                 public_key: Optional[bytes] = None,
                 user_data: Optional[bytes] = None) -> Tuple[bytes, bytes]:
        """Produce evidence binding ``report_data`` (SGX, TDX, SEV-SNP: up to 64 bytes, zero
        padded) or nonce, public_key and user_data (Nitro).

        Returns:
            (evidence, aux): aux is the VCEK (DER) for SEV-SNP when the TEE has it, else b"".
        """
        if len(report_data) > 64:
            raise ValueError(f"report_data: {len(report_data)} bytes, at most 64")
        inp = ffi.new("struct vt_attester_input *")
        ffi.memmove(inp.report_data, report_data, len(report_data))
        keep = []
        for name, val in (("nonce", nonce), ("public_key", public_key), ("user_data", user_data)):
            if val is not None:
                keep.append(ffi.from_buffer("uint8_t[]", val))
                setattr(inp, name, keep[-1])
                setattr(inp, name + "_len", len(val))
        ev = ffi.new("struct vt_buf *")
        aux = ffi.new("struct vt_buf *")
        lib.vt_buf_init(ev, lib.VT_MAX_EVIDENCE_SIZE)
        lib.vt_buf_init(aux, lib.VT_MAX_COLLATERAL_SIZE)
        d = new_diag()
        try:
            check(lib.vt_attester_evidence(self._a, inp, ev, aux, d), d)
            return _take_buf(ev), _take_buf(aux)
        finally:
            lib.vt_buf_cleanup(ev)
            lib.vt_buf_cleanup(aux)

    def close(self) -> None:
        """Close the backend. Idempotent."""
        lib.vt_attester_close(self._a)
        self._a = ffi.NULL

    def __enter__(self) -> "Attester":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        if getattr(self, "_a", ffi.NULL) != ffi.NULL:
            self.close()


class RuntimeKey:
    """A key pair that exists only in this process, whose public half the evidence binds and
    to which the broker wraps released secrets (``vt_jwk``; the private half is wiped when the
    key is freed).

    Args:
        kind: ``"RSA-2048"``, ``"RSA-3072"``, ``"RSA-4096"``, ``"P-256"``, ``"P-384"`` or
            ``"P-521"`` (RSA keys can also receive KMS-style CMS).
    """

    def __init__(self, kind: str = "P-256") -> None:
        self._k: Any = ffi.NULL
        out = ffi.new("struct vt_jwk **")
        d = new_diag()
        check(lib.vt_jwk_generate(kind.encode(), out, d), d)
        self._k = out[0]
        self.kind = kind

    @property
    def public_jwk(self) -> dict[str, Any]:
        """The public JWK (RFC 7638 members)."""
        p = lib.vt_jwk_public_json(self._k)
        if p == ffi.NULL:
            raise MemoryError("vt_jwk_public_json")
        try:
            return json.loads(ffi.string(p).decode())
        finally:
            lib.free(p)

    def __del__(self) -> None:
        if getattr(self, "_k", ffi.NULL) != ffi.NULL:
            lib.vt_jwk_free(self._k)
            self._k = ffi.NULL


def report_data_for(nonce: bytes, key: RuntimeKey) -> bytes:
    """The report data evidence must carry for a challenge: SHA-512(nonce || the key's RFC 7638
    thumbprint input)."""
    if len(nonce) != 32:
        raise ValueError(f"nonce: {len(nonce)} bytes, a challenge nonce has 32")
    out = ffi.new("uint8_t[64]")
    d = new_diag()
    check(lib.vt_client_report_data(nonce, key._k, out, d), d)
    return bytes(ffi.buffer(out))


class Attestation:
    """A successful attest: the broker's token and the claims it attests."""

    __slots__ = ("token", "claims")

    def __init__(self, token: str, claims: dict[str, Any]) -> None:
        self.token = token
        self.claims = claims

    def __repr__(self) -> str:
        return f"Attestation(token={self.token[:16]!r}..., claims={len(self.claims)} claims)"


class Release:
    """A released secret (unwrapped with the runtime key), its version and the broker's
    receipt (dict, or None)."""

    __slots__ = ("secret", "version", "receipt")

    def __init__(self, secret: bytes, version: int, receipt: Optional[dict[str, Any]]) -> None:
        self.secret = secret
        self.version = version
        self.receipt = receipt

    def __repr__(self) -> str:
        return f"Release(version={self.version}, secret=<{len(self.secret)} bytes>)"


@ffi.def_extern()
def _vt_py_evidence(ctx: Any, report_data: Any, nonce: Any, spki: Any, spki_len: int,
                    evidence: Any, vek: Any, d: Any) -> int:
    fn, errors = ffi.from_handle(ctx)
    try:
        out = fn(bytes(ffi.buffer(report_data, 64)), bytes(ffi.buffer(nonce, 32)),
                 bytes(ffi.buffer(spki, spki_len)) if spki_len else b"")
        ev, aux = (out if isinstance(out, tuple) else (out, b""))
        for buf, data in ((evidence, bytes(ev)), (vek, bytes(aux))):
            if data:
                err = lib.vt_buf_append(buf, data, len(data))
                if err != lib.VT_OK:
                    raise VeriteeError(err, "client.evidence",
                                       f"{len(data)} bytes of evidence do not fit")
        return lib.VT_OK
    except BaseException as e:  # reported to the library as a failure, re-raised after
        errors.append(e)
        code = e.number if isinstance(e, VeriteeError) else lib.VT_E_IO
        text = (f"{type(e).__name__}: {e}").encode("utf-8", "replace")
        d.code = code
        d.check = b"client.evidence"
        d.detail = text[:lib.VT_DIAG_DETAIL_MAX - 1]
        return code


class Client:
    """The broker client for programs inside a TEE: challenge, evidence bound to the nonce and
    a runtime key, attest, release (docs/client.md). Retries with backoff on transport errors,
    429 and 5xx. The GIL is released while a request is in flight.

    Args:
        url: the broker's base URL (http:// or https://).
        ca_file: PEM: trust only this CA for https (pinning); None: the system CAs.
        timeout_ms: per request.
        retries: extra attempts on transport errors, 429 and 5xx.
        backoff_ms: the first retry delay, doubling.
    """

    def __init__(self, url: str, *, ca_file: Optional[_Path] = None, timeout_ms: int = 15000,
                 retries: int = 0, backoff_ms: int = 200) -> None:
        self._c: Any = ffi.NULL
        cfg = ffi.new("struct vt_client_config *")
        u = ffi.new("char[]", url.encode())
        ca = ffi.new("char[]", os.fsencode(ca_file)) if ca_file is not None else ffi.NULL
        cfg.url = u
        cfg.ca_file = ca
        cfg.timeout_ms = timeout_ms
        cfg.retries = retries
        cfg.backoff_ms = backoff_ms
        out = ffi.new("struct vt_client **")
        d = new_diag()
        check(lib.vt_client_new(cfg, out, d), d)
        self._c = out[0]

    def close(self) -> None:
        """Free the client. Idempotent."""
        lib.vt_client_free(self._c)
        self._c = ffi.NULL

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        if getattr(self, "_c", ffi.NULL) != ffi.NULL:
            self.close()

    @staticmethod
    def _source(evidence: Union[Attester, EvidenceFunction, None]) -> Tuple[Any, Any, list]:
        errors: list = []
        if evidence is None:
            return ffi.NULL, ffi.NULL, errors
        if isinstance(evidence, Attester):
            return lib.vt_client_attester_evidence, evidence._a, errors
        if callable(evidence):
            return lib._vt_py_evidence, ffi.new_handle((evidence, errors)), errors
        raise TypeError("evidence: expected an Attester or a callable")

    @staticmethod
    def _raise(err: int, d: Any, st: Any, errors: list) -> None:
        if errors:
            raise errors[0]
        if err == lib.VT_OK:
            return
        base = error_from_diag(err, d)
        if st.http_status:
            raise BrokerRefused(err, base.check, base.detail, int(st.http_status),
                                ffi.string(st.reason).decode())
        raise base

    def attest(self, evidence: Union[Attester, EvidenceFunction], key: RuntimeKey) -> Attestation:
        """challenge -> evidence -> /v1/attest.

        Args:
            evidence: an ``Attester`` or a Python ``EvidenceFunction``.
            key: the runtime key the evidence binds.

        Raises:
            BrokerRefused: the broker refused (``http_status`` 401, 403 a policy's denial, 400).
            VeriteeError: the request failed (VT_E_UPSTREAM, VT_E_IO, ...).
        """
        fn, ctx, errors = self._source(evidence)
        token = ffi.new("char **")
        claims = ffi.new("char **")
        st = ffi.new("struct vt_client_status *")
        d = new_diag()
        err = lib.vt_client_attest(self._c, fn, ctx, key._k, token, claims, st, d)
        try:
            self._raise(err, d, st, errors)
            return Attestation(ffi.string(token[0]).decode(),
                               json.loads(ffi.string(claims[0]).decode()))
        finally:
            lib.free(token[0])
            lib.free(claims[0])

    def release(self, key_name: str, key: RuntimeKey, *, token: Optional[str] = None,
                evidence: Union[Attester, EvidenceFunction, None] = None,
                cms: bool = False) -> Release:
        """Release a secret: with a token from ``attest``, or with fresh evidence (one request).

        Args:
            key_name: the broker's key name.
            key: the runtime key the secret is wrapped to (and unwrapped with).
            token: a token from ``attest``; or None with ``evidence``.
            evidence: an ``Attester`` or an ``EvidenceFunction`` when there is no token.
            cms: ask for KMS-style CMS (RSA keys) instead of a JWE.

        Raises:
            BrokerRefused: refused (as ``attest``; 404 for an unknown key).
            VeriteeError: the request or the unwrapping failed.
        """
        if (token is None) == (evidence is None):
            raise ValueError("release: give a token or evidence, not both or neither")
        fn, ctx, errors = self._source(evidence)
        tok = ffi.new("char[]", token.encode()) if token is not None else ffi.NULL
        secret = ffi.new("struct vt_buf *")
        lib.vt_buf_init(secret, lib.VT_MAX_COLLATERAL_SIZE)
        version = ffi.new("uint32_t *")
        receipt = ffi.new("char **")
        st = ffi.new("struct vt_client_status *")
        d = new_diag()
        try:
            err = lib.vt_client_release(self._c, key_name.encode(), tok, fn, ctx, key._k, cms,
                                        secret, version, receipt, st, d)
            self._raise(err, d, st, errors)
            rec = json.loads(ffi.string(receipt[0]).decode()) if receipt[0] != ffi.NULL else None
            return Release(_take_buf(secret), int(version[0]), rec)
        finally:
            lib.vt_buf_cleanup(secret)
            lib.free(receipt[0])
