"""ClientConfig and ServerConfig: keyword-argument wrappers of ferrule_config.

A configuration is built once, then shared by any number of connections
(the library freezes it when the first connection uses it).
"""

from __future__ import annotations

import os
import threading
from typing import IO, Callable, Iterable, Optional, Sequence, Tuple, Union

from . import _ffi
from ._errors import UsageError

__all__ = ["ClientConfig", "ServerConfig"]

PathLike = Union[str, "os.PathLike[str]"]
CodePoints = Optional[Iterable[Union[str, int]]]

_OCSP = {"default": _ffi.FERRULE_OCSP_DEFAULT, "require": _ffi.FERRULE_OCSP_REQUIRE}
_PURPOSE = {"server_auth": _ffi.FERRULE_PURPOSE_SERVER_AUTH,
            "client_auth": _ffi.FERRULE_PURPOSE_CLIENT_AUTH}
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
                 early_data: Optional[int] = None,
                 keylog_filename: Optional[PathLike] = None,
                 keylog: Optional[Callable[[str], None]] = None,
                 memory_limit: Optional[int] = None,
                 max_handshake_message: Optional[int] = None,
                 key_update_interval: Optional[int] = None) -> None:
        self._cfg = None
        self._keylog: Optional[Callable[[str], None]] = None
        self._cfg = _ffi.fpy_config_new(self._role)
        cfg = self._cfg
        try:
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
            if early_data:
                # 0-RTT (issue 4) is not in this libferrule's header yet.
                raise UsageError("early_data: this libferrule has no 0-RTT support",
                                 status=_ffi.FERRULE_USAGE)
            # Resources.
            if memory_limit is not None:
                _ffi.ferrule_config_set_memory_limit(cfg, memory_limit)
            if max_handshake_message is not None:
                _ffi.ferrule_config_set_max_handshake_message(cfg, max_handshake_message)
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
    ``memory_limit``, ``max_handshake_message``, ``key_update_interval``.
    """

    _role = _ffi.FERRULE_ROLE_CLIENT


class ServerConfig(_Config):
    """Configuration of TLS servers.

    Takes the keyword arguments of :class:`ClientConfig` (``certfile`` /
    ``keyfile`` or ``cert_chain`` are required, one chain per key type),
    plus ``client_auth`` ("none", "request", "require"; client certificates
    are checked against ``cafile``/``capath``/``cadata``), ``tickets``
    (NewSessionTickets per handshake, 0 disables resumption),
    ``ticket_key`` ((16-byte name, 32-byte key), shared by a fleet),
    ``cookie_key`` (32 bytes, HelloRetryRequest cookies) and
    ``ocsp_staples`` (DER responses, one per chain in order).
    """

    _role = _ffi.FERRULE_ROLE_SERVER

    def __init__(self, *, client_auth: str = "none", tickets: Optional[int] = None,
                 ticket_key: Optional[Tuple[bytes, bytes]] = None,
                 cookie_key: Optional[bytes] = None,
                 ocsp_staples: Optional[Sequence[Optional[bytes]]] = None,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        try:
            cfg = self._cfg
            mode = _choice(_CLIENT_AUTH, client_auth, "client_auth")
            if mode != _ffi.FERRULE_CLIENT_AUTH_NONE:
                _ffi.ferrule_config_set_client_auth(cfg, mode)
            if tickets is not None:
                _ffi.ferrule_config_set_tickets(cfg, tickets)
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

    def rotate_ticket_key(self, name: bytes, key: bytes) -> None:
        """Install a new current ticket key (allowed while in use)."""
        _ffi.ferrule_config_set_ticket_key(self._cfg, bytes(name), bytes(key))
