"""HelloRetryRequest interop (RFC 8446 §4.1.4) over loopback, both roles:
the ferrule client offers a share for its first group only (x25519), so a
peer that accepts only P-384 must ask for it with a HelloRetryRequest; and
peers offering only an X25519 share meet a ferrule server that accepts only
secp384r1 (GnuTLS: P-256 and P-384, it shares only the first)."""
import shutil

import pytest

from conftest import free_port

HTTP_GET = b"GET / HTTP/1.0\r\n\r\n"
# (IANA suite, GnuTLS cipher): SHA-256 and SHA-384 transcripts.
SUITES = [("TLS_AES_128_GCM_SHA256", "AES-128-GCM"),
          ("TLS_AES_256_GCM_SHA384", "AES-256-GCM")]
IDS = [s[0] for s in SUITES]


def gnutls_priority(cipher, groups):
    return ("NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+" + cipher + ":-GROUP-ALL:" +
            ":".join("+" + g for g in groups))


@pytest.fixture
def gnutls_bin():
    serv, cli = shutil.which("gnutls-serv"), shutil.which("gnutls-cli")
    assert serv and cli, "gnutls-bin is not installed (tools/deps.sh installs it)"
    return serv, cli


def assert_hrr_json(r, suite, group="secp384r1"):
    assert r.rc == 0, r.describe()
    j = r.json
    assert j is not None and j["handshake_ok"], r.describe()
    assert j["hrr"] is True, r.describe()
    assert j["group"] == group and j["cipher_suite"] == suite, r.describe()


@pytest.mark.parametrize("suite,cipher", SUITES, ids=IDS)
def test_client_hrr_to_openssl(openssl_server, ferrule_client, suite, cipher):
    _, port = openssl_server("ecdsa-p256", "-www", "-tls1_3", "-ciphersuites", suite,
                             "-groups", "P-384")
    args = ("--http-get", "/", "--ciphersuites", suite, "--groups", "x25519,secp384r1")
    assert_hrr_json(ferrule_client(port, *args, "--json"), suite)
    # The page s_server -www returns proves application data flows after
    # the retry.
    r = ferrule_client(port, *args)
    assert r.rc == 0 and "TLSv1.3" in r.stdout, r.describe()


def test_client_no_hrr_when_share_accepted(openssl_server, ferrule_client):
    _, port = openssl_server("ecdsa-p256", "-www", "-tls1_3", "-groups", "X25519:P-384")
    r = ferrule_client(port, "--http-get", "/", "--groups", "x25519,secp384r1", "--json")
    assert r.rc == 0 and r.json["hrr"] is False and r.json["group"] == "x25519", r.describe()


def test_client_hrr_group_not_offered_fails(openssl_server, ferrule_client):
    # The client lists only x25519: no retry can help; OpenSSL refuses.
    _, port = openssl_server("ecdsa-p256", "-www", "-tls1_3", "-groups", "P-384")
    r = ferrule_client(port, "--http-get", "/", "--groups", "x25519", "--json")
    assert r.rc != 0, r.describe()


@pytest.mark.parametrize("suite,cipher", SUITES, ids=IDS)
def test_openssl_hrr_to_server(ferrule_server, s_client, suite, cipher):
    srv, port = ferrule_server("ecdsa-p256", "--www", "--max-conns", "1",
                               "--groups", "secp384r1")
    # s_client sends a share for its first group (X25519) only.
    c = s_client(port, "-ciphersuites", suite, "-groups", "X25519:P-384", "-ign_eof",
                 "-msg", stdin_data=HTTP_GET)
    rc = c.wait()
    out = c.stdout
    assert rc == 0, c.describe()
    assert f"New, TLSv1.3, Cipher is {suite}" in out, c.describe()
    assert "Server Temp Key: ECDH, secp384r1, 384 bits" in out, c.describe()
    # -msg traces both hellos twice: the first "ServerHello" is the
    # HelloRetryRequest, answered by a second ClientHello.
    assert out.count("], ClientHello") == 2, c.describe()
    assert out.count("], ServerHello") == 2, c.describe()
    # The --www page of the ferrule server reports the group it used.
    assert "group: secp384r1" in out, c.describe()
    srv.wait()
    assert "truncated" not in srv.stderr, srv.describe()


@pytest.mark.parametrize("suite,cipher", SUITES, ids=IDS)
def test_client_hrr_to_gnutls_serv(procs, gnutls_bin, pki, ferrule_client, suite, cipher):
    port = free_port()
    procs.start([gnutls_bin[0], "--http", "-p", str(port),
                 "--x509certfile", pki / "ecdsa-p256.chain.pem",
                 "--x509keyfile", pki / "ecdsa-p256.key",
                 "--priority", gnutls_priority(cipher, ["GROUP-SECP384R1"])]
                ).wait_for(r"listening on IPv4", stream="stderr")
    r = ferrule_client(port, "--http-get", "/", "--groups", "x25519,secp384r1", "--json")
    assert_hrr_json(r, suite)


@pytest.mark.parametrize("suite,cipher", SUITES, ids=IDS)
def test_gnutls_cli_hrr_to_server(procs, gnutls_bin, pki, ferrule_server, suite, cipher):
    srv, port = ferrule_server("ecdsa-p256", "--echo", "--max-conns", "1",
                               "--groups", "secp384r1")
    # GnuTLS sends one share per group family: with two ECDH curves, only
    # for the first (P-256), which the server does not accept.
    c = procs.start([gnutls_bin[1], "-p", str(port), "--x509cafile", pki / "root.pem",
                     "--priority",
                     gnutls_priority(cipher, ["GROUP-SECP256R1", "GROUP-SECP384R1"]),
                     "-d", "4", "localhost"],
                    stdin_data=b"hello after a retry\n")
    assert c.wait() == 0, c.describe()
    log = c.stdout + c.stderr
    assert "HELLO RETRY REQUEST" in log and "HRR key share with SECP384R1" in log, c.describe()
    assert f"({cipher})" in c.stdout and "(ECDHE-SECP384R1)" in c.stdout, c.describe()
    assert "hello after a retry" in c.stdout, c.describe()
    assert srv.wait() == 0, srv.describe()
    assert "secp384r1" in srv.stderr + srv.stdout, srv.describe()
