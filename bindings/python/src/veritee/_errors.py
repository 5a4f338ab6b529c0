"""Errors of libveritee as Python exceptions."""

from __future__ import annotations

from typing import Any

from ._native import ffi, lib

__all__ = ["VeriteeError", "BrokerRefused"]


class VeriteeError(Exception):
    """A failed check or operation of libveritee.

    Attributes:
        code: the symbolic name of the error, e.g. ``"VT_E_EXPIRED"`` (``vt_err_name``).
        number: its stable number, e.g. ``701``.
        category: ``"usage"``, ``"malformed"``, ``"chain"``, ``"validity"``, ... (``vt_err_category``).
        message: the generic message of the code (``vt_strerror``).
        check: the stable name of the check that failed, e.g. ``"pck_crl.issuer"``.
        detail: the values involved, as the library states them.
    """

    def __init__(self, number: int, check: str = "", detail: str = "") -> None:
        self.number = int(number)
        self.code: str = ffi.string(lib.vt_err_name(number)).decode()
        self.category: str = ffi.string(lib.vt_err_category(number)).decode()
        self.message: str = ffi.string(lib.vt_strerror(number)).decode()
        self.check = check
        self.detail = detail
        text = f"{self.code}: {self.check}: {self.detail}" if check else f"{self.code}: {detail}"
        super().__init__(text)

    def to_dict(self) -> dict[str, Any]:
        """The error as ``veritee verify`` prints it (``"error"`` member)."""
        return {"code": self.code, "number": self.number, "category": self.category,
                "message": self.message, "check": self.check, "detail": self.detail}


class BrokerRefused(VeriteeError):
    """The broker refused a request (attest, release).

    Attributes (besides VeriteeError's):
        http_status: the HTTP status the broker answered (401, 403 for a policy's denial, 400,
            404, ...); 0 when no answer was received.
        reason: the broker's reason id, e.g. ``"policy"`` or ``"binding"``.
    """

    def __init__(self, number: int, check: str, detail: str, http_status: int,
                 reason: str) -> None:
        super().__init__(number, check, detail)
        self.http_status = http_status
        self.reason = reason


def _text(chars: Any) -> str:
    return ffi.string(chars).decode("utf-8", "replace")


def error_from_diag(err: int, d: Any) -> VeriteeError:
    """The exception for a return code and its ``struct vt_diag``."""
    if d is None:
        return VeriteeError(err)
    return VeriteeError(err, _text(d.check), _text(d.detail))


def check(err: int, d: Any) -> None:
    """Raise the error of a failed call; nothing for VT_OK."""
    if err != lib.VT_OK:
        raise error_from_diag(err, d)


def new_diag() -> Any:
    d = ffi.new("struct vt_diag *")
    lib.vt_diag_init(d)
    return d
