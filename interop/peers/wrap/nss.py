#!/usr/bin/env python3
"""interop/peers/PROTOCOL.md for NSS (Debian's libnss3 / libnss3-tools).

    python3 interop/peers/wrap/nss.py caps|server|client [flags]

NSS's test tools cannot carry the protocol (README.md): selfserv answers
HTTP-style and does not echo the binary pattern, and tstclnt has no ALPN,
KeyUpdate, record_size_limit or way to send data on several connections.
So this peer calls libssl3/libnss3/libnspr4 themselves through ctypes (NSS's
public and experimental API only); the NSS tools build its certificate
database: `certutil -N --empty-password`, the CA with `certutil -A -t
"CT,C,C"`, the certificate and key with `openssl pkcs12 -export` and
`pk12util -i`.  version: NSS_GetVersion().
"""

import ctypes
import ctypes.util
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
from common import Report, Watchdog, pattern, print_accept  # noqa: E402

IMPL = "nss"


def _load(name, fallback):
    return ctypes.CDLL(ctypes.util.find_library(name) or fallback)


nspr = _load("nspr4", "libnspr4.so")
nss3 = _load("nss3", "libnss3.so")
ssl3 = _load("ssl3", "libssl3.so")

VP, CP, INT, UINT = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.c_uint
U16, I64 = ctypes.c_uint16, ctypes.c_int64
SECSuccess = 0
PR_WOULD_BLOCK_ERROR = -5998

SSL_SECURITY, SSL_HANDSHAKE_AS_CLIENT, SSL_HANDSHAKE_AS_SERVER = 1, 5, 6
SSL_REQUEST_CERTIFICATE, SSL_REQUIRE_CERTIFICATE = 3, 10
SSL_ENABLE_SESSION_TICKETS, SSL_ENABLE_OCSP_STAPLING, SSL_ENABLE_ALPN = 18, 24, 26
SSL_ENABLE_0RTT_DATA, SSL_RECORD_SIZE_LIMIT = 33, 34
SSL_REQUIRE_ALWAYS = 1
SUITES = {"TLS_AES_128_GCM_SHA256": 0x1301, "TLS_AES_256_GCM_SHA384": 0x1302,
          "TLS_CHACHA20_POLY1305_SHA256": 0x1303}
GROUPS = {"x25519": 29, "secp256r1": 23, "secp384r1": 24}
GROUP_NAMES = {29: "x25519", 23: "secp256r1", 24: "secp384r1", 25: "secp521r1",
               256: "ffdhe2048", 257: "ffdhe3072"}


class VersionRange(ctypes.Structure):
    _fields_ = [("min", U16), ("max", U16)]


class ChannelInfo(ctypes.Structure):
    _fields_ = [("length", ctypes.c_uint32), ("protocolVersion", U16), ("cipherSuite", U16),
                ("authKeyBits", ctypes.c_uint32), ("keaKeyBits", ctypes.c_uint32),
                ("creationTime", ctypes.c_uint32), ("lastAccessTime", ctypes.c_uint32),
                ("expirationTime", ctypes.c_uint32), ("sessionIDLength", ctypes.c_uint32),
                ("sessionID", ctypes.c_uint8 * 32), ("compressionMethodName", CP),
                ("compressionMethod", INT), ("extendedMasterSecretUsed", INT),
                ("earlyDataAccepted", INT), ("keaType", INT), ("keaGroup", INT),
                ("symCipher", INT), ("macAlgorithm", INT), ("authType", INT),
                ("signatureScheme", INT), ("originalKeaGroup", INT), ("resumed", INT),
                ("peerDelegCred", INT), ("pskType", INT), ("echAccepted", INT),
                ("isFIPS", INT)]


class SECItem(ctypes.Structure):
    _fields_ = [("type", INT), ("data", ctypes.POINTER(ctypes.c_ubyte)), ("len", UINT)]


class SECItemArray(ctypes.Structure):
    _fields_ = [("items", ctypes.POINTER(SECItem)), ("len", UINT)]


class ExtraServerCertData(ctypes.Structure):
    _fields_ = [("authType", INT), ("certChain", VP), ("stapledOCSPResponses",
                                                       ctypes.POINTER(SECItemArray)),
                ("signedCertTimestamps", VP), ("delegCred", VP), ("delegCredPrivKey", VP)]


class PRCList(ctypes.Structure):
    pass


PRCList._fields_ = [("next", ctypes.POINTER(PRCList)), ("prev", ctypes.POINTER(PRCList))]


def _fn(lib, name, restype, *argtypes):
    f = getattr(lib, name)
    f.restype = restype
    f.argtypes = list(argtypes)
    return f


NSS_GetVersion = _fn(nss3, "NSS_GetVersion", CP)
NSS_Init = _fn(nss3, "NSS_Init", INT, CP)
NSS_SetDomesticPolicy = _fn(ssl3, "NSS_SetDomesticPolicy", INT)
PK11_FindCertFromNickname = _fn(nss3, "PK11_FindCertFromNickname", VP, CP, VP)
PK11_FindKeyByAnyCert = _fn(nss3, "PK11_FindKeyByAnyCert", VP, VP, VP)
CERT_DestroyCertList = _fn(nss3, "CERT_DestroyCertList", None, VP)
PR_ImportTCPSocket = _fn(nspr, "PR_ImportTCPSocket", VP, INT)
PR_Read = _fn(nspr, "PR_Read", INT, VP, VP, INT)
PR_Write = _fn(nspr, "PR_Write", INT, VP, VP, INT)
PR_Close = _fn(nspr, "PR_Close", INT, VP)
PR_Shutdown = _fn(nspr, "PR_Shutdown", INT, VP, INT)
PR_SetSocketOption = _fn(nspr, "PR_SetSocketOption", INT, VP, VP)
PR_SHUTDOWN_SEND = 1
PR_GetError = _fn(nspr, "PR_GetError", INT)
PR_ErrorToName = _fn(nspr, "PR_ErrorToName", CP, INT)
PR_ErrorToString = _fn(nspr, "PR_ErrorToString", CP, INT, INT)
PR_Now = _fn(nspr, "PR_Now", I64)
SSL_ImportFD = _fn(ssl3, "SSL_ImportFD", VP, VP, VP)
SSL_OptionSet = _fn(ssl3, "SSL_OptionSet", INT, VP, INT, INT)
SSL_VersionRangeSet = _fn(ssl3, "SSL_VersionRangeSet", INT, VP, ctypes.POINTER(VersionRange))
SSL_CipherPrefSet = _fn(ssl3, "SSL_CipherPrefSet", INT, VP, INT, INT)
SSL_NamedGroupConfig = _fn(ssl3, "SSL_NamedGroupConfig", INT, VP, ctypes.POINTER(INT), UINT)
SSL_SetURL = _fn(ssl3, "SSL_SetURL", INT, VP, CP)
SSL_SetNextProtoNego = _fn(ssl3, "SSL_SetNextProtoNego", INT, VP, CP, UINT)
SSL_GetNextProto = _fn(ssl3, "SSL_GetNextProto", INT, VP, ctypes.POINTER(INT), CP,
                       ctypes.POINTER(UINT), UINT)
SSL_ConfigServerCert = _fn(ssl3, "SSL_ConfigServerCert", INT, VP, VP, VP,
                           ctypes.POINTER(ExtraServerCertData), UINT)
SSL_ConfigServerSessionIDCache = _fn(ssl3, "SSL_ConfigServerSessionIDCache", INT, INT, UINT,
                                     UINT, CP)
SSL_ResetHandshake = _fn(ssl3, "SSL_ResetHandshake", INT, VP, INT)
SSL_ForceHandshake = _fn(ssl3, "SSL_ForceHandshake", INT, VP)
SSL_GetChannelInfo = _fn(ssl3, "SSL_GetChannelInfo", INT, VP, ctypes.POINTER(ChannelInfo),
                         UINT)
SSL_PeerCertificateChain = _fn(ssl3, "SSL_PeerCertificateChain", ctypes.POINTER(PRCList), VP)
SSL_PeerStapledOCSPResponses = _fn(ssl3, "SSL_PeerStapledOCSPResponses",
                                   ctypes.POINTER(SECItemArray), VP)
SSL_GetClientAuthDataHook = _fn(ssl3, "SSL_GetClientAuthDataHook", INT, VP, VP, CP)
SSL_GetExperimentalAPI = _fn(ssl3, "SSL_GetExperimentalAPI", VP, CP)
SNI_CB = ctypes.CFUNCTYPE(INT, VP, ctypes.POINTER(SECItem), ctypes.c_uint32, VP)
SSL_SNISocketConfigHook = _fn(ssl3, "SSL_SNISocketConfigHook", INT, VP, SNI_CB, VP)
NSS_GetClientAuthData = ctypes.cast(ssl3.NSS_GetClientAuthData, VP)

_KeyUpdate = ctypes.CFUNCTYPE(INT, VP, INT)(SSL_GetExperimentalAPI(b"SSL_KeyUpdate"))
_CreateAntiReplay = ctypes.CFUNCTYPE(INT, I64, I64, UINT, UINT, ctypes.POINTER(VP))(
    SSL_GetExperimentalAPI(b"SSL_CreateAntiReplayContext"))
_SetAntiReplay = ctypes.CFUNCTYPE(INT, VP, VP)(
    SSL_GetExperimentalAPI(b"SSL_SetAntiReplayContext"))
_SetMaxEarlyDataSize = ctypes.CFUNCTYPE(INT, VP, ctypes.c_uint32)(
    SSL_GetExperimentalAPI(b"SSL_SetMaxEarlyDataSize"))


def version():
    return "NSS " + NSS_GetVersion().decode()


def caps():
    return {"impl": IMPL, "version": version(),
            "features": {k: True for k in common.FEATURES}}


def error_text():
    code = PR_GetError()
    name = PR_ErrorToName(code)
    name = name.decode() if name else str(code)
    text = PR_ErrorToString(code, 0)
    return code, name, (f"{name}: {text.decode()}" if text else name)


# NSS error names for alerts received (sslerr.h) -> IANA alert names
ALERT_ERRORS = {
    "SSL_ERROR_RX_CERTIFICATE_REQUIRED_ALERT": "certificate_required",
    "SSL_ERROR_NEXT_PROTOCOL_NO_PROTOCOL": "no_application_protocol",
    "SSL_ERROR_NO_APPLICATION_PROTOCOL": "no_application_protocol",
    "SSL_ERROR_HANDSHAKE_FAILURE_ALERT": "handshake_failure",
    "SSL_ERROR_BAD_CERT_ALERT": "bad_certificate",
    "SSL_ERROR_UNKNOWN_CA_ALERT": "unknown_ca",
    "SSL_ERROR_DECODE_ERROR_ALERT": "decode_error",
    "SSL_ERROR_ILLEGAL_PARAMETER_ALERT": "illegal_parameter",
    "SSL_ERROR_PROTOCOL_VERSION_ALERT": "protocol_version",
    "SSL_ERROR_INTERNAL_ERROR_ALERT": "internal_error",
    "SSL_ERROR_DECRYPT_ERROR_ALERT": "decrypt_error",
    "SSL_ERROR_MISSING_EXTENSION_ALERT": "missing_extension",
    "SSL_ERROR_UNSUPPORTED_EXTENSION_ALERT": "unsupported_extension",
    "SSL_ERROR_NO_CERTIFICATE": "certificate_required",
}


def make_db(o, tmp, role):
    """An NSS database in tmp: the CA trusted, our certificate and key."""
    db = "sql:" + tmp

    def run(argv, **kw):
        try:
            p = subprocess.run(argv, capture_output=True, timeout=60, **kw)
        except FileNotFoundError:
            raise RuntimeError(f"{argv[0]} not found (Debian package "
                               f"{'openssl' if argv[0] == 'openssl' else 'libnss3-tools'})")
        if p.returncode != 0:
            raise RuntimeError(f"{argv[0]} failed: {p.stderr.decode(errors='replace')[-300:]}")
    run(["certutil", "-N", "-d", db, "--empty-password"])
    if o.ca:
        run(["certutil", "-A", "-d", db, "-n", "ca", "-t", "CT,C,C", "-i", o.ca])
    if o.cert:
        p12 = os.path.join(tmp, "me.p12")
        run(["openssl", "pkcs12", "-export", "-in", o.cert, "-inkey", o.key, "-name", "me",
             "-passout", "pass:", "-out", p12])
        run(["pk12util", "-i", p12, "-d", db, "-W", ""])
    if NSS_Init(db.encode()) != SECSuccess:
        raise RuntimeError("NSS_Init: " + error_text()[2])
    NSS_SetDomesticPolicy()


def _check(rc, what):
    if rc != SECSuccess:
        raise RuntimeError(f"{what}: {error_text()[2]}")


def configure(fd, o, role):
    _check(SSL_OptionSet(fd, SSL_SECURITY, 1), "SSL_SECURITY")
    _check(SSL_OptionSet(fd, SSL_HANDSHAKE_AS_SERVER if role == "server"
                         else SSL_HANDSHAKE_AS_CLIENT, 1), "handshake role")
    vr = VersionRange(0x0304, 0x0304)
    _check(SSL_VersionRangeSet(fd, ctypes.byref(vr)), "version range")
    if o.suites:
        for name, code in SUITES.items():
            _check(SSL_CipherPrefSet(fd, code, 1 if name in o.suites else 0), "suites")
    if o.groups:
        missing = [g for g in o.groups if g not in GROUPS]
        if missing:
            raise common.UsageError(f"--groups {','.join(missing)}: not in NSS 3.87")
        arr = (INT * len(o.groups))(*[GROUPS[g] for g in o.groups])
        _check(SSL_NamedGroupConfig(fd, arr, len(o.groups)), "groups")
    _check(SSL_OptionSet(fd, SSL_ENABLE_SESSION_TICKETS, 1), "tickets")
    if o.alpn:
        wire = b"".join(bytes([len(a)]) + a.encode() for a in o.alpn)
        _check(SSL_OptionSet(fd, SSL_ENABLE_ALPN, 1), "alpn")
        _check(SSL_SetNextProtoNego(fd, wire, len(wire)), "alpn")
    if o.record_size_limit is not None:
        _check(SSL_OptionSet(fd, SSL_RECORD_SIZE_LIMIT, o.record_size_limit),
               "record size limit")


def fill(r, fd, role):
    info = ChannelInfo()
    if SSL_GetChannelInfo(fd, ctypes.byref(info), ctypes.sizeof(info)) == SECSuccess:
        r["version"] = {0x0304: "TLSv1.3", 0x0303: "TLSv1.2"}.get(info.protocolVersion)
        r["cipher"] = {v: k for k, v in SUITES.items()}.get(info.cipherSuite,
                                                            "0x%04x" % info.cipherSuite)
        r["group"] = GROUP_NAMES.get(info.keaGroup, str(info.keaGroup))
        r["resumed"] = bool(info.resumed)
        r["early_accepted"] = bool(info.earlyDataAccepted)
    state = INT(0)
    buf = ctypes.create_string_buffer(256)
    ln = UINT(0)
    if SSL_GetNextProto(fd, ctypes.byref(state), buf, ctypes.byref(ln), 256) == SECSuccess \
            and state.value in (1, 3) and ln.value:
        r["alpn"] = buf.raw[:ln.value].decode("ascii", "replace")
    chain = SSL_PeerCertificateChain(fd)
    if chain:
        n = 0
        head = ctypes.cast(chain, ctypes.POINTER(PRCList))
        node = head.contents.next
        while ctypes.addressof(node.contents) != ctypes.addressof(head.contents):
            n += 1
            node = node.contents.next
        CERT_DestroyCertList(chain)
        r["peer_certs"] = n
    else:
        r["peer_certs"] = 0
    if role == "client":
        st = SSL_PeerStapledOCSPResponses(fd)
        r["ocsp_stapled"] = (None if r.get("resumed") else bool(st and st.contents.len > 0))


class SocketOptionData(ctypes.Structure):
    # PRSocketOptionData: the option, then a union (8-byte aligned: it holds
    # PRNetAddr / PRUint64 members), whose first word is the PRBool
    _fields_ = [("option", INT), ("value", ctypes.c_uint64 * 40)]


def set_nonblocking(fd, on):
    d = SocketOptionData()
    d.option = 0            # PR_SockOpt_Nonblocking
    d.value[0] = 1 if on else 0
    _check(PR_SetSocketOption(fd, ctypes.byref(d)), "PR_SockOpt_Nonblocking")


def key_update(fd, r):
    _check(_KeyUpdate(fd, 1), "SSL_KeyUpdate")
    r["key_updates_sent"] += 1


def write_all(fd, data):
    buf = ctypes.create_string_buffer(data, len(data))
    off = 0
    while off < len(data):
        n = PR_Write(fd, ctypes.byref(buf, off), min(16384, len(data) - off))
        if n <= 0:
            raise RuntimeError("write: " + error_text()[2])
        off += n


def fail(r, where):
    code, name, text = error_text()
    r["error"] = f"{where}: {text}"
    r["alert"] = ALERT_ERRORS.get(name)
    r["close"] = "error"


def _finish(r):
    del r["early_accepted"]


# ---------------------------------------------------------------------------
# server
# ---------------------------------------------------------------------------

def server(o, caps_):
    tmp = tempfile.mkdtemp(prefix="wrap-nss-")
    try:
        make_db(o, tmp, "server")
        _check(SSL_ConfigServerSessionIDCache(100, 0, 0, tmp.encode()), "session cache")
        cert = PK11_FindCertFromNickname(b"me", None)
        key = PK11_FindKeyByAnyCert(cert, None) if cert else None
        if not cert or not key:
            raise RuntimeError("no server certificate/key in the database")
        extra = ExtraServerCertData()
        ocsp_keep = None
        if o.ocsp:
            der = open(o.ocsp, "rb").read()
            buf = ctypes.create_string_buffer(der, len(der))
            item = SECItem(0, ctypes.cast(buf, ctypes.POINTER(ctypes.c_ubyte)), len(der))
            arr = SECItemArray(ctypes.pointer(item), 1)
            ocsp_keep = (buf, item, arr)
            extra.stapledOCSPResponses = ctypes.pointer(arr)
        ar = VP()
        if o.early_data is not None:
            window = 10 * 1000000
            # "early data will be rejected until |window| elapses": start the
            # window one width in the past so 0-RTT works at once
            _check(_CreateAntiReplay(PR_Now() - window, window, 7, 14, ctypes.byref(ar)),
                   "anti-replay")
        ls = socket.create_server((o.listen_host, o.listen_port))
        print_accept(o.listen_host, ls.getsockname()[1])
        all_ok = True
        for k in range(1, o.count + 1):
            conn, _ = ls.accept()
            all_ok &= server_conn(o, conn, k, cert, key, extra, ar)
        ls.close()
        del ocsp_keep
        return all_ok
    except common.UsageError as e:
        print(f"{IMPL}: usage: {e}", file=sys.stderr)
        sys.exit(2)
    except RuntimeError as e:
        print(f"{IMPL}: {e}", file=sys.stderr)
        return False
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def server_conn(o, conn, k, cert, key, extra, ar):
    r = Report("server", IMPL, k)
    r.update(sent=0, received=0, key_updates_sent=0, early_accepted=False)
    wd = Watchdog(conn, o.timeout)
    fd = SSL_ImportFD(None, PR_ImportTCPSocket(conn.detach()))
    names = []

    @SNI_CB
    def on_sni(sfd, arr, n, arg):
        if n:
            names.append(ctypes.string_at(arr[0].data, arr[0].len).decode("ascii", "replace"))
        return -1   # SSL_SNI_CURRENT_CONFIG_IS_USED
    try:
        configure(fd, o, "server")
        _check(SSL_ConfigServerCert(fd, cert, key, ctypes.byref(extra),
                                    ctypes.sizeof(extra)), "server certificate")
        _check(SSL_SNISocketConfigHook(fd, on_sni, None), "sni hook")
        if o.verify_client == "require":
            _check(SSL_OptionSet(fd, SSL_REQUEST_CERTIFICATE, 1), "request certificate")
            _check(SSL_OptionSet(fd, SSL_REQUIRE_CERTIFICATE, SSL_REQUIRE_ALWAYS),
                   "require certificate")
        if o.early_data is not None:
            _check(SSL_OptionSet(fd, SSL_ENABLE_0RTT_DATA, 1), "0-RTT")
            _check(_SetAntiReplay(fd, ar), "anti-replay")
            _check(_SetMaxEarlyDataSize(fd, o.early_data), "max early data size")
        _check(SSL_ResetHandshake(fd, 1), "reset handshake")
        buf = ctypes.create_string_buffer(65536)
        early = bytearray()
        while SSL_ForceHandshake(fd) != SECSuccess:
            if PR_GetError() != PR_WOULD_BLOCK_ERROR:
                fail(r, "handshake")
                r.emit()
                return False
            n = PR_Read(fd, buf, 65536)     # 0-RTT data before the handshake ends
            if n > 0:
                early += buf.raw[:n]
            elif n < 0 and PR_GetError() != PR_WOULD_BLOCK_ERROR:
                fail(r, "handshake")
                r.emit()
                return False
        fill(r, fd, "server")
        r["server_name"] = names[0] if names else None
        r["early_data"] = "accepted" if r["early_accepted"] else None
        if o.key_update:
            key_update(fd, r)
        if early:
            r["received"] += len(early)
            write_all(fd, bytes(early))
            r["sent"] += len(early)
        while True:
            n = PR_Read(fd, buf, 65536)
            if n == 0:
                # NSS reads 0 for a close_notify and for a TCP EOF alike
                r["close"] = None
                break
            if n < 0:
                fail(r, "read")
                if wd.fired:
                    r["error"] = "timeout"
                break
            r["received"] += n
            write_all(fd, buf.raw[:n])
            r["sent"] += n
            wd.kick()
        r["ok"] = r["error"] is None
    except RuntimeError as e:
        r["error"] = str(e)
        r["close"] = r["close"] or "error"
    finally:
        PR_Close(fd)    # sends close_notify
        wd.stop()
    _finish(r)
    r.emit()
    return bool(r["ok"])


# ---------------------------------------------------------------------------
# client
# ---------------------------------------------------------------------------

class Relay:
    """A loopback relay in front of the server, for 0-RTT runs.  NSS sends
    0-RTT only while its handshake waits for the server's flight; when that
    flight arrives during SSL_ForceHandshake (measured: whenever the call
    takes more than about half a millisecond) NSS completes the handshake
    there and the early data goes in 1-RTT.  The relay holds the server's
    bytes back until the early data is written.  Every connection of the run
    goes through the same relay address, since NSS's client session cache
    is keyed by the server's address and port."""

    def __init__(self, target, timeout):
        self.target, self.timeout = target, timeout
        self.ls = socket.create_server(("127.0.0.1", 0))
        self.addr = self.ls.getsockname()

    def connect(self):
        """(socket for NSS, release function)."""
        outer = socket.create_connection(self.target, timeout=self.timeout)
        outer.settimeout(None)
        c = socket.create_connection(self.addr, timeout=self.timeout)
        inner, _ = self.ls.accept()
        released = threading.Event()

        def pump(src, dst, gate):
            if gate is not None:
                gate.wait(self.timeout)
            try:
                while True:
                    b = src.recv(65536)
                    if not b:
                        break
                    dst.sendall(b)
            except OSError:
                pass
            for sk, how in ((dst, socket.SHUT_WR), (src, socket.SHUT_RD)):
                try:
                    sk.shutdown(how)
                except OSError:
                    pass
        t1 = threading.Thread(target=pump, args=(inner, outer, None), daemon=True)
        t2 = threading.Thread(target=pump, args=(outer, inner, released), daemon=True)
        t1.start()
        t2.start()
        self.socks = (inner, outer)
        return c, released.set


def client(o, caps_):
    tmp = tempfile.mkdtemp(prefix="wrap-nss-")
    try:
        make_db(o, tmp, "client")
        relay = Relay((o.host, o.port), o.timeout) if o.early_data_bytes else None
        all_ok = True
        for k in range(1, o.count + 1):
            all_ok &= client_conn(o, k, relay)
        return all_ok
    except common.UsageError as e:
        print(f"{IMPL}: usage: {e}", file=sys.stderr)
        sys.exit(2)
    except RuntimeError as e:
        print(f"{IMPL}: {e}", file=sys.stderr)
        return False
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def client_conn(o, k, relay):
    r = Report("client", IMPL, k)
    r.update(sent=0, received=0, key_updates_sent=0, server_name=o.servername,
             early_accepted=False, early_data="not_offered")
    data = pattern(o.send_bytes)
    release = None
    try:
        if relay is not None:
            sock, release = relay.connect()
            if k == 1:
                release()
        else:
            sock = socket.create_connection((o.host, o.port), timeout=o.timeout)
    except OSError as e:
        r.update(error=str(e), close="error", echo_ok=False if o.send_bytes else None)
        _finish(r)
        r.emit()
        return False
    sock.settimeout(None)
    wd = Watchdog(sock, o.timeout)
    fd = SSL_ImportFD(None, PR_ImportTCPSocket(sock.detach()))
    try:
        configure(fd, o, "client")
        _check(SSL_SetURL(fd, o.servername.encode()), "SNI/hostname")
        if o.ocsp:
            _check(SSL_OptionSet(fd, SSL_ENABLE_OCSP_STAPLING, 1), "OCSP stapling")
        if o.cert:
            _check(SSL_GetClientAuthDataHook(fd, NSS_GetClientAuthData, b"me"), "client cert")
        early_n = o.early_data_bytes if k > 1 else 0
        if early_n:
            _check(SSL_OptionSet(fd, SSL_ENABLE_0RTT_DATA, 1), "0-RTT")
        _check(SSL_ResetHandshake(fd, 0), "reset handshake")
        if early_n:
            # NSS sends 0-RTT only while its handshake waits for the
            # ServerHello: on a blocking socket PR_Write would finish the
            # handshake first and send the data in 1-RTT.  So: non-blocking,
            # ClientHello out (SSL_ForceHandshake would block), then write.
            # (the relay holds the server's flight back meanwhile)
            set_nonblocking(fd, True)
            if SSL_ForceHandshake(fd) != SECSuccess and PR_GetError() != PR_WOULD_BLOCK_ERROR:
                fail(r, "handshake")
                return False
            n = PR_Write(fd, data[:early_n], early_n)
            if n < 0 and PR_GetError() != PR_WOULD_BLOCK_ERROR:
                fail(r, "early data")
                return False
            early_n = max(n, 0)
            set_nonblocking(fd, False)
            # NSS takes early data only when it can send it as 0-RTT (a
            # session whose ticket allows it): otherwise nothing was offered
            if early_n:
                r["early_data"] = "offered"
        if release is not None:
            release()
        if SSL_ForceHandshake(fd) != SECSuccess:
            fail(r, "handshake")
            r["echo_ok"] = False if o.send_bytes else None
            return False
        fill(r, fd, "client")
        rest = data
        if r["early_data"] == "offered":
            if r["early_accepted"] and early_n:
                r["early_data"] = "accepted"
                rest = data[early_n:]
                r["sent"] = early_n
            else:
                r["early_data"] = "rejected"
        if o.key_update:
            key_update(fd, r)
        # the data goes from a writer thread while this one reads the echo
        # (NSS allows one reader and one writer thread on a socket): an
        # echo server that cannot buffer it all still sees it read
        werr = []

        def writer():
            try:
                write_all(fd, rest)
            except RuntimeError as e:
                werr.append(str(e))
        wt = threading.Thread(target=writer, daemon=True)
        wt.start()
        got = bytearray()
        buf = ctypes.create_string_buffer(65536)
        while len(got) < len(data):
            n = PR_Read(fd, buf, 65536)
            if n <= 0:
                if n < 0:
                    fail(r, "read")
                break
            got += buf.raw[:n]
            wd.kick()
        wt.join(o.timeout)
        if werr and r["error"] is None:
            r["error"], r["close"] = werr[0], "error"
        r["sent"] += len(rest) if not werr else 0
        r["received"] = len(got)
        r["echo_ok"] = bytes(got) == data
        if o.hold:
            print("ECHOED", flush=True)
            wd.pause()      # the harness decides how long we hold
            sys.stdin.buffer.read()
            wd.resume(o.timeout)
        if r["error"] is None:
            # our close_notify, then read until the server's (or EOF)
            PR_Shutdown(fd, PR_SHUTDOWN_SEND)
            while True:
                n = PR_Read(fd, buf, 65536)
                if n == 0:
                    # NSS reads 0 for a close_notify and for a TCP EOF
                    # alike (it has no API that tells them apart)
                    break
                if n < 0:
                    fail(r, "close")
                    break
        r["ok"] = bool(r["echo_ok"] is not False and r["error"] is None)
    except RuntimeError as e:
        r["error"] = str(e)
        r["close"] = "error"
    finally:
        # PR_Close sends close_notify; NSS does not wait for the server's
        PR_Close(fd)
        wd.stop()
        _finish(r)
        r.emit()
    return bool(r["ok"])


if __name__ == "__main__":
    common.main(IMPL, caps, server, client)
