"""Load: 1,000 concurrent connections through one event loop, and 10,000
handshakes without memory growth.  No timing assertions: the deadlines are
generous and only guard against hangs on a loaded 2-core machine."""

from __future__ import annotations

import asyncio
import gc
import resource

import pytest

import ferrule
import ferrule.asyncio as fa
from conftest import client_config, handshake_in_memory, port_of, pump, server_config

pytestmark = pytest.mark.load

N_CONNECTIONS = 1000
N_HANDSHAKES = 10_000
# Resident-set growth allowed over the measured 10,000 handshakes, after a
# warm-up that lets the allocators reach their steady state (RSS measured
# flat at about 36 MiB from the first few thousand handshakes on).  A leak
# of 1 KiB per handshake (a buffer, a certificate, a Python object cycle)
# would show as about 10 MiB.
RSS_BOUND_KIB = 8 * 1024
WARMUP = 2000


def rss_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS in /proc/self/status")


@pytest.fixture
def enough_fds():
    need = 4 * N_CONNECTIONS + 256  # both ends of each connection + slack
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        if hard != resource.RLIM_INFINITY and hard < need:
            pytest.fail(f"RLIMIT_NOFILE hard limit {hard} < {need}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_10000_handshakes_rss_bounded(pki, capsys):
    """10,000 full handshakes (sans-I/O, in memory, ECDSA P-256 + x25519)
    with application data and close_notify; resident memory must not grow
    by more than RSS_BOUND_KIB after a warm-up."""
    scfg = server_config(pki, "ecdsa-p256", groups=["x25519"], tickets=0)
    ccfg = client_config(pki, groups=["x25519"])

    def one():
        c = ferrule.Connection(ccfg, "localhost")
        s = ferrule.Connection(scfg)
        handshake_in_memory(c, s)
        c.write(b"ping")
        pump(c, s)
        assert s.read() == b"ping"
        c.close_notify()
        pump(c, s)
        assert s.read() == b""
        c.free()
        s.free()

    for _ in range(WARMUP):
        one()
    gc.collect()
    before = rss_kib()
    for _ in range(N_HANDSHAKES):
        one()
    gc.collect()
    after = rss_kib()
    growth = after - before
    with capsys.disabled():
        print(f"\n[load] {N_HANDSHAKES} handshakes: RSS {before} KiB -> {after} KiB "
              f"(growth {growth} KiB, bound {RSS_BOUND_KIB} KiB)")
    assert growth <= RSS_BOUND_KIB, f"RSS grew by {growth} KiB over {N_HANDSHAKES} handshakes"


async def test_1000_concurrent_connections(pki, enough_fds, capsys):
    """1,000 clients connect at once to one server in the same event loop;
    every one completes its handshake and an echo, and all are open at the
    same time before any closes."""
    all_open = asyncio.Event()
    served = 0

    async def handler(reader, writer):
        nonlocal served
        line = await reader.readline()
        writer.write(line)
        await writer.drain()
        served += 1
        await reader.read()  # until the client's close_notify
        writer.close()

    # Fast configuration: ECDSA P-256 and x25519.
    scfg = server_config(pki, "ecdsa-p256", groups=["x25519"])
    ccfg = client_config(pki, groups=["x25519"])
    srv = await fa.start_server(handler, "127.0.0.1", 0, config=scfg, backlog=N_CONNECTIONS,
                                ssl_handshake_timeout=240)
    opened = 0

    async def client(i):
        nonlocal opened
        r, w = await fa.open_connection("127.0.0.1", port_of(srv), config=ccfg,
                                        server_hostname="localhost",
                                        ssl_handshake_timeout=240)
        msg = f"client {i}\n".encode()
        w.write(msg)
        await w.drain()
        assert await r.readline() == msg
        opened += 1
        if opened == N_CONNECTIONS:
            all_open.set()
        await all_open.wait()
        w.close()
        await w.wait_closed()
        return True

    async with srv:
        results = await asyncio.wait_for(
            asyncio.gather(*(client(i) for i in range(N_CONNECTIONS)), return_exceptions=True),
            timeout=300)
    errors = [r for r in results if r is not True]
    assert not errors, f"{len(errors)} clients failed, first: {errors[0]!r}"
    assert served == N_CONNECTIONS
    with capsys.disabled():
        print(f"\n[load] {N_CONNECTIONS} concurrent TLS connections through one event loop: "
              "all completed")
