"""ferrule.verify_chain: standalone X.509 path validation
(ferrule_verify_chain) against the PKI of tools/gen-pki.sh, with CRLs made
by `openssl ca` from its intermediate."""

from __future__ import annotations

import datetime
import re
import ssl
import subprocess
import time

import pytest

import ferrule


def ders(path):
    text = path.read_text()
    return [ssl.PEM_cert_to_DER_cert(m) for m in
            re.findall(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", text, re.S)]


def crl_der(tmp, pki, openssl_bin, revoke=(), ca="inter", days=30):
    """A DER CRL issued by `ca` (pki/<ca>.pem/.key) listing the leaves in
    `revoke` (file names under pki)."""
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "index.txt").write_text("")
    (tmp / "crlnumber").write_text("1000\n")
    (tmp / "ca.cnf").write_text(
        "[ca]\ndefault_ca = CA\n[CA]\ndatabase = index.txt\ncrlnumber = crlnumber\n"
        f"default_md = sha256\ndefault_crl_days = {days}\n")
    base = [openssl_bin, "ca", "-batch", "-config", "ca.cnf", "-cert", str(pki / f"{ca}.pem"),
            "-keyfile", str(pki / f"{ca}.key")]
    for leaf in revoke:
        subprocess.run(base + ["-revoke", str(pki / leaf)], cwd=tmp, check=True,
                       capture_output=True, timeout=60)
    subprocess.run(base + ["-gencrl", "-out", "crl.pem"], cwd=tmp, check=True,
                   capture_output=True, timeout=60)
    return subprocess.run([openssl_bin, "crl", "-in", "crl.pem", "-outform", "DER"], cwd=tmp,
                          check=True, capture_output=True, timeout=60).stdout


def test_valid_chain_returns_the_path(pki):
    chain = ders(pki / "ecdsa-p256.chain.pem")
    root = ders(pki / "root.pem")[0]
    path = ferrule.verify_chain(chain, cafile=pki / "root.pem", hostname="localhost")
    assert path == [chain[0], chain[1], root]
    assert all(isinstance(c, bytes) for c in path)
    # Same with cadata, a config's anchors, an IP address, bytearray input.
    assert ferrule.verify_chain(chain, cadata=(pki / "root.pem").read_text()) == path
    cfg = ferrule.ClientConfig(cafile=pki / "root.pem")
    assert ferrule.verify_chain([bytearray(c) for c in chain], config=cfg,
                                hostname="127.0.0.1") == path
    # The config is not frozen by the call: still configurable afterwards.
    ferrule.Connection(cfg, "localhost")


def test_every_key_type(pki):
    from conftest import KINDS
    for kind in KINDS:
        chain = ders(pki / f"{kind}.chain.pem")
        assert ferrule.verify_chain(chain, cafile=pki / "root.pem")[0] == chain[0]


def test_wrong_name(pki):
    chain = ders(pki / "ecdsa-p256.chain.pem")
    with pytest.raises(ferrule.CertificateError) as ei:
        ferrule.verify_chain(chain, cafile=pki / "root.pem", hostname="example.com")
    assert ei.value.reason == "cert_name_mismatch"
    assert "cert_name_mismatch" in str(ei.value)
    with pytest.raises(ferrule.CertificateError) as ei:
        ferrule.verify_chain(ders(pki / "wrongname.chain.pem"), cafile=pki / "root.pem",
                             hostname="localhost")
    assert ei.value.reason == "cert_name_mismatch"
    # No hostname: no name check.
    ferrule.verify_chain(ders(pki / "wrongname.chain.pem"), cafile=pki / "root.pem")


def test_at_time_expired_and_not_yet_valid(pki):
    chain = ders(pki / "ecdsa-p256.chain.pem")
    ca = pki / "root.pem"
    later = int(time.time()) + 5 * 365 * 86400  # the leaves live 825 days
    with pytest.raises(ferrule.CertificateError) as ei:
        ferrule.verify_chain(chain, cafile=ca, at_time=later)
    assert ei.value.reason == "cert_expired"
    with pytest.raises(ferrule.CertificateError) as ei:
        ferrule.verify_chain(chain, cafile=ca,
                             at_time=datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc))
    assert ei.value.reason == "cert_not_yet_valid"
    assert ferrule.verify_chain(chain, cafile=ca, at_time=time.time() + 86400.5)
    with pytest.raises(ValueError):
        ferrule.verify_chain(chain, cafile=ca, at_time=datetime.datetime(2030, 1, 1))  # naive
    # Without at_time the config's clock decides.
    cfg = ferrule.ClientConfig(cafile=ca, clock=lambda: later)
    with pytest.raises(ferrule.CertificateError) as ei:
        ferrule.verify_chain(chain, config=cfg)
    assert ei.value.reason == "cert_expired"


def test_unknown_issuer(pki):
    chain = ders(pki / "ecdsa-p256.chain.pem")
    with pytest.raises(ferrule.CertificateError) as ei:
        ferrule.verify_chain(chain, cafile=pki / "other-root.pem")
    assert ei.value.reason == "cert_unknown_issuer"
    with pytest.raises(ferrule.CertificateError) as ei:
        ferrule.verify_chain(ders(pki / "untrusted.chain.pem"), cafile=pki / "root.pem")
    assert ei.value.reason == "cert_unknown_issuer"
    with pytest.raises(ferrule.CertificateError) as ei:
        ferrule.verify_chain(chain[:1], cafile=pki / "root.pem")  # intermediate missing
    assert ei.value.reason == "cert_unknown_issuer"


def test_intermediates_in_any_order_but_leaf_first(pki):
    leaf = ders(pki / "x-mid2-leaf.pem")[0]
    mid1, mid2 = ders(pki / "x-mid1.pem")[0], ders(pki / "x-mid2.pem")[0]
    root = ders(pki / "root.pem")[0]
    extra = ders(pki / "other-root.pem")[0]  # an unrelated certificate is ignored
    want = [leaf, mid2, mid1, root]
    for rest in ([mid2, mid1], [mid1, mid2], [mid1, extra, mid2]):
        assert ferrule.verify_chain([leaf] + rest, cafile=pki / "root.pem") == want
    # The first certificate is the leaf: a CA there is not a server certificate.
    with pytest.raises(ferrule.CertificateError) as ei:
        ferrule.verify_chain([mid2, leaf, mid1], cafile=pki / "root.pem")
    assert ei.value.reason == "cert_key_usage"
    assert ferrule.verify_chain([leaf, mid2, mid1], cafile=pki / "root.pem",
                                max_depth=3) == want
    with pytest.raises(ferrule.CertificateError) as ei:
        ferrule.verify_chain([leaf, mid2, mid1], cafile=pki / "root.pem", max_depth=2)
    assert ei.value.reason == "cert_path_length"


def test_purpose(pki):
    chain = ders(pki / "x-eku-client.pem") + ders(pki / "inter.pem")
    ca = pki / "root.pem"
    assert len(ferrule.verify_chain(chain, cafile=ca, purpose="client")) == 3
    with pytest.raises(ferrule.CertificateError) as ei:
        ferrule.verify_chain(chain, cafile=ca)  # purpose="server"
    assert ei.value.reason == "cert_eku"


def test_garbage_der_is_a_clean_error(pki):
    chain = ders(pki / "ecdsa-p256.chain.pem")
    ca = pki / "root.pem"
    for bad in (b"\x00", b"\x30\x03\x02\x01\x00", chain[0][:-1], chain[0] + b"\x00",
                b"\x30\x84\xff\xff\xff\xff", bytes(range(256)) * 40):
        with pytest.raises(ferrule.CertificateError) as ei:
            ferrule.verify_chain([bad], cafile=ca)
        assert ei.value.reason == "cert_malformed", bad[:8]
        with pytest.raises(ferrule.CertificateError) as ei:
            ferrule.verify_chain([chain[0], bad], cafile=ca)  # as an intermediate
        assert ei.value.reason == "cert_malformed"


def test_bad_arguments(pki):
    chain = ders(pki / "ecdsa-p256.chain.pem")
    ca = pki / "root.pem"
    with pytest.raises(ferrule.UsageError):
        ferrule.verify_chain([], cafile=ca)
    with pytest.raises(ferrule.UsageError):
        ferrule.verify_chain([chain[0], b""], cafile=ca)
    with pytest.raises(ferrule.UsageError):
        ferrule.verify_chain(chain, cafile=ca, purpose="email")
    for depth in (0, 33, -1):
        with pytest.raises(ferrule.UsageError):
            ferrule.verify_chain(chain, cafile=ca, max_depth=depth)
    with pytest.raises(ferrule.UsageError):
        ferrule.verify_chain(chain, cafile=ca, config=ferrule.ClientConfig(cafile=ca))
    with pytest.raises(TypeError):
        ferrule.verify_chain(chain[0], cafile=ca)  # one bytes object, not a list
    with pytest.raises(TypeError):
        ferrule.verify_chain(["not der"], cafile=ca)
    with pytest.raises(TypeError):
        ferrule.verify_chain(chain, cafile=ca, hostname=b"localhost")
    with pytest.raises(TypeError):
        ferrule.verify_chain(chain, cafile=ca, crls=[42])
    with pytest.raises(TypeError):
        ferrule.verify_chain(chain, config="root.pem")
    with pytest.raises(ValueError):
        ferrule.verify_chain(chain, cafile=ca, hostname="local\0host")
    with pytest.raises(OverflowError):
        ferrule.verify_chain(chain, cafile=ca, at_time=1 << 63)
    with pytest.raises(ferrule.Error):
        ferrule.verify_chain(chain, cafile=pki / "does-not-exist.pem")


def test_crl_revocation(pki, openssl_bin, tmp_path):
    chain = ders(pki / "ecdsa-p256.chain.pem")
    ca = pki / "root.pem"
    revoked = crl_der(tmp_path / "r", pki, openssl_bin, revoke=["ecdsa-p256.leaf.pem"])
    empty = crl_der(tmp_path / "e", pki, openssl_bin)
    with pytest.raises(ferrule.CertificateError) as ei:
        ferrule.verify_chain(chain, cafile=ca, crls=[revoked])
    assert ei.value.reason == "cert_revoked"
    # Another leaf of the same issuer is not on that list.
    rsa = ders(pki / "rsa.chain.pem")
    assert len(ferrule.verify_chain(rsa, cafile=ca, crls=[revoked])) == 3
    # A current CRL that does not list the leaf; no CRL: no checking.
    assert len(ferrule.verify_chain(chain, cafile=ca, crls=[empty])) == 3
    assert len(ferrule.verify_chain(chain, cafile=ca)) == 3
    # A CRL of an unrelated issuer does not apply.
    other = crl_der(tmp_path / "o", pki, openssl_bin, ca="other-root")
    assert len(ferrule.verify_chain(chain, cafile=ca, crls=[other])) == 3
    # An applying CRL that is no longer current (nextUpdate in 30 days)
    # fails the validation, listed or not.
    with pytest.raises(ferrule.CertificateError) as ei:
        ferrule.verify_chain(chain, cafile=ca, crls=[empty],
                             at_time=int(time.time()) + 40 * 86400)
    assert ei.value.reason == "cert_expired"
    # A CRL that does not parse fails the validation.
    for bad in (b"\x30\x00", revoked[:-3]):
        with pytest.raises(ferrule.CertificateError) as ei:
            ferrule.verify_chain(chain, cafile=ca, crls=[bad])
        assert ei.value.reason == "cert_malformed"
