"""Misbehaving peers through raw sockets: garbage, truncated and oversized
records, an alert mid-handshake, a close without close_notify, a stalled
handshake (the timeout fires), a peer that never reads (memory stays
bounded)."""

from __future__ import annotations

import asyncio

import pytest

import ferrule
import ferrule.asyncio as fa
from conftest import TIMEOUT, client_config, port_of, server_config, stdlib_client_ctx, \
    stdlib_server_ctx


async def raw_server(reply: bytes, close: bool = True):
    """A plain TCP server that reads the ClientHello's first bytes, sends
    `reply`, then closes (or stays silent)."""
    async def handler(reader, writer):
        await reader.read(5)
        if reply:
            writer.write(reply)
            await writer.drain()
        if close:
            writer.close()
        else:
            await asyncio.sleep(3600)
    return await asyncio.start_server(handler, "127.0.0.1", 0)


async def connect(pki, port, **kw):
    return await asyncio.wait_for(
        fa.open_connection("127.0.0.1", port, config=client_config(pki),
                           server_hostname="localhost", **kw), TIMEOUT)


async def test_garbage_from_server(pki):
    srv = await raw_server(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
    async with srv:
        with pytest.raises(ferrule.AlertSent) as ei:
            await connect(pki, port_of(srv))
    assert isinstance(ei.value, ferrule.DecodeError)
    assert ei.value.reason in ("bad_content_type", "bad_record_version", "decode_error")
    assert ei.value.alert is not None


async def test_truncated_record(pki):
    # A handshake record header announcing 64 bytes, 10 of them, then EOF.
    srv = await raw_server(b"\x16\x03\x03\x00\x40" + b"\x02" * 10)
    async with srv:
        with pytest.raises(ferrule.Truncated) as ei:
            await connect(pki, port_of(srv))
    assert ei.value.reason == "truncated"


async def test_oversized_record(pki):
    # 2^14 + 256 + 1 bytes: one more than any TLS 1.3 ciphertext may have.
    srv = await raw_server(b"\x16\x03\x03\x41\x01" + b"\x00" * 64, close=False)
    async with srv:
        with pytest.raises(ferrule.AlertSent) as ei:
            await connect(pki, port_of(srv))
    assert ei.value.reason == "record_overflow"
    assert ei.value.alert == 22 and ei.value.alert_name == "record_overflow"


async def test_alert_mid_handshake(pki):
    srv = await raw_server(b"\x15\x03\x03\x00\x02\x02\x28")  # fatal handshake_failure
    async with srv:
        with pytest.raises(ferrule.AlertReceived) as ei:
            await connect(pki, port_of(srv))
    assert ei.value.alert == 40 and ei.value.alert_name == "handshake_failure"
    assert "handshake_failure(40) received" in str(ei.value)


async def test_server_closes_without_close_notify(pki):
    async def handler(reader, writer):
        writer.write(b"half a response")
        await writer.drain()
        writer.transport.abort()  # no close_notify

    srv = await asyncio.start_server(handler, "127.0.0.1", 0, ssl=stdlib_server_ctx(pki))
    async with srv:
        r, w = await connect(pki, port_of(srv))
        assert await asyncio.wait_for(r.readexactly(15), TIMEOUT) == b"half a response"
        with pytest.raises(ferrule.Truncated):
            await asyncio.wait_for(r.read(), TIMEOUT)
        w.close()


async def test_client_closes_without_close_notify(pki):
    outcome = asyncio.get_running_loop().create_future()

    async def handler(reader, writer):
        try:
            data = await reader.read()
            outcome.set_result(data)
        except BaseException as e:
            outcome.set_exception(e)

    srv = await fa.start_server(handler, "127.0.0.1", 0, config=server_config(pki))
    async with srv:
        r, w = await asyncio.open_connection("127.0.0.1", port_of(srv),
                                             ssl=stdlib_client_ctx(pki),
                                             server_hostname="localhost")
        w.write(b"cut short")
        await w.drain()
        await asyncio.sleep(0.1)
        w.transport.abort()
        with pytest.raises(ferrule.Truncated):
            await asyncio.wait_for(outcome, TIMEOUT)


async def test_clean_eof_is_not_truncated(pki):
    outcome = asyncio.get_running_loop().create_future()

    async def handler(reader, writer):
        outcome.set_result(await reader.read())

    srv = await fa.start_server(handler, "127.0.0.1", 0, config=server_config(pki))
    async with srv:
        r, w = await asyncio.open_connection("127.0.0.1", port_of(srv),
                                             ssl=stdlib_client_ctx(pki),
                                             server_hostname="localhost")
        w.write(b"complete")
        w.close()  # close_notify
        assert await asyncio.wait_for(outcome, TIMEOUT) == b"complete"


async def test_stalled_client_hits_handshake_timeout(pki):
    called = []
    srv = await fa.start_server(lambda r, w: called.append(w), "127.0.0.1", 0,
                                config=server_config(pki), ssl_handshake_timeout=1.0)
    async with srv:
        reader, writer = await asyncio.open_connection("127.0.0.1", port_of(srv))
        writer.write(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")  # a ClientHello's start
        await writer.drain()
        # The server gives up after its timeout and closes the socket.
        assert await asyncio.wait_for(reader.read(), TIMEOUT) == b""
        writer.close()
    assert called == []


async def test_stalled_server_hits_client_handshake_timeout(pki):
    srv = await raw_server(b"", close=False)
    async with srv:
        with pytest.raises(ConnectionAbortedError, match="handshake"):
            await connect(pki, port_of(srv), ssl_handshake_timeout=1.0)


async def test_peer_that_never_reads_keeps_memory_bounded(pki):
    """The server never reads: the client's drain() blocks, and what the
    server buffers stays bounded (flow control at each layer)."""
    server_side = {}

    async def never_reads(reader, writer):
        server_side["reader"] = reader
        server_side["writer"] = writer
        await asyncio.sleep(3600)

    srv = await fa.start_server(never_reads, "127.0.0.1", 0, config=server_config(pki))
    async with srv:
        r, w = await connect(pki, port_of(srv))
        w.transport.set_write_buffer_limits(high=512 * 1024)
        block = b"n" * (1 << 20)
        sent, blocked = 0, False
        while sent < 256 * (1 << 20):
            w.write(block)
            sent += len(block)
            try:
                await asyncio.wait_for(asyncio.shield(w.drain()), 1.0)
            except asyncio.TimeoutError:
                blocked = True
                break
        assert blocked, f"drain() never blocked after {sent} bytes"
        # Client: what the socket transport holds is bounded by the last
        # write above the high-water mark.
        assert w.transport.get_write_buffer_size() <= 512 * 1024 + len(block) + 1024
        # Server: the StreamReader stops at its limit and pauses the TLS
        # transport; ferrule then holds at most its pending-input cap of
        # ciphertext plus one socket read.
        sreader, swriter = server_side["reader"], server_side["writer"]
        assert len(sreader._buffer) <= 2 * 65536 + 256 * 1024 + 16 * 1024
        conn = swriter.get_extra_info("ferrule_object")
        assert len(conn._in) <= 1024 * 1024
        assert conn.memory_used < 256 * 1024
        w.transport.abort()
        server_side["writer"].transport.abort()
