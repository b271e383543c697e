"""Fixtures for the ferrule interop suite.

Every test drives real processes over loopback: the `ferrule` CLI, the
`openssl` CLI (OpenSSL 3.0), GnuTLS's CLIs and our Go crypto/tls peer
(interop/peers/go, built with `go build` once per session).  Nothing here
may hang: every wait has a deadline, and every background process is killed
in teardown.  A missing prerequisite (ferrule binary, openssl binary, `go`,
PKI) FAILS the test, never skips it.
"""

import json
import os
import pathlib
import re
import shutil
import socket
import subprocess
import threading
import time

import pytest

REPO = pathlib.Path(__file__).resolve().parent.parent
TIMEOUT = 20.0  # seconds, for every subprocess and every wait

PKI_KINDS = ("ecdsa-p256", "ecdsa-p384", "rsa", "rsa-pss", "ed25519")
PKI_FILES = (
    ["root.pem", "inter.pem", "other-root.pem"]
    + [f"{k}.{ext}" for k in PKI_KINDS for ext in ("key", "leaf.pem", "chain.pem")]
    + [f"{n}.{ext}" for n in ("wrongname", "untrusted", "leaf-direct")
       for ext in ("key", "chain.pem")]
)

ACCEPT_RE = re.compile(r"^ACCEPT\s+(\S+):(\d+)\s*$")


# --------------------------------------------------------------------------
# Binaries and PKI
# --------------------------------------------------------------------------

@pytest.fixture(scope="session")
def ferrule_bin():
    path = pathlib.Path(os.environ.get("FERRULE_BIN", REPO / "build" / "ferrule"))
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.fail(f"ferrule binary not found or not executable: {path} "
                    "(run `make build` or set FERRULE_BIN)")
    return str(path)


@pytest.fixture(scope="session")
def openssl_bin():
    path = shutil.which("openssl")
    if path is None:
        pytest.fail("openssl CLI not found on PATH (tools/deps.sh installs it)")
    return path


@pytest.fixture(scope="session")
def pki(tmp_path_factory):
    """A throwaway PKI made once per session by tools/gen-pki.sh."""
    out = tmp_path_factory.mktemp("pki")
    script = REPO / "tools" / "gen-pki.sh"
    if not script.is_file():
        pytest.fail(f"{script} is missing")
    try:
        r = subprocess.run([str(script), str(out)], capture_output=True, text=True,
                           timeout=120)
    except subprocess.TimeoutExpired:
        pytest.fail("tools/gen-pki.sh timed out")
    if r.returncode != 0:
        pytest.fail(f"tools/gen-pki.sh failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    missing = [f for f in PKI_FILES if not (out / f).is_file()]
    if missing:
        pytest.fail(f"tools/gen-pki.sh did not produce: {', '.join(missing)}")
    return out


def split_chain(chain_pem, workdir):
    """Split NAME.chain.pem into (leaf file, rest-of-chain file) for
    `openssl s_server -cert LEAF -cert_chain REST`."""
    chain_pem = pathlib.Path(chain_pem)
    blocks = re.findall(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----\n?",
                        chain_pem.read_text(), re.S)
    assert len(blocks) >= 2, f"{chain_pem} holds {len(blocks)} certificate(s), want >= 2"
    stem = chain_pem.name[: -len(".chain.pem")]
    leaf = pathlib.Path(workdir) / f"{stem}.split-leaf.pem"
    rest = pathlib.Path(workdir) / f"{stem}.split-rest.pem"
    leaf.write_text(blocks[0])
    rest.write_text("".join(blocks[1:]))
    return leaf, rest


# --------------------------------------------------------------------------
# Ports and processes
# --------------------------------------------------------------------------

def free_port():
    """A loopback TCP port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def port():
    return free_port()


class Proc:
    """A background process whose stdout/stderr are drained by threads (so it
    can never block on a full pipe) and can be waited on for a line."""

    def __init__(self, argv, stdin_data=None, keep_stdin=False, cwd=None):
        self.argv = [str(a) for a in argv]
        self.popen = subprocess.Popen(
            self.argv, cwd=cwd,
            stdin=subprocess.PIPE if (stdin_data is not None or keep_stdin) else subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self._out = bytearray()
        self._err = bytearray()
        self._cond = threading.Condition()
        self._threads = [
            threading.Thread(target=self._drain, args=(self.popen.stdout, self._out), daemon=True),
            threading.Thread(target=self._drain, args=(self.popen.stderr, self._err), daemon=True),
        ]
        for t in self._threads:
            t.start()
        if stdin_data is not None:
            self.write(stdin_data)
            if not keep_stdin:
                self.close_stdin()

    def _drain(self, pipe, buf):
        while True:
            chunk = pipe.read1(65536) if hasattr(pipe, "read1") else pipe.read(4096)
            with self._cond:
                if not chunk:
                    self._cond.notify_all()
                    return
                buf.extend(chunk)
                self._cond.notify_all()

    def write(self, data):
        if isinstance(data, str):
            data = data.encode()
        try:
            self.popen.stdin.write(data)
            self.popen.stdin.flush()
        except BrokenPipeError:
            # The process already exited (e.g. a peer refused the handshake
            # before reading its input); its exit status and output tell
            # the test what happened.
            pass

    def close_stdin(self):
        if self.popen.stdin and not self.popen.stdin.closed:
            try:
                self.popen.stdin.close()
            except BrokenPipeError:
                pass

    @property
    def stdout(self):
        with self._cond:
            return self._out.decode(errors="replace")

    @property
    def stderr(self):
        with self._cond:
            return self._err.decode(errors="replace")

    def wait_for(self, pattern, timeout=TIMEOUT, stream="stdout"):
        """Wait until a line of `stream` matches `pattern`; return the match.
        Fails the test on timeout or if the process exits first."""
        rx = re.compile(pattern, re.M)
        deadline = time.monotonic() + timeout
        buf = self._out if stream == "stdout" else self._err
        with self._cond:
            while True:
                m = rx.search(buf.decode(errors="replace"))
                if m:
                    return m
                if self.popen.poll() is not None and all(not t.is_alive() for t in self._threads):
                    pytest.fail(f"{self.argv[0]} exited ({self.popen.returncode}) before "
                                f"printing /{pattern}/\n{self.describe()}")
                left = deadline - time.monotonic()
                if left <= 0:
                    pytest.fail(f"timed out waiting for /{pattern}/ from {self.argv[0]}\n"
                                f"{self.describe()}")
                self._cond.wait(min(left, 0.1))

    def wait(self, timeout=TIMEOUT):
        """Wait for exit; fails the test (after killing) on timeout."""
        try:
            rc = self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"{' '.join(self.argv)} did not exit within {timeout}s\n"
                        f"{self.describe()}")
        for t in self._threads:
            t.join(timeout)
        return rc

    def kill(self):
        self.close_stdin()
        if self.popen.poll() is None:
            self.popen.kill()
            try:
                self.popen.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        for t in self._threads:
            t.join(1)

    def describe(self):
        return (f"argv: {' '.join(self.argv)}\n--- stdout ---\n{self.stdout[-4000:]}\n"
                f"--- stderr ---\n{self.stderr[-4000:]}")


@pytest.fixture
def procs():
    """Start background processes with procs.start(...); all of them are
    killed when the test ends, whatever happened."""
    started = []

    class Starter:
        def start(self, argv, **kw):
            p = Proc(argv, **kw)
            started.append(p)
            return p

    yield Starter()
    for p in started:
        p.kill()


# --------------------------------------------------------------------------
# Servers
# --------------------------------------------------------------------------

@pytest.fixture
def ferrule_server(procs, ferrule_bin, pki):
    """ferrule_server(kind_or_chain, *extra) -> (proc, port).  Starts
    `ferrule server --accept 127.0.0.1:0` and reads its ACCEPT line."""

    def start(kind, *extra):
        chain, key = pki_pair(pki, kind)
        p = procs.start([ferrule_bin, "server", "--accept", "127.0.0.1:0",
                         "--cert", chain, "--key", key, *extra])
        m = p.wait_for(ACCEPT_RE.pattern)
        return p, int(m.group(2))

    return start


@pytest.fixture
def openssl_server(procs, openssl_bin, pki, tmp_path):
    """openssl_server(kind, *extra) -> (proc, port).  Starts
    `openssl s_server` on a free port; ready once it prints ACCEPT (it does
    so after listen()).  Retries if the port was taken in the meantime."""

    def start(kind, *extra, keep_stdin=False):
        # keep_stdin: s_server without -www ends a connection at EOF on its
        # stdin; keep the pipe open to let clients talk.
        _, key = pki_pair(pki, kind)
        leaf, rest = split_chain(pki_pair(pki, kind)[0], tmp_path)
        last = None
        for _ in range(3):
            port = free_port()
            p = procs.start([openssl_bin, "s_server", "-accept", f"127.0.0.1:{port}",
                             "-cert", leaf, "-cert_chain", rest, "-key", key, *extra],
                            keep_stdin=keep_stdin)
            deadline = time.monotonic() + TIMEOUT
            while time.monotonic() < deadline:
                if re.search(r"^ACCEPT", p.stdout, re.M):
                    return p, port
                if p.popen.poll() is not None:
                    break
                time.sleep(0.02)
            last = p
            p.kill()
            if "in use" not in p.stderr:
                break
        pytest.fail(f"openssl s_server did not start\n{last.describe()}")

    return start


def pki_pair(pki, kind):
    """(chain, key) paths for a PKI kind (ecdsa-p256, wrongname, ...)."""
    chain, key = pki / f"{kind}.chain.pem", pki / f"{kind}.key"
    assert chain.is_file() and key.is_file(), f"PKI lacks {kind}"
    return chain, key


class TcpServer:
    """A one-shot raw TCP server in a thread, for misbehaving peers.
    `handler(conn)` runs for the first connection."""

    def __init__(self, handler):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.sock.settimeout(TIMEOUT)
        self.port = self.sock.getsockname()[1]
        self.error = None
        self.thread = threading.Thread(target=self._run, args=(handler,), daemon=True)
        self.thread.start()

    def _run(self, handler):
        try:
            conn, _ = self.sock.accept()
        except OSError as e:
            self.error = e
            return
        with conn:
            conn.settimeout(TIMEOUT)
            try:
                handler(conn)
            except OSError as e:  # the client may close first; that is fine
                self.error = e

    def close(self):
        self.sock.close()
        self.thread.join(TIMEOUT)


@pytest.fixture
def tcp_server():
    servers = []

    def start(handler):
        s = TcpServer(handler)
        servers.append(s)
        return s

    yield start
    for s in servers:
        s.close()


# --------------------------------------------------------------------------
# Clients
# --------------------------------------------------------------------------

class ClientResult:
    def __init__(self, argv, rc, stdout, stderr):
        self.argv, self.rc, self.stdout, self.stderr = argv, rc, stdout, stderr
        self.json = parse_json_output(stdout)

    def describe(self):
        return (f"argv: {' '.join(self.argv)}\nexit: {self.rc}\n--- stdout ---\n"
                f"{self.stdout[-4000:]}\n--- stderr ---\n{self.stderr[-4000:]}")


def parse_json_output(stdout):
    """The client's --json object (one line on stdout), or None."""
    dec = json.JSONDecoder()
    for m in reversed(list(re.finditer(r"^\{", stdout, re.M))):
        try:
            obj, _ = dec.raw_decode(stdout[m.start():])
        except ValueError:
            continue
        if isinstance(obj, dict) and "handshake_ok" in obj:
            return obj
    return None


@pytest.fixture
def ferrule_client(ferrule_bin, pki):
    """ferrule_client(port, *extra, cafile=root) -> ClientResult.  Adds
    --servername localhost and --cafile unless told otherwise."""

    def run(port, *extra, servername="localhost", cafile="root.pem", host="127.0.0.1"):
        argv = [ferrule_bin, "client", f"{host}:{port}"]
        if servername:
            argv += ["--servername", servername]
        if cafile:
            argv += ["--cafile", str(pki / cafile)]
        argv += [str(a) for a in extra]
        try:
            r = subprocess.run(argv, capture_output=True, timeout=TIMEOUT,
                               stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as e:
            pytest.fail(f"ferrule client hung (> {TIMEOUT}s): {' '.join(argv)}\n"
                        f"stdout: {e.stdout!r}\nstderr: {e.stderr!r}")
        return ClientResult(argv, r.returncode, r.stdout.decode(errors="replace"),
                            r.stderr.decode(errors="replace"))

    return run


@pytest.fixture
def s_client(procs, openssl_bin, pki):
    """s_client(port, *extra, stdin_data=..., keep_stdin=False) -> Proc for
    `openssl s_client` verifying the server as localhost against root.pem."""

    def start(port, *extra, stdin_data=None, keep_stdin=False):
        argv = [openssl_bin, "s_client", "-connect", f"127.0.0.1:{port}",
                "-servername", "localhost", "-verify_hostname", "localhost",
                "-CAfile", pki / "root.pem", "-verify_return_error", "-tls1_3", *extra]
        return procs.start(argv, stdin_data=stdin_data, keep_stdin=keep_stdin)

    return start


# --------------------------------------------------------------------------
# The Go crypto/tls peer (interop/peers/go, interop/test_go.py)
# --------------------------------------------------------------------------

GO_PEER_SRC = REPO / "interop" / "peers" / "go"
GO_BUILD_TIMEOUT = 300.0  # a cold Go build cache compiles crypto/tls first


def go_command():
    """The `go` command: $FERRULE_GO if set (e.g. another toolchain), else
    `go` on PATH.  Fails the test when there is none."""
    go = os.environ.get("FERRULE_GO") or shutil.which("go")
    if not go:
        pytest.fail("`go` not found on PATH: the Go crypto/tls peer cannot be built "
                    "(tools/deps.sh installs Debian's golang-go; or set FERRULE_GO)")
    return go


@pytest.fixture(scope="session")
def go_peer_bin(tmp_path_factory):
    """interop/peers/go built once per session with `go build` into a
    temporary directory.  Standard library only: the module proxy is off and
    the local toolchain is used whatever go.mod says."""
    go = go_command()
    out = tmp_path_factory.mktemp("go-peer") / "ferrule-go-peer"
    env = dict(os.environ, GOTOOLCHAIN="local", GOPROXY="off", GOFLAGS="", GOWORK="off",
               CGO_ENABLED="0")
    if not any(env.get(v) for v in ("GOCACHE", "XDG_CACHE_HOME", "HOME")):
        # Go refuses to build without a cache directory; keep it out of the repo.
        env["GOCACHE"] = str(tmp_path_factory.getbasetemp() / "go-cache")
    try:
        r = subprocess.run([go, "build", "-trimpath", "-o", str(out), "."], cwd=GO_PEER_SRC,
                           env=env, capture_output=True, text=True, timeout=GO_BUILD_TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"`go build` of {GO_PEER_SRC} took more than {GO_BUILD_TIMEOUT:.0f}s")
    if r.returncode != 0 or not out.is_file():
        pytest.fail(f"`go build` of {GO_PEER_SRC} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    return str(out)


def go_reports(text, role):
    """The per-connection JSON lines of ferrule-go-peer (`role` is "server"
    or "client"), in connection order."""
    out = []
    for line in text.splitlines():
        if line.startswith("{"):
            obj = json.loads(line)
            if obj.get("role") == role:
                out.append(obj)
    return out


@pytest.fixture
def go_server(procs, go_peer_bin, pki):
    """go_server(kind, *extra) -> (proc, port).  Starts `ferrule-go-peer
    server --listen 127.0.0.1:0` with the PKI pair `kind` and reads its
    ACCEPT line; proc.reports() gives its JSON lines so far."""

    def start(kind, *extra):
        chain, key = pki_pair(pki, kind)
        p = procs.start([go_peer_bin, "server", "--listen", "127.0.0.1:0", "--cert", chain,
                         "--key", key, "--timeout", "5", *extra])
        m = p.wait_for(ACCEPT_RE.pattern)
        p.reports = lambda: go_reports(p.stdout, "server")
        return p, int(m.group(2))

    return start


@pytest.fixture
def go_client(go_peer_bin, pki):
    """go_client(port, *extra) -> ClientResult whose .reports are the JSON
    lines (one per connection).  Verifies the server as localhost against
    root.pem; 5 s per connection."""

    def run(port, *extra, count=1):
        argv = [go_peer_bin, "client", "--connect", f"127.0.0.1:{port}", "--servername",
                "localhost", "--ca", str(pki / "root.pem"), "--timeout", "5",
                "--count", str(count), *[str(a) for a in extra]]
        try:
            r = subprocess.run(argv, capture_output=True, timeout=5 * count + TIMEOUT,
                               stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as e:
            pytest.fail(f"ferrule-go-peer client hung: {' '.join(argv)}\n"
                        f"stdout: {e.stdout!r}\nstderr: {e.stderr!r}")
        res = ClientResult(argv, r.returncode, r.stdout.decode(errors="replace"),
                           r.stderr.decode(errors="replace"))
        res.reports = go_reports(res.stdout, "client")
        return res

    return run
