"""Resumption options of the binding (docs/resumption.md): issuing
(`tickets=`) and accepting (`accept_tickets=`) are separate, and with
`client_auth` a resumed server connection is authenticated by the client
chain its ticket carried (`getpeercert()`), validated again per
`resume_client_identity=`."""

from __future__ import annotations

import ssl
import time

import pytest

import ferrule
from conftest import client_config, handshake_in_memory, pump, server_config

KEY = (b"n" * 16, b"k" * 32)  # a ticket key shared by the servers of a test


def connect(ccfg, scfg, session=None):
    """A handshake (offering `session`), then one byte from the server so
    that the client reads its tickets.  Returns (client, server)."""
    c = ferrule.Connection(ccfg, "localhost", session=session)
    s = ferrule.Connection(scfg)
    handshake_in_memory(c, s)
    s.write(b"t")
    pump(s, c)
    assert c.read() == b"t"
    return c, s


def test_tickets_0_issues_none_but_still_accepts(pki):
    ccfg = client_config(pki)
    issuer = server_config(pki, ticket_key=KEY)
    quiet = server_config(pki, ticket_key=KEY, tickets=0)
    c, _ = connect(ccfg, issuer)
    blob = c.session
    assert blob is not None
    c2, s2 = connect(ccfg, quiet, session=blob)
    assert c2.session_reused and s2.session_reused
    assert c2.session is None  # no new ticket


def test_accept_tickets_false_turns_resumption_off(pki):
    ccfg = client_config(pki)
    c, _ = connect(ccfg, server_config(pki, ticket_key=KEY))
    refuser = server_config(pki, ticket_key=KEY, accept_tickets=False)
    c2, s2 = connect(ccfg, refuser, session=c.session)
    assert not c2.session_reused and not s2.session_reused
    assert c2.session is None  # and it issues none


def test_resumption_options_are_checked(pki):
    with pytest.raises(TypeError):
        server_config(pki, accept_tickets="no")
    with pytest.raises(ferrule.UsageError):
        server_config(pki, resume_client_identity="forever")


def auth_server(pki, mode="require", **kw):
    return server_config(pki, client_auth=mode, cafile=pki / "root.pem", ticket_key=KEY, **kw)


def auth_client(pki, kind="ecdsa-p256", **kw):
    if kind is None:
        return client_config(pki, **kw)
    return client_config(pki, certfile=pki / f"{kind}.chain.pem", keyfile=pki / f"{kind}.key",
                         **kw)


@pytest.mark.parametrize("policy", ["recheck", "keep"])
def test_resumed_server_connection_knows_its_client(pki, policy):
    ccfg, scfg = auth_client(pki, "rsa"), auth_server(pki, resume_client_identity=policy)
    c, s = connect(ccfg, scfg)
    cert, chain = s.getpeercert(), s.get_peer_chain()
    assert dict(x[0] for x in cert["subject"])["commonName"] == "localhost"
    c2, s2 = connect(ccfg, scfg, session=c.session)
    assert c2.session_reused and s2.session_reused
    assert s2.getpeercert() == cert
    assert s2.get_peer_chain() == chain
    assert s2.getpeercert(binary_form=True) == chain[0]
    # Its own tickets carry the identity on.
    c3, s3 = connect(ccfg, scfg, session=c2.session)
    assert s3.session_reused and s3.getpeercert() == cert


def test_optional_client_auth_resumes_as_it_was(pki):
    scfg = auth_server(pki, "request")
    c, s = connect(auth_client(pki, None), scfg)
    assert s.getpeercert() is None
    c2, s2 = connect(auth_client(pki, None), scfg, session=c.session)
    assert s2.session_reused and s2.getpeercert() is None


def test_anonymous_ticket_does_not_resume_where_a_certificate_is_required(pki):
    anon = auth_client(pki, None)
    c, _ = connect(anon, auth_server(pki, "request"))
    require = auth_server(pki, "require")
    # With a certificate: a full handshake that authenticates it.
    with_cert = auth_client(pki)
    c2 = ferrule.Connection(with_cert, "localhost", session=c.session)
    s2 = ferrule.Connection(require)
    handshake_in_memory(c2, s2)
    assert not s2.session_reused and s2.getpeercert() is not None
    # Without: certificate_required.
    c3 = ferrule.Connection(anon, "localhost", session=c.session)
    s3 = ferrule.Connection(require)
    with pytest.raises(ferrule.Error):
        handshake_in_memory(c3, s3)
    with pytest.raises(ferrule.CertificateError) as ei:
        s3.do_handshake()
    assert ei.value.reason == "cert_required"


def test_expired_client_certificate_per_policy(pki):
    """An hour after the client certificate expired, within the ticket's
    lifetime: "recheck" refuses the ticket (and the full handshake refuses
    the certificate), "keep" resumes."""
    now = [int(time.time())]

    def clock():
        return now[0]
    # The client does not check the server: its certificate expires with
    # the client's (same test PKI dates).
    ccfg = auth_client(pki, verify=False, clock=clock)
    probe_c, probe_s = connect(ccfg, auth_server(pki, clock=clock))
    not_after = int(ssl.cert_time_to_seconds(probe_s.getpeercert()["notAfter"]))
    for policy in ("recheck", "keep"):
        scfg = auth_server(pki, clock=clock, resume_client_identity=policy)
        now[0] = not_after - 3600
        c, _ = connect(ccfg, scfg)
        now[0] = not_after + 3600
        c2 = ferrule.Connection(ccfg, "localhost", session=c.session)
        s2 = ferrule.Connection(scfg)
        if policy == "keep":
            handshake_in_memory(c2, s2)
            assert s2.session_reused and s2.getpeercert(binary_form=True) is not None
            continue
        with pytest.raises(ferrule.Error):
            handshake_in_memory(c2, s2)
        assert not s2.session_reused
        with pytest.raises(ferrule.CertificateError) as ei:
            s2.do_handshake()
        assert ei.value.reason == "cert_expired"


def test_verify_callback_runs_on_resumption(pki):
    seen = []
    scfg = auth_server(pki, verify_callback=lambda info: seen.append(info.peer_chain) or True)
    ccfg = auth_client(pki)
    c, _ = connect(ccfg, scfg)
    c2, s2 = connect(ccfg, scfg, session=c.session)
    assert s2.session_reused
    assert len(seen) == 2 and seen[0] == seen[1] == s2.get_peer_chain()
