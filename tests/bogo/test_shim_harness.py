"""build/bogo_shim against our own runner-side harness (tests/bogo/harness.py):
the process model of BoringSSL's runner for a handful of tests, so the shim
cannot rot between the by-hand runs with the real runner."""
import os
import socket
import ssl
import struct

import pytest

import harness as H

PKI = os.environ.get("FERRULE_TEST_PKI") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "pki")


def chain(kind="ecdsa-p256"):
    return os.path.join(PKI, kind + ".chain.pem"), os.path.join(PKI, kind + ".key")


@pytest.fixture(scope="module", autouse=True)
def _need_shim_and_pki():
    assert os.access(H.SHIM, os.X_OK), "no shim at %s (make build)" % H.SHIM
    assert os.path.exists(chain()[0]), "no test PKI at %s (tools/gen-pki.sh)" % PKI


def test_probe_says_no_split_handshakes():
    assert H.probe() == (0, "No\n")


def test_unknown_flag_is_unimplemented():
    rc, out, err = H.run_flags_only(["-enable-channel-id"])
    assert rc == 89, (rc, out, err)
    assert "-enable-channel-id" in out
    assert err == ""


def test_tls12_only_request_is_unimplemented():
    rc, out, _ = H.run_flags_only(["-max-version", "771"])
    assert rc == 89
    assert "TLS 1.3" in out


def test_malformed_flag_value_fails():
    rc, _, err = H.run_flags_only(["-resume-count", "many"])
    assert rc == 1
    assert "-resume-count" in err or "many" in err


def client_echo(flags, messages=(b"runner says hi",)):
    """Shim as TLS client against Python's ssl; returns (rc, stderr)."""
    run = H.ShimRun(flags)
    try:
        sock = run.accept()
        ctx = H.ssl_server_context(PKI)
        tls = ctx.wrap_socket(sock, server_side=True)
        for m in messages:
            assert H.echo_once(tls, m) == H.xor_ff(m)
        H.close_tls(tls)
        rc, _, err = run.wait()
        return rc, err
    finally:
        run.kill()


def test_client_shim_id_and_echo():
    rc, err = client_echo([], [b"one", b"two" * 100])
    assert (rc, err) == (0, "")


def test_client_async_drip_feed():
    rc, err = client_echo(["-async"], [b"byte by byte"])
    assert (rc, err) == (0, "")


def test_client_key_update_after_each_read():
    rc, err = client_echo(["-key-update"], [b"a", b"b", b"c"])
    assert (rc, err) == (0, "")


def test_server_echo_and_shim_writes_first():
    cert, key = chain()
    run = H.ShimRun(["-server", "-cert-file", cert, "-key-file", key, "-shim-writes-first"])
    try:
        sock = run.accept()
        tls = H.ssl_client_context().wrap_socket(sock, server_hostname="test")
        assert H.recv_exact(tls, 5) == b"hello"
        assert H.echo_once(tls, b"\x00\x01\xfe") == b"\xff\xfe\x01"
        H.close_tls(tls)
        assert run.wait()[0::2] == (0, "")
    finally:
        run.kill()


def test_expectation_failure_is_reported():
    # The shim expects ALPN "h2"; the server negotiates none: the shim must
    # fail after the handshake, with its reason on stderr.
    run = H.ShimRun(["-advertise-alpn", "\x02h2", "-expect-alpn", "h2"])
    try:
        sock = run.accept()
        tls = H.ssl_server_context(PKI).wrap_socket(sock, server_side=True)
        try:
            tls.recv(1)
        except (ssl.SSLError, OSError):
            pass
        tls.close()
        rc, _, err = run.wait()
        assert rc == 1
        assert "alpn" in err.lower()
    finally:
        run.kill()


def test_client_resumes_the_session():
    run = H.ShimRun(["-resume-count", "1"])
    try:
        ctx = H.ssl_server_context(PKI)
        for i in range(2):
            tls = ctx.wrap_socket(run.accept(), server_side=True)
            assert H.echo_once(tls, b"conn %d" % i) == H.xor_ff(b"conn %d" % i)
            assert tls.session_reused == (i == 1)
            H.close_tls(tls)
        assert run.wait()[0::2] == (0, "")
    finally:
        run.kill()


def test_expect_session_miss_accepts_a_full_handshake():
    run = H.ShimRun(["-resume-count", "1", "-expect-session-miss"])
    try:
        for i in range(2):
            # A new server context (new ticket keys) each time: no resumption.
            tls = H.ssl_server_context(PKI).wrap_socket(run.accept(), server_side=True)
            H.echo_once(tls, b"x")
            assert not tls.session_reused
            H.close_tls(tls)
        assert run.wait()[0::2] == (0, "")
    finally:
        run.kill()


def test_zero_rtt_rejected_then_retried_in_1rtt():
    import ferrule  # the project's Python binding (make python); make check-bogo installs it
    cert, key = chain()
    decisions = []

    def accept(info):
        decisions.append(False)
        return False  # the resumed connection's 0-RTT is refused

    cfg = ferrule.ServerConfig(certfile=cert, keyfile=key, early_data=True,
                               accept_early_data=accept)
    run = H.ShimRun(["-resume-count", "1", "-enable-early-data",
                     "-on-resume-shim-writes-first", "-on-retry-shim-writes-first",
                     "-on-initial-expect-ticket-supports-early-data",
                     "-on-resume-expect-reject-early-data",
                     "-on-resume-expect-ticket-supports-early-data",
                     "-on-retry-expect-ticket-supports-early-data"])
    try:
        # Connection 0: a full handshake; the ticket allows 0-RTT.
        peer = H.FerrulePeer(run.accept(), ferrule.Connection(cfg))
        peer.handshake()
        peer.write(b"first")
        assert peer.read(5) == H.xor_ff(b"first")
        peer.close()
        # Connection 1: 0-RTT offered, refused; "hello" comes again in 1-RTT.
        conn = ferrule.Connection(cfg)
        peer = H.FerrulePeer(run.accept(), conn)
        early = bytearray()
        peer.handshake(early)
        assert conn.session_reused
        assert conn.early_data_status == "rejected"
        assert bytes(early) == b""
        assert peer.read(5) == b"hello"
        peer.write(b"again")
        assert peer.read(5) == H.xor_ff(b"again")
        peer.close()
        rc, out, err = run.wait()
        assert (rc, err) == (0, ""), out
        assert decisions == [False]
    finally:
        run.kill()


def test_bad_server_hello_gets_decode_error():
    # A bad peer: answer the ClientHello with a ServerHello whose body is
    # cut short.  The shim must send decode_error (plaintext: no keys yet)
    # and print BoringSSL's :DECODE_ERROR:.
    run = H.ShimRun([])
    try:
        sock = run.accept()
        hdr = H.recv_exact(sock, 5)
        assert hdr[0] == 22  # handshake record: the ClientHello
        H.recv_exact(sock, struct.unpack(">H", hdr[3:5])[0])
        body = b"\x03\x03" + b"\x11" * 10  # legacy_version, then a truncated random
        msg = b"\x02" + len(body).to_bytes(3, "big") + body
        sock.sendall(b"\x16\x03\x03" + len(msg).to_bytes(2, "big") + msg)
        alert = H.recv_exact(sock, 7)
        assert alert == b"\x15\x03\x03\x00\x02\x02\x32", alert.hex()
        sock.close()
        rc, _, err = run.wait()
        assert rc == 1
        assert ":DECODE_ERROR:" in err
    finally:
        run.kill()


def test_peer_alert_is_reported_in_boringssl_words():
    run = H.ShimRun([])
    try:
        sock = run.accept()
        hdr = H.recv_exact(sock, 5)
        H.recv_exact(sock, struct.unpack(">H", hdr[3:5])[0])
        sock.sendall(b"\x15\x03\x03\x00\x02\x02\x28")  # fatal handshake_failure
        sock.close()
        rc, _, err = run.wait()
        assert rc == 1
        assert ":SSLV3_ALERT_HANDSHAKE_FAILURE:" in err
    finally:
        run.kill()


def test_export_keying_material_matches_the_peer():
    import ferrule  # the project's Python binding (make python); make check-bogo installs it
    cert, key = chain()
    cfg = ferrule.ServerConfig(certfile=cert, keyfile=key)
    run = H.ShimRun(["-export-keying-material", "32", "-export-label", "EXPERIMENTAL-bogo",
                     "-export-context", "ctx", "-use-export-context"])
    try:
        conn = ferrule.Connection(cfg)
        peer = H.FerrulePeer(run.accept(), conn)
        peer.handshake()
        got = peer.read(32)
        assert got == conn.export_keying_material("EXPERIMENTAL-bogo", 32, b"ctx")
        peer.write(b"z")
        assert peer.read(1) == H.xor_ff(b"z")
        peer.close()
        assert run.wait()[0::2] == (0, "")
    finally:
        run.kill()
