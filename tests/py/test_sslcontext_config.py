"""ferrule.SSLContext's configuration API: what is mapped, what is refused
with ferrule.Unsupported (never silently ignored), and stdlib parity of the
defaults and of the check_hostname / verify_mode rules; wrap_socket
resumption with session=, and 0-RTT only through the explicit call."""

from __future__ import annotations

import socket
import ssl
import threading

import pytest

import ferrule
from conftest import TIMEOUT
from sslctx_util import BODY, HTTPSServer, fclient, fserver, sclient, sserver


def test_client_defaults_match_stdlib():
    ours, std = ferrule.SSLContext(ssl.PROTOCOL_TLS_CLIENT), ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    assert ours.check_hostname is std.check_hostname is True
    assert ours.verify_mode == std.verify_mode == ssl.CERT_REQUIRED
    assert ours.protocol == std.protocol
    s = ferrule.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    assert s.check_hostname is False and s.verify_mode == ssl.CERT_NONE
    assert ours.minimum_version == ours.maximum_version == ssl.TLSVersion.TLSv1_3


def test_check_hostname_and_verify_mode_rules():
    ctx = ferrule.SSLContext()
    with pytest.raises(ValueError, match="check_hostname"):
        ctx.verify_mode = ssl.CERT_NONE
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.check_hostname = True  # turns verification back on, as the stdlib does
    assert ctx.verify_mode == ssl.CERT_REQUIRED


@pytest.mark.parametrize("call", [
    lambda c: c.set_ciphers("ECDHE+AESGCM"),
    lambda c: c.set_npn_protocols(["http/1.1"]),
    lambda c: c.load_dh_params("dh.pem"),
    lambda c: setattr(c, "maximum_version", ssl.TLSVersion.TLSv1_2),
    lambda c: setattr(c, "options", c.options & ~0 | ssl.OP_NO_TLSv1_3),
    lambda c: setattr(c, "options", c.options | ssl.OP_IGNORE_UNEXPECTED_EOF),
    lambda c: setattr(c, "verify_flags", ssl.VERIFY_CRL_CHECK_LEAF),
    lambda c: setattr(c, "hostname_checks_common_name", True),
    lambda c: setattr(c, "post_handshake_auth", True),
    lambda c: c.get_ca_certs(),
    lambda c: c.session_stats(),
    lambda c: c.security_level,
    lambda c: c.load_cert_chain("x.pem", "x.key", password="secret"),
], ids=["set_ciphers", "npn", "dh_params", "max_tls12", "no_tls13", "ignore_eof", "crl_flag",
        "cn_check", "pha", "get_ca_certs", "session_stats", "security_level", "key_password"])
def test_refused_with_a_clear_error(call):
    ctx = ferrule.SSLContext()
    with pytest.raises(ferrule.Unsupported) as ei:
        call(ctx)
    assert len(str(ei.value)) > 20  # says why


@pytest.mark.parametrize("proto", ["PROTOCOL_TLSv1_2", "PROTOCOL_TLSv1", "PROTOCOL_TLS"])
def test_old_protocols_refused(proto):
    with pytest.raises(ferrule.Unsupported, match="TLS 1.3|would not verify"):
        ferrule.SSLContext(getattr(ssl, proto))


def test_server_context_cannot_make_clients(pki):
    with pytest.raises(ValueError, match="client connection"):
        fserver(pki).wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_side=False)
    with pytest.raises(ValueError, match="server connection"):
        fclient(pki).wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_side=True)


def test_accepted_settings():
    ctx = ferrule.SSLContext()
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2  # a floor TLS 1.3 meets
    ctx.maximum_version = ssl.TLSVersion.MAXIMUM_SUPPORTED
    ctx.options |= ssl.OP_NO_TLSv1_2 | ssl.OP_NO_COMPRESSION | ssl.OP_NO_TICKET
    assert ctx.options & ssl.OP_NO_TICKET
    ctx.verify_flags = ssl.VERIFY_X509_STRICT
    assert ctx.post_handshake_auth is None
    assert [c["name"] for c in ctx.get_ciphers()] == [
        "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"]
    with pytest.raises(ValueError):
        ctx.num_tickets = 1  # a client context, as the stdlib says


def test_cert_store_stats_counts_anchors(pki):
    ctx = fclient(pki)
    assert ctx.cert_store_stats()["x509_ca"] == 1
    ctx.load_verify_locations(pki / "other-root.pem")
    assert ctx.cert_store_stats()["x509_ca"] == 2


def test_load_cert_chain_checks_the_pair(pki):
    ctx = ferrule.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with pytest.raises(ferrule.Error):
        ctx.load_cert_chain(pki / "ecdsa-p256.chain.pem", pki / "rsa.key")


def test_inject_extract(pki):
    before = ssl.create_default_context
    ferrule.inject()
    try:
        assert ferrule.injected()
        ctx = ssl.create_default_context(cafile=str(pki / "root.pem"))
        assert isinstance(ctx, ferrule.SSLContext)
        assert isinstance(ssl._create_default_https_context(), ferrule.SSLContext)
        with HTTPSServer(sserver(pki)) as srv:
            import http.client
            c = http.client.HTTPSConnection("localhost", srv.port, context=ctx, timeout=TIMEOUT)
            c.request("GET", "/")
            assert c.getresponse().read() == BODY
            assert isinstance(c.sock, ferrule.SSLSocket)
            c.close()
    finally:
        ferrule.extract()
    assert ssl.create_default_context is before and not ferrule.injected()
    assert not isinstance(ssl.create_default_context(), ferrule.SSLContext)


def test_keylog_filename(pki, tmp_path):
    log = tmp_path / "keys.log"
    ctx = fclient(pki)
    ctx.keylog_filename = str(log)
    with HTTPSServer(sserver(pki)) as srv:
        with socket.create_connection(("127.0.0.1", srv.port), TIMEOUT) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                s.sendall(b"GET / HTTP/1.0\r\n\r\n")
                s.recv(10)
    lines = log.read_text().split()
    assert "CLIENT_TRAFFIC_SECRET_0" in lines and "SERVER_HANDSHAKE_TRAFFIC_SECRET" in lines


def test_sni_callback(pki):
    seen = []

    def cb(sslobj, name, ctx):
        seen.append((type(sslobj).__name__, name, ctx))
        return ssl.ALERT_DESCRIPTION_UNRECOGNIZED_NAME if name == "bad.example" else None

    sctx = fserver(pki)
    sctx.sni_callback = cb
    cctx = fclient(pki)
    cctx.check_hostname = False  # the names below are not on the certificate
    lsock = socket.create_server(("127.0.0.1", 0))
    port = lsock.getsockname()[1]
    errors = []

    def serve():
        for _ in range(2):
            raw, _ = lsock.accept()
            try:
                with sctx.wrap_socket(raw, server_side=True) as s:
                    s.sendall(s.recv(10))
            except ssl.SSLError as e:
                errors.append(e)
    t = threading.Thread(target=serve, daemon=True)
    t.start()
    with socket.create_connection(("127.0.0.1", port), TIMEOUT) as raw:
        with cctx.wrap_socket(raw, server_hostname="good.example") as s:
            s.sendall(b"hi")
            assert s.recv(10) == b"hi"
    with socket.create_connection(("127.0.0.1", port), TIMEOUT) as raw:
        with pytest.raises(ssl.SSLError, match="UNRECOGNIZED_NAME"):
            cctx.wrap_socket(raw, server_hostname="bad.example")
    t.join(TIMEOUT)
    lsock.close()
    assert seen == [("SSLSocket", "good.example", sctx), ("SSLSocket", "bad.example", sctx)]
    assert len(errors) == 1


def test_tls_unique_refused_tls_exporter_mapped(pki):
    with HTTPSServer(sserver(pki)) as srv:
        with socket.create_connection(("127.0.0.1", srv.port), TIMEOUT) as raw:
            with fclient(pki).wrap_socket(raw, server_hostname="localhost") as s:
                with pytest.raises(ferrule.Unsupported, match="RFC 8446"):
                    s.get_channel_binding("tls-unique")
                cb = s.get_channel_binding("tls-exporter")
                assert len(cb) == 32
                assert cb == s.ferrule_connection.export_keying_material(
                    "EXPORTER-Channel-Binding", 32, b"")


# ---- resumption with session= -------------------------------------------------------------


def get(ctx, port, session=None):
    with socket.create_connection(("127.0.0.1", port), TIMEOUT) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost", session=session) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
            data = b""
            while not data.endswith(BODY):
                chunk = s.recv(65536)
                assert chunk, data
                data += chunk
            return s.session, s.session_reused


@pytest.mark.parametrize("server", ["stdlib", "ferrule"])
def test_resumption_across_two_requests(pki, server):
    sctx = sserver(pki) if server == "stdlib" else fserver(pki)
    ctx = fclient(pki)
    with HTTPSServer(sctx) as srv:
        session, reused = get(ctx, srv.port)
        assert isinstance(session, ferrule.SSLSession) and not reused
        _, reused = get(ctx, srv.port, session)
        assert reused
        with pytest.raises(TypeError):
            get(ctx, srv.port, object())


def test_stdlib_session_refused(pki):
    with pytest.raises(TypeError, match="ferrule.SSLSession"):
        fclient(pki).wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_hostname="localhost",
                              session=object())


# ---- 0-RTT: never implicit, only through the explicit replay-safe call ----------------------


def test_early_data_only_explicit(pki):
    sctx = fserver(pki, early_data=True)
    cctx = fclient(pki, early_data=True)
    lsock = socket.create_server(("127.0.0.1", 0))
    port = lsock.getsockname()[1]
    got = []

    def serve():
        for _ in range(3):
            raw, _ = lsock.accept()
            with sctx.wrap_socket(raw, server_side=True) as s:
                got.append((s.recv(100), s.ferrule_connection.early_data_len))
                s.sendall(b"ok")
    t = threading.Thread(target=serve, daemon=True)
    t.start()

    def connect(session, early=None):
        raw = socket.create_connection(("127.0.0.1", port), TIMEOUT)
        s = cctx.wrap_socket(raw, server_hostname="localhost", session=session,
                             do_handshake_on_connect=False)
        if early is not None:
            with pytest.raises(ferrule.UsageError):
                s.ferrule_connection.write_early_data(early)  # no replay_safe=True
            assert s.ferrule_connection.write_early_data(early, replay_safe=True) == len(early)
        s.do_handshake()
        if early is None:
            s.sendall(b"ping")
        assert s.recv(10) == b"ok"
        status, sess = s.ferrule_connection.early_data_status, s.session
        s.close()
        return status, sess

    status, session = connect(None)
    assert status == "not_offered"
    # A resumed connection with 0-RTT enabled still writes after the handshake
    # unless asked explicitly.
    status, session2 = connect(session)
    assert status == "not_offered"
    status, _ = connect(session2, b"GET /idempotent")
    assert status == "accepted"
    t.join(TIMEOUT)
    lsock.close()
    assert got == [(b"ping", 0), (b"ping", 0), (b"GET /idempotent", 15)]


# ---- non-blocking SSLSocket: SSLWantReadError / SSLWantWriteError -------------------------


def test_non_blocking_socket(pki):
    import select
    with HTTPSServer(sserver(pki)) as srv:
        raw = socket.create_connection(("127.0.0.1", srv.port), TIMEOUT)
        s = fclient(pki).wrap_socket(raw, server_hostname="localhost",
                                     do_handshake_on_connect=False)
        s.setblocking(False)
        wants = set()
        for _ in range(1000):
            try:
                s.do_handshake()
                break
            except ssl.SSLWantReadError:
                wants.add("read")
                select.select([s], [], [], TIMEOUT)
            except ssl.SSLWantWriteError:
                wants.add("write")
                select.select([], [s], [], TIMEOUT)
        # (Whether do_handshake() had to wait depends on how fast the
        # server thread answered; recv() below must wait: no request yet.)
        assert s.version() == "TLSv1.3"
        with pytest.raises(ssl.SSLWantReadError):
            s.recv(100)  # nothing sent yet: nothing to read
        s.send(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        data = b""
        while not data.endswith(BODY):
            select.select([s], [], [], TIMEOUT)
            try:
                data += s.recv(65536)
            except ssl.SSLWantReadError:
                pass
        assert data.startswith(b"HTTP/1.1 200")
        s.close()


# ---- trust anchors and chains are checked by the call that gives them ----------------------


def _der(pem_path):
    return ssl.PEM_cert_to_DER_cert(pem_path.read_text())


def test_cadata_der_several(pki):
    ctx = ferrule.SSLContext()
    ctx.load_verify_locations(cadata=_der(pki / "root.pem") + _der(pki / "other-root.pem"))
    assert ctx.cert_store_stats()["x509_ca"] == 2
    ctx.load_verify_locations(cadata=(pki / "inter.pem").read_text())
    assert ctx.cert_store_stats()["x509_ca"] == 3
    with HTTPSServer(sserver(pki)) as srv:  # the DER root verifies the server
        with socket.create_connection(("127.0.0.1", srv.port), TIMEOUT) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                assert s.version() == "TLSv1.3"


@pytest.mark.parametrize("bad", ["garbage-der", "truncated-der"])
def test_bad_cadata_fails_the_call_and_keeps_the_context(pki, bad):
    ctx = fclient(pki)
    data = b"\x01\x02garbage" if bad == "garbage-der" else _der(pki / "root.pem")[:-10]
    with pytest.raises(ssl.SSLError):
        ctx.load_verify_locations(cadata=data)
    assert ctx.cert_store_stats()["x509_ca"] == 1  # the good root is still there


def test_bad_cafile_fails_the_call(pki, tmp_path):
    bad = tmp_path / "bad.pem"
    bad.write_text("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
    ctx = fclient(pki)
    with pytest.raises((ssl.SSLError, ValueError)):
        ctx.load_verify_locations(bad)
    assert ctx.cert_store_stats()["x509_ca"] == 1
    with pytest.raises(FileNotFoundError):
        ctx.load_verify_locations(tmp_path / "missing.pem")


def test_select_sees_records_not_yet_read(pki):
    """The client's Finished and its first data arrive in one TCP segment;
    after the server's handshake the data must still make the socket
    readable for select() (websockets' sync connections select() before
    recv()): ferrule.SSLSocket reads the socket a record at a time, like
    OpenSSL without read-ahead."""
    import select
    lsock = socket.create_server(("127.0.0.1", 0))
    result = {}

    def server():
        raw, _ = lsock.accept()
        raw.settimeout(TIMEOUT)
        with fserver(pki).wrap_socket(raw, server_side=True) as s:
            readable, _, _ = select.select([s], [], [], 5)
            result["readable"] = bool(readable)
            result["data"] = s.recv(100)
    t = threading.Thread(target=server, daemon=True)
    t.start()
    with socket.create_connection(lsock.getsockname(), TIMEOUT) as c:
        inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
        obj = sclient(pki).wrap_bio(inc, out, server_hostname="localhost")
        while True:
            try:
                obj.do_handshake()
                break
            except ssl.SSLWantReadError:
                c.sendall(out.read())
                inc.write(c.recv(65536))
        obj.write(b"first data")
        c.sendall(out.read())  # Finished and the data record, one send
        t.join(TIMEOUT)
    lsock.close()
    assert result == {"readable": True, "data": b"first data"}


@pytest.mark.parametrize("first", ["recv", "sendall"])
def test_first_io_drives_the_handshake(pki, first):
    """Without do_handshake_on_connect, the first recv() or sendall() runs
    the handshake (as with the stdlib)."""
    lsock = socket.create_server(("127.0.0.1", 0))

    def server():
        raw, _ = lsock.accept()
        with fserver(pki).wrap_socket(raw, server_side=True) as s:
            s.sendall(b"hello first")
            s.recv(10)
    t = threading.Thread(target=server, daemon=True)
    t.start()
    raw = socket.create_connection(lsock.getsockname(), TIMEOUT)
    with fclient(pki).wrap_socket(raw, server_hostname="localhost",
                                  do_handshake_on_connect=False) as s:
        assert s.version() is None
        if first == "recv":
            assert s.recv(100) == b"hello first"
            s.sendall(b"x")
        else:
            s.sendall(b"x")
            assert s.recv(100) == b"hello first"
        assert s.version() == "TLSv1.3"
    t.join(TIMEOUT)
    lsock.close()
