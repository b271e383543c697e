"""ferrule.SSLContext in asyncio's own TLS (SSLProtocol over wrap_bio):
open_connection / start_server / start_tls with ssl=ctx, against Python's
ssl, openssl s_server and ferrule itself; verification failures as
ssl.SSLCertVerificationError with the stdlib's verify_code."""

from __future__ import annotations

import asyncio
import ssl

import pytest

import ferrule
from conftest import TIMEOUT, echo_handler, port_of
from sslctx_util import fclient, fserver, sclient, sserver

PAYLOAD = bytes(range(256)) * 400  # 102,400 bytes


async def roundtrip(r, w, payload=PAYLOAD):
    w.write(payload)
    await w.drain()
    got = await asyncio.wait_for(r.readexactly(len(payload)), TIMEOUT)
    w.close()
    await asyncio.wait_for(w.wait_closed(), TIMEOUT)
    return got


@pytest.mark.parametrize("server", ["stdlib", "ferrule"])
async def test_open_connection_ferrule_client(pki, server):
    sctx = sserver(pki) if server == "stdlib" else fserver(pki)
    srv = await asyncio.start_server(echo_handler, "127.0.0.1", 0, ssl=sctx)
    async with srv:
        r, w = await asyncio.open_connection("127.0.0.1", port_of(srv), ssl=fclient(pki),
                                             server_hostname="localhost")
        obj = w.get_extra_info("ssl_object")
        assert isinstance(obj, ferrule.SSLObject)
        assert obj.version() == "TLSv1.3"
        assert w.get_extra_info("cipher")[1] == "TLSv1.3"
        subject = [a for rdn in w.get_extra_info("peercert")["subject"] for a in rdn]
        assert ("commonName", "localhost") in subject
        assert await roundtrip(r, w) == PAYLOAD


async def test_start_server_ferrule_with_stdlib_client(pki):
    seen = {}

    async def handler(r, w):
        seen["obj"] = w.get_extra_info("ssl_object")
        await echo_handler(r, w)

    srv = await asyncio.start_server(handler, "127.0.0.1", 0, ssl=fserver(pki, alpn=["x"]))
    async with srv:
        r, w = await asyncio.open_connection("127.0.0.1", port_of(srv),
                                             ssl=sclient(pki, alpn=["x"]),
                                             server_hostname="localhost")
        assert w.get_extra_info("ssl_object").selected_alpn_protocol() == "x"
        assert await roundtrip(r, w) == PAYLOAD
    assert isinstance(seen["obj"], ferrule.SSLObject)
    assert seen["obj"].server_side and seen["obj"].selected_alpn_protocol() == "x"


@pytest.mark.parametrize("client,server", [("ferrule", "stdlib"), ("stdlib", "ferrule"),
                                           ("ferrule", "ferrule")])
async def test_start_tls_both_directions(pki, client, server):
    sctx = fserver(pki) if server == "ferrule" else sserver(pki)
    cctx = fclient(pki) if client == "ferrule" else sclient(pki)

    async def handler(r, w):
        assert await r.readline() == b"STARTTLS\n"
        w.write(b"GO\n")
        await w.drain()
        await w.start_tls(sctx)
        await echo_handler(r, w)

    srv = await asyncio.start_server(handler, "127.0.0.1", 0)
    async with srv:
        r, w = await asyncio.open_connection("127.0.0.1", port_of(srv))
        w.write(b"STARTTLS\n")
        assert await asyncio.wait_for(r.readline(), TIMEOUT) == b"GO\n"
        await w.start_tls(cctx, server_hostname="localhost")
        assert w.get_extra_info("ssl_object").version() == "TLSv1.3"
        assert await roundtrip(r, w, b"after starttls\n" * 1000) == b"after starttls\n" * 1000


async def test_openssl_s_server_www(pki, openssl_server):
    srv = openssl_server("rsa", "-www")
    r, w = await asyncio.open_connection("127.0.0.1", srv.port, ssl=fclient(pki),
                                         server_hostname="localhost")
    w.write(b"GET / HTTP/1.0\r\n\r\n")
    body = await asyncio.wait_for(r.read(), TIMEOUT)
    assert body.startswith(b"HTTP/1.0 200 ok")
    assert b"TLSv1.3" in body
    w.close()


async def verify_failure(pki, ctx, server_ctx, hostname="localhost"):
    srv = await asyncio.start_server(echo_handler, "127.0.0.1", 0, ssl=server_ctx)
    async with srv:
        with pytest.raises(ssl.SSLCertVerificationError) as ei:
            await asyncio.wait_for(asyncio.open_connection(
                "127.0.0.1", port_of(srv), ssl=ctx, server_hostname=hostname), TIMEOUT)
    return ei.value


@pytest.mark.parametrize("case", ["hostname", "untrusted"])
async def test_verify_failure_matches_stdlib(pki, case):
    """The same failure gives the same exception class and verify_code
    with the stdlib context and with ferrule's."""
    host = "other.example" if case == "hostname" else "localhost"

    def ctxs():
        if case == "hostname":
            return sclient(pki), fclient(pki)
        s = ssl.create_default_context(cafile=str(pki / "other-root.pem"))
        f = ferrule.SSLContext()
        f.load_verify_locations(pki / "other-root.pem")
        return s, f
    s, f = ctxs()
    std = await verify_failure(pki, s, sserver(pki), host)
    ours = await verify_failure(pki, f, sserver(pki), host)
    assert isinstance(ours, ferrule.SSLCertVerificationError)
    assert ours.verify_code == std.verify_code, (std.verify_message, ours.verify_message)
    assert ours.verify_code == {"hostname": 62, "untrusted": 20}[case]
    assert ours.reason == "CERTIFICATE_VERIFY_FAILED"
    assert ours.ferrule_reason == {"hostname": "cert_name_mismatch",
                                   "untrusted": "cert_unknown_issuer"}[case]


async def test_expired_certificate(pki):
    # ferrule's clock option: a reading 30 years on makes the chain expired.
    import time
    ctx = fclient(pki, clock=lambda: int(time.time()) + 30 * 365 * 86400)
    e = await verify_failure(pki, ctx, sserver(pki))
    assert e.verify_code == 10 and e.ferrule_reason == "cert_expired"
    assert "expired" in e.verify_message


async def test_server_requires_client_cert(pki):
    sctx = fserver(pki)
    sctx.verify_mode = ssl.CERT_REQUIRED
    sctx.load_verify_locations(pki / "root.pem")
    seen = []

    async def handler(r, w):
        seen.append(w.get_extra_info("peercert"))
        await echo_handler(r, w)
    srv = await asyncio.start_server(handler, "127.0.0.1", 0, ssl=sctx)
    async with srv:
        cctx = fclient(pki)
        cctx.load_cert_chain(pki / "rsa.chain.pem", pki / "rsa.key")
        r, w = await asyncio.open_connection("127.0.0.1", port_of(srv), ssl=cctx,
                                             server_hostname="localhost")
        assert await roundtrip(r, w, b"m") == b"m"
        # Without a certificate the server's handshake fails (in TLS 1.3 the
        # client has finished its side: it sees the connection end; asyncio
        # closes without sending the alert, with the stdlib as well).
        r, w = await asyncio.open_connection("127.0.0.1", port_of(srv), ssl=fclient(pki),
                                             server_hostname="localhost")
        w.write(b"m")
        with pytest.raises((ssl.SSLError, ConnectionError, asyncio.IncompleteReadError)):
            await asyncio.wait_for(r.readexactly(1), TIMEOUT)
        w.close()
    assert len(seen) == 1 and ("commonName", "localhost") in [a for rdn in seen[0]["subject"]
                                                             for a in rdn]


async def test_check_hostname_requires_server_hostname(pki):
    srv = await asyncio.start_server(echo_handler, "127.0.0.1", 0, ssl=sserver(pki))
    async with srv:
        with pytest.raises(ValueError, match="server_hostname"):
            await asyncio.open_connection("127.0.0.1", port_of(srv), ssl=fclient(pki),
                                          server_hostname="")


async def test_peercert_matches_stdlib(pki):
    """getpeercert() through asyncio: the same dict as the stdlib's for the
    same server, and the same DER."""
    srv = await asyncio.start_server(echo_handler, "127.0.0.1", 0, ssl=sserver(pki, "rsa"))
    got = {}
    async with srv:
        for name, ctx in (("ssl", sclient(pki)), ("ferrule", fclient(pki))):
            r, w = await asyncio.open_connection("127.0.0.1", port_of(srv), ssl=ctx,
                                                 server_hostname="localhost")
            obj = w.get_extra_info("ssl_object")
            got[name] = (w.get_extra_info("peercert"), obj.getpeercert(True))
            await roundtrip(r, w, b"c")
    assert got["ferrule"] == got["ssl"]


@pytest.mark.parametrize("client,server", [("ferrule", "stdlib"), ("stdlib", "ferrule")])
async def test_anyio_tls_stream(pki, client, server):
    """anyio's TLSStream (what httpx async and other anyio users run) over
    ferrule.SSLObject, both roles."""
    import anyio
    from anyio.streams.tls import TLSStream

    sctx = fserver(pki) if server == "ferrule" else sserver(pki)
    cctx = fclient(pki) if client == "ferrule" else sclient(pki)
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    port = listener.extra(anyio.abc.SocketAttribute.local_port)

    async def serve_one(stream):
        tls = await TLSStream.wrap(stream, server_side=True, ssl_context=sctx)
        data = await tls.receive()
        await tls.send(data[::-1])
        await tls.aclose()

    async with anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, serve_one)
        stream = await anyio.connect_tcp("127.0.0.1", port)
        tls = await TLSStream.wrap(stream, hostname="localhost", ssl_context=cctx)
        await tls.send(b"abc" * 1000)
        got = b""
        while len(got) < 3000:
            got += await tls.receive()
        assert got == (b"abc" * 1000)[::-1]
        assert tls.extra(anyio.streams.tls.TLSAttribute.tls_version) == "TLSv1.3"
        await tls.aclose()
        tg.cancel_scope.cancel()
    await listener.aclose()
