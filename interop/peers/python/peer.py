#!/usr/bin/env python3
"""interop/peers/PROTOCOL.md natively on Python's `ssl` module (stdlib).

    python3 interop/peers/python/peer.py caps|server|client [flags]

TLS 1.3 only (minimum_version and maximum_version).  What Python's ssl
(3.11, over OpenSSL 3.0 here) has no API for is marked not applicable in
`caps`, with the reason; see interop/peers/wrap/README.md.
"""

import os
import select
import socket
import ssl
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "wrap"))
import common  # noqa: E402
from common import Report, pattern, print_accept  # noqa: E402

IMPL = "python"
CURVES = {"x25519": "X25519", "secp256r1": "prime256v1", "secp384r1": "secp384r1"}

NA = {
    "suites": "Python's ssl cannot choose TLS 1.3 cipher suites: SSLContext.set_ciphers only "
              "applies to TLS 1.2 and below",
    "early_data": "Python's ssl has no 0-RTT API (no SSL_write_early_data/SSL_read_early_data)",
    "key_update": "Python's ssl has no API to send a KeyUpdate",
    "ocsp": "Python's ssl has no OCSP stapling API (neither sending nor requesting a staple)",
    "record_size_limit": "Python's ssl has no record_size_limit API (and OpenSSL 3.0 "
                         "under it does not implement RFC 8449)",
}


def caps():
    v = sys.version_info
    feats = {k: True for k in common.FEATURES}
    feats.update(NA)
    return {"impl": IMPL,
            "version": f"Python {v.major}.{v.minor}.{v.micro} ({ssl.OPENSSL_VERSION})",
            "features": feats}


def usage(msg):
    print(f"{IMPL}: usage: {msg}", file=sys.stderr)
    sys.exit(2)


def context(o, side):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER if side == "server" else
                         ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.maximum_version = ssl.TLSVersion.TLSv1_3
    if o.groups:
        # set_ecdh_curve sets exactly one group (on OpenSSL 3 it is
        # SSL_CTX_set1_groups with that one group): no list.
        if len(o.groups) != 1 or o.groups[0] not in CURVES:
            usage("--groups: Python's ssl can restrict itself to one of "
                  f"{', '.join(CURVES)} only (set_ecdh_curve), not {','.join(o.groups)}")
        ctx.set_ecdh_curve(CURVES[o.groups[0]])
    if o.cert:
        ctx.load_cert_chain(o.cert, o.key)
    if o.ca:
        ctx.load_verify_locations(o.ca)
    return ctx


def alert_of(e):
    """The alert name when OpenSSL says one was received."""
    reason = getattr(e, "reason", None) or ""
    if reason == "PEER_DID_NOT_RETURN_A_CERTIFICATE":
        # OpenSSL 3.0 sends certificate_required for it in TLS 1.3 (the
        # alert s_server, same library, logs in its -msg output)
        return "certificate_required"
    for p in ("TLSV13_ALERT_", "TLSV1_ALERT_", "SSLV3_ALERT_"):
        if reason.startswith(p):
            name = reason[len(p):].lower()
            return {"no_application_protocol": "no_application_protocol",
                    "certificate_required": "certificate_required"}.get(name, name)
    return None


def fill(r, s):
    r["version"] = s.version()
    c = s.cipher()
    r["cipher"] = c[0] if c else None
    r["resumed"] = s.session_reused
    r["alpn"] = s.selected_alpn_protocol()
    r["early_data"] = "not_offered"
    r["key_updates_sent"] = 0


# ---------------------------------------------------------------------------
# client
# ---------------------------------------------------------------------------

def _exchange(s, data, got, timeout):
    """Send data while reading the echo into got (one thread: an SSLSocket
    is not to be used by two at once), so an echo server that cannot
    buffer everything still sees its output read.  Returns bytes sent."""
    s.setblocking(False)
    sent = 0
    deadline = time.monotonic() + timeout
    try:
        while len(got) < len(data):
            progress = False
            if sent < len(data):
                try:
                    sent += s.send(data[sent:sent + 16384])
                    progress = True
                except (ssl.SSLWantWriteError, ssl.SSLWantReadError, BlockingIOError):
                    pass
            try:
                b = s.recv(65536)
                if not b:
                    break
                got += b
                progress = True
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
                pass
            if not progress:
                if time.monotonic() > deadline:
                    raise TimeoutError("timed out waiting for the echo")
                select.select([s], [s] if sent < len(data) else [], [], 0.05)
            else:
                deadline = time.monotonic() + timeout
    finally:
        s.settimeout(timeout)
    return sent


def client(o, caps_):
    ctx = context(o, "client")
    ctx.check_hostname = True
    ctx.verify_mode = ssl.CERT_REQUIRED
    if o.alpn:
        ctx.set_alpn_protocols(o.alpn)
    session = None
    all_ok = True
    for k in range(1, o.count + 1):
        ok, new = client_conn(o, ctx, k, session)
        all_ok &= ok
        if new is not None:
            session = new
    return all_ok


def client_conn(o, ctx, k, session):
    r = Report("client", IMPL, k)
    r["server_name"] = o.servername
    data = pattern(o.send_bytes)
    r["sent"] = r["received"] = 0
    new_session = None
    s = None
    try:
        raw = socket.create_connection((o.host, o.port), timeout=o.timeout)
        s = ctx.wrap_socket(raw, server_hostname=o.servername, session=session,
                             suppress_ragged_eofs=False)
        fill(r, s)
        der = s.getpeercert(binary_form=True)
        r["peer_certs"] = None if der else 0   # ssl 3.11 shows the leaf only
        got = bytearray()
        r["sent"] = _exchange(s, data, got, o.timeout)
        r["received"] = len(got)
        r["echo_ok"] = bytes(got) == data
        new_session = s.session
        if o.hold:
            print("ECHOED", flush=True)
            sys.stdin.buffer.read()
        try:
            s.unwrap()     # our close_notify, then the server's
            r["close"] = "close_notify"
        except ssl.SSLEOFError:
            r["close"] = "eof"
        except (ssl.SSLError, OSError) as e:
            r["close"] = "eof" if "EOF" in str(e) or isinstance(e, ConnectionError) else "error"
            r["error"] = str(e)
        r["ok"] = bool(r["echo_ok"] and r["close"] == "close_notify")
        if not r["ok"] and not r["error"]:
            r["error"] = "echo mismatch" if not r["echo_ok"] else f"close: {r['close']}"
    except (ssl.SSLError, OSError) as e:
        r["error"] = str(e)
        r["alert"] = alert_of(e)
        r["close"] = "error"
        r["ok"] = False
        if o.send_bytes:
            r["echo_ok"] = False
    finally:
        if s is not None:
            try:
                s.close()
            except OSError:
                pass
    r.emit()
    return r["ok"], new_session


# ---------------------------------------------------------------------------
# server
# ---------------------------------------------------------------------------

def server(o, caps_):
    ctx = context(o, "server")
    if o.verify_client == "require":
        ctx.verify_mode = ssl.CERT_REQUIRED
    if o.alpn:
        ctx.set_alpn_protocols(o.alpn)
    names = {}

    def on_sni(sslobj, name, c):
        names[id(sslobj)] = name
    ctx.sni_callback = on_sni
    ls = socket.create_server((o.listen_host, o.listen_port))
    host, port = ls.getsockname()[:2]
    print_accept(o.listen_host, port)
    all_ok = True
    for k in range(1, o.count + 1):
        conn, _ = ls.accept()
        all_ok &= server_conn(o, ctx, conn, k, names)
    ls.close()
    return all_ok


def server_conn(o, ctx, conn, k, names):
    r = Report("server", IMPL, k)
    r["sent"] = r["received"] = 0
    conn.settimeout(o.timeout)
    s = None
    try:
        s = ctx.wrap_socket(conn, server_side=True, suppress_ragged_eofs=False)
        fill(r, s)
        r["server_name"] = names.pop(id(s), None)
        r["peer_certs"] = None if s.getpeercert(binary_form=True) else 0
        try:
            while True:
                b = s.recv(65536)
                if not b:
                    r["close"] = "close_notify"   # SSL_read returned 0: close_notify
                    break
                r["received"] += len(b)
                s.sendall(b)
                r["sent"] += len(b)
        except ssl.SSLZeroReturnError:
            r["close"] = "close_notify"
        except ssl.SSLEOFError:
            r["close"] = "eof"
        if r["close"] == "close_notify":
            try:
                s.unwrap()
            except (ssl.SSLError, OSError):
                pass
        r["ok"] = r["close"] == "close_notify"
        if not r["ok"]:
            r["error"] = "the client closed without close_notify"
    except (ssl.SSLError, OSError) as e:
        r["error"] = str(e)
        r["alert"] = alert_of(e)
        r["close"] = r["close"] or "error"
        r["ok"] = False
    finally:
        try:
            (s or conn).close()
        except OSError:
            pass
    r.emit()
    return r["ok"]


if __name__ == "__main__":
    common.main(IMPL, caps, server, client)
