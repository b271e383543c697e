"""A PROTOCOL.md peer on libgnutls itself (ctypes, stdlib only), for what the
GnuTLS tools cannot do: gnutls-serv's echo cannot carry the binary pattern
(line-based, C strings), and gnutls-cli keeps sessions only inside one
process.  gnutls.py uses this for the server role, and for the client role
when a connection needs a session of an earlier one, 0-RTT or a KeyUpdate.

Only GnuTLS's documented API is called (gnutls.h of GnuTLS 3.7); the
report fields come from GnuTLS's own answers (gnutls_cipher_get,
gnutls_group_get, gnutls_session_is_resumed, gnutls_session_get_flags,
gnutls_alpn_get_selected_protocol, gnutls_certificate_get_peers,
gnutls_ocsp_status_request_get, gnutls_alert_get ...).
"""

import ctypes
import ctypes.util
import socket
import sys
import threading

from common import ALERTS, Report, Watchdog, pattern, print_accept

_lib = ctypes.CDLL(ctypes.util.find_library("gnutls") or "libgnutls.so.30")

GNUTLS_SERVER, GNUTLS_CLIENT = 1, 2
GNUTLS_ENABLE_EARLY_DATA = 1 << 20
GNUTLS_CRD_CERTIFICATE = 1
GNUTLS_X509_FMT_PEM = 1
GNUTLS_CERT_REQUIRE = 2
GNUTLS_SHUT_RDWR, GNUTLS_SHUT_WR = 0, 1
GNUTLS_TLS1_3 = 5
GNUTLS_KU_PEER = 1
GNUTLS_NAME_DNS = 1
GNUTLS_SFLAGS_EARLY_DATA = 1 << 10
GNUTLS_ALPN_MANDATORY = 1
E_AGAIN, E_INTERRUPTED = -28, -52
E_FATAL_ALERT_RECEIVED, E_WARNING_ALERT_RECEIVED = -12, -16
E_PREMATURE_TERMINATION = -110
E_DB_ENTRY_EXISTS = -428


class Datum(ctypes.Structure):
    _fields_ = [("data", ctypes.POINTER(ctypes.c_ubyte)), ("size", ctypes.c_uint)]


def _fn(name, restype, *argtypes):
    f = getattr(_lib, name)
    f.restype = restype
    f.argtypes = list(argtypes)
    return f


VP, CP, INT, UINT, SZ = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.c_uint, ctypes.c_size_t
SSZ = ctypes.c_ssize_t
check_version = _fn("gnutls_check_version", CP, CP)
strerror = _fn("gnutls_strerror", CP, INT)
cert_alloc = _fn("gnutls_certificate_allocate_credentials", INT, ctypes.POINTER(VP))
cert_key_file = _fn("gnutls_certificate_set_x509_key_file", INT, VP, CP, CP, INT)
cert_trust_file = _fn("gnutls_certificate_set_x509_trust_file", INT, VP, CP, INT)
cert_ocsp_file = _fn("gnutls_certificate_set_ocsp_status_request_file", INT, VP, CP, UINT)
g_init = _fn("gnutls_init", INT, ctypes.POINTER(VP), UINT)
g_deinit = _fn("gnutls_deinit", None, VP)
prio_direct = _fn("gnutls_priority_set_direct", INT, VP, CP, ctypes.POINTER(CP))
cred_set = _fn("gnutls_credentials_set", INT, VP, INT, VP)
server_set_request = _fn("gnutls_certificate_server_set_request", None, VP, INT)
set_verify_cert = _fn("gnutls_session_set_verify_cert", None, VP, CP, UINT)
transport_int2 = _fn("gnutls_transport_set_int2", None, VP, INT, INT)
hs_timeout = _fn("gnutls_handshake_set_timeout", None, VP, UINT)
handshake = _fn("gnutls_handshake", INT, VP)
rec_recv = _fn("gnutls_record_recv", SSZ, VP, VP, SZ)
rec_send = _fn("gnutls_record_send", SSZ, VP, VP, SZ)
bye = _fn("gnutls_bye", INT, VP, INT)
ticket_keygen = _fn("gnutls_session_ticket_key_generate", INT, ctypes.POINTER(Datum))
ticket_server = _fn("gnutls_session_ticket_enable_server", INT, VP, ctypes.POINTER(Datum))
get_data2 = _fn("gnutls_session_get_data2", INT, VP, ctypes.POINTER(Datum))
set_data = _fn("gnutls_session_set_data", INT, VP, VP, SZ)
is_resumed = _fn("gnutls_session_is_resumed", INT, VP)
get_flags = _fn("gnutls_session_get_flags", UINT, VP)
protocol_get = _fn("gnutls_protocol_get_version", INT, VP)
cipher_get = _fn("gnutls_cipher_get", INT, VP)
cipher_name = _fn("gnutls_cipher_get_name", CP, INT)
group_get = _fn("gnutls_group_get", INT, VP)
group_name = _fn("gnutls_group_get_name", CP, INT)
alpn_set = _fn("gnutls_alpn_set_protocols", INT, VP, ctypes.POINTER(Datum), UINT, UINT)
alpn_get = _fn("gnutls_alpn_get_selected_protocol", INT, VP, ctypes.POINTER(Datum))
sni_set = _fn("gnutls_server_name_set", INT, VP, INT, VP, SZ)
sni_get = _fn("gnutls_server_name_get", INT, VP, VP, ctypes.POINTER(SZ),
              ctypes.POINTER(UINT), UINT)
peers_get = _fn("gnutls_certificate_get_peers", ctypes.POINTER(Datum), VP, ctypes.POINTER(UINT))
ocsp_enable = _fn("gnutls_ocsp_status_request_enable_client", INT, VP, VP, SZ, VP)
ocsp_get = _fn("gnutls_ocsp_status_request_get", INT, VP, ctypes.POINTER(Datum))
alert_get = _fn("gnutls_alert_get", INT, VP)
alert_send_appropriate = _fn("gnutls_alert_send_appropriate", INT, VP, INT)
error_to_alert = _fn("gnutls_error_to_alert", INT, INT, ctypes.POINTER(INT))
key_update = _fn("gnutls_session_key_update", INT, VP, UINT)
max_recv_size = _fn("gnutls_record_set_max_recv_size", SSZ, VP, SZ)
max_early = _fn("gnutls_record_set_max_early_data_size", INT, VP, SZ)
send_early = _fn("gnutls_record_send_early_data", SSZ, VP, VP, SZ)
recv_early = _fn("gnutls_record_recv_early_data", SSZ, VP, VP, SZ)
ar_init = _fn("gnutls_anti_replay_init", INT, ctypes.POINTER(VP))
ar_enable = _fn("gnutls_anti_replay_enable", None, VP, VP)
DB_ADD = ctypes.CFUNCTYPE(INT, VP, ctypes.c_long, ctypes.POINTER(Datum), ctypes.POINTER(Datum))
ar_set_add = _fn("gnutls_anti_replay_set_add_function", None, VP, DB_ADD)

CIPHERS = {"AES-128-GCM": "TLS_AES_128_GCM_SHA256", "AES-256-GCM": "TLS_AES_256_GCM_SHA384",
           "CHACHA20-POLY1305": "TLS_CHACHA20_POLY1305_SHA256"}
GROUPS = {"X25519": "x25519", "SECP256R1": "secp256r1", "SECP384R1": "secp384r1",
          "SECP521R1": "secp521r1", "X448": "x448"}


def version():
    return check_version(None).decode()


def err_text(rc):
    return strerror(rc).decode("utf-8", "replace")


class TLSError(Exception):
    def __init__(self, rc, alert=None):
        super().__init__(err_text(rc))
        self.rc, self.alert = rc, alert


def _check(rc, what):
    if rc < 0:
        raise TLSError(rc)
    return rc


def _retry(f, *a):
    while True:
        rc = f(*a)
        if rc not in (E_AGAIN, E_INTERRUPTED):
            return rc


def _alert_name(code):
    return ALERTS.get(code, "alert_%d" % code)


def _datum_list(items):
    arr = (Datum * len(items))()
    keep = []
    for i, s in enumerate(items):
        b = ctypes.create_string_buffer(s.encode(), len(s))
        keep.append(b)
        arr[i].data = ctypes.cast(b, ctypes.POINTER(ctypes.c_ubyte))
        arr[i].size = len(s)
    return arr, keep


class PCert(ctypes.Structure):
    _fields_ = [("pubkey", VP), ("cert", Datum), ("type", INT)]


RETRIEVE2 = ctypes.CFUNCTYPE(INT, VP, ctypes.POINTER(Datum), INT, VP, INT,
                             ctypes.POINTER(ctypes.POINTER(PCert)), ctypes.POINTER(UINT),
                             ctypes.POINTER(VP))
set_retrieve2 = _fn("gnutls_certificate_set_retrieve_function2", None, VP, RETRIEVE2)
pcert_import_file = _fn("gnutls_pcert_list_import_x509_file", INT, ctypes.POINTER(PCert),
                        ctypes.POINTER(UINT), CP, INT, VP, VP, UINT)
privkey_init = _fn("gnutls_privkey_init", INT, ctypes.POINTER(VP))
privkey_import_raw = _fn("gnutls_privkey_import_x509_raw", INT, VP, ctypes.POINTER(Datum), INT,
                         CP, UINT)


class Credentials:
    def __init__(self, o, role):
        self.p = VP()
        _check(cert_alloc(ctypes.byref(self.p)), "credentials")
        if o.cert and role == "client":
            # A client sends its certificate whenever asked (as gnutls-cli
            # does, through a retrieve callback): GnuTLS's own selection
            # would keep it back when the request's CA list does not name
            # the leaf's issuer.
            self.pcerts = (PCert * 8)()
            n = UINT(8)
            _check(pcert_import_file(self.pcerts, ctypes.byref(n), o.cert.encode(),
                                     GNUTLS_X509_FMT_PEM, None, None, 0), "client chain")
            self.npcerts = n.value
            self.pkey = VP()
            _check(privkey_init(ctypes.byref(self.pkey)), "private key")
            kb = open(o.key, "rb").read()
            self._kbuf = ctypes.create_string_buffer(kb, len(kb))
            kd = Datum(ctypes.cast(self._kbuf, ctypes.POINTER(ctypes.c_ubyte)), len(kb))
            _check(privkey_import_raw(self.pkey, ctypes.byref(kd), GNUTLS_X509_FMT_PEM, None, 0),
                   "private key")

            @RETRIEVE2
            def retrieve(sess, req_ca, nreqs, algos, nalgos, pcert, pcert_len, pkey):
                pcert[0] = ctypes.cast(self.pcerts, ctypes.POINTER(PCert))
                pcert_len[0] = self.npcerts
                pkey[0] = self.pkey
                return 0
            self._retrieve = retrieve
            set_retrieve2(self.p, retrieve)
        elif o.cert:
            _check(cert_key_file(self.p, o.cert.encode(), o.key.encode(), GNUTLS_X509_FMT_PEM),
                   "certificate")
        if o.ca:
            _check(cert_trust_file(self.p, o.ca.encode(), GNUTLS_X509_FMT_PEM), "trust")
        if role == "server" and o.ocsp:
            _check(cert_ocsp_file(self.p, o.ocsp.encode(), 0), "ocsp")


def _session(o, role, creds, prio, flags=0):
    s = VP()
    _check(g_init(ctypes.byref(s), (GNUTLS_SERVER if role == "server" else GNUTLS_CLIENT) | flags),
           "init")
    errpos = CP()
    _check(prio_direct(s, prio.encode(), ctypes.byref(errpos)), "priority")
    _check(cred_set(s, GNUTLS_CRD_CERTIFICATE, creds.p), "credentials")
    if o.alpn:
        arr, keep = _datum_list(o.alpn)
        _check(alpn_set(s, arr, len(o.alpn), GNUTLS_ALPN_MANDATORY if role == "server" else 0),
               "alpn")
    if o.record_size_limit is not None:
        # GnuTLS takes the plaintext size and, in TLS 1.3, advertises it + 1
        # (the inner content type byte): the protocol's value is the
        # extension's.
        _check(max_recv_size(s, o.record_size_limit - 1), "record size limit")
    hs_timeout(s, int(o.timeout * 1000))
    return s


def _fill(r, s, role):
    r["version"] = {GNUTLS_TLS1_3: "TLSv1.3", 4: "TLSv1.2"}.get(protocol_get(s))
    c = cipher_name(cipher_get(s))
    r["cipher"] = CIPHERS.get(c.decode()) if c else None
    g = group_name(group_get(s))
    r["group"] = GROUPS.get(g.decode(), g.decode()) if g else None
    r["resumed"] = bool(is_resumed(s))
    d = Datum()
    r["alpn"] = (ctypes.string_at(d.data, d.size).decode("ascii", "replace")
                 if alpn_get(s, ctypes.byref(d)) == 0 else None)
    n = UINT(0)
    peers_get(s, ctypes.byref(n))
    r["peer_certs"] = n.value
    if role == "client":
        # on a resumed connection GnuTLS answers from the session (no
        # Certificate message came): it cannot tell
        r["ocsp_stapled"] = (None if r["resumed"] else
                             ocsp_get(s, ctypes.byref(Datum())) == 0)
    else:
        buf = ctypes.create_string_buffer(256)
        ln, typ = SZ(256), UINT(0)
        r["server_name"] = (buf.value.decode("ascii", "replace")
                            if sni_get(s, buf, ctypes.byref(ln), ctypes.byref(typ), 0) == 0
                            else None)


def _fail(r, s, rc, sent_alert_possible):
    r["error"] = err_text(rc)
    if rc in (E_FATAL_ALERT_RECEIVED, E_WARNING_ALERT_RECEIVED):
        r["alert"] = _alert_name(alert_get(s))
    elif sent_alert_possible:
        level = INT(0)
        a = error_to_alert(rc, ctypes.byref(level))
        if a >= 0:
            alert_send_appropriate(s, rc)
            r["alert"] = _alert_name(a)
    r["close"] = "eof" if rc == E_PREMATURE_TERMINATION else "error"


def _send_all(s, data):
    buf = ctypes.create_string_buffer(data, len(data))
    off = 0
    while off < len(data):
        n = _retry(rec_send, s, ctypes.byref(buf, off), min(16384, len(data) - off))
        if n < 0:
            raise TLSError(n)
        off += n


def _key_update(s, r):
    _check(_retry(key_update, s, GNUTLS_KU_PEER), "key update")
    r["key_updates_sent"] += 1


# ---------------------------------------------------------------------------
# server
# ---------------------------------------------------------------------------

def server(o, prio):
    creds = Credentials(o, "server")
    tkey = Datum()
    _check(ticket_keygen(ctypes.byref(tkey)), "ticket key")
    seen = set()

    @DB_ADD
    def db_add(ptr, exp, key, data):
        k = ctypes.string_at(key.contents.data, key.contents.size)
        if k in seen:
            return E_DB_ENTRY_EXISTS
        seen.add(k)
        return 0
    ar = VP()
    if o.early_data is not None:
        _check(ar_init(ctypes.byref(ar)), "anti-replay")
        ar_set_add(ar, db_add)
    ls = socket.create_server((o.listen_host, o.listen_port))
    print_accept(o.listen_host, ls.getsockname()[1])
    all_ok = True
    for k in range(1, o.count + 1):
        conn, _ = ls.accept()
        all_ok &= _server_conn(o, prio, creds, tkey, ar, conn, k)
    ls.close()
    return all_ok


def _server_conn(o, prio, creds, tkey, ar, conn, k):
    r = Report("server", "gnutls", k)
    r.update(sent=0, received=0, key_updates_sent=0)
    flags = GNUTLS_ENABLE_EARLY_DATA if o.early_data is not None else 0
    s = _session(o, "server", creds, prio, flags)
    # a blocking socket (GnuTLS would spin on EAGAIN on a Python timeout
    # socket); the watchdog bounds every wait instead
    conn.settimeout(None)
    wd = Watchdog(conn, o.timeout)
    try:
        _check(ticket_server(s, ctypes.byref(tkey)), "tickets")
        if o.verify_client == "require":
            server_set_request(s, GNUTLS_CERT_REQUIRE)
            set_verify_cert(s, None, 0)
        if o.early_data is not None:
            _check(max_early(s, o.early_data), "early data size")
            ar_enable(s, ar)
        transport_int2(s, conn.fileno(), conn.fileno())
        rc = _retry(handshake, s)
        if rc < 0:
            _fail(r, s, rc, True)
            r.emit()
            return False
        _fill(r, s, "server")
        if o.key_update:
            _key_update(s, r)
        buf = ctypes.create_string_buffer(65536)
        r["early_data"] = None
        if o.early_data is not None:
            accepted = bool(get_flags(s) & GNUTLS_SFLAGS_EARLY_DATA)
            # GnuTLS does not say whether a client offered 0-RTT that it
            # refused: "rejected" cannot be told from "not_offered" here.
            r["early_data"] = "accepted" if accepted else None
            while accepted:
                n = recv_early(s, buf, 65536)
                if n <= 0:
                    break
                r["received"] += n
                _send_all(s, buf.raw[:n])
                r["sent"] += n
        while True:
            n = _retry(rec_recv, s, buf, 65536)
            if n == 0:
                r["close"] = "close_notify"
                break
            if n < 0:
                _fail(r, s, n, False)
                break
            r["received"] += n
            _send_all(s, buf.raw[:n])
            r["sent"] += n
            wd.kick()
        if r["close"] == "close_notify":
            _retry(bye, s, GNUTLS_SHUT_WR)
            r["ok"] = True
    except (TLSError, OSError) as e:
        r["error"] = str(e)
        r["close"] = r["close"] or "error"
    finally:
        wd.stop()
        g_deinit(s)
        conn.close()
    if wd.fired and not r["ok"]:
        r["error"] = f"timeout ({r['error']})"
    r.emit()
    return bool(r["ok"])


# ---------------------------------------------------------------------------
# client
# ---------------------------------------------------------------------------

def client(o, prio):
    creds = Credentials(o, "client")
    session = None
    all_ok = True
    for k in range(1, o.count + 1):
        ok, new = _client_conn(o, prio, creds, k, session)
        all_ok &= ok
        if new is not None:
            session = new
    return all_ok


def _client_conn(o, prio, creds, k, session):
    r = Report("client", "gnutls", k)
    r.update(sent=0, received=0, key_updates_sent=0, server_name=o.servername,
             early_data="not_offered")
    data = pattern(o.send_bytes)
    flags = GNUTLS_ENABLE_EARLY_DATA if o.early_data_bytes else 0
    s = _session(o, "client", creds, prio, flags)
    new_session = None
    sock = wd = None
    try:
        name = o.servername.encode()
        _check(sni_set(s, GNUTLS_NAME_DNS, name, len(name)), "sni")
        set_verify_cert(s, name, 0)
        if o.ocsp:
            _check(ocsp_enable(s, None, 0, None), "ocsp")
        early_n = 0
        if session is not None:
            _check(set_data(s, session, len(session)), "session")
            if o.early_data_bytes:
                early_n = o.early_data_bytes
                eb = ctypes.create_string_buffer(data[:early_n], early_n)
                _check(send_early(s, eb, early_n), "early data")
        sock = socket.create_connection((o.host, o.port), timeout=o.timeout)
        sock.settimeout(None)
        wd = Watchdog(sock, o.timeout)
        transport_int2(s, sock.fileno(), sock.fileno())
        rc = _retry(handshake, s)
        if rc < 0:
            _fail(r, s, rc, True)
            r["echo_ok"] = False if o.send_bytes else None
            r.emit()
            return False, None
        _fill(r, s, "client")
        rest = data
        if early_n:
            accepted = bool(get_flags(s) & GNUTLS_SFLAGS_EARLY_DATA)
            r["early_data"] = "accepted" if accepted else "rejected"
            if accepted:
                rest = data[early_n:]
                r["sent"] = early_n
        if o.key_update:
            _key_update(s, r)
        # the data goes from a writer thread while this one reads the echo
        # (GnuTLS allows gnutls_record_send and _recv in two threads)
        werr = []

        def writer():
            try:
                _send_all(s, rest)
            except TLSError as e:
                werr.append(e)
        wt = threading.Thread(target=writer, daemon=True)
        wt.start()
        got = bytearray()
        buf = ctypes.create_string_buffer(65536)
        while len(got) < len(data):
            n = _retry(rec_recv, s, buf, 65536)
            if n <= 0:
                if n < 0:
                    _fail(r, s, n, False)
                break
            got += buf.raw[:n]
            wd.kick()
        wt.join(o.timeout)
        if werr and r["error"] is None:
            r["error"], r["close"] = str(werr[0]), "error"
        r["sent"] += len(rest) if not werr else 0
        r["received"] = len(got)
        r["echo_ok"] = bytes(got) == data
        d = Datum()
        if get_data2(s, ctypes.byref(d)) == 0 and d.size:
            new_session = ctypes.string_at(d.data, d.size)
        if o.hold:
            print("ECHOED", flush=True)
            wd.pause()      # the harness decides how long we hold
            sys.stdin.buffer.read()
            wd.resume(o.timeout)
        if r["close"] is None:
            rc = _retry(bye, s, GNUTLS_SHUT_WR)
            while True:   # until the server's close_notify (or EOF)
                n = _retry(rec_recv, s, buf, 65536)
                if n == 0:
                    r["close"] = "close_notify"
                    break
                if n < 0:
                    _fail(r, s, n, False)
                    break
        r["ok"] = bool(r["echo_ok"] is not False and r["close"] == "close_notify")
    except (TLSError, OSError) as e:
        r["error"] = str(e)
        r["close"] = r["close"] or "error"
        if isinstance(e, TLSError) and e.rc in (E_FATAL_ALERT_RECEIVED,):
            r["alert"] = _alert_name(alert_get(s))
    finally:
        if wd is not None:
            wd.stop()
        g_deinit(s)
        if sock is not None:
            sock.close()
    if wd is not None and wd.fired and not r["ok"]:
        r["error"] = f"timeout ({r['error']})"
    r.emit()
    return bool(r["ok"]), new_session
