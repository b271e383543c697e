"""Session resumption (RFC 8446 §2.2, §4.6.1) against real peers.

ferrule server issuing tickets:
  openssl s_client -sess_out / -sess_in, gnutls-cli --resume.
ferrule client (--sess-out / --sess-in) resuming with:
  openssl s_server, gnutls-serv, ferrule server (also --tickets 0, and a
  fleet sharing --ticket-key).
Issuing (--tickets, 0 issues none but still accepts) and accepting
(--refuse-tickets) separately.
Negative: unusable --sess-in files, bad --ticket-key files and --tickets
values.

Every resumption is checked on both sides: the client's JSON `resumed` and
the peer's own report (s_server's "Reused", gnutls-serv's "This is a resumed
session", ferrule server's "resumed=yes").
"""
import os
import shutil
import stat
import subprocess

import pytest

from conftest import TIMEOUT, free_port

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


def test_tickets_0_issues_none_but_accepts(ferrule_server, s_client, tmp_path):
    """--tickets 0 only stops issuing: a ticket from a server sharing the
    key still resumes there (and no new ticket comes back)."""
    k = key_file(tmp_path / "k", os.urandom(48))
    sess = tmp_path / "sess.pem"
    a, port = ferrule_server("ecdsa-p256", "--www", "--ticket-key", k, "--max-conns", "1")
    c = s_client(port, "-sess_out", str(sess), "-ign_eof", stdin_data=HTTP_GET)
    assert c.wait() == 0 and "New, TLSv1.3" in c.stdout, c.describe()
    assert a.wait() == 0, a.describe()
    b, port = ferrule_server("ecdsa-p256", "--www", "--ticket-key", k, "--tickets", "0",
                             "--max-conns", "1")
    c = s_client(port, "-sess_in", str(sess), "-ign_eof", stdin_data=HTTP_GET)
    assert c.wait() == 0 and "Reused, TLSv1.3" in c.stdout, c.describe()
    assert "New Session Ticket arrived" not in c.stdout, c.describe()
    assert b.wait() == 0 and "resumed=yes" in b.stderr, b.describe()


def test_refuse_tickets_turns_resumption_off(ferrule_server, s_client, tmp_path):
    """--refuse-tickets: the same ticket gets a full handshake, and the
    server issues no ticket."""
    k = key_file(tmp_path / "k", os.urandom(48))
    sess = tmp_path / "sess.pem"
    a, port = ferrule_server("ecdsa-p256", "--www", "--ticket-key", k, "--max-conns", "1")
    c = s_client(port, "-sess_out", str(sess), "-ign_eof", stdin_data=HTTP_GET)
    assert c.wait() == 0 and "New, TLSv1.3" in c.stdout, c.describe()
    assert a.wait() == 0, a.describe()
    b, port = ferrule_server("ecdsa-p256", "--www", "--ticket-key", k, "--refuse-tickets",
                             "--max-conns", "1")
    c = s_client(port, "-sess_in", str(sess), "-ign_eof", stdin_data=HTTP_GET)
    assert c.wait() == 0 and "New, TLSv1.3" in c.stdout, c.describe()
    assert "resumed: no" in c.stdout, c.describe()
    assert "New Session Ticket arrived" not in c.stdout, c.describe()
    assert b.wait() == 0 and "resumed=no" in b.stderr, b.describe()


# --------------------------------------------------------------------------
# ferrule client --sess-out / --sess-in
# --------------------------------------------------------------------------

def assert_private(path):
    mode = stat.S_IMODE(path.stat().st_mode)
    assert mode == 0o600, f"{path} has mode {mode:04o}, want 0600"


def first_then_resume(ferrule_client, port, tmp_path):
    """Full handshake saving a session, then a resumption with it.  Returns
    the second run (its own --sess-out is tmp_path/s2)."""
    s1, s2 = tmp_path / "s1", tmp_path / "s2"
    r1 = ferrule_client(port, "--http-get", "/", "--json", "--sess-out", s1)
    assert r1.rc == 0, r1.describe()
    assert r1.json["resumed"] is False and r1.json["session_saved"] is True, r1.describe()
    assert s1.is_file() and s1.stat().st_size > 0, r1.describe()
    assert_private(s1)
    r2 = ferrule_client(port, "--http-get", "/", "--json", "--sess-in", s1, "--sess-out", s2)
    assert r2.rc == 0, r2.describe()
    assert r2.json["resumed"] is True, r2.describe()
    assert "session resumed" in r2.stderr, r2.describe()
    # A resumed handshake has no CertificateVerify; the certificate shown is
    # the leaf stored in the session (a session keeps the leaf only).
    assert r2.json["signature_scheme"] is None, r2.describe()
    assert len(r1.json["peer_chain"]) == 2, r1.describe()
    assert r2.json["peer_chain"] == r1.json["peer_chain"][:1], r2.describe()
    return r2


def test_client_resumes_with_openssl_server(openssl_server, ferrule_client, tmp_path):
    _, port = openssl_server("ecdsa-p256", "-www", "-tls1_3")
    r2 = first_then_resume(ferrule_client, port, tmp_path)
    # The resumed connection got a new ticket; resume once more, without
    # --json, and let s_server's page say what it negotiated.
    assert r2.json["session_saved"] is True, r2.describe()
    r3 = ferrule_client(port, "--http-get", "/", "--sess-in", tmp_path / "s2")
    assert r3.rc == 0, r3.describe()
    assert "Reused, TLSv1.3" in r3.stdout, r3.describe()


def test_client_resumes_with_gnutls_serv(procs, pki, ferrule_client, tmp_path):
    serv = shutil.which("gnutls-serv")
    assert serv, "gnutls-bin is not installed (tools/deps.sh installs it)"
    # Session tickets are on by default in gnutls-serv (--noticket turns
    # them off).
    port = free_port()
    gs = procs.start([serv, "--http", "-p", str(port),
                      "--x509certfile", pki / "ecdsa-p256.chain.pem",
                      "--x509keyfile", pki / "ecdsa-p256.key"])
    gs.wait_for(r"listening on IPv4", stream="stderr")
    first_then_resume(ferrule_client, port, tmp_path)
    gs.wait_for(r"^\*\*\* This is a resumed session")


def test_client_resumes_with_ferrule_server(ferrule_server, ferrule_client, tmp_path):
    srv, port = ferrule_server("ecdsa-p256", "--www", "--max-conns", "2")
    first_then_resume(ferrule_client, port, tmp_path)
    assert srv.wait() == 0, srv.describe()
    logs = [l for l in srv.stderr.splitlines() if l.startswith(SERVER_LOG)]
    assert len(logs) == 2, srv.describe()
    assert "resumed=no" in logs[0] and "resumed=yes" in logs[1], srv.describe()


def test_sess_out_replaces_file_atomically_and_privately(ferrule_server, ferrule_client,
                                                         tmp_path):
    _, port = ferrule_server("ecdsa-p256", "--www", "--max-conns", "1")
    sess = tmp_path / "sess"
    sess.write_bytes(b"old contents")
    os.chmod(sess, 0o644)
    r = ferrule_client(port, "--http-get", "/", "--json", "--sess-out", sess)
    assert r.rc == 0 and r.json["session_saved"] is True, r.describe()
    # A new file (temp + rename), not the old one rewritten: mode 0600.
    assert sess.read_bytes() != b"old contents"
    assert_private(sess)
    assert [p.name for p in tmp_path.iterdir()] == ["sess"], "temporary file left behind"


def test_no_ticket_writes_no_file(ferrule_server, ferrule_client, tmp_path):
    srv, port = ferrule_server("ecdsa-p256", "--www", "--tickets", "0", "--max-conns", "2")
    sess = tmp_path / "sess"
    r = ferrule_client(port, "--http-get", "/", "--json", "--sess-out", sess)
    assert r.rc == 0, r.describe()
    assert r.json["handshake_ok"] is True and r.json["session_saved"] is False, r.describe()
    assert "no session ticket received" in r.stderr, r.describe()
    assert not sess.exists()
    # An existing file is left alone, not truncated or replaced.
    sess.write_bytes(b"keep me")
    r = ferrule_client(port, "--http-get", "/", "--json", "--sess-out", sess, "--quiet")
    assert r.rc == 0 and r.json["session_saved"] is False, r.describe()
    assert "no session ticket received" in r.stderr, r.describe()
    assert sess.read_bytes() == b"keep me"
    assert srv.wait() == 0, srv.describe()


# --------------------------------------------------------------------------
# Fleets: --ticket-key
# --------------------------------------------------------------------------

def server_log(srv):
    return [l for l in srv.stderr.splitlines() if l.startswith(SERVER_LOG)]


def test_fleet_shares_ticket_key(ferrule_server, ferrule_client, tmp_path):
    key = os.urandom(48)
    k_raw = key_file(tmp_path / "k.raw", key)
    k_hex = key_file(tmp_path / "k.hex", key, hex_form=True)  # same key, hex form
    k_other = key_file(tmp_path / "k.other", os.urandom(48))
    sess = tmp_path / "sess"

    a, port_a = ferrule_server("ecdsa-p256", "--www", "--ticket-key", k_raw, "--max-conns", "1")
    r = ferrule_client(port_a, "--http-get", "/", "--json", "--sess-out", sess)
    assert r.rc == 0 and r.json["session_saved"] is True, r.describe()
    assert a.wait() == 0, a.describe()

    # Server B: another process, the same key -> resumes A's ticket.
    b, port_b = ferrule_server("ecdsa-p256", "--www", "--ticket-key", k_hex, "--max-conns", "1")
    r = ferrule_client(port_b, "--http-get", "/", "--json", "--sess-in", sess)
    assert r.rc == 0 and r.json["resumed"] is True, r.describe()
    assert b.wait() == 0, b.describe()
    assert "resumed=yes" in server_log(b)[0], b.describe()

    # Server C: a different key -> the ticket is not usable; full handshake.
    c, port_c = ferrule_server("ecdsa-p256", "--www", "--ticket-key", k_other,
                               "--max-conns", "1")
    r = ferrule_client(port_c, "--http-get", "/", "--json", "--sess-in", sess)
    assert r.rc == 0, r.describe()
    assert r.json["resumed"] is False and r.json["handshake_ok"] is True, r.describe()
    assert r.json["signature_scheme"] is not None, r.describe()
    assert "session not resumed" in r.stderr, r.describe()
    assert c.wait() == 0, c.describe()
    assert "resumed=no" in server_log(c)[0], c.describe()


def test_ticket_key_rotation(ferrule_server, ferrule_client, tmp_path):
    """--ticket-key OLD --ticket-key NEW: NEW encrypts, both decrypt."""
    k_old = key_file(tmp_path / "old", os.urandom(48))
    k_new = key_file(tmp_path / "new", os.urandom(48))
    s_old, s_new = tmp_path / "s.old", tmp_path / "s.new"

    a, port = ferrule_server("ecdsa-p256", "--www", "--ticket-key", k_old, "--max-conns", "1")
    r = ferrule_client(port, "--http-get", "/", "--json", "--sess-out", s_old)
    assert r.rc == 0 and r.json["session_saved"] is True, r.describe()
    assert a.wait() == 0, a.describe()

    b, port = ferrule_server("ecdsa-p256", "--www", "--ticket-key", k_old, "--ticket-key",
                             k_new, "--max-conns", "1")
    r = ferrule_client(port, "--http-get", "/", "--json", "--sess-in", s_old,
                       "--sess-out", s_new)
    assert r.rc == 0 and r.json["resumed"] is True, r.describe()
    assert r.json["session_saved"] is True, r.describe()
    assert b.wait() == 0, b.describe()

    # The new ticket was sealed with NEW: a server holding only NEW takes it.
    c, port = ferrule_server("ecdsa-p256", "--www", "--ticket-key", k_new, "--max-conns", "1")
    r = ferrule_client(port, "--http-get", "/", "--json", "--sess-in", s_new)
    assert r.rc == 0 and r.json["resumed"] is True, r.describe()
    assert c.wait() == 0, c.describe()


# --------------------------------------------------------------------------
# Negative
# --------------------------------------------------------------------------

@pytest.mark.parametrize("content,why", [
    (None, "No such file or directory"),
    (b"", "empty file"),
    (os.urandom(300), "not a valid ferrule session file (decode_error)"),
    (b"-----BEGIN SSL SESSION PARAMETERS-----\nMIIB\n-----END SSL SESSION PARAMETERS-----\n",
     "not a valid ferrule session file (decode_error)"),
], ids=["missing", "empty", "garbage", "openssl-pem"])
def test_bad_sess_in_is_usage_error(ferrule_client, tmp_path, content, why):
    sess = tmp_path / "sess"
    if content is not None:
        sess.write_bytes(content)
    # Nothing listens on this port: a client that connected would fail with
    # exit 1 ("connection refused"); the file is rejected before that.
    r = ferrule_client(free_port(), "--http-get", "/", "--json", "--sess-in", sess)
    assert r.rc == 2, r.describe()
    assert f"--sess-in {sess}: {why}" in r.stderr, r.describe()
    assert r.json["handshake_ok"] is False and r.json["error"]["status"] == "usage", r.describe()
    assert "refused" not in r.stderr, r.describe()


def test_truncated_session_file_is_usage_error(ferrule_server, ferrule_client, tmp_path):
    _, port = ferrule_server("ecdsa-p256", "--www", "--max-conns", "1")
    sess = tmp_path / "sess"
    r = ferrule_client(port, "--http-get", "/", "--json", "--sess-out", sess)
    assert r.rc == 0 and r.json["session_saved"] is True, r.describe()
    blob = sess.read_bytes()
    for cut in (1, len(blob) // 2, len(blob) - 1):
        sess.write_bytes(blob[:cut])
        r = ferrule_client(free_port(), "--json", "--sess-in", sess)
        assert r.rc == 2, r.describe()
        assert "not a valid ferrule session file" in r.stderr, r.describe()
    sess.write_bytes(blob + b"\0")
    r = ferrule_client(free_port(), "--json", "--sess-in", sess)
    assert r.rc == 2 and "not a valid ferrule session file" in r.stderr, r.describe()


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
    (["--refuse-tickets", "--tickets", "2"], "--refuse-tickets issues no ticket"),
], ids=["tickets-17", "tickets-negative", "key-missing", "refuse-and-issue"])
def test_bad_ticket_options_are_usage_errors(ferrule_bin, pki, args, why):
    r = run_server(ferrule_bin, pki, *args)
    assert r.returncode == 2 and why in r.stderr, r.stderr


def test_help_lists_session_flags(ferrule_bin):
    out = subprocess.run([ferrule_bin, "help", "client"], capture_output=True, text=True,
                         timeout=TIMEOUT).stdout
    assert "--sess-out FILE" in out and "--sess-in FILE" in out, out
    out = subprocess.run([ferrule_bin, "help", "server"], capture_output=True, text=True,
                         timeout=TIMEOUT).stdout
    assert "--tickets N" in out and "--ticket-key FILE" in out, out
    assert "--refuse-tickets" in out and "--resume-client-identity MODE" in out, out


# --------------------------------------------------------------------------
# Resumption through a HelloRetryRequest (RFC 8446 §4.1.2, §4.2.11.2): the
# second ClientHello offers the PSK again with a binder over
# message_hash(CH1) || HRR || CH2.
# --------------------------------------------------------------------------

def test_client_resumes_through_hrr_with_openssl_server(openssl_server, ferrule_client, tmp_path):
    # Our first share is x25519; a P-384-only s_server asks for P-384.
    _, port = openssl_server("ecdsa-p256", "-www", "-tls1_3", "-groups", "P-384")
    r2 = first_then_resume(ferrule_client, port, tmp_path)
    assert r2.json["hrr"] is True and r2.json["group"] == "secp384r1", r2.describe()


def test_openssl_resumes_through_hrr_with_ferrule_server(ferrule_server, s_client, tmp_path):
    srv, port = ferrule_server("ecdsa-p256", "--www", "--groups", "secp384r1",
                               "--max-conns", "2")
    sess = tmp_path / "sess.pem"
    # s_client's first share is x25519: both connections go through a HRR.
    c = s_client(port, "-sess_out", str(sess), "-ign_eof", stdin_data=HTTP_GET)
    assert c.wait() == 0 and "New, TLSv1.3" in c.stdout, c.describe()
    c2 = s_client(port, "-sess_in", str(sess), "-ign_eof", stdin_data=HTTP_GET)
    assert c2.wait() == 0, c2.describe()
    assert "Reused, TLSv1.3" in c2.stdout and "resumed: yes" in c2.stdout, c2.describe()
    assert srv.wait() == 0, srv.describe()
    logs = [l for l in srv.stderr.splitlines() if SERVER_LOG in l]
    assert len(logs) == 2 and "resumed=yes" in logs[1], srv.describe()
