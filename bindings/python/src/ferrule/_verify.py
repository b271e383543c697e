"""Standalone X.509 path validation: :func:`verify_chain`
(``ferrule_verify_chain``, libferrule's docs/x509.md).

The same engine and rules as the handshake's certificate check, outside a
connection: path building from the leaf through untrusted intermediates (in
any order) to a trust anchor of a configuration, validity at a given time,
the service name, the purpose (EKU), depth, and revocation against CRLs
(which the handshake does not do).  Failures raise like the rest of the
binding: :class:`CertificateError` with ``reason`` ("cert_expired",
"cert_unknown_issuer", "cert_revoked", ...).
"""

from __future__ import annotations

import datetime
import os
from typing import Iterable, List, Optional, Union

from . import _ffi
from ._config import ClientConfig, ServerConfig, _Config
from ._errors import CertificateError, UsageError, _make_error

__all__ = ["verify_chain"]

_PURPOSES = {"server": _ffi.FERRULE_PURPOSE_SERVER_AUTH,
             "client": _ffi.FERRULE_PURPOSE_CLIENT_AUTH}
# libferrule's limit (docs/x509.md: path below the anchor, leaf included).
_MAX_DEPTH = 32

BytesLike = Union[bytes, bytearray, memoryview]
PathLike = Union[str, "os.PathLike[str]"]


def _usage(message: str) -> UsageError:
    return UsageError(f"verify_chain: {message}", reason_code=_ffi.FERRULE_R_CONFIG_INVALID,
                      status=_ffi.FERRULE_USAGE)


def _der_list(items: Iterable[BytesLike], what: str) -> List[BytesLike]:
    if isinstance(items, (bytes, bytearray, memoryview, str)):
        raise TypeError(f"{what} must be a list of DER byte strings, not a single "
                        f"{type(items).__name__}")
    out = list(items)
    for i, der in enumerate(out):
        if not isinstance(der, (bytes, bytearray, memoryview)):
            raise TypeError(f"{what}[{i}] must be DER bytes, not {type(der).__name__}")
        if len(der) == 0:
            raise _usage(f"{what}[{i}] is empty")
    return out


def _epoch(at_time: Union[int, float, datetime.datetime]) -> int:
    if isinstance(at_time, datetime.datetime):
        if at_time.tzinfo is None:
            raise ValueError("at_time: a naive datetime is ambiguous; give it a tzinfo "
                             "(datetime.timezone.utc)")
        return int(at_time.timestamp() // 1)
    if isinstance(at_time, bool) or not isinstance(at_time, (int, float)):
        raise TypeError("at_time must be seconds since the epoch (int or float) or an aware "
                        f"datetime, not {type(at_time).__name__}")
    t = int(at_time // 1)  # floor, as x509-limbo's harness does
    if not -(1 << 63) <= t < (1 << 63):
        raise OverflowError("at_time does not fit in int64")
    return t


def verify_chain(chain: Iterable[BytesLike], *,
                 config: Optional[Union[ClientConfig, ServerConfig]] = None,
                 cafile: Optional[PathLike] = None,
                 capath: Optional[PathLike] = None,
                 cadata: Optional[Union[str, bytes]] = None,
                 purpose: str = "server",
                 hostname: Optional[str] = None,
                 at_time: Optional[Union[int, float, datetime.datetime]] = None,
                 max_depth: Optional[int] = None,
                 crls: Optional[Iterable[BytesLike]] = None) -> List[bytes]:
    """Validate `chain` (DER certificates: the leaf first, then untrusted
    intermediates in any order) and return the validated path as a list of
    DER certificates, leaf first, trust anchor last.

    Trust anchors: those of `config` (a ClientConfig or ServerConfig, whose
    ``clock`` and ``max_chain_depth`` also apply; the config is not frozen by
    the call), or of ``cafile`` / ``capath`` / ``cadata`` as in
    :class:`ClientConfig` (none of them: the system's CA bundle).

    ``purpose``: "server" (serverAuth) or "client" (clientAuth).
    ``hostname``: the DNS name or IP address the leaf must be valid for
    (None: no name check).  ``at_time``: validate at this moment (seconds
    since the epoch or an aware datetime) instead of now.  ``max_depth``:
    the longest path below the anchor, leaf included (1..32).  ``crls``: DER
    CRLs; a certificate whose issuer published one of them is checked
    against it, and a CRL that applies but is invalid or not current fails
    the validation (no CRLs: no revocation checking).

    Raises :class:`CertificateError` when the chain is not valid, its
    ``reason`` saying why ("cert_unknown_issuer", "cert_expired",
    "cert_name_mismatch", "cert_revoked", "cert_malformed", ...); a bad
    argument raises :class:`UsageError` (a ValueError) or TypeError.
    """
    certs = _der_list(chain, "chain")
    if not certs:
        raise _usage("chain is empty (the leaf comes first)")
    crl_list = _der_list(crls, "crls") if crls is not None else None
    try:
        purpose_code = _PURPOSES[purpose]
    except (KeyError, TypeError):
        raise _usage(f"purpose must be 'server' or 'client', not {purpose!r}") from None
    if hostname is not None and not isinstance(hostname, str):
        raise TypeError(f"hostname must be a str or None, not {type(hostname).__name__}")
    depth = 0
    if max_depth is not None:
        if isinstance(max_depth, bool) or not isinstance(max_depth, int):
            raise TypeError("max_depth must be an int")
        if not 1 <= max_depth <= _MAX_DEPTH:
            raise _usage(f"max_depth must be 1..{_MAX_DEPTH}, not {max_depth}")
        depth = max_depth
    when = _epoch(at_time) if at_time is not None else 0

    if config is not None:
        if not isinstance(config, _Config):
            raise TypeError("config must be a ferrule.ClientConfig or ServerConfig")
        if cafile is not None or capath is not None or cadata is not None:
            raise _usage("give either config= or cafile/capath/cadata, not both")
        cfg_obj = config
    else:
        cfg_obj = ClientConfig(cafile=cafile, capath=capath, cadata=cadata)

    status, reason, path = _ffi.fpy_verify_chain(
        cfg_obj._cfg, certs, purpose_code, at_time is not None, when, depth, hostname,
        crl_list)
    if status == _ffi.FERRULE_OK:
        return path
    err = _make_error(status, reason, -1, "ferrule_verify_chain")
    if isinstance(err, CertificateError) or status != _ffi.FERRULE_USAGE:
        raise err
    raise _usage("the library refused the arguments")
