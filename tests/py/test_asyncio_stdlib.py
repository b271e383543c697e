"""ferrule.asyncio against Python's own ssl asyncio, both roles, loopback."""

from __future__ import annotations

import asyncio
import ssl

import pytest

import ferrule
import ferrule.asyncio as fa
from conftest import (GROUPS, KINDS, SUITES, TIMEOUT, client_config, echo_handler, port_of,
                      server_config, stdlib_client_ctx, stdlib_server_ctx)

CELLS = [pytest.param(s, g, id=f"{s}-{g}") for s in SUITES for g in GROUPS]


async def roundtrip(reader, writer, payload: bytes) -> bytes:
    writer.write(payload)
    await writer.drain()
    return await asyncio.wait_for(reader.readexactly(len(payload)), TIMEOUT)


async def close(writer):
    writer.close()
    await asyncio.wait_for(writer.wait_closed(), TIMEOUT)


@pytest.mark.parametrize("suite,group", CELLS)
async def test_ferrule_client_to_stdlib_server(pki, suite, group):
    srv = await asyncio.start_server(echo_handler, "127.0.0.1", 0, ssl=stdlib_server_ctx(pki))
    async with srv:
        cfg = client_config(pki, cipher_suites=[suite], groups=[group])
        r, w = await fa.open_connection("127.0.0.1", port_of(srv), config=cfg,
                                        server_hostname="localhost")
        assert w.get_extra_info("cipher")[0] == suite
        assert w.get_extra_info("ferrule_object").group() == group
        assert await roundtrip(r, w, b"x" * 100_000) == b"x" * 100_000
        await close(w)


@pytest.mark.parametrize("suite,group", CELLS)
async def test_stdlib_client_to_ferrule_server(pki, suite, group):
    seen = {}

    async def handler(reader, writer):
        conn = writer.get_extra_info("ferrule_object")
        seen["suite"], seen["group"] = conn.cipher()[0], conn.group()
        await echo_handler(reader, writer)

    srv = await fa.start_server(handler, "127.0.0.1", 0,
                                config=server_config(pki, cipher_suites=[suite], groups=[group]))
    async with srv:
        r, w = await asyncio.open_connection("127.0.0.1", port_of(srv),
                                             ssl=stdlib_client_ctx(pki),
                                             server_hostname="localhost")
        assert w.get_extra_info("cipher")[0] == suite
        assert await roundtrip(r, w, b"y" * 70_000) == b"y" * 70_000
        w.close()
        # The ferrule server answers close_notify and closes: a clean EOF.
        await asyncio.wait_for(w.wait_closed(), TIMEOUT)
    assert seen == {"suite": suite, "group": group}


@pytest.mark.parametrize("kind", KINDS)
async def test_every_key_type_both_directions(pki, kind):
    srv = await fa.start_server(echo_handler, "127.0.0.1", 0, config=server_config(pki, kind))
    async with srv:
        r, w = await asyncio.open_connection("127.0.0.1", port_of(srv),
                                             ssl=stdlib_client_ctx(pki),
                                             server_hostname="localhost")
        assert await roundtrip(r, w, b"k") == b"k"
        await close(w)
    srv = await asyncio.start_server(echo_handler, "127.0.0.1", 0,
                                     ssl=stdlib_server_ctx(pki, kind))
    async with srv:
        r, w = await fa.open_connection("127.0.0.1", port_of(srv), config=client_config(pki),
                                        server_hostname="localhost")
        assert await roundtrip(r, w, b"k") == b"k"
        await close(w)


async def test_alpn_both_directions(pki):
    srv = await asyncio.start_server(echo_handler, "127.0.0.1", 0,
                                     ssl=stdlib_server_ctx(pki, alpn=["h2", "http/1.1"]))
    async with srv:
        r, w = await fa.open_connection("127.0.0.1", port_of(srv),
                                        config=client_config(pki, alpn_protocols=["http/1.1"]),
                                        server_hostname="localhost")
        assert w.get_extra_info("alpn_protocol") == "http/1.1"
        await close(w)
    srv = await fa.start_server(echo_handler, "127.0.0.1", 0,
                                config=server_config(pki, alpn_protocols=["h2"]))
    async with srv:
        r, w = await asyncio.open_connection("127.0.0.1", port_of(srv),
                                             ssl=stdlib_client_ctx(pki, alpn=["h2", "http/1.1"]),
                                             server_hostname="localhost")
        assert w.get_extra_info("ssl_object").selected_alpn_protocol() == "h2"
        await close(w)


async def test_extra_info(pki):
    srv = await fa.start_server(echo_handler, "127.0.0.1", 0, config=server_config(pki))
    async with srv:
        r, w = await fa.open_connection("127.0.0.1", port_of(srv), config=client_config(pki),
                                        server_hostname="localhost")
        t = w.transport
        assert isinstance(t, fa.FerruleTransport)
        assert t.get_extra_info("peername") == ("127.0.0.1", port_of(srv))
        assert t.get_extra_info("sockname")[0] == "127.0.0.1"
        assert t.get_extra_info("socket") is not None
        peercert = t.get_extra_info("peercert")  # the stdlib's dict (test_peercert.py)
        assert peercert["subject"][-1] == (("commonName", "localhost"),)
        assert t.get_extra_info("peercert_der") == t.get_extra_info("peer_chain")[0]
        assert t.get_extra_info("cipher")[1] == "TLSv1.3"
        assert t.get_extra_info("version") == "TLSv1.3"
        assert isinstance(t.get_extra_info("ferrule_object"), ferrule.Connection)
        assert t.get_extra_info("alpn_protocol") is None
        assert t.get_extra_info("no-such-key", "dflt") == "dflt"
        assert not t.can_write_eof()
        await close(w)
        assert t.is_closing()


async def test_resumption_through_asyncio_stdlib_server(pki):
    # Python's ssl server issues tickets; ferrule resumes with the blob.
    srv = await asyncio.start_server(echo_handler, "127.0.0.1", 0, ssl=stdlib_server_ctx(pki))
    async with srv:
        cfg = client_config(pki)
        r, w = await fa.open_connection("127.0.0.1", port_of(srv), config=cfg,
                                        server_hostname="localhost")
        await roundtrip(r, w, b"t")  # the tickets arrive with the first reply
        blob = w.get_extra_info("ferrule_object").session
        assert blob
        await close(w)
        r, w = await fa.open_connection("127.0.0.1", port_of(srv), config=cfg,
                                        server_hostname="localhost", session=blob)
        assert w.get_extra_info("ferrule_object").session_reused
        await roundtrip(r, w, b"again")
        await close(w)


async def test_resumption_stdlib_client_to_ferrule_server(pki):
    srv = await fa.start_server(echo_handler, "127.0.0.1", 0, config=server_config(pki))
    async with srv:
        ctx = stdlib_client_ctx(pki)
        r, w = await asyncio.open_connection("127.0.0.1", port_of(srv), ssl=ctx,
                                             server_hostname="localhost")
        await roundtrip(r, w, b"t")
        session = w.get_extra_info("ssl_object").session
        assert session is not None
        await close(w)
        # asyncio has no session argument: resume through a blocking socket.
        def resume():
            import socket
            with socket.create_connection(("127.0.0.1", port_of(srv)), TIMEOUT) as raw:
                with ctx.wrap_socket(raw, server_hostname="localhost", session=session) as s:
                    s.sendall(b"r")
                    assert s.recv(1) == b"r"
                    return s.session_reused
        assert await asyncio.get_running_loop().run_in_executor(None, resume)


async def test_start_tls_both_sides(pki):
    """Plain TCP first, then both ends upgrade (like STARTTLS)."""
    server_done = asyncio.get_running_loop().create_future()

    async def handler(reader, writer):
        try:
            assert await reader.readline() == b"STARTTLS\n"
            writer.write(b"GO\n")
            await writer.drain()
            proto = writer.transport.get_protocol()
            tls = await fa.start_tls(writer.transport, proto, server_config(pki),
                                     server_side=True)
            line = await reader.readline()
            tls.write(line.upper())
            tls.close()
            server_done.set_result(True)
        except BaseException as e:
            server_done.set_exception(e)

    srv = await asyncio.start_server(handler, "127.0.0.1", 0)
    async with srv:
        r, w = await asyncio.open_connection("127.0.0.1", port_of(srv))
        w.write(b"STARTTLS\n")
        assert await r.readline() == b"GO\n"
        tls = await fa.start_tls(w.transport, w.transport.get_protocol(), client_config(pki),
                                 server_hostname="localhost")
        assert tls.get_extra_info("version") == "TLSv1.3"
        tls.write(b"secret\n")
        assert await asyncio.wait_for(r.readline(), TIMEOUT) == b"SECRET\n"
        assert await asyncio.wait_for(r.read(), TIMEOUT) == b""  # close_notify
        tls.close()
        assert await asyncio.wait_for(server_done, TIMEOUT)


async def test_start_tls_with_stdlib_peer(pki):
    """ferrule start_tls against asyncio's loop.start_tls on the other end."""
    async def handler(reader, writer):
        await writer.start_tls(stdlib_server_ctx(pki))
        writer.write((await reader.readline()).strip()[::-1] + b"\n")
        await writer.drain()
        writer.close()

    srv = await asyncio.start_server(handler, "127.0.0.1", 0)
    async with srv:
        r, w = await asyncio.open_connection("127.0.0.1", port_of(srv))
        tls = await fa.start_tls(w.transport, w.transport.get_protocol(), client_config(pki),
                                 server_hostname="localhost")
        tls.write(b"abc\n")
        assert await asyncio.wait_for(r.readline(), TIMEOUT) == b"cba\n"
        assert await asyncio.wait_for(r.read(), TIMEOUT) == b""
        tls.close()


async def test_certificate_error_through_asyncio(pki):
    srv = await asyncio.start_server(echo_handler, "127.0.0.1", 0, ssl=stdlib_server_ctx(pki))
    async with srv:
        with pytest.raises(ferrule.CertificateError) as ei:
            await fa.open_connection("127.0.0.1", port_of(srv), config=client_config(pki),
                                     server_hostname="other.example")
        assert ei.value.reason == "cert_name_mismatch"
    # stdlib client refusing ferrule's untrusted certificate: ferrule server
    # sees the alert; the client sees its own verification error.
    srv = await fa.start_server(echo_handler, "127.0.0.1", 0,
                                config=server_config(pki, "untrusted"))
    async with srv:
        with pytest.raises(ssl.SSLCertVerificationError):
            await asyncio.open_connection("127.0.0.1", port_of(srv), ssl=stdlib_client_ctx(pki),
                                          server_hostname="localhost")


async def test_server_close_is_clean_eof_for_client(pki):
    async def handler(reader, writer):
        writer.write(b"bye")
        writer.close()

    srv = await fa.start_server(handler, "127.0.0.1", 0, config=server_config(pki))
    async with srv:
        for opener, kw in ((fa.open_connection, {"config": client_config(pki)}),
                           (asyncio.open_connection, {"ssl": stdlib_client_ctx(pki)})):
            r, w = await opener("127.0.0.1", port_of(srv), server_hostname="localhost", **kw)
            assert await asyncio.wait_for(r.read(), TIMEOUT) == b"bye"
            assert r.at_eof()
            await close(w)


async def test_write_flow_control_pauses_and_resumes(pki):
    """Writes beyond the high-water mark pause the protocol; drain()
    waits until the peer reads."""
    release = asyncio.Event()
    total = 48 * 1024 * 1024  # well beyond the kernel socket buffers
    received = asyncio.get_running_loop().create_future()

    async def slow_reader(reader, writer):
        await release.wait()
        got = 0
        while got < total:
            chunk = await reader.read(1 << 20)
            if not chunk:
                break
            got += len(chunk)
        received.set_result(got)
        writer.close()

    srv = await fa.start_server(slow_reader, "127.0.0.1", 0, config=server_config(pki))
    async with srv:
        r, w = await fa.open_connection("127.0.0.1", port_of(srv), config=client_config(pki),
                                        server_hostname="localhost")
        w.transport.set_write_buffer_limits(high=256 * 1024, low=64 * 1024)
        assert w.transport.get_write_buffer_limits() == (64 * 1024, 256 * 1024)
        block = b"f" * (1 << 20)
        blocked = False
        sent = 0
        while sent < total:
            w.write(block)
            sent += len(block)
            try:
                await asyncio.wait_for(asyncio.shield(w.drain()), 0.5)
            except asyncio.TimeoutError:
                blocked = True
                break
        assert blocked, "drain() never waited although the peer did not read"
        assert w.transport.get_write_buffer_size() <= sent
        release.set()
        while sent < total:
            w.write(block)
            sent += len(block)
        await asyncio.wait_for(w.drain(), TIMEOUT)
        assert await asyncio.wait_for(received, TIMEOUT) == total
        await close(w)


async def test_pause_reading_stops_delivery(pki):
    srv = await fa.start_server(echo_handler, "127.0.0.1", 0, config=server_config(pki))
    async with srv:
        got = []
        lost = asyncio.get_running_loop().create_future()

        class P(asyncio.Protocol):
            def data_received(self, data):
                got.append(data)

            def connection_lost(self, exc):
                lost.set_result(exc)

        t, p = await fa.create_connection(P, "127.0.0.1", port_of(srv),
                                          config=client_config(pki),
                                          server_hostname="localhost")
        t.pause_reading()
        assert not t.is_reading()
        t.write(b"echo me")
        await asyncio.sleep(0.3)
        assert got == []  # paused: nothing delivered
        t.resume_reading()
        for _ in range(100):
            if b"".join(got) == b"echo me":
                break
            await asyncio.sleep(0.05)
        assert b"".join(got) == b"echo me"
        t.close()
        assert await asyncio.wait_for(lost, TIMEOUT) is None


async def test_buffered_app_protocol(pki):
    srv = await fa.start_server(echo_handler, "127.0.0.1", 0, config=server_config(pki))
    async with srv:
        buf = bytearray(1000)
        out = bytearray()
        done = asyncio.get_running_loop().create_future()

        class B(asyncio.BufferedProtocol):
            def get_buffer(self, n):
                return buf

            def buffer_updated(self, n):
                out.extend(buf[:n])
                if len(out) >= 50_000:
                    done.set_result(None)

        t, _ = await fa.create_connection(B, "127.0.0.1", port_of(srv),
                                          config=client_config(pki),
                                          server_hostname="localhost")
        t.write(b"z" * 50_000)
        await asyncio.wait_for(done, TIMEOUT)
        assert out == b"z" * 50_000
        t.close()


async def manual_tls_server(pki, on_connected):
    """A plain TCP server driving a sans-I/O ferrule.Connection by hand, so
    a test controls exactly what goes on the wire."""
    cfg = server_config(pki)

    async def handler(reader, writer):
        conn = ferrule.Connection(cfg)
        while not conn.handshake_done:
            try:
                conn.do_handshake()
            except ferrule.WantRead:
                pass
            writer.write(conn.bytes_to_send())
            if not conn.handshake_done:
                conn.receive_bytes(await reader.read(65536))
        writer.write(conn.bytes_to_send())
        await on_connected(conn, reader, writer)

    return await asyncio.start_server(handler, "127.0.0.1", 0)


async def test_close_completes_when_peer_answers_without_eof(pki):
    """The peer answers our close_notify with its own but keeps TCP open:
    close() completes on the close_notify, not on the shutdown timeout."""
    async def answer_close(conn, reader, writer):
        while True:  # the close_notify may have come with the Finished
            try:
                if conn.read() == b"":
                    break
            except ferrule.WantRead:
                conn.receive_bytes(await reader.read(65536))
        conn.close_notify()
        writer.write(conn.bytes_to_send())
        await asyncio.sleep(3600)  # TCP stays open

    srv = await manual_tls_server(pki, answer_close)
    async with srv:
        r, w = await fa.open_connection("127.0.0.1", port_of(srv), config=client_config(pki),
                                        server_hostname="localhost", ssl_shutdown_timeout=120)
        w.close()
        await asyncio.wait_for(w.wait_closed(), TIMEOUT)


async def test_shutdown_timeout_when_peer_never_answers(pki):
    async def ignore(conn, reader, writer):
        await asyncio.sleep(3600)

    srv = await manual_tls_server(pki, ignore)
    async with srv:
        r, w = await fa.open_connection("127.0.0.1", port_of(srv), config=client_config(pki),
                                        server_hostname="localhost", ssl_shutdown_timeout=1.0)
        w.close()
        await asyncio.wait_for(w.wait_closed(), TIMEOUT)  # the timeout aborts
        assert w.transport.is_closing()


async def test_abort_sends_no_close_notify(pki):
    seen = asyncio.get_running_loop().create_future()

    async def watch(conn, reader, writer):
        data = await reader.read(65536)
        while data:
            conn.receive_bytes(data)
            data = await reader.read(65536)
        conn.receive_eof()
        try:
            conn.read()
            seen.set_result("clean")
        except ferrule.Truncated:
            seen.set_result("truncated")

    srv = await manual_tls_server(pki, watch)
    async with srv:
        r, w = await fa.open_connection("127.0.0.1", port_of(srv), config=client_config(pki),
                                        server_hostname="localhost")
        w.transport.abort()
        assert await asyncio.wait_for(seen, TIMEOUT) == "truncated"


@pytest.mark.parametrize("with_close_notify", [True, False])
async def test_eof_while_reading_paused_loses_nothing(pki, with_close_notify):
    """The server sends 100 kB, (close_notify,) and FIN at once; the
    client's StreamReader (limit 4 KiB) pauses reading after the first
    records, so the socket EOF arrives while paused.  Every byte must still
    be delivered, then the clean end (or Truncated without close_notify)."""
    payload = bytes(range(256)) * 400

    async def send_and_fin(conn, reader, writer):
        conn.write(payload)
        if with_close_notify:
            conn.close_notify()
        writer.write(conn.bytes_to_send())
        await writer.drain()
        writer.close()  # FIN right behind the records

    srv = await manual_tls_server(pki, send_and_fin)
    async with srv:
        r, w = await fa.open_connection("127.0.0.1", port_of(srv), config=client_config(pki),
                                        server_hostname="localhost", limit=4096)
        await asyncio.sleep(0.5)  # let everything arrive while paused
        assert not w.transport.is_reading()
        if with_close_notify:
            assert await asyncio.wait_for(r.readexactly(len(payload)), TIMEOUT) == payload
            assert await asyncio.wait_for(r.read(), TIMEOUT) == b""
            assert r.at_eof()
        else:
            # Never a clean EOF: the reader raises Truncated (a StreamReader
            # raises a transport error before its buffered bytes).
            got = b""
            with pytest.raises(ferrule.Truncated):
                while True:
                    chunk = await asyncio.wait_for(r.read(4096), TIMEOUT)
                    assert chunk, "clean EOF after a cut"
                    got += chunk
            assert payload.startswith(got)
            w.close()
            with pytest.raises(ferrule.Truncated):  # wait_closed() reports it too
                await asyncio.wait_for(w.wait_closed(), TIMEOUT)
            return
        await close(w)


async def test_close_when_peer_drops_instead_of_answering(pki):
    """Many servers close TCP on our close_notify without answering: the
    application asked to close, so wait_closed() ends without an error."""
    async def drop(conn, reader, writer):
        while True:
            try:
                if conn.read() == b"":
                    break
            except ferrule.WantRead:
                conn.receive_bytes(await reader.read(65536))
        writer.close()  # FIN, no close_notify

    srv = await manual_tls_server(pki, drop)
    async with srv:
        r, w = await fa.open_connection("127.0.0.1", port_of(srv), config=client_config(pki),
                                        server_hostname="localhost", ssl_shutdown_timeout=120)
        w.close()
        await asyncio.wait_for(w.wait_closed(), TIMEOUT)
