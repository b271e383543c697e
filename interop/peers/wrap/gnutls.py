#!/usr/bin/env python3
"""interop/peers/PROTOCOL.md for GnuTLS's `gnutls-cli` / `gnutls-serv`.

    python3 interop/peers/wrap/gnutls.py caps|server|client [flags]

Client: one gnutls-cli per connection, informational messages to
--logfile (stdout then carries only the server's data), the server's
plaintext ServerHello(s) from --save-server-trace.  Server: gnutls-serv
--echo; its echo is line-based C-string processing (README.md), so it
cannot echo the protocol's binary pattern.  See README.md.
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
from common import (ALERTS, Child, Report, first_error_line, free_port,  # noqa: E402
                    parse_server_hello, pattern, print_accept, wait_listening)

IMPL = "gnutls"
CLI = shutil.which("gnutls-cli") or "gnutls-cli"
SERV = shutil.which("gnutls-serv") or "gnutls-serv"
SUITE_PRIO = {"TLS_AES_128_GCM_SHA256": "AES-128-GCM", "TLS_AES_256_GCM_SHA384": "AES-256-GCM",
              "TLS_CHACHA20_POLY1305_SHA256": "CHACHA20-POLY1305"}
GROUP_PRIO = {"x25519": "GROUP-X25519", "secp256r1": "GROUP-SECP256R1",
              "secp384r1": "GROUP-SECP384R1"}

RESUMPTION = ("gnutls-cli keeps a session only inside one process and cannot save it to a "
              "file: -r/--resume adds a data-less first connection of its own and ^resume^ "
              "needs a line start in the data, so connection 1 cannot carry exactly the pattern")
EARLY = ("gnutls-cli sends early data only on its own -r/--resume reconnection, which "
         "the wrapper cannot use (see resumption)")
KEY_UPDATE = ("gnutls-serv has no way to send a KeyUpdate (gnutls-cli has -e, which the "
              "client role alone could use)")


def version():
    try:
        out = subprocess.run([CLI, "--version"], capture_output=True, text=True,
                             timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.search(r"gnutls-cli (\S+)", out)
    return f"GnuTLS {m.group(1)}" if m else None


def caps():
    return {"impl": IMPL, "version": version(),
            "features": {"suites": True, "groups": True, "hrr": True,
                         "resumption": RESUMPTION, "early_data": EARLY,
                         "key_update": KEY_UPDATE, "client_auth": True, "alpn": True,
                         "sni": True, "ocsp": True, "record_size_limit": True}}


def priority(o):
    p = "NORMAL:-VERS-ALL:+VERS-TLS1.3"
    if o.suites:
        p += ":-CIPHER-ALL:" + ":".join("+" + SUITE_PRIO[s] for s in o.suites)
    if o.groups:
        missing = [g for g in o.groups if g not in GROUP_PRIO]
        if missing:
            raise common.UsageError(f"--groups {','.join(missing)}: not in GnuTLS 3.7")
        p += ":-GROUP-ALL:" + ":".join("+" + GROUP_PRIO[g] for g in o.groups)
    return p


def server_hellos(path):
    """ServerHello bodies from a --save-server-trace file (the TLS records
    the server sent; only the plaintext handshake records are read)."""
    out = []
    try:
        data = open(path, "rb").read()
    except OSError:
        return out
    i = 0
    buf = b""
    while i + 5 <= len(data):
        t, n = data[i], (data[i + 3] << 8) | data[i + 4]
        rec = data[i + 5:i + 5 + n]
        i += 5 + n
        if t == 22:
            buf += rec
        elif t == 23:
            break
    j = 0
    while j + 4 <= len(buf):
        mt, ml = buf[j], int.from_bytes(buf[j + 1:j + 4], "big")
        if mt == 2:
            out.append(parse_server_hello(buf[j + 4:j + 4 + ml]))
        j += 4 + ml
    return out


def alert_from(text):
    m = re.search(r"Received alert \[(\d+)\]", text)
    if m:
        return ALERTS.get(int(m.group(1)), "alert_" + m.group(1))
    return None


# ---------------------------------------------------------------------------
# client
# ---------------------------------------------------------------------------

def client(o, caps_):
    tmp = tempfile.mkdtemp(prefix="wrap-gnutls-")
    try:
        try:
            prio = priority(o)
        except common.UsageError as e:
            print(f"{IMPL}: usage: {e}", file=sys.stderr)
            sys.exit(2)
        all_ok = True
        for k in range(1, o.count + 1):
            all_ok &= client_conn(o, prio, tmp, k)
        return all_ok
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def client_conn(o, prio, tmp, k):
    r = Report("client", IMPL, k)
    deadline = time.monotonic() + o.timeout
    log = os.path.join(tmp, f"c{k}.log")
    trace = os.path.join(tmp, f"c{k}.srv")
    ocsp = os.path.join(tmp, f"c{k}.ocsp")
    argv = [CLI, "-p", str(o.port), "--x509cafile", o.ca, "--verify-hostname", o.servername,
            "--sni-hostname", o.servername, "--priority", prio, "--single-key-share",
            "--logfile", log, "--save-server-trace", trace, "--save-ocsp", ocsp]
    for a in o.alpn or []:
        argv += ["--alpn", a]
    if o.cert:
        argv += ["--x509certfile", o.cert, "--x509keyfile", o.key]
    if o.record_size_limit is not None:
        argv += ["--recordsize", str(o.record_size_limit)]
    argv.append(o.host)
    data = pattern(o.send_bytes)
    c = Child(argv)

    def logtext():
        try:
            with open(log, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    # gnutls-cli reads stdin only once its handshake is done (its logfile
    # is written at exit, so it cannot tell us when): the data waits in
    # the pipe until then.
    ready = c.alive()
    exited_first = False
    if ready:
        w = threading.Thread(target=lambda: c.write(data), daemon=True)
        if data:
            w.start()
        c.wait_for(lambda: len(c.out) >= len(data) or not c.alive(), deadline)
        r["received"] = len(c.out)
        r["echo_ok"] = bytes(c.out) == data
        r["sent"] = len(data)
        if o.hold and r["echo_ok"]:
            print("ECHOED", flush=True)
            sys.stdin.buffer.read()
        exited_first = not c.alive()
    else:
        r["received"], r["sent"] = len(c.out), 0
        r["echo_ok"] = False if o.send_bytes else None
    c.close_stdin()
    rc = c.wait(deadline + 2)
    text = logtext()
    err = c.stderr_text()
    hellos = [h for h in server_hellos(trace) if h]
    final = [h for h in hellos if not h.get("hrr")]
    if final:
        sh = final[-1]
        r.update(version=sh["version"], cipher=sh["cipher"], group=sh["group"],
                 resumed=sh["psk"])
    m = re.search(r"- Application protocol: (\S+)", text)
    r["alpn"] = m.group(1) if m else None
    m = re.search(r"- Got a certificate list of (\d+) certificates", text)
    r["peer_certs"] = int(m.group(1)) if m else (0 if final else None)
    r["ocsp_stapled"] = os.path.exists(ocsp) and os.path.getsize(ocsp) > 0
    r["early_data"] = "not_offered"
    r["key_updates_sent"] = 0
    r["server_name"] = o.servername
    r["alert"] = alert_from(err + text)
    if "- Peer has closed the GnuTLS connection" in text:
        r["close"] = "close_notify"
    elif "terminated the connection abnormally" in err:
        r["close"] = "eof" if re.search(r"premature|TLS connection was non-properly terminated",
                                        err + text, re.I) else "error"
    else:
        r["close"] = "error"
    ready = "- Simple Client Mode:" in text
    if not ready:
        r["sent"] = 0
    ok = (rc == 0 and ready and r["close"] == "close_notify" and r["echo_ok"] is not False
          and not r["alert"] and not (exited_first and o.send_bytes))
    r["ok"] = bool(ok)
    if not ok:
        r["error"] = (first_error_line(err) or first_error_line(text)
                      or f"gnutls-cli exit status {rc}")
    r.emit()
    return bool(ok)


# ---------------------------------------------------------------------------
# server
# ---------------------------------------------------------------------------

def server(o, caps_):
    try:
        prio = priority(o)
    except common.UsageError as e:
        print(f"{IMPL}: usage: {e}", file=sys.stderr)
        sys.exit(2)
    port = o.listen_port or free_port(o.listen_host)
    argv = [SERV, "-p", str(port), "--echo", "--x509certfile", o.cert, "--x509keyfile", o.key,
            "--priority", prio]
    for a in o.alpn or []:
        argv += ["--alpn", a]
    if o.alpn:
        argv.append("--alpn-fatal")
    if o.verify_client == "require":
        argv += ["--require-client-cert", "--verify-client-cert", "--x509cafile", o.ca]
    else:
        argv.append("--disable-client-cert")
    if o.ocsp:
        argv += ["--ocsp-response", o.ocsp, "--ignore-ocsp-response-errors"]
    if o.record_size_limit is not None:
        argv += ["--recordsize", str(o.record_size_limit)]
    c = Child(argv)
    if not wait_listening(port, c, time.monotonic() + max(o.timeout, 10)):
        print(f"{IMPL}: gnutls-serv did not start: {first_error_line(c.stderr_text())}",
              file=sys.stderr)
        c.kill()
        return False
    print_accept(o.listen_host, port)
    all_ok = True

    def blocks():
        text = bytes(c.out).decode("utf-8", "replace")
        return re.split(r"(?m)^\* Accepted connection from ", text)[1:]

    for k in range(1, o.count + 1):
        r = Report("server", IMPL, k)
        # a connection's block is complete once the next one begins, or
        # gnutls-serv reports its end
        c.wait_for(lambda: len(blocks()) >= k or not c.alive(), float("inf"))
        deadline = time.monotonic() + o.timeout

        def done():
            b = blocks()
            if len(b) > k:
                return True
            return bool(re.search(r"(?m)^(\*\*\* |- Peer has closed|Error in handshake)",
                                  b[k - 1] if len(b) >= k else ""))
        c.wait_for(lambda: done() or not c.alive(), deadline)
        b = blocks()[k - 1] if len(blocks()) >= k else ""
        err = c.stderr_text()
        m = re.search(r"- Version: (\S+)", b)
        r["version"] = {"TLS1.3": "TLSv1.3", "TLS1.2": "TLSv1.2"}.get(m.group(1)) if m else None
        m = re.search(r"- Description: \(TLS1\.3-[^)]*\)-\(([^)]*)\)-\([^)]*\)-\(([^)]*)\)", b)
        if m:
            kx, ciph = m.group(1), m.group(2)
            r["cipher"] = {"AES-128-GCM": "TLS_AES_128_GCM_SHA256",
                           "AES-256-GCM": "TLS_AES_256_GCM_SHA384",
                           "CHACHA20-POLY1305": "TLS_CHACHA20_POLY1305_SHA256"}.get(ciph)
        m = re.search(r"- Using curve: (\S+)", b)
        if m:
            r["group"] = {"X25519": "x25519", "SECP256R1": "secp256r1",
                          "SECP384R1": "secp384r1"}.get(m.group(1), m.group(1))
        m = re.search(r"- Given server name\[\d+\]: (\S+)", b)
        r["server_name"] = m.group(1) if m else None
        m = re.search(r"- Application protocol: (\S+)", b)
        r["alpn"] = m.group(1) if m else None
        r["resumed"] = ("This is a resumed session" in b) if r["version"] else None
        r["early_data"] = "not_offered"
        r["key_updates_sent"] = 0
        r["alert"] = alert_from(b + err)
        # gnutls-serv does not say how many bytes it echoed, nor how the
        # connection ended: these stay null.
        handshake = r["version"] is not None
        r["ok"] = handshake and not r["alert"]
        if not r["ok"]:
            r["error"] = first_error_line(b) or first_error_line(err) or "handshake failed"
        r.emit()
        all_ok &= bool(r["ok"])
    # gnutls-serv serves forever: give the last connection time to end
    time.sleep(0.2)
    c.kill()
    return all_ok


if __name__ == "__main__":
    common.main(IMPL, caps, server, client)
