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
