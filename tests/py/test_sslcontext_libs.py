"""ferrule.SSLContext handed to HTTP and WebSocket libraries as their
ssl context: http.client, urllib3, requests, httpx (sync and async),
aiohttp (client and server) and websockets (client and server), against
Python's ssl and ferrule servers; a truncated response surfaces as the
same library error as with the stdlib context."""

from __future__ import annotations

import asyncio
import http.client
import ssl

import pytest

import ferrule
from conftest import TIMEOUT, port_of
from sslctx_util import (BODY, HTTPSServer, TruncatingServer, fclient, fserver, sclient,
                         sserver)

SERVERS = ["stdlib", "ferrule"]


def server_ctx(pki, which):
    return sserver(pki) if which == "stdlib" else fserver(pki)


@pytest.fixture(params=SERVERS)
def wrongname(request, pki):
    """A server whose certificate is for wrong.example (we ask for localhost)."""
    ctx = sserver(pki, "wrongname") if request.param == "stdlib" else fserver(pki, "wrongname")
    with HTTPSServer(ctx) as srv:
        yield srv


@pytest.fixture(params=SERVERS)
def https(request, pki):
    with HTTPSServer(server_ctx(pki, request.param)) as srv:
        srv.stack = request.param
        yield srv


def verify_error(exc):
    """The ssl.SSLCertVerificationError behind a library's exception."""
    seen = exc
    while seen is not None and not isinstance(seen, ssl.SSLCertVerificationError):
        nxt = seen.__cause__ or seen.__context__
        if nxt is None:  # urllib3 keeps the original in args
            nxt = next((a for a in getattr(seen, "args", ()) if isinstance(a, BaseException)),
                       None)
        seen = nxt
    assert isinstance(seen, ferrule.SSLCertVerificationError), exc
    return seen


def check_headers(headers, stack):
    assert headers["X-TLS-Version"] == "TLSv1.3"
    assert headers["X-Stack"] == ("ssl" if stack == "stdlib" else "ferrule._sslcontext")


# ---- http.client ----------------------------------------------------------------------


def test_http_client(pki, https):
    conn = http.client.HTTPSConnection("localhost", https.port, context=fclient(pki),
                                       timeout=TIMEOUT)
    for _ in range(3):  # keep-alive: three requests on one connection
        conn.request("GET", "/")
        resp = conn.getresponse()
        assert resp.status == 200 and resp.read() == BODY
        check_headers(resp.headers, https.stack)
    assert isinstance(conn.sock, ferrule.SSLSocket)
    conn.request("POST", "/echo", body=b"p" * 200_000)
    assert conn.getresponse().read() == b"p" * 200_000
    conn.close()


def test_http_client_hostname_mismatch(pki, wrongname):
    conn = http.client.HTTPSConnection("localhost", wrongname.port, context=fclient(pki),
                                       timeout=TIMEOUT)
    with pytest.raises(ssl.SSLCertVerificationError) as ei:
        conn.request("GET", "/")
    assert ei.value.verify_code == 62


# ---- urllib3 / requests -------------------------------------------------------------------


def test_urllib3(pki, https):
    import urllib3
    with urllib3.PoolManager(ssl_context=fclient(pki)) as pm:
        for _ in range(2):
            r = pm.request("GET", https.url + "/", timeout=TIMEOUT)
            assert r.status == 200 and r.data == BODY
            check_headers(r.headers, https.stack)


def test_urllib3_untrusted(pki, https):
    import urllib3
    ctx = ferrule.SSLContext()
    ctx.load_verify_locations(pki / "other-root.pem")
    with urllib3.PoolManager(ssl_context=ctx, retries=False) as pm:
        with pytest.raises(urllib3.exceptions.SSLError) as ei:
            pm.request("GET", https.url + "/", timeout=TIMEOUT)
    assert verify_error(ei.value).verify_code == 20


def requests_session(ctx):
    import requests
    import requests.adapters

    class Adapter(requests.adapters.HTTPAdapter):
        def init_poolmanager(self, *args, **kwargs):
            kwargs["ssl_context"] = ctx
            return super().init_poolmanager(*args, **kwargs)

    s = requests.Session()
    s.mount("https://", Adapter())
    return s


def test_requests(pki, https):
    with requests_session(fclient(pki)) as s:
        r = s.get(https.url + "/", timeout=TIMEOUT)
        assert r.status_code == 200 and r.content == BODY
        check_headers(r.headers, https.stack)
        r = s.post(https.url + "/echo", data=b"q" * 70_000, timeout=TIMEOUT)
        assert r.content == b"q" * 70_000


def test_requests_hostname_mismatch(pki, wrongname):
    import requests
    with requests_session(fclient(pki)) as s:
        with pytest.raises(requests.exceptions.SSLError, match="CERTIFICATE_VERIFY_FAILED"):
            s.get(wrongname.url + "/", timeout=TIMEOUT)


# ---- httpx ------------------------------------------------------------------------------------


def test_httpx_sync(pki, https):
    import httpx
    with httpx.Client(verify=fclient(pki), timeout=TIMEOUT) as c:
        for _ in range(2):
            r = c.get(https.url + "/")
            assert r.status_code == 200 and r.content == BODY
            check_headers(r.headers, https.stack)


async def test_httpx_async(pki, https):
    import httpx
    async with httpx.AsyncClient(verify=fclient(pki), timeout=TIMEOUT) as c:
        rs = await asyncio.gather(*(c.get(https.url + "/") for _ in range(4)))
        for r in rs:
            assert r.status_code == 200 and r.content == BODY
            check_headers(r.headers, https.stack)


async def test_httpx_async_untrusted(pki, https):
    import httpx
    ctx = ferrule.SSLContext()
    ctx.load_verify_locations(pki / "other-root.pem")
    async with httpx.AsyncClient(verify=ctx, timeout=TIMEOUT) as c:
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            await c.get(https.url + "/")


# ---- aiohttp ------------------------------------------------------------------------------------


async def test_aiohttp_client(pki, https):
    import aiohttp
    async with aiohttp.ClientSession() as s:
        for _ in range(2):
            async with s.get(https.url + "/", ssl=fclient(pki)) as r:
                assert r.status == 200 and await r.read() == BODY
                check_headers(r.headers, https.stack)


async def test_aiohttp_client_certificate_error(pki, wrongname):
    import aiohttp
    async with aiohttp.ClientSession() as s:
        with pytest.raises(aiohttp.ClientConnectorCertificateError) as ei:
            await s.get(wrongname.url + "/", ssl=fclient(pki))
    assert ei.value.certificate_error.verify_code == 62


@pytest.mark.parametrize("client", ["stdlib", "ferrule"])
async def test_aiohttp_server(pki, client):
    import aiohttp
    from aiohttp import web

    async def hello(request):
        obj = request.transport.get_extra_info("ssl_object")
        return web.Response(body=type(obj).__module__.encode() + b" " + obj.version().encode())

    app = web.Application()
    app.router.add_get("/", hello)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=fserver(pki))
    await site.start()
    try:
        port = site._server.sockets[0].getsockname()[1]
        cctx = fclient(pki) if client == "ferrule" else sclient(pki)
        async with aiohttp.ClientSession() as s:
            async with s.get(f"https://localhost:{port}/", ssl=cctx) as r:
                assert await r.read() == b"ferrule._sslcontext TLSv1.3"
    finally:
        await runner.cleanup()


# ---- websockets -----------------------------------------------------------------------------------


@pytest.mark.parametrize("client,server", [("ferrule", "stdlib"), ("stdlib", "ferrule"),
                                           ("ferrule", "ferrule")])
async def test_websockets(pki, client, server):
    from websockets.asyncio.client import connect
    from websockets.asyncio.server import serve

    async def echo(ws):
        async for msg in ws:
            await ws.send(msg)

    sctx = fserver(pki) if server == "ferrule" else sserver(pki)
    cctx = fclient(pki) if client == "ferrule" else sclient(pki)
    async with serve(echo, "127.0.0.1", 0, ssl=sctx) as srv:
        port = port_of(srv)
        async with connect(f"wss://localhost:{port}", ssl=cctx, open_timeout=TIMEOUT) as ws:
            for msg in ("hello", b"\x00" * 100_000):
                await ws.send(msg)
                assert await asyncio.wait_for(ws.recv(), TIMEOUT) == msg
            obj = ws.transport.get_extra_info("ssl_object")
            assert isinstance(obj, ferrule.SSLObject) == (client == "ferrule")


def test_websockets_sync_client(pki, https):
    """websockets' sync client runs on wrap_socket; a plain HTTPS server
    answers the upgrade with 200, which websockets reports as a handshake
    rejection (after a complete TLS exchange)."""
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect
    with pytest.raises(InvalidStatus) as ei:
        connect(f"wss://localhost:{https.port}/", ssl=fclient(pki), open_timeout=TIMEOUT)
    assert ei.value.response.status_code == 200


# ---- truncation: the same library error as with the stdlib context ----------------------------


def _sync_error(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - the class is what we compare
        return type(e)
    return None


async def _async_error(coro_fn):
    try:
        await asyncio.wait_for(coro_fn(), TIMEOUT)
    except Exception as e:  # noqa: BLE001
        return type(e)
    return None


def truncation_clients(pki):
    import httpx
    import requests

    def http_client(ctx, port):
        def run():
            c = http.client.HTTPSConnection("localhost", port, context=ctx, timeout=TIMEOUT)
            c.request("GET", "/")
            c.getresponse().read()
        return run

    def requests_get(ctx, port):
        def run():
            with requests_session(ctx) as s:
                s.get(f"https://localhost:{port}/", timeout=TIMEOUT).content
        return run

    def httpx_get(ctx, port):
        def run():
            with httpx.Client(verify=ctx, timeout=TIMEOUT) as c:
                c.get(f"https://localhost:{port}/")
        return run
    _ = requests
    return {"http.client": http_client, "requests": requests_get, "httpx": httpx_get}


@pytest.mark.parametrize("lib", ["http.client", "requests", "httpx"])
def test_truncated_response_sync(pki, lib):
    make = truncation_clients(pki)[lib]
    with TruncatingServer(sserver(pki)) as srv:
        std = _sync_error(make(sclient(pki), srv.port))
        ours = _sync_error(make(fclient(pki), srv.port))
    assert std is not None, "the stdlib context did not notice the truncation"
    assert ours is std, (std, ours)


@pytest.mark.parametrize("lib", ["httpx", "aiohttp"])
async def test_truncated_response_async(pki, lib):
    import aiohttp
    import httpx

    def client(ctx, port):
        async def run():
            if lib == "httpx":
                async with httpx.AsyncClient(verify=ctx, timeout=TIMEOUT) as c:
                    await c.get(f"https://localhost:{port}/")
            else:
                async with aiohttp.ClientSession() as s:
                    async with s.get(f"https://localhost:{port}/", ssl=ctx) as r:
                        await r.read()
        return run
    with TruncatingServer(sserver(pki)) as srv:
        std = await _async_error(client(sclient(pki), srv.port))
        ours = await _async_error(client(fclient(pki), srv.port))
    assert std is not None, "the stdlib context did not notice the truncation"
    assert ours is std, (std, ours)


# ---- httpx: each verification failure is httpx's usual ConnectError ----------------------


@pytest.mark.parametrize("case", ["hostname", "untrusted", "expired"])
def test_httpx_verification_failures(pki, case):
    import time

    import httpx
    kind = "wrongname" if case == "hostname" else "ecdsa-p256"
    if case == "untrusted":
        ctx = ferrule.SSLContext()
        ctx.load_verify_locations(pki / "other-root.pem")
    elif case == "expired":
        ctx = fclient(pki, clock=lambda: int(time.time()) + 30 * 365 * 86400)
    else:
        ctx = fclient(pki)
    with HTTPSServer(sserver(pki, kind)) as srv:
        with httpx.Client(verify=ctx, timeout=TIMEOUT) as c:
            with pytest.raises(httpx.ConnectError) as ei:
                c.get(srv.url + "/")
    # httpx.ConnectError <- httpcore.ConnectError <- the ssl error
    assert verify_error(ei.value).verify_code == {"hostname": 62, "untrusted": 20, "expired": 10}[case]


@pytest.mark.parametrize("client", ["stdlib", "ferrule"])
def test_websockets_sync_server(pki, client):
    """websockets' threaded server on ferrule.SSLSocket (wrap_socket server
    side), with its sync client on either context."""
    import threading

    from websockets.sync.client import connect
    from websockets.sync.server import serve

    def echo(ws):
        for msg in ws:
            ws.send(msg)

    with serve(echo, "127.0.0.1", 0, ssl=fserver(pki)) as srv:
        t = threading.Thread(target=srv.serve_forever, daemon=True)
        t.start()
        port = srv.socket.getsockname()[1]
        cctx = fclient(pki) if client == "ferrule" else sclient(pki)
        try:
            with connect(f"wss://localhost:{port}", ssl=cctx, open_timeout=TIMEOUT) as ws:
                for msg in ("hello", b"\x01" * 70_000):
                    ws.send(msg)
                    assert ws.recv(timeout=TIMEOUT) == msg
        finally:
            srv.shutdown()
            t.join(TIMEOUT)
