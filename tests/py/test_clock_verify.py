"""The clock option (ferrule_config_set_time_callback) of ClientConfig /
ServerConfig.  The 0-RTT freshness window under a skewed clock is in
test_early_data.py."""

from __future__ import annotations

import sys
import time

import pytest

import ferrule
from conftest import client_config, handshake_in_memory, server_config

DAY = 86400


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
