"""Interop: the ferrule CLI against the OpenSSL 3.0 CLI over loopback.

(a) ferrule client -> openssl s_server, every suite x group
(b) openssl s_client -> ferrule server, every suite x group
(c) every server certificate kind, both directions
(d) application data and close_notify, both directions
(e) failures: bad certificates, TLS 1.2-only peers, garbage, truncation
"""

import re

import pytest

SUITES = ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"]

# ferrule/IANA group name -> (openssl -groups name, s_client's "Server Temp Key" line)
GROUPS = {
    "x25519": ("X25519", "Server Temp Key: X25519, 253 bits"),
    "secp256r1": ("P-256", "Server Temp Key: ECDH, prime256v1, 256 bits"),
    "secp384r1": ("P-384", "Server Temp Key: ECDH, secp384r1, 384 bits"),
}

# PKI kind -> (TLS 1.3 signature scheme, s_client "Peer signature type", digest or None)
KINDS = {
    "ecdsa-p256": ("ecdsa_secp256r1_sha256", "ECDSA", "SHA256"),
    "ecdsa-p384": ("ecdsa_secp384r1_sha384", "ECDSA", "SHA384"),
    "rsa": ("rsa_pss_rsae_sha256", "RSA-PSS", "SHA256"),
    "rsa-pss": ("rsa_pss_pss_sha256", "RSA-PSS", "SHA256"),
    "ed25519": ("ed25519", "ed25519", None),
}

CELLS = [pytest.param(s, g, id=f"{s}-{g}") for s in SUITES for g in GROUPS]

HTTP_GET = b"GET / HTTP/1.0\r\n\r\n"
ERROR_LINE = re.compile(r"^ferrule: error: (\S+) \((\S+)\): .*$", re.M)


def assert_ok_json(r, suite=None, group=None, scheme=None):
    assert r.rc == 0, r.describe()
    j = r.json
    assert isinstance(j, dict), f"no JSON object in client output\n{r.describe()}"
    assert j.get("handshake_ok") is True, r.describe()
    assert j.get("version") == "TLSv1.3", r.describe()
    if suite:
        assert j.get("cipher_suite") == suite, r.describe()
    if group:
        assert j.get("group") == group, r.describe()
    if scheme:
        assert j.get("signature_scheme") == scheme, r.describe()
    assert j.get("resumed") is False and j.get("hrr") is False, r.describe()
    assert isinstance(j.get("peer_chain"), list) and len(j["peer_chain"]) == 2, r.describe()
    assert "truncated" not in r.stderr, r.describe()
    # With --json the reply is counted, not printed.
    assert isinstance(j.get("response_bytes"), int) and j["response_bytes"] > 0, r.describe()
    assert "error" not in j, r.describe()
    return j


def assert_openssl_www_body(r):
    """`openssl s_server -www` answers 'HTTP/1.0 200 ok' and an HTML page
    listing its cipher table."""
    assert r.rc == 0, r.describe()
    assert r.stdout.startswith("HTTP/1.0 200 ok"), r.describe()
    assert "Ciphers supported in s_server binary" in r.stdout, r.describe()


def http_body(out, what):
    """The HTTP response printed by s_client (status line onwards)."""
    m = re.search(r"^HTTP/1\.[01] 200", out, re.M)
    assert m, f"no HTTP 200 response in s_client output ({what})\n{out[-3000:]}"
    return out[m.start():]


def assert_failure(r, reason):
    assert r.rc == 1, r.describe()
    assert reason in r.stderr, r.describe()
    if reason == "truncated":
        assert re.search(r"^ferrule: truncated: ", r.stderr, re.M), r.describe()
    else:
        assert ERROR_LINE.search(r.stderr), f"no `ferrule: error:` line\n{r.describe()}"
    j = r.json
    assert isinstance(j, dict), f"no JSON object on failure\n{r.describe()}"
    assert j.get("handshake_ok") is False, r.describe()
    err = j.get("error")
    assert isinstance(err, dict), r.describe()
    for key in ("status", "reason", "message", "alert"):
        assert key in err, f"error object lacks {key}\n{r.describe()}"
    return j


# --------------------------------------------------------------------------
# (a) ferrule client -> openssl s_server
# --------------------------------------------------------------------------

@pytest.mark.parametrize("suite,group", CELLS)
def test_client_to_openssl_suite_group(openssl_server, ferrule_client, suite, group):
    _, port = openssl_server("ecdsa-p256", "-www", "-tls1_3", "-ciphersuites", suite,
                             "-groups", GROUPS[group][0])
    args = ("--http-get", "/", "--ciphersuites", suite, "--groups", group)
    assert_ok_json(ferrule_client(port, *args, "--json"), suite=suite, group=group,
                   scheme="ecdsa_secp256r1_sha256")
    # --json counts the reply instead of printing it: fetch the page again.
    assert_openssl_www_body(ferrule_client(port, *args))


# --------------------------------------------------------------------------
# (b) openssl s_client -> ferrule server
# --------------------------------------------------------------------------

@pytest.mark.parametrize("suite,group", CELLS)
def test_openssl_to_server_suite_group(ferrule_server, s_client, suite, group):
    srv, port = ferrule_server("ecdsa-p256", "--www", "--max-conns", "1")
    c = s_client(port, "-ciphersuites", suite, "-groups", GROUPS[group][0], "-ign_eof",
                 stdin_data=HTTP_GET)
    rc = c.wait()
    out = c.stdout
    assert rc == 0, c.describe()
    assert f"New, TLSv1.3, Cipher is {suite}" in out, c.describe()
    assert GROUPS[group][1] in out, c.describe()
    assert "Verification: OK" in out and "Verify return code: 0 (ok)" in out, c.describe()
    body = http_body(out, c.describe())
    assert "protocol: TLSv1.3" in body, c.describe()
    assert f"cipher_suite: {suite}" in body and f"group: {group}" in body, c.describe()
    assert "ecdsa_secp256r1_sha256" in body, c.describe()
    srv.wait()
    assert "truncated" not in srv.stderr, srv.describe()


# --------------------------------------------------------------------------
# (c) certificate kinds, both directions
# --------------------------------------------------------------------------

@pytest.mark.parametrize("kind", list(KINDS))
def test_client_to_openssl_cert_kind(openssl_server, ferrule_client, kind):
    scheme = KINDS[kind][0]
    _, port = openssl_server(kind, "-www", "-tls1_3")
    assert_ok_json(ferrule_client(port, "--http-get", "/", "--json"), scheme=scheme)
    assert_openssl_www_body(ferrule_client(port, "--http-get", "/"))


@pytest.mark.parametrize("kind", list(KINDS))
def test_openssl_to_server_cert_kind(ferrule_server, s_client, kind):
    scheme, sig_type, digest = KINDS[kind]
    srv, port = ferrule_server(kind, "--www", "--max-conns", "1")
    c = s_client(port, "-ign_eof", stdin_data=HTTP_GET)
    rc = c.wait()
    out = c.stdout
    assert rc == 0, c.describe()
    assert "Verify return code: 0 (ok)" in out, c.describe()
    assert f"Peer signature type: {sig_type}" in out, c.describe()
    if digest:
        assert f"Peer signing digest: {digest}" in out, c.describe()
    assert scheme in http_body(out, c.describe()), c.describe()
    srv.wait()


# --------------------------------------------------------------------------
# (d) application data and close_notify
# --------------------------------------------------------------------------

@pytest.mark.parametrize("line", [pytest.param("ping", id="short"),
                                  pytest.param("x" * 3000 + "yz", id="3k-line")])
def test_client_app_data_to_openssl_rev(openssl_server, ferrule_client, line):
    # s_server -rev answers each line reversed; a line "CLOSE" makes it
    # send close_notify, which the client must see to exit 0.
    _, port = openssl_server("ecdsa-p256", "-rev", "-tls1_3")
    r = ferrule_client(port, "--request", line + "\\nCLOSE\\n")
    assert r.rc == 0, r.describe()
    assert line[::-1] in r.stdout, r.describe()
    assert "truncated" not in r.stderr, r.describe()


def test_client_sees_close_notify_from_openssl(openssl_server, ferrule_client):
    # s_server -www ends its answer with close_notify (checked with -msg
    # while writing this suite); exit 0 means the client saw it.
    _, port = openssl_server("ecdsa-p256", "-www", "-tls1_3")
    r = ferrule_client(port, "--http-get", "/")
    assert r.rc == 0, r.describe()
    assert "HTTP/1.0 200 ok" in r.stdout, r.describe()
    assert "truncated" not in r.stderr and "ferrule: error" not in r.stderr, r.describe()


def test_openssl_app_data_to_server_echo(ferrule_server, s_client):
    srv, port = ferrule_server("ecdsa-p256", "--echo", "--max-conns", "1")
    # -quiet implies -ign_eof; -no_ign_eof makes stdin EOF send close_notify.
    c = s_client(port, "-quiet", "-no_ign_eof", keep_stdin=True)
    c.write("hello ferrule\n")
    c.wait_for(r"^hello ferrule$")
    # Several records' worth in one go (> 16 KiB).
    lines = [f"line {i:05d} " + "abcdefghij" * 5 for i in range(600)]
    c.write("\n".join(lines) + "\n")
    c.wait_for(re.escape(lines[-1]))
    c.close_stdin()
    rc = c.wait()
    assert rc == 0, c.describe()
    assert c.stdout.count("\n") >= len(lines) + 1, c.describe()
    assert "\n".join(lines) in c.stdout, c.describe()
    srv.wait()
    assert "truncated" not in srv.stderr and "ferrule: error" not in srv.stderr, srv.describe()


def test_server_close_notify_both_ways(ferrule_server, s_client):
    srv, port = ferrule_server("ecdsa-p256", "--www", "--max-conns", "1")
    c = s_client(port, "-msg", "-ign_eof", stdin_data=HTTP_GET)
    rc = c.wait()
    out = c.stdout
    assert rc == 0, c.describe()
    # The server ends the page with close_notify; s_client answers with one.
    assert re.search(r"^<<< TLS 1\.3, Alert \[length 0002\], warning close_notify", out, re.M), \
        c.describe()
    assert re.search(r"^>>> TLS 1\.3, Alert \[length 0002\], warning close_notify", out, re.M), \
        c.describe()
    assert re.search(r"^closed$", out, re.M), c.describe()
    assert "error" not in c.stderr.lower(), c.describe()
    srv.wait()
    assert "truncated" not in srv.stderr, srv.describe()


# --------------------------------------------------------------------------
# (e) failures
# --------------------------------------------------------------------------

@pytest.mark.parametrize("kind,reason", [
    pytest.param("wrongname", "cert_name_mismatch", id="wrongname"),
    pytest.param("untrusted", "cert_unknown_issuer", id="untrusted-chain"),
])
def test_client_rejects_bad_certificate(openssl_server, ferrule_client, kind, reason):
    _, port = openssl_server(kind, "-www", "-tls1_3")
    r = ferrule_client(port, "--http-get", "/", "--json")
    j = assert_failure(r, reason)
    assert j["error"]["reason"] == reason, r.describe()
    assert "HTTP/1.0" not in r.stdout, r.describe()


def test_client_rejects_tls12_only_server(openssl_server, ferrule_client):
    _, port = openssl_server("ecdsa-p256", "-www", "-tls1_2")
    r = ferrule_client(port, "--http-get", "/", "--json")
    assert_failure(r, "protocol_version")


def test_client_error_line_without_json(openssl_server, ferrule_client):
    _, port = openssl_server("wrongname", "-www", "-tls1_3")
    r = ferrule_client(port, "--http-get", "/")
    assert r.rc == 1, r.describe()
    m = ERROR_LINE.search(r.stderr)
    assert m and m.group(2) == "cert_name_mismatch", r.describe()
    assert re.search(r"; alert \S+\(\d+\) (sent|received)", r.stderr), r.describe()


def _send_after_hello(payload):
    def handler(conn):
        conn.recv(65536)  # the ClientHello (or part of it)
        conn.sendall(payload)
        # Keep the connection open: a client that waits for more would hang
        # here until its own timeout, which the test then reports.
        while conn.recv(65536):
            pass
    return handler


@pytest.mark.parametrize("payload", [
    pytest.param(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n", id="http-text"),
    pytest.param(b"\x16\x03\x03\xff\xff" + b"\x00" * 64, id="oversized-record"),
    pytest.param(b"\x16\x03\x03\x00\x04\x02\x00\x00\x00", id="empty-server-hello"),
])
def test_client_rejects_garbage(tcp_server, ferrule_client, payload):
    srv = tcp_server(_send_after_hello(payload))
    r = ferrule_client(srv.port, "--json")
    assert r.rc == 1, r.describe()
    m = ERROR_LINE.search(r.stderr)
    assert m, r.describe()
    assert m.group(1) in ("decode", "alert-sent"), r.describe()
    assert r.json and r.json.get("handshake_ok") is False, r.describe()


def test_client_reports_truncation(tcp_server, ferrule_client):
    def handler(conn):
        conn.recv(65536)
    srv = tcp_server(handler)  # accepts, reads the ClientHello, closes
    r = ferrule_client(srv.port, "--json")
    assert_failure(r, "truncated")


def test_server_rejects_tls12_client(ferrule_server, procs, openssl_bin, pki):
    _, port = ferrule_server("ecdsa-p256", "--www")
    c = procs.start([openssl_bin, "s_client", "-connect", f"127.0.0.1:{port}",
                     "-servername", "localhost", "-CAfile", pki / "root.pem", "-tls1_2"],
                    stdin_data=HTTP_GET)
    rc = c.wait()
    assert rc != 0, c.describe()
    assert "alert protocol version" in c.stderr, c.describe()


def test_server_reports_client_rejecting_its_certificate(ferrule_server, procs, openssl_bin,
                                                          pki):
    # openssl s_client sends its alert before installing handshake keys,
    # i.e. unprotected; the server must report the peer's reason, not a
    # record-layer error.
    srv, port = ferrule_server("untrusted", "--www", "--max-conns", "1")
    c = procs.start([openssl_bin, "s_client", "-connect", f"127.0.0.1:{port}",
                     "-servername", "localhost", "-CAfile", pki / "root.pem",
                     "-verify_return_error", "-tls1_3"], stdin_data=HTTP_GET)
    assert c.wait() != 0, c.describe()
    assert srv.wait() == 0, srv.describe()
    assert "alert-received" in srv.stderr and "unknown_ca(48) received" in srv.stderr, \
        srv.describe()


@pytest.mark.parametrize("flag", ["-verify", "-Verify"], ids=["optional", "required"])
def test_client_answers_certificate_request(openssl_server, ferrule_client, flag):
    # RFC 8446 §4.4.2: a client without a certificate answers a
    # CertificateRequest with an empty Certificate; the server decides.
    _, port = openssl_server("ecdsa-p256", "-www", "-tls1_3", flag, "1")
    r = ferrule_client(port, "--http-get", "/", "--json")
    if flag == "-verify":
        assert_ok_json(r)
    else:
        # Our side of the handshake completed (TLS 1.3: the client is done
        # once its Finished is sent); the server's verdict arrives after.
        assert r.rc == 1, r.describe()
        assert "certificate_required(116) received" in r.stderr, r.describe()
        assert r.json["error"]["reason"] == "peer_alert", r.describe()
