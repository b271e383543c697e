#!/usr/bin/env python3
"""interop/peers/PROTOCOL.md for OpenSSL's `openssl s_server` / `s_client`.

    python3 interop/peers/wrap/openssl.py caps|server|client [flags]

The tools run with `-msg -msgfile FILE`: every handshake message and alert
each side sends or receives is logged there in hex, so the report fields
(version, cipher, group, HRR, resumption, ALPN, early data, certificates,
OCSP staple, KeyUpdates, alerts, close_notify) are decoded from the messages
the tool itself logged, never from what was asked for.  See README.md.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
from common import (ALERTS, Child, Report, first_error_line, free_port, parse_certificate,  # noqa: E402
                    parse_client_hello, parse_encrypted_extensions, parse_server_hello,
                    pattern, print_accept, wait_listening)

IMPL = "openssl"
OPENSSL = os.environ.get("FERRULE_OPENSSL_BIN") or shutil.which("openssl") or "openssl"
GROUP_ARG = {"x25519": "X25519", "secp256r1": "P-256", "secp384r1": "P-384"}
RSL_REASON = ("OpenSSL 3.0 does not implement the record_size_limit extension (RFC 8449): "
              "s_client/s_server cannot send it")


def version():
    try:
        out = subprocess.run([OPENSSL, "version"], capture_output=True, text=True,
                             timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        out = ""
    return out or None


def caps():
    return {"impl": IMPL, "version": version(),
            "features": {"suites": True, "groups": True, "hrr": True, "resumption": True,
                         "early_data": True, "key_update": True, "client_auth": True,
                         "alpn": True, "sni": True, "ocsp": True,
                         "record_size_limit": RSL_REASON}}


# ---------------------------------------------------------------------------
# the -msg log
# ---------------------------------------------------------------------------

HEADER = re.compile(r"^(<<<|>>>) ([^,\n]*), (\w+) \[length ([0-9a-f]+)\](?:, ([^\n]*))?$")
HEXLINE = re.compile(r"^\s+((?:[0-9a-f]{2} ?)+)\s*$")
HS_TYPES = {1: "ClientHello", 2: "ServerHello", 4: "NewSessionTicket", 5: "EndOfEarlyData",
            8: "EncryptedExtensions", 11: "Certificate", 13: "CertificateRequest",
            15: "CertificateVerify", 20: "Finished", 24: "KeyUpdate"}


class MsgLog:
    """Incremental reader of an `-msgfile`: a list of (dir, kind, bytes)
    with dir '>>>' (sent) or '<<<' (received), kind 'Alert' or a handshake
    message name; complete entries only."""

    def __init__(self, path):
        self.path = path
        self.entries = []
        self._pos = 0
        self._partial = ""
        self._lock = threading.Lock()

    def poll(self):
        with self._lock:
            self._poll()
            return list(self.entries)

    def _poll(self):
        try:
            with open(self.path, "r", errors="replace") as f:
                f.seek(self._pos)
                chunk = f.read()
                self._pos = f.tell()
        except FileNotFoundError:
            return
        text = self._partial + chunk
        blocks = re.split(r"(?m)^(?=<<<|>>>)", text)
        self._partial = ""
        for i, b in enumerate(blocks):
            if not b.strip():
                continue
            lines = b.rstrip("\n").split("\n")
            m = HEADER.match(lines[0])
            if not m:
                if i == len(blocks) - 1 and not b.endswith("\n"):
                    self._partial = b
                continue
            length = int(m.group(4), 16)
            data = bytearray()
            for ln in lines[1:]:
                h = HEXLINE.match(ln)
                if h:
                    data.extend(bytes.fromhex(h.group(1)))
            if len(data) < length or (i == len(blocks) - 1 and not b.endswith("\n")):
                self._partial = b           # still being written
                continue
            kind = m.group(3)
            if kind == "Handshake" and data:
                kind = HS_TYPES.get(data[0], "hs%d" % data[0])
            elif kind not in ("Alert",):
                continue
            self.entries.append((m.group(1), kind, bytes(data)))


def conn_starts(entries):
    """Indexes of the entries that begin a server connection: a ClientHello
    that does not answer a HelloRetryRequest."""
    starts = []
    hrr_last = False
    for i, (d, kind, data) in enumerate(entries):
        if kind == "ClientHello" and not hrr_last:
            starts.append(i)
        if kind == "ServerHello" and d == ">>>":
            hrr_last = bool(parse_server_hello(data[4:]).get("hrr"))
        elif kind == "ClientHello":
            hrr_last = False
    return starts


def summarize(entries, role):
    """Report fields of one connection from its messages."""
    own, peer = (">>>", "<<<")
    s = {"hrr": False, "handshake_done": False, "alert": None, "alert_dir": None,
         "close_notify_in": False, "close_notify_out": False, "key_updates_sent": 0,
         "early_offered": False, "early_accepted": False, "peer_certs": 0,
         "ocsp_stapled": False, "server_name": None, "version": None, "cipher": None,
         "group": None, "resumed": None, "alpn": None}
    sh_dir = "<<<" if role == "client" else ">>>"
    for d, kind, data in entries:
        body = data[4:]
        if kind == "ServerHello" and d == sh_dir:
            sh = parse_server_hello(body)
            if sh.get("hrr"):
                s["hrr"] = True
                continue
            s.update(version=sh.get("version"), cipher=sh.get("cipher"),
                     group=sh.get("group"), resumed=sh.get("psk"))
        elif kind == "ClientHello":
            ch = parse_client_hello(body)
            s["early_offered"] = bool(ch.get("early_data"))
            s["server_name"] = ch.get("server_name")
        elif kind == "EncryptedExtensions":
            ee = parse_encrypted_extensions(body)
            s["alpn"] = ee["alpn"]
            s["early_accepted"] = ee["early_data"]
        elif kind == "Certificate" and d == peer:
            c = parse_certificate(body)
            s["peer_certs"] = c["certs"]
            if role == "client":
                s["ocsp_stapled"] = c["stapled"]
        elif kind == "Finished":
            if (role == "client" and d == own) or (role == "server" and d == peer):
                s["handshake_done"] = True
        elif kind == "KeyUpdate" and d == own:
            s["key_updates_sent"] += 1
        elif kind == "Alert" and len(data) >= 2:
            name = ALERTS.get(data[1], "alert_%d" % data[1])
            if data[1] == 0:
                s["close_notify_in" if d == peer else "close_notify_out"] = True
            elif s["alert"] is None:
                s["alert"], s["alert_dir"] = name, d
    if not s["early_offered"]:
        s["early_data"] = "not_offered"
    else:
        s["early_data"] = "accepted" if s["early_accepted"] else "rejected"
    return s


def fill_report(r, s, role):
    r.update(version=s["version"], cipher=s["cipher"], group=s["group"],
             resumed=s["resumed"], early_data=s["early_data"], alpn=s["alpn"],
             peer_certs=s["peer_certs"], key_updates_sent=s["key_updates_sent"],
             alert=s["alert"])
    if role == "client":
        r["ocsp_stapled"] = s["ocsp_stapled"]
        r["server_name"] = s["server_name"]
    else:
        r["server_name"] = s["server_name"]


def split_chain(path, tmp, name):
    """(leaf file, rest-of-chain file or None) from a PEM chain."""
    text = open(path).read()
    certs = re.findall(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", text, re.S)
    if not certs:
        return path, None
    leaf = os.path.join(tmp, name + ".leaf.pem")
    with open(leaf, "w") as f:
        f.write(certs[0] + "\n")
    if len(certs) == 1:
        return leaf, None
    rest = os.path.join(tmp, name + ".rest.pem")
    with open(rest, "w") as f:
        f.write("\n".join(certs[1:]) + "\n")
    return leaf, rest


def common_args(o):
    a = ["-tls1_3"]
    if o.suites:
        a += ["-ciphersuites", ":".join(o.suites)]
    if o.groups:
        missing = [g for g in o.groups if g not in GROUP_ARG]
        if missing:
            raise common.UsageError(f"--groups {','.join(missing)}: not in OpenSSL 3.0")
        a += ["-groups", ":".join(GROUP_ARG[g] for g in o.groups)]
    if o.alpn:
        a += ["-alpn", ",".join(o.alpn)]
    return a


def usage_exit(e):
    print(f"{IMPL}: usage: {e}", file=sys.stderr)
    sys.exit(2)


# s_client treats a stdin read that starts with one of these as a command
# when command letters are on (they are only for --key-update).
CLIENT_CMD_BYTES = set(b"QRKk")
# s_server without -quiet: Q q r R K k c P S at the start of a stdin read.
SERVER_CMD_BYTES = set(b"QqrRKkcPS")


def gated_write(child, data, unsafe, deadline):
    """Write `data` so that every read the tool makes of its stdin starts
    with a byte that is not a command letter: pieces of at most 4096 bytes
    (atomic on a pipe), each written once the pipe is empty, each starting
    at a safe byte.  Returns False when the tool stops reading, or when
    data[0] itself is a command letter."""
    i = 0
    n = len(data)
    if n and data[0] in unsafe:
        return False
    while i < n:
        j = min(n, i + 4096)
        # end the piece early so that the next one starts at a safe byte
        while j < n and data[j] in unsafe and j > i + 1:
            j -= 1
        while child.stdin_pending() > 0:
            if time.monotonic() > deadline or not child.alive():
                return False
            time.sleep(0.0005)
        if not child.write(data[i:j]):
            return False
        i = j
    return True


def last_safe(data, unsafe):
    """The largest index j > 0 with data[j] not a command letter, or 0."""
    for j in range(len(data) - 1, 0, -1):
        if data[j] not in unsafe:
            return j
    return 0


# ---------------------------------------------------------------------------
# client
# ---------------------------------------------------------------------------

def client(o, caps_):
    tmp = tempfile.mkdtemp(prefix="wrap-openssl-")
    try:
        base = [OPENSSL, "s_client", "-connect", f"{o.host}:{o.port}",
                "-servername", o.servername, "-verify_hostname", o.servername,
                "-CAfile", o.ca, "-verify_return_error", "-quiet", "-no_ign_eof",
                "-msg"]
        try:
            base += common_args(o)
        except common.UsageError as e:
            usage_exit(e)
        if not o.key_update:
            base.append("-nocommands")
        if o.cert:
            leaf, rest = split_chain(o.cert, tmp, "client")
            base += ["-cert", leaf, "-key", o.key]
            if rest:
                base += ["-cert_chain", rest]
        if o.ocsp:
            base.append("-status")
        sess = None
        all_ok = True
        for k in range(1, o.count + 1):
            ok, new_sess = client_conn(o, base, tmp, k, sess)
            all_ok &= ok
            if new_sess:
                sess = new_sess
        return all_ok
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def client_conn(o, base, tmp, k, sess):
    r = Report("client", IMPL, k)
    deadline = time.monotonic() + o.timeout
    msg = os.path.join(tmp, f"c{k}.msg")
    sess_out = os.path.join(tmp, f"sess{k}.pem")
    argv = base + ["-msgfile", msg, "-sess_out", sess_out]
    data = pattern(o.send_bytes)
    early_n = 0
    if sess:
        argv += ["-sess_in", sess]
        if o.early_data_bytes:
            early_n = o.early_data_bytes
            ef = os.path.join(tmp, f"early{k}.bin")
            with open(ef, "wb") as f:
                f.write(data[:early_n])
            argv += ["-early_data", ef]
    log = MsgLog(msg)
    c = Child(argv)

    def state():
        return summarize(log.poll(), "client")

    def hs_over():
        s = state()
        return s["handshake_done"] or s["alert"] or not c.alive()

    c.wait_for(hs_over, deadline)
    s = state()
    sent = 0
    if s["handshake_done"] and c.alive():
        if o.key_update:
            c.write(b"K")
            c.wait_for(lambda: b"KEYUPDATE" in c.err and state()["key_updates_sent"] >= 1,
                       deadline)
        s = state()
        rest = data[early_n:] if (early_n and s["early_data"] == "accepted") else data
        sent = len(data) - len(rest)   # early data the server took
        if o.key_update:
            writer = threading.Thread(
                target=lambda: gated_write(c, rest, CLIENT_CMD_BYTES, deadline), daemon=True)
        else:
            writer = threading.Thread(target=lambda: c.write(rest), daemon=True)
        if rest:
            writer.start()
        sent += len(rest)
        want = len(data)
        c.wait_progress(lambda: len(c.out) >= want or not c.alive(), lambda: len(c.out),
                        o.timeout)
        deadline = time.monotonic() + o.timeout
        got = bytes(c.out[:want])
        r["received"] = len(c.out)
        r["echo_ok"] = got == data and len(c.out) == want
        if o.hold and r["echo_ok"]:
            print("ECHOED", flush=True)
            sys.stdin.buffer.read()
        if rest:
            writer.join(max(0.0, deadline - time.monotonic()))
    else:
        r["received"] = len(c.out)
        r["echo_ok"] = False if o.send_bytes else None
    exited_first = not c.alive()
    c.close_stdin()
    rc = c.wait(time.monotonic() + o.timeout)
    s = state()
    err = c.stderr_text()
    fill_report(r, s, "client")
    r["sent"] = sent
    r["server_name"] = o.servername if s["server_name"] else None
    if s["close_notify_in"]:
        r["close"] = "close_notify"
    elif re.search(r"unexpected eof", err):
        r["close"] = "eof"
    elif rc != 0 or s["alert"]:
        r["close"] = "error"
    else:
        # After its own close_notify, s_client drains the socket below TLS:
        # the server's close_notify is never shown.
        r["close"] = None
    ok = (rc == 0 and s["handshake_done"] and not s["alert"] and r["echo_ok"] is not False
          and s["close_notify_out"] and r["close"] in (None, "close_notify")
          and not (exited_first and o.send_bytes))
    r["ok"] = bool(ok)
    if not ok:
        r["error"] = first_error_line(err) or ("timeout" if time.monotonic() > deadline
                                               else f"s_client exit status {rc}")
    r.emit()
    new_sess = sess_out if os.path.exists(sess_out) and os.path.getsize(sess_out) else None
    return bool(ok), new_sess


# ---------------------------------------------------------------------------
# server
# ---------------------------------------------------------------------------

class Echo:
    """s_server's stdout fed back into its stdin by a writer thread.  In
    command mode (s_server without -quiet, for --key-update) s_server's own
    lines are removed from the stream first and every write is gated so
    that no stdin read starts with a command letter."""

    MARKERS = [b"SSL_do_handshake -> 1\n", b"SSL_do_handshake -> 0\n",
               b"SSL_do_handshake -> -1\n", b"Read BLOCK\n", b"Write BLOCK\n"]
    INFO_END = re.compile(rb"Secure Renegotiation IS(?: NOT)? supported\n"
                          rb"(?:Renegotiation is DISABLED\n)?")
    EARLY_START = b"Early data received:\n"
    EARLY_END = b"\nEnd of early data\n"
    CONN_END = b"CONNECTION CLOSED\n"

    def __init__(self, command_mode):
        self.command_mode = command_mode
        self.cond = threading.Condition()
        self.queue = bytearray()
        self.gate = not command_mode
        # The data is one stream over all connections; each connection's
        # part of it is a range [start, end), attributed when it is read
        # (s_server logs a connection's ClientHello before any of its data).
        self.conn_index = lambda: 0
        self.total_in = 0      # stream offset after the last data byte read
        self.taken = 0         # stream offset of queue[0]
        self.ranges = {}
        self.received = {}
        self.sent = {}
        self.state = "text"
        self.buf = bytearray()
        self.child = None
        self.stop = False

    def on_stdout(self, b):
        k = self.conn_index()
        with self.cond:
            self.cur = k
            if not self.command_mode:
                self._data(b)
            else:
                self.buf.extend(b)
                self._parse()
            self.cond.notify_all()

    def _data(self, b):
        if not b:
            return
        k = self.cur
        rng = self.ranges.setdefault(k, [self.total_in, self.total_in])
        self.total_in += len(b)
        rng[1] = self.total_in
        self.received[k] = self.received.get(k, 0) + len(b)
        self.queue.extend(b)

    def _credit(self, start, end):
        for k, (a, b) in self.ranges.items():
            n = min(end, b) - max(start, a)
            if n > 0:
                self.sent[k] = self.sent.get(k, 0) + n

    def discard(self, k):
        """Drop what is still queued of connection k (it came after the
        client's close_notify: it must not reach the next connection)."""
        if k in self.ranges:
            n = self.ranges[k][1] - self.taken
            if n > 0:
                del self.queue[:n]
                self.taken += n

    def _parse(self):
        while self.buf:
            if self.state == "text":
                m = self.INFO_END.search(self.buf)
                e = self.buf.find(self.EARLY_START)
                if e >= 0 and (not m or e < m.start()):
                    del self.buf[:e + len(self.EARLY_START)]
                    self.state = "early"
                    continue
                if not m:
                    return
                del self.buf[:m.end()]
                self.state = "data"
            elif self.state == "early":
                e = self.buf.find(self.EARLY_END)
                if e < 0:
                    self._data(bytes(self.buf))
                    self.buf.clear()
                    return
                self._data(bytes(self.buf[:e]))
                del self.buf[:e + len(self.EARLY_END)]
                self.state = "text"
            else:
                e = self.buf.find(b"DONE\nshutting down SSL\n")
                if e < 0:
                    e = self.buf.find(b"shutting down SSL\n")
                if e >= 0:
                    self._data(self._strip(bytes(self.buf[:e])))
                    del self.buf[:e]
                    self.state = "text"
                    self.gate = False
                    continue
                # s_server flushes "DONE\n" on its own before "shutting
                # down SSL": keep it back (the pattern never holds it)
                keep = 5 if self.buf.endswith(b"DONE\n") else 0
                self._data(self._strip(bytes(self.buf[:len(self.buf) - keep])))
                del self.buf[:len(self.buf) - keep]
                return

    def _strip(self, b):
        for m in self.MARKERS:
            b = b.replace(m, b"")
        return b

    def writer(self):
        while True:
            with self.cond:
                while not self.stop and not (self.gate and self.queue):
                    self.cond.wait(0.05)
                if self.stop:
                    return
                if self.command_mode:
                    # keep back the tail from the last safe byte on, so the
                    # next write starts safely; after 20 ms without more
                    # data, write it all
                    j = last_safe(self.queue, SERVER_CMD_BYTES)
                    if j == 0 or j == len(self.queue):
                        t_end = time.monotonic() + 0.02
                        n0 = len(self.queue)
                        while (not self.stop and len(self.queue) == n0
                               and time.monotonic() < t_end):
                            self.cond.wait(0.005)
                        j = last_safe(self.queue, SERVER_CMD_BYTES)
                        if len(self.queue) == n0:
                            j = n0
                    data = bytes(self.queue[:j])
                    del self.queue[:j]
                else:
                    data = bytes(self.queue)
                    self.queue.clear()
                start = self.taken
                self.taken += len(data)
            if self.command_mode:
                okw = gated_write(self.child, data, SERVER_CMD_BYTES,
                                  time.monotonic() + 3600)
            else:
                okw = self.child.write(data)
            with self.cond:
                self._credit(start, start + len(data))
                self.cond.notify_all()
            if not okw:
                return

    def open_gate(self):
        with self.cond:
            self.gate = True
            self.cond.notify_all()

    def idle(self):
        return not self.queue and self.child.stdin_pending() == 0


def server(o, caps_):
    tmp = tempfile.mkdtemp(prefix="wrap-openssl-")
    try:
        return _server(o, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _server(o, tmp):
    port = o.listen_port or free_port(o.listen_host)
    msg = os.path.join(tmp, "s.msg")
    leaf, rest = split_chain(o.cert, tmp, "server")
    argv = [OPENSSL, "s_server", "-accept", f"{o.listen_host}:{port}", "-cert", leaf,
            "-key", o.key, "-naccept", str(o.count), "-msg", "-msgfile", msg]
    if rest:
        argv += ["-cert_chain", rest]
    try:
        argv += common_args(o)
    except common.UsageError as e:
        usage_exit(e)
    if not o.key_update:
        argv.append("-quiet")
    elif o.early_data is not None:
        usage_exit("--key-update with --early-data: s_server needs command mode for the "
                   "KeyUpdate, and its early data output is then not separable from the data")
    if o.verify_client == "require":
        argv += ["-Verify", "1", "-verify_return_error", "-CAfile", o.ca]
    elif o.ca:
        argv += ["-CAfile", o.ca]
    if o.early_data is not None:
        argv += ["-early_data", "-max_early_data", str(o.early_data)]
    if o.ocsp:
        argv += ["-status_file", o.ocsp]
    echo = Echo(command_mode=o.key_update)
    c = Child(argv, on_stdout=echo.on_stdout)
    echo.child = c
    wt = threading.Thread(target=echo.writer, daemon=True)
    wt.start()
    log = MsgLog(msg)
    if not wait_listening(port, c, time.monotonic() + max(o.timeout, 10)):
        print(f"{IMPL}: s_server did not start: {first_error_line(c.stderr_text())}",
              file=sys.stderr)
        c.kill()
        return False
    print_accept(o.listen_host, port)
    echo.conn_index = lambda: len(conn_starts(log.poll()))
    all_ok = True
    err_pos = 0
    for k in range(1, o.count + 1):
        r = Report("server", IMPL, k)

        def conn_entries():
            ents = log.poll()
            st = conn_starts(ents)
            if len(st) < k:
                return []
            return ents[st[k - 1]:st[k] if len(st) > k else len(ents)]

        def begun():
            return bool(conn_entries()) or not c.alive()

        # wait for the client (no deadline: the server waits for its client)
        c.wait_for(begun, float("inf"))
        deadline = time.monotonic() + o.timeout
        ku_done = not o.key_update

        def ended():
            s = summarize(conn_entries(), "server")
            if s["close_notify_out"] or s["alert"]:
                return True
            if len(c.err) > err_pos and re.search(rb"error|ERROR", bytes(c.err[err_pos:])):
                return True
            return not c.alive()

        moved = (0, 0)
        while True:
            if c.wait_for(ended, min(deadline, time.monotonic() + 0.05)):
                break
            now_moved = (echo.total_in, len(log.poll()))
            if now_moved != moved:      # --timeout is per wait: data moves
                moved = now_moved
                deadline = time.monotonic() + o.timeout
            if time.monotonic() > deadline:
                break
            if not ku_done:
                s = summarize(conn_entries(), "server")
                if s["handshake_done"]:
                    c.write(b"K\n")
                    c.wait_for(lambda: summarize(conn_entries(), "server")["key_updates_sent"]
                               >= 1 or ended(), deadline)
                    ku_done = True
                    echo.open_gate()
        timed_out = not ended()
        if not summarize(conn_entries(), "server")["close_notify_in"]:
            # the reason comes on stderr just after the alert
            c.wait_for(lambda: b":error:" in bytes(c.err[err_pos:]), time.monotonic() + 0.5)
        # let the echo of this connection settle
        c.wait_for(lambda: echo.idle(), time.monotonic() + 0.5)
        ents = conn_entries()
        s = summarize(ents, "server")
        fill_report(r, s, "server")
        with echo.cond:
            # data that came too late to be echoed on this connection (after
            # the client's close_notify) must not leak into the next one
            echo.discard(k)
            r["received"] = echo.received.get(k, 0)
            r["sent"] = max(0, echo.sent.get(k, 0) - c.stdin_pending())
            if echo.command_mode:
                echo.gate = False
        err = bytes(c.err[err_pos:]).decode("utf-8", "replace")
        err_pos = len(c.err)
        if s["close_notify_in"]:
            r["close"] = "close_notify"
        elif re.search(r"unexpected eof", err):
            r["close"] = "eof"
        else:
            r["close"] = "error"
        ok = s["handshake_done"] and s["close_notify_in"] and not s["alert"] and not timed_out
        r["ok"] = bool(ok)
        if not ok:
            r["error"] = first_error_line(err) or ("timeout" if timed_out else
                                                   "connection failed")
            if timed_out:
                r["close"] = "error"
        r.emit()
        all_ok &= bool(ok)
        if timed_out:
            break
    rc = c.wait(time.monotonic() + 5)
    with echo.cond:
        echo.stop = True
        echo.cond.notify_all()
    return all_ok and rc == 0


if __name__ == "__main__":
    common.main(IMPL, caps, server, client)
