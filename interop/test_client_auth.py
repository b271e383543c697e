"""Interop: client authentication (RFC 8446 §4.3.2, §4.4.2, §4.4.3) against
OpenSSL 3.0 and GnuTLS, both roles.

(a) ferrule client --cert/--key -> openssl s_server -Verify / -verify
(b) openssl s_client -cert/-key -> ferrule server --verify-client
(c) the same two directions with gnutls-serv / gnutls-cli
"""
import re
import shutil

import pytest

from conftest import free_port, split_chain

KINDS = ["ecdsa-p256", "ecdsa-p384", "rsa", "rsa-pss", "ed25519"]
HTTP_GET = b"GET / HTTP/1.0\r\n\r\n"
HANDSHAKE_LINE = re.compile(r"^ferrule server: handshake ok .* client=(\S+)$", re.M)


def server_client_names(stderr):
    """The client= field of every handshake line of `ferrule server`."""
    return HANDSHAKE_LINE.findall(stderr)


# --------------------------------------------------------------------------
# (a) ferrule client -> openssl s_server
# --------------------------------------------------------------------------

@pytest.mark.parametrize("kind", KINDS)
def test_client_cert_to_openssl_required(openssl_server, ferrule_client, pki, kind):
    srv, port = openssl_server("ecdsa-p256", "-www", "-tls1_3", "-Verify", "1",
                               "-CAfile", pki / "root.pem")
    r = ferrule_client(port, "--http-get", "/", "--cert", pki / f"{kind}.chain.pem",
                       "--key", pki / f"{kind}.key")
    assert r.rc == 0, r.describe()
    # s_server's -www page shows the certificate the client sent, and its
    # verify callback walked the chain up to the root.
    assert "Client certificate" in r.stdout, r.describe()
    assert "Subject: O=ferrule test, CN=localhost" in r.stdout, r.describe()
    assert "depth=2 O = ferrule test, CN = ferrule test root" in srv.stderr + srv.stdout, \
        srv.describe()


def test_client_cert_to_openssl_json(openssl_server, ferrule_client, pki):
    _, port = openssl_server("ecdsa-p256", "-www", "-tls1_3", "-Verify", "1",
                             "-CAfile", pki / "root.pem")
    r = ferrule_client(port, "--http-get", "/", "--json", "--cert", pki / "rsa.chain.pem",
                       "--key", pki / "rsa.key")
    assert r.rc == 0, r.describe()
    assert r.json["handshake_ok"] is True and r.json["client_cert_sent"] is True, r.describe()
    assert "error" not in r.json, r.describe()


def test_client_without_cert_to_openssl_required(openssl_server, ferrule_client, pki):
    _, port = openssl_server("ecdsa-p256", "-www", "-tls1_3", "-Verify", "1",
                             "-CAfile", pki / "root.pem")
    r = ferrule_client(port, "--http-get", "/", "--json")
    assert r.rc == 1, r.describe()
    assert "certificate_required(116) received" in r.stderr, r.describe()
    assert r.json["client_cert_sent"] is False, r.describe()
    assert r.json["error"]["alert"]["code"] == 116, r.describe()


def test_client_cert_to_openssl_optional(openssl_server, ferrule_client, pki):
    _, port = openssl_server("ecdsa-p256", "-www", "-tls1_3", "-verify", "1",
                             "-CAfile", pki / "root.pem")
    r = ferrule_client(port, "--http-get", "/", "--cert", pki / "ed25519.chain.pem",
                       "--key", pki / "ed25519.key")
    assert r.rc == 0, r.describe()
    assert "Client certificate" in r.stdout, r.describe()


def test_client_picks_chain_by_certificate_authorities(openssl_server, ferrule_client, pki):
    # s_server -Verify sends certificate_authorities from -CAfile (OpenSSL
    # 3.0 does for TLS 1.3): with other-root.pem trusted, the client must
    # pick its second chain (the one under other-root).
    _, port = openssl_server("ecdsa-p256", "-www", "-tls1_3", "-Verify", "1",
                             "-CAfile", pki / "other-root.pem")
    r = ferrule_client(port, "--http-get", "/", "--json",
                       "--cert", pki / "ecdsa-p256.chain.pem", "--key", pki / "ecdsa-p256.key",
                       "--cert", pki / "untrusted.chain.pem", "--key", pki / "untrusted.key")
    assert r.rc == 0, r.describe()
    assert r.json["client_cert_sent"] is True, r.describe()


def test_client_cert_key_must_pair(ferrule_client, pki):
    r = ferrule_client(1, "--cert", pki / "rsa.chain.pem")
    assert r.rc == 2, r.describe()
    assert "--cert and --key go in pairs" in r.stderr, r.describe()


# --------------------------------------------------------------------------
# (b) openssl s_client -> ferrule server
# --------------------------------------------------------------------------

@pytest.mark.parametrize("kind", KINDS)
def test_openssl_cert_to_server_required(ferrule_server, s_client, pki, tmp_path, kind):
    srv, port = ferrule_server("ecdsa-p256", "--www", "--max-conns", "1",
                               "--verify-client", "require", "--cafile", pki / "root.pem")
    leaf, rest = split_chain(pki / f"{kind}.chain.pem", tmp_path)
    c = s_client(port, "-cert", leaf, "-cert_chain", rest, "-key", pki / f"{kind}.key",
                 "-ign_eof", stdin_data=HTTP_GET)
    assert c.wait() == 0, c.describe()
    assert "client_certificate: localhost" in c.stdout, c.describe()
    assert re.search(r"client_signature_scheme: (ecdsa|rsa_pss|ed25519)", c.stdout), \
        c.describe()
    assert srv.wait() == 0, srv.describe()
    assert server_client_names(srv.stderr) == ["localhost"], srv.describe()


def test_openssl_without_cert_to_server_required(ferrule_server, s_client, pki):
    srv, port = ferrule_server("ecdsa-p256", "--www", "--max-conns", "1",
                               "--verify-client", "require", "--cafile", pki / "root.pem")
    c = s_client(port, "-ign_eof", stdin_data=HTTP_GET)
    c.wait()
    assert "alert certificate required" in c.stderr, c.describe()
    assert srv.wait() == 0, srv.describe()
    assert "cert_required" in srv.stderr and "certificate_required(116) sent" in srv.stderr, \
        srv.describe()
    assert server_client_names(srv.stderr) == [], srv.describe()


def test_openssl_without_cert_to_server_request(ferrule_server, s_client, pki):
    srv, port = ferrule_server("ecdsa-p256", "--www", "--max-conns", "1",
                               "--verify-client", "request", "--cafile", pki / "root.pem")
    c = s_client(port, "-ign_eof", stdin_data=HTTP_GET)
    assert c.wait() == 0, c.describe()
    assert "client_certificate: (none)" in c.stdout, c.describe()
    assert srv.wait() == 0, srv.describe()
    assert server_client_names(srv.stderr) == ["-"], srv.describe()


def test_openssl_untrusted_cert_to_server(ferrule_server, s_client, pki, tmp_path):
    srv, port = ferrule_server("ecdsa-p256", "--www", "--max-conns", "1",
                               "--verify-client", "request", "--cafile", pki / "root.pem")
    leaf, rest = split_chain(pki / "untrusted.chain.pem", tmp_path)
    c = s_client(port, "-cert", leaf, "-cert_chain", rest, "-key", pki / "untrusted.key",
                 "-ign_eof", stdin_data=HTTP_GET)
    c.wait()
    assert "alert unknown ca" in c.stderr, c.describe()
    assert srv.wait() == 0, srv.describe()
    assert "unknown_ca(48) sent" in srv.stderr, srv.describe()


def test_server_certificate_request_lists_authorities(ferrule_server, s_client, pki):
    # s_client prints the CA names of the CertificateRequest.
    srv, port = ferrule_server("ecdsa-p256", "--www", "--max-conns", "1",
                               "--verify-client", "request", "--cafile", pki / "root.pem")
    c = s_client(port, "-ign_eof", stdin_data=HTTP_GET)
    assert c.wait() == 0, c.describe()
    assert "Acceptable client certificate CA names" in c.stdout, c.describe()
    assert "CN = ferrule test root" in c.stdout, c.describe()
    assert srv.wait() == 0, srv.describe()


def test_server_verify_client_needs_cafile(ferrule_bin, pki, procs):
    p = procs.start([ferrule_bin, "server", "--accept", "127.0.0.1:0",
                     "--cert", pki / "rsa.chain.pem", "--key", pki / "rsa.key",
                     "--verify-client", "require"])
    assert p.wait() == 2, p.describe()
    assert "needs --cafile" in p.stderr, p.describe()
    p = procs.start([ferrule_bin, "server", "--accept", "127.0.0.1:0",
                     "--cert", pki / "rsa.chain.pem", "--key", pki / "rsa.key",
                     "--verify-client", "sometimes"])
    assert p.wait() == 2, p.describe()


# --------------------------------------------------------------------------
# (c) GnuTLS
# --------------------------------------------------------------------------

@pytest.fixture
def gnutls_bin():
    serv, cli = shutil.which("gnutls-serv"), shutil.which("gnutls-cli")
    assert serv and cli, "gnutls-bin is not installed (tools/deps.sh installs it)"
    return serv, cli


def start_gnutls_serv(procs, gnutls_bin, pki):
    port = free_port()
    procs.start([gnutls_bin[0], "--http", "-p", str(port),
                 "--x509certfile", pki / "ecdsa-p256.chain.pem",
                 "--x509keyfile", pki / "ecdsa-p256.key",
                 "--require-client-cert", "--x509cafile", pki / "root.pem"]
                ).wait_for(r"listening on IPv4", stream="stderr")
    return port


@pytest.mark.parametrize("kind", ["ecdsa-p384", "rsa", "ed25519"])
def test_client_cert_to_gnutls_serv(procs, gnutls_bin, pki, ferrule_client, kind):
    port = start_gnutls_serv(procs, gnutls_bin, pki)
    r = ferrule_client(port, "--http-get", "/", "--json", "--cert", pki / f"{kind}.chain.pem",
                       "--key", pki / f"{kind}.key")
    assert r.rc == 0, r.describe()
    assert r.json["client_cert_sent"] is True and "error" not in r.json, r.describe()


def test_client_without_cert_to_gnutls_serv(procs, gnutls_bin, pki, ferrule_client):
    port = start_gnutls_serv(procs, gnutls_bin, pki)
    r = ferrule_client(port, "--http-get", "/", "--json")
    # gnutls-serv refuses; it may close before our request is written, so
    # the failure is the alert or the broken connection.
    assert r.rc == 1, r.describe()
    assert r.json["client_cert_sent"] is False and "error" in r.json, r.describe()


@pytest.mark.parametrize("kind", ["ecdsa-p256", "rsa-pss"])
def test_gnutls_cli_cert_to_server(procs, gnutls_bin, pki, ferrule_server, kind):
    srv, port = ferrule_server("rsa", "--echo", "--max-conns", "1",
                               "--verify-client", "require", "--cafile", pki / "root.pem")
    c = procs.start([gnutls_bin[1], "-p", str(port), "--x509cafile", pki / "root.pem",
                     "--x509certfile", pki / f"{kind}.chain.pem",
                     "--x509keyfile", pki / f"{kind}.key", "localhost"],
                    stdin_data=b"hello with a client certificate\n")
    assert c.wait() == 0, c.describe()
    assert "hello with a client certificate" in c.stdout, c.describe()
    assert srv.wait() == 0, srv.describe()
    assert server_client_names(srv.stderr) == ["localhost"], srv.describe()


def test_gnutls_cli_without_cert_to_server(procs, gnutls_bin, pki, ferrule_server):
    srv, port = ferrule_server("rsa", "--echo", "--max-conns", "1",
                               "--verify-client", "require", "--cafile", pki / "root.pem")
    c = procs.start([gnutls_bin[1], "-p", str(port), "--x509cafile", pki / "root.pem",
                     "localhost"], stdin_data=b"hello\n")
    assert c.wait() != 0, c.describe()
    assert "Certificate is required" in c.stderr + c.stdout, c.describe()
    assert srv.wait() == 0, srv.describe()
    assert "certificate_required(116) sent" in srv.stderr, srv.describe()


# --------------------------------------------------------------------------
# (d) resumption with client certificates: openssl s_client -cert ...
# -sess_out / -sess_in against ferrule server --verify-client.  Tickets
# carry the client's chain; a resumed connection is authenticated by it
# (docs/resumption.md).
# --------------------------------------------------------------------------

RESUMED_LINE = re.compile(r"^ferrule server: handshake ok .* resumed=(yes|no) .* client=(\S+)$",
                          re.M)


def resumed_and_clients(stderr):
    """(resumed, client) of every handshake line of `ferrule server`."""
    return RESUMED_LINE.findall(stderr)


def cert_args(pki, tmp_path, kind="ecdsa-p256"):
    leaf, rest = split_chain(pki / f"{kind}.chain.pem", tmp_path)
    return ["-cert", leaf, "-cert_chain", rest, "-key", pki / f"{kind}.key"]


@pytest.mark.parametrize("policy", [[], ["--resume-client-identity", "recheck"],
                                    ["--resume-client-identity", "keep"]],
                         ids=["default", "recheck", "keep"])
def test_openssl_resumes_with_client_cert(ferrule_server, s_client, pki, tmp_path, policy):
    srv, port = ferrule_server("ecdsa-p256", "--www", "--max-conns", "2",
                               "--verify-client", "require", "--cafile", pki / "root.pem",
                               *policy)
    sess = tmp_path / "sess.pem"
    c = s_client(port, *cert_args(pki, tmp_path), "-sess_out", str(sess), "-ign_eof",
                 stdin_data=HTTP_GET)
    assert c.wait() == 0 and "New, TLSv1.3" in c.stdout, c.describe()
    assert "client_certificate: localhost" in c.stdout, c.describe()
    # The resumed handshake has no CertificateRequest: the client sends no
    # certificate, the server knows it from the ticket.
    c2 = s_client(port, *cert_args(pki, tmp_path), "-sess_in", str(sess), "-ign_eof",
                  stdin_data=HTTP_GET)
    assert c2.wait() == 0, c2.describe()
    assert "Reused, TLSv1.3" in c2.stdout and "resumed: yes" in c2.stdout, c2.describe()
    assert "client_certificate: localhost" in c2.stdout, c2.describe()
    assert "client_signature_scheme: (none)" in c2.stdout, c2.describe()
    assert srv.wait() == 0, srv.describe()
    assert resumed_and_clients(srv.stderr) == [("no", "localhost"), ("yes", "localhost")], \
        srv.describe()


def test_openssl_resumes_unauthenticated_under_request(ferrule_server, s_client, pki, tmp_path):
    srv, port = ferrule_server("ecdsa-p256", "--www", "--max-conns", "2",
                               "--verify-client", "request", "--cafile", pki / "root.pem")
    sess = tmp_path / "sess.pem"
    c = s_client(port, "-sess_out", str(sess), "-ign_eof", stdin_data=HTTP_GET)
    assert c.wait() == 0 and "client_certificate: (none)" in c.stdout, c.describe()
    c2 = s_client(port, "-sess_in", str(sess), "-ign_eof", stdin_data=HTTP_GET)
    assert c2.wait() == 0 and "Reused, TLSv1.3" in c2.stdout, c2.describe()
    assert "client_certificate: (none)" in c2.stdout, c2.describe()
    assert srv.wait() == 0, srv.describe()
    assert resumed_and_clients(srv.stderr) == [("no", "-"), ("yes", "-")], srv.describe()


def test_anonymous_ticket_does_not_resume_under_require(ferrule_server, s_client, pki, tmp_path):
    """A ticket from a connection without a client certificate (an optional
    server) offered to a server of the same fleet that requires one: a full
    handshake, which asks for the certificate."""
    key = tmp_path / "ticket.key"
    key.write_bytes(bytes(range(48)))
    key.chmod(0o600)
    a, port = ferrule_server("ecdsa-p256", "--www", "--max-conns", "1", "--ticket-key", key,
                             "--verify-client", "request", "--cafile", pki / "root.pem")
    sess = tmp_path / "sess.pem"
    c = s_client(port, "-sess_out", str(sess), "-ign_eof", stdin_data=HTTP_GET)
    assert c.wait() == 0 and "New, TLSv1.3" in c.stdout, c.describe()
    assert a.wait() == 0, a.describe()
    b, port = ferrule_server("ecdsa-p256", "--www", "--max-conns", "2", "--ticket-key", key,
                             "--verify-client", "require", "--cafile", pki / "root.pem")
    # With a certificate at hand: a full handshake that authenticates it.
    c = s_client(port, *cert_args(pki, tmp_path), "-sess_in", str(sess), "-ign_eof",
                 stdin_data=HTTP_GET)
    assert c.wait() == 0 and "New, TLSv1.3" in c.stdout, c.describe()
    assert "client_certificate: localhost" in c.stdout and "resumed: no" in c.stdout, \
        c.describe()
    # Without one: certificate_required, as for any full handshake.
    c = s_client(port, "-sess_in", str(sess), "-ign_eof", stdin_data=HTTP_GET)
    c.wait()
    assert "alert certificate required" in c.stderr, c.describe()
    assert b.wait() == 0, b.describe()
    assert resumed_and_clients(b.stderr) == [("no", "localhost")], b.describe()


def test_authenticated_ticket_resumes_across_fleet(ferrule_server, s_client, pki, tmp_path):
    """A ticket carrying the client's chain resumes, authenticated, on
    another server sharing the key -- which validates the chain again
    against its own anchors: one without the client's root does not
    resume it (and refuses the certificate in the full handshake)."""
    key = tmp_path / "ticket.key"
    key.write_bytes(bytes(range(48)))
    key.chmod(0o600)
    a, port = ferrule_server("ecdsa-p256", "--www", "--max-conns", "1", "--ticket-key", key,
                             "--verify-client", "require", "--cafile", pki / "root.pem")
    sess = tmp_path / "sess.pem"
    c = s_client(port, *cert_args(pki, tmp_path), "-sess_out", str(sess), "-ign_eof",
                 stdin_data=HTTP_GET)
    assert c.wait() == 0 and "New, TLSv1.3" in c.stdout, c.describe()
    assert a.wait() == 0, a.describe()
    b, port = ferrule_server("ecdsa-p256", "--www", "--max-conns", "1", "--ticket-key", key,
                             "--verify-client", "require", "--cafile", pki / "root.pem")
    c = s_client(port, "-sess_in", str(sess), "-ign_eof", stdin_data=HTTP_GET)
    assert c.wait() == 0 and "Reused, TLSv1.3" in c.stdout, c.describe()
    assert "client_certificate: localhost" in c.stdout, c.describe()
    assert b.wait() == 0 and resumed_and_clients(b.stderr) == [("yes", "localhost")], \
        b.describe()
    o, port = ferrule_server("ecdsa-p256", "--www", "--max-conns", "1", "--ticket-key", key,
                             "--verify-client", "require", "--cafile", pki / "other-root.pem")
    c = s_client(port, *cert_args(pki, tmp_path), "-sess_in", str(sess), "-ign_eof",
                 stdin_data=HTTP_GET)
    c.wait()
    assert "Reused" not in c.stdout and "alert unknown ca" in c.stderr, c.describe()
    assert o.wait() == 0 and "unknown_ca(48) sent" in o.stderr, o.describe()


@pytest.mark.parametrize("args,why", [
    (["--resume-client-identity", "keep"], "--resume-client-identity needs --verify-client"),
    (["--verify-client", "require", "--resume-client-identity", "later"],
     "--resume-client-identity: expected recheck or keep"),
], ids=["without-verify-client", "bad-value"])
def test_resume_client_identity_usage(ferrule_bin, pki, procs, args, why):
    p = procs.start([ferrule_bin, "server", "--accept", "127.0.0.1:0",
                     "--cert", pki / "rsa.chain.pem", "--key", pki / "rsa.key",
                     "--cafile", pki / "root.pem", *args])
    assert p.wait() == 2 and why in p.stderr, p.describe()
