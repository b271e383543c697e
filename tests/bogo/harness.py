"""A small runner-side harness for build/bogo_shim, so the shim is exercised in
`make check` without BoringSSL's runner (which is built and run by hand:
interop/bogo/run.sh).

It plays the runner's part of the contract (see docs/bogo-profile.md): it
listens on loopback, starts the shim with `-port P -shim-id N` and the test's
flags, accepts each of the shim's 1 + resume-count connections, checks the
8-byte little-endian shim id, and then drives TLS on the accepted socket with
a peer of its own: Python's `ssl` (an implementation independent of ferrule)
or, where `ssl` cannot do it (0-RTT), ferrule's Python binding.
"""
import os
import socket
import ssl
import struct
import subprocess
import threading
import time

SHIM = os.environ.get("BOGO_SHIM") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "bogo_shim")


class ShimRun:
    """One shim process: start(), then accept() per connection, then wait()."""

    def __init__(self, flags, shim_id=None, timeout=20):
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(4)
        self.listener.settimeout(timeout)
        self.port = self.listener.getsockname()[1]
        self.shim_id = shim_id if shim_id is not None else (os.getpid() << 20 | 0x5151)
        self.timeout = timeout
        argv = [SHIM, "-port", str(self.port), "-shim-id", str(self.shim_id)] + list(flags)
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def accept(self):
        """The next connection, after checking the shim id it starts with."""
        sock, _ = self.listener.accept()
        sock.settimeout(self.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        head = recv_exact(sock, 8)
        got = struct.unpack("<Q", head)[0]
        if got != self.shim_id:
            raise AssertionError("shim id %d, want %d" % (got, self.shim_id))
        return sock

    def wait(self):
        """(exit status, stdout, stderr) of the shim."""
        try:
            out, err = self.proc.communicate(timeout=self.timeout)
        finally:
            self.listener.close()
        return self.proc.returncode, out.decode(errors="replace"), err.decode(errors="replace")

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()
        self.listener.close()


def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise EOFError("connection closed after %d of %d bytes" % (len(buf), n))
        buf += chunk
    return buf


def xor_ff(data):
    return bytes(b ^ 0xFF for b in data)


def probe():
    """The runner's probe before any test: (exit status, stdout)."""
    p = subprocess.run([SHIM, "-is-handshaker-supported"], capture_output=True, timeout=10)
    return p.returncode, p.stdout.decode()


def run_flags_only(flags):
    """Start the shim with flags that stop it before it connects."""
    p = subprocess.run([SHIM, "-port", "1", "-shim-id", "0"] + list(flags),
                       capture_output=True, timeout=10)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


# ---- Python's ssl as the peer ----------------------------------------------

def ssl_server_context(pki):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_cert_chain(os.path.join(pki, "ecdsa-p256.chain.pem"),
                        os.path.join(pki, "ecdsa-p256.key"))
    return ctx


def ssl_client_context():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def echo_once(tls, message):
    """The runner's exchange: write a message, read its XOR-0xFF echo."""
    tls.sendall(message)
    got = b""
    while len(got) < len(message):
        chunk = tls.recv(len(message) - len(got))
        if not chunk:
            raise EOFError("shim closed before echoing")
        got += chunk
    return got


def close_tls(tls):
    """Send close_notify (the shim's echo loop ends there) and close."""
    try:
        tls.unwrap()
    except (ssl.SSLError, OSError):
        pass
    tls.close()


# ---- ferrule's Python binding as the peer (0-RTT) ---------------------------

class FerrulePeer:
    """A ferrule server connection driven over a blocking socket."""

    def __init__(self, sock, conn):
        self.sock, self.conn = sock, conn

    def flush(self):
        out = self.conn.bytes_to_send()
        if out:
            self.sock.sendall(out)

    def pump(self):
        data = self.sock.recv(65536)
        if data:
            self.conn.receive_bytes(data)
        else:
            self.conn.receive_eof()
        return data

    def handshake(self, early=None):
        """Drive the handshake; with `early` a bytearray, collect 0-RTT data."""
        import ferrule
        while True:
            try:
                if early is not None:
                    while True:
                        chunk = self.conn.read_early_data()
                        if not chunk:
                            break
                        early.extend(chunk)
                self.conn.do_handshake()
                self.flush()
                return
            except ferrule.WantRead:
                self.flush()
                if not self.pump():
                    raise

    def read(self, n):
        import ferrule
        got = b""
        while len(got) < n:
            try:
                got += self.conn.read(n - len(got))
            except ferrule.WantRead:
                self.flush()
                if not self.pump():
                    raise
        return got

    def write(self, data):
        self.conn.write(data)
        self.flush()

    def close(self):
        try:
            self.conn.close_notify()
            self.flush()
        except Exception:
            pass
        self.sock.close()


def in_thread(fn):
    """Run fn in a thread; join() re-raises what it raised."""
    box = {}

    def run():
        try:
            box["result"] = fn()
        except BaseException as e:  # noqa: BLE001 - re-raised in join
            box["error"] = e

    t = threading.Thread(target=run, daemon=True)
    t.start()

    def join(timeout=30):
        t.join(timeout)
        if t.is_alive():
            raise TimeoutError("peer thread did not finish")
        if "error" in box:
            raise box["error"]
        return box.get("result")

    return join


def wait_until(pred, timeout=5.0):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.01)
    return False
