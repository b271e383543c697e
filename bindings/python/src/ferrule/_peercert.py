"""The dict of :meth:`ssl.SSLSocket.getpeercert` for a certificate, built
from libferrule's X.509 accessors (``ferrule_cert_*``): the library's strict
DER parser reads the certificate, this module only formats what it returns.

Strings are decoded by their ASN.1 type, strictly: UTF8String as UTF-8,
BMPString as UTF-16BE, UniversalString as UTF-32BE, PrintableString,
IA5String, VisibleString and NumericString as ASCII, TeletexString as
Latin-1 (as OpenSSL does).  Attribute types without a name here appear as
dotted OIDs (OpenSSL knows a few more names).
"""

from __future__ import annotations

import datetime
from typing import Any, Dict, List, Tuple

from . import _ffi
from ._errors import Error

__all__ = ["DERError", "decode_certificate", "peer_certificate"]


class DERError(ValueError):
    """libferrule refused the certificate (malformed DER), or it holds a
    value the dict cannot show (an attribute that is not a string of its
    type, an iPAddress of other than 4 or 16 octets)."""


# Attribute types by their OpenSSL long names (what the stdlib shows).
_ATTR_NAMES = {
    "2.5.4.3": "commonName", "2.5.4.4": "surname", "2.5.4.5": "serialNumber",
    "2.5.4.6": "countryName", "2.5.4.7": "localityName", "2.5.4.8": "stateOrProvinceName",
    "2.5.4.9": "streetAddress", "2.5.4.10": "organizationName",
    "2.5.4.11": "organizationalUnitName", "2.5.4.12": "title", "2.5.4.13": "description",
    "2.5.4.15": "businessCategory", "2.5.4.16": "postalAddress", "2.5.4.17": "postalCode",
    "2.5.4.18": "postOfficeBox", "2.5.4.20": "telephoneNumber", "2.5.4.41": "name",
    "2.5.4.42": "givenName", "2.5.4.43": "initials", "2.5.4.44": "generationQualifier",
    "2.5.4.45": "x500UniqueIdentifier", "2.5.4.46": "dnQualifier", "2.5.4.54": "dmdName",
    "2.5.4.65": "pseudonym", "2.5.4.72": "role", "2.5.4.97": "organizationIdentifier",
    "1.2.840.113549.1.9.1": "emailAddress", "1.2.840.113549.1.9.2": "unstructuredName",
    "1.2.840.113549.1.9.8": "unstructuredAddress",
    "0.9.2342.19200300.100.1.1": "userId", "0.9.2342.19200300.100.1.3": "rfc822Mailbox",
    "0.9.2342.19200300.100.1.25": "domainComponent",
    "1.3.6.1.4.1.311.60.2.1.1": "jurisdictionLocalityName",
    "1.3.6.1.4.1.311.60.2.1.2": "jurisdictionStateOrProvinceName",
    "1.3.6.1.4.1.311.60.2.1.3": "jurisdictionCountryName",
}
_CODECS = {0x0C: "utf-8", 0x12: "ascii", 0x13: "ascii", 0x14: "latin-1", 0x16: "ascii",
           0x1A: "ascii", 0x1C: "utf-32-be", 0x1E: "utf-16-be"}
# otherName types OpenSSL's GENERAL_NAME_print shows (UTF8String values;
# SRVName an IA5String); every other one is "<unsupported>".
_OTHERNAME_UTF8 = {"1.3.6.1.5.5.7.8.9": "SmtpUTF8Mailbox", "1.3.6.1.5.5.7.8.5": "XmppAddr",
                   "1.3.6.1.4.1.311.20.2.3": "UPN", "1.3.6.1.5.5.7.8.8": "NAIRealm"}
_OTHERNAME_SRV = "1.3.6.1.5.5.7.8.7"
_AD = {"1.3.6.1.5.5.7.48.1": "OCSP", "1.3.6.1.5.5.7.48.2": "caIssuers"}
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_SAN_NAME = 2  # FERRULE_CERT_SAN_NAME(i) == 2 + i


def _text(tag: int, value: bytes) -> str:
    codec = _CODECS.get(tag)
    if codec is None:
        raise DERError(f"attribute value with tag 0x{tag:02x} is not a string")
    try:
        return value.decode(codec)
    except UnicodeDecodeError:
        raise DERError(f"invalid string value (tag 0x{tag:02x}, {codec})") from None


def _name(cert: Any, which: int) -> tuple:
    rdns: List[list] = []
    for i in range(_ffi.ferrule_cert_name_count(cert, which)):
        rdn, oid, tag, value = _ffi.ferrule_cert_name_attr(cert, which, i)
        if rdn == len(rdns):
            rdns.append([])
        rdns[-1].append((_ATTR_NAMES.get(oid, oid), _text(tag, value)))
    return tuple(tuple(rdn) for rdn in rdns)


def _time(t: int) -> str:
    """'Mon DD HH:MM:SS YYYY GMT', the day padded with a space (OpenSSL's
    ASN1_TIME_print, which the stdlib shows)."""
    try:
        d = datetime.datetime(1970, 1, 1) + datetime.timedelta(seconds=t)
    except OverflowError:
        raise DERError(f"time {t} cannot be shown") from None
    return f"{_MONTHS[d.month - 1]} {d.day:2d} {d:%H:%M:%S} {d.year} GMT"


def _ip(c: bytes) -> str:
    if len(c) == 4:
        return "%d.%d.%d.%d" % tuple(c)
    if len(c) == 16:
        return ":".join("%X" % int.from_bytes(c[i:i + 2], "big") for i in range(0, 16, 2))
    raise DERError(f"iPAddress of {len(c)} octets (4 or 16 expected)")


def _other_name(cert: Any, i: int) -> str:
    oid = _ffi.ferrule_cert_san_oid(cert, i)
    try:
        tag, value = _ffi.ferrule_cert_san_other_name(cert, i)
    except Error:  # not_found: the [0] does not hold exactly one value
        return "<unsupported>"
    if oid in _OTHERNAME_UTF8 and tag == 0x0C:
        return f"{_OTHERNAME_UTF8[oid]}:{_text(tag, value)}"
    if oid == _OTHERNAME_SRV and tag == 0x16:
        return f"SRVName:{_text(tag, value)}"
    return "<unsupported>"


def _san(cert: Any, i: int) -> Tuple[str, Any]:
    """Subject alternative name `i` as the stdlib shows it."""
    kind, value = _ffi.ferrule_cert_san(cert, i)
    if kind == _ffi.FERRULE_GN_OTHER_NAME:
        return ("othername", _other_name(cert, i))
    if kind == _ffi.FERRULE_GN_DIRECTORY_NAME:
        return ("DirName", _name(cert, _SAN_NAME + i))
    if kind == _ffi.FERRULE_GN_IP:
        return ("IP Address", _ip(value))
    if kind == _ffi.FERRULE_GN_REGISTERED_ID:
        oid = _ffi.ferrule_cert_san_oid(cert, i)
        return ("Registered ID", _ATTR_NAMES.get(oid, oid))
    label = {_ffi.FERRULE_GN_EMAIL: "email", _ffi.FERRULE_GN_DNS: "DNS",
             _ffi.FERRULE_GN_URI: "URI", _ffi.FERRULE_GN_X400_ADDRESS: "X400Name",
             _ffi.FERRULE_GN_EDI_PARTY_NAME: "EdiPartyName"}[kind]
    if kind in (_ffi.FERRULE_GN_X400_ADDRESS, _ffi.FERRULE_GN_EDI_PARTY_NAME):
        return (label, "<unsupported>")
    return (label, value.decode("ascii"))  # IA5String: ASCII, checked by the parser


def _serial(c: bytes) -> str:
    """OpenSSL's i2a_ASN1_INTEGER: uppercase hex of the magnitude, '-' if
    negative."""
    v = int.from_bytes(c, "big", signed=True)
    mag = abs(v)
    digits = mag.to_bytes(max(1, (mag.bit_length() + 7) // 8), "big").hex().upper()
    return ("-" if v < 0 else "") + digits


def certificate_dict(cert: Any) -> Dict[str, Any]:
    """The getpeercert() dict of a ferrule_cert handle."""
    not_before, not_after = _ffi.ferrule_cert_validity(cert)
    out: Dict[str, Any] = {
        "subject": _name(cert, _ffi.FERRULE_CERT_SUBJECT),
        "issuer": _name(cert, _ffi.FERRULE_CERT_ISSUER),
        "version": _ffi.ferrule_cert_version(cert),
        "serialNumber": _serial(_ffi.ferrule_cert_serial(cert)),
        "notBefore": _time(not_before),
        "notAfter": _time(not_after),
    }
    if _ffi.ferrule_cert_san_count(cert):
        out["subjectAltName"] = tuple(_san(cert, i) for i in range(_ffi.ferrule_cert_san_count(cert)))
    access: Dict[str, List[str]] = {"OCSP": [], "caIssuers": []}
    for i in range(_ffi.ferrule_cert_aia_count(cert)):
        method, kind, value = _ffi.ferrule_cert_aia(cert, i)
        if kind == _ffi.FERRULE_GN_URI and method in _AD:
            access[_AD[method]].append(value.decode("ascii"))
    out.update((k, tuple(v)) for k, v in access.items() if v)
    crl = [_ffi.ferrule_cert_crl_dp(cert, i) for i in range(_ffi.ferrule_cert_crl_dp_count(cert))]
    uris = tuple(v.decode("ascii") for _, kind, v in crl if kind == _ffi.FERRULE_GN_URI)
    if uris:
        out["crlDistributionPoints"] = uris
    return out


def _with_handle(make: Any, *args: Any) -> Dict[str, Any]:
    try:
        cert = make(*args)
    except Error as e:
        raise DERError(f"{e.reason}: {_ffi.ferrule_reason_message(e.reason_code)}") from e
    try:
        return certificate_dict(cert)
    finally:
        _ffi.ferrule_cert_free(cert)


def decode_certificate(der: bytes) -> Dict[str, Any]:
    """The dict of :meth:`ssl.SSLSocket.getpeercert` for one DER
    certificate.  Raises :class:`DERError` if libferrule refuses it or a
    value cannot be shown; TypeError if `der` is not a bytes-like object."""
    return _with_handle(_ffi.fpy_cert_parse, der)


def peer_certificate(conn: Any, index: int = 0) -> Dict[str, Any]:
    """The same dict for a connection's peer certificate `index`."""
    return _with_handle(_ffi.fpy_conn_peer_cert_parse, conn, index)
