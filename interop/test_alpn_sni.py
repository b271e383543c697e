"""ALPN (RFC 7301) in both roles and certificate selection by SNI
(RFC 6066 §3) against openssl s_client/s_server and gnutls-cli/gnutls-serv,
over loopback.  See docs/server-callbacks.md."""
import re
import shutil

import pytest

from conftest import free_port, pki_pair

GNUTLS_PRIO = "NORMAL:-VERS-ALL:+VERS-TLS1.3"


@pytest.fixture
def gnutls_bin():
    serv, cli = shutil.which("gnutls-serv"), shutil.which("gnutls-cli")
    assert serv and cli, "gnutls-bin is not installed (tools/deps.sh installs it)"
    return serv, cli


def handshake_line(srv):
    """The server's 'handshake ok' log line (dict of its key=value fields)."""
    m = srv.wait_for(r"^ferrule server: handshake ok .*$", stream="stderr")
    return dict(kv.split("=", 1) for kv in m.group(0).split() if "=" in kv)


def two_chains(pki, *extra):
    """ferrule server arguments adding b.test's chain after a.test's."""
    chain, key = pki_pair(pki, "sni-b")
    return ("--cert", chain, "--key", key, *extra)


def s_client_named(procs, openssl_bin, pki, port, name, *extra, stdin_data=b""):
    return procs.start([openssl_bin, "s_client", "-connect", f"127.0.0.1:{port}",
                        "-servername", name, "-verify_hostname", name,
                        "-CAfile", pki / "root.pem", "-verify_return_error", "-tls1_3", *extra],
                       stdin_data=stdin_data)


def gnutls_cli_named(procs, gnutls_bin, pki, port, name, *extra, stdin_data=b""):
    return procs.start([gnutls_bin[1], "-p", str(port), "--x509cafile", pki / "root.pem",
                        "--sni-hostname", name, "--verify-hostname", name,
                        "--priority", GNUTLS_PRIO, *extra, "127.0.0.1"],
                       stdin_data=stdin_data)


# --------------------------------------------------------------------------
# ALPN: ferrule server
# --------------------------------------------------------------------------

def test_openssl_client_alpn(ferrule_server, s_client):
    # Server preference wins: the client lists http/1.1 first.
    srv, port = ferrule_server("ecdsa-p256", "--alpn", "h2,http/1.1", "--echo",
                               "--max-conns", "1")
    c = s_client(port, "-alpn", "http/1.1,h2", stdin_data=b"ping\n")
    assert c.wait() == 0, c.describe()
    assert "ALPN protocol: h2" in c.stdout, c.describe()
    assert handshake_line(srv)["alpn"] == "h2", srv.describe()
    assert srv.wait() == 0, srv.describe()


def test_openssl_client_alpn_no_overlap(ferrule_server, s_client):
    srv, port = ferrule_server("ecdsa-p256", "--alpn", "h2", "--echo", "--max-conns", "1")
    c = s_client(port, "-alpn", "spdy/3", stdin_data=b"ping\n")
    assert c.wait() != 0, c.describe()
    assert "alert number 120" in c.stderr, c.describe()
    srv.wait_for(r"no_application_protocol\(120\) sent", stream="stderr")


def test_gnutls_cli_alpn(ferrule_server, procs, gnutls_bin, pki):
    srv, port = ferrule_server("ecdsa-p256", "--alpn", "h2,http/1.1", "--echo",
                               "--max-conns", "1")
    c = gnutls_cli_named(procs, gnutls_bin, pki, port, "localhost", "--alpn", "http/1.1",
                         stdin_data=b"ping\n")
    assert c.wait() == 0, c.describe()
    assert "- Application protocol: http/1.1" in c.stdout, c.describe()
    assert handshake_line(srv)["alpn"] == "http/1.1", srv.describe()


def test_gnutls_cli_alpn_no_overlap(ferrule_server, procs, gnutls_bin, pki):
    srv, port = ferrule_server("ecdsa-p256", "--alpn", "h2", "--echo", "--max-conns", "1")
    c = gnutls_cli_named(procs, gnutls_bin, pki, port, "localhost", "--alpn", "spdy/3")
    assert c.wait() != 0, c.describe()
    assert "Received alert [120]" in c.stdout + c.stderr, c.describe()
    srv.wait_for(r"no_application_protocol\(120\) sent", stream="stderr")


# --------------------------------------------------------------------------
# ALPN: ferrule client
# --------------------------------------------------------------------------

def test_client_alpn_to_openssl_server(openssl_server, ferrule_client):
    srv, port = openssl_server("ecdsa-p256", "-alpn", "http/1.1,h2", "-www", "-naccept", "1")
    r = ferrule_client(port, "--alpn", "h2,http/1.1", "--http-get", "/", "--json")
    assert r.rc == 0, r.describe()
    assert r.json["alpn"] == "http/1.1", r.describe()
    srv.wait_for(r"ALPN protocols selected: http/1\.1")


def test_client_alpn_no_overlap_openssl_server(openssl_server, ferrule_client):
    srv, port = openssl_server("ecdsa-p256", "-alpn", "h2", "-www", "-naccept", "1")
    r = ferrule_client(port, "--alpn", "spdy/3", "--http-get", "/", "--json")
    assert r.rc != 0, r.describe()
    alert = r.json["error"]["alert"]
    assert alert["code"] == 120 and alert["direction"] == "received", r.describe()


def test_client_alpn_to_gnutls_serv(procs, gnutls_bin, pki, ferrule_client):
    port = free_port()
    procs.start([gnutls_bin[0], "--http", "-p", str(port), "--disable-client-cert",
                 "--x509certfile", pki / "ecdsa-p256.chain.pem",
                 "--x509keyfile", pki / "ecdsa-p256.key", "--priority", GNUTLS_PRIO,
                 "--alpn", "h2", "--alpn", "http/1.1"]).wait_for(r"listening on IPv4",
                                                                 stream="stderr")
    r = ferrule_client(port, "--alpn", "http/1.1", "--http-get", "/", "--json")
    assert r.rc == 0, r.describe()
    assert r.json["alpn"] == "http/1.1", r.describe()


def test_client_alpn_no_overlap_gnutls_serv(procs, gnutls_bin, pki, ferrule_client):
    port = free_port()
    procs.start([gnutls_bin[0], "--http", "-p", str(port), "--disable-client-cert",
                 "--x509certfile", pki / "ecdsa-p256.chain.pem",
                 "--x509keyfile", pki / "ecdsa-p256.key", "--priority", GNUTLS_PRIO,
                 "--alpn", "h2", "--alpn-fatal"]).wait_for(r"listening on IPv4",
                                                           stream="stderr")
    r = ferrule_client(port, "--alpn", "spdy/3", "--http-get", "/", "--json")
    assert r.rc != 0, r.describe()
    alert = r.json["error"]["alert"]
    assert alert["code"] == 120 and alert["direction"] == "received", r.describe()


# --------------------------------------------------------------------------
# SNI: ferrule server with two chains
# --------------------------------------------------------------------------

@pytest.mark.parametrize("name,index", [("a.test", "0"), ("b.test", "1")])
def test_openssl_sni_selects_chain(ferrule_server, procs, openssl_bin, pki, name, index):
    srv, port = ferrule_server("sni-a", *two_chains(pki, "--echo", "--max-conns", "1"))
    c = s_client_named(procs, openssl_bin, pki, port, name, stdin_data=b"ping\n")
    assert c.wait() == 0, c.describe()
    assert re.search(rf"^subject=O = ferrule test, CN = {re.escape(name)}$", c.stdout,
                     re.M), c.describe()
    line = handshake_line(srv)
    assert line["sni"] == name and line["cert"] == index, srv.describe()


@pytest.mark.parametrize("name,index", [("a.test", "0"), ("b.test", "1")])
def test_gnutls_sni_selects_chain(ferrule_server, procs, gnutls_bin, pki, name, index):
    srv, port = ferrule_server("sni-a", *two_chains(pki, "--echo", "--max-conns", "1"))
    c = gnutls_cli_named(procs, gnutls_bin, pki, port, name, stdin_data=b"ping\n")
    assert c.wait() == 0, c.describe()
    assert f"subject `CN={name},O=ferrule test'" in c.stdout, c.describe()
    assert handshake_line(srv)["cert"] == index, srv.describe()


def test_openssl_sni_unknown_name_falls_back(ferrule_server, procs, openssl_bin, pki):
    # Default policy: an unknown name gets the first chain (the client
    # decides whether it accepts it; here it checks no host name).
    srv, port = ferrule_server("sni-b", "--cert", pki / "sni-a.chain.pem", "--key",
                               pki / "sni-a.key", "--echo", "--max-conns", "1")
    c = procs.start([openssl_bin, "s_client", "-connect", f"127.0.0.1:{port}",
                     "-servername", "c.test", "-CAfile", pki / "root.pem",
                     "-verify_return_error", "-tls1_3"], stdin_data=b"ping\n")
    assert c.wait() == 0, c.describe()
    assert "subject=O = ferrule test, CN = b.test" in c.stdout, c.describe()
    line = handshake_line(srv)
    assert line["sni"] == "c.test" and line["cert"] == "0", srv.describe()


def test_sni_strict_unrecognized_name(ferrule_server, procs, openssl_bin, gnutls_bin, pki):
    srv, port = ferrule_server("sni-a", *two_chains(pki, "--sni-strict", "--echo",
                                                    "--max-conns", "2"))
    c = s_client_named(procs, openssl_bin, pki, port, "c.test", stdin_data=b"ping\n")
    assert c.wait() != 0, c.describe()
    assert "alert number 112" in c.stderr, c.describe()
    g = gnutls_cli_named(procs, gnutls_bin, pki, port, "c.test")
    assert g.wait() != 0, g.describe()
    assert "Received alert [112]" in g.stdout + g.stderr, g.describe()
    srv.wait_for(r"unrecognized_name\(112\) sent", stream="stderr")


def test_sni_with_key_types(ferrule_server, procs, openssl_bin, pki):
    # a.test as RSA (first) and ECDSA: an ECDSA-only client gets the ECDSA chain.
    chain, key = pki_pair(pki, "sni-a")
    srv, port = ferrule_server("sni-a-rsa", "--cert", chain, "--key", key, "--echo",
                               "--max-conns", "2")
    c = s_client_named(procs, openssl_bin, pki, port, "a.test", "-sigalgs",
                       "ecdsa_secp256r1_sha256", stdin_data=b"ping\n")
    assert c.wait() == 0, c.describe()
    assert re.search(r"Peer signature type: ECDSA", c.stdout), c.describe()
    c = s_client_named(procs, openssl_bin, pki, port, "a.test", "-sigalgs",
                       "rsa_pss_rsae_sha256", stdin_data=b"ping\n")
    assert c.wait() == 0, c.describe()
    assert re.search(r"Peer signature type: RSA-PSS", c.stdout), c.describe()
    lines = re.findall(r"handshake ok .* cert=(\d)", srv.stderr)
    assert lines == ["1", "0"], srv.describe()
