"""Fixtures for the Python binding's suite (tests/py).

Everything runs over loopback.  Every wait has a deadline; every process
is killed in teardown.  A missing prerequisite (the binding, openssl, the
PKI script) fails the test, never skips it.
"""

from __future__ import annotations

import asyncio
import os
import pathlib
import re
import shutil
import socket
import ssl
import subprocess
import threading

import pytest

try:
    import ferrule
    import ferrule.asyncio  # noqa: F401
except ImportError as e:  # fail loudly: `make check-python` installs it
    raise pytest.UsageError(f"the ferrule binding is not importable ({e}); "
                            "run `make python` (installs it into .venv)") from e

REPO = pathlib.Path(__file__).resolve().parents[2]
TIMEOUT = 30.0  # seconds: generous, for a loaded 2-core machine
KINDS = ("ecdsa-p256", "ecdsa-p384", "rsa", "rsa-pss", "ed25519")
SUITES = ("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256")
GROUPS = ("x25519", "secp256r1", "secp384r1")


@pytest.fixture(scope="session")
def pki(tmp_path_factory) -> pathlib.Path:
    """The throwaway PKI of tools/gen-pki.sh (made once per session)."""
    out = tmp_path_factory.mktemp("pki")
    r = subprocess.run([str(REPO / "tools" / "gen-pki.sh"), str(out)], capture_output=True,
                       text=True, timeout=300)
    if r.returncode != 0:
        pytest.fail(f"tools/gen-pki.sh failed:\n{r.stdout}\n{r.stderr}")
    for f in ["root.pem"] + [f"{k}.chain.pem" for k in KINDS]:
        assert (out / f).is_file(), f"gen-pki.sh did not make {f}"
    return out


@pytest.fixture(scope="session")
def openssl_bin() -> str:
    path = shutil.which("openssl")
    if path is None:
        pytest.fail("openssl CLI not found (tools/deps.sh installs it)")
    return path


def client_config(pki, **kw) -> "ferrule.ClientConfig":
    return ferrule.ClientConfig(cafile=pki / "root.pem", **kw)


def server_config(pki, kind="ecdsa-p256", **kw) -> "ferrule.ServerConfig":
    return ferrule.ServerConfig(certfile=pki / f"{kind}.chain.pem", keyfile=pki / f"{kind}.key",
                                **kw)


@pytest.fixture
def client_cfg(pki):
    return client_config(pki)


@pytest.fixture
def server_cfg(pki):
    return server_config(pki)


def stdlib_server_ctx(pki, kind="ecdsa-p256", alpn=None) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_cert_chain(pki / f"{kind}.chain.pem", pki / f"{kind}.key")
    if alpn:
        ctx.set_alpn_protocols(alpn)
    return ctx


def stdlib_client_ctx(pki, alpn=None) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(pki / "root.pem"))
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    if alpn:
        ctx.set_alpn_protocols(alpn)
    return ctx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_of(server) -> int:
    return server.sockets[0].getsockname()[1]


async def echo_handler(reader, writer):
    """Echo until EOF, then close (close_notify)."""
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    finally:
        writer.close()


def handshake_in_memory(client: "ferrule.Connection", server: "ferrule.Connection",
                        rounds: int = 10) -> None:
    """Run a handshake between two sans-I/O connections."""
    for _ in range(rounds):
        moved = 0
        for a, b in ((client, server), (server, client)):
            try:
                a.do_handshake()
            except ferrule.WantRead:
                pass
            data = a.bytes_to_send()
            if data:
                b.receive_bytes(data)
                moved += len(data)
        if client.handshake_done and server.handshake_done and not moved:
            return
    raise AssertionError(f"handshake did not finish: {client!r} {server!r}")


def pump(a: "ferrule.Connection", b: "ferrule.Connection") -> int:
    data = a.bytes_to_send()
    if data:
        b.receive_bytes(data)
    return len(data)


class OpenSSLServer:
    """`openssl s_server` on a free port (ready when it prints ACCEPT).

    keep_stdin: s_server without -www ends a connection at EOF on its
    stdin, so keep a pipe open to let clients talk.  Its output is kept
    (``output()``, ``wait_for()``)."""

    def __init__(self, openssl_bin, pki, tmp_path, kind, *extra, keep_stdin=False):
        chain = (pki / f"{kind}.chain.pem").read_text()
        blocks = re.findall(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----\n?",
                            chain, re.S)
        leaf, rest = tmp_path / f"{kind}-leaf.pem", tmp_path / f"{kind}-rest.pem"
        leaf.write_text(blocks[0])
        rest.write_text("".join(blocks[1:]))
        self.port = free_port()
        self.proc = subprocess.Popen(
            [openssl_bin, "s_server", "-accept", f"127.0.0.1:{self.port}", "-cert", str(leaf),
             "-cert_chain", str(rest), "-key", str(pki / f"{kind}.key"), "-tls1_3", *extra],
            stdin=subprocess.PIPE if keep_stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self._out = bytearray()
        self._cond = threading.Condition()
        seen = []
        for line in iter(self.proc.stdout.readline, b""):  # until ACCEPT or exit
            seen.append(line)
            if line.startswith(b"ACCEPT"):
                break
        else:
            self.close()
            pytest.fail(f"openssl s_server did not start: {b''.join(seen)!r}")
        # Keep draining its output so it never blocks on a full pipe.
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self):
        while True:
            chunk = self.proc.stdout.read1(65536)
            with self._cond:
                if chunk:
                    self._out += chunk
                self._cond.notify_all()
                if not chunk:
                    return

    def output(self) -> str:
        with self._cond:
            return self._out.decode(errors="replace")

    def wait_for(self, text: str, timeout: float = TIMEOUT) -> None:
        """Wait until `text` appears in the output (fails at the deadline)."""
        with self._cond:
            ok = self._cond.wait_for(lambda: text.encode() in self._out
                                     or self.proc.poll() is not None, timeout)
            if not ok or text.encode() not in self._out:
                pytest.fail(f"s_server never printed {text!r}:\n{self._out.decode(errors='replace')}")

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(TIMEOUT)
        if self.proc.stdin is not None:
            self.proc.stdin.close()


@pytest.fixture
def openssl_server(openssl_bin, pki, tmp_path):
    servers = []

    def start(kind="ecdsa-p256", *extra, keep_stdin=False):
        s = OpenSSLServer(openssl_bin, pki, tmp_path, kind, *extra, keep_stdin=keep_stdin)
        servers.append(s)
        return s
    yield start
    for s in servers:
        s.close()
