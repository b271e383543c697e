"""getpeercert(): the dict of ssl.SSLSocket.getpeercert, compared with what
Python's own ssl module returns for the same certificate (a stdlib client
against the same server in the same test), and the formatter behind it
(ferrule._peercert, over libferrule's X.509 accessors) on malformed input."""

from __future__ import annotations

import asyncio
import random
import re
import ssl
import subprocess

import pytest

import ferrule
import ferrule.asyncio as fa
from ferrule import _ffi, _peercert
from ferrule._peercert import DERError, decode_certificate
from conftest import (KINDS, TIMEOUT, client_config, echo_handler, handshake_in_memory, port_of,
                      pump, server_config, stdlib_client_ctx, stdlib_server_ctx)

RICH_EXT = """\
[ v3_rich ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = @alt
authorityInfoAccess = OCSP;URI:http://ocsp.example.test/, caIssuers;URI:http://ca.example.test/i.der, OCSP;URI:http://ocsp2.example.test/
crlDistributionPoints = URI:http://crl.example.test/inter.crl, URI:ldap://crl.example.test/x
[ alt ]
DNS.1 = localhost
DNS.2 = rich.example.test
IP.1 = 127.0.0.1
IP.2 = 2001:db8::1:0
email.1 = ops@example.test
URI.1 = https://rich.example.test/
RID.1 = 1.2.3.4.5
otherName.1 = 1.3.6.1.4.1.311.20.2.3;UTF8:upn@example.test
otherName.2 = 1.2.3.4;UTF8:opaque
dirName.1 = dir_sect
[ dir_sect ]
C = DE
O = Dir Org
CN = dir name
"""
RICH_SUBJECT = ("/C=FR/ST=\u00cele-de-France/L=Paris/O=F\u00e8rrule Test/OU=Unit A+OU=Unit B"
                "/CN=localhost/emailAddress=a@example.test/DC=example/DC=test")


@pytest.fixture(scope="session")
def rich_pki(pki, openssl_bin, tmp_path_factory):
    """pki plus "rich": a leaf (issued by the test intermediate) with every
    field the dict shows: a multi-valued RDN, non-ASCII UTF8Strings, every
    kind of subjectAltName entry, AIA (OCSP, caIssuers) and CRL
    distribution points."""
    out = tmp_path_factory.mktemp("rich")
    (out / "ext.cnf").write_text(RICH_EXT)

    def run(*args):
        r = subprocess.run([openssl_bin, *args], cwd=out, capture_output=True, timeout=TIMEOUT)
        assert r.returncode == 0, r.stderr.decode(errors="replace")

    run("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "rich.key")
    run("req", "-new", "-key", "rich.key", "-utf8", "-multivalue-rdn", "-subj", RICH_SUBJECT,
        "-out", "rich.csr")
    run("x509", "-req", "-in", "rich.csr", "-CA", str(pki / "inter.pem"), "-CAkey",
        str(pki / "inter.key"), "-set_serial", "0x00ab12cd34ef", "-days", "30", "-extfile",
        "ext.cnf", "-extensions", "v3_rich", "-out", "rich.leaf.pem")
    (out / "rich.chain.pem").write_text((out / "rich.leaf.pem").read_text()
                                        + (pki / "inter.pem").read_text())
    return out


def chain_dir(pki, rich_pki, kind):
    return rich_pki if kind == "rich" else pki


def leaf_der(directory, kind):
    text = (directory / f"{kind}.chain.pem").read_text()
    pem = re.search(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", text, re.S)
    return ssl.PEM_cert_to_DER_cert(pem.group(0))


async def close(writer):
    writer.close()
    await asyncio.wait_for(writer.wait_closed(), TIMEOUT)


@pytest.mark.parametrize("kind", KINDS + ("rich",))
async def test_dict_equals_the_stdlib_for_every_key_type(pki, rich_pki, kind):
    d = chain_dir(pki, rich_pki, kind)
    scfg = ferrule.ServerConfig(certfile=d / f"{kind}.chain.pem", keyfile=d / f"{kind}.key")
    srv = await fa.start_server(echo_handler, "127.0.0.1", 0, config=scfg)
    async with srv:
        # Python's ssl client against the ferrule server ...
        r, w = await asyncio.open_connection("127.0.0.1", port_of(srv),
                                             ssl=stdlib_client_ctx(pki),
                                             server_hostname="localhost")
        expected = w.get_extra_info("peercert")
        assert w.get_extra_info("ssl_object").getpeercert() == expected
        await close(w)
        # ... and the ferrule client against the same server.
        r, w = await fa.open_connection("127.0.0.1", port_of(srv), config=client_config(pki),
                                        server_hostname="localhost")
        got = w.get_extra_info("peercert")
        conn = w.get_extra_info("ferrule_object")
        assert conn.getpeercert() == got
        assert w.get_extra_info("peercert_der") == conn.getpeercert(True) == leaf_der(d, kind)
        await close(w)
    assert got == expected
    assert list(got) == list(expected)  # the same keys in the same order
    assert got["subject"][-1 if kind != "rich" else 5] == (("commonName", "localhost"),)
    assert got["issuer"][-1] == (("commonName", "ferrule test intermediate"),)
    assert got["version"] == 3
    if kind == "rich":
        assert got["serialNumber"] == "AB12CD34EF"
        assert ("IP Address", "2001:DB8:0:0:0:0:1:0") in got["subjectAltName"]
        assert ("othername", "UPN:upn@example.test") in got["subjectAltName"]
        assert got["OCSP"] == ("http://ocsp.example.test/", "http://ocsp2.example.test/")
        assert got["caIssuers"] == ("http://ca.example.test/i.der",)
        assert got["crlDistributionPoints"] == ("http://crl.example.test/inter.crl",
                                                "ldap://crl.example.test/x")
        assert (("organizationalUnitName", "Unit A"),
                ("organizationalUnitName", "Unit B")) in got["subject"]
        assert (("stateOrProvinceName", "\u00cele-de-France"),) in got["subject"]
    else:
        assert "OCSP" not in got and "crlDistributionPoints" not in got


async def test_unvalidated_certificate_gives_an_empty_dict_like_the_stdlib(pki):
    srv = await fa.start_server(echo_handler, "127.0.0.1", 0, config=server_config(pki))
    async with srv:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        r, w = await asyncio.open_connection("127.0.0.1", port_of(srv), ssl=ctx)
        expected = w.get_extra_info("peercert")
        await close(w)
        cfg = ferrule.ClientConfig(verify=False)
        r, w = await fa.open_connection("127.0.0.1", port_of(srv), config=cfg,
                                        server_hostname="localhost")
        got = w.get_extra_info("peercert")
        der = w.get_extra_info("peercert_der")
        await close(w)
    assert got == expected == {}
    assert der == leaf_der(pki, "ecdsa-p256")  # the DER is there all the same


async def test_client_certificate_dict_equals_the_stdlib_server(pki):
    """The server side: a ferrule server and a stdlib server, each
    requiring a certificate, see the same ferrule client certificate."""
    ccfg = client_config(pki, certfile=pki / "rsa.chain.pem", keyfile=pki / "rsa.key")
    seen = {}

    async def record(reader, writer):
        seen.setdefault("dict", []).append(writer.get_extra_info("peercert"))
        await echo_handler(reader, writer)

    sctx = stdlib_server_ctx(pki)
    sctx.verify_mode = ssl.CERT_REQUIRED
    sctx.load_verify_locations(pki / "root.pem")
    fcfg = server_config(pki, client_auth="require", cafile=pki / "root.pem")
    for kw in ({"ssl": sctx}, {"config": fcfg}):
        start = asyncio.start_server if "ssl" in kw else fa.start_server
        srv = await start(record, "127.0.0.1", 0, **kw)
        async with srv:
            r, w = await fa.open_connection("127.0.0.1", port_of(srv), config=ccfg,
                                            server_hostname="localhost")
            w.write(b"x")
            assert await asyncio.wait_for(r.readexactly(1), TIMEOUT) == b"x"
            await close(w)
    stdlib_view, ferrule_view = seen["dict"]
    assert ferrule_view == stdlib_view
    assert ferrule_view["subject"][-1] == (("commonName", "localhost"),)


def test_no_certificate_is_none_and_resumption_keeps_the_dict(pki):
    scfg, ccfg = server_config(pki), client_config(pki)
    c, s = ferrule.Connection(ccfg, "localhost"), ferrule.Connection(scfg)
    handshake_in_memory(c, s)
    first = c.getpeercert()
    assert first["subject"][-1] == (("commonName", "localhost"),)
    assert s.getpeercert() is None and s.getpeercert(True) is None  # no client certificate
    s.write(b"t")
    pump(s, c)
    assert c.read() == b"t"
    c2 = ferrule.Connection(ccfg, "localhost", session=c.session)
    s2 = ferrule.Connection(scfg)
    handshake_in_memory(c2, s2)
    assert c2.session_reused
    assert c2.getpeercert() == first  # the original connection's certificate
    # Before the handshake completes: ValueError, as ssl.SSLObject raises.
    with pytest.raises(ValueError, match="^handshake not done yet$"):
        ferrule.Connection(ccfg, "localhost").getpeercert()


def test_attribute_names_are_openssl_long_names():
    for oid, name in _peercert._ATTR_NAMES.items():
        assert ssl._ssl.txt2obj(oid)[2] == name, oid


# ---- the accessors and the formatter on crafted certificates ---------------------------------------------


def tlv(tag: int, content: bytes) -> bytes:
    n = len(content)
    if n < 0x80:
        head = bytes([n])
    else:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        head = bytes([0x80 | len(raw)]) + raw
    return bytes([tag]) + head + content


def seq(*parts: bytes) -> bytes:
    return tlv(0x30, b"".join(parts))


def oid(dotted: str) -> bytes:
    arcs = [int(a) for a in dotted.split(".")]
    out = bytearray()
    for v in [arcs[0] * 40 + arcs[1]] + arcs[2:]:
        chunk = [v & 0x7F]
        v >>= 7
        while v:
            chunk.append(0x80 | (v & 0x7F))
            v >>= 7
        out += bytes(reversed(chunk))
    return tlv(0x06, bytes(out))


def atv(dotted: str, tag: int, value: bytes) -> bytes:
    return seq(oid(dotted), tlv(tag, value))


def name(*rdns) -> bytes:
    return seq(*(tlv(0x31, b"".join(rdn)) for rdn in rdns))


CN, O, C = "2.5.4.3", "2.5.4.10", "2.5.4.6"
SIG_ALG = seq(oid("1.2.840.10045.4.3.2"))


def ext(dotted: str, value: bytes, critical=None) -> bytes:
    crit = b"" if critical is None else tlv(0x01, b"\xff" if critical else b"\x00")
    return seq(oid(dotted), crit, tlv(0x04, value))


@pytest.fixture(scope="module")
def spki(pki):
    """A real SubjectPublicKeyInfo (OpenSSL decodes the key), read with the
    accessor API."""
    handle = _ffi.fpy_cert_parse(leaf_der(pki, "ecdsa-p256"))
    try:
        return _ffi.ferrule_cert_spki(handle)
    finally:
        _ffi.ferrule_cert_free(handle)


def cert(spki, *, version=b"\xa0\x03\x02\x01\x02", serial=b"\x02\x02\x10\x01",
         tbs_alg=SIG_ALG, issuer=None, validity=None, subject=None, key=None, uids=b"",
         extensions=None, outer_alg=SIG_ALG, signature=b"\x03\x03\x00\x01\x02",
         trailing=b"") -> bytes:
    issuer = name([atv(O, 0x0C, b"ferrule test")], [atv(CN, 0x0C, b"Test CA")]) \
        if issuer is None else issuer
    subject = name([atv(C, 0x13, b"DE")],
                   [atv(O, 0x14, b"Caf\xe9"), atv("2.5.4.11", 0x1E, "Ünit".encode("utf-16-be"))],
                   [atv(CN, 0x1C, "bmp.test".encode("utf-32-be"))]) \
        if subject is None else subject
    validity = seq(tlv(0x17, b"260105090807Z"), tlv(0x18, b"20500101000000Z")) \
        if validity is None else validity
    if extensions is None:
        san = seq(tlv(0x82, b"a.test"), tlv(0x87, bytes([10, 0, 0, 1])),
                  tlv(0x87, bytes(15) + b"\x01"), tlv(0x81, b"x@a.test"),
                  tlv(0x86, b"https://a.test/"),
                  tlv(0xA4, name([atv(CN, 0x0C, b"dir")])), tlv(0x88, oid("1.2.3.4")[2:]))
        aia = seq(seq(oid("1.3.6.1.5.5.7.48.1"), tlv(0x86, b"http://ocsp.test/")),
                  seq(oid("1.3.6.1.5.5.7.48.2"), tlv(0x86, b"http://ca.test/ca.der")),
                  seq(oid("1.3.6.1.5.5.7.48.2"), tlv(0x82, b"not-a-uri.test")))
        crldp = seq(seq(tlv(0xA0, tlv(0xA0, tlv(0x86, b"http://crl.test/1.crl")))),
                    seq(tlv(0xA0, tlv(0xA0, tlv(0x86, b"http://crl.test/2.crl")
                                      + tlv(0x82, b"skipped.test"))),
                        tlv(0x81, b"\x05\xa0")))
        extensions = tlv(0xA3, seq(ext("2.5.29.19", seq(), critical=True),
                                   ext("2.5.29.17", san, critical=False),
                                   ext("1.3.6.1.5.5.7.1.1", aia), ext("2.5.29.31", crldp)))
    tbs = seq(version, serial, tbs_alg, issuer, validity, subject, spki if key is None else key,
              uids, extensions)
    return seq(tbs, outer_alg, signature) + trailing


def stdlib_decode(der: bytes, tmp_path) -> dict:
    f = tmp_path / "c.pem"
    f.write_text(ssl.DER_cert_to_PEM_cert(der))
    return ssl._ssl._test_decode_cert(str(f))


def test_crafted_certificate_decodes_like_the_stdlib(spki, tmp_path):
    der = cert(spki)
    got = decode_certificate(der)
    assert got == stdlib_decode(der, tmp_path)
    assert got["notBefore"] == "Jan  5 09:08:07 2026 GMT"  # day padded with a space
    assert got["notAfter"] == "Jan  1 00:00:00 2050 GMT"
    assert got["subject"] == ((("countryName", "DE"),),
                              (("organizationName", "Caf\u00e9"),
                               ("organizationalUnitName", "\u00dcnit")),
                              (("commonName", "bmp.test"),))
    assert got["subjectAltName"][2] == ("IP Address", "0:0:0:0:0:0:0:1")
    assert got["caIssuers"] == ("http://ca.test/ca.der",)
    assert got["crlDistributionPoints"] == ("http://crl.test/1.crl", "http://crl.test/2.crl")
    # v1 (no version, no extensions), a negative and a zero serial, a
    # UTCTime in the 1900s: still the stdlib's view.
    for variant in (cert(spki, version=b"", extensions=b""),
                    cert(spki, serial=b"\x02\x02\xff\x01", extensions=b""),
                    cert(spki, serial=b"\x02\x01\x00", extensions=b""),
                    cert(spki, validity=seq(tlv(0x17, b"500101000000Z"),
                                            tlv(0x17, b"491231235959Z")), extensions=b"")):
        assert decode_certificate(variant) == stdlib_decode(variant, tmp_path)
    assert decode_certificate(cert(spki, version=b"", extensions=b""))["version"] == 1
    assert decode_certificate(cert(spki, serial=b"\x02\x02\xff\x01",
                                   extensions=b""))["serialNumber"] == "-FF"


def malformed(spki):
    good = cert(spki)
    ok_name = name([atv(CN, 0x0C, b"x")])
    cases = {
        "empty": b"",
        "trailing octet": good + b"\x00",
        "trailing inside": cert(spki, signature=b"\x03\x02\x00\x01\x05\x00"),
        "indefinite length": b"\x30\x80" + good[4:] + b"\x00\x00",
        "long form for a short length": b"\x30\x81\x03\x02\x01\x00",
        "length with leading zero": b"\x30\x83\x00" + good[2:],
        "length too long": b"\x30\x85\x00\x00\x00\x00\x01\x00",
        "length beyond the end": good[:-1],
        "high tag number": cert(spki, uids=b"\x9f\x20\x00"),
        "SET for SEQUENCE": b"\x31" + good[1:],
        "constructed INTEGER": cert(spki, serial=b"\x22\x03\x02\x01\x01"),
        "non-minimal serial": cert(spki, serial=b"\x02\x02\x00\x01"),
        "non-minimal negative serial": cert(spki, serial=b"\x02\x02\xff\x80"),
        "empty serial": cert(spki, serial=b"\x02\x00"),
        "serial of 21 octets": cert(spki, serial=tlv(0x02, b"\x01" * 21)),
        "version 4": cert(spki, version=b"\xa0\x03\x02\x01\x03"),
        "version trailing": cert(spki, version=b"\xa0\x06\x02\x01\x02\x02\x01\x02"),
        "extensions in v1": cert(spki, version=b""),
        "extensions in v2": cert(spki, version=b"\xa0\x03\x02\x01\x01"),
        "unique id in v1": cert(spki, version=b"", uids=b"\x81\x02\x00\x01", extensions=b""),
        "TBS algorithm differs": cert(spki, tbs_alg=seq(oid("1.2.840.10045.4.3.3"))),
        "bad unused bits": cert(spki, signature=b"\x03\x02\x08\x00"),
        "nonzero unused bits": cert(spki, signature=b"\x03\x02\x01\x01"),
        "empty BIT STRING": cert(spki, signature=b"\x03\x00"),
        "empty RDN": cert(spki, issuer=seq(tlv(0x31, b""))),
        "Name not a SEQUENCE": cert(spki, issuer=tlv(0x31, b"")),
        "attribute not a string": cert(spki, issuer=name([atv(CN, 0x02, b"\x01")])),
        "attribute trailing": cert(spki, issuer=name([seq(oid(CN), tlv(0x0C, b"a"),
                                                          tlv(0x0C, b"b"))])),
        "invalid UTF8String": cert(spki, subject=name([atv(CN, 0x0C, b"\xc3\x28")])),
        "non-ASCII PrintableString": cert(spki, subject=name([atv(CN, 0x13, b"\xe9")])),
        "odd BMPString": cert(spki, subject=name([atv(CN, 0x1E, b"\x00a\x00")])),
        "lone surrogate BMPString": cert(spki, subject=name([atv(CN, 0x1E, b"\xd8\x00")])),
        "UniversalString not UTF-32": cert(spki, subject=name([atv(CN, 0x1C, b"\x00\x11\x00\x00")])),
        "empty OID": cert(spki, subject=name([seq(tlv(0x06, b""), tlv(0x0C, b"x"))])),
        "non-minimal OID arc": cert(spki, subject=name([seq(tlv(0x06, b"\x55\x80\x04\x03"),
                                                            tlv(0x0C, b"x"))])),
        "truncated OID": cert(spki, subject=name([seq(tlv(0x06, b"\x55\x04\x83"),
                                                      tlv(0x0C, b"x"))])),
        "UTCTime without seconds": cert(spki, validity=seq(tlv(0x17, b"2601050908Z"),
                                                           tlv(0x17, b"270105090807Z"))),
        "UTCTime with offset": cert(spki, validity=seq(tlv(0x17, b"260105090807+0100"),
                                                       tlv(0x17, b"270105090807Z"))),
        "fractional seconds": cert(spki, validity=seq(tlv(0x18, b"20260105090807.5Z"),
                                                      tlv(0x17, b"270105090807Z"))),
        "February 30": cert(spki, validity=seq(tlv(0x17, b"260230000000Z"),
                                               tlv(0x17, b"270105090807Z"))),
        "hour 24": cert(spki, validity=seq(tlv(0x17, b"260105240000Z"),
                                           tlv(0x17, b"270105090807Z"))),
        "non-digit time": cert(spki, validity=seq(tlv(0x17, b"26010509080 Z"),
                                                  tlv(0x17, b"270105090807Z"))),
        "time of the wrong type": cert(spki, validity=seq(tlv(0x0C, b"260105090807Z"),
                                                          tlv(0x17, b"270105090807Z"))),
        "one time only": cert(spki, validity=seq(tlv(0x17, b"260105090807Z"))),
        "SPKI trailing": cert(spki, key=seq(SIG_ALG, tlv(0x03, b"\x00\x04"), b"\x05\x00")),
        "empty Extensions": cert(spki, extensions=tlv(0xA3, seq())),
        "duplicate extension": cert(spki, extensions=tlv(0xA3, seq(
            ext("2.5.29.19", seq()), ext("2.5.29.19", seq())))),
        "bad BOOLEAN": cert(spki, extensions=tlv(0xA3, seq(seq(
            oid("2.5.29.19"), tlv(0x01, b"\x01"), tlv(0x04, seq()))))),
        "extension value trailing": cert(spki, extensions=tlv(0xA3, seq(
            ext("2.5.29.17", seq(tlv(0x82, b"a.test")) + b"\x00")))),
        "empty SAN": cert(spki, extensions=tlv(0xA3, seq(ext("2.5.29.17", seq())))),
        "IP address of 5 octets": cert(spki, extensions=tlv(0xA3, seq(
            ext("2.5.29.17", seq(tlv(0x87, b"\x01\x02\x03\x04\x05")))))),
        "non-ASCII dNSName": cert(spki, extensions=tlv(0xA3, seq(
            ext("2.5.29.17", seq(tlv(0x82, b"\xe9.test")))))),
        "constructed dNSName": cert(spki, extensions=tlv(0xA3, seq(
            ext("2.5.29.17", seq(tlv(0xA2, tlv(0x16, b"a.test"))))))),
        "unknown GeneralName": cert(spki, extensions=tlv(0xA3, seq(
            ext("2.5.29.17", seq(tlv(0x89, b"x")))))),
        "directoryName trailing": cert(spki, extensions=tlv(0xA3, seq(
            ext("2.5.29.17", seq(tlv(0xA4, ok_name + b"\x05\x00")))))),
        "empty AIA": cert(spki, extensions=tlv(0xA3, seq(ext("1.3.6.1.5.5.7.1.1", seq())))),
        "AIA without location": cert(spki, extensions=tlv(0xA3, seq(ext(
            "1.3.6.1.5.5.7.1.1", seq(seq(oid("1.3.6.1.5.5.7.48.1"))))))),
        "empty CRLDP": cert(spki, extensions=tlv(0xA3, seq(ext("2.5.29.31", seq())))),
        "DistributionPoint without a name": cert(spki, extensions=tlv(0xA3, seq(ext(
            "2.5.29.31", seq(seq(tlv(0x81, b"\x05\xa0"))))))),
        "DistributionPoint out of order": cert(spki, extensions=tlv(0xA3, seq(ext(
            "2.5.29.31", seq(seq(tlv(0x81, b"\x05\xa0"),
                                 tlv(0xA0, tlv(0xA0, tlv(0x86, b"http://c.test/"))))))))),
        "empty fullName": cert(spki, extensions=tlv(0xA3, seq(ext(
            "2.5.29.31", seq(seq(tlv(0xA0, tlv(0xA0, b"")))))))),
    }
    return cases

# Why each case of malformed() fails (a part of DERError's message): the
# library's parser refuses malformed DER (cert_malformed); the formatter
# refuses values the dict cannot show.  Every case must fail for its
# intended reason, not by accident.
FORMATTER = {
    "attribute not a string": "tag 0x02 is not a string",
    "invalid UTF8String": "invalid string value (tag 0x0c",
    "non-ASCII PrintableString": "invalid string value (tag 0x13",
    "odd BMPString": "invalid string value (tag 0x1e",
    "lone surrogate BMPString": "invalid string value (tag 0x1e",
    "UniversalString not UTF-32": "invalid string value (tag 0x1c",
    "IP address of 5 octets": "5 octets",
}


def why(case: str) -> str:
    return FORMATTER.get(case, "cert_malformed")


def test_malformed_certificates_raise(spki, tmp_path):
    good = cert(spki)
    decode_certificate(good)  # the base case is fine
    cases = malformed(spki)
    assert set(FORMATTER) <= set(cases) and len(cases) > 50
    for what, der in cases.items():
        with pytest.raises(DERError) as ei:
            decode_certificate(der)
            pytest.fail(f"{what}: decoded without an error")
        assert why(what) in str(ei.value), f"{what}: {ei.value}"
        # The library's verdict, through the accessor API: the formatter's
        # cases parse, the others are refused with the reason.
        if what in FORMATTER:
            _ffi.ferrule_cert_free(_ffi.fpy_cert_parse(der))
        else:
            with pytest.raises(ferrule.CertificateError) as lib:
                _ffi.fpy_cert_parse(der)
            assert lib.value.reason == "cert_malformed", what
    assert issubclass(DERError, ValueError)
    with pytest.raises(TypeError):
        decode_certificate("not bytes")


def test_every_truncation_raises(spki):
    der = cert(spki)
    for n in range(len(der)):
        with pytest.raises(DERError):
            decode_certificate(der[:n])


def test_mutations_raise_only_der_error(spki):
    """Random byte changes: a dict or DERError, nothing else (no
    IndexError, no UnicodeError, no hang).  Fixed seed: reproducible."""
    der = cert(spki)
    rng = random.Random(1234)
    outcomes = {"dict": 0, "error": 0}
    for _ in range(3000):
        b = bytearray(der)
        for _ in range(rng.randint(1, 3)):
            b[rng.randrange(len(b))] = rng.randrange(256)
        try:
            assert isinstance(decode_certificate(bytes(b)), dict)
            outcomes["dict"] += 1
        except DERError:
            outcomes["error"] += 1
    assert outcomes["error"] > 1000 and outcomes["dict"] > 100, outcomes


def test_getpeercert_after_free_is_none(pki):
    c = ferrule.Connection(client_config(pki), "localhost")
    c.free()
    assert c.getpeercert() is None


def test_getpeercert_before_the_handshake_raises_valueerror_like_ssl(pki):
    """ssl.SSLObject.getpeercert raises ValueError("handshake not done
    yet") until the handshake completed; so does ferrule, in both roles,
    both forms, at every step, and after a failed handshake."""
    ctx = ssl.create_default_context(cafile=str(pki / "root.pem"))
    sslobj = ctx.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_hostname="localhost")
    with pytest.raises(ValueError) as std:
        sslobj.getpeercert()
    c = ferrule.Connection(client_config(pki, certfile=pki / "ecdsa-p256.chain.pem",
                                         keyfile=pki / "ecdsa-p256.key"), "localhost")
    s = ferrule.Connection(server_config(pki, "rsa", client_auth="require",
                                         cafile=pki / "root.pem"))
    for conn in (c, s):
        for form in (False, True):
            with pytest.raises(ValueError) as ours:
                conn.getpeercert(form)
            assert type(ours.value) is ValueError and str(ours.value) == str(std.value)
    # Step by step: still raising until each side is done.
    with pytest.raises(ferrule.WantRead):
        c.do_handshake()
    s.receive_bytes(c.bytes_to_send())
    with pytest.raises(ferrule.WantRead):
        s.do_handshake()  # ServerHello .. Finished sent, waiting for the client
    with pytest.raises(ValueError):
        s.getpeercert()
    c.receive_bytes(s.bytes_to_send())
    c.do_handshake()
    assert c.getpeercert()["subject"] == ((("organizationName", "ferrule test"),),
                                          (("commonName", "localhost"),))
    with pytest.raises(ValueError):
        s.getpeercert()  # the client's Certificate not read yet
    s.receive_bytes(c.bytes_to_send())
    s.do_handshake()
    assert s.getpeercert(True) == c_leaf(pki)
    # A handshake that failed never completed.
    bad = ferrule.Connection(client_config(pki), "example.com")
    with pytest.raises(ferrule.CertificateError):
        handshake_in_memory(bad, ferrule.Connection(server_config(pki, "ecdsa-p256")))
    with pytest.raises(ValueError, match="handshake not done yet"):
        bad.getpeercert()


def c_leaf(pki):
    return ssl.PEM_cert_to_DER_cert(
        re.search(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----",
                  (pki / "ecdsa-p256.chain.pem").read_text(), re.S).group(0))
