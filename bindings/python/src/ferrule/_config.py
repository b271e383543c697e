"""ClientConfig and ServerConfig: keyword-argument wrappers of ferrule_config.

A configuration is built once, then shared by any number of connections
(the library freezes it when the first connection uses it).
"""

from __future__ import annotations

import os
import threading
from typing import IO, Any, Callable, Iterable, Optional, Sequence, Tuple, Union

from . import _callbacks, _ffi
from ._callbacks import ClientHello, EarlyDataInfo, VerifyInfo
from ._errors import UsageError

__all__ = ["ClientConfig", "ServerConfig"]

PathLike = Union[str, "os.PathLike[str]"]
CodePoints = Optional[Iterable[Union[str, int]]]

_OCSP = {"default": _ffi.FERRULE_OCSP_DEFAULT, "require": _ffi.FERRULE_OCSP_REQUIRE}
_PURPOSE = {"server_auth": _ffi.FERRULE_PURPOSE_SERVER_AUTH,
            "client_auth": _ffi.FERRULE_PURPOSE_CLIENT_AUTH}
_PSK_MODES = {"psk_dhe_ke": _ffi.FERRULE_PSK_DHE_KE, "psk_ke": _ffi.FERRULE_PSK_KE}
_RESUME_IDENTITY = {"recheck": _ffi.FERRULE_RESUME_IDENTITY_RECHECK,
                    "keep": _ffi.FERRULE_RESUME_IDENTITY_KEEP}
_CLIENT_AUTH = {"none": _ffi.FERRULE_CLIENT_AUTH_NONE,
                "request": _ffi.FERRULE_CLIENT_AUTH_REQUEST,
                "require": _ffi.FERRULE_CLIENT_AUTH_REQUIRE}


def _code_points(values: Iterable[Union[str, int]], from_name: Callable[[str], int],
                 what: str) -> list:
    out = []
    for v in values:
        if isinstance(v, int):
            out.append(v)
            continue
        try:
            out.append(from_name(v))
        except UsageError:
            raise UsageError(f"unknown {what}: {v!r}", reason_code=0,
                             status=_ffi.FERRULE_USAGE) from None
    return out


def _choice(table: dict, value: str, what: str) -> int:
    try:
        return table[value]
    except KeyError:
        raise UsageError(f"{what} must be one of {', '.join(sorted(table))}, not {value!r}",
                         status=_ffi.FERRULE_USAGE) from None


class _KeyLog:
    """Appends NSS key-log lines to a file (SSLKEYLOGFILE format)."""

    def __init__(self, path: PathLike) -> None:
        self._lock = threading.Lock()
        self._file: IO[str] = open(path, "a", encoding="ascii")

    def __call__(self, line: str) -> None:
        with self._lock:
            self._file.write(line + "\n")
            self._file.flush()

    def close(self) -> None:
        self._file.close()


class _Config:
    _role: int = 0

    def __init__(self, *,
                 cafile: Optional[PathLike] = None,
                 capath: Optional[PathLike] = None,
                 cadata: Optional[Union[str, bytes]] = None,
                 load_system_trust: Optional[bool] = None,
                 certfile: Optional[PathLike] = None,
                 keyfile: Optional[PathLike] = None,
                 cert_chain: Optional[Sequence[Tuple[bytes, bytes]]] = None,
                 alpn_protocols: Optional[Iterable[Union[str, bytes]]] = None,
                 groups: CodePoints = None,
                 cipher_suites: CodePoints = None,
                 signature_schemes: CodePoints = None,
                 verify: bool = True,
                 check_hostname: bool = True,
                 verify_purpose: Optional[str] = None,
                 max_chain_depth: Optional[int] = None,
                 ocsp: Optional[str] = None,
                 early_data: bool = False,
                 psk_modes: Optional[Iterable[str]] = None,
                 record_size_limit: Optional[int] = None,
                 keylog_filename: Optional[PathLike] = None,
                 keylog: Optional[Callable[[str], None]] = None,
                 memory_limit: Optional[int] = None,
                 max_handshake_message: Optional[int] = None,
                 max_peer_certificates: Optional[int] = None,
                 verify_cn_in_san: bool = False,
                 key_update_interval: Optional[int] = None,
                 clock: Optional[Callable[[], int]] = None,
                 verify_callback: Optional[Callable[[VerifyInfo], bool]] = None) -> None:
        self._cfg = None
        self._keylog: Optional[Callable[[str], None]] = None
        # Python objects the C config calls (callbacks, replay store): the
        # C side borrows them, this object keeps them alive (and every
        # Connection keeps its config).
        self._callbacks: list = []
        if not isinstance(early_data, bool):
            raise TypeError("early_data must be True or False")
        self._early_data = early_data
        self._verify = bool(verify)
        self._cfg = _ffi.fpy_config_new(self._role)
        cfg = self._cfg
        try:
            if clock is not None:
                # First: the config reads its clock from here on.
                if not callable(clock):
                    raise TypeError("clock must be callable")
                self._callbacks.append(clock)  # the C side borrows it
                _ffi.fpy_config_set_clock(cfg, clock)
            if cipher_suites is not None:
                _ffi.ferrule_config_set_cipher_suites(
                    cfg, _code_points(cipher_suites, _ffi.ferrule_cipher_suite_from_name,
                                      "cipher suite"))
            if groups is not None:
                _ffi.ferrule_config_set_groups(
                    cfg, _code_points(groups, _ffi.ferrule_group_from_name, "group"))
            if signature_schemes is not None:
                _ffi.ferrule_config_set_signature_schemes(
                    cfg, _code_points(signature_schemes, _ffi.ferrule_signature_scheme_from_name,
                                      "signature scheme"))
            for proto in alpn_protocols or ():
                _ffi.ferrule_config_add_alpn(
                    cfg, proto.encode("ascii") if isinstance(proto, str) else bytes(proto))
            # Trust anchors.
            if cafile is not None:
                _ffi.ferrule_config_add_trust_file(cfg, os.fspath(cafile))
            if capath is not None:
                _ffi.ferrule_config_add_trust_dir(cfg, os.fspath(capath))
            if cadata is not None:
                data = cadata.encode("ascii") if isinstance(cadata, str) else bytes(cadata)
                if data.lstrip().startswith(b"-----"):
                    _ffi.ferrule_config_add_trust_pem(cfg, data)
                else:
                    _ffi.ferrule_config_add_trust_der(cfg, data)
            if load_system_trust is None:
                # Like ssl.create_default_context(): a verifying client
                # with no explicit anchors trusts the system bundle.
                load_system_trust = (self._role == _ffi.FERRULE_ROLE_CLIENT and verify
                                     and cafile is None and capath is None and cadata is None)
            if load_system_trust:
                _ffi.ferrule_config_add_trust_system(cfg)
            # Our certificate chains.
            if certfile is not None:
                _ffi.ferrule_config_add_cert_chain_file(
                    cfg, os.fspath(certfile), os.fspath(keyfile if keyfile is not None else certfile))
            elif keyfile is not None:
                raise UsageError("keyfile given without certfile", status=_ffi.FERRULE_USAGE)
            for chain_pem, key_pem in cert_chain or ():
                _ffi.ferrule_config_add_cert_chain_pem(cfg, bytes(chain_pem), bytes(key_pem))
            # Verification policy.
            if not verify:
                _ffi.ferrule_config_dangerous_no_verification(cfg)
            elif not check_hostname:
                _ffi.ferrule_config_dangerous_no_hostname_check(cfg)
            if verify_purpose is not None:
                _ffi.ferrule_config_set_verify_purpose(
                    cfg, _choice(_PURPOSE, verify_purpose, "verify_purpose"))
            if max_chain_depth is not None:
                _ffi.ferrule_config_set_max_chain_depth(cfg, max_chain_depth)
            if ocsp is not None:
                _ffi.ferrule_config_set_ocsp_policy(cfg, _choice(_OCSP, ocsp, "ocsp"))
            if verify_callback is not None:
                if not callable(verify_callback):
                    raise TypeError("verify_callback must be callable")
                if not verify:
                    # libferrule calls it only for chains it accepted: with
                    # verification off it would never run.
                    raise UsageError("verify_callback needs verify=True (it runs after "
                                     "libferrule's checks and can only reject)",
                                     status=_ffi.FERRULE_USAGE)
                ventry = _callbacks.verify_entry(verify_callback)
                self._callbacks.append(ventry)
                _ffi.fpy_config_set_verify(cfg, ventry)
            if early_data and self._role == _ffi.FERRULE_ROLE_CLIENT:
                # A client config only enables attempts (ServerConfig has
                # the server's options).
                _ffi.fpy_config_set_early_data(cfg, 0, 0, 0, None, None, None)
            if psk_modes is not None:
                modes = 0
                for m in psk_modes:
                    modes |= _choice(_PSK_MODES, m, "psk_modes entries")
                _ffi.ferrule_config_set_psk_modes(cfg, modes)
            if record_size_limit is not None:
                _ffi.ferrule_config_set_record_size_limit(cfg, record_size_limit)
            # Resources.
            if memory_limit is not None:
                _ffi.ferrule_config_set_memory_limit(cfg, memory_limit)
            if max_handshake_message is not None:
                _ffi.ferrule_config_set_max_handshake_message(cfg, max_handshake_message)
            if max_peer_certificates is not None:
                _ffi.ferrule_config_set_max_peer_certificates(cfg, max_peer_certificates)
            if not isinstance(verify_cn_in_san, bool):
                raise TypeError("verify_cn_in_san must be True or False")
            if verify_cn_in_san:
                _ffi.ferrule_config_set_verify_cn_in_san(cfg, 1)
            if key_update_interval is not None:
                _ffi.ferrule_config_set_key_update_interval(cfg, key_update_interval)
            # Key log (explicit opt-in: secrets leave the library).
            if keylog_filename is not None and keylog is not None:
                raise UsageError("give keylog_filename or keylog, not both",
                                 status=_ffi.FERRULE_USAGE)
            if keylog_filename is not None:
                keylog = _KeyLog(keylog_filename)
            if keylog is not None:
                self._keylog = keylog  # the C side borrows it: keep it alive
                _ffi.fpy_config_set_keylog(cfg, keylog)
        except BaseException:
            self._free()
            raise

    @property
    def role(self) -> str:
        return "client" if self._role == _ffi.FERRULE_ROLE_CLIENT else "server"

    @property
    def trust_count(self) -> int:
        """Number of trust anchors loaded."""
        return int(_ffi.ferrule_config_trust_count(self._cfg))

    def _free(self) -> None:
        cfg, self._cfg = self._cfg, None
        if cfg is not None:
            _ffi.ferrule_config_free(cfg)
        if isinstance(self._keylog, _KeyLog):
            self._keylog.close()

    @property
    def early_data(self) -> bool:
        """True if 0-RTT is enabled on this config."""
        return self._early_data

    def __del__(self) -> None:
        # Connections hold a reference to this object (and the C config is
        # reference counted), so it is only freed after all of them.
        try:
            self._free()
        except Exception:
            pass


class ClientConfig(_Config):
    """Configuration of TLS clients.

    Keyword arguments: ``cafile``/``capath``/``cadata`` (trust anchors; with
    none of them and ``verify=True`` the system bundle is loaded, override
    with ``load_system_trust``), ``certfile``/``keyfile`` or ``cert_chain``
    (a client certificate), ``alpn_protocols``, ``groups``,
    ``cipher_suites``, ``signature_schemes`` (IANA names or numbers, in
    preference order), ``verify`` / ``check_hostname`` (turning either off
    is for tests only), ``verify_purpose``, ``max_chain_depth``, ``ocsp``
    ("default" or "require"), ``keylog_filename`` or ``keylog`` (callable),
    ``memory_limit``, ``max_handshake_message`` (bytes; the default admits
    the largest legal ClientHello), ``max_peer_certificates`` (certificates
    taken from the peer, 1..256, default 64), ``verify_cn_in_san`` (True:
    the CA/Browser Forum rule that a subject CN repeats a SAN entry; off by
    default), ``key_update_interval``,
    ``early_data`` (True: allow 0-RTT attempts, see
    :meth:`Connection.write_early_data`), ``psk_modes`` (PSK key exchange
    modes offered for resumption: "psk_dhe_ke" (default) and/or "psk_ke";
    psk_ke has no forward secrecy for the resumed session: opt in only if
    you mean it), ``record_size_limit`` (RFC 8449: the largest protected
    record we accept, 64..16385, default 16385).

    ``clock``: a callable returning the time in whole seconds since the Unix
    epoch, used for certificate validity, tickets and the 0-RTT freshness
    window (default: the system clock).  If it raises (or returns something
    other than an int) the exception goes to sys.unraisablehook and the
    system clock is used for that reading.

    ``verify_callback(info) -> bool``: runs after libferrule's own checks
    accepted the peer's chain (so only with ``verify=True``) and can only
    add restrictions: True accepts; False, any other result or an exception
    fails the handshake with CertificateError reason "cert_rejected" (an
    exception is its ``__cause__``).  ``info`` is a
    :class:`ferrule.VerifyInfo`.  On a server it sees client certificates.
    """

    _role = _ffi.FERRULE_ROLE_CLIENT


class ServerConfig(_Config):
    """Configuration of TLS servers.

    Takes the keyword arguments of :class:`ClientConfig` (``certfile`` /
    ``keyfile`` or ``cert_chain`` are required, one chain per key type),
    plus ``client_auth`` ("none", "request", "require"; client certificates
    are checked against ``cafile``/``capath``/``cadata``), ``tickets``
    (NewSessionTickets issued per handshake, default 2; 0 issues none, but
    tickets issued before -- or by servers sharing ``ticket_key`` -- still
    resume), ``accept_tickets`` (False turns resumption off: no ticket is
    accepted, none is issued), ``ticket_key`` ((16-byte name, 32-byte key),
    shared by a fleet),
    ``resume_client_identity`` (with ``client_auth``: tickets carry the
    client's chain and a resumed connection is authenticated by it --
    :meth:`Connection.getpeercert` shows it; "recheck" (default) validates
    the chain again at resumption, so an expired certificate ends
    resumption; "keep" validates it as of the full handshake, for at most a
    day after it.  Under "require" a ticket without a client certificate
    never resumes, under "request" it resumes unauthenticated),
    ``cookie_key`` (32 bytes, HelloRetryRequest cookies) and
    ``ocsp_staples`` (DER responses, one per chain in order).

    Several chains (for several names or key types): ``certs`` (a list of
    (chain file, key file) pairs) and/or ``cert_chain`` (PEM pairs); the
    chain for each handshake is chosen by SNI and the client's signature
    schemes (docs/server-callbacks.md).  ``sni_strict=True`` refuses a
    server name that no chain matches (unrecognized_name alert).
    ``select_certificate(hello)`` returns a chain index, None (the default
    choice), :data:`ferrule.REFUSE` or :data:`ferrule.UNRECOGNIZED_NAME`;
    ``select_alpn(hello)`` returns one of the offered protocols (bytes or
    str), None (the ``alpn_protocols`` list), :data:`ferrule.NO_ALPN` or
    :data:`ferrule.REFUSE`.  ``hello`` is a :class:`ferrule.ClientHello`,
    valid only during the call.  An exception in either refuses the
    handshake; the handshake's error has it as ``__cause__``.

    0-RTT: ``early_data=True`` enables it (tickets allow early data; each is
    accepted once, with anti-replay, docs/early-data.md), with
    ``max_early_data_size`` (default 16384), ``early_data_window_ms``
    (freshness window, default 10000), ``early_data_capacity`` (entries of
    the built-in replay store), ``accept_early_data(info) -> bool`` (a
    per-connection veto, ``info`` is a :class:`ferrule.EarlyDataInfo`) and
    ``replay_store`` (an object with ``check_and_insert(key: bytes,
    expires: int) -> bool``, True if the key was new, atomic across the
    servers sharing it, and ``id``: 16 bytes naming the store).  An
    exception in ``accept_early_data`` or the store refuses that 0-RTT (the
    handshake goes on in 1-RTT) and is reported to sys.unraisablehook.
    """

    _role = _ffi.FERRULE_ROLE_SERVER

    def __init__(self, *, client_auth: str = "none", tickets: Optional[int] = None,
                 accept_tickets: bool = True, resume_client_identity: str = "recheck",
                 ticket_key: Optional[Tuple[bytes, bytes]] = None,
                 cookie_key: Optional[bytes] = None,
                 ocsp_staples: Optional[Sequence[Optional[bytes]]] = None,
                 certs: Optional[Sequence[Tuple[PathLike, PathLike]]] = None,
                 sni_strict: bool = False,
                 select_certificate: Optional[Callable[[ClientHello], Any]] = None,
                 select_alpn: Optional[Callable[[ClientHello], Any]] = None,
                 max_early_data_size: Optional[int] = None,
                 early_data_window_ms: Optional[int] = None,
                 early_data_capacity: Optional[int] = None,
                 accept_early_data: Optional[Callable[[EarlyDataInfo], bool]] = None,
                 replay_store: Any = None,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        try:
            cfg = self._cfg
            for chain_path, key_path in certs or ():
                _ffi.ferrule_config_add_cert_chain_file(cfg, os.fspath(chain_path),
                                                        os.fspath(key_path))
            if sni_strict:
                _ffi.ferrule_config_set_sni_policy(cfg, _ffi.FERRULE_SNI_STRICT)
            if select_certificate is not None:
                if not callable(select_certificate):
                    raise TypeError("select_certificate must be callable")
                entry = _callbacks.cert_select_entry(select_certificate)
                self._callbacks.append(entry)
                _ffi.fpy_config_set_cert_select(cfg, entry)
            if select_alpn is not None:
                if not callable(select_alpn):
                    raise TypeError("select_alpn must be callable")
                aentry = _callbacks.alpn_select_entry(select_alpn)
                self._callbacks.append(aentry)
                _ffi.fpy_config_set_alpn_select(cfg, aentry)
            self._set_early_data(max_early_data_size, early_data_window_ms, early_data_capacity,
                                 accept_early_data, replay_store)
            mode = _choice(_CLIENT_AUTH, client_auth, "client_auth")
            if mode != _ffi.FERRULE_CLIENT_AUTH_NONE:
                _ffi.ferrule_config_set_client_auth(cfg, mode)
            if tickets is not None:
                _ffi.ferrule_config_set_tickets(cfg, tickets)
            if not isinstance(accept_tickets, bool):
                raise TypeError("accept_tickets must be a bool")
            identity = _choice(_RESUME_IDENTITY, resume_client_identity,
                               "resume_client_identity")
            if not accept_tickets or identity != _ffi.FERRULE_RESUME_IDENTITY_RECHECK:
                accept = (_ffi.FERRULE_RESUME_ACCEPT if accept_tickets
                          else _ffi.FERRULE_RESUME_REFUSE)
                _ffi.fpy_config_set_resumption(cfg, accept, identity)
            if ticket_key is not None:
                name, key = ticket_key
                _ffi.ferrule_config_set_ticket_key(cfg, bytes(name), bytes(key))
            if cookie_key is not None:
                _ffi.ferrule_config_set_cookie_key(cfg, bytes(cookie_key))
            for i, staple in enumerate(ocsp_staples or ()):
                if staple is not None:
                    _ffi.ferrule_config_set_ocsp_staple(cfg, i, bytes(staple))
        except BaseException:
            self._free()
            raise

    def _set_early_data(self, max_size: Optional[int], window_ms: Optional[int],
                        capacity: Optional[int], accept: Optional[Callable[[EarlyDataInfo], bool]],
                        store: Any) -> None:
        options = (max_size, window_ms, capacity, accept, store)
        if not self._early_data:
            if any(o is not None for o in options):
                raise UsageError("0-RTT options given with early_data=False",
                                 status=_ffi.FERRULE_USAGE)
            return
        for name, value in (("max_early_data_size", max_size),
                            ("early_data_window_ms", window_ms),
                            ("early_data_capacity", capacity)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                      or not 0 < value < 2 ** 32):
                # 0 would mean "the default" to the C API: refuse it here.
                raise UsageError(f"{name} must be a positive integer, not {value!r}",
                                 reason_code=_ffi.FERRULE_R_CONFIG_INVALID,
                                 status=_ffi.FERRULE_USAGE)
        aentry = None
        if accept is not None:
            if not callable(accept):
                raise TypeError("accept_early_data must be callable")
            aentry = _callbacks.accept_entry(accept)
            self._callbacks.append(aentry)
        store_id = None
        if store is not None:
            if not callable(getattr(store, "check_and_insert", None)):
                raise TypeError("replay_store needs a check_and_insert(key, expires) method")
            store_id = getattr(store, "id", None)
            if not isinstance(store_id, (bytes, bytearray)) or len(store_id) != 16:
                raise TypeError("replay_store.id must be 16 bytes")
            self._callbacks.append(store)
        _ffi.fpy_config_set_early_data(self._cfg, max_size or 0, window_ms or 0, capacity or 0,
                                       aentry, store, store_id)

    @property
    def chain_count(self) -> int:
        """Number of certificate chains (their index is the order added:
        ``certfile``, then ``cert_chain``, then ``certs``)."""
        return int(_ffi.ferrule_config_chain_count(self._cfg))

    def rotate_ticket_key(self, name: bytes, key: bytes) -> None:
        """Install a new current ticket key (allowed while in use)."""
        _ffi.ferrule_config_set_ticket_key(self._cfg, bytes(name), bytes(key))
