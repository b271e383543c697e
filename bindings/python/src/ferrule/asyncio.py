"""asyncio support: TLS streams, servers, start_tls, and the transport.

The transport has the contract of asyncio's own TLS transport:

- the application protocol's ``connection_made`` runs once the handshake
  is complete (``open_connection`` / ``create_connection`` return then);
- write flow control: ciphertext is produced at ``write()`` and buffered by
  the socket transport underneath, whose high/low water marks
  (``set_write_buffer_limits``) pause and resume the application protocol
  (``pause_writing`` / ``resume_writing``, so ``StreamWriter.drain()``
  waits);
- read flow control: ``pause_reading()`` stops delivery at once; at most
  ``_MAX_PENDING_IN`` bytes of ciphertext are buffered meanwhile, then the
  socket is not read any more;
- handshake and shutdown timeouts (``ssl_handshake_timeout``,
  ``ssl_shutdown_timeout``, defaults 60 s and 30 s like asyncio);
- ``close()`` sends close_notify after the data already written and waits
  (up to the shutdown timeout) for the peer's; ``abort()`` closes at once;
- the peer's close_notify is an end of stream (``eof_received``); an EOF of
  the socket without close_notify reaches the application as
  ``connection_lost(ferrule.Truncated(...))``, never as a clean EOF (a
  StreamReader raises it from ``read()``);
- ``get_extra_info()``: ``peercert`` (the dict of
  :meth:`ssl.SSLSocket.getpeercert`, {} if the certificate was not
  validated, None without one), ``peercert_der`` (the leaf's DER),
  ``peer_chain`` (the chain as sent, DER), ``cipher``, ``version``, ``alpn_protocol``,
  ``early_data`` (the 0-RTT outcome: "not_offered", "accepted",
  "rejected"), ``ferrule_object`` (the :class:`ferrule.Connection`), plus
  whatever the socket transport knows (``sockname``, ``peername``,
  ``socket``).

0-RTT: a client passes ``early_data=b"..."`` (with ``session=``) to
``open_connection`` / ``create_connection``; passing it there declares the
bytes replay-safe (an attacker can make the server process them twice: send
only idempotent requests).  They go out as early data with the ClientHello;
if the server rejects them (or the session does not allow 0-RTT), they are
sent again right after the handshake, before the application gets the
connection, so the stream carries them exactly once either way.  A server
(``ServerConfig(early_data=True)``) delivers accepted early data as the
first bytes of the stream (``conn.early_data_len`` of them).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Callable, Optional, Tuple, Union

from . import _ffi
from ._config import ClientConfig, ServerConfig
from ._connection import Connection
from ._errors import Error, Truncated, UsageError, WantRead

__all__ = ["open_connection", "start_server", "start_tls", "create_connection",
           "create_server", "FerruleProtocol", "FerruleTransport"]

log = logging.getLogger("ferrule.asyncio")

HANDSHAKE_TIMEOUT = 60.0
SHUTDOWN_TIMEOUT = 30.0
_READ_CHUNK = 256 * 1024          # plaintext per C call / per data_received
_MAX_PENDING_IN = 256 * 1024      # ciphertext buffered while the app is paused
_LOG_THRESHOLD_FOR_CONNLOST_WRITES = 5

_OK = _ffi.FERRULE_OK
_CLOSED = _ffi.FERRULE_CLOSED

# Protocol states.
_HANDSHAKE, _WRAPPED, _SHUTDOWN, _DONE = "handshake", "wrapped", "shutdown", "done"


class FerruleTransport(asyncio.Transport):
    """The application's side of a TLS connection (made by FerruleProtocol)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, proto: "FerruleProtocol") -> None:
        super().__init__()
        self._loop = loop
        self._ssl_protocol = proto
        self._closed = False

    # -- extra info -------------------------------------------------------------

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._ssl_protocol._get_extra_info(name, default)

    # -- protocol ------------------------------------------------------------------

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._ssl_protocol._set_app_protocol(protocol)

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._ssl_protocol._app_protocol

    # -- closing -------------------------------------------------------------------

    def is_closing(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Send close_notify after the pending data, then close."""
        if not self._closed:
            self._closed = True
            self._ssl_protocol._start_shutdown()

    def abort(self) -> None:
        """Close at once: pending data is lost, no close_notify."""
        self._closed = True
        self._ssl_protocol._abort(None)

    def __del__(self) -> None:
        if not self._closed:
            self._closed = True
            try:
                self._ssl_protocol._abort(None)
            except Exception:
                pass

    # -- reading --------------------------------------------------------------------

    def is_reading(self) -> bool:
        return not self._ssl_protocol._app_reading_paused and not self._closed

    def pause_reading(self) -> None:
        self._ssl_protocol._pause_reading()

    def resume_reading(self) -> None:
        self._ssl_protocol._resume_reading()

    # -- writing ----------------------------------------------------------------------

    def set_write_buffer_limits(self, high: Optional[int] = None,
                                low: Optional[int] = None) -> None:
        raw = self._ssl_protocol._transport
        if raw is not None:
            raw.set_write_buffer_limits(high, low)

    def get_write_buffer_limits(self) -> Tuple[int, int]:
        raw = self._ssl_protocol._transport
        return raw.get_write_buffer_limits() if raw is not None else (0, 0)

    def get_write_buffer_size(self) -> int:
        raw = self._ssl_protocol._transport
        return raw.get_write_buffer_size() if raw is not None else 0

    def write(self, data: Union[bytes, bytearray, memoryview]) -> None:
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"data: expecting a bytes-like instance, got {type(data).__name__}")
        if not data:
            return
        self._ssl_protocol._write(data)

    def can_write_eof(self) -> bool:
        return False

    def write_eof(self) -> None:
        raise NotImplementedError("TLS transports cannot half-close with write_eof(); "
                                  "use close()")


class FerruleProtocol(asyncio.BufferedProtocol):
    """The protocol on the socket transport: runs the TLS connection and
    drives the application protocol through a FerruleTransport."""

    def __init__(self, loop: asyncio.AbstractEventLoop, app_protocol: asyncio.BaseProtocol,
                 conn: Connection, waiter: Optional["asyncio.Future[None]"] = None, *,
                 call_connection_made: bool = True,
                 ssl_handshake_timeout: Optional[float] = None,
                 ssl_shutdown_timeout: Optional[float] = None,
                 early_data: Optional[bytes] = None) -> None:
        if ssl_handshake_timeout is not None and ssl_handshake_timeout <= 0:
            raise ValueError("ssl_handshake_timeout must be positive")
        if ssl_shutdown_timeout is not None and ssl_shutdown_timeout <= 0:
            raise ValueError("ssl_shutdown_timeout must be positive")
        self._loop = loop
        self._conn = conn
        self._waiter = waiter
        self._call_connection_made = call_connection_made
        self._handshake_timeout = ssl_handshake_timeout or HANDSHAKE_TIMEOUT
        self._shutdown_timeout = ssl_shutdown_timeout or SHUTDOWN_TIMEOUT
        self._app_protocol: asyncio.BaseProtocol = app_protocol
        self._app_protocol_buffered = isinstance(app_protocol, asyncio.BufferedProtocol)
        self._app_transport = FerruleTransport(loop, self)
        self._app_connected = False   # connection_made called on the app protocol
        self._transport: Optional[asyncio.Transport] = None
        self._state = _HANDSHAKE
        self._handshake_timer: Optional[asyncio.TimerHandle] = None
        self._shutdown_timer: Optional[asyncio.TimerHandle] = None
        self._app_reading_paused = False
        self._raw_reading_paused = False
        self._exc: Optional[BaseException] = None  # why the connection ended
        self._eof_delivered = False
        self._eof_pending = False     # socket EOF held back while paused
        self._conn_lost_writes = 0
        self._early_data = early_data  # client: 0-RTT bytes to send
        self._early_sent = 0

    # ---- socket transport events ----------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]
        self._handshake_timer = self._loop.call_later(self._handshake_timeout,
                                                      self._on_handshake_timeout)
        if self._early_data:
            self._write_early_data()
        self._do_handshake()

    def _write_early_data(self) -> None:
        assert self._early_data is not None
        try:
            self._early_sent = self._conn.write_early_data(self._early_data, replay_safe=True)
        except UsageError as e:
            # No 0-RTT with this session (reason no_early_data): the data
            # goes out after the handshake instead.
            log.debug("early data not sent: %s", e)
            self._early_sent = 0

    def get_buffer(self, sizehint: int) -> memoryview:
        return self._conn._transport_buffer()

    def buffer_updated(self, nbytes: int) -> None:
        self._conn._recv_commit(nbytes)
        self._process()

    def eof_received(self) -> bool:
        self._conn.receive_eof()
        if self._state == _WRAPPED and self._app_reading_paused:
            # Records (maybe the close_notify) wait behind the pause: keep
            # the socket until resume_reading() has delivered them.
            self._eof_pending = True
            return True
        self._process()
        # Let the socket transport close (then connection_lost).
        return False

    def connection_lost(self, exc: Optional[BaseException]) -> None:
        self._cancel_timers()
        state, self._state = self._state, _DONE
        self._transport = None
        if state == _HANDSHAKE:
            self._finish_waiter(exc or self._exc or ConnectionResetError(
                "connection closed during the TLS handshake"))
        if self._app_connected:
            self._app_connected = False
            err = self._exc if self._exc is not None else exc
            if err is None and not self._conn._peer_closed and not self._app_transport._closed:
                # The socket went away without close_notify.
                err = Truncated("connection lost without close_notify: data may be truncated",
                                reason_code=_ffi.FERRULE_R_TRUNCATED,
                                status=_ffi.FERRULE_TRUNCATED)
            lost: Callable[[Optional[BaseException]], object] = \
                self._app_protocol.connection_lost  # type: ignore[assignment]
            self._loop.call_soon(lost, err)
        self._app_transport._closed = True

    def pause_writing(self) -> None:
        if self._app_connected:
            self._app_protocol.pause_writing()

    def resume_writing(self) -> None:
        if self._app_connected:
            self._app_protocol.resume_writing()

    # ---- the TLS engine ----------------------------------------------------------

    def _flush(self) -> None:
        data = self._conn.bytes_to_send()
        if data and self._transport is not None:
            self._transport.write(data)

    def _process(self) -> None:
        if self._state == _HANDSHAKE:
            self._do_handshake()
        if self._state in (_WRAPPED, _SHUTDOWN):
            self._do_read()
        self._control_raw_reading()

    def _do_handshake(self) -> None:
        try:
            self._conn.do_handshake()
        except WantRead:
            self._flush()
            return
        except Error as e:
            self._flush()  # the alert
            self._fail(e)
            return
        except Exception as e:  # a bug: do not leave the waiter hanging
            self._fail(e)
            return
        self._flush()
        if self._handshake_timer is not None:
            self._handshake_timer.cancel()
            self._handshake_timer = None
        if self._early_data:
            # Rejected (or never sent): none of it was delivered, send it
            # now; accepted: whatever the ticket's limit left over.
            data, self._early_data = self._early_data, None
            if self._conn.early_data_status != "accepted":
                self._early_sent = 0
            rest = data[self._early_sent:]
            if rest:
                try:
                    ct = self._conn._encrypt(rest)
                except Error as e:
                    self._fail(e)
                    return
                if ct and self._transport is not None:
                    self._transport.write(ct)
        self._state = _WRAPPED
        self._app_connected = True
        if self._call_connection_made:
            self._app_protocol.connection_made(self._app_transport)
        self._finish_waiter(None)

    def _do_read(self) -> None:
        conn = self._conn
        try:
            while not self._app_reading_paused and self._state != _DONE:
                data, st = conn._recv(_READ_CHUNK)
                if data and self._state == _WRAPPED and self._app_connected:
                    self._deliver(data)
                if st == _CLOSED:
                    self._on_peer_close()
                    break
                if st != _OK or not data:
                    break
        except Error as e:
            self._flush()  # the alert, if one was sent
            if self._state == _SHUTDOWN:
                # The application closed first and wants no more data: a
                # peer that drops the connection instead of answering our
                # close_notify has cut nothing short.
                log.debug("after our close_notify: %s", e)
                self._close_raw()
                return
            self._fail(e)
            return
        self._flush()  # owed output (KeyUpdate answers)

    def _deliver(self, data: bytes) -> None:
        app = self._app_protocol
        if not self._app_protocol_buffered:
            app.data_received(data)  # type: ignore[attr-defined]
            return
        view = memoryview(data)
        while view:
            buf = app.get_buffer(len(view))  # type: ignore[attr-defined]
            n = min(len(buf), len(view))
            if n == 0:
                raise RuntimeError("get_buffer() returned an empty buffer")
            buf[:n] = view[:n]
            app.buffer_updated(n)  # type: ignore[attr-defined]
            view = view[n:]

    def _on_peer_close(self) -> None:
        if not self._eof_delivered and self._app_connected and self._state == _WRAPPED:
            self._eof_delivered = True
            try:
                keep_open = self._app_protocol.eof_received()  # type: ignore[attr-defined]
            except (KeyboardInterrupt, SystemExit):
                raise
            except BaseException as e:
                self._fail(e)
                return
            if keep_open:
                log.debug("eof_received() returned true: ignored, TLS answers close_notify")
        if self._state == _SHUTDOWN:
            # Our close_notify went first; the peer's completes the shutdown.
            self._close_raw()
        else:
            # Answer with our close_notify and close.
            self._start_shutdown()

    def _control_raw_reading(self) -> None:
        raw = self._transport
        if raw is None or self._state == _DONE:
            return
        pending = self._conn._in_end - self._conn._in_start
        if pending >= _MAX_PENDING_IN and not self._raw_reading_paused:
            self._raw_reading_paused = True
            raw.pause_reading()
        elif pending < _MAX_PENDING_IN and self._raw_reading_paused:
            self._raw_reading_paused = False
            raw.resume_reading()

    # ---- application calls ------------------------------------------------------------

    def _write(self, data: Union[bytes, bytearray, memoryview]) -> None:
        if self._state != _WRAPPED or self._app_transport._closed:
            if self._conn_lost_writes >= _LOG_THRESHOLD_FOR_CONNLOST_WRITES:
                log.warning("TLS connection is closed")
            self._conn_lost_writes += 1
            return
        try:
            ct = self._conn._encrypt(data)
        except Error as e:
            self._fail(e)
            return
        if ct:
            self._transport.write(ct)  # type: ignore[union-attr]

    def _pause_reading(self) -> None:
        self._app_reading_paused = True

    def _resume_reading(self) -> None:
        if not self._app_reading_paused:
            return
        self._app_reading_paused = False

        def resume() -> None:
            if self._state in (_WRAPPED, _SHUTDOWN):
                self._do_read()
                self._control_raw_reading()
            if self._eof_pending and not self._app_reading_paused and self._state != _DONE:
                # Everything before the socket EOF was delivered (the read
                # above ended in close_notify, Truncated or want-read with
                # EOF, which raises Truncated); close like eof_received.
                self._eof_pending = False
                self._close_raw()
        self._loop.call_soon(resume)

    def _start_shutdown(self) -> None:
        if self._state in (_SHUTDOWN, _DONE):
            return
        if self._state == _HANDSHAKE:
            self._abort(None)
            return
        self._state = _SHUTDOWN
        self._app_transport._closed = True
        try:
            self._conn.close_notify()
        except Error as e:
            log.debug("close_notify: %s", e)
        self._flush()
        if self._conn._peer_closed or self._exc is not None:
            self._close_raw()
            return
        self._shutdown_timer = self._loop.call_later(self._shutdown_timeout,
                                                     self._on_shutdown_timeout)
        # The peer's close_notify may already be buffered.
        self._do_read_for_shutdown()

    def _do_read_for_shutdown(self) -> None:
        try:
            while True:
                data, st = self._conn._recv(_READ_CHUNK)  # discarded: the app closed
                if st == _CLOSED:
                    self._close_raw()
                    return
                if st != _OK or not data:
                    return
        except Error as e:
            log.debug("during shutdown: %s", e)
            self._close_raw()

    def _close_raw(self) -> None:
        self._cancel_timers()
        if self._transport is not None:
            self._transport.close()

    def _abort(self, exc: Optional[BaseException]) -> None:
        if exc is not None and self._exc is None:
            self._exc = exc
        self._app_transport._closed = True
        if self._transport is not None:
            self._transport.abort()
        elif self._state == _HANDSHAKE:
            self._finish_waiter(exc or ConnectionAbortedError("connection aborted"))

    def _fail(self, exc: BaseException) -> None:
        """A fatal error: remember it for connection_lost, flush the alert,
        close the socket."""
        if self._exc is None:
            self._exc = exc
        if self._state == _HANDSHAKE:
            self._finish_waiter(exc)
        self._app_transport._closed = True
        self._close_raw()

    def _on_handshake_timeout(self) -> None:
        self._handshake_timer = None
        if self._state == _HANDSHAKE:
            self._abort(ConnectionAbortedError(
                f"TLS handshake is taking longer than {self._handshake_timeout} seconds: "
                "aborting the connection"))

    def _on_shutdown_timeout(self) -> None:
        self._shutdown_timer = None
        if self._transport is not None:
            log.debug("no close_notify within %s s: aborting", self._shutdown_timeout)
            self._transport.abort()

    def _cancel_timers(self) -> None:
        for name in ("_handshake_timer", "_shutdown_timer"):
            t = getattr(self, name)
            if t is not None:
                t.cancel()
                setattr(self, name, None)

    def _finish_waiter(self, exc: Optional[BaseException]) -> None:
        w, self._waiter = self._waiter, None
        if w is None or w.done():
            return
        if exc is None:
            w.set_result(None)
        else:
            w.set_exception(exc)

    def _set_app_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._app_protocol = protocol
        self._app_protocol_buffered = isinstance(protocol, asyncio.BufferedProtocol)

    def _get_extra_info(self, name: str, default: Any = None) -> Any:
        conn = self._conn
        if name == "ferrule_object":
            return conn
        if name in ("peercert", "peercert_der"):
            # Like asyncio's own TLS transport: not there before the
            # handshake completed (getpeercert() raises ValueError then).
            if not conn._handshake_complete():
                return default
            return conn.getpeercert(name == "peercert_der")
        if name == "peer_chain":
            return conn.get_peer_chain()
        if name == "cipher":
            return conn.cipher()
        if name == "version":
            return conn.version()
        if name == "alpn_protocol":
            return conn.selected_alpn_protocol()
        if name == "early_data":
            return conn.early_data_status
        if name == "compression":
            return None
        if name == "server_hostname":
            return conn.server_hostname
        if self._transport is not None:
            return self._transport.get_extra_info(name, default)
        return default


# ---- connection helpers -----------------------------------------------------------


def _check_config(config: Any, server_side: bool) -> None:
    want = ServerConfig if server_side else ClientConfig
    if not isinstance(config, want):
        raise TypeError(f"config must be a ferrule.{want.__name__}")


def _retrieve(fut: "asyncio.Future[None]") -> None:
    # Server-side handshakes have nobody awaiting them: log, do not warn.
    if not fut.cancelled() and fut.exception() is not None:
        log.debug("TLS handshake failed: %s", fut.exception())


async def create_connection(protocol_factory: Callable[[], asyncio.BaseProtocol],
                            host: Optional[str] = None, port: Optional[int] = None, *,
                            config: ClientConfig, server_hostname: Optional[str] = None,
                            session: Optional[bytes] = None,
                            early_data: Optional[bytes] = None,
                            ssl_handshake_timeout: Optional[float] = None,
                            ssl_shutdown_timeout: Optional[float] = None,
                            **kwds: Any) -> Tuple[FerruleTransport, asyncio.BaseProtocol]:
    """Like loop.create_connection() with TLS by ferrule; returns once the
    handshake is complete.  ``server_hostname`` defaults to ``host``.
    ``early_data`` (bytes, with ``session``): sent as 0-RTT, which declares
    it replay-safe; resent after the handshake if the server rejects it
    (see the module docstring)."""
    _check_config(config, False)
    if early_data is not None:
        if not isinstance(early_data, (bytes, bytearray, memoryview)):
            raise TypeError("early_data must be bytes")
        early_data = bytes(early_data)
        if session is None:
            raise UsageError("early_data needs a session to resume (0-RTT)",
                             reason_code=_ffi.FERRULE_R_NO_EARLY_DATA,
                             status=_ffi.FERRULE_USAGE)
        if not config.early_data:
            raise UsageError("early_data needs ClientConfig(early_data=True)",
                             reason_code=_ffi.FERRULE_R_NO_EARLY_DATA,
                             status=_ffi.FERRULE_USAGE)
    loop = asyncio.get_running_loop()
    if server_hostname is None:
        if not host:
            raise ValueError("server_hostname is required without host")
        server_hostname = host
    waiter = loop.create_future()
    app = protocol_factory()
    conn = Connection(config, server_hostname, session=session)
    raw, proto = await loop.create_connection(
        lambda: FerruleProtocol(loop, app, conn, waiter,
                                ssl_handshake_timeout=ssl_handshake_timeout,
                                ssl_shutdown_timeout=ssl_shutdown_timeout,
                                early_data=early_data or None),
        host, port, **kwds)  # type: ignore[arg-type]  # None like asyncio's (sock=...)
    try:
        await waiter
    except BaseException:
        raw.close()
        raise
    return proto._app_transport, app  # type: ignore[attr-defined]


async def create_server(protocol_factory: Callable[[], asyncio.BaseProtocol],
                        host: Any = None, port: Optional[int] = None, *,
                        config: ServerConfig,
                        ssl_handshake_timeout: Optional[float] = None,
                        ssl_shutdown_timeout: Optional[float] = None,
                        **kwds: Any) -> asyncio.AbstractServer:
    """Like loop.create_server() with TLS by ferrule.  The application
    protocol's connection_made runs after the handshake."""
    _check_config(config, True)
    loop = asyncio.get_running_loop()

    def factory() -> FerruleProtocol:
        waiter = loop.create_future()
        waiter.add_done_callback(_retrieve)
        return FerruleProtocol(loop, protocol_factory(), Connection(config), waiter,
                               ssl_handshake_timeout=ssl_handshake_timeout,
                               ssl_shutdown_timeout=ssl_shutdown_timeout)
    return await loop.create_server(factory, host, port, **kwds)


async def open_connection(host: Optional[str] = None, port: Optional[int] = None, *,
                          config: ClientConfig, server_hostname: Optional[str] = None,
                          limit: int = 2 ** 16, **kwds: Any
                          ) -> Tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Like asyncio.open_connection() with TLS by ferrule: returns a
    (StreamReader, StreamWriter) pair once the handshake is complete.
    Other keywords: ``session``, ``early_data`` (0-RTT with ``session``:
    passing it declares it replay-safe; if the server rejects it, it is
    sent again after the handshake, so the server's stream holds it exactly
    once; ``writer.get_extra_info("early_data")`` tells the outcome),
    ``ssl_handshake_timeout``, ``ssl_shutdown_timeout`` and those of
    loop.create_connection()."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=limit, loop=loop)
    protocol = asyncio.StreamReaderProtocol(reader, loop=loop)
    transport, _ = await create_connection(lambda: protocol, host, port, config=config,
                                           server_hostname=server_hostname, **kwds)
    writer = asyncio.StreamWriter(transport, protocol, reader, loop)
    return reader, writer


async def start_server(client_connected_cb: Callable[[asyncio.StreamReader, asyncio.StreamWriter],
                                                     Optional[Awaitable[None]]],
                       host: Any = None, port: Optional[int] = None, *,
                       config: ServerConfig, limit: int = 2 ** 16,
                       **kwds: Any) -> asyncio.AbstractServer:
    """Like asyncio.start_server() with TLS by ferrule.  client_connected_cb
    runs once a client's handshake is complete.  With
    ``ServerConfig(early_data=True)``, accepted 0-RTT data are the first
    bytes the StreamReader returns (``writer.get_extra_info("early_data")``
    is then "accepted")."""
    loop = asyncio.get_running_loop()

    def factory() -> asyncio.StreamReaderProtocol:
        reader = asyncio.StreamReader(limit=limit, loop=loop)
        return asyncio.StreamReaderProtocol(reader, client_connected_cb, loop=loop)
    return await create_server(factory, host, port, config=config, **kwds)


async def start_tls(transport: asyncio.BaseTransport, protocol: asyncio.BaseProtocol,
                    config: Union[ClientConfig, ServerConfig], *, server_side: bool = False,
                    server_hostname: Optional[str] = None, session: Optional[bytes] = None,
                    ssl_handshake_timeout: Optional[float] = None,
                    ssl_shutdown_timeout: Optional[float] = None) -> FerruleTransport:
    """Upgrade an existing connection to TLS, like loop.start_tls(): returns
    the new transport for `protocol` once the handshake is complete."""
    _check_config(config, server_side)
    if not server_side and not server_hostname:
        raise UsageError("start_tls: a client needs server_hostname",
                         status=_ffi.FERRULE_USAGE)
    loop = asyncio.get_running_loop()
    waiter = loop.create_future()
    conn = Connection(config, None if server_side else server_hostname, session=session)
    proto = FerruleProtocol(loop, protocol, conn, waiter, call_connection_made=False,
                            ssl_handshake_timeout=ssl_handshake_timeout,
                            ssl_shutdown_timeout=ssl_shutdown_timeout)
    transport.pause_reading()  # type: ignore[attr-defined]
    transport.set_protocol(proto)
    made = loop.call_soon(proto.connection_made, transport)
    resumed = loop.call_soon(transport.resume_reading)  # type: ignore[attr-defined]
    try:
        await waiter
    except BaseException:
        transport.close()
        made.cancel()
        resumed.cancel()
        raise
    return proto._app_transport
