"""The sans-I/O Connection (ssl.SSLObject-shaped) and the exceptions."""

from __future__ import annotations

import re
import ssl

import pytest

import ferrule
from ferrule import _ffi
from conftest import (GROUPS, KINDS, REPO, SUITES, client_config, handshake_in_memory, pump,
                      server_config)


def pair(pki, kind="ecdsa-p256", name="localhost", ccfg=None, scfg=None, **ckw):
    c = ferrule.Connection(ccfg or client_config(pki, **ckw), name)
    s = ferrule.Connection(scfg or server_config(pki, kind))
    return c, s


def pem_to_der(path):
    text = path.read_text()
    first = re.search(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", text, re.S)
    return ssl.PEM_cert_to_DER_cert(first.group(0))


@pytest.mark.parametrize("kind", KINDS)
def test_handshake_and_data_every_key_type(pki, kind):
    c, s = pair(pki, kind)
    with pytest.raises(ferrule.WantRead):
        c.do_handshake()  # ClientHello queued, now waiting
    handshake_in_memory(c, s)
    assert c.version() == s.version() == "TLSv1.3"
    assert c.cipher() == ("TLS_AES_128_GCM_SHA256", "TLSv1.3", 128)
    assert c.getpeercert(True) == pem_to_der(pki / f"{kind}.chain.pem")
    assert len(c.get_peer_chain()) == 2
    assert s.getpeercert() is None  # no client certificate
    assert s.server_name() == "localhost"
    assert c.write(b"ping" * 10000) == 40000
    pump(c, s)
    got = b""
    while len(got) < 40000:
        got += s.read(65536)
    assert got == b"ping" * 10000
    with pytest.raises(ferrule.WantRead):
        s.read()
    s.write(b"pong")
    pump(s, c)
    assert c.read() == b"pong"


@pytest.mark.parametrize("suite", SUITES)
@pytest.mark.parametrize("group", GROUPS)
def test_every_suite_and_group(pki, suite, group):
    c, s = pair(pki, cipher_suites=[suite], groups=[group])
    handshake_in_memory(c, s)
    assert c.cipher()[0] == s.cipher()[0] == suite
    assert c.group() == s.group() == group


def test_read_into_buffer_and_memoryview_input(pki):
    c, s = pair(pki)
    handshake_in_memory(c, s)
    c.write(memoryview(b"abcdef")[1:5])
    s.receive_bytes(memoryview(bytearray(c.bytes_to_send())))
    buf = bytearray(3)
    assert s.read(buffer=buf) == 3 and buf == b"bcd"
    assert s.read(buffer=buf) == 1 and buf[:1] == b"e"


def test_memorybio_style_incoming_outgoing(pki):
    c, s = pair(pki)
    for _ in range(6):
        for a, b in ((c, s), (s, c)):
            try:
                a.do_handshake()
            except ferrule.WantRead:
                pass
            b.incoming.write(a.outgoing.read())
    assert c.handshake_done and s.handshake_done
    c.write(b"hello")
    assert c.outgoing.pending > 0
    head = c.outgoing.read(3)
    s.incoming.write(head)
    with pytest.raises(ferrule.WantRead):
        s.read()
    s.incoming.write(c.outgoing.read())
    assert s.read() == b"hello"


def test_close_notify_and_unwrap(pki):
    c, s = pair(pki)
    handshake_in_memory(c, s)
    c.write(b"last words")
    with pytest.raises(ferrule.WantRead):
        c.unwrap()  # sends close_notify, waits for the server's
    pump(c, s)
    assert s.read() == b"last words"
    assert s.read() == b""  # close_notify: a clean end, like ssl.SSLObject
    s.unwrap()  # the peer's already arrived: answers and returns
    pump(s, c)
    c.unwrap()
    with pytest.raises(ferrule.UsageError) as ei:
        c.write(b"more")
    assert ei.value.reason == "wrong_state"


def test_eof_without_close_notify_is_truncated(pki):
    c, s = pair(pki)
    handshake_in_memory(c, s)
    c.write(b"partial")
    pump(c, s)
    s.receive_eof()
    assert s.read() == b"partial"
    with pytest.raises(ferrule.Truncated) as ei:
        s.read()
    assert ei.value.reason == "truncated"
    assert isinstance(ei.value, ferrule.Error)


def test_certificate_errors_name_the_reason(pki):
    c, s = pair(pki, name="not-the-name.example")
    with pytest.raises(ferrule.CertificateError) as ei:
        handshake_in_memory(c, s)
    e = ei.value
    assert e.reason == "cert_name_mismatch"
    assert e.alert == 42 and e.alert_name == "bad_certificate"
    assert "does not match" in str(e) and "bad_certificate(42) sent" in str(e)
    # The server receives the alert.
    pump(c, s)
    with pytest.raises(ferrule.AlertReceived) as ei:
        s.do_handshake()
    assert ei.value.alert == 42
    assert "received" in str(ei.value)


def test_unknown_issuer(pki):
    c, s = pair(pki, scfg=server_config(pki, "untrusted"))
    with pytest.raises(ferrule.CertificateError) as ei:
        handshake_in_memory(c, s)
    assert ei.value.reason == "cert_unknown_issuer"


def test_no_shared_cipher_suite_is_alert(pki):
    c = ferrule.Connection(client_config(pki, cipher_suites=["TLS_AES_128_GCM_SHA256"]),
                           "localhost")
    s = ferrule.Connection(server_config(pki, cipher_suites=["TLS_AES_256_GCM_SHA384"]))
    with pytest.raises(ferrule.PolicyError) as ei:
        handshake_in_memory(c, s)  # the server finds nothing in common
    assert ei.value.reason == "no_shared_params"
    assert ei.value.alert == 40
    pump(s, c)
    with pytest.raises(ferrule.AlertReceived) as ei:
        c.do_handshake()
    assert ei.value.alert_name == "handshake_failure"


def test_garbage_input_is_decode_error(pki):
    s = ferrule.Connection(server_config(pki))
    s.receive_bytes(b"\x16\x03\x01\x00\x05hello")
    with pytest.raises(ferrule.AlertSent) as ei:
        s.do_handshake()
    assert ei.value.alert is not None
    assert s.bytes_to_send()[:1] == b"\x15"  # the alert record goes out
    # The first fatal error sticks.
    with pytest.raises(type(ei.value)):
        s.do_handshake()


def test_alpn(pki):
    c, s = pair(pki, scfg=server_config(pki, alpn_protocols=["http/1.1"]),
                alpn_protocols=["h2", b"http/1.1"])
    handshake_in_memory(c, s)
    assert c.selected_alpn_protocol() == s.selected_alpn_protocol() == "http/1.1"
    c, s = pair(pki)
    handshake_in_memory(c, s)
    assert c.selected_alpn_protocol() is None


def test_resumption_with_session_blob(pki):
    ccfg, scfg = client_config(pki), server_config(pki)
    c, s = pair(pki, ccfg=ccfg, scfg=scfg)
    assert c.session is None
    handshake_in_memory(c, s)
    s.write(b"x")
    pump(s, c)
    assert c.read() == b"x"  # reading processes the NewSessionTickets
    blob = c.session
    assert isinstance(blob, bytes) and len(blob) > 32
    assert not c.session_reused
    c2 = ferrule.Connection(ccfg, "localhost", session=blob)
    s2 = ferrule.Connection(scfg)
    handshake_in_memory(c2, s2)
    assert c2.session_reused and s2.session_reused
    # Bad blobs are usage errors with a reason.
    c3 = ferrule.Connection(ccfg, "localhost")
    with pytest.raises(ferrule.UsageError) as ei:
        c3.session = b"not a session"
    assert ei.value.reason == "decode_error"


def test_exporter_and_key_update(pki):
    c, s = pair(pki)
    handshake_in_memory(c, s)
    assert c.export_keying_material("EXPORTER-test", 32, b"ctx") == \
        s.export_keying_material("EXPORTER-test", 32, b"ctx")
    c.key_update(request_peer=True)
    c.write(b"after update")
    pump(c, s)
    assert s.read() == b"after update"
    s.write(b"answer")
    pump(s, c)
    assert c.read() == b"answer"
    assert c.key_updates == (1, 1) and s.key_updates == (1, 1)


def test_keylog_file(pki, tmp_path):
    path = tmp_path / "keys.log"
    c, s = pair(pki, keylog_filename=path)
    handshake_in_memory(c, s)
    lines = path.read_text().splitlines()
    labels = {line.split()[0] for line in lines}
    assert {"CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET",
            "CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0"} <= labels


def test_client_auth_required(pki):
    scfg = server_config(pki, client_auth="require", cafile=pki / "root.pem")
    c, s = pair(pki, scfg=scfg)
    with pytest.raises(ferrule.Error) as ei:
        handshake_in_memory(c, s)
    # Depending on who notices first: the server's alert or its reason.
    assert "certificate_required" in str(ei.value) or ei.value.reason == "cert_required"
    ccfg = client_config(pki, certfile=pki / "ecdsa-p256.chain.pem",
                         keyfile=pki / "ecdsa-p256.key")
    c, s = pair(pki, ccfg=ccfg, scfg=scfg)
    handshake_in_memory(c, s)
    assert s.getpeercert(True) == pem_to_der(pki / "ecdsa-p256.chain.pem")


def test_config_errors_are_usage_errors_with_reasons(pki, tmp_path):
    with pytest.raises(ferrule.UsageError) as ei:
        ferrule.ClientConfig(cafile=tmp_path / "missing.pem")
    assert ei.value.reason == "config_file"
    with pytest.raises(ferrule.UsageError) as ei:
        ferrule.ClientConfig(cipher_suites=["TLS_RC4_DREAMS"])
    assert "TLS_RC4_DREAMS" in str(ei.value)
    with pytest.raises(ferrule.UsageError) as ei:
        ferrule.ServerConfig(certfile=pki / "ecdsa-p256.chain.pem", keyfile=pki / "rsa.key")
    assert ei.value.reason == "config_key_mismatch"
    with pytest.raises(ferrule.UsageError):
        ferrule.ServerConfig(client_auth="sometimes", certfile=pki / "rsa.chain.pem",
                             keyfile=pki / "rsa.key")
    with pytest.raises(ferrule.UsageError) as ei:
        ferrule.Connection(ferrule.ServerConfig())  # a server needs a certificate
    assert ei.value.reason == "config_invalid"
    with pytest.raises(TypeError):
        ferrule.Connection(object())
    with pytest.raises(ValueError):
        ferrule.ServerConfig(ticket_key=(b"short", b"k" * 32), certfile=pki / "rsa.chain.pem",
                             keyfile=pki / "rsa.key")


def test_api_misuse_is_usage_error(pki):
    c = ferrule.Connection(client_config(pki), "localhost")
    with pytest.raises(ferrule.UsageError) as ei:
        c.close_notify()  # before the handshake
    assert ei.value.reason == "wrong_state"
    with pytest.raises(ferrule.UsageError):
        ferrule.Connection(server_config(pki), "localhost")
    c.receive_eof()
    with pytest.raises(ferrule.UsageError):
        c.receive_bytes(b"x")


def test_exception_hierarchy():
    assert issubclass(ferrule.DecodeError, ferrule.AlertSent)
    for cls in (ferrule.WantRead, ferrule.WantWrite, ferrule.AlertReceived, ferrule.AlertSent,
                ferrule.CertificateError, ferrule.Truncated, ferrule.Closed, ferrule.UsageError):
        assert issubclass(cls, ferrule.Error)
    assert issubclass(ferrule.UsageError, ValueError)


def test_lowlevel_status_mapping_and_getters(pki):
    # int getters keep their value; statuses raise the mapped class.
    c = ferrule.Connection(client_config(pki), "localhost")
    assert _ffi.ferrule_conn_alert(c._conn) == -1
    assert _ffi.ferrule_conn_status(c._conn) == 0
    assert _ffi.ferrule_conn_resumed(c._conn) == 0
    with pytest.raises(ferrule.UsageError) as ei:
        _ffi.ferrule_conn_read(c._conn, bytearray(0))  # cap 0
    assert ei.value.reason == "buffer_too_small"
    assert _ffi.ferrule_cipher_suite_from_name("TLS_AES_256_GCM_SHA384") == 0x1302
    with pytest.raises(ferrule.UsageError):
        _ffi.ferrule_group_from_name("nope")


def test_use_after_free_is_usage_error_not_a_crash(pki):
    c, s = pair(pki)
    handshake_in_memory(c, s)
    c.free()
    c.free()  # idempotent
    with pytest.raises(ferrule.UsageError):
        c.write(b"x")
    with pytest.raises(ferrule.UsageError):
        c.read()
    assert c.bytes_to_send() == b""
    assert c.version() is None and c.cipher() is None


def test_large_write_and_read_in_one_call(pki):
    c, s = pair(pki)
    handshake_in_memory(c, s)
    data = bytes(range(256)) * (8 * 1024)  # 2 MiB: many records per call
    assert c.write(data) == len(data)
    ct = c.bytes_to_send()
    assert len(data) < len(ct) < len(data) + (len(data) // 16384 + 1) * 22 + 1024
    s.receive_bytes(ct)
    got = bytearray()
    while len(got) < len(data):
        got += s.read(1 << 20)
    assert got == data


# The fpy_* helpers _ffi.i defines for the Python layer.  Anything else the
# extension exports under that prefix is a static C helper that leaked out
# of an %inline block (a trampoline called from Python with a foreign ctx
# pointer dereferences it as a PyObject): the test below fails on it.
_HELPERS = {
    "fpy_set_error_factory", "fpy_config_new", "fpy_conn_new", "fpy_config_set_keylog",
    "fpy_config_set_clock", "fpy_config_set_verify", "fpy_verify_path", "fpy_take_all",
    "fpy_handshake", "fpy_recv", "fpy_send", "fpy_session", "fpy_config_set_early_data",
    "fpy_read_early_data", "fpy_config_set_cert_select", "fpy_config_set_alpn_select",
    "fpy_hello_list", "fpy_hello_alpn", "fpy_verify_chain", "fpy_config_set_resumption",
    "fpy_cert_parse", "fpy_conn_peer_cert_parse",
}


def _exported(module):
    return {n for n in dir(module) if callable(getattr(module, n)) and not n.startswith("_")}


def test_no_trampoline_or_static_helper_is_exposed():
    from ferrule import __ffi
    for module in (_ffi, __ffi):
        names = _exported(module)
        assert not [n for n in names if "trampoline" in n], module
        assert {n for n in names if n.startswith("fpy_")} == _HELPERS, module
        # Nothing else but the header's functions (and SWIG's own helpers).
        assert not {n for n in names if not n.startswith(("ferrule_", "fpy_", "FERRULE_"))} - {
            "SwigPyObject"}, module


# Calls every exported function with every argument None, 0, b"" or a
# freshly made handle of the wrong kind, in a child process (a crash must
# not take the suite with it).  Each call prints its name first, so a
# crash names its function.
_PROBE = r"""
import inspect, sys
import ferrule
from ferrule import _ffi
cfg = _ffi.fpy_config_new(_ffi.FERRULE_ROLE_CLIENT)
conn = _ffi.fpy_conn_new(cfg, "example.com", 0)
fills = (None, 0, -1, b"", "x", cfg, conn, object())
names = sorted(n for n in dir(_ffi) if n.startswith(("ferrule_", "fpy_"))
               and callable(getattr(_ffi, n)) and not n.endswith("_free"))
for name in names:
    f = getattr(_ffi, name)
    nargs = len(inspect.signature(f).parameters)
    for fill in fills:
        print(name, type(fill).__name__, flush=True)
        try:
            f(*([fill] * nargs))
        except Exception:
            pass
print("probe: done", len(names), flush=True)
"""


def test_no_exported_function_crashes_on_bad_arguments(tmp_path):
    """API misuse returns an error, never undefined behaviour: every
    function of the low-level module, given None (NULL), numbers, empty
    buffers, strings, foreign objects and handles of the wrong kind,
    returns or raises; the process survives."""
    import subprocess
    import sys
    r = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True,
                       timeout=120)
    last = r.stdout.strip().splitlines()[-1:] or ["(nothing)"]
    assert r.returncode == 0, f"crashed (rc {r.returncode}) at {last[0]}\n{r.stderr[-2000:]}"
    assert last[0].startswith("probe: done")
    assert int(last[0].split()[-1]) > 100


# Functions the SWIG interface replaces on purpose (callbacks and versioned
# structs; see _ffi.i), each with the helper that takes its place.
_REPLACED = {
    "ferrule_config_new": "fpy_config_new",
    "ferrule_conn_new": "fpy_conn_new",
    "ferrule_conn_set_io": "fpy_handshake",  # I/O is feed/take: fpy_handshake/recv/send
    "ferrule_config_set_keylog_callback": "fpy_config_set_keylog",
    "ferrule_config_set_cert_select_callback": "fpy_config_set_cert_select",
    "ferrule_config_set_alpn_select_callback": "fpy_config_set_alpn_select",
    "ferrule_config_set_time_callback": "fpy_config_set_clock",      # clock=
    "ferrule_config_set_verify_callback": "fpy_config_set_verify",   # verify_callback=
    "ferrule_verify_chain": "fpy_verify_chain",                      # ferrule.verify_chain
    "ferrule_cert_parse": "fpy_cert_parse",                          # raises with the reason
    "ferrule_conn_peer_cert_parse": "fpy_conn_peer_cert_parse",
}
# Functions not exposed to Python at all (no helper yet): listed so that
# the test below stays strict about everything else.
_NOT_WRAPPED: set = set()


def test_every_header_function_is_wrapped():
    """The low-level module is generated from the header: every exported
    function is there (functions added by later issues included), or its
    replacement helper is."""
    header = (REPO / "abi" / "include" / "ferrule.h").read_text()
    header = re.sub(r"/\*.*?\*/", " ", header, flags=re.S)
    names = set(re.findall(r"FERRULE_API\b[^;{]*?\b(ferrule_\w+)\s*\(", header))
    assert len(names) > 80  # the regex does find the declarations
    assert set(_REPLACED) | _NOT_WRAPPED <= names  # no stale entries
    missing = sorted(n for n in names - set(_REPLACED) - _NOT_WRAPPED if not hasattr(_ffi, n))
    assert not missing, f"not wrapped: {missing}"
    for name, helper in _REPLACED.items():
        assert not hasattr(_ffi, name), f"{name} is wrapped: drop it from _REPLACED"
        assert callable(getattr(_ffi, helper)), f"{name}: helper {helper} missing"
    for name in _NOT_WRAPPED:
        assert not hasattr(_ffi, name), f"{name} is wrapped now: drop it from _NOT_WRAPPED"


def test_max_peer_certificates(pki):
    """The cap on certificates taken from the peer (ferrule.h
    ferrule_config_set_max_peer_certificates): the server's chain is two
    certificates, so a cap of 1 refuses it as a certificate error whose
    reason names the cap; 2 takes it; 0 is not a valid cap."""
    c, s = pair(pki, ccfg=client_config(pki, max_peer_certificates=1))
    with pytest.raises(ferrule.CertificateError) as ei:
        handshake_in_memory(c, s)
    assert ei.value.reason == "cert_chain_too_long"
    c, s = pair(pki, ccfg=client_config(pki, max_peer_certificates=2))
    handshake_in_memory(c, s)
    with pytest.raises(ferrule.UsageError):
        client_config(pki, max_peer_certificates=0)


def test_verify_cn_in_san_is_opt_in(pki):
    """x-cn-other: a leaf whose subject CN is not one of its SANs is
    accepted by default and refused with verify_cn_in_san=True."""
    scfg = ferrule.ServerConfig(certfile=pki / "x-cn-other.chain.pem",
                                keyfile=pki / "ecdsa-p256.key")
    c, s = pair(pki, scfg=scfg)
    handshake_in_memory(c, s)
    c, s = pair(pki, scfg=scfg, ccfg=client_config(pki, verify_cn_in_san=True))
    with pytest.raises(ferrule.CertificateError) as ei:
        handshake_in_memory(c, s)
    assert ei.value.reason == "cert_name_mismatch"
    with pytest.raises(TypeError):
        client_config(pki, verify_cn_in_san="yes")
