"""Callbacks: the ClientHello view of the server selection callbacks, their
special results, the 0-RTT accept callback's argument, and the argument of
the certificate verification callback (both roles).

The C trampolines live in _ffi.i; this module adapts the application's
callables to them.  An exception raised by a selection callback refuses the
handshake; the handshake's ferrule error then carries it as ``__cause__``.
An exception raised by ``accept_early_data`` or a replay store refuses the
0-RTT only (the handshake continues in 1-RTT) and is reported through
:func:`sys.unraisablehook`.  ``verify_callback`` can only reject: anything
but True (False, another object, an exception) fails the handshake with
reason cert_rejected, an exception as the error's ``__cause__``.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, FrozenSet, List, NamedTuple, Optional, Union

from . import _ffi, _peercert
from ._errors import UsageError

__all__ = ["ClientHello", "EarlyDataInfo", "VerifyInfo", "REFUSE", "UNRECOGNIZED_NAME",
           "NO_ALPN"]


class _Result:
    """A special result of a selection callback (see the constants)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"ferrule.{self.name}"


#: select_certificate: refuse with handshake_failure; select_alpn: refuse
#: with no_application_protocol.
REFUSE = _Result("REFUSE")
#: select_certificate: refuse with unrecognized_name (RFC 6066 §3).
UNRECOGNIZED_NAME = _Result("UNRECOGNIZED_NAME")
#: select_alpn: continue without ALPN.
NO_ALPN = _Result("NO_ALPN")

_FIT = ((_ffi.FERRULE_CHAIN_FIT_KEY, "key"), (_ffi.FERRULE_CHAIN_FIT_NAME, "name"),
        (_ffi.FERRULE_CHAIN_FIT_CERT_SIGS, "cert_sigs"))


class ClientHello:
    """Read-only view of the ClientHello given to ``select_certificate`` and
    ``select_alpn``.  It is valid only during the call: afterwards every
    attribute raises :class:`UsageError` (copy what you need).

    ``server_name`` (str or None), ``signature_schemes``,
    ``signature_schemes_cert``, ``cipher_suites`` (lists of IANA code points
    as sent, GREASE and unknown values included), ``alpn_protocols`` (list
    of bytes, the client's order), ``selected_alpn`` (bytes or None: in
    ``select_certificate``, the protocol already chosen), ``chain_fit(i)``.
    """

    __slots__ = ("_ptr", "_selected_alpn")

    def __init__(self, ptr: Any, selected_alpn: Optional[bytes] = None) -> None:
        self._ptr = ptr
        self._selected_alpn = selected_alpn

    def _live(self) -> Any:
        if self._ptr is None:
            raise UsageError("ClientHello used after its callback returned (the view is valid "
                             "only during the call: copy what you need)",
                             reason_code=_ffi.FERRULE_R_WRONG_STATE, status=_ffi.FERRULE_USAGE)
        return self._ptr

    def _invalidate(self) -> None:
        self._ptr = None

    @property
    def server_name(self) -> Optional[str]:
        """The SNI host name as sent (compare case-insensitively), or None."""
        return _ffi.ferrule_client_hello_server_name(self._live())

    @property
    def signature_schemes(self) -> List[int]:
        return _ffi.fpy_hello_list(self._live(), 0)

    @property
    def signature_schemes_cert(self) -> List[int]:
        """signature_algorithms_cert, or signature_algorithms without it."""
        return _ffi.fpy_hello_list(self._live(), 1)

    @property
    def cipher_suites(self) -> List[int]:
        return _ffi.fpy_hello_list(self._live(), 2)

    @property
    def alpn_protocols(self) -> List[bytes]:
        return _ffi.fpy_hello_alpn(self._live())

    @property
    def selected_alpn(self) -> Optional[bytes]:
        self._live()
        return self._selected_alpn

    def chain_fit(self, index: int) -> FrozenSet[str]:
        """How chain `index` (order of the config's certificates) suits this
        hello: a subset of {"key", "name", "cert_sigs"}; "key" means usable
        (its key can sign a scheme the client offered)."""
        bits = _ffi.ferrule_client_hello_chain_fit(self._live(), index)
        return frozenset(name for bit, name in _FIT if bits & bit)

    def __repr__(self) -> str:
        if self._ptr is None:
            return "<ferrule.ClientHello (expired)>"
        return f"<ferrule.ClientHello server_name={self.server_name!r}>"


class EarlyDataInfo(NamedTuple):
    """What ``accept_early_data`` sees of the connection."""
    server_name: Optional[str]
    alpn_protocol: Optional[str]


def cert_select_entry(user: Callable[[ClientHello], Any]) -> Callable[[Any, Optional[bytes]], int]:
    """Adapt select_certificate(hello) -> index | None | REFUSE |
    UNRECOGNIZED_NAME to the trampoline's int protocol."""

    def entry(ptr: Any, selected_alpn: Optional[bytes]) -> int:
        hello = ClientHello(ptr, selected_alpn)
        try:
            r = user(hello)
        finally:
            hello._invalidate()
        if r is None:
            return _ffi.FERRULE_CERT_SELECT_DEFAULT
        if r is REFUSE:
            return _ffi.FERRULE_CERT_SELECT_REFUSE
        if r is UNRECOGNIZED_NAME:
            return _ffi.FERRULE_CERT_SELECT_UNRECOGNIZED_NAME
        if isinstance(r, bool) or not isinstance(r, int):
            raise TypeError("select_certificate must return a chain index, None, "
                            f"ferrule.REFUSE or ferrule.UNRECOGNIZED_NAME, not {r!r}")
        if r < 0:
            raise ValueError(f"select_certificate: chain index {r} is negative")
        return r
    return entry


def alpn_select_entry(user: Callable[[ClientHello], Any]) -> Callable[[Any], Union[bytes, int]]:
    """Adapt select_alpn(hello) -> bytes | str | None | NO_ALPN | REFUSE."""

    def entry(ptr: Any) -> Union[bytes, int]:
        hello = ClientHello(ptr)
        try:
            r = user(hello)
        finally:
            hello._invalidate()
        if r is None:
            return _ffi.FERRULE_ALPN_DEFAULT
        if r is NO_ALPN:
            return _ffi.FERRULE_ALPN_NONE
        if r is REFUSE:
            return _ffi.FERRULE_ALPN_NO_OVERLAP
        if isinstance(r, str):
            return r.encode("ascii")
        if isinstance(r, (bytes, bytearray, memoryview)):
            return bytes(r)
        raise TypeError("select_alpn must return bytes, str, None, ferrule.NO_ALPN or "
                        f"ferrule.REFUSE, not {r!r}")
    return entry


def accept_entry(user: Callable[[EarlyDataInfo], Any]) -> Callable[[Optional[str], bytes], bool]:
    def entry(server_name: Optional[str], alpn: bytes) -> bool:
        info = EarlyDataInfo(server_name, alpn.decode("ascii", "replace") if alpn else None)
        return bool(user(info))
    return entry


class VerifyInfo(NamedTuple):
    """What ``verify_callback`` sees: the peer's chain, already accepted by
    libferrule's own checks (path, validity, name, purpose, OCSP policy).
    A copy: it stays valid after the call."""
    #: True on a server (the peer is a client presenting a certificate).
    server_side: bool
    #: The SNI name (client: the one we sent and checked; server: received).
    server_name: Optional[str]
    #: The ALPN protocol negotiated so far, or None.
    alpn_protocol: Optional[str]
    #: The chain as the peer sent it (DER, leaf first).
    peer_chain: List[bytes]
    #: The validated path (DER, leaf first, trust anchor last).
    verified_chain: List[bytes]

    def getpeercert(self, binary_form: bool = False) -> Union[bytes, Dict[str, Any]]:
        """The leaf as :meth:`ssl.SSLSocket.getpeercert` shows it (the DER
        with ``binary_form=True``)."""
        leaf = self.verified_chain[0]
        return leaf if binary_form else _peercert.decode_certificate(leaf)


def verify_entry(user: Callable[[VerifyInfo], Any]) -> Callable[[Any, Any], bool]:
    """Adapt verify_callback(info) -> bool to the trampoline (which accepts
    on True only)."""

    def entry(conn: Any, result: Any) -> bool:
        alpn = _ffi.ferrule_conn_alpn(conn)
        info = VerifyInfo(
            server_side=_ffi.ferrule_conn_role(conn) == _ffi.FERRULE_ROLE_SERVER,
            server_name=_ffi.ferrule_conn_server_name(conn),
            alpn_protocol=alpn.decode("ascii", "replace") if alpn else None,
            peer_chain=[_ffi.ferrule_conn_peer_cert(conn, i)
                        for i in range(_ffi.ferrule_conn_peer_cert_count(conn))],
            verified_chain=_ffi.fpy_verify_path(result))
        r = user(info)
        if not isinstance(r, bool):
            raise TypeError(f"verify_callback must return True or False, not {r!r}")
        return r
    return entry
