"""ferrule.SSLContext: a drop-in ssl.SSLContext backed by libferrule.

:class:`SSLContext` subclasses :class:`ssl.SSLContext`, so libraries that
check ``isinstance(ctx, ssl.SSLContext)`` accept it.  Every public member of
the stdlib class is overridden here (bindings/python/SSLCONTEXT.md lists
each one: supported, mapped onto ferrule's configuration, or refused with
:class:`Unsupported`); the OpenSSL context of the base object is never
configured and never used.  The settings are kept in Python and turned into
a :class:`ferrule.ClientConfig` / :class:`ferrule.ServerConfig` when a
connection is made; a setting changed later applies to later connections.

:meth:`SSLContext.wrap_bio` returns an :class:`SSLObject` (a subclass of
:class:`ssl.SSLObject`) driving the stdlib's own :class:`ssl.MemoryBIO`
objects, which is what asyncio's SSLProtocol and anyio use.
:meth:`SSLContext.wrap_socket` returns an :class:`SSLSocket` (a subclass of
:class:`ssl.SSLSocket`) doing blocking (or non-blocking) I/O on the socket,
for http.client, urllib3 and httpcore's sync backend.

Errors are subclasses of the matching ssl exceptions.
"""

from __future__ import annotations

import base64
import os
import socket
import ssl
import sys
import threading
from typing import Any, Dict, List, Optional, Tuple, Union

from . import _ffi
from ._callbacks import REFUSE, UNRECOGNIZED_NAME
from ._config import ClientConfig, ServerConfig
from ._connection import Connection
from ._errors import (AlertReceived, AlertSent, CertificateError, Closed, Error, Truncated,
                      UsageError, WantRead, WantWrite)

__all__ = ["SSLContext", "SSLObject", "SSLSocket", "SSLSession", "SSLError", "SSLWantReadError",
           "SSLWantWriteError", "SSLZeroReturnError", "SSLEOFError", "SSLCertVerificationError",
           "Unsupported", "create_default_context", "inject", "extract"]

Buffer = Union[bytes, bytearray, memoryview]

_SUITES = ("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256")
_SUITE_BITS = {"TLS_AES_128_GCM_SHA256": 128, "TLS_AES_256_GCM_SHA384": 256,
               "TLS_CHACHA20_POLY1305_SHA256": 256}


# ---- exceptions -------------------------------------------------------------------


class Unsupported(UsageError, NotImplementedError):
    """A stdlib SSLContext / SSLObject / SSLSocket feature that ferrule cannot
    honour (TLS 1.2, cipher strings, NPN, tls-unique, ...).  Raised instead of
    silently ignoring the request.  Also a ValueError and NotImplementedError."""

    def __init__(self, message: str) -> None:
        super().__init__(message, status=_ffi.FERRULE_USAGE)


class SSLError(ssl.SSLError):
    """A TLS failure, as the ssl module reports it.  ``reason`` and
    ``library`` are stdlib-style ("CERTIFICATE_VERIFY_FAILED", "ferrule");
    ``ferrule_error`` is the :class:`ferrule.Error` behind it (also the
    ``__cause__``), ``ferrule_reason`` its reason name ("cert_expired"),
    ``alert`` the TLS alert sent or received, or None."""

    ferrule_error: Optional[Error] = None
    ferrule_reason: Optional[str] = None
    alert: Optional[int] = None


class SSLWantReadError(SSLError, ssl.SSLWantReadError):
    """Non-blocking: more bytes from the peer are needed."""


class SSLWantWriteError(SSLError, ssl.SSLWantWriteError):
    """Non-blocking: the socket cannot take our output yet."""


class SSLZeroReturnError(SSLError, ssl.SSLZeroReturnError):
    """The peer closed the TLS connection (close_notify)."""


class SSLEOFError(SSLError, ssl.SSLEOFError):
    """The transport ended without close_notify (truncation)."""


class SSLCertVerificationError(SSLError, ssl.SSLCertVerificationError):
    """Certificate verification failed.  ``verify_code`` is the OpenSSL
    X509_V_ERR_* number of the equivalent failure (what the stdlib reports,
    1 = unspecified when there is none), ``verify_message`` ferrule's text."""

    verify_code: int = 1
    verify_message: str = ""


# ferrule reason -> OpenSSL X509_V_ERR_* (x509_vfy.h), for verify_code.
_X509_V_ERR = {
    "cert_expired": 10,             # X509_V_ERR_CERT_HAS_EXPIRED
    "cert_not_yet_valid": 9,        # X509_V_ERR_CERT_NOT_YET_VALID
    "cert_unknown_issuer": 20,      # X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY
    "cert_bad_signature": 7,        # X509_V_ERR_CERT_SIGNATURE_FAILURE
    "cert_name_mismatch": 62,       # X509_V_ERR_HOSTNAME_MISMATCH
    "cert_name_constraints": 47,    # X509_V_ERR_PERMITTED_VIOLATION
    "cert_path_length": 25,         # X509_V_ERR_PATH_LENGTH_EXCEEDED
    "cert_key_usage": 26,           # X509_V_ERR_INVALID_PURPOSE
    "cert_eku": 26,                 # X509_V_ERR_INVALID_PURPOSE
    "cert_revoked": 23,             # X509_V_ERR_CERT_REVOKED
    "cert_bad_ocsp": 74,            # X509_V_ERR_OCSP_VERIFY_FAILED
    "cert_ocsp_missing": 73,        # X509_V_ERR_OCSP_VERIFY_NEEDED
    "cert_weak_key": 66,            # X509_V_ERR_EE_KEY_TOO_SMALL
    "cert_not_ca": 24,              # X509_V_ERR_INVALID_CA
    "cert_rejected": 28,            # X509_V_ERR_CERT_REJECTED
    "cert_policy": 42,              # X509_V_ERR_INVALID_POLICY_EXTENSION
    "cert_chain_too_long": 22,      # X509_V_ERR_CERT_CHAIN_TOO_LONG
}


def _der_to_pem(data: bytes) -> bytes:
    """Concatenated DER certificates -> PEM (PEM input is returned as is)."""
    if data.lstrip().startswith(b"-----"):
        return data
    out, i = [], 0
    while i < len(data):
        if data[i] != 0x30 or i + 2 > len(data):
            raise ssl.SSLError("cadata: not a DER certificate (no SEQUENCE)")
        first = data[i + 1]
        if first < 0x80:
            hdr, length = 2, first
        else:
            nlen = first & 0x7F
            if not 1 <= nlen <= 4 or i + 2 + nlen > len(data):
                raise ssl.SSLError("cadata: bad DER length")
            hdr, length = 2 + nlen, int.from_bytes(data[i + 2:i + 2 + nlen], "big")
        end = i + hdr + length
        if end > len(data):
            raise ssl.SSLError("cadata: truncated DER certificate")
        b64 = base64.b64encode(data[i:end])
        lines = [b64[j:j + 64] for j in range(0, len(b64), 64)]
        out.append(b"-----BEGIN CERTIFICATE-----\n" + b"\n".join(lines)
                   + b"\n-----END CERTIFICATE-----\n")
        i = end
    if not out:
        raise ssl.SSLError("cadata: empty")
    return b"".join(out)


def _wrap(cls: type, errno: int, text: str, reason: Optional[str],
          cause: Optional[Error]) -> SSLError:
    exc = cls(errno, text)
    exc.reason = reason
    exc.library = "ferrule"
    exc.ferrule_error = cause
    if cause is not None:
        exc.ferrule_reason = cause.reason
        exc.alert = cause.alert
    return exc


def _translate(e: Error) -> BaseException:
    """The ssl-module exception for a ferrule error (UsageError stays)."""
    if isinstance(e, WantRead):
        return _wrap(SSLWantReadError, ssl.SSL_ERROR_WANT_READ,
                     "The operation did not complete (read)", None, e)
    if isinstance(e, WantWrite):
        return _wrap(SSLWantWriteError, ssl.SSL_ERROR_WANT_WRITE,
                     "The operation did not complete (write)", None, e)
    if isinstance(e, Closed):
        return _wrap(SSLZeroReturnError, ssl.SSL_ERROR_ZERO_RETURN,
                     "TLS/SSL connection has been closed (EOF)", "ZERO_RETURN", e)
    if isinstance(e, Truncated):
        return _wrap(SSLEOFError, ssl.SSL_ERROR_EOF,
                     f"EOF occurred in violation of protocol: {e}",
                     "UNEXPECTED_EOF_WHILE_READING", e)
    if isinstance(e, CertificateError):
        message = (_ffi.ferrule_reason_message(e.reason_code) if e.reason_code
                   else "certificate verify failed")
        exc = _wrap(SSLCertVerificationError, 1,
                    f"[ferrule: CERTIFICATE_VERIFY_FAILED] certificate verify failed: "
                    f"{message} ({e.reason})", "CERTIFICATE_VERIFY_FAILED", e)
        exc.verify_code = _X509_V_ERR.get(e.reason or "", 1)
        exc.verify_message = message
        return exc
    if isinstance(e, UsageError):
        return e
    if isinstance(e, (AlertSent, AlertReceived)) and e.alert_name:
        way = "TLSV1_ALERT_" if isinstance(e, AlertReceived) else "ALERT_SENT_"
        reason = way + e.alert_name.upper()
    else:
        reason = (e.reason or e.status_name).upper().replace("-", "_")
    return _wrap(SSLError, ssl.SSL_ERROR_SSL, f"[ferrule: {reason}] {e}", reason, e)


# ---- sessions -----------------------------------------------------------------------


class SSLSession:
    """A resumable session (the stdlib's SSLSession cannot be constructed).

    Get it from a client's ``session`` after a connection received a
    ticket, pass it as ``session=`` to ``wrap_bio`` / ``wrap_socket`` (or
    assign it before the handshake).  It holds the resumption secret."""

    __slots__ = ("_blob",)

    def __init__(self, blob: bytes) -> None:
        if not isinstance(blob, (bytes, bytearray)) or not blob:
            raise TypeError("SSLSession needs the session bytes of a ferrule connection")
        self._blob = bytes(blob)

    @property
    def has_ticket(self) -> bool:
        return True

    def __bytes__(self) -> bytes:
        return self._blob

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SSLSession) and other._blob == self._blob

    def __hash__(self) -> int:
        return hash(self._blob)

    def __repr__(self) -> str:
        return f"<ferrule.SSLSession {len(self._blob)} bytes>"


def _session_blob(session: Any) -> Optional[bytes]:
    if session is None:
        return None
    if isinstance(session, SSLSession):
        return session._blob
    if isinstance(session, (bytes, bytearray)):
        return bytes(session)
    raise TypeError(f"session must be a ferrule.SSLSession (from a ferrule connection's "
                    f"session), not {type(session).__name__}")


# ---- the context ------------------------------------------------------------------------

# Options that describe what ferrule does anyway (or only concern TLS <= 1.2).
_OK_OPTIONS = 0
for _name in ("OP_ALL", "OP_NO_SSLv2", "OP_NO_SSLv3", "OP_NO_TLSv1", "OP_NO_TLSv1_1",
              "OP_NO_TLSv1_2", "OP_NO_COMPRESSION", "OP_CIPHER_SERVER_PREFERENCE",
              "OP_SINGLE_DH_USE", "OP_SINGLE_ECDH_USE", "OP_NO_RENEGOTIATION",
              "OP_ENABLE_MIDDLEBOX_COMPAT", "OP_NO_TICKET", "OP_LEGACY_SERVER_CONNECT",
              "OP_NO_CLIENT_RENEGOTIATION"):
    _OK_OPTIONS |= int(getattr(ssl, _name, 0))
_REFUSED_OPTIONS = {name: int(getattr(ssl, name)) for name in
                    ("OP_NO_TLSv1_3", "OP_IGNORE_UNEXPECTED_EOF", "OP_ENABLE_KTLS")
                    if hasattr(ssl, name)}
_OK_VERIFY_FLAGS = (int(ssl.VERIFY_DEFAULT) | int(ssl.VERIFY_X509_STRICT)
                    | int(ssl.VERIFY_X509_TRUSTED_FIRST))

_CURVES = {"prime256v1": "secp256r1", "secp256r1": "secp256r1", "secp384r1": "secp384r1",
           "secp521r1": "secp521r1", "x25519": "x25519", "x448": "x448"}

_tls = threading.local()  # the SSLObject whose handshake runs a callback


class SSLContext(ssl.SSLContext):
    """A drop-in :class:`ssl.SSLContext` for TLS 1.3 with libferrule.

    ``SSLContext(ssl.PROTOCOL_TLS_CLIENT)`` (the default) or
    ``SSLContext(ssl.PROTOCOL_TLS_SERVER)``.  A client context verifies the
    server's chain and host name (``verify_mode`` CERT_REQUIRED,
    ``check_hostname`` True), as the stdlib's does.  ferrule options with
    no stdlib spelling go through :meth:`ferrule_options` (e.g. ``ocsp=
    "require"``, ``groups``, ``cipher_suites``, ``early_data``)."""

    sslobject_class = None  # set below (class attributes of the stdlib)
    sslsocket_class = None

    def __new__(cls, protocol: Optional[int] = None, *args: Any, **kwargs: Any) -> "SSLContext":
        if protocol is None:
            protocol = ssl.PROTOCOL_TLS_CLIENT
        if protocol == ssl.PROTOCOL_TLS:
            # Deprecated since 3.10; its defaults (CERT_NONE, no host name
            # check) would make an unverified client.
            raise Unsupported("PROTOCOL_TLS (PROTOCOL_SSLv23) is not supported: its client "
                              "would not verify the server; use PROTOCOL_TLS_CLIENT or "
                              "PROTOCOL_TLS_SERVER")
        if protocol not in (ssl.PROTOCOL_TLS_CLIENT, ssl.PROTOCOL_TLS_SERVER):
            raise Unsupported(f"ferrule speaks TLS 1.3 only: protocol {protocol!r} is not "
                              "supported (use PROTOCOL_TLS_CLIENT or PROTOCOL_TLS_SERVER)")
        # The base object gets the protocol (for .protocol) and nothing else.
        return super().__new__(cls, protocol)

    def __init__(self, protocol: Optional[int] = None) -> None:
        protocol = self.protocol
        self._role = "client" if protocol == ssl.PROTOCOL_TLS_CLIENT else "server"
        self._st: Dict[str, Any] = {
            "cafile": [], "capath": [], "cadata": [], "system": False,
            "chains": [], "alpn": None, "keylog": None, "tickets": None,
            "groups": None, "extra": {},
        }
        self._check_hostname = self._role == "client"
        self._verify_mode = ssl.CERT_REQUIRED if self._check_hostname else ssl.CERT_NONE
        self._options = int(ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).options) & _OK_OPTIONS
        self._verify_flags = int(ssl.VERIFY_X509_TRUSTED_FIRST)
        self._sni_callback: Any = None
        self._configs: Dict[str, Any] = {}
        self._lock = threading.Lock()

    @property
    def protocol(self) -> ssl._SSLMethod:
        # The one value the base object holds (set by __new__, read-only).
        return ssl.SSLContext.protocol.__get__(self)

    # -- helpers --

    def _changed(self) -> None:
        self._configs = {}

    def _save(self) -> Dict[str, Any]:
        return {k: (list(v) if isinstance(v, list) else dict(v) if isinstance(v, dict) else v)
                for k, v in self._st.items()}

    def _checked(self, saved: Dict[str, Any]) -> None:
        """Build the configuration now, so that a bad file or key fails the
        call that gave it (as with the stdlib); on failure the context
        keeps its previous settings."""
        self._changed()
        if self._role == "server" and not self._st["chains"]:
            return  # checked once load_cert_chain() gives a chain
        try:
            self._config(self._role == "server")
        except Error as e:
            self._st = saved
            self._changed()
            raise _translate(e) from e

    def _config(self, server_side: bool) -> Union[ClientConfig, ServerConfig]:
        role = "server" if server_side else "client"
        if role != self._role:
            raise ValueError(f"cannot create a {role} connection with a "
                             f"PROTOCOL_TLS_{self._role.upper()} context")
        with self._lock:
            cfg = self._configs.get(role)
            if cfg is None:
                cfg = self._build(role)
                self._configs[role] = cfg
            return cfg

    def _build(self, role: str) -> Union[ClientConfig, ServerConfig]:
        st = self._st
        kw: Dict[str, Any] = {}
        # ClientConfig takes one cafile: further ones join cadata.
        cadata = list(st["cadata"])
        for f in st["cafile"][1:]:
            with open(f, "rb") as fh:
                cadata.append(fh.read())
        if st["cafile"]:
            kw["cafile"] = st["cafile"][0]
        if len(st["capath"]) > 1:
            raise Unsupported("load_verify_locations: one capath per context")
        if st["capath"]:
            kw["capath"] = st["capath"][0]
        if cadata:
            kw["cadata"] = b"\n".join(cadata)  # all PEM (DER converted on loading)
        kw["load_system_trust"] = bool(st["system"])
        if st["chains"]:
            kw["cert_chain"] = list(st["chains"])
        if st["alpn"]:
            kw["alpn_protocols"] = st["alpn"]
        if st["keylog"] is not None:
            kw["keylog_filename"] = st["keylog"]
        if st["groups"] is not None:
            kw["groups"] = st["groups"]
        kw.update(st["extra"])
        if role == "client":
            kw["verify"] = self._verify_mode != ssl.CERT_NONE
            kw["check_hostname"] = self._check_hostname
            return ClientConfig(**kw)
        kw["verify"] = True
        kw["client_auth"] = {ssl.CERT_NONE: "none", ssl.CERT_OPTIONAL: "request",
                             ssl.CERT_REQUIRED: "require"}[self._verify_mode]
        if self._options & int(ssl.OP_NO_TICKET):
            kw["tickets"] = 0
        elif st["tickets"] is not None:
            kw["tickets"] = st["tickets"]
        if self._sni_callback is not None:
            kw["select_certificate"] = self._select_certificate
        if not st["chains"]:
            raise Unsupported("a server context needs load_cert_chain() first")
        return ServerConfig(**kw)

    def _select_certificate(self, hello: Any) -> Any:
        obj = getattr(_tls, "current", None)
        cb = self._sni_callback
        if cb is None or obj is None:
            return None
        r = cb(obj, hello.server_name, self)
        if r is None:
            return None
        if r == ssl.ALERT_DESCRIPTION_UNRECOGNIZED_NAME:
            return UNRECOGNIZED_NAME
        if isinstance(r, int):
            return REFUSE
        raise TypeError(f"sni_callback must return None or an ALERT_DESCRIPTION_*, not {r!r}")

    # -- ferrule extras --

    def ferrule_options(self, **options: Any) -> None:
        """Set ferrule configuration options with no stdlib spelling, by the
        keyword names of :class:`ferrule.ClientConfig` / ``ServerConfig``
        (``ocsp``, ``cipher_suites``, ``groups``, ``signature_schemes``,
        ``early_data``, ``clock``, ``verify_callback``, ``ticket_key``, ...).
        Options the stdlib API owns (trust, chains, ALPN, verification,
        key log) are refused here: use the stdlib methods."""
        owned = {"cafile", "capath", "cadata", "load_system_trust", "certfile", "keyfile",
                 "cert_chain", "alpn_protocols", "verify", "check_hostname", "client_auth",
                 "keylog_filename", "select_certificate"}
        bad = owned.intersection(options)
        if bad:
            raise UsageError(f"ferrule_options: set {', '.join(sorted(bad))} through the "
                             "ssl.SSLContext methods", status=_ffi.FERRULE_USAGE)
        self._st["extra"].update(options)
        self._changed()

    # -- stdlib configuration API --

    def load_verify_locations(self, cafile: Any = None, capath: Any = None,
                              cadata: Any = None) -> None:
        if cafile is None and capath is None and cadata is None:
            raise TypeError("cafile, capath and cadata cannot be all omitted")
        saved = self._save()
        if cafile is not None:
            path = os.fspath(cafile)
            if not os.path.isfile(path):
                raise FileNotFoundError(2, "No such file or directory", path)
            self._st["cafile"].append(path)
        if capath is not None:
            self._st["capath"].append(os.fspath(capath))
        if cadata is not None:
            if isinstance(cadata, str):
                cadata = cadata.encode("ascii")
            elif isinstance(cadata, (bytes, bytearray, memoryview)):
                cadata = _der_to_pem(bytes(cadata))
            else:
                raise TypeError("cadata should be an ASCII string or a bytes-like object")
            self._st["cadata"].append(cadata)
        self._checked(saved)

    def load_default_certs(self, purpose: Any = ssl.Purpose.SERVER_AUTH) -> None:
        if not isinstance(purpose, ssl._ASN1Object):
            raise TypeError(purpose)
        self._st["system"] = True
        self._changed()

    def set_default_verify_paths(self) -> None:
        self._st["system"] = True
        self._changed()

    def load_cert_chain(self, certfile: Any, keyfile: Any = None, password: Any = None) -> None:
        if password is not None:
            raise Unsupported("load_cert_chain: encrypted private keys (password=) are not "
                              "supported by ferrule; decrypt the key first")
        certpath = os.fspath(certfile)
        keypath = os.fspath(keyfile) if keyfile is not None else certpath
        with open(certpath, "rb") as f:
            chain = f.read()
        with open(keypath, "rb") as f:
            key = f.read()
        saved = self._save()
        self._st["chains"].append((chain, key))
        self._checked(saved)

    def set_alpn_protocols(self, alpn_protocols: Any) -> None:
        protos = []
        for p in alpn_protocols:
            b = p.encode("ascii") if isinstance(p, str) else bytes(p)
            if not 0 < len(b) <= 255:
                raise ssl.SSLError("ALPN protocols must be 1 to 255 in length")
            protos.append(b)
        self._st["alpn"] = protos
        self._changed()

    def set_npn_protocols(self, npn_protocols: Any) -> None:
        raise Unsupported("NPN is not part of TLS 1.3: use set_alpn_protocols()")

    def set_ciphers(self, cipherlist: str) -> None:
        raise Unsupported("set_ciphers() takes OpenSSL cipher strings for TLS 1.2 and older, "
                          "which ferrule does not speak; TLS 1.3 suites: "
                          "ctx.ferrule_options(cipher_suites=[...])")

    def get_ciphers(self) -> List[Dict[str, Any]]:
        suites = self._st["extra"].get("cipher_suites") or _SUITES
        out = []
        for s in suites:
            name = s if isinstance(s, str) else _ffi.ferrule_cipher_suite_name(s)
            out.append({"name": name, "protocol": "TLSv1.3", "description": f"{name} TLSv1.3",
                        "strength_bits": _SUITE_BITS.get(name, 0),
                        "alg_bits": _SUITE_BITS.get(name, 0), "aead": True})
        return out

    def set_ecdh_curve(self, name: Any) -> None:
        if isinstance(name, bytes):
            name = name.decode("ascii")
        group = _CURVES.get(str(name).lower())
        if group is None:
            raise ValueError(f"unknown elliptic curve name {name!r}")
        self._st["groups"] = [group]
        self._changed()

    def load_dh_params(self, path: Any) -> None:
        raise Unsupported("load_dh_params(): finite-field DH parameters are for TLS 1.2 DHE; "
                          "ferrule uses the TLS 1.3 named groups")

    def cert_store_stats(self) -> Dict[str, int]:
        n = self._config(self._role == "server").trust_count
        return {"x509": n, "crl": 0, "x509_ca": n}

    def get_ca_certs(self, binary_form: bool = False) -> Any:
        raise Unsupported("get_ca_certs(): ferrule does not export its trust store")

    def session_stats(self) -> Any:
        raise Unsupported("session_stats(): ferrule keeps no OpenSSL session cache statistics")

    @property
    def check_hostname(self) -> bool:
        return self._check_hostname

    @check_hostname.setter
    def check_hostname(self, value: bool) -> None:
        value = bool(value)
        if value and self._verify_mode == ssl.CERT_NONE:
            self._verify_mode = ssl.CERT_REQUIRED  # as the stdlib does
        self._check_hostname = value
        self._changed()

    @property
    def verify_mode(self) -> ssl.VerifyMode:
        return ssl.VerifyMode(self._verify_mode)

    @verify_mode.setter
    def verify_mode(self, value: int) -> None:
        value = ssl.VerifyMode(value)
        if value == ssl.CERT_NONE and self._check_hostname:
            raise ValueError("Cannot set verify_mode to CERT_NONE when check_hostname "
                             "is enabled.")
        self._verify_mode = value
        self._changed()

    @property
    def verify_flags(self) -> ssl.VerifyFlags:
        return ssl.VerifyFlags(self._verify_flags)

    @verify_flags.setter
    def verify_flags(self, value: int) -> None:
        bad = int(value) & ~_OK_VERIFY_FLAGS
        if bad:
            raise Unsupported(f"verify_flags {ssl.VerifyFlags(bad)!r}: not supported by "
                              "ferrule (it always verifies strictly; CRLs: "
                              "ferrule.verify_chain)")
        self._verify_flags = int(value)

    @property
    def minimum_version(self) -> ssl.TLSVersion:
        return ssl.TLSVersion.TLSv1_3

    @minimum_version.setter
    def minimum_version(self, value: Any) -> None:
        value = ssl.TLSVersion(value)
        # A floor at or below 1.3 is met by TLS 1.3 only; nothing above exists.
        if value not in (ssl.TLSVersion.MINIMUM_SUPPORTED, ssl.TLSVersion.MAXIMUM_SUPPORTED) \
                and value > ssl.TLSVersion.TLSv1_3:
            raise Unsupported(f"minimum_version {value!r}: ferrule speaks TLS 1.3")

    @property
    def maximum_version(self) -> ssl.TLSVersion:
        return ssl.TLSVersion.TLSv1_3

    @maximum_version.setter
    def maximum_version(self, value: Any) -> None:
        value = ssl.TLSVersion(value)
        if value not in (ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.MAXIMUM_SUPPORTED):
            raise Unsupported(f"maximum_version {value!r}: ferrule speaks TLS 1.3 only "
                              "(no TLS 1.2 or older)")

    @property
    def options(self) -> ssl.Options:
        return ssl.Options(self._options)

    @options.setter
    def options(self, value: int) -> None:
        value = int(value)
        for name, bit in _REFUSED_OPTIONS.items():
            if value & bit:
                raise Unsupported(f"options: {name} cannot be honoured by ferrule")
        unknown = value & ~_OK_OPTIONS
        if unknown:
            raise Unsupported(f"options: {ssl.Options(unknown)!r} not supported by ferrule")
        self._options = value
        self._changed()

    @property
    def hostname_checks_common_name(self) -> bool:
        return False

    @hostname_checks_common_name.setter
    def hostname_checks_common_name(self, value: bool) -> None:
        if value:
            raise Unsupported("hostname_checks_common_name: ferrule matches host names "
                              "against subjectAltName only (RFC 6125)")

    @property
    def keylog_filename(self) -> Optional[str]:
        return self._st["keylog"]

    @keylog_filename.setter
    def keylog_filename(self, value: Any) -> None:
        self._st["keylog"] = os.fspath(value) if value is not None else None
        self._changed()

    @property
    def num_tickets(self) -> int:
        if self._role != "server":
            return 2  # the server's setting; reading it is harmless
        t = self._st["tickets"]
        return 2 if t is None else t

    @num_tickets.setter
    def num_tickets(self, value: int) -> None:
        if self._role != "server":
            raise ValueError("SSLContext is not a server context.")
        if not isinstance(value, int) or value < 0:
            raise ValueError("value must be non-negative")
        self._st["tickets"] = value
        self._changed()

    @property
    def post_handshake_auth(self) -> None:
        # None is the stdlib's "not available": http.client and urllib3 then
        # leave it alone.
        return None

    @post_handshake_auth.setter
    def post_handshake_auth(self, value: Any) -> None:
        if value:
            raise Unsupported("post_handshake_auth: ferrule does not do post-handshake "
                              "client authentication")

    @property
    def security_level(self) -> int:
        raise Unsupported("security_level is an OpenSSL setting; ferrule's policy is fixed "
                          "(docs/security.md)")

    @property
    def sni_callback(self) -> Any:
        return self._sni_callback

    @sni_callback.setter
    def sni_callback(self, cb: Any) -> None:
        if cb is not None and not callable(cb):
            raise TypeError("not a callable object")
        if self._role == "client":
            raise ValueError("sni_callback cannot be set on TLS_CLIENT context")
        self._sni_callback = cb
        self._changed()

    def set_servername_callback(self, server_name_callback: Any) -> None:
        if server_name_callback is None:
            self.sni_callback = None
            return
        if not callable(server_name_callback):
            raise TypeError("not a callable object")

        def shim(sslobj: Any, servername: Optional[str], ctx: Any) -> Any:
            return server_name_callback(sslobj, servername, ctx)
        self.sni_callback = shim

    # -- connections --

    def wrap_bio(self, incoming: Any, outgoing: Any, server_side: bool = False,
                 server_hostname: Optional[str] = None, session: Any = None) -> "SSLObject":
        return SSLObject._create(incoming, outgoing, server_side=server_side,
                                 server_hostname=server_hostname, session=session, context=self)

    def wrap_socket(self, sock: socket.socket, server_side: bool = False,
                    do_handshake_on_connect: bool = True, suppress_ragged_eofs: bool = True,
                    server_hostname: Optional[str] = None, session: Any = None) -> "SSLSocket":
        return SSLSocket._create(sock, server_side=server_side,
                                 do_handshake_on_connect=do_handshake_on_connect,
                                 suppress_ragged_eofs=suppress_ragged_eofs,
                                 server_hostname=server_hostname, session=session, context=self)

    def __repr__(self) -> str:
        return f"<ferrule.SSLContext {self._role}>"


# ---- the TLS engine shared by SSLObject and SSLSocket -------------------------------


def _hostname(name: Any) -> Optional[str]:
    """str or bytes (anyio passes bytes) -> the A-label str the stdlib keeps."""
    if name is None:
        return None
    if isinstance(name, (bytes, bytearray)):
        return bytes(name).decode("ascii")
    if not isinstance(name, str):
        raise TypeError(f"server_hostname must be str or bytes, not {type(name).__name__}")
    if name.startswith("."):
        raise ValueError("server_hostname cannot start with a dot")
    return name.encode("idna").decode("ascii") if name else name


class _Engine:
    """A ferrule Connection with ssl-module semantics and errors; the owner
    moves the bytes (``conn.receive_bytes`` / ``conn.bytes_to_send``)."""

    def __init__(self, owner: Any, context: SSLContext, server_side: bool,
                 server_hostname: Any, session: Any) -> None:
        server_hostname = _hostname(server_hostname)
        if server_side and server_hostname:
            raise ValueError("server_hostname can only be specified in client mode")
        if server_side and session is not None:
            raise ValueError("session can only be specified in client mode")
        if not server_side and context._check_hostname and not server_hostname:
            raise ValueError("check_hostname requires server_hostname")
        blob = _session_blob(session)
        cfg = context._config(server_side)
        self.owner = owner
        self.context = context
        self.server_side = server_side
        self.server_hostname = server_hostname
        self.conn = Connection(cfg, None if server_side else server_hostname, session=blob)
        self.plain = bytearray()
        self.closed = False  # the peer's close_notify arrived

    def _run(self, fn: Any, *args: Any) -> Any:
        _tls.current = self.owner
        try:
            return fn(*args)
        except Error as e:
            raise _translate(e) from e
        finally:
            _tls.current = None

    def _drain(self) -> None:
        """Move pending output to the owner (the conn asked for it with
        WantWrite before it goes on)."""
        out = self.conn.bytes_to_send()
        if not out:
            raise _wrap(SSLError, ssl.SSL_ERROR_SSL, "[ferrule: INTERNAL] WantWrite without "
                        "output", "INTERNAL", None)
        self.owner._queue(out)

    def handshake(self) -> None:
        def step() -> None:
            while True:
                try:
                    self.conn.do_handshake()
                    return
                except WantWrite:
                    self._drain()
        self._run(step)

    def _read(self, n: int, view: Any = None) -> Any:
        while True:
            try:
                return self.conn.read(n, view)
            except WantWrite:
                self._drain()

    @property
    def done(self) -> bool:
        return self.conn._handshake_complete()

    def read(self, n: int) -> bytes:
        """Up to n bytes of plaintext; b"" after close_notify."""
        if not self.plain and not self.closed:
            data = self._run(self._read, max(n, 16384))
            if not data:
                self.closed = True
                return b""
            if len(data) <= n:
                return data
            self.plain += data
        out = bytes(self.plain[:n])
        del self.plain[:n]
        return out

    def read_into(self, view: memoryview, n: int) -> int:
        """read() into `view` (n <= len(view)): straight from the C
        library when nothing is buffered here."""
        if self.plain or self.closed:
            data = self.read(n)
            view[:len(data)] = data
            return len(data)
        count = self._run(self._read, n, view[:n])
        if not count:
            self.closed = True
        return count

    def write(self, data: Buffer) -> int:
        if not self.done:
            self.handshake()
        return self._run(self.conn.write, data)

    def unwrap(self) -> None:
        self._run(self.conn.unwrap)

    def channel_binding(self, cb_type: str) -> Optional[bytes]:
        if cb_type == "tls-unique":
            raise Unsupported("get_channel_binding('tls-unique'): tls-unique is not defined "
                              "for TLS 1.3 (RFC 8446 §C.5); use 'tls-exporter' (RFC 9266)")
        if cb_type != "tls-exporter":
            raise ValueError(f"Unsupported channel binding type {cb_type!r}")
        if not self.done:
            return None
        return self.conn.export_keying_material("EXPORTER-Channel-Binding", 32, b"")

    def getpeercert(self, binary_form: bool) -> Any:
        return self.conn.getpeercert(binary_form)

    def cipher(self) -> Optional[Tuple[str, str, int]]:
        return self.conn.cipher() if self.done else None

    def version(self) -> Optional[str]:
        return self.conn.version() if self.done else None

    def shared_ciphers(self) -> Optional[List[Tuple[str, str, int]]]:
        c = self.cipher()
        return [c] if c else None

    def session(self) -> Optional[SSLSession]:
        try:
            blob = self.conn.session
        except UsageError:
            # libferrule gives no session from a failed or truncated
            # connection: nothing to resume.
            return None
        return SSLSession(blob) if blob else None

    def set_session(self, session: Any) -> None:
        if self.server_side:
            raise ValueError("Cannot set session for server-side SSLSocket.")
        if self.done:
            raise ValueError("Cannot set session after handshake.")
        blob = _session_blob(session)
        if blob is not None:
            self.conn.session = blob


def _refuse_context_switch(engine: _Engine, ctx: Any) -> None:
    if ctx is not engine.context:
        raise Unsupported("switching an SSLObject/SSLSocket to another context (e.g. in "
                          "sni_callback) is not supported: load every chain into one "
                          "server context with load_cert_chain(); ferrule selects it by "
                          "SNI and key type")


# ---- SSLObject ------------------------------------------------------------------------------


class SSLObject(ssl.SSLObject):
    """ssl.SSLObject over libferrule: TLS through two MemoryBIOs
    (``incoming`` holds bytes from the peer, ``outgoing`` gets ours).  Made by
    :meth:`SSLContext.wrap_bio`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError(f"{self.__class__.__name__} does not have a public constructor. "
                        "Instances are returned by SSLContext.wrap_bio().")

    @classmethod
    def _create(cls, incoming: Any, outgoing: Any, server_side: bool = False,
                server_hostname: Optional[str] = None, session: Any = None,
                context: Optional[SSLContext] = None) -> "SSLObject":
        self = cls.__new__(cls)
        self._incoming = incoming
        self._outgoing = outgoing
        self._engine = _Engine(self, context, server_side, server_hostname, session)
        return self

    def _queue(self, out: bytes) -> None:
        self._outgoing.write(out)

    def _io(self, fn: Any, *args: Any) -> Any:
        conn = self._engine.conn
        data = self._incoming.read()
        if data:
            conn.receive_bytes(data)
        if self._incoming.eof and not conn._eof:
            conn.receive_eof()
        try:
            return fn(*args)
        finally:
            out = conn.bytes_to_send()
            if out:
                self._outgoing.write(out)

    @property
    def context(self) -> SSLContext:
        return self._engine.context

    @context.setter
    def context(self, ctx: Any) -> None:
        _refuse_context_switch(self._engine, ctx)

    @property
    def server_side(self) -> bool:
        return self._engine.server_side

    @property
    def server_hostname(self) -> Optional[str]:
        return self._engine.server_hostname

    @property
    def session(self) -> Optional[SSLSession]:
        return self._engine.session()

    @session.setter
    def session(self, session: Any) -> None:
        self._engine.set_session(session)

    @property
    def session_reused(self) -> bool:
        return self._engine.conn.session_reused

    def read(self, len: int = 1024, buffer: Any = None) -> Union[bytes, int]:
        if buffer is not None:
            view = memoryview(buffer).cast("B")
            n = min(len, view.nbytes) if len > 0 else view.nbytes
            if n == 0:
                return 0
            return self._io(self._engine.read_into, view, n)
        if len < 0:
            raise ValueError("size should not be negative")
        if len == 0:
            return b""
        return self._io(self._engine.read, len)

    def write(self, data: Buffer) -> int:
        return self._io(self._engine.write, data)

    def do_handshake(self) -> None:
        self._io(self._engine.handshake)

    def unwrap(self) -> None:
        self._io(self._engine.unwrap)

    def pending(self) -> int:
        return self._engine.plain.__len__()

    def getpeercert(self, binary_form: bool = False) -> Any:
        return self._engine.getpeercert(binary_form)

    def selected_alpn_protocol(self) -> Optional[str]:
        return self._engine.conn.selected_alpn_protocol()

    def selected_npn_protocol(self) -> None:
        return None  # NPN is never negotiated (TLS 1.3)

    def cipher(self) -> Optional[Tuple[str, str, int]]:
        return self._engine.cipher()

    def shared_ciphers(self) -> Optional[List[Tuple[str, str, int]]]:
        return self._engine.shared_ciphers()

    def compression(self) -> None:
        return None  # TLS 1.3 has no compression

    def version(self) -> Optional[str]:
        return self._engine.version()

    def get_channel_binding(self, cb_type: str = "tls-unique") -> Optional[bytes]:
        return self._engine.channel_binding(cb_type)

    def verify_client_post_handshake(self) -> None:
        raise Unsupported("verify_client_post_handshake: ferrule does not do post-handshake "
                          "client authentication")

    @property
    def ferrule_connection(self) -> Connection:
        """The underlying :class:`ferrule.Connection` (0-RTT, exporter, ...)."""
        return self._engine.conn

    def __repr__(self) -> str:
        return f"<ferrule.SSLObject {'server' if self.server_side else 'client'}>"


# ---- SSLSocket --------------------------------------------------------------------------------

_raw_recv = socket.socket.recv
_raw_send = socket.socket.send


class SSLSocket(ssl.SSLSocket):
    """ssl.SSLSocket over libferrule (a real socket object: select/poll,
    timeouts and makefile() work).  Made by :meth:`SSLContext.wrap_socket`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError(f"{self.__class__.__name__} does not have a public constructor. "
                        "Instances are returned by SSLContext.wrap_socket().")

    @classmethod
    def _create(cls, sock: socket.socket, server_side: bool = False,
                do_handshake_on_connect: bool = True, suppress_ragged_eofs: bool = True,
                server_hostname: Optional[str] = None, session: Any = None,
                context: Optional[SSLContext] = None) -> "SSLSocket":
        if sock.getsockopt(socket.SOL_SOCKET, socket.SO_TYPE) != socket.SOCK_STREAM:
            raise NotImplementedError("only stream sockets are supported")
        if server_side and server_hostname:
            raise ValueError("server_hostname can only be specified in server mode")
        if server_side and session is not None:
            raise ValueError("session can only be specified in client mode")
        if (context is not None and context._check_hostname and not server_side
                and not server_hostname):
            raise ValueError("check_hostname requires server_hostname")
        kwargs = dict(family=sock.family, type=sock.type, proto=sock.proto,
                      fileno=sock.fileno())
        self = cls.__new__(cls, **kwargs)
        socket.socket.__init__(self, **kwargs)
        timeout = sock.gettimeout()
        sock.detach()
        self._fr_context = context
        self._fr_args = (server_side, server_hostname, session)
        self.server_side = server_side
        self.server_hostname = server_hostname
        self.do_handshake_on_connect = do_handshake_on_connect
        self.suppress_ragged_eofs = suppress_ragged_eofs
        self._engine: Optional[_Engine] = None
        self._wbuf = bytearray()
        self._lock = threading.RLock()
        self._send_lock = threading.Lock()
        self._recv_lock = threading.Lock()
        self._fed = 0
        self._rec_left = 0  # bytes of the current record not yet read
        self._rec_hdr = bytearray()  # a partial record header
        self.settimeout(timeout)
        try:
            self.getpeername()
            connected = True
        except OSError:
            connected = False
        self._connected = connected
        if connected:
            try:
                self._start()
            except BaseException:
                socket.socket.close(self)
                raise
        return self

    def _start(self) -> None:
        server_side, server_hostname, session = self._fr_args
        self._engine = _Engine(self, self._fr_context, server_side, server_hostname, session)
        if self.do_handshake_on_connect:
            if self.gettimeout() == 0.0:
                raise ValueError("do_handshake_on_connect should not be specified for "
                                 "non-blocking sockets")
            self.do_handshake()

    # -- the I/O loop --
    #
    # One thread may read while another writes (websockets' sync client
    # does): the engine runs under _lock; ciphertext leaves in the order it
    # was made (one _wbuf, flushed under _send_lock) and enters in the order
    # it was received (raw recv and feed under _recv_lock).  No lock is held
    # by one side while the other blocks on the socket.

    def _flush(self) -> None:
        with self._send_lock:
            while True:
                with self._lock:
                    eng = self._engine
                    if eng is not None:
                        out = eng.conn.bytes_to_send()
                        if out:
                            self._wbuf += out
                    if not self._wbuf:
                        return
                    data = bytes(self._wbuf)
                    self._wbuf.clear()
                try:
                    n = _raw_send(self, data)
                except BaseException as e:
                    with self._lock:
                        self._wbuf[:0] = data
                    if isinstance(e, BlockingIOError):
                        raise _wrap(SSLWantWriteError, ssl.SSL_ERROR_WANT_WRITE,
                                    "The operation did not complete (write)", None,
                                    None) from None
                    raise
                if n < len(data):
                    with self._lock:
                        self._wbuf[:0] = data[n:]

    def _fill(self, seen: int) -> None:
        with self._recv_lock:
            if self._fed != seen:
                return  # another thread fed input meanwhile: try with that first
            try:
                data = _raw_recv(self, self._rec_need())
            except BlockingIOError:
                raise _wrap(SSLWantReadError, ssl.SSL_ERROR_WANT_READ,
                            "The operation did not complete (read)", None, None) from None
            with self._lock:
                conn = self._engine.conn
                if data:
                    self._rec_track(data)
                    conn.receive_bytes(data)
                elif not conn._eof:
                    conn.receive_eof()
                self._fed += 1

    # The socket is read one TLS record at a time (the rest of the current
    # record plus the next header), never further: records we have not
    # taken stay in the kernel, so select()/poll() on the socket still see
    # them.  Users that wait for readability before recv() (websockets'
    # sync connections, like code written for OpenSSL without read-ahead)
    # would otherwise wait forever for bytes already read.

    def _queue(self, out: bytes) -> None:
        self._wbuf += out  # (under _lock: called by the engine)

    def _rec_need(self) -> int:
        if self._rec_left:
            return self._rec_left + 5  # this record's rest and the next header
        return 5 - len(self._rec_hdr)

    def _rec_track(self, data: bytes) -> None:
        i, n = 0, len(data)
        while i < n:
            if self._rec_left:
                take = min(self._rec_left, n - i)
                self._rec_left -= take
                i += take
                continue
            take = min(5 - len(self._rec_hdr), n - i)
            self._rec_hdr += data[i:i + take]
            i += take
            if len(self._rec_hdr) == 5:
                self._rec_left = int.from_bytes(self._rec_hdr[3:5], "big")
                self._rec_hdr.clear()

    def _drive(self, fn: Any, *args: Any) -> Any:
        while True:
            with self._lock:
                seen = self._fed
                try:
                    result = fn(*args)
                except ssl.SSLWantReadError:
                    want = True
                except BaseException as e:
                    err = e
                    want = False
                else:
                    err = None
                    want = False
            if want:
                self._flush()
                self._fill(seen)
                continue
            if err is not None:
                try:
                    self._flush()  # an alert we queued
                except OSError:
                    pass
                raise err
            self._flush()
            return result

    def _need(self) -> _Engine:
        if self._engine is None:
            raise ValueError("the TLS connection is not established (not connected, or "
                             "unwrapped)")
        return self._engine

    # -- TLS --

    def do_handshake(self, block: bool = False) -> None:
        eng = self._need()
        self._drive(eng.handshake)

    def read(self, len: int = 1024, buffer: Any = None) -> Union[bytes, int]:
        eng = self._need()
        try:
            if buffer is not None:
                view = memoryview(buffer).cast("B")
                n = min(len, view.nbytes) if len > 0 else view.nbytes
                return self._drive(eng.read_into, view, n) if n else 0
            return self._drive(eng.read, len if len > 0 else 1024)
        except ssl.SSLEOFError:
            if not self.suppress_ragged_eofs:
                raise
            return 0 if buffer is not None else b""

    def write(self, data: Buffer) -> int:
        return self._drive(self._need().write, data)

    def recv(self, buflen: int = 1024, flags: int = 0) -> bytes:
        if self._engine is None:
            return _raw_recv(self, buflen, flags)
        if flags != 0:
            raise ValueError(f"non-zero flags not allowed in calls to recv() on {self.__class__}")
        return self.read(buflen)

    def recv_into(self, buffer: Any, nbytes: Optional[int] = None, flags: int = 0) -> int:
        if self._engine is None:
            return socket.socket.recv_into(self, buffer, nbytes or 0, flags)
        if flags != 0:
            raise ValueError("non-zero flags not allowed in calls to recv_into() on "
                             f"{self.__class__}")
        if nbytes is None:
            nbytes = memoryview(buffer).nbytes
        return self.read(nbytes or 1024, buffer)

    def recvfrom(self, buflen: int = 1024, flags: int = 0) -> Any:
        if self._engine is not None:
            raise ValueError(f"recvfrom not allowed on instances of {self.__class__}")
        return socket.socket.recvfrom(self, buflen, flags)

    def recvfrom_into(self, buffer: Any, nbytes: Optional[int] = None, flags: int = 0) -> Any:
        if self._engine is not None:
            raise ValueError(f"recvfrom_into not allowed on instances of {self.__class__}")
        return socket.socket.recvfrom_into(self, buffer, nbytes or 0, flags)

    def recvmsg(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"recvmsg not allowed on instances of {self.__class__}")

    def recvmsg_into(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"recvmsg_into not allowed on instances of {self.__class__}")

    def send(self, data: Buffer, flags: int = 0) -> int:
        if self._engine is None:
            return _raw_send(self, data, flags)
        if flags != 0:
            raise ValueError(f"non-zero flags not allowed in calls to send() on {self.__class__}")
        return self.write(data)

    def sendall(self, data: Buffer, flags: int = 0) -> None:
        if self._engine is None:
            return socket.socket.sendall(self, data, flags)
        if flags != 0:
            raise ValueError("non-zero flags not allowed in calls to sendall() on "
                             f"{self.__class__}")
        self.write(data)
        return None

    def sendto(self, data: Buffer, flags_or_addr: Any, addr: Any = None) -> Any:
        if self._engine is not None:
            raise ValueError(f"sendto not allowed on instances of {self.__class__}")
        if addr is None:
            return socket.socket.sendto(self, data, flags_or_addr)
        return socket.socket.sendto(self, data, flags_or_addr, addr)

    def sendmsg(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"sendmsg not allowed on instances of {self.__class__}")

    def sendfile(self, file: Any, offset: int = 0, count: Optional[int] = None) -> int:
        if self._engine is None:
            return socket.socket.sendfile(self, file, offset, count)
        return self._sendfile_use_send(file, offset, count)  # through send(): encrypted

    def pending(self) -> int:
        return self._engine.plain.__len__() if self._engine is not None else 0

    def unwrap(self) -> "SSLSocket":
        eng = self._need()
        self._drive(eng.unwrap)
        self._engine = None
        return self

    def shutdown(self, how: int) -> None:
        self._engine = None
        socket.socket.shutdown(self, how)

    def close(self) -> None:
        socket.socket.close(self)

    def _real_close(self) -> None:
        # Unlike the stdlib, say goodbye: a close_notify (best effort, never
        # blocking) so the peer can tell the end from a truncation.
        eng, self._engine = self._engine, None
        if eng is not None and eng.done and not eng.conn._close_sent:
            try:
                eng.conn.close_notify()
                out = bytes(self._wbuf) + eng.conn.bytes_to_send()
                if out:
                    _raw_send(self, out, socket.MSG_DONTWAIT)
            except (OSError, Error):
                pass
        socket.socket._real_close(self)

    def detach(self) -> int:
        self._engine = None
        return socket.socket.detach(self)

    def dup(self) -> Any:
        raise NotImplementedError(f"Can't dup() {self.__class__.__name__} instances")

    def connect(self, addr: Any) -> None:
        self._real_connect(addr, False)

    def connect_ex(self, addr: Any) -> int:
        return self._real_connect(addr, True)

    def _real_connect(self, addr: Any, connect_ex: bool) -> int:
        if self.server_side:
            raise ValueError("can't connect in server-side mode")
        if self._connected or self._engine is not None:
            raise ValueError("attempt to connect already-connected SSLSocket!")
        if connect_ex:
            rc = socket.socket.connect_ex(self, addr)
            if rc:
                return rc
        else:
            socket.socket.connect(self, addr)
        self._connected = True
        self._start()
        return 0

    def accept(self) -> Tuple["SSLSocket", Any]:
        newsock, addr = socket.socket.accept(self)
        newsock = self._fr_context.wrap_socket(
            newsock, do_handshake_on_connect=self.do_handshake_on_connect,
            suppress_ragged_eofs=self.suppress_ragged_eofs, server_side=True)
        return newsock, addr

    # -- introspection --

    @property
    def context(self) -> SSLContext:
        return self._fr_context

    @context.setter
    def context(self, ctx: Any) -> None:
        if self._engine is None:
            raise Unsupported("context: cannot change the context of an SSLSocket")
        _refuse_context_switch(self._engine, ctx)

    @property
    def session(self) -> Optional[SSLSession]:
        return self._engine.session() if self._engine is not None else None

    @session.setter
    def session(self, session: Any) -> None:
        self._need().set_session(session)

    @property
    def session_reused(self) -> Optional[bool]:
        return self._engine.conn.session_reused if self._engine is not None else None

    def getpeercert(self, binary_form: bool = False) -> Any:
        if self._engine is None:
            raise ValueError("handshake not done yet")
        return self._engine.getpeercert(binary_form)

    def selected_alpn_protocol(self) -> Optional[str]:
        return self._engine.conn.selected_alpn_protocol() if self._engine is not None else None

    def selected_npn_protocol(self) -> None:
        return None

    def cipher(self) -> Optional[Tuple[str, str, int]]:
        return self._engine.cipher() if self._engine is not None else None

    def shared_ciphers(self) -> Optional[List[Tuple[str, str, int]]]:
        return self._engine.shared_ciphers() if self._engine is not None else None

    def compression(self) -> None:
        return None

    def version(self) -> Optional[str]:
        return self._engine.version() if self._engine is not None else None

    def get_channel_binding(self, cb_type: str = "tls-unique") -> Optional[bytes]:
        if self._engine is None:
            return None
        return self._engine.channel_binding(cb_type)

    def verify_client_post_handshake(self) -> None:
        raise Unsupported("verify_client_post_handshake: ferrule does not do post-handshake "
                          "client authentication")

    @property
    def ferrule_connection(self) -> Optional[Connection]:
        return self._engine.conn if self._engine is not None else None

    @property
    def _sslobj(self) -> Optional["SSLObject"]:
        # Libraries reach for the stdlib's private attribute (httpcore's
        # get_extra_info("ssl_object")): an SSLObject view of this socket.
        if self._engine is None:
            return None
        return _SocketView._for(self)

    def __repr__(self) -> str:
        return (f"<ferrule.SSLSocket fd={self.fileno()} "
                f"{'server' if self.server_side else 'client'}>")


class _SocketView(SSLObject):
    """SSLSocket._sslobj: the SSLObject interface of an SSLSocket (its I/O
    goes through the socket)."""

    @classmethod
    def _for(cls, sock: SSLSocket) -> "_SocketView":
        self = cls.__new__(cls)
        self._sock = sock
        self._engine = sock._engine
        return self

    def _io(self, fn: Any, *args: Any) -> Any:
        return self._sock._drive(fn, *args)

    def _queue(self, out: bytes) -> None:
        self._sock._queue(out)


SSLContext.sslobject_class = SSLObject
SSLContext.sslsocket_class = SSLSocket


# ---- create_default_context / inject ----------------------------------------------------------


def create_default_context(purpose: Any = ssl.Purpose.SERVER_AUTH, *, cafile: Any = None,
                           capath: Any = None, cadata: Any = None) -> SSLContext:
    """ssl.create_default_context() with a ferrule context: SERVER_AUTH gives
    a verifying client context (the system trust store unless cafile /
    capath / cadata), CLIENT_AUTH a server context."""
    if not isinstance(purpose, ssl._ASN1Object):
        raise TypeError(purpose)
    if purpose == ssl.Purpose.SERVER_AUTH:
        ctx = SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    else:
        ctx = SSLContext(ssl.PROTOCOL_TLS_SERVER)
    if cafile or capath or cadata:
        ctx.load_verify_locations(cafile, capath, cadata)
    elif ctx.verify_mode != ssl.CERT_NONE:
        ctx.load_default_certs(purpose)
    keylog = os.environ.get("SSLKEYLOGFILE")
    if keylog and not sys.flags.ignore_environment:
        ctx.keylog_filename = keylog  # as the stdlib does
    return ctx


_saved: Optional[Dict[str, Any]] = None
_inject_lock = threading.Lock()


def inject() -> None:
    """Make ``ssl.create_default_context()`` (and http.client's default
    HTTPS context) return a :class:`ferrule.SSLContext`, for this process.
    Explicit only (never on import); :func:`extract` undoes it.  Libraries
    that build their own ``ssl.SSLContext(...)`` directly are not changed."""
    global _saved
    with _inject_lock:
        if _saved is not None:
            return
        _saved = {"create_default_context": ssl.create_default_context,
                  "_create_default_https_context": ssl._create_default_https_context}
        ssl.create_default_context = create_default_context
        if _saved["_create_default_https_context"] is _saved["create_default_context"]:
            ssl._create_default_https_context = create_default_context


def extract() -> None:
    """Undo :func:`inject` (no-op if not injected)."""
    global _saved
    with _inject_lock:
        if _saved is None:
            return
        ssl.create_default_context = _saved["create_default_context"]
        ssl._create_default_https_context = _saved["_create_default_https_context"]
        _saved = None


def injected() -> bool:
    """True between :func:`inject` and :func:`extract`."""
    return _saved is not None


def _no_openssl(self: Any, *args: Any, **kwargs: Any) -> Any:
    raise Unsupported("ferrule.SSLContext never uses the OpenSSL context of its base class")


# The base class's private entry points would create OpenSSL connections
# (ssl.SSLObject._create / ssl.SSLSocket._create call them): closed here.
SSLContext._wrap_bio = _no_openssl  # type: ignore[assignment]
SSLContext._wrap_socket = _no_openssl  # type: ignore[assignment]
SSLContext._set_alpn_protocols = _no_openssl  # type: ignore[assignment]
