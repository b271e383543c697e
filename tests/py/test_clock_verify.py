"""The clock (ferrule_config_set_time_callback) and verify_callback
(ferrule_config_set_verify_callback) options of ClientConfig /
ServerConfig.  The 0-RTT freshness window under a skewed clock is in
test_early_data.py."""

from __future__ import annotations

import asyncio
import re
import ssl
import sys
import time

import pytest

import ferrule
import ferrule.asyncio as fa
from conftest import (TIMEOUT, client_config, echo_handler, handshake_in_memory, port_of,
                      server_config)

DAY = 86400


def ders(path):
    return [ssl.PEM_cert_to_DER_cert(m) for m in re.findall(
        r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", path.read_text(), re.S)]


def handshake(ccfg, scfg, name="localhost"):
    c, s = ferrule.Connection(ccfg, name), ferrule.Connection(scfg)
    handshake_in_memory(c, s)
    return c, s


# ---- clock ------------------------------------------------------------------------------


def test_clock_decides_certificate_validity(pki):
    """The test PKI's leaves are valid from yesterday for 825 days: the
    client's clock alone makes them expired or not yet valid."""
    base = int(time.time())
    for offset, reason in ((900 * DAY, "cert_expired"), (-3 * DAY, "cert_not_yet_valid")):
        ccfg = client_config(pki, clock=lambda: base + offset)
        with pytest.raises(ferrule.CertificateError) as ei:
            handshake(ccfg, server_config(pki))
        assert ei.value.reason == reason
    calls = []

    def clock():
        calls.append(1)
        return base + 30 * DAY
    c, _ = handshake(client_config(pki, clock=clock), server_config(pki))
    assert c.handshake_done and calls  # a clock inside the validity period is fine


@pytest.mark.parametrize("result,exc_type", [
    (RuntimeError("clock source down"), RuntimeError),
    (1.5e9, TypeError),       # seconds are an int
    (True, TypeError),        # not a bool either
    (2 ** 70, OverflowError),
])
def test_failing_clock_falls_back_to_the_system_clock_and_is_reported(pki, monkeypatch,
                                                                      result, exc_type):
    reported = []
    monkeypatch.setattr(sys, "unraisablehook", reported.append)

    def clock():
        if isinstance(result, Exception):
            raise result
        return result
    c, s = handshake(client_config(pki, clock=clock), server_config(pki, clock=clock))
    assert c.handshake_done and s.handshake_done  # the system clock was used
    assert reported and {type(r.exc_value) for r in reported} == {exc_type}
    assert all(r.object is clock for r in reported)


def test_clock_must_be_callable(pki):
    with pytest.raises(TypeError, match="clock must be callable"):
        client_config(pki, clock=12345)


# ---- verify_callback --------------------------------------------------------------------


def test_verify_callback_accepts_and_sees_the_chain(pki):
    seen = []

    def check(info):
        seen.append(info)
        return True
    ccfg = client_config(pki, verify_callback=check, alpn_protocols=["h2"])
    scfg = server_config(pki, "rsa", alpn_protocols=["h2"])
    c, s = handshake(ccfg, scfg)
    assert len(seen) == 1
    info = seen[0]
    assert isinstance(info, ferrule.VerifyInfo)
    assert info.server_side is False and info.server_name == "localhost"
    assert info.alpn_protocol == "h2"
    sent = ders(pki / "rsa.chain.pem")
    assert info.peer_chain == sent
    assert info.verified_chain == sent + ders(pki / "root.pem")  # leaf .. anchor
    assert info.getpeercert() == c.getpeercert()
    assert info.getpeercert(True) == c.getpeercert(True)
    c.write(b"ok")
    s.receive_bytes(c.bytes_to_send())
    assert s.read() == b"ok"


@pytest.mark.parametrize("verdict", [False, None, 1, "yes"])
def test_verify_callback_rejects(pki, verdict):
    """Only True accepts: False and anything that is not a bool reject."""
    ccfg = client_config(pki, verify_callback=lambda info: verdict)
    c, s = ferrule.Connection(ccfg, "localhost"), ferrule.Connection(server_config(pki))
    with pytest.raises(ferrule.CertificateError) as ei:
        handshake_in_memory(c, s)
    assert ei.value.reason == "cert_rejected"
    assert ei.value.alert_name == "bad_certificate"
    if verdict is False:
        assert ei.value.__cause__ is None
    else:
        assert isinstance(ei.value.__cause__, TypeError)
    # The server learns it from the alert.
    s.receive_bytes(c.bytes_to_send())
    with pytest.raises(ferrule.AlertReceived) as si:
        s.do_handshake()
    assert si.value.alert_name == "bad_certificate"


def test_verify_callback_exception_rejects_with_cause(pki):
    boom = LookupError("pin database unavailable")

    def check(info):
        raise boom
    c = ferrule.Connection(client_config(pki, verify_callback=check), "localhost")
    s = ferrule.Connection(server_config(pki))
    with pytest.raises(ferrule.CertificateError) as ei:
        handshake_in_memory(c, s)
    assert ei.value.reason == "cert_rejected"
    assert ei.value.__cause__ is boom


def test_verify_callback_cannot_lift_the_library_checks(pki):
    """Restrict-only: for a chain libferrule refuses, the callback is not
    even asked (returning True could not save it)."""
    calls = []

    def lenient(info):
        calls.append(info)
        return True
    ccfg = client_config(pki, verify_callback=lenient)
    for kind, reason in (("wrongname", "cert_name_mismatch"),
                         ("untrusted", "cert_unknown_issuer")):
        with pytest.raises(ferrule.CertificateError) as ei:
            handshake(ccfg, server_config(pki, kind))
        assert ei.value.reason == reason
    assert calls == []


def test_verify_callback_on_a_server_sees_the_client_certificate(pki):
    seen = []
    scfg = server_config(pki, client_auth="require", cafile=pki / "root.pem",
                         verify_callback=lambda info: seen.append(info) or
                         info.getpeercert()["subject"][-1] == (("commonName", "localhost"),))
    ccfg = client_config(pki, certfile=pki / "ed25519.chain.pem", keyfile=pki / "ed25519.key")
    _, s = handshake(ccfg, scfg)
    assert len(seen) == 1 and seen[0].server_side is True
    assert seen[0].peer_chain == ders(pki / "ed25519.chain.pem")
    assert s.getpeercert() == seen[0].getpeercert()
    # The same server refusing: the client certificate is rejected.
    scfg = server_config(pki, client_auth="require", cafile=pki / "root.pem",
                         verify_callback=lambda info: False)
    c, s = ferrule.Connection(ccfg, "localhost"), ferrule.Connection(scfg)
    with pytest.raises(ferrule.Error) as ei:
        handshake_in_memory(c, s)
    # Whoever fails first: the server (cert_rejected) or the client (its alert).
    assert ei.value.reason == "cert_rejected" or ei.value.alert_name == "bad_certificate"
    with pytest.raises(ferrule.CertificateError) as si:
        s.do_handshake()
    assert si.value.reason == "cert_rejected"


def test_verify_callback_needs_verification(pki):
    with pytest.raises(ferrule.UsageError, match="verify=True"):
        ferrule.ClientConfig(verify=False, verify_callback=lambda info: True)
    with pytest.raises(TypeError, match="callable"):
        client_config(pki, verify_callback="not callable")


async def test_verify_callback_through_asyncio(pki):
    srv = await fa.start_server(echo_handler, "127.0.0.1", 0, config=server_config(pki))
    async with srv:
        ccfg = client_config(pki, verify_callback=lambda info: False)
        with pytest.raises(ferrule.CertificateError) as ei:
            await asyncio.wait_for(fa.open_connection("127.0.0.1", port_of(srv), config=ccfg,
                                                      server_hostname="localhost"), TIMEOUT)
        assert ei.value.reason == "cert_rejected"
        ccfg = client_config(pki, verify_callback=lambda info: True)
        r, w = await fa.open_connection("127.0.0.1", port_of(srv), config=ccfg,
                                        server_hostname="localhost")
        w.write(b"x")
        assert await asyncio.wait_for(r.readexactly(1), TIMEOUT) == b"x"
        w.close()
        await asyncio.wait_for(w.wait_closed(), TIMEOUT)
