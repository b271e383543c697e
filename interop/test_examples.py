"""examples/ (README, "C"): build the blocking callback-I/O client and the
poll() buffer-API server as a user would (cc against the public header and
libferrule), and run them against `ferrule server`, `openssl s_server` and
`openssl s_client`."""

import os
import pathlib
import shutil
import subprocess

import pytest

from conftest import ACCEPT_RE, REPO, TIMEOUT

EXAMPLES = REPO / "examples"
BODY = b"hello from the ferrule poll server"


@pytest.fixture(scope="module")
def example_bins(tmp_path_factory, ferrule_bin):
    cc = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc")
    if cc is None:
        pytest.fail("no C compiler on PATH")
    libdir = pathlib.Path(ferrule_bin).parent  # the build tree: libferrule.so
    out = tmp_path_factory.mktemp("examples")
    bins = {}
    for name in ("https_get", "poll_server"):
        exe = out / name
        argv = [cc, "-std=c11", "-D_POSIX_C_SOURCE=200809L", "-D_DEFAULT_SOURCE", "-Wall",
                "-Wextra", "-Wconversion", "-Werror", f"-I{REPO / 'abi' / 'include'}",
                str(EXAMPLES / f"{name}.c"), "-o", str(exe), f"-L{libdir}", "-lferrule",
                f"-Wl,-rpath,{libdir}"]
        r = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, f"{' '.join(argv)}\n{r.stderr}"
        bins[name] = str(exe)
    return bins


def https_get(bins, pki, port):
    return subprocess.run([bins["https_get"], "localhost", str(port), str(pki / "root.pem")],
                          capture_output=True, timeout=TIMEOUT)


def start_poll_server(procs, bins, pki, connections):
    p = procs.start([bins["poll_server"], "0", pki / "ecdsa-p256.chain.pem",
                     pki / "ecdsa-p256.key", str(connections)])
    return p, int(p.wait_for(ACCEPT_RE.pattern).group(2))


def test_readme_shows_the_client_example_verbatim():
    readme = (REPO / "README.md").read_text()
    assert (EXAMPLES / "https_get.c").read_text() in readme
    assert len((EXAMPLES / "https_get.c").read_text().splitlines()) < 60


def test_client_example_against_ferrule_server(example_bins, pki, ferrule_server):
    _, port = ferrule_server("ecdsa-p256", "--www")
    r = https_get(example_bins, pki, port)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(b"HTTP/1.0 200 OK")
    assert b"TLS_AES_128_GCM_SHA256" in r.stdout or b"TLSv1.3" in r.stdout


def test_client_example_against_openssl_server(example_bins, pki, openssl_server):
    _, port = openssl_server("ecdsa-p256", "-www")
    r = https_get(example_bins, pki, port)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(b"HTTP/1.0 200 ok")
    assert b"TLSv1.3" in r.stdout


def test_poll_server_example_with_both_clients(example_bins, pki, procs, s_client):
    server, port = start_poll_server(procs, example_bins, pki, 3)
    for _ in range(2):
        r = https_get(example_bins, pki, port)
        assert r.returncode == 0, r.stderr
        assert r.stdout.startswith(b"HTTP/1.0 200 OK") and BODY in r.stdout
    c = s_client(port, "-quiet", stdin_data=b"GET / HTTP/1.0\r\n\r\n")
    c.wait()
    assert BODY.decode() in c.stdout, c.describe()
    # Three connections served: the server exits cleanly.
    server.wait()
    assert server.popen.returncode == 0, server.describe()
    assert "poll_server:" not in server.stderr, server.describe()


def test_poll_server_answers_the_alpn_decision_on_a_later_turn(example_bins, pki, procs,
                                                               s_client):
    # The poll server leaves ALPN to itself (FERRULE_DECIDE_ALPN): the
    # handshake pauses, the loop answers on its next turn, the handshake
    # goes on.  http/1.1 offered: chosen; only h2: no_application_protocol.
    server, port = start_poll_server(procs, example_bins, pki, 3)
    c = s_client(port, "-quiet", "-alpn", "h2,http/1.1", stdin_data=b"GET / HTTP/1.0\r\n\r\n")
    c.wait()
    assert BODY.decode() in c.stdout and "alpn: http/1.1" in c.stdout, c.describe()
    c = s_client(port, "-alpn", "h2", stdin_data=b"GET / HTTP/1.0\r\n\r\n")
    c.wait()
    assert c.popen.returncode != 0, c.describe()
    assert "no application protocol" in c.stderr.lower(), c.describe()
    # Without ALPN no decision is asked: served as before.
    r = https_get(example_bins, pki, port)
    assert r.returncode == 0, r.stderr
    assert BODY in r.stdout and b"alpn:" not in r.stdout
    server.wait()
    assert server.popen.returncode == 0, server.describe()
