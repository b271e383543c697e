"""Interop with GnuTLS (Debian's gnutls-bin): ferrule client against
gnutls-serv, and gnutls-cli against ferrule server, over loopback."""
import shutil

import pytest

from conftest import free_port

# (IANA suite, IANA group, GnuTLS cipher, GnuTLS group)
CELLS = [
    ("TLS_AES_128_GCM_SHA256", "x25519", "AES-128-GCM", "GROUP-X25519"),
    ("TLS_AES_256_GCM_SHA384", "secp384r1", "AES-256-GCM", "GROUP-SECP384R1"),
    ("TLS_CHACHA20_POLY1305_SHA256", "secp256r1", "CHACHA20-POLY1305", "GROUP-SECP256R1"),
]


def priority(cipher, group):
    return f"NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+{cipher}:-GROUP-ALL:+{group}"


@pytest.fixture
def gnutls_bin():
    serv, cli = shutil.which("gnutls-serv"), shutil.which("gnutls-cli")
    assert serv and cli, "gnutls-bin is not installed (tools/deps.sh installs it)"
    return serv, cli


@pytest.mark.parametrize("suite,group,cipher,ggroup", CELLS, ids=[c[0] for c in CELLS])
def test_client_to_gnutls_serv(procs, gnutls_bin, pki, ferrule_client, suite, group, cipher,
                               ggroup):
    # gnutls-serv also sends a CertificateRequest by default: the client must
    # answer it with an empty Certificate.
    port = free_port()
    procs.start([gnutls_bin[0], "--http", "-p", str(port),
                 "--x509certfile", pki / "ecdsa-p256.chain.pem",
                 "--x509keyfile", pki / "ecdsa-p256.key",
                 "--priority", priority(cipher, ggroup)]).wait_for(r"listening on IPv4", stream="stderr")
    r = ferrule_client(port, "--http-get", "/", "--json")
    assert r.rc == 0, r.describe()
    assert r.json["cipher_suite"] == suite and r.json["group"] == group, r.describe()


@pytest.mark.parametrize("suite,group,cipher,ggroup", CELLS, ids=[c[0] for c in CELLS])
def test_gnutls_cli_to_server(procs, gnutls_bin, pki, ferrule_server, suite, group, cipher,
                              ggroup):
    srv, port = ferrule_server("ecdsa-p256", "--echo", "--max-conns", "1")
    c = procs.start([gnutls_bin[1], "-p", str(port), "--x509cafile", pki / "root.pem",
                     "--priority", priority(cipher, ggroup), "localhost"],
                    stdin_data=b"hello over gnutls\n")
    assert c.wait() == 0, c.describe()
    assert f"({cipher})" in c.stdout, c.describe()
    assert "hello over gnutls" in c.stdout, c.describe()
    assert srv.wait() == 0, srv.describe()
