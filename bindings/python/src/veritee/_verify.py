"""Verification: ``verify`` and ``Verifier`` over ``vt_verify`` (include/veritee/verifier.h)."""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import threading
import time as _time
from typing import Any, Iterable, Optional, Union

from ._errors import VeriteeError, check, error_from_diag, new_diag
from ._native import ffi, lib

__all__ = ["Result", "Verifier", "verify", "TimeLike", "BytesLike", "PathLike"]

TimeLike = Union[_dt.datetime, int, float, str, None]
BytesLike = Union[bytes, bytearray, memoryview]
PathLike = Union[str, "os.PathLike[str]"]

def to_epoch(at: TimeLike) -> int:
    """A verification time as unix seconds.

    ``None``: now. A ``datetime``: its instant (a naive one is taken as UTC). An ``int`` or
    ``float``: unix seconds, a fraction dropped toward the earlier second (as ``--at`` does).
    A ``str``: what ``veritee verify --at`` accepts (RFC 3339 or unix seconds).
    """
    if at is None:
        return int(_time.time())
    if isinstance(at, bool):
        raise TypeError("at: a bool is not a time")
    if isinstance(at, _dt.datetime):
        if at.tzinfo is None:
            at = at.replace(tzinfo=_dt.timezone.utc)
        return math.floor(at.timestamp())
    if isinstance(at, int):
        return at
    if isinstance(at, float):
        if not math.isfinite(at):
            raise ValueError(f"at: {at!r} is not a time")
        return math.floor(at)
    if isinstance(at, str):
        raw = at.encode()
        out = ffi.new("vt_time *")
        d = new_diag()
        check(lib.vt_time_parse_arg(raw, len(raw), out, d), d)
        return int(out[0])
    raise TypeError(f"at: expected a datetime, unix seconds or a string, not {type(at).__name__}")


def _bytes_arg(name: str, value: Union[BytesLike, PathLike, None],
               limit: int = 0) -> Optional[bytes]:
    """Bytes given as bytes, or as the path of a file holding them (read up to one byte past
    limit, default VT_MAX_COLLATERAL_SIZE: the library rejects what is too large)."""
    if value is None:
        return None
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, (str, os.PathLike)):
        with open(value, "rb") as f:
            return f.read((limit or lib.VT_MAX_COLLATERAL_SIZE) + 1)
    raise TypeError(f"{name}: expected bytes or a path, not {type(value).__name__}")


def _hexbytes(name: str, value: Union[BytesLike, str, None]) -> Optional[bytes]:
    """Bytes given as bytes, or as a hex string."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            return bytes.fromhex(value)
        except ValueError as e:
            raise ValueError(f"{name}: not hex: {e}") from e
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise TypeError(f"{name}: expected bytes or hex, not {type(value).__name__}")


class Result:
    """The outcome of one verification.

    Attributes:
        verified: True when every check passed (the verdict is then ``status``; it may be
            ``"OutOfDate"`` or ``"Revoked"``: a verdict, not an error). False only from
            ``verify(..., raise_errors=False)``, with the error in ``error``.
        evidence_type: ``"dcap-quote"``, ``"nitro-document"``, ``"snp-report"``,
            ``"azure-hcl-report"`` or ``"unknown"``.
        tee: ``"sgx"``, ``"tdx"``, ``"sev-snp"``, ``"nitro"`` (``None`` when not verified).
        status: the converged TCB status (``"UpToDate"``, ``"SWHardeningNeeded"``, ...).
        advisory_ids: Intel security advisory IDs of the matched TCB level.
        debug: the TEE runs in debug mode.
        claims: every claim, as ``veritee verify`` prints them (docs/claims.md); built on first
            access.
        error: the ``VeriteeError`` of a failed verification, else ``None``.
    """

    __slots__ = ("verified", "evidence_type", "tee", "status", "advisory_ids", "debug", "error",
                 "_claims", "_json", "_dict")

    def __init__(self, evidence_type: str, claims: Any = None,
                 error: Optional[VeriteeError] = None) -> None:
        self.evidence_type = evidence_type
        self.error = error
        self._claims = claims
        self._json: Optional[str] = None
        self._dict: Optional[dict[str, Any]] = None
        self.verified = error is None
        if claims is not None and error is None:
            self.tee: Optional[str] = ffi.string(lib.vt_tee_name(claims.tee)).decode()
            self.status: Optional[str] = ffi.string(lib.vt_tcb_status_name(claims.status)).decode()
            adv = claims.advisories
            self.advisory_ids: list[str] = [ffi.string(adv.ids[i]).decode()
                                            for i in range(adv.n)]
            self.debug: Optional[bool] = bool(claims.debug)
        else:
            self.tee = self.status = self.debug = None
            self.advisory_ids = []

    @property
    def claims_json(self) -> Optional[str]:
        """The claims as the library serialises them (``vt_claims_to_json``)."""
        if self._json is None and self._claims is not None and self.error is None:
            p = lib.vt_claims_to_json(self._claims)
            if p == ffi.NULL:
                raise MemoryError("vt_claims_to_json")
            try:
                self._json = ffi.string(p).decode()
            finally:
                lib.free(p)
        return self._json

    @property
    def claims(self) -> Optional[dict[str, Any]]:
        """The claims as a dict (flat dotted names, docs/claims.md); None when not verified."""
        if self._dict is None:
            j = self.claims_json
            if j is not None:
                self._dict = json.loads(j)
        return self._dict

    def to_dict(self) -> dict[str, Any]:
        """The result as ``veritee verify`` prints it."""
        out: dict[str, Any] = {"verified": self.verified, "evidence_type": self.evidence_type,
                               "claims": self.claims}
        if self.error is not None:
            out["error"] = self.error.to_dict()
        return out

    def __repr__(self) -> str:
        if not self.verified:
            return f"Result(verified=False, evidence_type={self.evidence_type!r}, error={self.error})"
        return (f"Result(verified=True, evidence_type={self.evidence_type!r}, tee={self.tee!r}, "
                f"status={self.status!r}, advisory_ids={self.advisory_ids!r})")


class Verifier:
    """A verifier that keeps its caches across calls (``struct vt_verifier``).

    DCAP collateral sets with their verified PCK chains, SEV-SNP collateral and VCEK/VLEK chains,
    and verified Nitro CA chains are cached for ``collateral_ttl`` seconds; every verification
    still checks every validity window at its own time. ``verify`` may be called from any number
    of threads at once: the GIL is released for the whole of ``vt_verify`` (cffi releases it
    around every call into C), so threads verify in parallel.

    Args:
        collateral: a collateral directory (docs/verify.md "Collateral directory") or an
            http(s):// base URL (Intel PCS, a PCCS, AMD KDS, a veritee cache). None: no source (a
            DCAP quote then fails with VT_E_COLLATERAL_MISSING; an SEV-SNP report needs ``vek``).
        trust_anchors: files (PEM or DER) of extra trusted roots, added to the embedded vendor
            roots (Intel SGX Root CA, AWS Nitro Enclaves Root G1, AMD ARKs), never replacing them.
        time_mode: ``"strict"`` (every lower bound of a validity window checked too) or
            ``"expiry-only"`` (only notAfter and nextUpdate, as Intel's QVL does).
        collateral_ttl: seconds fetched collateral is reused (None: the library's default, 60;
            ``math.inf``: forever).

    Raises:
        VeriteeError: the source, a trust anchor or the verifier cannot be created.
    """

    def __init__(self, collateral: Optional[PathLike] = None,
                 trust_anchors: Optional[Iterable[PathLike]] = None,
                 time_mode: str = "strict",
                 collateral_ttl: Optional[float] = None) -> None:
        self._v: Any = ffi.NULL
        self._source: Any = ffi.NULL
        self._anchors: Any = ffi.NULL
        self._lock = threading.Condition()
        self._active = 0
        self._closed = False
        if time_mode == "strict":
            mode = lib.VT_TIME_STRICT
        elif time_mode == "expiry-only":
            mode = lib.VT_TIME_EXPIRY_ONLY
        else:
            raise ValueError(f"time_mode: {time_mode!r} is neither 'strict' nor 'expiry-only'")
        if collateral_ttl is None:
            ttl = 0
        elif collateral_ttl == math.inf:
            ttl = lib.VT_VERIFIER_TTL_FOREVER
        elif collateral_ttl > 0 and math.isfinite(collateral_ttl):
            ttl = int(collateral_ttl)
        else:
            raise ValueError(f"collateral_ttl: {collateral_ttl!r} is not a positive number of "
                             "seconds")
        d = new_diag()
        try:
            if collateral is not None:
                src = ffi.new("struct vt_collateral_source **")
                check(lib.vt_collateral_source_open(os.fsencode(collateral), src, d), d)
                self._source = src[0]
            anchors = [os.fsencode(a) for a in (trust_anchors or [])]
            if anchors:
                keep = [ffi.new("char[]", a) for a in anchors]
                files = ffi.new("const char *[]", keep + [ffi.NULL])
                out = ffi.new("struct vt_cert_list **")
                check(lib.vt_trust_anchors_load(files, out, d), d)
                self._anchors = out[0]
            cfg = ffi.new("struct vt_verifier_config *")
            cfg.trust_anchors = self._anchors
            cfg.collateral = self._source
            cfg.time_mode = mode
            cfg.collateral_ttl = ttl
            v = ffi.new("struct vt_verifier **")
            check(lib.vt_verifier_new(cfg, v, d), d)
            self._v = v[0]
        except BaseException:
            self._free()
            raise

    def _free(self) -> None:
        lib.vt_verifier_free(self._v)
        self._v = ffi.NULL
        lib.vt_collateral_source_free(self._source)
        self._source = ffi.NULL
        lib.vt_trust_anchors_free(self._anchors)
        self._anchors = ffi.NULL

    def close(self) -> None:
        """Free the verifier once the verifications in progress have returned. Idempotent."""
        with self._lock:
            self._closed = True
            while self._active:
                self._lock.wait()
            self._free()

    def __enter__(self) -> "Verifier":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        if getattr(self, "_lock", None) is not None and not self._active:
            self._free()

    def verify(self, evidence: Union[BytesLike, PathLike], *, at: TimeLike = None,
               nonce: Union[BytesLike, str, None] = None, max_age: Optional[int] = None,
               report_data: Union[BytesLike, str, None] = None,
               vek: Union[BytesLike, PathLike, None] = None,
               cert_chain: Union[BytesLike, PathLike, None] = None,
               crl: Union[BytesLike, PathLike, None] = None,
               raise_errors: bool = True) -> Result:
        """Verify one piece of evidence and return its claims.

        Args:
            evidence: the evidence as bytes (binary, or hex or base64 text as ``veritee
                verify`` accepts it), or the path of a file holding it.
            at: the verification time (see ``to_epoch``); default now.
            nonce: Nitro: the document's nonce must equal these bytes (bytes or hex).
            max_age: Nitro: the document's timestamp may be at most this many seconds before
                ``at``.
            report_data: SGX, TDX, SEV-SNP: REPORT_DATA must be these bytes (at most 64; bytes or
                hex) followed by zeros (VT_E_BINDING otherwise).
            vek: SEV-SNP: the VCEK or VLEK (DER or PEM; bytes or a path).
            cert_chain: SEV-SNP: ASK or ASVK then ARK (PEM; bytes or a path).
            crl: SEV-SNP: the AMD CRL (DER or PEM; bytes or a path).
            raise_errors: False: a failed verification returns a Result with ``verified``
                False and the error in ``error`` instead of raising.

        Returns:
            The Result: ``verified``, ``status``, ``advisory_ids``, ``claims``, ...

        Raises:
            VeriteeError: a check failed (``code``, ``check``, ``detail`` say which and why).
        """
        if isinstance(evidence, (bytes, bytearray, memoryview)):
            data: Any = evidence
        else:
            data = _bytes_arg("evidence", evidence, 2 * lib.VT_MAX_EVIDENCE_SIZE)
        now = to_epoch(at)
        nonce_b = _hexbytes("nonce", nonce)
        rd = _hexbytes("report_data", report_data)
        if rd is not None and len(rd) > 64:
            raise ValueError(f"report_data: {len(rd)} bytes, at most 64")
        files = [_bytes_arg("vek", vek), _bytes_arg("cert_chain", cert_chain),
                 _bytes_arg("crl", crl)]
        opts = ffi.new("struct vt_verify_opts *")
        opts.now = now
        keep = []
        if nonce_b is not None:
            keep.append(ffi.from_buffer("uint8_t[]", nonce_b))
            opts.nonce = keep[-1]
            opts.nonce_len = len(nonce_b)
        if max_age is not None:
            if isinstance(max_age, bool) or int(max_age) < 0:
                raise ValueError(f"max_age: {max_age!r} is not a number of seconds")
            opts.has_max_age = True
            opts.max_age = int(max_age)
        if rd is not None:
            keep.append(ffi.from_buffer("uint8_t[]", rd))
            opts.expect_report_data = keep[-1]
            opts.expect_report_data_len = len(rd)
        for f, ptr, ln in zip(files, ("vek", "snp_chain", "snp_crl"),
                              ("vek_len", "snp_chain_len", "snp_crl_len")):
            if f is not None:
                keep.append(ffi.from_buffer("uint8_t[]", f))
                setattr(opts, ptr, keep[-1])
                setattr(opts, ln, len(f))
        buf = ffi.from_buffer("uint8_t[]", data)
        n = len(buf)
        kind = lib.vt_evidence_detect(buf, n)
        d = new_diag()
        tbuf = None
        if kind == lib.VT_EVIDENCE_UNKNOWN and n <= lib.VT_MAX_EVIDENCE_SIZE * 2:
            # Maybe text (hex, base64): decoded as the command line decodes it.
            tbuf = ffi.new("struct vt_buf *")
            lib.vt_buf_init(tbuf, lib.VT_MAX_EVIDENCE_SIZE * 2)
            err = lib.vt_buf_append(tbuf, buf, n)
            if err == lib.VT_OK:
                err = lib.vt_evidence_decode_text(tbuf, d)
            if err != lib.VT_OK:
                lib.vt_buf_cleanup(tbuf)
                return self._fail("unknown", error_from_diag(err, d), raise_errors)
            buf, n = tbuf.data, tbuf.len
            kind = lib.vt_evidence_detect(buf, n)
        evidence_type = ffi.string(lib.vt_evidence_kind_name(kind)).decode()
        claims = ffi.new("struct vt_claims *")
        with self._lock:
            if self._closed:
                if tbuf is not None:
                    lib.vt_buf_cleanup(tbuf)
                raise VeriteeError(lib.VT_E_STATE, "verifier", "the verifier is closed")
            self._active += 1
        try:
            err = lib.vt_verify(self._v, buf, n, opts, claims, d)
        finally:
            with self._lock:
                self._active -= 1
                if not self._active:
                    self._lock.notify_all()
            if tbuf is not None:
                lib.vt_buf_cleanup(tbuf)
        if err != lib.VT_OK:
            return self._fail(evidence_type, error_from_diag(err, d), raise_errors)
        return Result(evidence_type, claims)

    @staticmethod
    def _fail(evidence_type: str, e: VeriteeError, raise_errors: bool) -> Result:
        if raise_errors:
            raise e
        return Result(evidence_type, None, e)


def verify(evidence: Union[BytesLike, PathLike], *, collateral: Optional[PathLike] = None,
           at: TimeLike = None, nonce: Union[BytesLike, str, None] = None,
           trust_anchors: Optional[Iterable[PathLike]] = None, max_age: Optional[int] = None,
           report_data: Union[BytesLike, str, None] = None,
           vek: Union[BytesLike, PathLike, None] = None,
           cert_chain: Union[BytesLike, PathLike, None] = None,
           crl: Union[BytesLike, PathLike, None] = None, time_mode: str = "strict",
           raise_errors: bool = True) -> Result:
    """Verify one piece of evidence with a verifier made for it (as ``veritee verify`` does).

    For many verifications keep a ``Verifier``: it caches collateral and chains. The arguments
    are those of ``Verifier`` and ``Verifier.verify``; ``collateral`` is a directory or an
    http(s):// URL, ``at`` a datetime, unix seconds or an RFC 3339 string.

    Raises:
        VeriteeError: a check failed, or the collateral source or a trust anchor cannot be
            opened.
    """
    with Verifier(collateral=collateral, trust_anchors=trust_anchors, time_mode=time_mode,
                  collateral_ttl=math.inf) as v:
        return v.verify(evidence, at=at, nonce=nonce, max_age=max_age, report_data=report_data,
                        vek=vek, cert_chain=cert_chain, crl=crl, raise_errors=raise_errors)
