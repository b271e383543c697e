"""Tests of the PROTOCOL.md peers in interop/peers/wrap and interop/peers/python:
the shared pieces (pattern, flags, TLS message decoding, OpenSSL's message
log, command-safe stdin writes) and each peer in both roles against the
ferrule CLI over loopback (the interop suite's fixtures: ferrule_bin, pki)."""

import json
import pathlib
import subprocess
import sys
import threading
import time

import pytest

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import common  # noqa: E402
import openssl  # noqa: E402

PEERS = {
    "openssl": HERE / "openssl.py",
    "gnutls": HERE / "gnutls.py",
    "nss": HERE / "nss.py",
    "python": HERE.parent / "python" / "peer.py",
}
TIMEOUT = 30


def peer(name, *args, **kw):
    return subprocess.run([sys.executable, str(PEERS[name]), *map(str, args)],
                          capture_output=True, timeout=TIMEOUT, **kw)


def caps(name):
    r = peer(name, "caps")
    assert r.returncode == 0, r.stderr.decode()
    return json.loads(r.stdout)


# ---------------------------------------------------------------------------
# shared pieces
# ---------------------------------------------------------------------------

def test_pattern_counts_from_each_start():
    assert common.pattern(3) == b"\x00\x01\x02"
    p = common.pattern(600, 100)
    assert p == bytes(i % 251 for i in range(100, 700))
    assert common.pattern(0) == b""


@pytest.mark.parametrize("name", sorted(PEERS))
def test_caps_has_every_feature_with_a_reason(name):
    c = caps(name)
    assert c["impl"] == name and c["version"], c
    assert set(c["features"]) == set(common.FEATURES), c
    for k, v in c["features"].items():
        assert v is True or (isinstance(v, str) and len(v) > 20), (k, v)


def test_na_and_unknown_flags_are_usage_errors():
    r = peer("python", "client", "--connect", "127.0.0.1:1", "--ca", "x", "--suites",
             "TLS_AES_128_GCM_SHA256")
    assert r.returncode == 2 and b"not applicable" in r.stderr, r.stderr
    r = peer("openssl", "server", "--cert", "c", "--key", "k", "--record-size-limit", "1024")
    assert r.returncode == 2 and b"record_size_limit" in r.stderr, r.stderr
    r = peer("nss", "client", "--connect", "127.0.0.1:1", "--ca", "x", "--no-such-flag")
    assert r.returncode == 2, r.stderr
    r = peer("gnutls", "bogus")
    assert r.returncode == 2, r.stderr


def _ext(t, data):
    return t.to_bytes(2, "big") + len(data).to_bytes(2, "big") + data


def test_server_hello_decoding():
    exts = _ext(0x002b, b"\x03\x04") + _ext(0x0033, b"\x00\x18" + b"\x00\x01\x00") + \
        _ext(0x0029, b"\x00\x00")
    body = b"\x03\x03" + bytes(32) + b"\x00" + b"\x13\x02" + b"\x00" + \
        len(exts).to_bytes(2, "big") + exts
    sh = common.parse_server_hello(body)
    assert sh == {"cipher": "TLS_AES_256_GCM_SHA384", "group": "secp384r1",
                  "version": "TLSv1.3", "psk": True, "hrr": False}
    hrr = b"\x03\x03" + common.HRR_RANDOM + body[34:]
    assert common.parse_server_hello(hrr)["hrr"] is True


def test_encrypted_extensions_and_certificate_decoding():
    alpn = b"\x02h2"
    ee = _ext(0x0010, len(alpn).to_bytes(2, "big") + alpn) + _ext(0x002a, b"")
    d = common.parse_encrypted_extensions(len(ee).to_bytes(2, "big") + ee)
    assert d == {"alpn": "h2", "early_data": True}
    staple = _ext(0x0005, b"\x01\x00\x00\x02ok")
    entries = (b"\x00\x00\x03abc" + len(staple).to_bytes(2, "big") + staple +
               b"\x00\x00\x02de" + b"\x00\x00")
    cert = b"\x00" + len(entries).to_bytes(3, "big") + entries
    assert common.parse_certificate(cert) == {"certs": 2, "stapled": True}
    entries = b"\x00\x00\x01a\x00\x00"
    assert common.parse_certificate(b"\x00" + len(entries).to_bytes(3, "big") + entries) == \
        {"certs": 1, "stapled": False}


def test_openssl_msg_log_keeps_a_partial_block_for_later(tmp_path):
    f = tmp_path / "m"
    f.write_text("<<< TLS 1.3, Alert [length 0002], fatal ???\n    02 74\n"
                 ">>> TLS 1.3, Handshake [length 0005], KeyUpdate\n    18 00 00")
    log = openssl.MsgLog(str(f))
    assert log.poll() == [("<<<", "Alert", b"\x02\x74")]
    with open(f, "a") as fh:
        fh.write(" 01 01\n")
    assert log.poll()[1] == (">>>", "KeyUpdate", b"\x18\x00\x00\x01\x01")
    s = openssl.summarize(log.entries, "client")
    assert s["alert"] == "certificate_required" and s["key_updates_sent"] == 1


class _FakeChild:
    def __init__(self):
        self.writes = []

    def stdin_pending(self):
        return 0

    def alive(self):
        return True

    def write(self, b):
        self.writes.append(bytes(b))
        return True


def test_gated_writes_never_start_with_a_command_letter():
    data = common.pattern(20000)
    c = _FakeChild()
    assert openssl.gated_write(c, data, openssl.SERVER_CMD_BYTES, time.monotonic() + 5)
    assert b"".join(c.writes) == data
    assert all(w[0] not in openssl.SERVER_CMD_BYTES and len(w) <= 4096 for w in c.writes)
    # a piece that must start with a command letter is refused, not written
    c = _FakeChild()
    assert not openssl.gated_write(c, b"Q" + data, openssl.SERVER_CMD_BYTES, time.monotonic() + 5)
    assert c.writes == []


# ---------------------------------------------------------------------------
# each peer against the ferrule CLI
# ---------------------------------------------------------------------------

def _reports(out):
    return [json.loads(ln) for ln in out.decode().splitlines() if ln.startswith("{")]


def _ferrule_client(ferrule_bin, port, n, *extra):
    """ferrule client sending n pattern bytes, closing only once they are
    echoed (so the echo cannot lose the race with its close_notify)."""
    data = common.pattern(n)
    p = subprocess.Popen([ferrule_bin, "client", f"127.0.0.1:{port}", "--servername",
                          "localhost", "--cafile", extra[0], *extra[1:]],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    threading.Thread(target=lambda: (p.stdin.write(data), p.stdin.flush()), daemon=True).start()
    got = bytearray()
    deadline = time.monotonic() + TIMEOUT
    while len(got) < n and time.monotonic() < deadline:
        b = p.stdout.read1(65536)
        if not b:
            break
        got += b
    p.stdin.close()
    p.stdout.read()
    err = p.stderr.read().decode()
    return p.wait(TIMEOUT), bytes(got) == data, err


@pytest.mark.parametrize("name", sorted(PEERS))
def test_peer_server_echoes_ferrule_client_and_resumes(name, ferrule_bin, pki, tmp_path):
    resume = caps(name)["features"]["resumption"] is True
    count = 2 if resume else 1
    srv = subprocess.Popen([sys.executable, str(PEERS[name]), "server", "--cert",
                            pki / "ecdsa-p256.chain.pem", "--key", pki / "ecdsa-p256.key",
                            "--count", str(count)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        line = srv.stdout.readline().decode()
        assert line.startswith("ACCEPT 127.0.0.1:"), (line, srv.stderr.read1(4000))
        port = int(line.rsplit(":", 1)[1])
        sess = tmp_path / "sess"
        for k in range(count):
            extra = ["--sess-in", str(sess)] if k else []
            rc, echoed, err = _ferrule_client(ferrule_bin, port, 3000, str(pki / "root.pem"),
                                              "--sess-out", str(sess), *extra)
            assert rc == 0 and echoed, err
        out, err = srv.communicate(timeout=TIMEOUT)
    finally:
        srv.kill()
    assert srv.returncode == 0, err.decode()
    reps = _reports(out)
    assert [r["conn"] for r in reps] == list(range(1, count + 1)), out
    for r in reps:
        assert r["ok"] is True and r["version"] == "TLSv1.3", r
        assert r["received"] == r["sent"] == 3000, r
        assert r["server_name"] in ("localhost", None), r
    if resume:
        assert [r["resumed"] for r in reps] == [False, True], reps


@pytest.mark.parametrize("name", sorted(PEERS))
def test_peer_client_checks_echo_of_ferrule_server_and_resumes(name, ferrule_bin, pki):
    resume = caps(name)["features"]["resumption"] is True
    count = 2 if resume else 1
    srv = subprocess.Popen([ferrule_bin, "server", "--accept", "127.0.0.1:0", "--cert",
                            pki / "ecdsa-p256.chain.pem", "--key", pki / "ecdsa-p256.key",
                            "--echo", "--max-conns", str(count)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        line = srv.stdout.readline().decode()
        assert line.startswith("ACCEPT"), line
        port = int(line.rsplit(":", 1)[1])
        r = peer(name, "client", "--connect", f"127.0.0.1:{port}", "--servername", "localhost",
                 "--ca", pki / "root.pem", "--count", count, "--send-bytes", 5000)
    finally:
        srv.kill()
        srv.wait()
    assert r.returncode == 0, (r.stdout, r.stderr)
    reps = _reports(r.stdout)
    assert len(reps) == count, r.stdout
    for rep in reps:
        assert rep["ok"] is True and rep["echo_ok"] is True, rep
        assert rep["sent"] == rep["received"] == 5000, rep
        assert rep["cipher"] == "TLS_AES_128_GCM_SHA256", rep
    if resume:
        assert [x["resumed"] for x in reps] == [False, True], reps


@pytest.mark.parametrize("name", sorted(PEERS))
def test_peer_client_reports_a_required_certificate_it_lacks(name, ferrule_bin, pki):
    srv = subprocess.Popen([ferrule_bin, "server", "--accept", "127.0.0.1:0", "--cert",
                            pki / "ecdsa-p256.chain.pem", "--key", pki / "ecdsa-p256.key",
                            "--echo", "--max-conns", "1", "--verify-client", "require",
                            "--cafile", pki / "root.pem"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        port = int(srv.stdout.readline().decode().rsplit(":", 1)[1])
        r = peer(name, "client", "--connect", f"127.0.0.1:{port}", "--servername", "localhost",
                 "--ca", pki / "root.pem")
    finally:
        srv.kill()
        srv.wait()
    assert r.returncode == 1, (r.stdout, r.stderr)
    rep = _reports(r.stdout)[0]
    assert rep["ok"] is False and rep["alert"] == "certificate_required", rep
