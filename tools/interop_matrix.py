#!/usr/bin/env python3
"""The interop matrix: ferrule against every major TLS 1.3 implementation.

    tools/interop_matrix.py [--strict] [--peers a,b] [--flows x,y] [--jobs N]
                            [--out FILE] [--logs DIR] [--ferrule BIN]

Every cell is one (peer, role, flow): `role` is ferrule's role, the peer
takes the other.  The ferrule side is always the `ferrule` CLI, which writes
one JSON line per connection with `--report`; every peer speaks the peer
protocol of interop/peers/PROTOCOL.md (ours natively, packaged tools through
the wrappers in interop/peers/wrap/) and writes the same kind of line.  A
cell passes only when both ends' reports say what the flow requires.  A
cell is n.a. when the peer's `caps` names a reason (or a reason in NA below
does); every n.a. carries its reason.

Output: the Markdown matrix (--out, default build/interop-matrix/interop-matrix.md;
`make interop-matrix` writes docs/interop-matrix.md), summary.json, and the
raw logs of every process of every cell under --logs (default
build/interop-matrix/<peer>/<role>/<flow>/).  --strict: exit status 1 on any
failed cell or any n.a. without a reason.
"""

import argparse
import concurrent.futures
import datetime
import json
import os
import pathlib
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

REPO = pathlib.Path(__file__).resolve().parent.parent
TIMEOUT = 30.0          # seconds for any one process or wait
ACCEPT_RE = re.compile(rb"^ACCEPT\s+(\S+):(\d+)\s*$", re.M)
CACHE = pathlib.Path(os.environ.get("FERRULE_CACHE", pathlib.Path.home() / ".cache" / "ferrule"))

SUITES = ("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256")
GROUPS = ("x25519", "secp256r1", "secp384r1")
ROLES = ("ferrule-client", "ferrule-server")
FEATURES = ("suites", "groups", "hrr", "resumption", "early_data", "key_update", "client_auth",
            "alpn", "sni", "ocsp", "record_size_limit")
BULK = 8 * 1024 * 1024


def pattern(n, start=0):
    """The peer protocol's data: byte i is i % 251."""
    block = bytes(range(251))
    reps = (start + n) // 251 + 2
    return (block * reps)[start % 251:start % 251 + n]


# ---------------------------------------------------------------------------
# Processes
# ---------------------------------------------------------------------------

class Proc:
    """A child in its own process group (wrappers start tools of their own:
    a kill takes the whole group), with stdout/stderr drained by threads and
    saved under the cell's log directory."""

    def __init__(self, argv, logdir, name, stdin=False, env=None):
        self.argv = [str(a) for a in argv]
        self.name = name
        self.logdir = logdir
        self.out = bytearray()
        self.err = bytearray()
        self.cond = threading.Condition()
        self.popen = subprocess.Popen(
            self.argv, stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
            env=env, cwd=REPO)
        self.threads = [threading.Thread(target=self._drain, args=(p, b), daemon=True)
                        for p, b in ((self.popen.stdout, self.out), (self.popen.stderr, self.err))]
        for t in self.threads:
            t.start()

    def _drain(self, pipe, buf):
        while True:
            chunk = pipe.read1(1 << 16)
            with self.cond:
                if chunk:
                    buf.extend(chunk)
                self.cond.notify_all()
            if not chunk:
                return

    def write_all(self, data, close=False):
        """Write in a thread so a peer that reads slowly cannot block us."""
        def run():
            try:
                self.popen.stdin.write(data)
                self.popen.stdin.flush()
                if close:
                    self.popen.stdin.close()
            except (BrokenPipeError, ValueError, OSError):
                pass
        t = threading.Thread(target=run, daemon=True)
        t.start()
        return t

    def close_stdin(self):
        try:
            self.popen.stdin.close()
        except (BrokenPipeError, ValueError, OSError):
            pass

    def wait_out(self, pred, timeout=TIMEOUT):
        """Wait until pred(stdout bytes) is true; False on timeout or exit."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                if pred(bytes(self.out)):
                    return True
                if self.popen.poll() is not None and not any(t.is_alive() for t in self.threads):
                    return pred(bytes(self.out))
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(min(left, 0.05))

    def wait(self, timeout=TIMEOUT):
        try:
            rc = self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            rc = None
        for t in self.threads:
            t.join(2)
        return rc

    def kill(self):
        try:
            os.killpg(self.popen.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.popen.wait(5)
        except subprocess.TimeoutExpired:
            pass

    def save(self):
        self.logdir.mkdir(parents=True, exist_ok=True)
        (self.logdir / f"{self.name}.argv").write_text(" ".join(self.argv) + "\n")
        # Bulk flows echo megabytes: keep the head and the tail of stdout.
        out = bytes(self.out)
        if len(out) > 65536:
            out = out[:32768] + b"\n[... %d bytes ...]\n" % (len(out) - 65536) + out[-32768:]
        (self.logdir / f"{self.name}.stdout").write_bytes(out)
        (self.logdir / f"{self.name}.stderr").write_bytes(bytes(self.err))

    def reports(self):
        """The peer protocol's report lines on stdout."""
        out = []
        for line in bytes(self.out).decode(errors="replace").splitlines():
            line = line.strip()
            if line.startswith("{"):
                try:
                    obj = json.loads(line)
                except ValueError:
                    continue
                if isinstance(obj, dict) and "role" in obj:
                    out.append(obj)
        return out


def read_reports(path):
    if not path.exists():
        return []
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()]


def wait_reports(path, n, timeout=TIMEOUT):
    deadline = time.monotonic() + timeout
    while True:
        r = read_reports(path)
        if len(r) >= n or time.monotonic() > deadline:
            return r
        time.sleep(0.02)


class CellFail(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise CellFail(msg)


# ---------------------------------------------------------------------------
# Peers
# ---------------------------------------------------------------------------

class Peer:
    def __init__(self, key, title, argv=None, build=None, build_note=""):
        self.key = key
        self.title = title
        self.argv = argv            # the command, before caps/server/client
        self.build = build          # callable -> argv, or None
        self.build_note = build_note
        self.error = None           # why the peer could not be prepared
        self.caps = {}
        self.version = None
        self.impl = None

    def prepare(self, logdir):
        try:
            if self.build:
                self.argv = self.build(logdir)
            r = subprocess.run(self.argv + ["caps"], capture_output=True, timeout=60, cwd=REPO)
            if r.returncode != 0:
                raise RuntimeError(f"caps exited {r.returncode}: {r.stderr.decode(errors='replace')[-800:]}")
            caps = json.loads(r.stdout)
            self.impl, self.version = caps.get("impl"), caps.get("version")
            self.caps = caps.get("features", {})
            missing = [f for f in FEATURES if f not in self.caps]
            if missing:
                raise RuntimeError(f"caps lacks {', '.join(missing)}")
            for f, v in self.caps.items():
                if v is not True and not (isinstance(v, str) and v.strip()):
                    raise RuntimeError(f"caps: {f} is neither true nor a reason: {v!r}")
        except Exception as e:  # noqa: BLE001 - reported in the matrix
            self.error = f"{type(e).__name__}: {e}"


def run_logged(argv, logdir, name, timeout=1800, env=None):
    logdir.mkdir(parents=True, exist_ok=True)
    r = subprocess.run([str(a) for a in argv], capture_output=True, timeout=timeout, cwd=REPO,
                       env=env)
    (logdir / f"{name}.log").write_bytes(r.stdout + b"\n--- stderr ---\n" + r.stderr)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, argv))} exited {r.returncode}: "
                           f"{r.stderr.decode(errors='replace')[-800:]}")
    return r.stdout.decode().strip().splitlines()[-1]


def build_go(logdir):
    return [run_logged(["sh", REPO / "interop/peers/go/build.sh"], logdir, "build"), "v1"]


def build_rust(binary):
    def build(logdir):
        d = run_logged(["bash", REPO / "interop/peers/rust/build.sh"], logdir, "build")
        path = pathlib.Path(d) / binary
        if not path.exists():
            raise RuntimeError(f"{path} missing after interop/peers/rust/build.sh")
        return [str(path)]
    return build


def build_wolfssl(logdir):
    return [run_logged(["bash", REPO / "interop/peers/wolfssl/build.sh"], logdir, "build")]


def peers():
    py = sys.executable
    return [
        Peer("openssl", "OpenSSL s_client / s_server", [py, str(REPO / "interop/peers/wrap/openssl.py")],
             build_note="Debian package `openssl`, through interop/peers/wrap/openssl.py"),
        Peer("gnutls", "GnuTLS gnutls-cli / gnutls-serv", [py, str(REPO / "interop/peers/wrap/gnutls.py")],
             build_note="Debian package `gnutls-bin`, through interop/peers/wrap/gnutls.py"),
        Peer("nss", "NSS tstclnt / selfserv", [py, str(REPO / "interop/peers/wrap/nss.py")],
             build_note="Debian package `libnss3-tools`, through interop/peers/wrap/nss.py"),
        Peer("go", "Go crypto/tls", build=build_go,
             build_note="interop/peers/go (`ferrule-go-peer v1`), standard library only"),
        Peer("rustls", "rustls", build=build_rust("ferrule-rustls-peer"),
             build_note="interop/peers/rust (crates.io, Cargo.lock committed)"),
        Peer("s2n", "s2n-tls", build=build_rust("ferrule-s2n-peer"),
             build_note="interop/peers/rust, `s2n-tls` crate (builds s2n-tls itself)"),
        Peer("boring", "BoringSSL", build=build_rust("ferrule-boring-peer"),
             build_note="interop/peers/rust, `boring` crate (Cloudflare's bindings; builds BoringSSL itself)"),
        Peer("wolfssl", "wolfSSL", build=build_wolfssl,
             build_note="interop/peers/wolfssl/peer.c against Debian's `libwolfssl-dev`"),
        Peer("python", "Python ssl", [py, str(REPO / "interop/peers/python/peer.py")],
             build_note="interop/peers/python/peer.py on the interpreter's `ssl` module"),
    ]


# ---------------------------------------------------------------------------
# A cell's context: ferrule and the peer on loopback
# ---------------------------------------------------------------------------

class Cell:
    def __init__(self, h, peer, role, flow):
        self.h, self.peer, self.role, self.flow = h, peer, role, flow
        self.logdir = h.logs / peer.key / role / flow.key
        if self.logdir.exists():
            shutil.rmtree(self.logdir)
        self.logdir.mkdir(parents=True)
        self.procs = []
        self.pki = h.pki
        self.notes = []

    # -- processes --
    def start(self, argv, name, stdin=False):
        p = Proc(argv, self.logdir, name, stdin=stdin)
        self.procs.append(p)
        return p

    def finish(self):
        for p in self.procs:
            if p.popen.poll() is None:
                p.kill()
            for t in p.threads:
                t.join(2)
            p.save()

    def listen_port(self, p):
        if not p.wait_out(lambda b: ACCEPT_RE.search(b) is not None):
            raise CellFail(f"{p.name} printed no ACCEPT line (exit {p.popen.poll()}): "
                           f"{bytes(p.err)[-300:].decode(errors='replace')}")
        return int(ACCEPT_RE.search(bytes(p.out)).group(2))

    # -- ferrule --
    def ferrule_server(self, *extra, conns=1, cert="ecdsa-p256", echo=True):
        report = self.logdir / f"ferrule-server-{len(self.procs)}.jsonl"
        argv = [self.h.ferrule, "server", "--accept", "127.0.0.1:0",
                "--cert", self.pki / f"{cert}.chain.pem", "--key", self.pki / f"{cert}.key",
                "--max-conns", conns, "--report", report, *extra]
        if echo:
            argv.append("--echo")
        p = self.start(argv, "ferrule-server")
        return p, self.listen_port(p), report

    def ferrule_client(self, port, *extra, data=None, hold=False, servername="localhost",
                       name="ferrule-client"):
        """Run one ferrule client connection: send `data` on stdin, wait for
        the same number of bytes back, then end stdin (close_notify).  With
        hold=True, return once the echo is in, stdin still open."""
        data = pattern(1024) if data is None else data
        report = self.logdir / f"{name}.jsonl"
        argv = [self.h.ferrule, "client", f"127.0.0.1:{port}", "--servername", servername,
                "--cafile", self.pki / "root.pem", "--report", report, "--timeout", "20", *extra]
        p = self.start(argv, name, stdin=True)
        writer = p.write_all(data, close=False)
        got = p.wait_out(lambda b: len(b) >= len(data))
        writer.join(TIMEOUT)
        if hold:
            return p, report, got
        p.close_stdin()
        rc = p.wait()
        reps = read_reports(report)
        check(len(reps) == 1, f"{name}: {len(reps)} report lines (exit {rc}): "
              f"{bytes(p.err)[-400:].decode(errors='replace')}")
        rep = reps[0]
        rep["_rc"] = rc
        rep["_echo_ok"] = bytes(p.out) == data
        return rep

    # -- the peer --
    def peer_server(self, *extra, conns=1, cert="ecdsa-p256"):
        argv = self.peer.argv + ["server", "--listen", "127.0.0.1:0",
                                 "--cert", self.pki / f"{cert}.chain.pem",
                                 "--key", self.pki / f"{cert}.key", "--count", conns,
                                 "--timeout", "20", *extra]
        p = self.start(argv, "peer-server")
        return p, self.listen_port(p)

    def peer_client(self, port, *extra, count=1, send=1024, servername="localhost", wait=True):
        argv = self.peer.argv + ["client", "--connect", f"127.0.0.1:{port}",
                                 "--servername", servername, "--ca", self.pki / "root.pem",
                                 "--count", count, "--send-bytes", send, "--timeout", "20", *extra]
        p = self.start(argv, "peer-client", stdin=True)
        if wait:
            p.wait(TIMEOUT + 30)
        return p

    def peer_reports(self, p, n):
        reps = p.reports()
        check(len(reps) >= n, f"{p.name}: {len(reps)} report lines, want {n} (exit "
              f"{p.popen.poll()}): {bytes(p.err)[-400:].decode(errors='replace')}")
        return reps


# ---------------------------------------------------------------------------
# Checks shared by the flows
# ---------------------------------------------------------------------------

def ok_client(rep, what="ferrule client"):
    err = rep.get("error")
    check(rep.get("handshake_ok"), f"{what}: handshake failed: {err}")
    check(rep.get("_rc") == 0, f"{what}: exit {rep.get('_rc')}: {err}")
    check(rep.get("_echo_ok"), f"{what}: echo mismatch ({rep.get('response_bytes')} bytes back)")
    check(rep.get("close") == "close_notify", f"{what}: ended with {rep.get('close')}, not close_notify")


def ok_server(rep, n_bytes=None, what="ferrule server"):
    check(rep.get("handshake_ok"), f"{what}: handshake failed: {rep.get('error')}")
    check(rep.get("error") is None, f"{what}: error {rep.get('error')}")
    if n_bytes is not None:
        check(rep.get("received_bytes") == n_bytes and rep.get("sent_bytes") == n_bytes,
              f"{what}: received {rep.get('received_bytes')}, echoed {rep.get('sent_bytes')}, want {n_bytes}")


def ok_peer(rep, what):
    check(rep.get("ok") is True, f"{what}: not ok: {rep.get('error')} (alert {rep.get('alert')})")
    if rep.get("role") == "client":
        check(rep.get("echo_ok") is True, f"{what}: echo not verified")


def server_side(cell, ferrule_args=(), peer_args=(), count=1, send=1024, cert="ecdsa-p256"):
    """ferrule server, peer client: both reports, checked for a clean echo."""
    _, port, report = cell.ferrule_server(*ferrule_args, conns=count, cert=cert)
    pc = cell.peer_client(port, *peer_args, count=count, send=send)
    mine = wait_reports(report, count)
    check(len(mine) == count, f"ferrule server: {len(mine)} report lines, want {count}")
    theirs = cell.peer_reports(pc, count)
    for i in range(count):
        ok_server(mine[i], send, f"ferrule server (conn {i + 1})")
        ok_peer(theirs[i], f"{cell.peer.key} client (conn {i + 1})")
        check(mine[i].get("close") == "close_notify",
              f"ferrule server (conn {i + 1}): ended with {mine[i].get('close')}")
    return mine, theirs


def client_side(cell, ferrule_args=(), peer_args=(), data=None, cert="ecdsa-p256"):
    """peer server, ferrule client: both reports, checked for a clean echo."""
    ps, port = cell.peer_server(*peer_args, cert=cert)
    rep = cell.ferrule_client(port, *ferrule_args, data=data)
    ok_client(rep)
    ps.wait(TIMEOUT)
    [theirs] = cell.peer_reports(ps, 1)[:1]
    ok_peer(theirs, f"{cell.peer.key} server")
    return rep, theirs


# ---------------------------------------------------------------------------
# Flows
# ---------------------------------------------------------------------------

class Flow:
    def __init__(self, key, title, client=None, server=None, feature=None, na=None):
        self.key, self.title = key, title
        self.fn = {"ferrule-client": client, "ferrule-server": server}
        self.feature = feature  # a caps key, or {role: key}
        self.na = na or {}      # role -> fixed reason

    def needs(self, role):
        if isinstance(self.feature, dict):
            return self.feature.get(role)
        return self.feature


FLOWS = []


def suite_group_flow(suite, group):
    short = {"TLS_AES_128_GCM_SHA256": "aes128", "TLS_AES_256_GCM_SHA384": "aes256",
             "TLS_CHACHA20_POLY1305_SHA256": "chacha20"}[suite]
    key = f"{short}-{group}"

    def client(cell):
        rep, theirs = client_side(cell, ["--ciphersuites", suite, "--groups", group])
        check(rep["cipher_suite"] == suite and rep["group"] == group,
              f"negotiated {rep['cipher_suite']} / {rep['group']}")
        check(theirs.get("cipher") in (None, suite), f"peer reports {theirs.get('cipher')}")
        return f"{suite} {group}"

    def server(cell):
        mine, theirs = server_side(cell, ["--ciphersuites", suite, "--groups", group])
        check(mine[0]["cipher_suite"] == suite and mine[0]["group"] == group,
              f"negotiated {mine[0]['cipher_suite']} / {mine[0]['group']}")
        check(theirs[0].get("cipher") in (None, suite), f"peer reports {theirs[0].get('cipher')}")
        # A peer whose first key share is not `group` went through an HRR.
        return f"{suite} {group}" + (" (after HRR)" if mine[0].get("hrr") else "")

    f = Flow(key, f"{suite} with {group}")
    f.fn = {"ferrule-client": client, "ferrule-server": server}
    FLOWS.append(f)


def build_flows():
    FLOWS.clear()

    def add(key, title, client, server, feature=None, na=None):
        f = Flow(key, title, feature=feature, na=na)
        f.fn = {"ferrule-client": client, "ferrule-server": server}
        FLOWS.append(f)

    # -- a plain handshake and echo; close_notify both ways --
    def basic_c(cell):
        rep, theirs = client_side(cell)
        check(theirs.get("close") in (None, "close_notify"), f"peer saw {theirs.get('close')}")
        return f"{rep['cipher_suite']} {rep['group']}, close_notify both ways"

    def basic_s(cell):
        mine, theirs = server_side(cell)
        check(theirs[0].get("close") in (None, "close_notify"), f"peer saw {theirs[0].get('close')}")
        return f"{mine[0]['cipher_suite']} {mine[0]['group']}, close_notify both ways"

    add("handshake", "Default handshake, 1 KiB echo, close_notify both ways", basic_c, basic_s)

    for s in SUITES:
        for g in GROUPS:
            suite_group_flow(s, g)

    # -- HelloRetryRequest --
    def hrr_c(cell):
        # The peer server takes only secp384r1; ferrule's first share is x25519.
        rep, _ = client_side(cell, ["--groups", "x25519,secp384r1"], ["--groups", "secp384r1"])
        check(rep["hrr"] is True and rep["group"] == "secp384r1",
              f"hrr={rep['hrr']} group={rep['group']}")
        return "peer asked for secp384r1 with an HRR"

    def hrr_s(cell):
        # The peer's own default: every peer's first key share is x25519.
        mine, theirs = server_side(cell, ["--groups", "secp384r1"])
        check(mine[0]["hrr"] is True and mine[0]["group"] == "secp384r1",
              f"hrr={mine[0]['hrr']} group={mine[0]['group']}")
        return "ferrule asked for secp384r1 with an HRR"

    add("hrr", "HelloRetryRequest (the server takes a group the client did not share first)",
        hrr_c, hrr_s, feature={"ferrule-client": "hrr"})  # every client must follow one

    # -- resumption --
    def res_c(cell):
        ps, port = cell.peer_server(conns=2)
        sess = cell.logdir / "session.bin"
        r1 = cell.ferrule_client(port, "--sess-out", sess, name="ferrule-client-1")
        ok_client(r1, "ferrule client (conn 1)")
        check(r1["session_saved"], "no ticket from the peer")
        r2 = cell.ferrule_client(port, "--sess-in", sess, name="ferrule-client-2")
        ok_client(r2, "ferrule client (conn 2)")
        check(r2["resumed"] is True, "second connection not resumed")
        ps.wait(TIMEOUT)
        theirs = cell.peer_reports(ps, 2)
        check(theirs[1].get("resumed") in (None, True), f"peer says resumed={theirs[1].get('resumed')}")
        return "ticket from connection 1 resumed connection 2"

    def res_s(cell):
        mine, theirs = server_side(cell, count=2)
        check(mine[0]["resumed"] is False and mine[1]["resumed"] is True,
              f"resumed: {mine[0]['resumed']}, {mine[1]['resumed']}")
        check(theirs[1].get("resumed") in (None, True), f"peer says resumed={theirs[1].get('resumed')}")
        return "ticket from connection 1 resumed connection 2"

    add("resumption", "Resumption with a ticket (psk_dhe_ke)", res_c, res_s, feature="resumption")

    # -- 0-RTT --
    def early_c(cell):
        ps, port = cell.peer_server("--early-data", "16384", conns=2)
        sess = cell.logdir / "session.bin"
        r1 = cell.ferrule_client(port, "--sess-out", sess, name="ferrule-client-1")
        ok_client(r1, "ferrule client (conn 1)")
        early = cell.logdir / "early.bin"
        early.write_bytes(pattern(512))
        r2 = cell.ferrule_client(port, "--sess-in", sess, "--early-data", early,
                                 data=pattern(512, 512), name="ferrule-client-2")
        check(r2.get("early_data") == "accepted" and r2.get("early_data_bytes") == 512,
              f"early data {r2.get('early_data')} ({r2.get('early_data_bytes')} bytes)")
        # The echo holds the 0-RTT part and the rest, in order.
        check(r2["_rc"] == 0 and r2["response_bytes"] >= 512,
              f"conn 2: exit {r2['_rc']}, {r2['response_bytes']} bytes back: {r2.get('error')}")
        ps.wait(TIMEOUT)
        theirs = cell.peer_reports(ps, 2)
        check(theirs[1].get("early_data") in (None, "accepted"),
              f"peer says early_data={theirs[1].get('early_data')}")
        return "512 bytes of 0-RTT data accepted and echoed"

    def early_s(cell):
        mine, theirs = server_side(cell, ["--early-data"], ["--early-data-bytes", "512"], count=2)
        check(mine[1]["early_data"] == "accepted" and mine[1]["early_data_bytes"] == 512,
              f"early data {mine[1]['early_data']} ({mine[1]['early_data_bytes']} bytes)")
        check(theirs[1].get("early_data") in (None, "accepted"),
              f"peer says early_data={theirs[1].get('early_data')}")
        return "512 bytes of 0-RTT data accepted, 1 KiB echoed"

    add("early-data", "0-RTT early data accepted", early_c, early_s, feature="early_data")

    def replay_s(cell):
        # The peer's resumed 0-RTT flight goes through a recording relay; the
        # relay then sends the same bytes again on a new connection.  The
        # ferrule server must not take the replayed early data.
        _, port, report = cell.ferrule_server("--early-data", conns=3)
        relay = Relay(port)
        try:
            pc = cell.peer_client(relay.port, "--early-data-bytes", "512", count=2)
            theirs = cell.peer_reports(pc, 2)
            ok_peer(theirs[1], f"{cell.peer.key} client (conn 2)")
            flight = relay.first_flight(1)
            check(flight, "the relay saw no first flight on connection 2")
            relay.replay(flight)
        finally:
            relay.close()
        mine = wait_reports(report, 3)
        check(len(mine) == 3, f"ferrule server: {len(mine)} report lines, want 3")
        check(mine[1]["early_data"] == "accepted", f"original 0-RTT {mine[1]['early_data']}")
        check(mine[2]["early_data"] != "accepted" and mine[2]["early_data_bytes"] == 0
              and mine[2]["received_bytes"] == 0,
              f"replay: early_data={mine[2]['early_data']}, {mine[2]['received_bytes']} bytes taken")
        return (f"replayed flight ({len(flight)} bytes): early data {mine[2]['early_data']}, "
                f"0 bytes taken")

    add("early-data-replay", "0-RTT flight replayed to the server is refused", None, replay_s,
        feature={"ferrule-server": "early_data"},
        na={"ferrule-client": "anti-replay is the server's duty (RFC 8446 §8); the "
                              "ferrule-server cell replays this peer's flight to ferrule"})

    # -- KeyUpdate --
    def ku_ours_c(cell):
        rep, _ = client_side(cell, ["--key-update"], data=pattern(65536))
        check(rep["key_updates"]["sent"] >= 1 and rep["key_updates"]["received"] >= 1,
              f"key_updates {rep['key_updates']}")
        return f"ferrule sent update_requested, peer answered ({rep['key_updates']})"

    def ku_ours_s(cell):
        mine, _ = server_side(cell, ["--key-update-every", "2"], send=65536)
        check(mine[0]["key_updates"]["sent"] >= 1, f"key_updates {mine[0]['key_updates']}")
        return f"ferrule updated its keys every 2 records ({mine[0]['key_updates']})"

    add("key-update-ferrule", "KeyUpdate sent by ferrule, 64 KiB echoed across it",
        ku_ours_c, ku_ours_s)

    def ku_peer_c(cell):
        rep, _ = client_side(cell, [], ["--key-update"], data=pattern(65536))
        check(rep["key_updates"]["received"] >= 1, f"key_updates {rep['key_updates']}")
        return f"peer's KeyUpdate taken ({rep['key_updates']})"

    def ku_peer_s(cell):
        mine, _ = server_side(cell, [], ["--key-update"], send=65536)
        check(mine[0]["key_updates"]["received"] >= 1, f"key_updates {mine[0]['key_updates']}")
        check(mine[0]["key_updates"]["sent"] >= 1, "update_requested not answered")
        return f"peer's KeyUpdate(update_requested) taken and answered ({mine[0]['key_updates']})"

    add("key-update-peer", "KeyUpdate sent by the peer, 64 KiB echoed across it",
        ku_peer_c, ku_peer_s, feature="key_update")

    # -- client authentication --
    def ca_c(cell):
        rep, theirs = client_side(cell, ["--cert", cell.pki / "rsa.chain.pem",
                                         "--key", cell.pki / "rsa.key"],
                                  ["--verify-client", "require", "--ca", cell.pki / "root.pem"])
        check(rep["client_cert_sent"] is True, "no client certificate sent")
        return "RSA client certificate required and verified by the peer"

    def ca_s(cell):
        mine, _ = server_side(cell, ["--verify-client", "require", "--cafile", cell.pki / "root.pem"],
                              ["--cert", cell.pki / "rsa.chain.pem", "--key", cell.pki / "rsa.key"])
        check(mine[0]["client_certs"] >= 1, "no client certificate received")
        return f"client chain of {mine[0]['client_certs']} verified"

    add("client-auth", "Client certificate required and sent", ca_c, ca_s, feature="client_auth")

    def ca_none_c(cell):
        ps, port = cell.peer_server("--verify-client", "require", "--ca", cell.pki / "root.pem")
        rep = cell.ferrule_client(port)
        check(rep["_rc"] != 0 and rep.get("close") in ("error", "truncated"),
              f"ferrule client did not fail (exit {rep['_rc']}, close {rep.get('close')})")
        alert = (rep.get("error") or {}).get("alert") or {}
        ps.wait(TIMEOUT)
        theirs = cell.peer_reports(ps, 1)
        check(theirs[0].get("ok") is False, "peer server accepted a client without a certificate")
        if alert:
            check(alert.get("direction") == "received", f"alert {alert}")
            return f"refused: ferrule received {alert.get('name')}"
        return f"refused: {rep['error']['status']} ({rep['error'].get('reason')})"

    def ca_none_s(cell):
        _, port, report = cell.ferrule_server("--verify-client", "require",
                                              "--cafile", cell.pki / "root.pem")
        pc = cell.peer_client(port)
        [mine] = wait_reports(report, 1)[:1] or [{}]
        check(mine.get("handshake_ok") is False, "ferrule server accepted a client without a certificate")
        alert = (mine.get("error") or {}).get("alert") or {}
        check(alert.get("name") == "certificate_required" and alert.get("direction") == "sent",
              f"ferrule server error {mine.get('error')}")
        theirs = pc.reports()
        check(not theirs or theirs[0].get("ok") is False, "peer client reports success")
        got = theirs[0].get("alert") if theirs else None
        return "certificate_required sent" + (f", peer reports {got}" if got else "")

    add("client-auth-missing", "Client certificate required, none sent: refused",
        ca_none_c, ca_none_s, feature="client_auth")

    # -- ALPN --
    def alpn_c(cell):
        rep, theirs = client_side(cell, ["--alpn", "h2,http/1.1"], ["--alpn", "http/1.1"])
        check(rep["alpn"] == "http/1.1", f"ALPN {rep['alpn']}")
        check(theirs.get("alpn") in (None, "http/1.1"), f"peer ALPN {theirs.get('alpn')}")
        return "http/1.1 agreed"

    def alpn_s(cell):
        mine, theirs = server_side(cell, ["--alpn", "http/1.1,h2"], ["--alpn", "h2,http/1.1"])
        check(mine[0]["alpn"] == "http/1.1", f"ALPN {mine[0]['alpn']}")
        check(theirs[0].get("alpn") in (None, "http/1.1"), f"peer ALPN {theirs[0].get('alpn')}")
        return "http/1.1 agreed (server's order wins)"

    add("alpn", "ALPN agreement", alpn_c, alpn_s, feature="alpn")

    def alpn_no_c(cell):
        ps, port = cell.peer_server("--alpn", "http/1.1")
        rep = cell.ferrule_client(port, "--alpn", "h2")
        alert = (rep.get("error") or {}).get("alert") or {}
        if rep["_rc"] == 0:
            # RFC 7301 §3.2 lets nothing else through but some servers go on
            # without ALPN; ferrule then has no protocol, which it reports.
            check(rep["alpn"] is None and rep["_echo_ok"], f"ALPN {rep['alpn']}")
            return "peer went on without ALPN; ferrule reports none"
        check(alert.get("name") == "no_application_protocol" and alert.get("direction") == "received",
              f"ferrule client error {rep.get('error')}")
        return "no_application_protocol received"

    def alpn_no_s(cell):
        _, port, report = cell.ferrule_server("--alpn", "http/1.1")
        pc = cell.peer_client(port, "--alpn", "h2")
        [mine] = wait_reports(report, 1)[:1] or [{}]
        alert = (mine.get("error") or {}).get("alert") or {}
        check(mine.get("handshake_ok") is False and alert.get("name") == "no_application_protocol"
              and alert.get("direction") == "sent", f"ferrule server: {mine}")
        theirs = pc.reports()
        check(not theirs or theirs[0].get("ok") is False, "peer client reports success")
        return "no_application_protocol sent"

    add("alpn-mismatch", "ALPN without overlap: no_application_protocol", alpn_no_c, alpn_no_s,
        feature="alpn")

    # -- SNI --
    def sni_c(cell):
        rep, theirs = client_side(cell, [], [], cert="ecdsa-p256")
        check(theirs.get("server_name") == "localhost", f"peer saw SNI {theirs.get('server_name')!r}")
        return "peer received server_name localhost"

    def sni_s(cell):
        # Two certificates; the peer asks for b.test and must get (and
        # verify) the b.test one.
        _, port, report = cell.ferrule_server(
            "--cert", cell.pki / "sni-b.chain.pem", "--key", cell.pki / "sni-b.key",
            "--sni-strict", cert="sni-a")
        pc = cell.peer_client(port, servername="b.test")
        [mine] = wait_reports(report, 1)[:1] or [{}]
        ok_server(mine, 1024)
        check(mine.get("server_name") == "b.test", f"SNI {mine.get('server_name')}")
        ok_peer(cell.peer_reports(pc, 1)[0], f"{cell.peer.key} client")
        return "b.test selected the second certificate; the peer verified it"

    add("sni", "SNI sent and used to select the certificate", sni_c, sni_s, feature="sni")

    # -- OCSP --
    def ocsp_c(cell):
        # good-bykey.der (ResponderID byKey): wolfSSL's server staples only
        # a response it has checked itself, and it takes no byName one.
        rep, _ = client_side(cell, ["--ocsp-require"], ["--ocsp", cell.h.ocsp / "good-bykey.der"])
        check(rep["ocsp_stapled"] is True, "no valid staple")
        return "staple received and validated (good)"

    def ocsp_s(cell):
        _, theirs = server_side(cell, ["--ocsp-staple", cell.h.ocsp / "good.der"], ["--ocsp"])
        check(theirs[0].get("ocsp_stapled") is True, f"peer: ocsp_stapled={theirs[0].get('ocsp_stapled')}")
        return "peer received the staple"

    add("ocsp", "OCSP staple (status_request)", ocsp_c, ocsp_s, feature="ocsp")

    # -- bulk --
    def bulk_c(cell):
        rep, _ = client_side(cell, data=pattern(BULK))
        check(rep["sent_bytes"] == BULK and rep["response_bytes"] == BULK,
              f"sent {rep['sent_bytes']}, got {rep['response_bytes']}")
        return "8 MiB each way, byte-exact"

    def bulk_s(cell):
        server_side(cell, send=BULK)
        return "8 MiB each way, byte-exact"

    add("bulk-8mib", "8 MiB each way, byte-exact", bulk_c, bulk_s)

    # -- truncation --
    def trunc_c(cell):
        ps, port = cell.peer_server()
        p, report, got = cell.ferrule_client(port, data=pattern(1024), hold=True)
        check(got, "no echo before the truncation")
        ps.kill()          # TCP FIN without close_notify
        rc = p.wait()
        reps = read_reports(report)
        check(reps, "no ferrule client report")
        check(rc == 1 and reps[0].get("close") == "truncated",
              f"exit {rc}, close {reps[0].get('close')}: {reps[0].get('error')}")
        return "EOF without close_notify reported as truncated (exit 1)"

    def trunc_s(cell):
        _, port, report = cell.ferrule_server()
        pc = cell.peer_client(port, "--hold", wait=False)
        check(pc.wait_out(lambda b: b"ECHOED" in b), "peer client never printed ECHOED")
        pc.kill()
        [mine] = wait_reports(report, 1)[:1] or [{}]
        check(mine.get("handshake_ok") is True and mine.get("close") == "truncated",
              f"ferrule server: close {mine.get('close')}, error {mine.get('error')}")
        return "EOF without close_notify reported as truncated"

    add("truncation", "Peer vanishes without close_notify: reported as truncation",
        trunc_c, trunc_s)

    # -- record_size_limit --
    def rsl_c(cell):
        rep, _ = client_side(cell, ["--record-size-limit", "512"], ["--record-size-limit", "1024"],
                             data=pattern(65536))
        check(rep["record_size_limit"] == 1024, f"peer's limit {rep['record_size_limit']}")
        return "limits 512 (ours) and 1024 (peer's) kept both ways over 64 KiB"

    def rsl_s(cell):
        mine, _ = server_side(cell, ["--record-size-limit", "512"], ["--record-size-limit", "1024"],
                              send=65536)
        check(mine[0]["record_size_limit"] == 1024, f"peer's limit {mine[0]['record_size_limit']}")
        return "limits 512 (ours) and 1024 (peer's) kept both ways over 64 KiB"

    add("record-size-limit", "record_size_limit (RFC 8449) both ways", rsl_c, rsl_s,
        feature="record_size_limit")


class Relay:
    """A TCP relay on loopback that records, per connection, what the
    client sent before the server's first byte came back (its first flight:
    ClientHello and, on a 0-RTT connection, the early data), and can send
    such a flight again on a fresh connection to the server."""

    def __init__(self, target_port):
        self.target = target_port
        self.lsock = socket.socket()
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(8)
        self.port = self.lsock.getsockname()[1]
        self.flights = []
        self.lock = threading.Lock()
        self.stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stop:
            try:
                c, _ = self.lsock.accept()
            except OSError:
                return
            threading.Thread(target=self._pair, args=(c,), daemon=True).start()

    def _pair(self, c):
        s = socket.create_connection(("127.0.0.1", self.target), timeout=TIMEOUT)
        idx = None
        with self.lock:
            idx = len(self.flights)
            self.flights.append(bytearray())
        state = {"answered": False}

        def pump(src, dst, upstream):
            try:
                while True:
                    d = src.recv(65536)
                    if not d:
                        break
                    if upstream and not state["answered"]:
                        with self.lock:
                            self.flights[idx].extend(d)
                    if not upstream:
                        state["answered"] = True
                    dst.sendall(d)
            except OSError:
                pass
            try:
                dst.shutdown(socket.SHUT_WR)
            except OSError:
                pass

        t = threading.Thread(target=pump, args=(s, c, False), daemon=True)
        t.start()
        pump(c, s, True)
        t.join(TIMEOUT)
        c.close()
        s.close()

    def first_flight(self, idx):
        with self.lock:
            return bytes(self.flights[idx]) if idx < len(self.flights) else b""

    def replay(self, flight):
        # The server answers the replayed ClientHello and then waits for a
        # client Finished that never comes; a short read, then we leave.
        s = socket.create_connection(("127.0.0.1", self.target), timeout=1.5)
        s.sendall(flight)
        try:
            while s.recv(65536):
                pass
        except OSError:
            pass
        s.close()

    def close(self):
        self.stop = True
        self.lsock.close()


# ---------------------------------------------------------------------------
# The harness
# ---------------------------------------------------------------------------

class Harness:
    def __init__(self, args):
        self.ferrule = str(pathlib.Path(args.ferrule).resolve())
        self.logs = pathlib.Path(args.logs).resolve()
        self.logs.mkdir(parents=True, exist_ok=True)
        self.pki = self.logs / "pki"
        self.ocsp = self.logs / "ocsp"

    def make_pki(self):
        if self.pki.exists():
            shutil.rmtree(self.pki)
        if self.ocsp.exists():
            shutil.rmtree(self.ocsp)
        subprocess.run(["bash", REPO / "tools/gen-pki.sh", self.pki], check=True,
                       capture_output=True, timeout=300)
        subprocess.run(["bash", REPO / "tools/gen-ocsp.sh", self.ocsp, self.pki], check=True,
                       capture_output=True, timeout=300)


def run_cell(h, peer, role, fl):
    fn = fl.fn.get(role)
    if role in fl.na:
        return ("n.a.", fl.na[role])
    if fn is None:
        return ("n.a.", None)
    if peer.error:
        return ("fail", f"peer not available: {peer.error}")
    need = fl.needs(role)
    if need and peer.caps.get(need) is not True:
        return ("n.a.", peer.caps.get(need) or None)
    cell = Cell(h, peer, role, fl)
    t0 = time.monotonic()
    try:
        detail = fn(cell)
        result = ("pass", detail)
    except CellFail as e:
        result = ("fail", str(e))
    except Exception as e:  # noqa: BLE001 - a harness error is a red cell too
        result = ("fail", f"harness error: {type(e).__name__}: {e}")
    finally:
        cell.finish()
    (cell.logdir / "result.json").write_text(json.dumps(
        {"result": result[0], "detail": result[1],
         "seconds": round(time.monotonic() - t0, 2)}) + "\n")
    return result


def md_escape(s):
    return str(s).replace("|", "\\|").replace("\n", " ")


def write_markdown(path, h, plist, results, started, elapsed, flows):
    lines = ["# Interop matrix", "",
             "Generated by `tools/interop_matrix.py` (`make interop-matrix`); do not edit by hand.",
             f"Run: {started} UTC, {elapsed:.0f} s, ferrule `{ferrule_version(h)}`.",
             "Each cell is one flow with ferrule in the role of the column and the peer in the",
             "other; it passes only when both ends' reports (ferrule `--report`, the peer's",
             "report line, interop/peers/PROTOCOL.md) show what the flow requires.",
             "Raw logs of every process: `build/interop-matrix/<peer>/<role>/<flow>/`.", ""]
    counts = {"pass": 0, "fail": 0, "n.a.": 0}
    for r in results.values():
        counts[r[0]] += 1
    lines += [f"**{counts['pass']} pass, {counts['fail']} fail, {counts['n.a.']} n.a.** "
              f"({len(results)} cells)", "", "## Peers", "",
              "| peer | implementation | exact version | how it runs |", "|---|---|---|---|"]
    for p in plist:
        ver = p.version or f"unavailable: {p.error}"
        lines.append(f"| {p.key} | {md_escape(p.title)} | {md_escape(ver)} | {md_escape(p.build_note)} |")
    lines += ["", "## Summary", "", "| peer | ferrule-client pass/fail/n.a. | ferrule-server pass/fail/n.a. |",
              "|---|---|---|"]
    for p in plist:
        row = [p.key]
        for role in ROLES:
            c = {"pass": 0, "fail": 0, "n.a.": 0}
            for fl in flows:
                c[results[(p.key, role, fl.key)][0]] += 1
            row.append(f"{c['pass']} / {c['fail']} / {c['n.a.']}")
        lines.append("| " + " | ".join(row) + " |")
    lines += ["", "## Flows", "", "| flow | what it checks |", "|---|---|"]
    for fl in flows:
        lines.append(f"| `{fl.key}` | {md_escape(fl.title)} |")
    for p in plist:
        lines += ["", f"## {p.key}: {md_escape(p.title)} {md_escape(p.version or '')}", "",
                  "| flow | ferrule client, peer server | ferrule server, peer client |",
                  "|---|---|---|"]
        for fl in flows:
            cells = []
            for role in ROLES:
                res, detail = results[(p.key, role, fl.key)]
                mark = {"pass": "pass", "fail": "**FAIL**", "n.a.": "n.a."}[res]
                cells.append(f"{mark}: {md_escape(detail)}" if detail else mark)
            lines.append(f"| `{fl.key}` | " + " | ".join(cells) + " |")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def ferrule_version(h):
    try:
        return subprocess.run([h.ferrule, "version"], capture_output=True, text=True,
                              timeout=10).stdout.strip()
    except Exception:  # noqa: BLE001
        return "?"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--strict", action="store_true",
                    help="exit 1 on any failed cell or any n.a. without a reason")
    ap.add_argument("--peers", help="comma-separated peer keys (default: all)")
    ap.add_argument("--flows", help="comma-separated flow keys (default: all)")
    ap.add_argument("--jobs", type=int, default=int(os.environ.get("MATRIX_JOBS", "2")))
    ap.add_argument("--ferrule", default=str(REPO / "build" / "ferrule"))
    ap.add_argument("--logs", default=str(REPO / "build" / "interop-matrix"))
    ap.add_argument("--out", default=None, help="Markdown output (default LOGS/interop-matrix.md)")
    args = ap.parse_args(argv)

    build_flows()
    flows = FLOWS
    if args.flows:
        want = args.flows.split(",")
        unknown = set(want) - {f.key for f in flows}
        if unknown:
            ap.error(f"unknown flows: {', '.join(sorted(unknown))}")
        flows = [f for f in flows if f.key in want]
    plist = peers()
    if args.peers:
        want = args.peers.split(",")
        unknown = set(want) - {p.key for p in plist}
        if unknown:
            ap.error(f"unknown peers: {', '.join(sorted(unknown))}")
        plist = [p for p in plist if p.key in want]

    h = Harness(args)
    if not os.access(h.ferrule, os.X_OK):
        print(f"interop-matrix: {h.ferrule} is not an executable (make build)", file=sys.stderr)
        return 2
    started = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M")
    t0 = time.monotonic()
    h.make_pki()
    # Peers build one after the other (the builds use both cores themselves).
    for p in plist:
        tp = time.monotonic()
        p.prepare(h.logs / p.key)
        state = p.version if not p.error else f"UNAVAILABLE: {p.error}"
        print(f"interop-matrix: peer {p.key}: {state} ({time.monotonic() - tp:.1f} s)", flush=True)

    jobs = [(p, role, fl) for p in plist for fl in flows for role in ROLES]
    results = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as ex:
        futs = {ex.submit(run_cell, h, p, role, fl): (p.key, role, fl.key) for p, role, fl in jobs}
        for fut in concurrent.futures.as_completed(futs):
            key = futs[fut]
            results[key] = fut.result()
            res, detail = results[key]
            if res == "fail":
                print(f"interop-matrix: FAIL {'/'.join(key)}: {detail}", flush=True)
    elapsed = time.monotonic() - t0

    out = pathlib.Path(args.out) if args.out else h.logs / "interop-matrix.md"
    write_markdown(out, h, plist, results, started, elapsed, flows)
    summary = {
        "schema": "ferrule-interop-matrix/1", "started": started, "seconds": round(elapsed, 1),
        "peers": {p.key: {"impl": p.impl, "version": p.version, "error": p.error} for p in plist},
        "cells": [{"peer": k[0], "role": k[1], "flow": k[2], "result": v[0], "detail": v[1]}
                  for k, v in sorted(results.items())],
    }
    (h.logs / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    fails = [k for k, v in results.items() if v[0] == "fail"]
    bare = [k for k, v in results.items() if v[0] == "n.a." and not v[1]]
    n_pass = sum(1 for v in results.values() if v[0] == "pass")
    print(f"interop-matrix: {n_pass} pass, {len(fails)} fail, "
          f"{sum(1 for v in results.values() if v[0] == 'n.a.')} n.a. in {elapsed:.0f} s; "
          f"wrote {out}")
    for k in bare:
        print(f"interop-matrix: n.a. without a reason: {'/'.join(k)}", file=sys.stderr)
    if args.strict and (fails or bare):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
