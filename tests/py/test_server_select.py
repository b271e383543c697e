"""Server certificate / ALPN selection (docs/server-callbacks.md), psk_ke
opt-in and record_size_limit (RFC 8449) through the binding."""

from __future__ import annotations

import re
import ssl

import pytest

import ferrule
from conftest import client_config, handshake_in_memory, pump, server_config

SNI = ("sni-a", "sni-b", "sni-wild")


def leaf_der(pki, kind):
    text = (pki / f"{kind}.chain.pem").read_text()
    return ssl.PEM_cert_to_DER_cert(
        re.search(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", text, re.S)
        .group(0))


def multi_server(pki, **kw):
    return ferrule.ServerConfig(certs=[(pki / f"{k}.chain.pem", pki / f"{k}.key") for k in SNI],
                                **kw)


def connect(pki, scfg, name, **ckw):
    c = ferrule.Connection(client_config(pki, **ckw), name)
    s = ferrule.Connection(scfg)
    handshake_in_memory(c, s)
    return c, s


def fail(pki, scfg, name="a.test", **ckw):
    """A handshake the server refuses: (server's error, client's error)."""
    c = ferrule.Connection(client_config(pki, **ckw), name)
    s = ferrule.Connection(scfg)
    with pytest.raises(ferrule.Error) as ei:
        handshake_in_memory(c, s)
    pump(s, c)
    with pytest.raises(ferrule.AlertReceived) as ci:
        c.do_handshake()
    return ei.value, ci.value


# ---- several chains, SNI ---------------------------------------------------------


@pytest.mark.parametrize("name,index", [("a.test", 0), ("B.TEST", 1), ("x.wild.test", 2)])
def test_chain_chosen_by_sni(pki, name, index):
    scfg = multi_server(pki)
    assert scfg.chain_count == 3
    c, s = connect(pki, scfg, name)
    assert s.cert_index == index and c.cert_index is None
    assert c.getpeercert(True) == leaf_der(pki, SNI[index])


def test_unknown_name_fallback_and_strict(pki):
    # Fallback (default): the first chain; the client's name check fails.
    c = ferrule.Connection(client_config(pki), "c.test")
    s = ferrule.Connection(multi_server(pki))
    with pytest.raises(ferrule.CertificateError) as ei:
        handshake_in_memory(c, s)
    assert ei.value.reason == "cert_name_mismatch" and s.cert_index == 0
    # Strict: unrecognized_name.
    err, cerr = fail(pki, multi_server(pki, sni_strict=True), "c.test")
    assert isinstance(err, ferrule.PolicyError) and err.reason == "unrecognized_name"
    assert err.alert_name == cerr.alert_name == "unrecognized_name"
    c, s = connect(pki, multi_server(pki, sni_strict=True), "b.test")
    assert s.cert_index == 1


def test_certs_with_certfile_and_errors(pki):
    scfg = server_config(pki, "rsa", certs=[(pki / "sni-a.chain.pem", pki / "sni-a.key")])
    assert scfg.chain_count == 2
    c, s = connect(pki, scfg, "a.test")
    assert s.cert_index == 1
    with pytest.raises(ferrule.UsageError) as ei:
        ferrule.ServerConfig(certs=[(pki / "sni-a.chain.pem", pki / "sni-b.key")])
    assert ei.value.reason == "config_key_mismatch"


# ---- certificate callback ----------------------------------------------------------


def test_select_certificate_sees_the_hello(pki):
    seen = {}

    def select(hello):
        seen.update(name=hello.server_name, sigs=hello.signature_schemes,
                    cert_sigs=hello.signature_schemes_cert, suites=hello.cipher_suites,
                    alpn=hello.alpn_protocols, selected=hello.selected_alpn,
                    fit=[hello.chain_fit(i) for i in range(4)])
        seen["hello"] = hello
        return 2
    scfg = multi_server(pki, select_certificate=select, alpn_protocols=["http/1.1"])
    c, s = connect(pki, scfg, "a.test", check_hostname=False,
                   alpn_protocols=["h2", "http/1.1"], cipher_suites=["TLS_AES_256_GCM_SHA384"])
    assert s.cert_index == 2 and c.getpeercert(True) == leaf_der(pki, "sni-wild")
    assert seen["name"] == "a.test"
    assert 0x0403 in seen["sigs"] and 0x0807 in seen["sigs"]
    assert seen["cert_sigs"]
    assert seen["suites"] == [0x1302]
    assert seen["alpn"] == [b"h2", b"http/1.1"]
    assert seen["selected"] == b"http/1.1"  # ALPN is chosen first
    assert seen["fit"][0] == {"key", "name", "cert_sigs"}
    assert seen["fit"][1] == {"key", "cert_sigs"}
    assert seen["fit"][3] == frozenset()  # no such chain
    # The view is only valid during the call: using it later raises.
    hello = seen["hello"]
    for attr in ("server_name", "signature_schemes", "cipher_suites", "alpn_protocols",
                 "selected_alpn", "signature_schemes_cert"):
        with pytest.raises(ferrule.UsageError) as ei:
            getattr(hello, attr)
        assert ei.value.reason == "wrong_state"
    with pytest.raises(ferrule.UsageError):
        hello.chain_fit(0)
    assert "expired" in repr(hello)


def test_select_certificate_results(pki):
    # None: the default selection.
    c, s = connect(pki, multi_server(pki, select_certificate=lambda h: None), "b.test")
    assert s.cert_index == 1
    err, cerr = fail(pki, multi_server(pki, select_certificate=lambda h: ferrule.REFUSE))
    assert isinstance(err, ferrule.PolicyError) and err.reason == "handshake_refused"
    assert cerr.alert_name == "handshake_failure"
    err, cerr = fail(pki, multi_server(pki,
                                       select_certificate=lambda h: ferrule.UNRECOGNIZED_NAME))
    assert err.reason == "unrecognized_name" and cerr.alert_name == "unrecognized_name"
    # An index out of range is misuse: internal_error to the peer.
    err, cerr = fail(pki, multi_server(pki, select_certificate=lambda h: 3))
    assert isinstance(err, ferrule.UsageError) and err.reason == "callback_result"
    assert cerr.alert_name == "internal_error"
    with pytest.raises(TypeError):
        multi_server(pki, select_certificate="not callable")


@pytest.mark.parametrize("cb,exc", [
    (lambda h: 1 / 0, ZeroDivisionError),
    (lambda h: "b.test", TypeError),       # not an index
    (lambda h: -5, ValueError),
    (lambda h: True, TypeError),
])
def test_select_certificate_exception_refuses_and_is_the_cause(pki, cb, exc):
    err, cerr = fail(pki, multi_server(pki, select_certificate=cb))
    assert isinstance(err, ferrule.PolicyError) and err.reason == "handshake_refused"
    assert isinstance(err.__cause__, exc)
    assert cerr.alert_name == "handshake_failure"
    # Not carried over to an unrelated failure of another connection.
    c = ferrule.Connection(client_config(pki), "wrong.example")
    s = ferrule.Connection(server_config(pki))
    with pytest.raises(ferrule.CertificateError) as ei:
        handshake_in_memory(c, s)
    assert ei.value.__cause__ is None


# ---- ALPN callback ---------------------------------------------------------------


def alpn_server(pki, select, **kw):
    return server_config(pki, select_alpn=select, **kw)


def test_select_alpn_results(pki):
    offered = []

    def pick(hello):
        offered.append(hello.alpn_protocols)
        return b"http/1.1"
    c, s = connect(pki, alpn_server(pki, pick), "localhost", alpn_protocols=["h2", "http/1.1"])
    assert c.selected_alpn_protocol() == s.selected_alpn_protocol() == "http/1.1"
    assert offered == [[b"h2", b"http/1.1"]]
    c, s = connect(pki, alpn_server(pki, lambda h: "h2"), "localhost",
                   alpn_protocols=["h2", "http/1.1"])
    assert c.selected_alpn_protocol() == "h2"
    # None: the config's list.
    c, s = connect(pki, alpn_server(pki, lambda h: None, alpn_protocols=["http/1.1"]),
                   "localhost", alpn_protocols=["h2", "http/1.1"])
    assert c.selected_alpn_protocol() == "http/1.1"
    c, s = connect(pki, alpn_server(pki, lambda h: ferrule.NO_ALPN), "localhost",
                   alpn_protocols=["h2"])
    assert c.selected_alpn_protocol() is None and s.selected_alpn_protocol() is None
    err, cerr = fail(pki, alpn_server(pki, lambda h: ferrule.REFUSE), "localhost",
                     alpn_protocols=["h2"])
    assert isinstance(err, ferrule.PolicyError) and err.reason == "no_application_protocol"
    assert cerr.alert_name == "no_application_protocol"
    # A protocol the client did not offer is misuse (RFC 7301 §3.2).
    err, cerr = fail(pki, alpn_server(pki, lambda h: b"spdy/3"), "localhost",
                     alpn_protocols=["h2"])
    assert isinstance(err, ferrule.UsageError) and err.reason == "alpn_not_offered"
    assert cerr.alert_name == "internal_error"
    # Not called when the client sends no ALPN.
    calls = []
    c, s = connect(pki, alpn_server(pki, calls.append), "localhost")
    assert calls == [] and c.selected_alpn_protocol() is None


@pytest.mark.parametrize("cb,exc", [
    (lambda h: {}["missing"], KeyError),
    (lambda h: b"x" * 256, ValueError),
    (lambda h: b"", ValueError),
    (lambda h: 7, TypeError),
])
def test_select_alpn_exception_refuses_and_is_the_cause(pki, cb, exc):
    err, cerr = fail(pki, alpn_server(pki, cb), "localhost", alpn_protocols=["h2"])
    assert isinstance(err, ferrule.PolicyError) and err.reason == "no_application_protocol"
    assert isinstance(err.__cause__, exc)
    assert cerr.alert_name == "no_application_protocol"


def test_alpn_then_certificate_callback(pki):
    chosen = []

    def cert(hello):
        chosen.append(hello.selected_alpn)
        return 1 if hello.selected_alpn == b"acme-tls/1" else 0
    scfg = multi_server(pki, select_alpn=lambda h: h.alpn_protocols[-1], select_certificate=cert)
    c, s = connect(pki, scfg, "a.test", check_hostname=False,
                   alpn_protocols=["h2", "acme-tls/1"])
    assert s.cert_index == 1 and chosen == [b"acme-tls/1"]


# ---- psk_ke -------------------------------------------------------------------------


def resume(pki, cmodes, smodes):
    ccfg = client_config(pki, psk_modes=cmodes)
    scfg = server_config(pki, psk_modes=smodes)
    c, s = ferrule.Connection(ccfg, "localhost"), ferrule.Connection(scfg)
    handshake_in_memory(c, s)
    s.write(b"t")
    pump(s, c)
    c.read()
    c2 = ferrule.Connection(ccfg, "localhost", session=c.session)
    s2 = ferrule.Connection(scfg)
    handshake_in_memory(c2, s2)
    return c2, s2


def test_psk_ke_is_opt_in(pki):
    # Both allow psk_ke: resumption without (EC)DHE, no group.
    c, s = resume(pki, ["psk_ke"], ["psk_dhe_ke", "psk_ke"])
    assert c.session_reused and s.session_reused
    assert c.group() is None and s.group() is None
    # The server does not opt in (default psk_dhe_ke): full handshake.
    c, s = resume(pki, ["psk_ke"], None)
    assert not c.session_reused and c.group() is not None
    # A server accepting both picks psk_dhe_ke when offered.
    c, s = resume(pki, ["psk_dhe_ke", "psk_ke"], ["psk_dhe_ke", "psk_ke"])
    assert c.session_reused and c.group() is not None
    with pytest.raises(ferrule.UsageError, match="psk_modes"):
        client_config(pki, psk_modes=["psk_ecdhe"])
    with pytest.raises(ferrule.UsageError) as ei:
        client_config(pki, psk_modes=[])
    assert ei.value.reason == "config_invalid"


# ---- record_size_limit ------------------------------------------------------------------


def record_lengths(data):
    out, i = [], 0
    while i < len(data):
        n = int.from_bytes(data[i + 3:i + 5], "big")
        out.append(n)
        i += 5 + n
    assert i == len(data)
    return out


def test_record_size_limit(pki):
    c = ferrule.Connection(client_config(pki, record_size_limit=256), "localhost")
    s = ferrule.Connection(server_config(pki))
    assert c.peer_record_size_limit is None
    handshake_in_memory(c, s)
    assert s.peer_record_size_limit == 256 and c.peer_record_size_limit == 16385
    s.write(b"z" * 5000)
    ct = s.bytes_to_send()
    lens = record_lengths(ct)
    # TLSInnerPlaintext <= 256: 255 bytes of data + type, + 16-byte tag.
    assert max(lens) == 256 + 16 and len(lens) >= 5000 // 255
    c.receive_bytes(ct)
    got = b""
    while len(got) < 5000:
        got += c.read()
    assert got == b"z" * 5000
    for bad in (63, 16386):
        with pytest.raises(ferrule.UsageError) as ei:
            server_config(pki, record_size_limit=bad)
        assert ei.value.reason == "config_invalid"
