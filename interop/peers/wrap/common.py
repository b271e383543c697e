"""Shared pieces of the interop/peers/PROTOCOL.md wrappers (stdlib only).

Each wrapper (openssl.py, gnutls.py, nss.py) drives a packaged TLS tool as a
subprocess and speaks the peer protocol for it; interop/peers/python/peer.py
imports the argument parsing, the pattern and the report line from here too.

What lives here:
- `parse_args`: the protocol's flags (one set, per role), usage errors exit 2,
  including a flag whose feature the peer's caps mark not applicable;
- `pattern`: byte i of a connection's data is i % 251;
- `Report`: one JSON report line per connection, every key present;
- `Child`: a tool process with its stdout and stderr drained by threads, waits
  with deadlines, and every child killed when the wrapper exits (normally, by
  an exception or by SIGTERM/SIGINT/SIGHUP);
- `free_port`, `wait_listening` (reads /proc/net/tcp, so no probe connection
  counts against a tool's connection limit), `pipe_pending`;
- a decoder for TLS 1.3 handshake messages (ClientHello, ServerHello,
  EncryptedExtensions, Certificate), for the tools that show their messages.
"""

import argparse
import atexit
import fcntl
import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import termios
import threading
import time

FEATURES = ["suites", "groups", "hrr", "resumption", "early_data", "key_update",
            "client_auth", "alpn", "sni", "ocsp", "record_size_limit"]

SUITES = {0x1301: "TLS_AES_128_GCM_SHA256", 0x1302: "TLS_AES_256_GCM_SHA384",
          0x1303: "TLS_CHACHA20_POLY1305_SHA256", 0x1304: "TLS_AES_128_CCM_SHA256",
          0x1305: "TLS_AES_128_CCM_8_SHA256"}
SUITE_NAMES = set(list(SUITES.values())[:3])
GROUPS = {0x0017: "secp256r1", 0x0018: "secp384r1", 0x0019: "secp521r1",
          0x001d: "x25519", 0x001e: "x448", 0x0100: "ffdhe2048", 0x0101: "ffdhe3072",
          0x11ec: "X25519MLKEM768"}
GROUP_NAMES = {"x25519", "secp256r1", "secp384r1", "X25519MLKEM768"}
ALERTS = {0: "close_notify", 10: "unexpected_message", 20: "bad_record_mac",
          22: "record_overflow", 40: "handshake_failure", 42: "bad_certificate",
          43: "unsupported_certificate", 44: "certificate_revoked", 45: "certificate_expired",
          46: "certificate_unknown", 47: "illegal_parameter", 48: "unknown_ca",
          49: "access_denied", 50: "decode_error", 51: "decrypt_error",
          70: "protocol_version", 71: "insufficient_security", 80: "internal_error",
          86: "inappropriate_fallback", 90: "user_canceled", 109: "missing_extension",
          110: "unsupported_extension", 112: "unrecognized_name",
          113: "bad_certificate_status_response", 115: "unknown_psk_identity",
          116: "certificate_required", 120: "no_application_protocol"}
# The SHA-256 of "HelloRetryRequest" (RFC 8446 §4.1.3): a ServerHello with
# this random is a HelloRetryRequest.
HRR_RANDOM = bytes.fromhex("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c")


# ---------------------------------------------------------------------------
# arguments
# ---------------------------------------------------------------------------

class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


def _positive(s):
    v = int(s)
    if v < 0:
        raise argparse.ArgumentTypeError("must be >= 0")
    return v


def _csv(s):
    return [x for x in s.split(",") if x]


def _parser(role):
    p = _Parser(prog=role, add_help=False)
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--ca")
    p.add_argument("--alpn", type=_csv)
    p.add_argument("--groups", type=_csv)
    p.add_argument("--suites", type=_csv)
    p.add_argument("--record-size-limit", type=_positive)
    p.add_argument("--key-update", action="store_true")
    p.add_argument("--count", type=_positive, default=1)
    p.add_argument("--timeout", type=float, default=10.0)
    if role == "server":
        p.add_argument("--listen", default="127.0.0.1:0")
        p.add_argument("--verify-client", choices=["none", "require"], default="none")
        p.add_argument("--early-data", type=_positive)
        p.add_argument("--ocsp", metavar="FILE")
    else:
        p.add_argument("--connect", required=True)
        p.add_argument("--servername")
        p.add_argument("--early-data-bytes", type=_positive, default=0)
        p.add_argument("--ocsp", action="store_true")
        p.add_argument("--send-bytes", type=_positive, default=1024)
        p.add_argument("--hold", action="store_true")
    return p


def parse_args(role, argv, caps):
    """The flags of `role` (server|client) checked against `caps` (the
    features dict): raises UsageError for an unknown or n.a. flag."""
    a = _parser(role).parse_args(argv)
    used = []
    if a.suites:
        bad = [s for s in a.suites if s not in SUITE_NAMES]
        if bad:
            raise UsageError(f"unknown suite(s) {','.join(bad)}")
        used.append(("--suites", "suites"))
    if a.groups:
        bad = [g for g in a.groups if g not in GROUP_NAMES]
        if bad:
            raise UsageError(f"unknown group(s) {','.join(bad)}")
        used.append(("--groups", "groups"))
    if a.alpn:
        used.append(("--alpn", "alpn"))
    if a.key_update:
        used.append(("--key-update", "key_update"))
    if a.record_size_limit is not None:
        used.append(("--record-size-limit", "record_size_limit"))
    if a.ocsp:
        used.append(("--ocsp", "ocsp"))
    if a.count < 1:
        raise UsageError("--count must be >= 1")
    if role == "server":
        if not a.cert or not a.key:
            raise UsageError("server needs --cert and --key")
        if a.early_data is not None:
            used.append(("--early-data", "early_data"))
        if a.verify_client == "require":
            if not a.ca:
                raise UsageError("--verify-client require needs --ca")
            used.append(("--verify-client require", "client_auth"))
        host, _, port = a.listen.rpartition(":")
        if not host or not port.isdigit():
            raise UsageError(f"bad --listen {a.listen!r}")
        a.listen_host, a.listen_port = host, int(port)
    else:
        if bool(a.cert) != bool(a.key):
            raise UsageError("--cert and --key go together")
        if a.cert:
            used.append(("--cert", "client_auth"))
        if a.early_data_bytes:
            if a.early_data_bytes > a.send_bytes:
                raise UsageError("--early-data-bytes must be <= --send-bytes")
            used.append(("--early-data-bytes", "early_data"))
        if not a.ca:
            raise UsageError("client needs --ca")
        host, _, port = a.connect.rpartition(":")
        if not host or not port.isdigit():
            raise UsageError(f"bad --connect {a.connect!r}")
        a.host, a.port = host, int(port)
        if a.servername is None:
            a.servername = host
    for flag, feature in used:
        if caps.get(feature) is not True:
            raise UsageError(f"{flag}: not applicable: {caps.get(feature)}")
    return a


def main(impl_name, caps_fn, server_fn, client_fn, argv=None):
    """Dispatch `caps|server|client [flags]`; exit 2 on a usage error."""
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in ("caps", "server", "client"):
        print(f"usage: {impl_name} caps|server|client [flags]", file=sys.stderr)
        sys.exit(2)
    install_signal_handlers()
    caps = caps_fn()
    for k in FEATURES:
        assert k in caps["features"], k
    if argv[0] == "caps":
        print(json.dumps(caps), flush=True)
        sys.exit(0)
    try:
        opts = parse_args(argv[0], argv[1:], caps["features"])
    except UsageError as e:
        print(f"{impl_name}: usage: {e}", file=sys.stderr)
        sys.exit(2)
    fn = server_fn if argv[0] == "server" else client_fn
    ok = fn(opts, caps)
    sys.exit(0 if ok else 1)


# ---------------------------------------------------------------------------
# data plane and reports
# ---------------------------------------------------------------------------

def pattern(n, start=0):
    """Bytes start..start+n-1 of the pattern (byte i is i % 251)."""
    block = bytes(range(251))
    s = start % 251
    reps = (s + n) // 251 + 1
    return (block * reps)[s:s + n]


REPORT_KEYS = ["role", "impl", "conn", "ok", "error", "alert", "version", "cipher", "group",
               "resumed", "early_data", "alpn", "server_name", "peer_certs", "ocsp_stapled",
               "key_updates_sent", "sent", "received", "echo_ok", "close"]


class Report(dict):
    def __init__(self, role, impl, conn):
        super().__init__((k, None) for k in REPORT_KEYS)
        self.update(role=role, impl=impl, conn=conn, ok=False)

    def emit(self):
        print(json.dumps({k: self[k] for k in REPORT_KEYS}), flush=True)


def print_accept(host, port):
    print(f"ACCEPT {host}:{port}", flush=True)


# ---------------------------------------------------------------------------
# processes
# ---------------------------------------------------------------------------

_children = []
_children_lock = threading.Lock()


def kill_children():
    with _children_lock:
        kids = list(_children)
    for c in kids:
        c.kill()


def install_signal_handlers():
    def handler(signum, frame):
        kill_children()
        os._exit(128 + signum)
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, handler)


atexit.register(kill_children)


def _die_with_parent():
    """In the child before exec: SIGKILL when the wrapper dies, even by
    SIGKILL (prctl PR_SET_PDEATHSIG), so no tool outlives its wrapper."""
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass


class Child:
    """A tool process: stdin a pipe we write, stdout and stderr read by
    threads into buffers (or stdout handed to `on_stdout`)."""

    def __init__(self, argv, on_stdout=None, env=None, cwd=None):
        self.argv = [str(a) for a in argv]
        # The tool stays in our process group: the matrix tests truncation
        # by SIGKILLing the group, which must take the tool with us (a tool
        # left alive would see its stdin close and send close_notify).
        self.p = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, env=env, cwd=cwd,
                                  preexec_fn=_die_with_parent)
        with _children_lock:
            _children.append(self)
        self.cond = threading.Condition()
        self.out = bytearray()
        self.err = bytearray()
        self.out_eof = self.err_eof = False
        self.on_stdout = on_stdout
        self.t_out = threading.Thread(target=self._drain, args=(self.p.stdout, "out"),
                                      daemon=True)
        self.t_err = threading.Thread(target=self._drain, args=(self.p.stderr, "err"),
                                      daemon=True)
        self.t_out.start()
        self.t_err.start()

    def _drain(self, f, which):
        fd = f.fileno()
        while True:
            try:
                b = os.read(fd, 65536)
            except OSError:
                b = b""
            if which == "out" and self.on_stdout is not None and b:
                self.on_stdout(b)
            with self.cond:
                if not b:
                    setattr(self, which + "_eof", True)
                    self.cond.notify_all()
                    return
                getattr(self, which).extend(b)
                self.cond.notify_all()

    def write(self, data):
        try:
            self.p.stdin.write(data)
            self.p.stdin.flush()
            return True
        except (BrokenPipeError, OSError, ValueError):
            return False

    def close_stdin(self):
        try:
            self.p.stdin.close()
        except (BrokenPipeError, OSError):
            pass

    def stdin_pending(self):
        try:
            return pipe_pending(self.p.stdin.fileno())
        except (OSError, ValueError):
            return 0

    def wait_for(self, pred, deadline):
        """Wait until pred() (called under the lock) is true or the deadline
        (time.monotonic()) passes; returns pred()'s last value."""
        with self.cond:
            while True:
                v = pred()
                if v:
                    return v
                left = deadline - time.monotonic()
                if left <= 0:
                    return v
                self.cond.wait(min(left, 0.05))

    def wait_progress(self, done, progress, timeout):
        """Wait until done() (called under the lock); each wait ends after
        `timeout` seconds without progress (a change of progress()): the
        protocol's --timeout is per wait, so a long transfer that keeps
        moving is not cut off.  Returns done()'s last value."""
        while True:
            mark = progress()
            v = self.wait_for(lambda: done() or progress() != mark,
                              time.monotonic() + timeout)
            if done() or progress() == mark:
                return done() if v else v

    def alive(self):
        return self.p.poll() is None

    def wait(self, deadline):
        try:
            rc = self.p.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.kill()
            rc = self.p.wait()
        self.t_out.join(1)
        self.t_err.join(1)
        return rc

    def kill(self):
        if self.p.poll() is None:
            try:
                self.p.kill()
            except (ProcessLookupError, PermissionError):
                pass
            try:
                self.p.wait(2)
            except subprocess.TimeoutExpired:
                pass
        with _children_lock:
            if self in _children:
                _children.remove(self)

    def stderr_text(self):
        with self.cond:
            return self.err.decode("utf-8", "replace")


class Watchdog:
    """Shuts the TCP connection down after `timeout` seconds without
    progress (kick() marks progress), so that no blocking library call can
    hang the peer; paused while --hold waits on stdin."""

    def __init__(self, sock, timeout):
        self.s = sock.dup()
        self.timeout = timeout
        self.last = time.monotonic()
        self.paused = False
        self.done = threading.Event()
        self.fired = False
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        while not self.done.wait(0.1):
            if not self.paused and time.monotonic() - self.last > self.timeout:
                self.fired = True
                try:
                    self.s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return

    def kick(self):
        self.last = time.monotonic()

    def pause(self):
        self.paused = True

    def resume(self, timeout=None):
        self.kick()
        self.paused = False

    def stop(self):
        self.done.set()
        self.t.join(1)
        self.s.close()


def pipe_pending(fd):
    """Bytes waiting in a pipe (either end): FIONREAD."""
    return struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0"))[0]


def free_port(host="127.0.0.1"):
    s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    s.bind((host, 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _listening(port):
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(name) as f:
                next(f)
                for line in f:
                    parts = line.split()
                    local, state = parts[1], parts[3]
                    if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                        return True
        except OSError:
            pass
    return False


def wait_listening(port, child, deadline):
    """True once something listens on `port` (without connecting to it),
    False if `child` exits or the deadline passes first."""
    while time.monotonic() < deadline:
        if _listening(port):
            return True
        if not child.alive():
            return False
        time.sleep(0.02)
    return False


def first_error_line(text):
    """The most telling line of a tool's stderr: the first one that says
    error, else the last non-empty one; None for nothing."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    for ln in lines:
        if ":error:" in ln:
            return ln[:300]
    for ln in lines:
        if ln == "ERROR":
            continue
        if re.search(r"error", ln, re.I):
            return ln[:300]
    return lines[-1][:300] if lines else None


# ---------------------------------------------------------------------------
# TLS 1.3 handshake messages (the body after the 4-byte header)
# ---------------------------------------------------------------------------

def _u16(b, i):
    return (b[i] << 8) | b[i + 1]


def _u24(b, i):
    return (b[i] << 16) | (b[i + 1] << 8) | b[i + 2]


def _extensions(b, i):
    """{type: data} of an extensions block starting at b[i] (2-byte length)."""
    out = {}
    if i + 2 > len(b):
        return out
    end = i + 2 + _u16(b, i)
    i += 2
    while i + 4 <= end and i + 4 <= len(b):
        t, n = _u16(b, i), _u16(b, i + 2)
        out[t] = bytes(b[i + 4:i + 4 + n])
        i += 4 + n
    return out


def parse_server_hello(body):
    """cipher, group, version, psk (resumed), hrr of a ServerHello body."""
    try:
        random = body[2:34]
        sid_len = body[34]
        i = 35 + sid_len
        suite = _u16(body, i)
        ext = _extensions(body, i + 3)
        hrr = random == HRR_RANDOM
        group = None
        if 0x0033 in ext and len(ext[0x0033]) >= 2:
            group = GROUPS.get(_u16(ext[0x0033], 0), "0x%04x" % _u16(ext[0x0033], 0))
        version = None
        if 0x002b in ext and len(ext[0x002b]) == 2:
            v = _u16(ext[0x002b], 0)
            version = {0x0304: "TLSv1.3", 0x0303: "TLSv1.2"}.get(v, "0x%04x" % v)
        elif _u16(body, 0) == 0x0303:
            version = "TLSv1.2"
        return {"cipher": SUITES.get(suite, "0x%04x" % suite), "group": group,
                "version": version, "psk": 0x0029 in ext, "hrr": hrr}
    except IndexError:
        return {}


def parse_client_hello(body):
    """server_name, early_data offered, psk offered of a ClientHello body."""
    try:
        sid_len = body[34]
        i = 35 + sid_len
        i += 2 + _u16(body, i)          # cipher suites
        i += 1 + body[i]                # compression methods
        ext = _extensions(body, i)
        name = None
        sni = ext.get(0x0000)
        if sni and len(sni) >= 5 and sni[2] == 0:
            n = _u16(sni, 3)
            name = sni[5:5 + n].decode("ascii", "replace")
        return {"server_name": name, "early_data": 0x002a in ext, "psk": 0x0029 in ext,
                "status_request": 0x0005 in ext}
    except IndexError:
        return {}


def parse_encrypted_extensions(body):
    ext = _extensions(body, 0)
    alpn = None
    a = ext.get(0x0010)
    if a and len(a) >= 3:
        alpn = a[3:3 + a[2]].decode("ascii", "replace")
    return {"alpn": alpn, "early_data": 0x002a in ext}


def parse_certificate(body):
    """Number of certificate entries and whether the first one carries an
    OCSP staple (status_request extension, RFC 8446 §4.4.2.1)."""
    try:
        i = 1 + body[0]                 # certificate_request_context
        end = i + 3 + _u24(body, i)
        i += 3
        n = 0
        stapled = False
        while i + 3 <= end:
            clen = _u24(body, i)
            i += 3 + clen
            ext = _extensions(body, i)
            if n == 0:
                stapled = 0x0005 in ext
            i += 2 + _u16(body, i)
            n += 1
        return {"certs": n, "stapled": stapled}
    except IndexError:
        return {"certs": None, "stapled": None}
