"""X25519MLKEM768 over real sockets (docs/mlkem.md): ferrule against Go's
crypto/tls (interop/peers/go) and OpenSSL 3.5's `openssl` (tools/openssl35),
both roles, HelloRetryRequest to and from the hybrid, and what a ferrule
without ML-KEM does when a peer offers it.

Which tests apply depends on the ferrule under test ($FERRULE_BIN): one whose
libcrypto has ML-KEM-768 (OpenSSL 3.5+, `make check-mlkem` runs this file with
build-ossl35/ferrule and FERRULE_EXPECT_MLKEM=1) or one without (Debian's 3.0,
build/ferrule under `make check-interop`).  The binary is asked (a --groups
X25519MLKEM768 that its config refuses with group_unavailable, or not); when
FERRULE_EXPECT_MLKEM is set, a binary that answers otherwise FAILS every test.
Tests for the other kind of binary are skipped with that reason.

The Go peer's go.mod says go 1.19, so its GODEBUG defaults are those of 1.19:
tlsmlkem=0, no X25519MLKEM768 even on a newer toolchain.  The tests run it
with GODEBUG=tlsmlkem=1 (Go 1.24+), which gives crypto/tls's default curve
list: X25519MLKEM768 first, with an x25519 key share beside the hybrid one.
"""
import functools
import os
import pathlib
import re
import socket
import struct
import subprocess

import pytest

from conftest import TIMEOUT, free_port, pki_pair, split_chain

HYB = "X25519MLKEM768"
HYB_ID = 0x11EC
X25519_ID = 0x001D
SERVER_LOG = re.compile(r"^ferrule server: handshake ok .*$", re.M)


# --------------------------------------------------------------------------
# Which ferrule, which peers
# --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def has_mlkem(ferrule_bin):
    """Whether the ferrule under test can use X25519MLKEM768: its client
    config refuses the group (group_unavailable) or takes it and connects
    (to a closed port here, which fails differently)."""
    r = subprocess.run([ferrule_bin, "client", f"127.0.0.1:{free_port()}", "--groups", HYB],
                       capture_output=True, text=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL)
    have = "group_unavailable" not in r.stderr
    want = os.environ.get("FERRULE_EXPECT_MLKEM")
    if want is not None and int(want) != int(have):
        pytest.fail(f"FERRULE_EXPECT_MLKEM={want} but {ferrule_bin} "
                    f"{'has' if have else 'lacks'} X25519MLKEM768:\n{r.stderr}")
    return have


@pytest.fixture
def mlkem(has_mlkem):
    if not has_mlkem:
        pytest.skip("this ferrule's libcrypto has no ML-KEM (OpenSSL < 3.5): "
                    "`make check-mlkem` runs this against build-ossl35/ferrule")


@pytest.fixture
def no_mlkem(has_mlkem):
    if has_mlkem:
        pytest.skip("this ferrule has ML-KEM: the default build (make check-interop) runs this")


@pytest.fixture
def go_mlkem(monkeypatch):
    """The Go peer with crypto/tls's X25519MLKEM768 on (see the module doc)."""
    monkeypatch.setenv("GODEBUG", "tlsmlkem=1")


def go_speaks_hybrid(report):
    """Go 1.24 or later: the first release with X25519MLKEM768."""
    m = re.match(r"go(\d+)\.(\d+)", report.get("go") or "")
    assert m and (int(m.group(1)), int(m.group(2))) >= (1, 24), \
        f"the Go peer was built with {report.get('go')}: X25519MLKEM768 needs Go 1.24+ ({report})"


@functools.lru_cache(maxsize=None)
def openssl35_path():
    """OpenSSL 3.5's openssl: $OPENSSL35_BIN (make check-mlkem sets it),
    else what tools/openssl35/build.sh prints (a cold build takes minutes)."""
    path = os.environ.get("OPENSSL35_BIN")
    if not path:
        script = pathlib.Path(__file__).resolve().parent.parent / "tools" / "openssl35" / "build.sh"
        r = subprocess.run([str(script)], capture_output=True, text=True, timeout=1800)
        if r.returncode != 0:
            pytest.fail(f"tools/openssl35/build.sh failed:\n{r.stderr}")
        path = os.path.join(r.stdout.strip().splitlines()[-1], "bin", "openssl")
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail(f"OpenSSL 3.5 openssl not found: {path}")
    v = subprocess.run([path, "version"], capture_output=True, text=True, timeout=TIMEOUT)
    assert v.stdout.startswith("OpenSSL 3.5"), v.stdout
    return path


@pytest.fixture
def openssl35_bin(mlkem):
    """Only for the tests with ML-KEM: a ferrule without it never builds
    OpenSSL 3.5 just to skip."""
    return openssl35_path()


@pytest.fixture
def ossl35_server(procs, openssl35_bin, pki, tmp_path):
    """ossl35_server(*extra) -> (proc, port): OpenSSL 3.5 s_server -www with
    the ecdsa-p256 chain, ready at its ACCEPT line."""

    def start(*extra):
        chain, key = pki_pair(pki, "ecdsa-p256")
        leaf, rest = split_chain(chain, tmp_path)
        for _ in range(3):
            port = free_port()
            p = procs.start([openssl35_bin, "s_server", "-accept", f"127.0.0.1:{port}",
                             "-cert", leaf, "-cert_chain", rest, "-key", key, "-tls1_3",
                             "-www", *extra])
            try:
                p.wait_for(r"^ACCEPT", timeout=TIMEOUT)
                return p, port
            except pytest.fail.Exception:
                if "Address already in use" not in p.stderr:
                    raise
        pytest.fail("OpenSSL 3.5 s_server: no free port in three tries")

    return start


def ossl35_client(openssl35_bin, pki, port, *extra, data=b"ping from openssl 3.5\n"):
    """OpenSSL 3.5 s_client with -msg (so that every ClientHello shows) and
    `data` on stdin (it closes at stdin EOF, before any echo comes back);
    returns the CompletedProcess (bytes)."""
    argv = [openssl35_bin, "s_client", "-connect", f"127.0.0.1:{port}", "-servername",
            "localhost", "-verify_hostname", "localhost", "-CAfile", str(pki / "root.pem"),
            "-verify_return_error", "-tls1_3", "-msg", *extra]
    return subprocess.run(argv, input=data, capture_output=True, timeout=TIMEOUT)


def server_logs(srv):
    return SERVER_LOG.findall(srv.stderr)


def client_hellos(msg_out):
    """The ClientHello lines s_client -msg printed (two after an HRR)."""
    return re.findall(r"^>>> .*Handshake \[length [0-9a-f]+\], ClientHello$", msg_out, re.M)


# --------------------------------------------------------------------------
# The ClientHello ferrule sends, captured raw
# --------------------------------------------------------------------------

def parse_client_hello(data):
    """(supported_groups, [(group, share length)]) of the ClientHello that
    starts `data` (one TLS record)."""
    assert data[0] == 22, data[:5]
    (rec_len,) = struct.unpack(">H", data[3:5])
    hs = data[5:5 + rec_len]
    assert hs[0] == 1, "not a ClientHello"
    body = hs[4:]
    off = 2 + 32
    off += 1 + body[off]                                  # session id
    off += 2 + struct.unpack(">H", body[off:off + 2])[0]  # suites
    off += 1 + body[off]                                  # compression
    (ext_len,) = struct.unpack(">H", body[off:off + 2])
    off += 2
    end = off + ext_len
    groups, shares = None, None
    while off < end:
        typ, n = struct.unpack(">HH", body[off:off + 4])
        ext = body[off + 4:off + 4 + n]
        off += 4 + n
        if typ == 10:
            groups = [struct.unpack(">H", ext[i:i + 2])[0] for i in range(2, len(ext), 2)]
        elif typ == 51:
            shares, i = [], 2
            while i < len(ext):
                g, ln = struct.unpack(">HH", ext[i:i + 4])
                shares.append((g, ln))
                i += 4 + ln
    return groups, shares


def capture_client_hello(tcp_server, ferrule_client, *extra):
    got = {}

    def handler(conn):
        buf = b""
        while len(buf) < 5 or len(buf) < 5 + struct.unpack(">H", buf[3:5])[0]:
            chunk = conn.recv(65536)
            if not chunk:
                break
            buf += chunk
        got["hello"] = buf

    srv = tcp_server(handler)
    r = ferrule_client(srv.port, *extra)
    srv.thread.join(TIMEOUT)
    assert r.rc != 0  # the "server" closes without answering
    assert "hello" in got and len(got["hello"]) > 5, r.describe()
    return parse_client_hello(got["hello"])


def test_ferrule_client_hello_offers_hybrid_first(mlkem, tcp_server, ferrule_client):
    groups, shares = capture_client_hello(tcp_server, ferrule_client)
    assert groups[:2] == [HYB_ID, X25519_ID], groups
    assert shares == [(HYB_ID, 1216), (X25519_ID, 32)], shares


def test_ferrule_client_hello_never_offers_hybrid_without_mlkem(no_mlkem, tcp_server,
                                                                  ferrule_client):
    groups, shares = capture_client_hello(tcp_server, ferrule_client)
    assert HYB_ID not in groups, groups
    assert shares == [(X25519_ID, 32)], shares


def test_hybrid_refused_by_config_without_mlkem(no_mlkem, ferrule_bin, pki):
    for role in (["client", f"127.0.0.1:{free_port()}"],
                 ["server", "--accept", "127.0.0.1:0", "--cert",
                  str(pki / "ecdsa-p256.chain.pem"), "--key", str(pki / "ecdsa-p256.key")]):
        r = subprocess.run([ferrule_bin, *role, "--groups", f"x25519,{HYB}"], capture_output=True,
                           text=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL)
        assert r.returncode != 0 and "group_unavailable" in r.stderr, r.stderr


# --------------------------------------------------------------------------
# Go's crypto/tls
# --------------------------------------------------------------------------

def go_finished(srv):
    rc = srv.wait()
    (g,) = srv.reports()
    assert rc == 0 and g["error"] is None, srv.describe()
    return g


def test_go_client_offering_hybrid_first_gets_x25519_without_mlkem(no_mlkem, go_mlkem,
                                                                   ferrule_server, go_client):
    """Go's default ClientHello (X25519MLKEM768 first, shares for it and
    x25519) to a ferrule without ML-KEM: x25519 from the second share, no
    HelloRetryRequest."""
    srv, port = ferrule_server("ecdsa-p256", "--echo", "--max-conns", "1")
    msg = "Go offers the hybrid first\n"
    c = go_client(port, "--request", msg.replace("\n", r"\n"), "--half-close")
    assert c.rc == 0, c.describe()
    (g,) = c.reports
    go_speaks_hybrid(g)
    assert (g["group"], g["hrr"], g["received"]) == ("x25519", False, msg), c.describe()
    assert srv.wait() == 0, srv.describe()
    (log,) = server_logs(srv)
    assert " x25519 " in log, srv.describe()


def test_ferrule_client_to_go_server_without_mlkem(no_mlkem, go_mlkem, go_server,
                                                   ferrule_client):
    srv, port = go_server("ecdsa-p256", "--count", "1", "--mode", "echo")
    r = ferrule_client(port, "--request", r"no hybrid here\n", "--half-close", "--json")
    assert r.rc == 0 and r.json["response_bytes"] == len("no hybrid here\n"), r.describe()
    g = go_finished(srv)
    go_speaks_hybrid(g)
    assert (g["group"], g["hrr"]) == ("x25519", False), g
    assert (r.json["group"], r.json["hrr"]) == ("x25519", False), r.describe()


def test_ferrule_client_to_go_server_hybrid(mlkem, go_mlkem, go_server, ferrule_client):
    srv, port = go_server("ecdsa-p256", "--count", "1", "--mode", "echo")
    msg = "hybrid, ferrule to Go\n"
    r = ferrule_client(port, "--request", msg.replace("\n", r"\n"), "--half-close", "--json")
    assert r.rc == 0, r.describe()
    assert r.json["response_bytes"] == len(msg), r.describe()  # echoed by Go
    assert (r.json["group"], r.json["hrr"]) == (HYB, False), r.describe()
    g = go_finished(srv)
    go_speaks_hybrid(g)
    assert (g["group"], g["hrr"], g["received"]) == (HYB, False, msg), g


def test_go_client_to_ferrule_server_hybrid(mlkem, go_mlkem, ferrule_server, go_client):
    srv, port = ferrule_server("ecdsa-p256", "--echo", "--max-conns", "1")
    msg = "hybrid, Go to ferrule\n"
    c = go_client(port, "--request", msg.replace("\n", r"\n"), "--half-close")
    assert c.rc == 0, c.describe()
    (g,) = c.reports
    go_speaks_hybrid(g)
    assert (g["group"], g["hrr"], g["received"]) == (HYB, False, msg), c.describe()
    assert srv.wait() == 0, srv.describe()
    (log,) = server_logs(srv)
    assert f" {HYB} " in log, srv.describe()


def test_ferrule_client_x25519_share_to_go_server_without_hybrid(mlkem, go_mlkem, go_server,
                                                                ferrule_client):
    """A Go server that does not take the hybrid: ferrule's second (x25519)
    share answers at once, no HelloRetryRequest."""
    srv, port = go_server("ecdsa-p256", "--count", "1", "--mode", "echo", "--curves",
                          "x25519,P-256")
    r = ferrule_client(port, "--request", r"x25519 share\n", "--half-close", "--json")
    assert r.rc == 0, r.describe()
    assert (r.json["group"], r.json["hrr"]) == ("x25519", False), r.describe()
    g = go_finished(srv)
    assert (g["group"], g["hrr"]) == ("x25519", False), g


def test_hrr_from_hybrid_go_server(mlkem, go_mlkem, go_server, ferrule_client):
    """ferrule's only share is the hybrid; the Go server wants P-256."""
    srv, port = go_server("ecdsa-p256", "--count", "1", "--mode", "echo", "--curves", "P-256")
    r = ferrule_client(port, "--groups", f"{HYB},secp256r1", "--request", r"retry\n",
                       "--half-close", "--json")
    assert r.rc == 0 and r.json["response_bytes"] == len("retry\n"), r.describe()
    assert (r.json["group"], r.json["hrr"]) == ("secp256r1", True), r.describe()
    g = go_finished(srv)
    assert (g["group"], g["hrr"]) == ("secp256r1", True), g


def test_hrr_to_hybrid_go_client_from_ferrule_server(mlkem, go_mlkem, ferrule_server, go_client):
    """A ferrule server that takes only P-384 answers Go's default hello
    (hybrid and x25519 shares) with a HelloRetryRequest; the same server
    taking only the hybrid takes Go's first share at once."""
    srv, port = ferrule_server("ecdsa-p256", "--echo", "--max-conns", "1", "--groups",
                               "secp384r1")
    c = go_client(port, "--request", r"to p-384\n", "--half-close")
    assert c.rc == 0, c.describe()
    (g,) = c.reports
    assert (g["group"], g["hrr"]) == ("secp384r1", True), c.describe()
    assert srv.wait() == 0, srv.describe()
    srv, port = ferrule_server("ecdsa-p256", "--echo", "--max-conns", "1", "--groups", HYB)
    c = go_client(port, "--request", r"hybrid only\n", "--half-close")
    assert c.rc == 0, c.describe()
    (g,) = c.reports
    assert (g["group"], g["hrr"]) == (HYB, False), c.describe()
    assert srv.wait() == 0, srv.describe()


# --------------------------------------------------------------------------
# ferrule to ferrule (the CLI), HRR to the hybrid
# --------------------------------------------------------------------------

def test_ferrule_pair_hybrid_and_hrr_to_it(mlkem, ferrule_server, ferrule_client):
    srv, port = ferrule_server("ecdsa-p256", "--echo", "--max-conns", "2", "--groups", HYB)
    # Default client: the hybrid share is taken at once.
    r = ferrule_client(port, "--request", r"direct\n", "--half-close", "--json")
    assert r.rc == 0 and (r.json["group"], r.json["hrr"]) == (HYB, False), r.describe()
    # First share x25519, the hybrid supported: the server asks for it.
    r = ferrule_client(port, "--groups", f"x25519,{HYB}", "--request", r"retried\n",
                       "--half-close", "--json")
    assert r.rc == 0 and r.json["response_bytes"] == len("retried\n"), r.describe()
    assert (r.json["group"], r.json["hrr"]) == (HYB, True), r.describe()
    assert srv.wait() == 0, srv.describe()
    logs = server_logs(srv)
    assert len(logs) == 2 and all(f" {HYB} " in line for line in logs), srv.describe()


# --------------------------------------------------------------------------
# OpenSSL 3.5's openssl
# --------------------------------------------------------------------------

def test_ferrule_client_to_openssl35_server(mlkem, ossl35_server, ferrule_client):
    srv, port = ossl35_server()
    r = ferrule_client(port, "--http-get", "/", "--json")
    assert r.rc == 0, r.describe()
    assert (r.json["group"], r.json["hrr"]) == (HYB, False), r.describe()
    assert r.json["response_bytes"] > 0, r.describe()


def test_hrr_to_hybrid_from_openssl35_server(mlkem, ossl35_server, ferrule_client):
    """The client's first share is x25519; s_server -groups X25519MLKEM768."""
    srv, port = ossl35_server("-groups", HYB)
    r = ferrule_client(port, "--groups", f"x25519,{HYB}", "--http-get", "/", "--json")
    assert r.rc == 0, r.describe()
    assert (r.json["group"], r.json["hrr"]) == (HYB, True), r.describe()


def test_hrr_from_hybrid_to_openssl35_server(mlkem, ossl35_server, ferrule_client):
    srv, port = ossl35_server("-groups", "secp256r1")
    r = ferrule_client(port, "--groups", f"{HYB},secp256r1", "--http-get", "/", "--json")
    assert r.rc == 0, r.describe()
    assert (r.json["group"], r.json["hrr"]) == ("secp256r1", True), r.describe()


def test_openssl35_server_without_hybrid_takes_x25519_share(mlkem, ossl35_server,
                                                            ferrule_client):
    srv, port = ossl35_server("-groups", "x25519:secp256r1")
    r = ferrule_client(port, "--http-get", "/", "--json")
    assert r.rc == 0, r.describe()
    assert (r.json["group"], r.json["hrr"]) == ("x25519", False), r.describe()


def test_openssl35_client_to_ferrule_server(mlkem, openssl35_bin, pki, ferrule_server):
    srv, port = ferrule_server("ecdsa-p256", "--echo", "--max-conns", "1")
    c = ossl35_client(openssl35_bin, pki, port)
    out = c.stdout.decode(errors="replace")
    assert c.returncode == 0, out + c.stderr.decode(errors="replace")
    assert f"Negotiated TLS1.3 group: {HYB}" in out, out
    assert len(client_hellos(out)) == 1, out
    assert srv.wait() == 0, srv.describe()
    (log,) = server_logs(srv)
    assert f" {HYB} " in log, srv.describe()


def test_hrr_to_hybrid_openssl35_client(mlkem, openssl35_bin, pki, ferrule_server):
    """s_client's first (only) share is x25519 (-groups x25519:X25519MLKEM768);
    the ferrule server takes only the hybrid: a second ClientHello."""
    srv, port = ferrule_server("ecdsa-p256", "--echo", "--max-conns", "1", "--groups", HYB)
    c = ossl35_client(openssl35_bin, pki, port, "-groups", f"x25519:{HYB}")
    out = c.stdout.decode(errors="replace")
    assert c.returncode == 0, out + c.stderr.decode(errors="replace")
    assert f"Negotiated TLS1.3 group: {HYB}" in out, out
    assert len(client_hellos(out)) == 2, out
    assert srv.wait() == 0, srv.describe()
    (log,) = server_logs(srv)
    assert f" {HYB} " in log, srv.describe()


def test_hrr_from_hybrid_openssl35_client(mlkem, openssl35_bin, pki, ferrule_server):
    """s_client's only share is the hybrid; the ferrule server wants P-256."""
    srv, port = ferrule_server("ecdsa-p256", "--echo", "--max-conns", "1", "--groups",
                               "secp256r1")
    c = ossl35_client(openssl35_bin, pki, port, "-groups", f"{HYB}:secp256r1")
    out = c.stdout.decode(errors="replace")
    assert c.returncode == 0, out + c.stderr.decode(errors="replace")
    assert "Peer Temp Key: ECDH, prime256v1" in out, out  # how s_client names an EC group
    assert len(client_hellos(out)) == 2, out
    assert srv.wait() == 0, srv.describe()
    (log,) = server_logs(srv)
    assert " secp256r1 " in log, srv.describe()


# --------------------------------------------------------------------------
# Malformed shares on the wire (the C tests, test_mlkem.c, have every case;
# these show the CLI's two roles answering a raw peer)
# --------------------------------------------------------------------------

ILLEGAL_PARAMETER_ALERT = bytes([21, 3, 3, 0, 2, 2, 47])


def split_client_hello(record):
    """(head, [(type, body)]) of a one-record ClientHello: head is the
    handshake body up to the extensions block."""
    hs = record[5:]
    body = hs[4:4 + int.from_bytes(hs[1:4], "big")]
    off = 2 + 32
    off += 1 + body[off]
    off += 2 + struct.unpack(">H", body[off:off + 2])[0]
    off += 1 + body[off]
    head, (n,) = body[:off], struct.unpack(">H", body[off:off + 2])
    exts, i = [], off + 2
    while i < off + 2 + n:
        typ, ln = struct.unpack(">HH", body[i:i + 4])
        exts.append((typ, body[i + 4:i + 4 + ln]))
        i += 4 + ln
    return head, exts


def join_client_hello(head, exts):
    blob = b"".join(struct.pack(">HH", t, len(b)) + b for t, b in exts)
    body = head + struct.pack(">H", len(blob)) + blob
    hs = bytes([1]) + len(body).to_bytes(3, "big") + body
    return bytes([22, 3, 1]) + struct.pack(">H", len(hs)) + hs


def edit_hybrid_share(record, edit):
    """The ClientHello record with its X25519MLKEM768 share replaced by
    edit(share)."""
    head, exts = split_client_hello(record)
    out = []
    for typ, body in exts:
        if typ == 51:
            entries, i = [], 2
            while i < len(body):
                g, ln = struct.unpack(">HH", body[i:i + 4])
                key = body[i + 4:i + 4 + ln]
                entries.append((g, edit(key) if g == HYB_ID else key))
                i += 4 + ln
            assert any(g == HYB_ID for g, _ in entries), entries
            blob = b"".join(struct.pack(">HH", g, len(k)) + k for g, k in entries)
            body = struct.pack(">H", len(blob)) + blob
        out.append((typ, body))
    return join_client_hello(head, out)


def recv_until_closed(sock, limit=65536):
    buf = b""
    sock.settimeout(TIMEOUT)
    while len(buf) < limit:
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, TimeoutError, socket.timeout):
            break
        if not chunk:
            break
        buf += chunk
    return buf


def capture_hello_record(tcp_server, ferrule_client):
    got = {}

    def handler(conn):
        buf = b""
        while len(buf) < 5 or len(buf) < 5 + struct.unpack(">H", buf[3:5])[0]:
            chunk = conn.recv(65536)
            if not chunk:
                break
            buf += chunk
        got["hello"] = buf

    srv = tcp_server(handler)
    ferrule_client(srv.port)
    srv.thread.join(TIMEOUT)
    assert "hello" in got, "no ClientHello captured"
    return got["hello"]


@pytest.mark.parametrize("case,edit,reason", [
    ("short", lambda k: k[:-1], "kem_share_length"),
    ("long", lambda k: k + b"\0", "kem_share_length"),
    # first coefficient 0xfff >= q: FIPS 203's modulus check
    ("coefficient", lambda k: b"\xff" + bytes([k[1] | 0x0f]) + k[2:], "kem_bad_key"),
])
def test_ferrule_server_refuses_bad_hybrid_share(mlkem, tcp_server, ferrule_client,
                                                 ferrule_server, case, edit, reason):
    hello = edit_hybrid_share(capture_hello_record(tcp_server, ferrule_client), edit)
    srv, port = ferrule_server("ecdsa-p256", "--echo", "--max-conns", "1")
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
        sock.sendall(hello)
        reply = recv_until_closed(sock)
    assert reply == ILLEGAL_PARAMETER_ALERT, reply[:64].hex()
    srv.wait()
    assert reason in srv.stderr, srv.describe()


def server_hello(session_id, share):
    """A ServerHello record for TLS_AES_128_GCM_SHA256 with an
    X25519MLKEM768 key_share of the given bytes."""
    exts = (struct.pack(">HHH", 43, 2, 0x0304)
            + struct.pack(">HHHH", 51, 4 + len(share), HYB_ID, len(share)) + share)
    body = (b"\x03\x03" + os.urandom(32) + bytes([len(session_id)]) + session_id
            + b"\x13\x01\x00" + struct.pack(">H", len(exts)) + exts)
    hs = bytes([2]) + len(body).to_bytes(3, "big") + body
    return bytes([22, 3, 3]) + struct.pack(">H", len(hs)) + hs


@pytest.mark.parametrize("length", [1119, 1121, 1216, 32])
def test_ferrule_client_refuses_wrong_size_server_share(mlkem, tcp_server, ferrule_client,
                                                        length):
    got = {}

    def handler(conn):
        buf = b""
        while len(buf) < 5 or len(buf) < 5 + struct.unpack(">H", buf[3:5])[0]:
            chunk = conn.recv(65536)
            if not chunk:
                return
            buf += chunk
        head, _ = split_client_hello(buf)
        sid = head[35:35 + head[34]]
        conn.sendall(server_hello(sid, os.urandom(length)))
        got["reply"] = recv_until_closed(conn)

    srv = tcp_server(handler)
    r = ferrule_client(srv.port, "--json")
    srv.thread.join(TIMEOUT)
    assert r.rc != 0, r.describe()
    assert r.json["error"]["reason"] == "kem_share_length", r.describe()
    assert got.get("reply") == ILLEGAL_PARAMETER_ALERT, got
