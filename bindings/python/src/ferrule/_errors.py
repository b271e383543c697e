"""Exceptions of the ferrule binding.

Every failure of the library is a :class:`Error`; the status class of the
C API chooses the subclass (FERRULE_CERTIFICATE -> CertificateError, ...).
The low-level module raises these classes directly through
:func:`_make_error`, with the handle's reason, alert and message.
"""

from __future__ import annotations

from typing import Dict, Optional, Type

from . import _ffi

__all__ = [
    "Error", "WantRead", "WantWrite", "Closed", "Truncated", "AlertSent",
    "DecodeError", "AlertReceived", "CertificateError", "PolicyError",
    "UsageError", "InternalError",
]


def _alert_name(alert: Optional[int]) -> Optional[str]:
    if alert is None or alert < 0:
        return None
    return _ffi.ferrule_alert_name(alert) or f"alert_{alert}"


class Error(Exception):
    """A ferrule failure.

    Attributes: ``status`` (the FERRULE_* status class, an int),
    ``status_name`` ("alert-sent", ...), ``reason`` (the FERRULE_R_* name,
    e.g. "cert_expired", or None), ``reason_code`` (its number), ``alert``
    (the TLS alert number sent or received, or None), ``alert_name``.
    """

    status: int = -1

    def __init__(self, message: str, *, reason_code: int = 0, alert: Optional[int] = None,
                 status: Optional[int] = None) -> None:
        super().__init__(message)
        if status is not None:
            self.status = status
        self.reason_code = reason_code
        self.reason: Optional[str] = _ffi.ferrule_reason_name(reason_code) if reason_code else None
        self.alert: Optional[int] = alert if alert is not None and alert >= 0 else None
        self.alert_name: Optional[str] = _alert_name(self.alert)

    @property
    def status_name(self) -> str:
        return _ffi.ferrule_status_name(self.status)


class WantRead(Error):
    """More bytes from the peer are needed (feed them, then call again)."""
    status = _ffi.FERRULE_WANT_READ


class WantWrite(Error):
    """Pending output must be sent first (bytes_to_send())."""
    status = _ffi.FERRULE_WANT_WRITE


class Closed(Error):
    """The peer sent close_notify (or the connection was closed)."""
    status = _ffi.FERRULE_CLOSED


class Truncated(Error):
    """The transport ended without close_notify: the data may be cut short."""
    status = _ffi.FERRULE_TRUNCATED


class AlertSent(Error):
    """The peer violated the protocol; we sent the fatal alert ``alert``."""
    status = _ffi.FERRULE_ALERT_SENT


class DecodeError(AlertSent):
    """The peer sent malformed bytes; we sent the fatal alert ``alert``."""
    status = _ffi.FERRULE_DECODE


class AlertReceived(Error):
    """The peer sent the fatal alert ``alert``."""
    status = _ffi.FERRULE_ALERT_RECEIVED


class CertificateError(Error):
    """Certificate verification failed; ``reason`` says why
    ("cert_expired", "cert_name_mismatch", ...)."""
    status = _ffi.FERRULE_CERTIFICATE


class PolicyError(Error):
    """Local policy refused: no common parameters, memory ceiling."""
    status = _ffi.FERRULE_POLICY


class UsageError(Error, ValueError):
    """API misuse: wrong order, bad argument, frozen configuration."""
    status = _ffi.FERRULE_USAGE


class InternalError(Error):
    """Allocation or crypto library failure."""
    status = _ffi.FERRULE_INTERNAL


_BY_STATUS: Dict[int, Type[Error]] = {
    cls.status: cls for cls in (WantRead, WantWrite, Closed, Truncated, AlertSent, DecodeError,
                                AlertReceived, CertificateError, PolicyError, UsageError,
                                InternalError)
}


def _message(status: int, reason_code: int, alert: Optional[int], where: str) -> str:
    parts = [f"{where}: {_ffi.ferrule_status_name(status)}"]
    if reason_code:
        parts.append(f" ({_ffi.ferrule_reason_name(reason_code)}): "
                     f"{_ffi.ferrule_reason_message(reason_code)}")
    if alert is not None and alert >= 0 and status in (
            _ffi.FERRULE_ALERT_SENT, _ffi.FERRULE_DECODE, _ffi.FERRULE_CERTIFICATE,
            _ffi.FERRULE_ALERT_RECEIVED, _ffi.FERRULE_POLICY):
        way = "received" if status == _ffi.FERRULE_ALERT_RECEIVED else "sent"
        parts.append(f"; alert {_alert_name(alert)}({alert}) {way}")
    return "".join(parts)


def _make_error(status: int, reason_code: int, alert: int, where: str) -> Error:
    """Build the exception for a status class (called by the C module)."""
    cls = _BY_STATUS.get(status, Error)
    if status in (_ffi.FERRULE_WANT_READ, _ffi.FERRULE_WANT_WRITE):
        # The handle's reason belongs to an earlier failure, not to this.
        reason_code, alert = 0, -1
    if status == _ffi.FERRULE_USAGE or status == _ffi.FERRULE_INTERNAL:
        alert = -1
    return cls(_message(status, reason_code, alert, where), reason_code=reason_code,
               alert=alert, status=status)


_ffi.fpy_set_error_factory(_make_error)
