"""ferrule.asyncio against `openssl s_server` / `openssl s_client` (OpenSSL
3.0 CLI subprocesses) over loopback, every suite x group, both roles."""

from __future__ import annotations

import asyncio
import re

import pytest

import ferrule.asyncio as fa
from conftest import GROUPS, KINDS, SUITES, TIMEOUT, client_config, port_of, server_config

OPENSSL_GROUP = {"x25519": "X25519", "secp256r1": "P-256", "secp384r1": "P-384"}
CELLS = [pytest.param(s, g, id=f"{s}-{g}") for s in SUITES for g in GROUPS]
HTTP_GET = b"GET / HTTP/1.0\r\n\r\n"


async def s_client(openssl_bin, port, *args, stdin=b""):
    proc = await asyncio.create_subprocess_exec(
        openssl_bin, "s_client", "-connect", f"127.0.0.1:{port}", "-servername", "localhost",
        "-tls1_3", *args, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    try:
        out, err = await asyncio.wait_for(proc.communicate(stdin), TIMEOUT)
    except asyncio.TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    return proc.returncode, out.decode(errors="replace"), err.decode(errors="replace")


async def line_handler(reader, writer):
    """Answer one line, then close (close_notify)."""
    line = await reader.readline()
    writer.write(b"echo: " + line)
    await writer.drain()
    writer.close()


@pytest.mark.parametrize("suite,group", CELLS)
async def test_client_to_openssl_s_server(openssl_server, pki, suite, group):
    srv = openssl_server("ecdsa-p256", "-www", "-ciphersuites", suite,
                         "-groups", OPENSSL_GROUP[group])
    r, w = await fa.open_connection("127.0.0.1", srv.port,
                                    config=client_config(pki, cipher_suites=[suite],
                                                         groups=[group]),
                                    server_hostname="localhost")
    conn = w.get_extra_info("ferrule_object")
    assert conn.cipher()[0] == suite and conn.group() == group
    w.write(HTTP_GET)
    page = await asyncio.wait_for(r.read(), TIMEOUT)  # s_server -www ends with close_notify
    assert page.startswith(b"HTTP/1.0 200 ok")
    assert f"Cipher is {suite}".encode() in page or suite.encode() in page
    w.close()
    await asyncio.wait_for(w.wait_closed(), TIMEOUT)


@pytest.mark.parametrize("suite,group", CELLS)
async def test_openssl_s_client_to_server(openssl_bin, pki, suite, group):
    srv = await fa.start_server(line_handler, "127.0.0.1", 0, config=server_config(pki))
    async with srv:
        rc, out, err = await s_client(openssl_bin, port_of(srv), "-CAfile",
                                      str(pki / "root.pem"), "-verify_return_error",
                                      "-ciphersuites", suite, "-groups", OPENSSL_GROUP[group],
                                      "-ign_eof", stdin=b"hello\n")
    assert rc == 0, out + err
    assert "echo: hello" in out
    assert re.search(rf"Cipher is {suite}", out), out
    assert "Verification: OK" in out, out


@pytest.mark.parametrize("kind", KINDS)
async def test_cert_kinds_with_openssl(openssl_server, openssl_bin, pki, kind):
    srv = openssl_server(kind, "-www")
    r, w = await fa.open_connection("127.0.0.1", srv.port, config=client_config(pki),
                                    server_hostname="localhost")
    w.write(HTTP_GET)
    assert (await asyncio.wait_for(r.read(), TIMEOUT)).startswith(b"HTTP/1.0 200 ok")
    w.close()
    fsrv = await fa.start_server(line_handler, "127.0.0.1", 0, config=server_config(pki, kind))
    async with fsrv:
        rc, out, err = await s_client(openssl_bin, port_of(fsrv), "-CAfile",
                                      str(pki / "root.pem"), "-verify_return_error",
                                      "-ign_eof", stdin=b"x\n")
    assert rc == 0, out + err
    assert "Verification: OK" in out and "echo: x" in out


async def test_alpn_with_openssl(openssl_server, openssl_bin, pki):
    srv = openssl_server("ecdsa-p256", "-www", "-alpn", "h2,http/1.1")
    r, w = await fa.open_connection("127.0.0.1", srv.port,
                                    config=client_config(pki, alpn_protocols=["http/1.1"]),
                                    server_hostname="localhost")
    assert w.get_extra_info("alpn_protocol") == "http/1.1"
    w.close()
    fsrv = await fa.start_server(line_handler, "127.0.0.1", 0,
                                 config=server_config(pki, alpn_protocols=["h2"]))
    async with fsrv:
        rc, out, err = await s_client(openssl_bin, port_of(fsrv), "-alpn", "h2,http/1.1",
                                      "-ign_eof", stdin=b"a\n")
    assert "ALPN protocol: h2" in out, out + err


async def test_resumption_with_openssl_s_server(openssl_server, pki):
    srv = openssl_server("ecdsa-p256", "-www")
    cfg = client_config(pki)
    r, w = await fa.open_connection("127.0.0.1", srv.port, config=cfg,
                                    server_hostname="localhost")
    w.write(HTTP_GET)
    await asyncio.wait_for(r.read(), TIMEOUT)
    blob = w.get_extra_info("ferrule_object").session
    w.close()
    assert blob, "no NewSessionTicket from s_server"
    r, w = await fa.open_connection("127.0.0.1", srv.port, config=cfg,
                                    server_hostname="localhost", session=blob)
    assert w.get_extra_info("ferrule_object").session_reused
    w.write(HTTP_GET)
    page = await asyncio.wait_for(r.read(), TIMEOUT)
    assert page.startswith(b"HTTP/1.0 200 ok") and b"Reused, TLSv1.3" in page
    w.close()


async def test_resumption_openssl_s_client_to_server(openssl_bin, pki, tmp_path):
    fsrv = await fa.start_server(line_handler, "127.0.0.1", 0, config=server_config(pki))
    sess = tmp_path / "sess.pem"
    async with fsrv:
        rc, out, err = await s_client(openssl_bin, port_of(fsrv), "-CAfile",
                                      str(pki / "root.pem"), "-sess_out", str(sess),
                                      "-ign_eof", stdin=b"x\n")
        assert rc == 0 and sess.is_file(), out + err
        rc, out, err = await s_client(openssl_bin, port_of(fsrv), "-CAfile",
                                      str(pki / "root.pem"), "-sess_in", str(sess),
                                      "-ign_eof", stdin=b"y\n")
    assert rc == 0, out + err
    assert "Reused, TLSv1.3" in out, out


EARLY = b"EARLY-DATA-0RTT\n"


async def test_client_early_data_accepted_by_openssl_s_server(openssl_server, pki):
    """ferrule.asyncio 0-RTT to `openssl s_server -early_data`: accepted,
    OpenSSL prints the early data; the ticket's second use is rejected by
    OpenSSL's anti-replay and the bytes are resent after the handshake."""
    srv = openssl_server("ecdsa-p256", "-early_data", keep_stdin=True)
    ccfg = client_config(pki, early_data=True)
    r, w = await fa.open_connection("127.0.0.1", srv.port, config=ccfg,
                                    server_hostname="localhost")
    conn = w.get_extra_info("ferrule_object")
    deadline = asyncio.get_running_loop().time() + TIMEOUT
    while conn.session is None:  # s_server sends its tickets after the handshake
        assert asyncio.get_running_loop().time() < deadline, "no ticket from s_server"
        await asyncio.sleep(0.01)
    blob = conn.session
    w.close()
    await asyncio.wait_for(w.wait_closed(), TIMEOUT)

    r, w = await fa.open_connection("127.0.0.1", srv.port, config=ccfg,
                                    server_hostname="localhost", session=blob,
                                    early_data=EARLY)
    conn = w.get_extra_info("ferrule_object")
    assert w.get_extra_info("early_data") == "accepted"
    assert conn.session_reused and conn.early_data_len == len(EARLY)
    w.write(b"after-handshake\n")
    await w.drain()
    srv.wait_for("after-handshake")
    out = srv.output()
    assert "Early data received:" in out and EARLY.decode() in out, out
    assert out.count(EARLY.decode()) == 1
    w.close()
    await asyncio.wait_for(w.wait_closed(), TIMEOUT)

    # Reusing the ticket: OpenSSL refuses (single use); resent in 1-RTT.
    r, w = await fa.open_connection("127.0.0.1", srv.port, config=ccfg,
                                    server_hostname="localhost", session=blob,
                                    early_data=b"SECOND-TRY\n")
    assert w.get_extra_info("early_data") == "rejected"
    srv.wait_for("SECOND-TRY")
    assert srv.output().count("SECOND-TRY") == 1
    w.close()
    await asyncio.wait_for(w.wait_closed(), TIMEOUT)


async def test_openssl_s_client_early_data_accepted_by_server(openssl_bin, pki, tmp_path):
    """`openssl s_client -sess_in -early_data` to a ferrule.asyncio server:
    accepted; the early data are the first bytes of the server's stream."""
    seen = []

    async def handler(reader, writer):
        line = await reader.readline()
        seen.append((line, writer.get_extra_info("early_data")))
        writer.write(b"echo: " + line)
        await writer.drain()
        writer.close()
    fsrv = await fa.start_server(handler, "127.0.0.1", 0,
                                 config=server_config(pki, early_data=True))
    sess, early = tmp_path / "sess.pem", tmp_path / "early.txt"
    early.write_bytes(EARLY)
    async with fsrv:
        rc, out, err = await s_client(openssl_bin, port_of(fsrv), "-CAfile",
                                      str(pki / "root.pem"), "-sess_out", str(sess),
                                      "-ign_eof", stdin=b"first\n")
        assert rc == 0 and sess.is_file(), out + err
        rc, out, err = await s_client(openssl_bin, port_of(fsrv), "-CAfile",
                                      str(pki / "root.pem"), "-sess_in", str(sess),
                                      "-early_data", str(early), "-ign_eof", stdin=b"")
    assert rc == 0, out + err
    assert "Early data was accepted" in out, out
    assert "Reused, TLSv1.3" in out, out
    assert "echo: " + EARLY.decode() in out, out
    assert seen == [(b"first\n", "not_offered"), (EARLY, "accepted")]
