"""KeyUpdate (RFC 8446 §4.6.3) against OpenSSL 3.0 and GnuTLS, both roles.

What the peers show (checked by hand while writing these tests):
- `openssl s_server -msg` / `s_client -msg` print one line per KeyUpdate:
  "<<< TLS 1.3, Handshake [length 0005], KeyUpdate" when received and
  ">>> ..." when sent.  A line "K" (update and request the peer's) or "k"
  (update only) on s_client's stdin triggers one; commands are off with
  -quiet, so these tests do not use it.
- `gnutls-cli -e` (--rehandshake) in TLS 1.3 sends KeyUpdate(update_requested)
  after the handshake; with -d 4 GnuTLS logs "sending key update (N)" and
  "received TLS 1.3 key update (N)", N being request_update.
"""
import re
import shutil

import pytest

from conftest import free_port

KU_IN = r"^<<< TLS 1\.3, Handshake \[length 0005\], KeyUpdate"
KU_OUT = r"^>>> TLS 1\.3, Handshake \[length 0005\], KeyUpdate"


def count(pattern, text):
    return len(re.findall(pattern, text, re.M))


# --------------------------------------------------------------------------
# OpenSSL
# --------------------------------------------------------------------------

def test_client_key_update_to_openssl(openssl_server, ferrule_client):
    # The client updates its keys and requests the server's before sending:
    # s_server receives one KeyUpdate, answers with exactly one, and still
    # reverses our line (data both ways under the new keys).
    srv, port = openssl_server("ecdsa-p256", "-rev", "-tls1_3", "-msg")
    r = ferrule_client(port, "--key-update", "--request", "hello update\\nCLOSE\\n", "--json")
    assert r.rc == 0, r.describe()
    assert r.json["key_updates"] == {"sent": 1, "received": 1}, r.describe()
    assert r.json["response_bytes"] >= len("etadpu olleh\n"), r.describe()
    srv.wait_for(KU_OUT)
    assert count(KU_IN, srv.stdout) == 1, srv.describe()
    assert count(KU_OUT, srv.stdout) == 1, srv.describe()
    # The same without --json: the reversed line arrives intact.
    r = ferrule_client(port, "--key-update", "--request", "hello update\\nCLOSE\\n")
    assert r.rc == 0, r.describe()
    assert "etadpu olleh" in r.stdout, r.describe()


def test_openssl_requests_key_update_from_server(ferrule_server, s_client):
    # s_client "K": update and request ours.  The ferrule server answers once
    # (before its next application data); "k" requests nothing and gets no
    # answer.  Data is echoed after each.
    srv, port = ferrule_server("ecdsa-p256", "--echo", "--max-conns", "1")
    c = s_client(port, "-msg", keep_stdin=True)
    c.write("hello one\n")
    c.wait_for(r"^hello one$")
    c.write("K\n")
    c.wait_for(r"^KEYUPDATE$", stream="stderr")
    c.write("hello two\n")
    c.wait_for(r"^hello two$")
    out = c.stdout
    assert count(KU_OUT, out) == 1 and count(KU_IN, out) == 1, c.describe()
    # The answer came before the echoed data.
    assert re.search(KU_IN + r".*?^hello two$", out, re.M | re.S), c.describe()
    c.write("k\n")
    c.wait_for(r"^KEYUPDATE\nKEYUPDATE$", stream="stderr")
    c.write("hello three\n")
    c.wait_for(r"^hello three$")
    out = c.stdout
    assert count(KU_OUT, out) == 2, c.describe()
    assert count(KU_IN, out) == 1, c.describe()  # update_not_requested: no answer
    c.close_stdin()
    assert c.wait() == 0, c.describe()
    assert srv.wait() == 0, srv.describe()
    assert "ferrule: error" not in srv.stderr, srv.describe()


def test_server_automatic_key_update_to_openssl(ferrule_server, s_client):
    # --key-update-every 3: the server retires its write key after three
    # records; eight echoed lines (one record each) need two updates, none
    # of which asks s_client to answer.
    srv, port = ferrule_server("ecdsa-p256", "--echo", "--max-conns", "1",
                               "--key-update-every", "3")
    c = s_client(port, "-msg", keep_stdin=True)
    for i in range(8):
        c.write(f"line {i}\n")
        c.wait_for(rf"^line {i}$")
    out = c.stdout
    assert count(KU_IN, out) >= 2, c.describe()
    assert count(KU_OUT, out) == 0, c.describe()
    c.close_stdin()
    assert c.wait() == 0, c.describe()
    assert srv.wait() == 0, srv.describe()


# --------------------------------------------------------------------------
# GnuTLS
# --------------------------------------------------------------------------

@pytest.fixture
def gnutls_bin():
    serv, cli = shutil.which("gnutls-serv"), shutil.which("gnutls-cli")
    assert serv and cli, "gnutls-bin is not installed (tools/deps.sh installs it)"
    return serv, cli


def test_client_key_update_to_gnutls_serv(procs, gnutls_bin, pki, ferrule_client):
    port = free_port()
    srv = procs.start([gnutls_bin[0], "--echo", "-p", str(port), "-d", "4",
                       "--x509certfile", pki / "ecdsa-p256.chain.pem",
                       "--x509keyfile", pki / "ecdsa-p256.key"])
    srv.wait_for(r"listening on IPv4", stream="stderr")
    r = ferrule_client(port, "--key-update", "--request", "hello gnutls\\n", "--half-close",
                       "--json")
    assert r.rc == 0, r.describe()
    assert r.json["key_updates"] == {"sent": 1, "received": 1}, r.describe()
    assert r.json["response_bytes"] == len("hello gnutls\n"), r.describe()
    srv.wait_for(r"sending key update \(0\)", stream="stderr")
    assert count(r"received TLS 1\.3 key update \(1\)", srv.stderr) == 1, srv.describe()
    assert count(r"sending key update", srv.stderr) == 1, srv.describe()


def test_gnutls_cli_requests_key_update_from_server(procs, gnutls_bin, pki, ferrule_server):
    srv, port = ferrule_server("ecdsa-p256", "--echo", "--max-conns", "1")
    c = procs.start([gnutls_bin[1], "-p", str(port), "--x509cafile", pki / "root.pem",
                     "-e", "-d", "4", "localhost"], keep_stdin=True)
    c.wait_for(r"ReHandshake was completed")
    c.write("hello after update\n")
    c.wait_for(r"^hello after update$")
    # stdout and stderr are drained by separate threads: under load the
    # debug line can trail the echoed data, so wait for it before counting.
    c.wait_for(r"received TLS 1\.3 key update \(0\)", stream="stderr")
    err = c.stderr
    assert count(r"sending key update \(1\)", err) == 1, c.describe()
    # Answered exactly once, with update_not_requested.
    assert count(r"received TLS 1\.3 key update \(0\)", err) == 1, c.describe()
    assert count(r"received TLS 1\.3 key update", err) == 1, c.describe()
    c.close_stdin()
    assert c.wait() == 0, c.describe()
    assert srv.wait() == 0, srv.describe()
