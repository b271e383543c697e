"""Session resumption (RFC 8446 §2.2, §4.6.1) against real peers.

ferrule server issuing tickets:
  openssl s_client -sess_out / -sess_in, gnutls-cli --resume.
Negative: bad --ticket-key files and --tickets values.
"""
import os
import shutil
import subprocess

import pytest

from conftest import TIMEOUT

HTTP_GET = b"GET / HTTP/1.0\r\n\r\n"
SERVER_LOG = "ferrule server: handshake ok"


def test_openssl_resumes_with_ferrule_server(ferrule_server, s_client, tmp_path):
    srv, port = ferrule_server("ecdsa-p256", "--www", "--max-conns", "2")
    sess = tmp_path / "sess.pem"
    c = s_client(port, "-sess_out", str(sess), "-ign_eof", stdin_data=HTTP_GET)
    assert c.wait() == 0, c.describe()
    assert "New, TLSv1.3" in c.stdout, c.describe()
    assert sess.exists() and sess.stat().st_size > 0, c.describe()
    c2 = s_client(port, "-sess_in", str(sess), "-ign_eof", stdin_data=HTTP_GET)
    assert c2.wait() == 0, c2.describe()
    assert "Reused, TLSv1.3" in c2.stdout, c2.describe()
    # The --www page says so too.
    assert "resumed: yes" in c2.stdout, c2.describe()
    srv.wait()


def test_gnutls_cli_resumes_with_ferrule_server(procs, pki, ferrule_server):
    cli = shutil.which("gnutls-cli")
    assert cli, "gnutls-bin is not installed (tools/deps.sh installs it)"
    srv, port = ferrule_server("ecdsa-p256", "--www", "--max-conns", "2")
    c = procs.start([cli, "-p", str(port), "--x509cafile", pki / "root.pem", "--resume",
                     "localhost"], stdin_data=b"")
    c.wait()
    assert "This is a resumed session" in c.stdout, c.describe()


def key_file(path, data, hex_form=False):
    path.write_bytes(data.hex().encode() + b"\n" if hex_form else data)
    os.chmod(path, 0o600)
    return path


def test_openssl_resumes_across_servers_sharing_ticket_key(ferrule_server, s_client, tmp_path):
    """A fleet: a ticket from server A (--ticket-key K) resumes on server B
    (another process, the same K in hex form), not on server C (another
    key), where s_client gets a full handshake."""
    key = os.urandom(48)
    k_raw = key_file(tmp_path / "k.raw", key)
    k_hex = key_file(tmp_path / "k.hex", key, hex_form=True)
    k_other = key_file(tmp_path / "k.other", os.urandom(48))
    sess = tmp_path / "sess.pem"
    a, port = ferrule_server("ecdsa-p256", "--www", "--ticket-key", k_raw, "--max-conns", "1")
    c = s_client(port, "-sess_out", str(sess), "-ign_eof", stdin_data=HTTP_GET)
    assert c.wait() == 0 and "New, TLSv1.3" in c.stdout, c.describe()
    assert a.wait() == 0, a.describe()
    b, port = ferrule_server("ecdsa-p256", "--www", "--ticket-key", k_hex, "--max-conns", "1")
    c = s_client(port, "-sess_in", str(sess), "-ign_eof", stdin_data=HTTP_GET)
    assert c.wait() == 0 and "Reused, TLSv1.3" in c.stdout, c.describe()
    assert b.wait() == 0 and "resumed=yes" in b.stderr, b.describe()
    o, port = ferrule_server("ecdsa-p256", "--www", "--ticket-key", k_other, "--max-conns", "1")
    c = s_client(port, "-sess_in", str(sess), "-ign_eof", stdin_data=HTTP_GET)
    assert c.wait() == 0 and "New, TLSv1.3" in c.stdout, c.describe()
    assert "resumed: no" in c.stdout, c.describe()
    assert o.wait() == 0 and "resumed=no" in o.stderr, o.describe()


def test_openssl_gets_no_ticket_with_tickets_0(ferrule_server, s_client, tmp_path):
    srv, port = ferrule_server("ecdsa-p256", "--www", "--tickets", "0", "--max-conns", "1")
    c = s_client(port, "-ign_eof", stdin_data=HTTP_GET)
    assert c.wait() == 0 and "New, TLSv1.3" in c.stdout, c.describe()
    # s_client prints each ticket it receives as a "Post-Handshake New
    # Session Ticket arrived" block.
    assert "New Session Ticket arrived" not in c.stdout, c.describe()
    assert srv.wait() == 0, srv.describe()


# --------------------------------------------------------------------------
# Negative
# --------------------------------------------------------------------------

def run_server(ferrule_bin, pki, *extra):
    argv = [ferrule_bin, "server", "--accept", "127.0.0.1:0",
            "--cert", str(pki / "ecdsa-p256.chain.pem"), "--key", str(pki / "ecdsa-p256.key"),
            *[str(a) for a in extra]]
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT,
                           stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"ferrule server did not refuse its arguments: {argv}\n{e.stderr!r}")
    return r


@pytest.mark.parametrize("content,mode,why", [
    (os.urandom(47), 0o600, "expected 48 raw bytes or 96 hex digits"),
    (os.urandom(49), 0o600, "expected 48 raw bytes or 96 hex digits"),
    (b"", 0o600, "expected 48 raw bytes or 96 hex digits"),
    (os.urandom(24).hex().encode() + b"\n", 0o600, "got 48 hex digits"),
    (os.urandom(47).hex().encode() + b"\n", 0o600, "got 94 hex digits"),
    (b"g" * 96, 0o600, "expected 48 raw bytes or 96 hex digits"),
    (os.urandom(48), 0o640, "accessible by group or others"),
    (os.urandom(48), 0o604, "accessible by group or others"),
], ids=["47-bytes", "49-bytes", "empty", "hex-24", "hex-47", "not-hex", "group-readable",
        "world-readable"])
def test_bad_ticket_key_is_usage_error(ferrule_bin, pki, tmp_path, content, mode, why):
    k = tmp_path / "key"
    k.write_bytes(content)
    os.chmod(k, mode)
    r = run_server(ferrule_bin, pki, "--ticket-key", k)
    assert r.returncode == 2, r.stderr
    assert f"--ticket-key {k}: " in r.stderr and why in r.stderr, r.stderr
    assert "ACCEPT" not in r.stdout, r.stdout


@pytest.mark.parametrize("args,why", [
    (["--tickets", "17"], "--tickets: expected a number from 0 to 16"),
    (["--tickets", "-1"], "--tickets: expected a number from 0 to 16"),
    (["--ticket-key", "/nonexistent/key"], "No such file or directory"),
], ids=["tickets-17", "tickets-negative", "key-missing"])
def test_bad_ticket_options_are_usage_errors(ferrule_bin, pki, args, why):
    r = run_server(ferrule_bin, pki, *args)
    assert r.returncode == 2 and why in r.stderr, r.stderr


def test_help_lists_ticket_flags(ferrule_bin):
    out = subprocess.run([ferrule_bin, "help", "server"], capture_output=True, text=True,
                         timeout=TIMEOUT).stdout
    assert "--tickets N" in out and "--ticket-key FILE" in out, out
