"""Policies: ``vt_policy_*`` (include/veritee/policy.h, docs/policy.md)."""

from __future__ import annotations

import json
import os
from typing import Any, Mapping, Optional, Union

from ._errors import VeriteeError, check, new_diag
from ._native import ffi, lib
from ._verify import Result

__all__ = ["Policy", "PolicyResult", "claim_type", "check_claims"]


class PolicyResult:
    """The verdict of a policy evaluation (never an error).

    Attributes:
        allowed: the policy allows the claims.
        reason: why a denial: ``"debug"``, ``"status"`` or the path of the first failing rule
            (``"rules.allOf[1]"``); ``""`` when allowed.
        explanation: one dict per evaluated check in document order (``path``, ``outcome``,
            ``op``, and for claim tests ``claim``, ``expected``, ``actual``, ``present``).
    """

    __slots__ = ("allowed", "reason", "explanation")

    def __init__(self, allowed: bool, reason: str, explanation: list[dict[str, Any]]) -> None:
        self.allowed = allowed
        self.reason = reason
        self.explanation = explanation

    def __bool__(self) -> bool:
        return self.allowed

    def __repr__(self) -> str:
        return f"PolicyResult(allowed={self.allowed!r}, reason={self.reason!r})"


ClaimsLike = Union[Result, Mapping[str, Any], str, bytes]


class Policy:
    """A compiled attestation or release policy (immutable; usable from several threads).

    Args:
        source: the policy as JSON text (str or bytes) or as a dict.

    Raises:
        VeriteeError: the policy does not compile; ``check`` is the JSON path of the problem
            (``"rules.allOf[2].claim"``), ``detail`` states it.
    """

    def __init__(self, source: Union[str, bytes, Mapping[str, Any]]) -> None:
        self._p: Any = ffi.NULL
        if isinstance(source, Mapping):
            raw = json.dumps(source).encode()
        elif isinstance(source, str):
            raw = source.encode()
        elif isinstance(source, (bytes, bytearray, memoryview)):
            raw = bytes(source)
        else:
            raise TypeError(f"policy: expected JSON text or a dict, not {type(source).__name__}")
        out = ffi.new("struct vt_policy **")
        d = new_diag()
        check(lib.vt_policy_compile(raw, len(raw), out, d), d)
        self._p = out[0]

    @classmethod
    def from_file(cls, path: Union[str, "os.PathLike[str]"]) -> "Policy":
        """Compile the policy in a file."""
        with open(path, "rb") as f:
            return cls(f.read(lib.VT_POLICY_MAX_SIZE + 1))

    def __del__(self) -> None:
        p = getattr(self, "_p", ffi.NULL)
        if p != ffi.NULL:
            lib.vt_policy_free(p)
            self._p = ffi.NULL

    @property
    def digest(self) -> bytes:
        """SHA-256 of the exact policy bytes compiled (the ``policy_sha256`` of receipts)."""
        out = ffi.new("uint8_t[32]")
        lib.vt_policy_digest(self._p, out)
        return bytes(ffi.buffer(out))

    def evaluate(self, claims: ClaimsLike) -> PolicyResult:
        """Evaluate the policy on the claims of a verification.

        Args:
            claims: a verified ``Result`` (evaluated on its typed claims, no JSON involved), or
                claims as a dict or JSON text (as ``Result.claims`` or a token carry them).

        Returns:
            The verdict with its rule-by-rule explanation.

        Raises:
            VeriteeError: the claims are not a JSON object, a Result that did not verify, or no
                memory (errors, never verdicts).
        """
        r = ffi.new("struct vt_policy_result *")
        d = new_diag()
        if isinstance(claims, Result):
            if not claims.verified or claims._claims is None:
                raise VeriteeError(lib.VT_E_ARG, "policy.claims",
                                   "the verification failed: there are no claims to evaluate")
            err = lib.vt_policy_eval_claims(self._p, claims._claims, r, d)
        else:
            if isinstance(claims, Mapping):
                raw = json.dumps(claims).encode()
            elif isinstance(claims, str):
                raw = claims.encode()
            elif isinstance(claims, (bytes, bytearray)):
                raw = bytes(claims)
            else:
                raise TypeError(f"claims: expected a Result, a dict or JSON text, not "
                                f"{type(claims).__name__}")
            err = lib.vt_policy_eval(self._p, raw, len(raw), r, d)
        try:
            check(err, d)
            expl = json.loads(ffi.string(r.explanation).decode()) if r.explanation else []
            return PolicyResult(bool(r.allowed), ffi.string(r.reason).decode(), expl)
        finally:
            lib.vt_policy_result_cleanup(r)


def claim_type(name: str) -> Optional[str]:
    """The type policies see for a claim name (``"hex"``, ``"enum"``, ``"integer"``, ...), or
    None for a name the library never emits."""
    t = lib.vt_policy_claim_type(name.encode())
    return None if t == ffi.NULL else ffi.string(t).decode()


def check_claims(claims: Union[Mapping[str, Any], str, bytes]) -> None:
    """Check claims against the registry: every name known, every value of its type.

    Raises:
        VeriteeError: VT_E_BAD_FIELD with ``check`` the offending claim name, or VT_E_BAD_JSON.
    """
    raw = json.dumps(claims).encode() if isinstance(claims, Mapping) else (
        claims.encode() if isinstance(claims, str) else bytes(claims))
    d = new_diag()
    check(lib.vt_policy_claims_check(raw, len(raw), d), d)
