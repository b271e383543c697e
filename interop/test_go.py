"""Interop with Go's crypto/tls, through our peer program interop/peers/go
(ferrule-go-peer, built once per session by conftest.go_peer_bin).

Go's servers send a NewSessionTicket only to clients that advertised
psk_dhe_ke in psk_key_exchange_modes (RFC 8446 §4.2.9), which a fresh ferrule
ClientHello once lacked (issue 9, item 1): these tests resume in both
directions, also through a HelloRetryRequest, and with --early-data (Go never
allows 0-RTT in its tickets, so the data goes in 1-RTT, once).  Then the
basic matrix (cipher suites x groups, data both ways), ALPN and client
certificates.

Every resumption is asserted on both ends: ferrule's JSON `resumed` or its
server's `resumed=yes` log line, and the Go peer's `did_resume`.
"""
import re

import pytest

from conftest import TIMEOUT

SUITES = ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"]
GROUPS = ["x25519", "secp256r1", "secp384r1"]
EARLY = b"EARLY-DATA-FOR-GO\n"
SERVER_LOG = re.compile(r"^ferrule server: handshake ok .*$", re.M)


def server_log(srv):
    return SERVER_LOG.findall(srv.stderr)


def finished_reports(srv, n):
    """Wait for the Go server to exit after its --count n connections and
    return its n reports."""
    rc = srv.wait()
    reports = srv.reports()
    assert len(reports) == n, srv.describe()
    assert rc == 0, srv.describe()
    return reports


def full_then_resumed(ferrule_client, port, tmp_path, *extra):
    """ferrule client: a full handshake saving the Go server's ticket, then
    a second connection offering it.  Returns both JSON objects."""
    sess = tmp_path / "sess"
    r1 = ferrule_client(port, "--http-get", "/", "--json", "--sess-out", sess, *extra)
    assert r1.rc == 0, r1.describe()
    assert r1.json["resumed"] is False, r1.describe()
    # The Go server sent its ticket, which it does only to clients that
    # advertised psk_dhe_ke.
    assert r1.json["session_saved"] is True, r1.describe()
    assert "no session ticket received" not in r1.stderr, r1.describe()
    r2 = ferrule_client(port, "--http-get", "/", "--json", "--sess-in", sess, *extra)
    assert r2.rc == 0, r2.describe()
    assert r2.json["resumed"] is True, r2.describe()
    assert "session resumed" in r2.stderr, r2.describe()
    assert r2.json["signature_scheme"] is None, r2.describe()  # no CertificateVerify
    return r1.json, r2.json


# --------------------------------------------------------------------------
# Resumption: ferrule client -> Go server
# --------------------------------------------------------------------------

def test_ferrule_client_resumes_with_go_server(go_server, ferrule_client, tmp_path):
    srv, port = go_server("ecdsa-p256", "--count", "2")
    j1, j2 = full_then_resumed(ferrule_client, port, tmp_path)
    g1, g2 = finished_reports(srv, 2)
    assert g1["did_resume"] is False and g1["peer_certs"] == 0, g1
    assert g2["did_resume"] is True, g2
    for j, g in ((j1, g1), (j2, g2)):
        assert g["error"] is None and g["received"].startswith("GET / HTTP/1.0\r\n"), g
        assert (g["version"], g["cipher"], g["group"]) == (j["version"], j["cipher_suite"],
                                                            j["group"]), (g, j)
        assert j["hrr"] is False and g["hrr"] is False, (g, j)
        # The page the Go server answered with (its size: "resumed: yes"
        # and "resumed: no" differ by one byte).
        assert j["response_bytes"] > 0, j
    assert j2["response_bytes"] == j1["response_bytes"] + 1, (j1, j2)


def test_ferrule_client_resumes_with_go_server_through_hrr(go_server, ferrule_client, tmp_path):
    """The Go server accepts only P-384 and ferrule's first key share is
    x25519: both connections go through a HelloRetryRequest, and the second
    ClientHello still carries the modes and the PSK (RFC 8446 §4.1.2)."""
    srv, port = go_server("ecdsa-p256", "--count", "2", "--curves", "P-384")
    j1, j2 = full_then_resumed(ferrule_client, port, tmp_path)
    g1, g2 = finished_reports(srv, 2)
    for j, g in ((j1, g1), (j2, g2)):
        assert j["hrr"] is True and g["hrr"] is True, (g, j)
        assert j["group"] == "secp384r1" and g["group"] == "secp384r1", (g, j)
        assert g["error"] is None, g
    assert g1["did_resume"] is False and g2["did_resume"] is True, (g1, g2)


def test_ferrule_client_early_data_to_go_server_goes_in_1rtt(go_server, ferrule_client,
                                                             tmp_path):
    """Go's tickets never allow 0-RTT: with --early-data the session still
    resumes, nothing is sent early (not_offered), and the data reaches the
    Go server once, in 1-RTT, before the request."""
    srv, port = go_server("ecdsa-p256", "--count", "2")
    sess, early = tmp_path / "sess", tmp_path / "early"
    early.write_bytes(EARLY)
    r = ferrule_client(port, "--http-get", "/", "--json", "--sess-out", sess)
    assert r.rc == 0 and r.json["session_saved"] is True, r.describe()
    r = ferrule_client(port, "--http-get", "/", "--json", "--sess-in", sess, "--early-data", early)
    assert r.rc == 0, r.describe()
    assert r.json["resumed"] is True, r.describe()
    assert r.json["early_data"] == "not_offered", r.describe()
    assert r.json["early_data_bytes"] == 0, r.describe()
    assert "early data not sent (no_early_data)" in r.stderr, r.describe()
    _, g = finished_reports(srv, 2)
    assert g["did_resume"] is True and g["error"] is None, g
    assert g["received"] == EARLY.decode() + "GET / HTTP/1.0\r\nHost: localhost\r\n\r\n", g


def test_ferrule_client_gets_no_ticket_from_go_server_with_tickets_off(go_server, ferrule_client,
                                                                      tmp_path):
    """The control for the tests above: a Go server that sends no ticket
    gives ferrule nothing to save."""
    srv, port = go_server("ecdsa-p256", "--count", "1", "--tickets", "off")
    sess = tmp_path / "sess"
    r = ferrule_client(port, "--http-get", "/", "--json", "--sess-out", sess)
    assert r.rc == 0 and r.json["session_saved"] is False, r.describe()
    assert "no session ticket received" in r.stderr, r.describe()
    assert not sess.exists()
    finished_reports(srv, 1)


# --------------------------------------------------------------------------
# Resumption: Go client -> ferrule server
# --------------------------------------------------------------------------

def test_go_client_resumes_with_ferrule_server(ferrule_server, go_client):
    srv, port = ferrule_server("ecdsa-p256", "--www", "--max-conns", "3")
    c = go_client(port, count=3)
    assert c.rc == 0, c.describe()
    assert [g["did_resume"] for g in c.reports] == [False, True, True], c.describe()
    for g in c.reports:
        assert g["error"] is None and g["version"] == "TLSv1.3", c.describe()
        assert g["received"].startswith("HTTP/1.0 200 OK\r\n"), c.describe()
    assert "resumed: no" in c.reports[0]["received"], c.describe()
    assert "resumed: yes" in c.reports[1]["received"], c.describe()
    assert srv.wait() == 0, srv.describe()
    log = server_log(srv)
    assert len(log) == 3, srv.describe()
    assert ["resumed=yes" in l for l in log] == [False, True, True], srv.describe()


def test_go_client_does_not_resume_with_tickets_0(ferrule_server, go_client):
    srv, port = ferrule_server("ecdsa-p256", "--www", "--max-conns", "3", "--tickets", "0")
    c = go_client(port, count=3)
    assert c.rc == 0, c.describe()
    assert [g["did_resume"] for g in c.reports] == [False, False, False], c.describe()
    assert srv.wait() == 0, srv.describe()
    log = server_log(srv)
    assert len(log) == 3 and all("resumed=no" in l for l in log), srv.describe()


def go_release(report):
    """(major, minor) of the Go release that built the peer ("go1.26.8");
    a development build counts as the newest."""
    m = re.match(r"go(\d+)\.(\d+)", report["go"])
    return (int(m.group(1)), int(m.group(2))) if m else (99, 0)


def test_go_client_resumes_through_hrr(ferrule_server, go_client):
    """ferrule server accepts only secp384r1, Go's first key share is
    another group: HRR on both connections, and the second resumes."""
    srv, port = ferrule_server("ecdsa-p256", "--echo", "--max-conns", "2", "--groups", "secp384r1")
    c = go_client(port, "--request", r"ping\n", "--half-close", count=2)
    assert len(c.reports) == 2, c.describe()
    g1, g2 = c.reports
    assert g1["error"] is None and g1["did_resume"] is False, c.describe()
    assert srv.wait() == 0, srv.describe()
    log = server_log(srv)
    if go_release(g2) < (1, 21) and g2["error"] is not None:
        # Older Go clients (seen with Debian bookworm's 1.19.8, the
        # tools/deps.sh fallback; 1.26 is right) compute the second ClientHello's binder over
        # the wrong transcript (it appends the HRR to its running transcript
        # instead of the binder's; OpenSSL refuses it too, "binder does not
        # verify").  The server MUST then abort (RFC 8446 §4.2.11) with
        # decrypt_error, which is what ferrule does.
        assert "error decrypting message" in g2["error"], c.describe()
        assert "decrypt_error(51) sent" in srv.stderr, srv.describe()
        return
    assert c.rc == 0, c.describe()
    for g in c.reports:
        assert g["hrr"] is True and g["group"] == "secp384r1", c.describe()
        assert g["received"] == "ping\n", c.describe()
    assert g2["did_resume"] is True, c.describe()
    assert len(log) == 2 and "resumed=no" in log[0] and "resumed=yes" in log[1], srv.describe()


# --------------------------------------------------------------------------
# Basic interop: cipher suites x groups, data both ways
# --------------------------------------------------------------------------

@pytest.mark.parametrize("group", GROUPS)
@pytest.mark.parametrize("suite", SUITES)
def test_ferrule_client_to_go_server(go_server, ferrule_client, suite, group):
    srv, port = go_server("ecdsa-p256", "--count", "1", "--mode", "echo")
    msg = f"ferrule to Go, {suite} {group}\n"
    r = ferrule_client(port, "--ciphersuites", suite, "--groups", group,
                       "--request", msg.replace("\n", r"\n"), "--half-close")
    assert r.rc == 0, r.describe()
    assert r.stdout == msg, r.describe()  # echoed back by Go
    assert f"handshake ok {suite} {group} " in r.stderr, r.describe()
    (g,) = finished_reports(srv, 1)
    assert g["error"] is None and g["received"] == msg, g
    assert (g["version"], g["cipher"], g["group"], g["hrr"]) == ("TLSv1.3", suite, group, False), g
    assert g["server_name"] == "localhost" and g["did_resume"] is False, g


@pytest.mark.parametrize("group", GROUPS)
@pytest.mark.parametrize("suite", SUITES)
def test_go_client_to_ferrule_server(ferrule_server, go_client, suite, group):
    srv, port = ferrule_server("ecdsa-p256", "--echo", "--max-conns", "1",
                               "--ciphersuites", suite)
    msg = f"Go to ferrule, {suite} {group}\n"
    c = go_client(port, "--curves", group, "--request", msg.replace("\n", r"\n"), "--half-close")
    assert c.rc == 0, c.describe()
    (g,) = c.reports
    assert g["error"] is None and g["received"] == msg, c.describe()
    assert (g["version"], g["cipher"], g["group"], g["hrr"]) == ("TLSv1.3", suite, group, False), \
        c.describe()
    assert g["peer_certs"] == 2, c.describe()  # leaf + intermediate
    assert srv.wait() == 0, srv.describe()
    (log,) = server_log(srv)
    assert f"handshake ok {suite} {group} sni=localhost " in log, srv.describe()


# --------------------------------------------------------------------------
# ALPN and client certificates
# --------------------------------------------------------------------------

def test_alpn_ferrule_client_to_go_server(go_server, ferrule_client):
    # Go's server picks by its own preference order.
    srv, port = go_server("ecdsa-p256", "--count", "1", "--alpn", "http/1.1,h2")
    r = ferrule_client(port, "--http-get", "/", "--json", "--alpn", "h2,http/1.1")
    assert r.rc == 0 and r.json["alpn"] == "http/1.1", r.describe()
    (g,) = finished_reports(srv, 1)
    assert g["alpn"] == "http/1.1", g


def test_alpn_go_client_to_ferrule_server(ferrule_server, go_client):
    srv, port = ferrule_server("ecdsa-p256", "--www", "--max-conns", "1", "--alpn", "http/1.1,h2")
    c = go_client(port, "--alpn", "h2,http/1.1")
    assert c.rc == 0 and c.reports[0]["alpn"] == "http/1.1", c.describe()
    assert srv.wait() == 0, srv.describe()
    (log,) = server_log(srv)
    assert " alpn=http/1.1 " in log, srv.describe()


def test_alpn_no_overlap_both_ways(go_server, ferrule_server, ferrule_client, go_client):
    """RFC 7301 §3.2: no_application_protocol(120), whoever is the server."""
    srv, port = go_server("ecdsa-p256", "--count", "1", "--alpn", "x-go")
    r = ferrule_client(port, "--http-get", "/", "--alpn", "x-ferrule")
    assert r.rc == 1, r.describe()
    assert "no_application_protocol(120) received" in r.stderr, r.describe()
    assert srv.wait() == 1, srv.describe()  # its one connection failed
    (g,) = srv.reports()
    assert g["handshake"] is False and "unsupported application protocols" in g["error"], g

    fsrv, port = ferrule_server("ecdsa-p256", "--www", "--max-conns", "1", "--alpn", "x-ferrule")
    c = go_client(port, "--alpn", "x-go")
    assert c.rc == 1, c.describe()
    assert "no application protocol" in c.reports[0]["error"], c.describe()
    fsrv.wait()
    assert "no_application_protocol(120) sent" in fsrv.stderr, fsrv.describe()


def test_client_certificates_both_ways(go_server, ferrule_server, ferrule_client, go_client, pki):
    chain, key = pki / "ecdsa-p256.chain.pem", pki / "ecdsa-p256.key"
    srv, port = go_server("ecdsa-p256", "--count", "1", "--verify-client", "require",
                          "--ca", pki / "root.pem")
    r = ferrule_client(port, "--http-get", "/", "--json", "--cert", chain, "--key", key)
    assert r.rc == 0 and r.json["client_cert_sent"] is True, r.describe()
    (g,) = finished_reports(srv, 1)
    assert g["peer_certs"] == 2 and g["error"] is None, g  # leaf + intermediate

    fsrv, port = ferrule_server("ecdsa-p256", "--www", "--max-conns", "1",
                                "--verify-client", "require", "--cafile", pki / "root.pem")
    c = go_client(port, "--cert", chain, "--key", key)
    assert c.rc == 0 and c.reports[0]["error"] is None, c.describe()
    assert "client_certificate: localhost" in c.reports[0]["received"], c.describe()
    assert fsrv.wait(timeout=TIMEOUT) == 0, fsrv.describe()
    (log,) = server_log(fsrv)
    assert log.endswith(" client=localhost"), fsrv.describe()


def test_ferrule_client_resumes_client_authenticated_session_with_go_server(go_server,
                                                                           ferrule_client, pki,
                                                                           tmp_path):
    """Go's tickets carry the client's chain, so a server that requires a
    client certificate resumes: the resumed handshake has no
    CertificateRequest (client_cert_sent false) and Go still sees the
    chain (issue 9, item 14 from the client's side)."""
    chain, key = pki / "ecdsa-p256.chain.pem", pki / "ecdsa-p256.key"
    srv, port = go_server("ecdsa-p256", "--count", "2", "--verify-client", "require",
                          "--ca", pki / "root.pem")
    j1, j2 = full_then_resumed(ferrule_client, port, tmp_path, "--cert", chain, "--key", key)
    assert j1["client_cert_sent"] is True and j2["client_cert_sent"] is False, (j1, j2)
    g1, g2 = finished_reports(srv, 2)
    assert (g1["did_resume"], g2["did_resume"]) == (False, True), (g1, g2)
    assert g1["peer_certs"] == 2 and g2["peer_certs"] == 2, (g1, g2)
