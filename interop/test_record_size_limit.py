"""record_size_limit (RFC 8449) against real peers, over loopback.

GnuTLS implements RFC 8449: with `--recordsize N` it advertises N + 1 in
TLS 1.3 (the limit counts the inner content type byte).  Without it, it
still advertises 2^14 + 1.  A gnutls-serv ignores client limits below 512
by not answering the extension, which RFC 8449 allows.  OpenSSL 3.0 does
not implement RFC 8449: the extension is ignored and nothing is
negotiated.

Every connection goes through a relay that reads the TLS record headers in
both directions, so the tests assert the sizes of the protected records
really on the wire (inner plaintext = record body - 16-byte AEAD tag), not
only what either side reports.
"""
import shutil
import socket
import subprocess
import threading

import pytest

from conftest import TIMEOUT, free_port

TAG = 16
GNUTLS_PRIORITY = "NORMAL:-VERS-ALL:+VERS-TLS1.3"


class RecordRelay:
    """Accept one connection on a loopback port, connect to `upstream_port`
    and copy bytes both ways, parsing TLS records as they pass."""

    def __init__(self, upstream_port):
        self.upstream_port = upstream_port
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.sock.settimeout(TIMEOUT)
        self.port = self.sock.getsockname()[1]
        self.lock = threading.Lock()
        # Per direction ("c2s", "s2c"): inner lengths of protected records.
        self.inner = {"c2s": [], "s2c": []}
        self.error = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            down, _ = self.sock.accept()
            up = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=TIMEOUT)
        except OSError as e:
            self.error = e
            return
        down.settimeout(TIMEOUT)
        up.settimeout(TIMEOUT)
        t = [threading.Thread(target=self._pump, args=(down, up, "c2s"), daemon=True),
             threading.Thread(target=self._pump, args=(up, down, "s2c"), daemon=True)]
        for x in t:
            x.start()
        for x in t:
            x.join(TIMEOUT * 2)
        down.close()
        up.close()

    def _pump(self, src, dst, direction):
        pending = bytearray()
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                pending += data
                while len(pending) >= 5:
                    length = int.from_bytes(pending[3:5], "big")
                    if len(pending) < 5 + length:
                        break
                    if pending[0] == 23:
                        with self.lock:
                            self.inner[direction].append(length - TAG)
                    del pending[:5 + length]
                dst.sendall(data)
        except OSError:
            pass
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def records(self, direction):
        with self.lock:
            return list(self.inner[direction])

    def close(self):
        self.sock.close()
        self.thread.join(TIMEOUT)


@pytest.fixture
def relay():
    made = []

    def start(upstream_port):
        r = RecordRelay(upstream_port)
        made.append(r)
        return r

    yield start
    for r in made:
        r.close()


@pytest.fixture
def gnutls_bin():
    serv, cli = shutil.which("gnutls-serv"), shutil.which("gnutls-cli")
    assert serv and cli, "gnutls-bin is not installed (tools/deps.sh installs it)"
    return serv, cli


def payload(n):
    """n printable bytes with a recognisable pattern, no newlines."""
    return bytes(0x41 + (i * 7 + i // 97) % 26 for i in range(n))


def start_gnutls_serv(procs, gnutls_bin, pki, *extra):
    port = free_port()
    procs.start([gnutls_bin[0], "-p", str(port), "--disable-client-cert",
                 "--x509certfile", pki / "ecdsa-p256.chain.pem",
                 "--x509keyfile", pki / "ecdsa-p256.key",
                 "--priority", GNUTLS_PRIORITY, *extra]).wait_for(r"listening on IPv4",
                                                                 stream="stderr")
    return port


# --------------------------------------------------------------------------
# GnuTLS: negotiated in both roles
# --------------------------------------------------------------------------

def test_client_to_gnutls_serv_negotiated(procs, gnutls_bin, pki, tmp_path, relay,
                                          ferrule_client):
    body = payload(60000)
    (tmp_path / "big.txt").write_bytes(body)
    port = start_gnutls_serv(procs, gnutls_bin, pki, "--http", "--httpdata",
                             tmp_path / "big.txt", "--recordsize", "1000")
    r = relay(port)
    res = ferrule_client(r.port, "--http-get", "/", "--json", "--record-size-limit", "700")
    assert res.rc == 0, res.describe()
    # gnutls-serv --recordsize 1000 advertises 1001 in TLS 1.3.
    assert res.json["record_size_limit"] == 1001, res.describe()
    assert res.json["response_bytes"] > len(body), res.describe()
    s2c, c2s = r.records("s2c"), r.records("c2s")
    # GnuTLS respects our 700 for every protected record, the 60 kB body
    # included; nothing bigger reached us (we would have sent
    # record_overflow).
    assert s2c and max(s2c) <= 700, s2c
    assert sum(1 for n in s2c if n > 600) >= 60000 // 700, s2c
    # Our records (Finished, the request) obey GnuTLS's 1001.
    assert c2s and max(c2s) <= 1001, c2s


def test_client_to_gnutls_serv_default(procs, gnutls_bin, pki, tmp_path, relay,
                                       ferrule_client):
    """No option on either side: both advertise 2^14 + 1, full records."""
    body = payload(50000)
    (tmp_path / "big.txt").write_bytes(body)
    port = start_gnutls_serv(procs, gnutls_bin, pki, "--http", "--httpdata",
                             tmp_path / "big.txt")
    r = relay(port)
    res = ferrule_client(r.port, "--http-get", "/", "--json")
    assert res.rc == 0, res.describe()
    assert res.json["record_size_limit"] == 16385, res.describe()
    assert res.json["response_bytes"] > len(body), res.describe()
    assert max(r.records("s2c")) > 1000


def test_client_to_gnutls_serv_small_limit_not_answered(procs, gnutls_bin, pki, tmp_path,
                                                        relay, ferrule_client):
    """gnutls-serv ignores a client limit below 512 by not answering the
    extension: then nothing is negotiated and the large records it sends
    must be accepted (no limit applies in either direction)."""
    body = payload(40000)
    (tmp_path / "big.txt").write_bytes(body)
    port = start_gnutls_serv(procs, gnutls_bin, pki, "--http", "--httpdata",
                             tmp_path / "big.txt")
    r = relay(port)
    res = ferrule_client(r.port, "--http-get", "/", "--json", "--record-size-limit", "100")
    assert res.rc == 0, res.describe()
    assert res.json["record_size_limit"] is None, res.describe()
    assert res.json["response_bytes"] > len(body), res.describe()
    assert max(r.records("s2c")) > 100


def test_gnutls_cli_to_server_negotiated(procs, gnutls_bin, pki, relay, ferrule_server):
    # RSA: the server's Certificate (about 2 kB) must be fragmented.
    srv, port = ferrule_server("rsa", "--echo", "--max-conns", "1",
                               "--record-size-limit", "700")
    r = relay(port)
    c = procs.start([gnutls_bin[1], "-p", str(r.port), "--x509cafile", pki / "root.pem",
                     "--priority", GNUTLS_PRIORITY, "--recordsize", "1000", "localhost"],
                    keep_stdin=True)
    c.wait_for(r"Simple Client Mode")
    # gnutls-cli hands each read() of stdin to one gnutls_record_send()
    # and ignores a short write, so it must never read more than one
    # record's worth (699 bytes here): one line at a time, each echoed
    # before the next is written.
    sent = 0
    for k in range(12):
        line = bytes(0x41 + (i * 7 + k) % 26 for i in range(640))
        c.write(line + b"\n")
        c.wait_for(line.decode())
        sent += len(line) + 1
    c.close_stdin()
    assert c.wait() == 0, c.describe()
    assert srv.wait() == 0, srv.describe()
    # The ferrule server saw GnuTLS's 1000 + 1 ...
    assert " rsl=1001 " in srv.stderr, srv.describe()
    s2c, c2s = r.records("s2c"), r.records("c2s")
    # ... and fragmented its encrypted handshake to it.
    assert s2c and max(s2c) == 1001, s2c
    # GnuTLS obeyed our 700 (else the server would have failed).
    assert c2s and max(c2s) <= 700, c2s
    assert sum(c2s) >= sent


# --------------------------------------------------------------------------
# OpenSSL 3.0: no RFC 8449, the extension is ignored
# --------------------------------------------------------------------------

def start_s_server(procs, openssl_bin, pki, cwd, *extra):
    from conftest import split_chain
    leaf, rest = split_chain(pki / "ecdsa-p256.chain.pem", cwd)
    port = free_port()
    p = procs.start([openssl_bin, "s_server", "-accept", f"127.0.0.1:{port}", "-tls1_3",
                     "-cert", leaf, "-cert_chain", rest, "-key", pki / "ecdsa-p256.key",
                     *extra], cwd=cwd)
    p.wait_for(r"^ACCEPT")
    return port


@pytest.mark.parametrize("frag", [None, "512"], ids=["full-records", "max_send_frag-512"])
def test_client_to_openssl_not_negotiated(procs, openssl_bin, pki, tmp_path, relay,
                                          ferrule_client, frag):
    body = payload(70000)
    (tmp_path / "big.txt").write_bytes(body)
    extra = ["-WWW"] + (["-max_send_frag", frag] if frag else [])
    port = start_s_server(procs, openssl_bin, pki, tmp_path, *extra)
    r = relay(port)
    # Our ClientHello offers 200; OpenSSL ignores the extension.
    res = ferrule_client(r.port, "--http-get", "/big.txt", "--json",
                         "--record-size-limit", "200")
    assert res.rc == 0, res.describe()
    assert res.json["record_size_limit"] is None, res.describe()
    assert res.json["response_bytes"] > len(body), res.describe()
    s2c = r.records("s2c")
    if frag:
        # Small records from OpenSSL (512 bytes + the type byte) arrive and
        # are reassembled.
        assert max(s2c) == 513, s2c
    else:
        # Not negotiated: records far above our 200 are accepted.
        assert max(s2c) == 16385, s2c


def test_s_client_to_server_not_negotiated(procs, pki, relay, ferrule_server, s_client):
    srv, port = ferrule_server("ecdsa-p256", "--echo", "--max-conns", "1",
                               "--record-size-limit", "100")
    r = relay(port)
    data = payload(40000) + b"<end-of-data>\n"
    c = s_client(r.port, "-quiet", stdin_data=data)
    c.wait_for(r"<end-of-data>")
    c.kill()
    assert data.strip().decode() in c.stdout, c.describe()[-2000:]
    assert srv.wait() in (0, 1), srv.describe()
    # OpenSSL sent no record_size_limit: the server did not answer it ...
    assert " rsl=- " in srv.stderr, srv.describe()
    s2c, c2s = r.records("s2c"), r.records("c2s")
    # ... so its own 100 was not enforced on OpenSSL's records (s_client
    # sends what one read() of stdin gives, 8 KiB), and the echo went back
    # in records as large as what arrived.
    assert max(c2s) > 4096, c2s
    assert max(s2c) > 4096, s2c
