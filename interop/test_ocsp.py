"""Interop: OCSP stapling (RFC 8446 §4.4.2.1, RFC 6066 §8) between the
ferrule CLI and the OpenSSL 3.0 CLI.

(a) ferrule client validating the staple of `openssl s_server -status_file`
(b) `openssl s_client -status` receiving ferrule server's `--ocsp-staple`

The responses are made by tools/gen-ocsp.sh (`openssl ocsp` over an
index.txt database) for the session PKI; thisUpdate is "now", so the
real clock is inside every response's validity window.
"""

import re
import subprocess

import pytest

from conftest import ACCEPT_RE, REPO

HTTP_GET = b"GET / HTTP/1.0\r\n\r\n"
OCSP_FILES = ("good.der", "revoked.der", "unknown.der", "bad-signature.der",
              "delegated.der", "mustaple.chain.pem", "mustaple.key", "mustaple-good.der")


@pytest.fixture(scope="session")
def ocsp(pki, tmp_path_factory):
    """The OCSP responses of tools/gen-ocsp.sh for the session PKI."""
    out = tmp_path_factory.mktemp("ocsp")
    script = REPO / "tools" / "gen-ocsp.sh"
    if not script.is_file():
        pytest.fail(f"{script} is missing")
    try:
        r = subprocess.run([str(script), str(out), str(pki)], capture_output=True, text=True,
                           timeout=120)
    except subprocess.TimeoutExpired:
        pytest.fail("tools/gen-ocsp.sh timed out")
    if r.returncode != 0:
        pytest.fail(f"tools/gen-ocsp.sh failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    missing = [f for f in OCSP_FILES if not (out / f).is_file()]
    if missing:
        pytest.fail(f"tools/gen-ocsp.sh did not produce: {', '.join(missing)}")
    return out


def assert_cert_failure(r, reason, alert, code):
    assert r.rc == 1, r.describe()
    assert re.search(rf"^ferrule: error: certificate \({reason}\): .*alert {alert}\({code}\) sent",
                     r.stderr, re.M), r.describe()
    j = r.json
    assert isinstance(j, dict), r.describe()
    assert j.get("handshake_ok") is False and j.get("ocsp_stapled") is False, r.describe()
    err = j.get("error") or {}
    assert err.get("reason") == reason, r.describe()
    assert err.get("alert") == {"name": alert, "code": code, "direction": "sent"}, r.describe()


# --------------------------------------------------------------------------
# (a) ferrule client <- openssl s_server -status_file
# --------------------------------------------------------------------------

@pytest.mark.parametrize("staple", ["good.der", "delegated.der"])
def test_client_accepts_good_staple(openssl_server, ferrule_client, ocsp, staple):
    _, port = openssl_server("ecdsa-p256", "-www", "-tls1_3", "-status_file", ocsp / staple)
    for extra in ((), ("--ocsp-require",)):
        r = ferrule_client(port, "--http-get", "/", "--json", *extra)
        assert r.rc == 0, r.describe()
        j = r.json
        assert isinstance(j, dict) and j.get("handshake_ok") is True, r.describe()
        assert j.get("ocsp_stapled") is True, r.describe()
        assert "error" not in j, r.describe()


def test_client_rejects_revoked_staple(openssl_server, ferrule_client, ocsp):
    _, port = openssl_server("ecdsa-p256", "-www", "-tls1_3", "-status_file",
                             ocsp / "revoked.der")
    r = ferrule_client(port, "--http-get", "/", "--json")
    assert_cert_failure(r, "cert_revoked", "certificate_revoked", 44)


@pytest.mark.parametrize("staple", ["unknown.der", "bad-signature.der"])
def test_client_rejects_bad_staple(openssl_server, ferrule_client, ocsp, staple):
    _, port = openssl_server("ecdsa-p256", "-www", "-tls1_3", "-status_file", ocsp / staple)
    r = ferrule_client(port, "--http-get", "/", "--json")
    assert_cert_failure(r, "cert_bad_ocsp", "bad_certificate_status_response", 113)


def test_client_without_staple(openssl_server, ferrule_client):
    """No staple: accepted by default, refused with --ocsp-require."""
    _, port = openssl_server("ecdsa-p256", "-www", "-tls1_3")
    r = ferrule_client(port, "--http-get", "/", "--json")
    assert r.rc == 0, r.describe()
    assert r.json.get("handshake_ok") is True and r.json.get("ocsp_stapled") is False, \
        r.describe()
    r = ferrule_client(port, "--http-get", "/", "--json", "--ocsp-require")
    assert_cert_failure(r, "cert_ocsp_missing", "bad_certificate_status_response", 113)


# --------------------------------------------------------------------------
# (b) openssl s_client -status <- ferrule server --ocsp-staple
# --------------------------------------------------------------------------

def start_ferrule_server(procs, ferrule_bin, chain, key, *extra):
    p = procs.start([ferrule_bin, "server", "--accept", "127.0.0.1:0", "--cert", chain,
                     "--key", key, *extra])
    return p, int(p.wait_for(ACCEPT_RE.pattern).group(2))


def test_s_client_receives_staple(procs, ferrule_bin, s_client, pki, ocsp):
    srv, port = start_ferrule_server(procs, ferrule_bin, pki / "ecdsa-p256.chain.pem",
                                     pki / "ecdsa-p256.key", "--ocsp-staple",
                                     ocsp / "good.der", "--www", "--max-conns", "1")
    c = s_client(port, "-status", "-ign_eof", stdin_data=HTTP_GET)
    rc = c.wait()
    out = c.stdout
    assert rc == 0, c.describe()
    assert "Verify return code: 0 (ok)" in out, c.describe()
    assert "OCSP Response Status: successful" in out, c.describe()
    assert re.search(r"^\s*Cert Status: good$", out, re.M), c.describe()
    assert srv.wait() == 0, srv.describe()


def test_s_client_no_staple_configured(procs, ferrule_bin, s_client, pki):
    srv, port = start_ferrule_server(procs, ferrule_bin, pki / "ecdsa-p256.chain.pem",
                                     pki / "ecdsa-p256.key", "--www", "--max-conns", "1")
    c = s_client(port, "-status", "-ign_eof", stdin_data=HTTP_GET)
    assert c.wait() == 0, c.describe()
    assert "OCSP response: no response sent" in c.stdout, c.describe()
    assert srv.wait() == 0, srv.describe()


def test_ferrule_to_ferrule_must_staple(procs, ferrule_bin, ferrule_client, ocsp):
    """A must-staple leaf (RFC 7633): stapled, it is accepted; without a
    staple the client refuses it even in the default policy."""
    chain, key = ocsp / "mustaple.chain.pem", ocsp / "mustaple.key"
    _, port = start_ferrule_server(procs, ferrule_bin, chain, key, "--ocsp-staple",
                                   ocsp / "mustaple-good.der", "--www", "--max-conns", "1")
    r = ferrule_client(port, "--http-get", "/", "--json")
    assert r.rc == 0 and r.json.get("ocsp_stapled") is True, r.describe()
    _, port = start_ferrule_server(procs, ferrule_bin, chain, key, "--www", "--max-conns", "1")
    r = ferrule_client(port, "--http-get", "/", "--json")
    assert_cert_failure(r, "cert_ocsp_missing", "bad_certificate_status_response", 113)


def test_server_ocsp_staple_usage(ferrule_bin, pki, ocsp):
    """--ocsp-staple needs a --cert before it, once per pair, and a file."""
    base = [ferrule_bin, "server", "--accept", "127.0.0.1:0"]
    pair = ["--cert", str(pki / "ecdsa-p256.chain.pem"), "--key", str(pki / "ecdsa-p256.key")]
    cases = [
        (base + ["--ocsp-staple", str(ocsp / "good.der")] + pair, 2),
        (base + pair + ["--ocsp-staple", str(ocsp / "good.der"),
                        "--ocsp-staple", str(ocsp / "good.der")], 2),
        (base + pair + ["--ocsp-staple", str(ocsp / "does-not-exist.der")], 1),
    ]
    for argv, want in cases:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=20,
                           stdin=subprocess.DEVNULL)
        assert r.returncode == want, f"{argv}\n{r.stdout}\n{r.stderr}"
        assert "ACCEPT" not in r.stdout, r.stdout
        assert "--ocsp-staple" in r.stderr, r.stderr
