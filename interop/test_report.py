"""`--report FILE` (ferrule client and server): one JSON line per connection,
written whatever the outcome, with the bytes each way and how the
connection ended.  The interop matrix (tools/interop_matrix.py) reads its
ferrule side from these lines, so each field it relies on is checked here
against what really happened on the wire."""
import json
import time

from conftest import Proc, TIMEOUT


def read_lines(path, n, timeout=TIMEOUT):
    """The first n JSON lines of `path`, waiting for the server to write them."""
    deadline = time.monotonic() + timeout
    while True:
        lines = path.read_text().splitlines() if path.exists() else []
        if len(lines) >= n:
            return [json.loads(x) for x in lines]
        assert time.monotonic() < deadline, f"{path}: {len(lines)} of {n} report lines"
        time.sleep(0.02)


def test_report_clean_echo_both_sides(ferrule_server, ferrule_bin, pki, tmp_path):
    srep, crep = tmp_path / "server.jsonl", tmp_path / "client.jsonl"
    srv, port = ferrule_server("ecdsa-p256", "--echo", "--max-conns", "1", "--report", srep)
    payload = bytes(i % 251 for i in range(70000))
    c = Proc([ferrule_bin, "client", f"127.0.0.1:{port}", "--servername", "localhost",
              "--cafile", pki / "root.pem", "--report", crep, "-q"], stdin_data=payload)
    assert c.wait() == 0, c.describe()
    [s] = read_lines(srep, 1)
    [r] = read_lines(crep, 1)
    assert s["handshake_ok"] and r["handshake_ok"]
    assert s["received_bytes"] == s["sent_bytes"] == len(payload)
    assert r["sent_bytes"] == r["response_bytes"] == len(payload)
    assert s["close"] == "close_notify" and r["close"] == "close_notify"
    assert s["error"] is None and "error" not in r
    assert s["cipher_suite"] == r["cipher_suite"] and s["group"] == r["group"]
    assert s["server_name"] == "localhost"
    # The data still went to stdout: --report does not replace it.
    assert c._out == payload


def test_report_truncation_seen_by_server(ferrule_server, ferrule_bin, pki, tmp_path):
    # A client that completes the handshake with the CLI's own client, then
    # disappears without close_notify: simulated by killing it.
    srep = tmp_path / "server.jsonl"
    srv, port = ferrule_server("ecdsa-p256", "--echo", "--max-conns", "1", "--report", srep)
    c = Proc([ferrule_bin, "client", f"127.0.0.1:{port}", "--servername",
              "localhost", "--cafile", pki / "root.pem", "-q"], keep_stdin=True)
    c.write(b"ping\n")
    c.wait_for(r"^ping$")
    c.popen.kill()
    c.popen.wait(TIMEOUT)
    [s] = read_lines(srep, 1)
    assert s["handshake_ok"] is True
    assert s["close"] == "truncated", s
    assert s["error"]["status"] == "truncated", s
    assert s["received_bytes"] == 5


def test_report_failed_handshake_both_sides(ferrule_server, ferrule_bin, pki, tmp_path):
    # An untrusted server chain: the client's report says why (and that the
    # client sent the alert); the server's says it received that alert.
    srep, crep = tmp_path / "server.jsonl", tmp_path / "client.jsonl"
    srv, port = ferrule_server("untrusted", "--echo", "--max-conns", "1", "--report", srep)
    c = Proc([ferrule_bin, "client", f"127.0.0.1:{port}", "--servername", "localhost",
              "--cafile", pki / "root.pem", "--report", crep, "-q"], stdin_data=b"x")
    assert c.wait() == 1, c.describe()
    [r] = read_lines(crep, 1)
    [s] = read_lines(srep, 1)
    assert r["handshake_ok"] is False and r["close"] == "error"
    assert r["error"]["alert"]["direction"] == "sent", r
    assert s["handshake_ok"] is False and s["close"] == "error"
    assert s["error"]["alert"] == {"name": r["error"]["alert"]["name"],
                                   "code": r["error"]["alert"]["code"],
                                   "direction": "received"}, s


def test_report_unwritable_path_fails_the_client(ferrule_server, ferrule_bin, pki, tmp_path):
    srv, port = ferrule_server("ecdsa-p256", "--echo", "--max-conns", "1")
    bad = tmp_path / "no-such-dir" / "r.jsonl"
    c = Proc([ferrule_bin, "client", f"127.0.0.1:{port}", "--servername", "localhost",
              "--cafile", pki / "root.pem", "--report", bad, "-q"], stdin_data=b"x")
    assert c.wait() == 1, c.describe()
    assert "--report" in c.stderr and "No such file" in c.stderr, c.describe()
