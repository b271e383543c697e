"""0-RTT early data (RFC 8446 §2.3, §4.2.10, §8) against real peers.

ferrule client --sess-in S --early-data F:
  openssl s_server -early_data (accepted; a reused ticket is rejected by
  OpenSSL's anti-replay and the data is resent after the handshake),
  gnutls-serv --earlydata (accepted), ferrule server --early-data.
ferrule server --early-data:
  openssl s_client -sess_in -early_data is accepted once; the replay of the
  same recorded ClientHello (and its early data) is rejected and the early
  data is not delivered twice; a second use of the ticket is rejected;
  gnutls-cli --resume --earlydata is accepted.
Every case asserts both sides' view (the client's JSON / s_client's "Early
data was accepted", the server's log line or page).
"""
import select
import shutil
import socket
import threading

from conftest import TIMEOUT, free_port

HTTP_GET = b"GET / HTTP/1.0\r\n\r\n"
EARLY = b"EARLY-DATA-0RTT\n"


def early_file(tmp_path, data=EARLY, name="early.txt"):
    p = tmp_path / name
    p.write_bytes(data)
    return p


def session_from(ferrule_client, port, path, *extra):
    r = ferrule_client(port, "--json", "--sess-out", path, *extra)
    assert r.rc == 0 and r.json["session_saved"] is True, r.describe()
    return r


# --------------------------------------------------------------------------
# ferrule client
# --------------------------------------------------------------------------

def test_ferrule_client_early_data_accepted_by_openssl(openssl_server, ferrule_client, tmp_path):
    srv, port = openssl_server("ecdsa-p256", "-tls1_3", "-early_data", keep_stdin=True)
    sess = tmp_path / "s1"
    session_from(ferrule_client, port, sess)
    r = ferrule_client(port, "--json", "--sess-in", sess, "--early-data", early_file(tmp_path))
    assert r.rc == 0, r.describe()
    assert r.json["resumed"] is True, r.describe()
    assert r.json["early_data"] == "accepted", r.describe()
    assert r.json["early_data_bytes"] == len(EARLY), r.describe()
    srv.wait_for("Early data received", timeout=TIMEOUT)
    srv.wait_for(EARLY.decode().strip(), timeout=TIMEOUT)


def test_ferrule_client_early_data_rejected_by_openssl_anti_replay(openssl_server, ferrule_client,
                                                                  tmp_path):
    """OpenSSL's s_server keeps single-use tickets (with -early_data it
    removes a session from its cache when it is used): the second attempt
    with the same ticket does not even resume, so its 0-RTT is rejected;
    ferrule reports it and resends the data in 1-RTT, so the server still
    receives it (once per connection)."""
    srv, port = openssl_server("ecdsa-p256", "-tls1_3", "-early_data", keep_stdin=True)
    sess = tmp_path / "s1"
    session_from(ferrule_client, port, sess)
    ef = early_file(tmp_path)
    r = ferrule_client(port, "--json", "--sess-in", sess, "--early-data", ef)
    assert r.rc == 0 and r.json["early_data"] == "accepted", r.describe()
    r = ferrule_client(port, "--json", "--sess-in", sess, "--early-data", ef)
    assert r.rc == 0, r.describe()
    assert r.json["early_data"] == "rejected", r.describe()
    assert "sending it again after the handshake" in r.stderr, r.describe()
    # Delivered in 0-RTT once, then in 1-RTT once.
    srv.wait_for("(?s)" + "EARLY-DATA-0RTT.*" * 2, timeout=TIMEOUT)


def test_ferrule_client_early_data_accepted_by_gnutls(procs, pki, ferrule_client, tmp_path):
    serv = shutil.which("gnutls-serv")
    assert serv, "gnutls-bin is not installed (tools/deps.sh installs it)"
    port = free_port()
    srv = procs.start([serv, "-p", str(port), "--x509certfile", pki / "ecdsa-p256.chain.pem",
                       "--x509keyfile", pki / "ecdsa-p256.key", "--earlydata", "--http"])
    srv.wait_for(r"listening on IPv4", stream="stderr")
    sess = tmp_path / "s1"
    session_from(ferrule_client, port, sess, "--http-get", "/")
    r = ferrule_client(port, "--json", "--sess-in", sess, "--early-data",
                       early_file(tmp_path, HTTP_GET))
    assert r.rc == 0, r.describe()
    assert r.json["resumed"] is True and r.json["early_data"] == "accepted", r.describe()
    srv.wait_for("This is a resumed session", timeout=TIMEOUT)


def test_ferrule_to_ferrule_early_data(ferrule_server, ferrule_client, tmp_path):
    srv, port = ferrule_server("ecdsa-p256", "--early-data", "--www")
    sess = tmp_path / "s1"
    session_from(ferrule_client, port, sess, "--http-get", "/")
    r = ferrule_client(port, "--sess-in", sess, "--early-data", early_file(tmp_path, HTTP_GET))
    assert r.rc == 0, r.describe()
    # The page was written from the early request, before the handshake
    # completed (0.5-RTT), and says so.
    assert "early_data: accepted" in r.stdout and "resumed: yes" in r.stdout, r.describe()
    srv.wait_for(r"early=accepted:%d" % len(HTTP_GET), stream="stderr")


def test_ferrule_client_without_0rtt_ticket_sends_after_handshake(ferrule_server, ferrule_client,
                                                                   tmp_path):
    """A server without --early-data issues tickets that do not allow 0-RTT:
    the client says so and sends the data after the handshake."""
    srv, port = ferrule_server("ecdsa-p256", "--www")
    sess = tmp_path / "s1"
    session_from(ferrule_client, port, sess, "--http-get", "/")
    r = ferrule_client(port, "--json", "--sess-in", sess, "--early-data",
                       early_file(tmp_path, HTTP_GET))
    assert r.rc == 0, r.describe()
    assert r.json["early_data"] == "not_offered" and r.json["resumed"] is True, r.describe()
    assert "early data not sent (no_early_data)" in r.stderr, r.describe()
    assert r.json["response_bytes"] > 0, r.describe()


def test_refused_early_data_goes_before_the_request(openssl_server, ferrule_client, tmp_path):
    """docs/cli.md: early data the server did not take is sent first after
    the handshake, then --request (it was sent after it, found against Go's
    crypto/tls, which never takes 0-RTT).  s_server without -early_data
    refuses the 0-RTT and prints what arrives in 1-RTT, in order."""
    srv, port = openssl_server("ecdsa-p256", "-tls1_3", keep_stdin=True)
    sess = tmp_path / "s1"
    session_from(ferrule_client, port, sess)
    r = ferrule_client(port, "--json", "--sess-in", sess, "--early-data", early_file(tmp_path),
                       "--request", "REQUEST-AFTER\\n", "--half-close")
    assert r.rc == 0, r.describe()
    assert r.json["early_data"] in ("rejected", "not_offered"), r.describe()
    srv.wait_for("(?s)EARLY-DATA-0RTT.*REQUEST-AFTER", timeout=TIMEOUT)


def test_early_data_needs_sess_in(ferrule_client, tmp_path):
    r = ferrule_client(1, "--early-data", early_file(tmp_path))
    assert r.rc == 2 and "--early-data needs --sess-in" in r.stderr, r.describe()


# --------------------------------------------------------------------------
# ferrule server
# --------------------------------------------------------------------------

class RecordingProxy:
    """Forwards one TCP connection to 127.0.0.1:target and records what the
    client sent, so the test can replay it byte for byte."""

    def __init__(self, target):
        self.target = target
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.port = self.sock.getsockname()[1]
        self.from_client = bytearray()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        self.sock.settimeout(TIMEOUT)
        try:
            a, _ = self.sock.accept()
        except OSError:
            return
        b = socket.create_connection(("127.0.0.1", self.target))
        peers = {a: b, b: a}
        open_ = {a, b}
        while open_:
            r, _, _ = select.select(list(open_), [], [], TIMEOUT)
            if not r:
                break
            for s in r:
                data = s.recv(65536)
                if not data:
                    open_.discard(s)
                    try:
                        peers[s].shutdown(socket.SHUT_WR)
                    except OSError:
                        pass
                    continue
                if s is a:
                    self.from_client += data
                peers[s].sendall(data)
        a.close()
        b.close()

    def join(self):
        self.thread.join(TIMEOUT)
        self.sock.close()


def test_ferrule_server_accepts_openssl_early_data_once_and_refuses_replay(
        ferrule_server, s_client, tmp_path):
    srv, port = ferrule_server("ecdsa-p256", "--early-data", "--www")
    sess = tmp_path / "sess.pem"
    c = s_client(port, "-sess_out", str(sess), "-ign_eof", stdin_data=HTTP_GET)
    assert c.wait() == 0, c.describe()
    ef = early_file(tmp_path, HTTP_GET)

    # 1. 0-RTT through a recording proxy: accepted.
    proxy = RecordingProxy(port)
    c = s_client(proxy.port, "-sess_in", str(sess), "-early_data", str(ef), "-ign_eof",
                 stdin_data=HTTP_GET)
    assert c.wait() == 0, c.describe()
    proxy.join()
    assert "Early data was accepted" in c.stdout, c.describe()
    assert "early_data: accepted" in c.stdout, c.describe()
    srv.wait_for(r"early data accepted", stream="stderr")
    recorded = bytes(proxy.from_client)
    assert len(recorded) > 0

    # 2. An attacker replays the same ClientHello and early data: rejected.
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(recorded)
        s.shutdown(socket.SHUT_WR)
        s.settimeout(TIMEOUT)
        try:
            while s.recv(65536):
                pass
        except OSError:
            pass
    srv.wait_for(r"(?s)early data accepted.*early data rejected", stream="stderr")
    # The replayed request never produced a second page: one accepted early
    # request in the log, one handshake with early=accepted.
    assert srv.stderr.count("early data accepted") == 1, srv.describe()
    assert srv.stderr.count("early=accepted") == 1, srv.describe()

    # 3. The same ticket again from s_client: 0-RTT rejected (single use),
    # the connection still resumes and is answered.
    c = s_client(port, "-sess_in", str(sess), "-early_data", str(ef), "-ign_eof",
                 stdin_data=HTTP_GET)
    assert c.wait() == 0, c.describe()
    assert "Early data was rejected" in c.stdout, c.describe()
    assert "Reused, TLSv1.3" in c.stdout and "early_data: rejected" in c.stdout, c.describe()
    assert srv.stderr.count("early data accepted") == 1, srv.describe()


def test_gnutls_cli_early_data_accepted_by_ferrule_server(procs, pki, ferrule_server, tmp_path):
    cli = shutil.which("gnutls-cli")
    assert cli, "gnutls-bin is not installed (tools/deps.sh installs it)"
    srv, port = ferrule_server("ecdsa-p256", "--early-data", "--www", "--max-conns", "2")
    ef = early_file(tmp_path, HTTP_GET)
    c = procs.start([cli, "-p", str(port), "--x509cafile", pki / "root.pem", "--resume",
                     f"--earlydata={ef}", "localhost"], stdin_data=b"")
    c.wait()
    assert "This is a resumed session" in c.stdout, c.describe()
    assert "early_data: accepted" in c.stdout, c.describe()
    srv.wait_for(r"early=accepted:%d" % len(HTTP_GET), stream="stderr")
