#!/usr/bin/env python3
"""interop/peers/PROTOCOL.md for GnuTLS.

    python3 interop/peers/wrap/gnutls.py caps|server|client [flags]

Client: one `gnutls-cli` per connection, informational messages to
--logfile (stdout then carries only the server's data), the server's
plaintext ServerHello(s) from --save-server-trace.  What the tools cannot do
goes through libgnutls itself (gnutls_lib.py): the server role (gnutls-serv
--echo cannot echo the binary pattern) and a client that needs an earlier
connection's session, 0-RTT or a KeyUpdate (gnutls-cli keeps sessions only
inside one process).  See README.md.
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
from common import (ALERTS, Child, Report, first_error_line,  # noqa: E402
                    parse_server_hello, pattern)

IMPL = "gnutls"
CLI = shutil.which("gnutls-cli") or "gnutls-cli"
SUITE_PRIO = {"TLS_AES_128_GCM_SHA256": "AES-128-GCM", "TLS_AES_256_GCM_SHA384": "AES-256-GCM",
              "TLS_CHACHA20_POLY1305_SHA256": "CHACHA20-POLY1305"}
GROUP_PRIO = {"x25519": "GROUP-X25519", "secp256r1": "GROUP-SECP256R1",
              "secp384r1": "GROUP-SECP384R1"}

def version():
    """The library's own version (gnutls_check_version), the one both the
    tools and gnutls_lib.py run on; else what gnutls-cli says."""
    try:
        import gnutls_lib
        return f"GnuTLS {gnutls_lib.version()}"
    except OSError:
        pass
    try:
        out = subprocess.run([CLI, "--version"], capture_output=True, text=True,
                             timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.search(r"gnutls-cli (\S+)", out)
    return f"GnuTLS {m.group(1)}" if m else None


def caps():
    return {"impl": IMPL, "version": version(),
            "features": {k: True for k in common.FEATURES}}


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
    if o.count > 1 or o.early_data_bytes or o.key_update or o.record_size_limit is not None:
        # gnutls-cli keeps a session only inside one process (-r adds a
        # data-less connection of its own, ^resume^ needs a line start in
        # the data), and with --recordsize it sends only the first record's
        # worth of each read (a short gnutls_record_send it does not
        # repeat): these runs go through libgnutls itself
        import gnutls_lib
        try:
            return gnutls_lib.client(o, priority(o))
        except common.UsageError as e:
            print(f"{IMPL}: usage: {e}", file=sys.stderr)
            sys.exit(2)
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
        # The extension's value counts the inner content type byte;
        # --recordsize is the plaintext size (RFC 8449 §4, TLS 1.3).
        argv += ["--recordsize", str(o.record_size_limit - 1)]
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
        c.wait_progress(lambda: len(c.out) >= len(data) or not c.alive(), lambda: len(c.out),
                        o.timeout)
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
    rc = c.wait(time.monotonic() + o.timeout)
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
    # gnutls-serv --echo echoes line by line and treats the data as a C
    # string (nothing before a newline, nothing of a line with a NUL byte):
    # it cannot carry the pattern, so the server is libgnutls itself.
    import gnutls_lib
    try:
        prio = priority(o)
    except common.UsageError as e:
        print(f"{IMPL}: usage: {e}", file=sys.stderr)
        sys.exit(2)
    return gnutls_lib.server(o, prio)


if __name__ == "__main__":
    common.main(IMPL, caps, server, client)
