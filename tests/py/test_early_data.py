"""0-RTT early data (docs/early-data.md) through the binding: sans-I/O
Connection objects and ferrule.asyncio, ferrule on both sides (the
OpenSSL interop cases are in test_openssl.py)."""

from __future__ import annotations

import asyncio
import gc
import hashlib
import sys
import time

import pytest

import ferrule
import ferrule.asyncio as fa
from conftest import TIMEOUT, client_config, handshake_in_memory, port_of, pump, server_config

REQUEST = b"GET /idempotent HTTP/1.0\r\n\r\n"


def session_from(ccfg, scfg):
    """A full handshake; returns the client's session blob."""
    c, s = ferrule.Connection(ccfg, "localhost"), ferrule.Connection(scfg)
    handshake_in_memory(c, s)
    s.write(b"t")
    pump(s, c)
    assert c.read() == b"t"  # processes the NewSessionTickets
    assert c.session is not None
    return c.session


def early_flight(ccfg, blob, data=REQUEST):
    """A client that wrote `data` as 0-RTT, and its first flight."""
    c = ferrule.Connection(ccfg, "localhost", session=blob)
    assert c.write_early_data(data, replay_safe=True) == len(data)
    assert c.early_data_status == "offered" and c.early_data_len == len(data)
    return c, c.bytes_to_send()


def finish(c, s):
    """Complete a handshake whose first flight is already with `s`."""
    handshake_in_memory(c, s)


@pytest.fixture
def cfgs(pki):
    return client_config(pki, early_data=True), server_config(pki, early_data=True)


def test_early_data_accepted_sans_io(cfgs):
    ccfg, scfg = cfgs
    blob = session_from(ccfg, scfg)
    c, flight = early_flight(ccfg, blob)
    s = ferrule.Connection(scfg)
    s.receive_bytes(flight)
    # The server reads the early data while the handshake runs.
    assert s.read_early_data() == REQUEST
    assert s.early_data_status == "accepted"
    assert s.handshake_state() == "wait_end_of_early_data"
    assert not s.handshake_done
    pump(s, c)
    c.do_handshake()  # the server's flight completes the client's handshake
    assert c.handshake_done and c.session_reused
    assert c.early_data_status == "accepted"
    pump(c, s)  # EndOfEarlyData + Finished
    assert s.read_early_data() == b""  # no more early data
    s.do_handshake()
    assert s.handshake_done and s.session_reused and s.early_data_len == len(REQUEST)
    c.write(b"1-RTT")
    pump(c, s)
    assert s.read() == b"1-RTT"


def test_unread_early_data_is_the_start_of_the_stream(cfgs):
    ccfg, scfg = cfgs
    blob = session_from(ccfg, scfg)
    c, flight = early_flight(ccfg, blob, b"early|")
    s = ferrule.Connection(scfg)
    s.receive_bytes(flight)
    finish(c, s)  # the server never calls read_early_data
    c.write(b"late")
    pump(c, s)
    got = b""
    while len(got) < 10:
        got += s.read()
    assert got == b"early|late"
    assert s.early_data_len == 6 and s.early_data_status == "accepted"


def test_replayed_first_flight_is_rejected(cfgs):
    ccfg, scfg = cfgs
    blob = session_from(ccfg, scfg)
    c, flight = early_flight(ccfg, blob)
    s = ferrule.Connection(scfg)
    s.receive_bytes(flight)
    assert s.read_early_data() == REQUEST
    # An attacker sends the recorded first flight to the server again.
    for _ in range(2):
        replay = ferrule.Connection(scfg)
        replay.receive_bytes(flight)
        assert replay.read_early_data() == b""  # nothing delivered
        assert replay.early_data_status == "rejected"
        assert replay.early_data_len == 0
        with pytest.raises(ferrule.WantRead):
            replay.read()  # and nothing later either: it waits for a Finished
    # The original connection is unaffected.
    finish(c, s)
    assert c.early_data_status == s.early_data_status == "accepted"


def test_ticket_reuse_is_rejected_then_resent(cfgs):
    ccfg, scfg = cfgs
    blob = session_from(ccfg, scfg)
    c1, flight = early_flight(ccfg, blob)
    s1 = ferrule.Connection(scfg)
    s1.receive_bytes(flight)
    finish(c1, s1)
    assert c1.early_data_status == "accepted"
    # The same ticket again (a new ClientHello): single use, rejected.
    c2, flight = early_flight(ccfg, blob, b"second")
    s2 = ferrule.Connection(scfg)
    s2.receive_bytes(flight)
    assert s2.read_early_data() == b""
    finish(c2, s2)
    assert c2.session_reused and s2.session_reused  # 1-RTT resumption still works
    assert c2.early_data_status == s2.early_data_status == "rejected"
    assert s2.early_data_len == 0
    # Rejected: nothing was delivered; the application sends it again.
    c2.write(b"second")
    pump(c2, s2)
    assert s2.read() == b"second"
    with pytest.raises(ferrule.WantRead):
        s2.read()


class SkewedClock:
    """A fixed instant plus an adjustable offset, in seconds: deterministic
    (it never follows the wall clock's pace)."""

    def __init__(self, base: int) -> None:
        self.base, self.offset = base, 0

    def __call__(self) -> int:
        return self.base + self.offset


def attempt(ccfg, scfg, blob):
    """0-RTT with `blob`; returns (client, server) after the handshake."""
    c, flight = early_flight(ccfg, blob)
    s = ferrule.Connection(scfg)
    s.receive_bytes(flight)
    early = s.read_early_data()
    finish(c, s)
    assert c.session_reused and s.session_reused  # resumption itself always works
    assert early == (REQUEST if s.early_data_status == "accepted" else b"")
    return c, s


def test_freshness_window_rejects_a_client_clock_30s_ahead(pki):
    """RFC 8446 §8.3: the client's ticket age must match the server's view
    within early_data_window_ms (default 10 s)."""
    base = int(time.time())  # within the test certificates' validity
    cclock, sclock = SkewedClock(base), SkewedClock(base)
    ccfg = client_config(pki, early_data=True, clock=cclock)
    scfg = server_config(pki, early_data=True, clock=sclock)
    # Clocks in step: accepted.
    c, s = attempt(ccfg, scfg, session_from(ccfg, scfg))
    assert c.early_data_status == s.early_data_status == "accepted"
    # The client's clock jumps 30 s ahead after it got the ticket: its
    # ticket age is 30 s, the server's 0: rejected (1-RTT goes on).
    blob = session_from(ccfg, scfg)
    cclock.offset = 30
    c, s = attempt(ccfg, scfg, blob)
    assert c.early_data_status == s.early_data_status == "rejected"
    assert s.early_data_len == 0
    # Both clocks 30 s later (30 s really passed for both): the ages agree.
    cclock.offset = 0
    blob = session_from(ccfg, scfg)
    cclock.offset = sclock.offset = 30
    c, s = attempt(ccfg, scfg, blob)
    assert c.early_data_status == s.early_data_status == "accepted"
    # A 60 s window tolerates the same 30 s skew.
    cclock.offset = sclock.offset = 0
    scfg60 = server_config(pki, early_data=True, clock=sclock, early_data_window_ms=60000)
    blob = session_from(ccfg, scfg60)
    cclock.offset = 30
    c, s = attempt(ccfg, scfg60, blob)
    assert c.early_data_status == s.early_data_status == "accepted"


def test_write_early_data_must_be_declared_replay_safe(cfgs):
    ccfg, scfg = cfgs
    blob = session_from(ccfg, scfg)
    c = ferrule.Connection(ccfg, "localhost", session=blob)
    for kw in ({}, {"replay_safe": False}, {"replay_safe": 1}):
        with pytest.raises(ferrule.UsageError) as ei:
            c.write_early_data(REQUEST, **kw)
        assert ei.value.reason == "not_replay_safe"
    assert c.bytes_to_send() == b""  # nothing was sent
    with pytest.raises(TypeError):
        c.write_early_data(REQUEST, True)  # keyword only
    assert c.write_early_data(REQUEST, replay_safe=True) == len(REQUEST)


def test_early_data_needs_config_and_ticket(pki, cfgs):
    ccfg, scfg = cfgs
    # No session at all.
    c = ferrule.Connection(ccfg, "localhost")
    with pytest.raises(ferrule.UsageError) as ei:
        c.write_early_data(b"x", replay_safe=True)
    assert ei.value.reason == "no_early_data"
    # A ticket from a server without 0-RTT: no early data, resumption still.
    plain = server_config(pki)
    blob = session_from(ccfg, plain)
    c = ferrule.Connection(ccfg, "localhost", session=blob)
    with pytest.raises(ferrule.UsageError) as ei:
        c.write_early_data(b"x", replay_safe=True)
    assert ei.value.reason == "no_early_data"
    assert c.bytes_to_send() == b""
    s = ferrule.Connection(plain)
    handshake_in_memory(c, s)
    assert c.session_reused and c.early_data_status == "not_offered"
    # A client config without early_data=True.
    blob = session_from(ccfg, scfg)
    c = ferrule.Connection(client_config(pki), "localhost", session=blob)
    with pytest.raises(ferrule.UsageError) as ei:
        c.write_early_data(b"x", replay_safe=True)
    assert ei.value.reason == "no_early_data"
    # Role misuse.
    s = ferrule.Connection(scfg)
    with pytest.raises(ferrule.UsageError) as ei:
        s.write_early_data(b"x", replay_safe=True)
    assert ei.value.reason == "wrong_state"
    with pytest.raises(ferrule.UsageError) as ei:
        ferrule.Connection(ccfg, "localhost").read_early_data()
    assert ei.value.reason == "wrong_state"
    with pytest.raises(ValueError):
        s.read_early_data(0)


def test_read_early_data_without_0rtt(cfgs):
    ccfg, scfg = cfgs
    c, s = ferrule.Connection(ccfg, "localhost"), ferrule.Connection(scfg)
    with pytest.raises(ferrule.WantRead):
        s.read_early_data()  # no ClientHello yet
    with pytest.raises(ferrule.WantRead):
        c.do_handshake()
    s.receive_bytes(c.bytes_to_send())
    assert s.read_early_data() == b""
    assert s.early_data_status == "not_offered"
    finish(c, s)
    assert c.early_data_status == "not_offered"


def test_max_early_data_size_limits_what_is_taken(pki):
    ccfg = client_config(pki, early_data=True)
    scfg = server_config(pki, early_data=True, max_early_data_size=100)
    blob = session_from(ccfg, scfg)
    c = ferrule.Connection(ccfg, "localhost", session=blob)
    data = bytes(range(250))
    assert c.write_early_data(data, replay_safe=True) == 100
    with pytest.raises(ferrule.UsageError) as ei:
        c.write_early_data(data[100:], replay_safe=True)  # allowance used up
    assert ei.value.reason == "no_early_data"
    s = ferrule.Connection(scfg)
    s.receive_bytes(c.bytes_to_send())
    assert s.read_early_data() == data[:100]
    finish(c, s)
    c.write(data[100:])
    pump(c, s)
    assert s.read() == data[100:]


def test_server_early_data_options_are_checked(pki):
    for kw in ({"early_data_window_ms": 0}, {"max_early_data_size": -1},
               {"early_data_capacity": 2 ** 32}, {"max_early_data_size": True}):
        with pytest.raises(ferrule.UsageError) as ei:
            server_config(pki, early_data=True, **kw)
        assert ei.value.reason == "config_invalid"
    # Out of the library's ranges.
    for kw in ({"early_data_window_ms": 999}, {"max_early_data_size": 1048577},
               {"early_data_capacity": 16}):
        with pytest.raises(ferrule.UsageError) as ei:
            server_config(pki, early_data=True, **kw)
        assert ei.value.reason == "config_invalid", kw
    with pytest.raises(ferrule.UsageError, match="early_data=False"):
        server_config(pki, max_early_data_size=1000)
    with pytest.raises(TypeError):
        client_config(pki, early_data=16384)
    with pytest.raises(TypeError):
        server_config(pki, early_data=True, accept_early_data="yes")
    assert server_config(pki, early_data=True).early_data
    assert not client_config(pki).early_data


def test_accept_callback_sees_the_connection_and_can_refuse(pki):
    seen = []
    verdict = [True]

    def accept(info):
        seen.append(info)
        return verdict[0]
    ccfg = client_config(pki, early_data=True, alpn_protocols=["h2"])
    scfg = server_config(pki, early_data=True, accept_early_data=accept, alpn_protocols=["h2"])
    del accept  # the config keeps it alive
    gc.collect()
    for ok in (True, False):
        verdict[0] = ok
        blob = session_from(ccfg, scfg)
        c, flight = early_flight(ccfg, blob)
        s = ferrule.Connection(scfg)
        s.receive_bytes(flight)
        assert s.read_early_data() == (REQUEST if ok else b"")
        finish(c, s)
        assert c.early_data_status == ("accepted" if ok else "rejected")
    assert seen == [ferrule.EarlyDataInfo("localhost", "h2")] * 2


def test_accept_callback_exception_refuses_and_is_reported(pki, monkeypatch):
    reported = []
    monkeypatch.setattr(sys, "unraisablehook", reported.append)

    def accept(info):
        raise RuntimeError("policy lookup failed")
    ccfg = client_config(pki, early_data=True)
    scfg = server_config(pki, early_data=True, accept_early_data=accept)
    blob = session_from(ccfg, scfg)
    c, flight = early_flight(ccfg, blob)
    s = ferrule.Connection(scfg)
    s.receive_bytes(flight)
    assert s.read_early_data() == b""
    finish(c, s)  # the handshake goes on in 1-RTT
    assert c.early_data_status == s.early_data_status == "rejected"
    assert c.session_reused
    assert len(reported) == 1
    assert isinstance(reported[0].exc_value, RuntimeError)
    assert "policy lookup failed" in str(reported[0].exc_value)


class DictStore:
    """A replay store in a dict (a real one would be shared, e.g. Redis)."""

    def __init__(self, ident=b"S" * 16):
        self.id = ident
        self.keys = {}
        self.fail = None

    def check_and_insert(self, key, expires):
        if self.fail is not None:
            raise self.fail
        assert isinstance(key, bytes) and len(key) == 32 and isinstance(expires, int)
        if key in self.keys:
            return False
        self.keys[key] = expires
        return True


def test_custom_replay_store(pki, monkeypatch):
    store = DictStore()
    ccfg = client_config(pki, early_data=True)
    ticket_key = (b"N" * 16, b"K" * 32)
    scfg = server_config(pki, early_data=True, replay_store=store, ticket_key=ticket_key)
    blob = session_from(ccfg, scfg)
    c, flight = early_flight(ccfg, blob)
    s = ferrule.Connection(scfg)
    s.receive_bytes(flight)
    assert s.read_early_data() == REQUEST
    assert len(store.keys) == 2  # the ticket and the ClientHello
    # A second server of the fleet: same ticket keys, same store.
    fleet = server_config(pki, early_data=True, replay_store=store, ticket_key=ticket_key)
    replay = ferrule.Connection(fleet)
    replay.receive_bytes(flight)
    assert replay.read_early_data() == b"" and replay.early_data_status == "rejected"
    # A server with another store (another id) refuses the ticket's 0-RTT.
    other = server_config(pki, early_data=True, replay_store=DictStore(b"T" * 16),
                          ticket_key=ticket_key)
    c2, flight2 = early_flight(ccfg, session_from(ccfg, scfg))
    s2 = ferrule.Connection(other)
    s2.receive_bytes(flight2)
    assert s2.read_early_data() == b""
    finish(c2, s2)
    assert c2.early_data_status == "rejected" and c2.session_reused
    # A failing store refuses (fail closed) and is reported.
    reported = []
    monkeypatch.setattr(sys, "unraisablehook", reported.append)
    store.fail = OSError("store unreachable")
    c3, flight3 = early_flight(ccfg, session_from(ccfg, scfg))
    s3 = ferrule.Connection(scfg)
    s3.receive_bytes(flight3)
    assert s3.read_early_data() == b""
    finish(c3, s3)
    assert c3.early_data_status == "rejected"
    assert [type(r.exc_value) for r in reported] == [OSError]


def test_replay_store_is_checked(pki):
    with pytest.raises(TypeError, match="16 bytes"):
        server_config(pki, early_data=True, replay_store=DictStore(b"short"))
    with pytest.raises(TypeError, match="check_and_insert"):
        server_config(pki, early_data=True, replay_store=object())


def test_replay_store_keys_are_distinct_per_hello(pki):
    store = DictStore()
    ccfg = client_config(pki, early_data=True)
    scfg = server_config(pki, early_data=True, replay_store=store)
    for _ in range(3):
        c, flight = early_flight(ccfg, session_from(ccfg, scfg))
        s = ferrule.Connection(scfg)
        s.receive_bytes(flight)
        assert s.read_early_data() == REQUEST
    assert len(store.keys) == 6
    assert len({hashlib.sha256(k).digest() for k in store.keys}) == 6


# ---- ferrule.asyncio ------------------------------------------------------------


async def get_session(port, ccfg):
    r, w = await fa.open_connection("127.0.0.1", port, config=ccfg, server_hostname="localhost")
    w.write(b"hello\n")
    assert await asyncio.wait_for(r.readline(), TIMEOUT) == b"echo: hello\n"
    conn = w.get_extra_info("ferrule_object")
    assert w.get_extra_info("early_data") == "not_offered"
    blob = conn.session
    w.close()
    await asyncio.wait_for(w.wait_closed(), TIMEOUT)
    assert blob is not None
    return blob


def line_server(log):
    async def handler(reader, writer):
        line = await reader.readline()
        log.append((line, writer.get_extra_info("early_data"),
                    writer.get_extra_info("ferrule_object").early_data_len))
        writer.write(b"echo: " + line)
        await writer.drain()
        writer.close()
    return handler


async def test_asyncio_early_data_accepted_rejected_and_resent(pki):
    log = []
    ccfg = client_config(pki, early_data=True)
    srv = await fa.start_server(line_server(log), "127.0.0.1", 0,
                                config=server_config(pki, early_data=True))
    async with srv:
        port = port_of(srv)
        blob = await get_session(port, ccfg)
        outcomes = []
        for line in (b"early one\n", b"early two\n"):  # the second reuses the ticket
            r, w = await fa.open_connection("127.0.0.1", port, config=ccfg,
                                            server_hostname="localhost", session=blob,
                                            early_data=line)
            outcomes.append(w.get_extra_info("early_data"))
            assert w.get_extra_info("ferrule_object").session_reused
            assert await asyncio.wait_for(r.read(), TIMEOUT) == b"echo: " + line
            w.close()
            await asyncio.wait_for(w.wait_closed(), TIMEOUT)
    assert outcomes == ["accepted", "rejected"]
    assert log == [(b"hello\n", "not_offered", 0), (b"early one\n", "accepted", 10),
                   (b"early two\n", "rejected", 0)]


async def test_asyncio_early_data_without_0rtt_ticket_is_sent_after_handshake(pki):
    log = []
    ccfg = client_config(pki, early_data=True)
    srv = await fa.start_server(line_server(log), "127.0.0.1", 0, config=server_config(pki))
    async with srv:
        blob = await get_session(port_of(srv), ccfg)
        r, w = await fa.open_connection("127.0.0.1", port_of(srv), config=ccfg,
                                        server_hostname="localhost", session=blob,
                                        early_data=b"late\n")
        assert w.get_extra_info("early_data") == "not_offered"
        assert await asyncio.wait_for(r.read(), TIMEOUT) == b"echo: late\n"
        w.close()
        await asyncio.wait_for(w.wait_closed(), TIMEOUT)
    assert log[-1] == (b"late\n", "not_offered", 0)


async def test_asyncio_early_data_misuse(pki):
    with pytest.raises(ferrule.UsageError, match="session"):
        await fa.open_connection("127.0.0.1", 1, config=client_config(pki, early_data=True),
                                 server_hostname="localhost", early_data=b"x")
    with pytest.raises(ferrule.UsageError, match="early_data=True"):
        await fa.open_connection("127.0.0.1", 1, config=client_config(pki),
                                 server_hostname="localhost", session=b"blob", early_data=b"x")
    with pytest.raises(TypeError):
        await fa.open_connection("127.0.0.1", 1, config=client_config(pki, early_data=True),
                                 server_hostname="localhost", session=b"blob", early_data="x")
