"""Every public member of ssl.SSLContext / SSLObject / SSLSocket of the
running Python has a row in bindings/python/SSLCONTEXT.md and is overridden
by ferrule's class (or, status "socket", is socket.socket's own), so a new
Python's new member is a failure here, not a silent OpenSSL fallback."""

from __future__ import annotations

import re
import socket
import ssl

import pytest

import ferrule
from conftest import REPO

DOC = REPO / "bindings" / "python" / "SSLCONTEXT.md"
PAIRS = [(ssl.SSLContext, ferrule.SSLContext), (ssl.SSLObject, ferrule.SSLObject),
         (ssl.SSLSocket, ferrule.SSLSocket)]
STATUSES = {"supported", "mapped", "refused", "socket"}


def table():
    rows = {}
    for m in re.finditer(r"^\| (SSL\w+)\.(\w+) \| (\w+) \|", DOC.read_text(), re.M):
        key = (m.group(1), m.group(2))
        assert key not in rows, f"duplicate row {key}"
        rows[key] = m.group(3)
    return rows


def public(cls):
    return sorted(m for m in dir(cls) if not m.startswith("_"))


def own(ours, stdlib, name):
    """True if `name` is defined by ours (or a class between it and stdlib)."""
    for k in ours.__mro__:
        if k is stdlib:
            return False
        if name in k.__dict__:
            return True
    return False


@pytest.mark.parametrize("stdlib,ours", PAIRS, ids=[p[0].__name__ for p in PAIRS])
def test_every_member_is_in_the_table_and_decided(stdlib, ours):
    rows = table()
    missing, wrong = [], []
    for name in public(stdlib):
        status = rows.get((stdlib.__name__, name))
        if status is None:
            missing.append(name)
            continue
        assert status in STATUSES, f"{stdlib.__name__}.{name}: unknown status {status!r}"
        if status == "socket":
            # Only for members ssl.SSLSocket takes unchanged from socket.socket.
            if getattr(stdlib, name) is not getattr(socket.socket, name, object()):
                wrong.append(f"{name}: ssl.SSLSocket overrides it; ferrule must too")
        elif not own(ours, stdlib, name):
            wrong.append(f"{name}: inherited from the stdlib class (OpenSSL would run)")
    assert not missing, f"not in SSLCONTEXT.md: {stdlib.__name__}.{missing}"
    assert not wrong, wrong


def test_no_stale_rows():
    names = {c.__name__: set(public(c)) for c, _ in PAIRS}
    stale = [f"{c}.{n}" for (c, n) in table() if n not in names[c]]
    assert not stale, f"rows for members this Python does not have: {stale}"


def test_isinstance_and_exception_classes():
    ctx = ferrule.SSLContext()
    assert isinstance(ctx, ssl.SSLContext)
    assert issubclass(ferrule.SSLObject, ssl.SSLObject)
    assert issubclass(ferrule.SSLSocket, ssl.SSLSocket)
    for ours, theirs in ((ferrule.SSLWantReadError, ssl.SSLWantReadError),
                         (ferrule.SSLWantWriteError, ssl.SSLWantWriteError),
                         (ferrule.SSLZeroReturnError, ssl.SSLZeroReturnError),
                         (ferrule.SSLEOFError, ssl.SSLEOFError),
                         (ferrule.SSLCertVerificationError, ssl.SSLCertVerificationError),
                         (ferrule.SSLCertVerificationError, ssl.CertificateError),
                         (ferrule.SSLError, ssl.SSLError)):
        assert issubclass(ours, theirs)
    assert issubclass(ferrule.Unsupported, ValueError)
    assert issubclass(ferrule.Unsupported, NotImplementedError)


def test_private_openssl_entry_points_are_closed(pki):
    ctx = ferrule.SSLContext()
    with pytest.raises(ferrule.Unsupported):
        ctx._wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), False, "localhost")
    # The stdlib's own SSLObject factory goes through _wrap_bio: refused too.
    with pytest.raises(ferrule.Unsupported):
        ssl.SSLObject._create(ssl.MemoryBIO(), ssl.MemoryBIO(), server_side=False,
                              server_hostname="localhost", context=ctx)
