"""Connection: the sans-I/O TLS object, shaped like ssl.SSLObject.

Bytes from the peer go in with :meth:`Connection.receive_bytes` (or the
MemoryBIO-style ``incoming.write()``), bytes for the peer come out of
:meth:`Connection.bytes_to_send` (or ``outgoing.read()``).  The methods
that need more input raise :class:`WantRead`.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple, Union

from . import _ffi, _peercert
from . import __ffi as _c  # the extension itself: hot paths skip SWIG's proxy functions
from ._config import ClientConfig, ServerConfig, _Config
from ._errors import UsageError, WantRead, WantWrite

__all__ = ["Connection"]

Buffer = Union[bytes, bytearray, memoryview]

_OK = _ffi.FERRULE_OK
_WANT_READ = _ffi.FERRULE_WANT_READ
_WANT_WRITE = _ffi.FERRULE_WANT_WRITE
_CLOSED = _ffi.FERRULE_CLOSED

# Incoming ciphertext buffer.  It starts at about one maximum-size record
# (so 1,000 idle connections cost little) and doubles, up to _INBUF_MAX,
# each time a transport read fills it: a bulk transfer then decrypts up to
# _INBUF_MAX bytes per call into C.
_INBUF_MIN = 17 * 1024
_INBUF_MAX = 256 * 1024

_CIPHER_BITS = {0x1301: 128, 0x1302: 256, 0x1303: 256}

_EARLY_STATUS = {_ffi.FERRULE_EARLY_NOT_OFFERED: "not_offered",
                 _ffi.FERRULE_EARLY_ACCEPTED: "accepted",
                 _ffi.FERRULE_EARLY_REJECTED: "rejected",
                 _ffi.FERRULE_EARLY_OFFERED: "offered"}


class _Incoming:
    """MemoryBIO-like view of the connection's input (write / write_eof)."""

    def __init__(self, conn: "Connection") -> None:
        self._conn = conn

    def write(self, data: Buffer) -> int:
        self._conn.receive_bytes(data)
        return len(data)

    def write_eof(self) -> None:
        self._conn.receive_eof()

    @property
    def pending(self) -> int:
        return self._conn._in_end - self._conn._in_start

    @property
    def eof(self) -> bool:
        return self._conn._eof and self.pending == 0


class _Outgoing:
    """MemoryBIO-like view of the connection's output (read)."""

    def __init__(self, conn: "Connection") -> None:
        self._conn = conn

    def read(self, n: int = -1) -> bytes:
        data = self._conn.bytes_to_send()
        if 0 <= n < len(data):
            self._conn._out.insert(0, data[n:])
            data = data[:n]
        return data

    @property
    def pending(self) -> int:
        return self._conn.pending_output()


class Connection:
    """One TLS 1.3 connection without I/O.

    ``config`` is a :class:`ClientConfig` or :class:`ServerConfig`;
    ``server_hostname`` (clients) is sent as SNI and checked against the
    server's certificate.  ``session`` (clients) offers a session blob from
    an earlier connection's :attr:`session` for resumption.
    """

    def __init__(self, config: _Config, server_hostname: Optional[str] = None, *,
                 session: Optional[bytes] = None, memory_limit: int = 0) -> None:
        self._conn = None
        if not isinstance(config, (ClientConfig, ServerConfig)):
            raise TypeError("config must be a ferrule.ClientConfig or ferrule.ServerConfig")
        self.server_side = isinstance(config, ServerConfig)
        if self.server_side and server_hostname is not None:
            raise UsageError("server_hostname is for client connections",
                             status=_ffi.FERRULE_USAGE)
        self.config = config  # keeps the config (and its key-log callback) alive
        self.server_hostname = server_hostname
        self._conn = _ffi.fpy_conn_new(config._cfg, server_hostname, memory_limit)
        self._in = bytearray(_INBUF_MIN)
        self._in_mv = memoryview(self._in)
        self._in_offered = 0      # size of the last _transport_buffer() view
        self._in_grow = False     # the last transport read filled it
        self._in_start = 0
        self._in_end = 0
        self._eof = False
        self._out: List[bytes] = []
        self._handshake_done = False
        self._close_sent = False
        self._peer_closed = False
        self.incoming = _Incoming(self)
        self.outgoing = _Outgoing(self)
        if session is not None:
            self.session = session

    # ---- input --------------------------------------------------------------

    def receive_bytes(self, data: Buffer) -> None:
        """Queue ciphertext received from the peer (copied)."""
        n = len(data)
        if n == 0:
            return
        if self._eof:
            raise UsageError("receive_bytes() after receive_eof()", status=_ffi.FERRULE_USAGE)
        view = self._recv_buffer(n)
        view[:n] = data
        self._in_end += n

    def receive_eof(self) -> None:
        """The transport reached end of stream (no more receive_bytes)."""
        self._eof = True
        if self._in_start == self._in_end:
            _ffi.ferrule_conn_feed_eof(self._conn)

    def _recv_buffer(self, want: int) -> memoryview:
        """Writable space for at least `want` (> 0) more input bytes."""
        start, end = self._in_start, self._in_end
        free = len(self._in) - end
        if free >= want:
            return self._in_mv[end:]
        pending = end - start
        if pending + want <= len(self._in):
            self._in_mv[:pending] = self._in_mv[start:end]
            self._in_start, self._in_end = 0, pending
        else:
            self._resize_in(max(pending + want, 2 * len(self._in)))
        return self._in_mv[self._in_end:]

    def _transport_buffer(self) -> memoryview:
        """For transports (BufferedProtocol.get_buffer): free input space,
        grown when the previous read filled what was offered."""
        if self._in_grow and len(self._in) < _INBUF_MAX:
            self._resize_in(min(2 * len(self._in), _INBUF_MAX))
        self._in_grow = False
        if len(self._in) - self._in_end < 4096:
            view = self._recv_buffer(4096)
        else:
            view = self._in_mv[self._in_end:]
        self._in_offered = len(view)
        return view

    def _resize_in(self, size: int) -> None:
        start, end = self._in_start, self._in_end
        new = bytearray(max(size, end - start))
        new[:end - start] = self._in_mv[start:end]
        self._in_mv.release()
        self._in = new
        self._in_mv = memoryview(new)
        self._in_start, self._in_end = 0, end - start

    def _recv_commit(self, n: int) -> None:
        self._in_end += n
        if n >= self._in_offered:
            self._in_grow = True

    def _consumed(self, n: int) -> None:
        self._in_start += n
        if self._in_start == self._in_end:
            self._in_start = self._in_end = 0
            if self._eof:
                _ffi.ferrule_conn_feed_eof(self._conn)

    def _pending_view(self) -> memoryview:
        return self._in_mv[self._in_start:self._in_end]

    # ---- output ---------------------------------------------------------------

    def bytes_to_send(self) -> bytes:
        """All ciphertext waiting for the peer (b"" if none)."""
        tail = _c.fpy_take_all(self._conn)
        if not self._out:
            return tail
        if tail:
            self._out.append(tail)
        data = b"".join(self._out)
        self._out.clear()
        return data

    def pending_output(self) -> int:
        return sum(map(len, self._out)) + int(_ffi.ferrule_conn_pending_output(self._conn))

    # ---- drivers ----------------------------------------------------------------

    def do_handshake(self) -> None:
        """Advance the handshake; returns once it is complete.  Raises
        WantRead when it needs more bytes (send bytes_to_send() first)."""
        if self._handshake_done:
            return
        off, st = _c.fpy_handshake(self._conn, self._pending_view())
        self._consumed(off)
        if st == _OK:
            self._handshake_done = True
            return
        if st == _WANT_WRITE:
            raise WantWrite("handshake: send bytes_to_send() first", status=st)
        raise WantRead("handshake: need more bytes from the peer", status=st)

    @property
    def handshake_done(self) -> bool:
        return self._handshake_done

    def read(self, n: int = 16384, buffer: Optional[Union[bytearray, memoryview]] = None
             ) -> Union[bytes, int]:
        """Read up to `n` bytes of plaintext (into `buffer` if given; then
        the count is returned).  Returns b"" (or 0) after the peer's
        close_notify; raises WantRead when no plaintext is available,
        Truncated after an EOF without close_notify."""
        if n <= 0 and buffer is None:
            raise ValueError("n must be positive")
        if self._peer_closed:
            return 0 if buffer is not None else b""
        off, data, st = _c.fpy_recv(self._conn, self._pending_view(), n, buffer)
        self._consumed(off)
        if st == _CLOSED:
            self._peer_closed = True
        if data:
            self._handshake_done = True
            return data
        if st == _CLOSED:
            self._handshake_done = True
            return data
        if st == _WANT_READ:
            if not self._handshake_done and _ffi.ferrule_conn_handshake_state(self._conn) \
                    == _ffi.FERRULE_HS_CONNECTED:
                self._handshake_done = True
            raise WantRead("read: no plaintext available; need more bytes from the peer",
                           status=st)
        return data

    def _recv(self, n: int) -> Tuple[bytes, int]:
        """For transports: (plaintext, status) with status OK / WANT_READ /
        CLOSED; raises on fatal errors."""
        off, data, st = _c.fpy_recv(self._conn, self._pending_view(), n, None)
        self._consumed(off)
        if st == _CLOSED:
            self._peer_closed = True
        return data, st

    def write(self, data: Buffer) -> int:
        """Encrypt all of `data`; the records wait in bytes_to_send()."""
        ct = _c.fpy_send(self._conn, data)
        if ct:
            self._out.append(ct)
        return len(data)

    def _encrypt(self, data: Buffer) -> bytes:
        """For transports: the ciphertext for `data`, plus anything pending."""
        ct = _c.fpy_send(self._conn, data)
        if self._out:
            self._out.append(ct)
            ct = b"".join(self._out)
            self._out.clear()
        return ct

    # ---- 0-RTT (docs/early-data.md) ---------------------------------------------

    def write_early_data(self, data: Buffer, *, replay_safe: Optional[bool] = None) -> int:
        """Client: send `data` as 0-RTT early data, before the handshake.

        0-RTT data can be replayed by an attacker: pass ``replay_safe=True``
        to state that processing it twice does no harm (an idempotent
        request); without it this raises UsageError.  Needs ``early_data=True``
        on the config and a ``session`` whose ticket allows early data
        (else UsageError with reason "no_early_data"; a normal handshake can
        still follow).  The first call queues the ClientHello, then the data;
        further calls are possible until the server's answer is processed.
        Returns how many bytes were taken (at most what the ticket's
        max_early_data_size leaves).  If :attr:`early_data_status` is
        "rejected" after the handshake, none of it was delivered: send it
        again with :meth:`write`."""
        if replay_safe is not True:
            raise UsageError("write_early_data: 0-RTT data can be replayed; pass "
                             "replay_safe=True to declare that delivering it twice is harmless",
                             reason_code=_ffi.FERRULE_R_NOT_REPLAY_SAFE,
                             status=_ffi.FERRULE_USAGE)
        return int(_ffi.ferrule_conn_write_early_data(self._conn, data,
                                                      _ffi.FERRULE_EARLY_DATA_REPLAY_SAFE))

    def read_early_data(self, n: int = 16384) -> bytes:
        """Server: up to `n` bytes of 0-RTT data while the handshake runs
        (this also drives the handshake: send bytes_to_send() after it).
        Returns b"" once no (more) early data will come (none offered,
        rejected, or all of it read): continue with do_handshake().  Raises
        WantRead when more bytes from the peer are needed.  Early data not
        read here is returned first by read() after the handshake."""
        if n <= 0:
            raise ValueError("n must be positive")
        off, data, st = _c.fpy_read_early_data(self._conn, self._pending_view(), n)
        self._consumed(off)
        if data or st == _OK:
            return data
        if st == _WANT_WRITE:
            raise WantWrite("read_early_data: send bytes_to_send() first", status=st)
        raise WantRead("read_early_data: need more bytes from the peer", status=st)

    @property
    def early_data_status(self) -> str:
        """The 0-RTT outcome: "not_offered", "offered" (client: sent, the
        server's answer not yet known), "accepted" or "rejected" (nothing of
        it was delivered)."""
        return _EARLY_STATUS.get(int(_ffi.ferrule_conn_early_data_status(self._conn)), "unknown")

    @property
    def early_data_len(self) -> int:
        """Client: bytes written as early data.  Server: bytes received as
        early data (the first bytes of the stream)."""
        return int(_ffi.ferrule_conn_early_data_len(self._conn))

    def unwrap(self) -> None:
        """Send close_notify (once) and wait for the peer's: returns when it
        has arrived, raises WantRead until then.  Application data that
        arrives meanwhile is discarded."""
        if not self._close_sent:
            _ffi.ferrule_conn_close(self._conn)
            self._close_sent = True
        while not self._peer_closed:
            data, st = self._recv(65536)
            if st == _WANT_READ and not data:
                raise WantRead("unwrap: waiting for the peer's close_notify", status=st)

    def close_notify(self) -> None:
        """Queue close_notify without waiting for the peer's (half close)."""
        if not self._close_sent:
            _ffi.ferrule_conn_close(self._conn)
            self._close_sent = True

    def key_update(self, request_peer: bool = True) -> None:
        """Queue a KeyUpdate (RFC 8446 §4.6.3)."""
        _ffi.ferrule_conn_key_update(self._conn, 1 if request_peer else 0)

    # ---- introspection ---------------------------------------------------------

    def version(self) -> Optional[str]:
        """"TLSv1.3" once negotiated, else None."""
        return "TLSv1.3" if _ffi.ferrule_conn_version(self._conn) == _ffi.FERRULE_TLS13 else None

    def cipher(self) -> Optional[Tuple[str, str, int]]:
        """(IANA suite name, "TLSv1.3", secret bits) like ssl.SSLObject.cipher()."""
        suite = _ffi.ferrule_conn_cipher_suite(self._conn)
        if not suite:
            return None
        return (_ffi.ferrule_cipher_suite_name(suite), "TLSv1.3", _CIPHER_BITS.get(suite, 0))

    def group(self) -> Optional[str]:
        g = _ffi.ferrule_conn_group(self._conn)
        return _ffi.ferrule_group_name(g) if g else None

    def selected_alpn_protocol(self) -> Optional[str]:
        proto = _ffi.ferrule_conn_alpn(self._conn)
        return proto.decode("ascii", "replace") if proto else None

    def getpeercert(self, binary_form: bool = False) -> Union[None, bytes, Dict[str, Any]]:
        """The peer's leaf certificate, like :meth:`ssl.SSLSocket.getpeercert`.

        Raises ValueError("handshake not done yet") before the handshake
        completed, as the stdlib does; None if the peer sent none (or after
        :meth:`free`).  ``binary_form=True``: the DER bytes.
        Otherwise the stdlib's dict ('subject', 'issuer', 'version',
        'serialNumber', 'notBefore', 'notAfter', and 'subjectAltName',
        'OCSP', 'caIssuers', 'crlDistributionPoints' when present) if the
        certificate was validated, and {} if it was not (verification
        disabled), as the stdlib does.  A resumed client connection shows
        the certificate of the original connection (from the session); a
        resumed server connection with client_auth the client certificate
        its ticket carried, validated again on resumption.
        The dict is built from libferrule's X.509 accessors (the
        handshake's own strict parser; ferrule/_peercert.py formats it).
        Raises ValueError (a ``ferrule._peercert.DERError``) for a value the
        dict cannot show, e.g. a name attribute that is not a valid string
        of its ASN.1 type."""
        conn = self._conn
        if conn is None:
            return None
        if not self._handshake_complete():
            # ssl.SSLObject.getpeercert: a ValueError with this text.
            raise ValueError("handshake not done yet")
        if _ffi.ferrule_conn_peer_cert_count(conn) == 0:
            return None
        if binary_form:
            return _ffi.ferrule_conn_peer_cert(conn, 0)
        if not self._peer_validated():
            return {}
        return _peercert.peer_certificate(conn, 0)

    def _handshake_complete(self) -> bool:
        """True once the handshake completed (whichever call drove it)."""
        if not self._handshake_done and self._conn is not None and \
                _ffi.ferrule_conn_handshake_state(self._conn) == _ffi.FERRULE_HS_CONNECTED:
            self._handshake_done = True
        return self._handshake_done

    def _peer_validated(self) -> bool:
        """True if the peer's chain was validated (this handshake, or the
        original one of a resumed client connection under a verifying
        config)."""
        if _ffi.ferrule_conn_verify_result(self._conn) is not None:
            return True
        return (not self.server_side and self.config._verify
                and bool(_ffi.ferrule_conn_resumed(self._conn)))

    def get_peer_chain(self) -> List[bytes]:
        """The peer's certificate chain as sent (DER, leaf first)."""
        return [_ffi.ferrule_conn_peer_cert(self._conn, i)
                for i in range(_ffi.ferrule_conn_peer_cert_count(self._conn))]

    def server_name(self) -> Optional[str]:
        """SNI sent (client) or received (server)."""
        return _ffi.ferrule_conn_server_name(self._conn)

    @property
    def session(self) -> Optional[bytes]:
        """Client: the session blob of the newest ticket received (None if
        none yet).  It holds the resumption secret: protect it like a
        private key.  Assign one before the handshake to resume."""
        if self.server_side:
            return None
        return _ffi.fpy_session(self._conn)

    @session.setter
    def session(self, blob: bytes) -> None:
        if self.server_side:
            raise UsageError("session: only clients resume", status=_ffi.FERRULE_USAGE)
        _ffi.ferrule_conn_set_session(self._conn, blob)

    @property
    def session_reused(self) -> bool:
        return bool(_ffi.ferrule_conn_resumed(self._conn))

    @property
    def hello_retry(self) -> bool:
        return bool(_ffi.ferrule_conn_hrr(self._conn))

    @property
    def peer_record_size_limit(self) -> Optional[int]:
        """The peer's RFC 8449 record_size_limit once negotiated (we send
        at most value - 1 bytes of data per record), else None."""
        v = int(_ffi.ferrule_conn_peer_record_size_limit(self._conn))
        return v or None

    @property
    def cert_index(self) -> Optional[int]:
        """The index of the certificate chain this side sent (server: the
        selected one), or None (none sent, e.g. resumed)."""
        i = int(_ffi.ferrule_conn_cert_index(self._conn))
        return i if i >= 0 else None

    @property
    def memory_used(self) -> int:
        return int(_ffi.ferrule_conn_memory_used(self._conn))

    @property
    def key_updates(self) -> Tuple[int, int]:
        """(sent, received)."""
        return (int(_ffi.ferrule_conn_key_updates_sent(self._conn)),
                int(_ffi.ferrule_conn_key_updates_received(self._conn)))

    def handshake_state(self) -> str:
        return _ffi.ferrule_handshake_state_name(_ffi.ferrule_conn_handshake_state(self._conn))

    def export_keying_material(self, label: Union[str, bytes], length: int,
                               context: Optional[bytes] = None) -> bytes:
        """RFC 8446 §7.5 exporter."""
        out = bytearray(length)
        lbl = label.encode("ascii") if isinstance(label, str) else bytes(label)
        _ffi.ferrule_conn_export_keying_material(self._conn, lbl, context or b"", out)
        return bytes(out)

    # ---- lifetime ------------------------------------------------------------------

    def free(self) -> None:
        """Release the C connection now (wipes its secrets)."""
        conn, self._conn = self._conn, None
        if conn is not None:
            _ffi.ferrule_conn_free(conn)

    def __del__(self) -> None:
        try:
            self.free()
        except Exception:
            pass

    def __repr__(self) -> str:
        role = "server" if self.server_side else "client"
        state = self.handshake_state() if self._conn is not None else "freed"
        return f"<ferrule.Connection {role} {state}>"


