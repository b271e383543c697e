"""A small, strict DER reader and the decoding of an X.509 certificate into
the dict of :meth:`ssl.SSLSocket.getpeercert` (Connection.getpeercert).

Only what that dict needs is decoded, but the whole certificate structure
is checked on the way (X.690 §10 DER, RFC 5280 §4.1): definite minimal
lengths, no indefinite form, low tag numbers only, the expected tag (and
primitive / constructed bit) at every position, no trailing bytes at any
level, minimal INTEGERs, well-formed OIDs and times, no duplicate
extension, and well-formed values of the extensions the dict shows
(subjectAltName, authorityInfoAccess, cRLDistributionPoints).  Anything
else raises :class:`DERError` (a ValueError): nothing is guessed.  The two
DEFAULT values that libferrule also accepts when encoded (version v1,
critical FALSE) are accepted.

Strings: UTF8String must be valid UTF-8, BMPString UTF-16BE,
UniversalString UTF-32BE; PrintableString, IA5String, VisibleString and
NumericString must be 7-bit ASCII; TeletexString is read as Latin-1 (as
OpenSSL does).  Attribute types this module does not name appear as dotted
OIDs (OpenSSL knows a few more names).
"""

from __future__ import annotations

import datetime
from typing import Any, Dict, List, Optional, Tuple

__all__ = ["DERError", "decode_certificate", "oid_to_str"]


class DERError(ValueError):
    """The input is not a well-formed DER certificate."""


# Universal tags (with the constructed bit where it applies).
BOOLEAN = 0x01
INTEGER = 0x02
BIT_STRING = 0x03
OCTET_STRING = 0x04
OID = 0x06
UTF8_STRING = 0x0C
NUMERIC_STRING = 0x12
PRINTABLE_STRING = 0x13
T61_STRING = 0x14
IA5_STRING = 0x16
UTC_TIME = 0x17
GENERALIZED_TIME = 0x18
VISIBLE_STRING = 0x1A
UNIVERSAL_STRING = 0x1C
BMP_STRING = 0x1E
SEQUENCE = 0x30
SET = 0x31


def ctx(n: int, constructed: bool) -> int:
    """A context-specific tag [n]."""
    return 0x80 | (0x20 if constructed else 0) | n


_MAX_DEPTH = 32


class Reader:
    """Reads consecutive TLVs from buf[pos:end]."""

    __slots__ = ("buf", "pos", "end", "depth")

    def __init__(self, buf: bytes, pos: int = 0, end: Optional[int] = None,
                 depth: int = 0) -> None:
        self.buf = buf
        self.pos = pos
        self.end = len(buf) if end is None else end
        self.depth = depth
        if depth > _MAX_DEPTH:
            raise DERError("nested too deeply")

    def empty(self) -> bool:
        return self.pos >= self.end

    def peek(self) -> Optional[int]:
        """The next tag, or None at the end."""
        return None if self.empty() else self.buf[self.pos]

    def _header(self) -> Tuple[int, int, int]:
        """(tag, content start, content end) of the next TLV."""
        buf, pos, end = self.buf, self.pos, self.end
        if pos >= end:
            raise DERError("truncated: a tag was expected")
        tag = buf[pos]
        pos += 1
        if tag & 0x1F == 0x1F:
            raise DERError(f"high tag number form (tag byte 0x{tag:02x}) is not used here")
        if pos >= end:
            raise DERError("truncated: no length octet")
        first = buf[pos]
        pos += 1
        if first < 0x80:
            length = first
        elif first == 0x80:
            raise DERError("indefinite length (not DER)")
        else:
            n = first & 0x7F
            if n > 4:
                raise DERError(f"length of {n} octets is too long")
            if n > end - pos:
                raise DERError("truncated: length octets")
            if buf[pos] == 0:
                raise DERError("non-minimal length (leading zero octet)")
            length = int.from_bytes(buf[pos:pos + n], "big")
            pos += n
            if length < 0x80:
                raise DERError("non-minimal length (long form for a short length)")
        if length > end - pos:
            raise DERError(f"truncated: {length} content octets declared, {end - pos} left")
        return tag, pos, pos + length

    def read_any(self) -> Tuple[int, int, int]:
        tag, start, stop = self._header()
        self.pos = stop
        return tag, start, stop

    def read(self, tag: int) -> "Reader":
        """The next TLV, which must have tag `tag`; returns its content."""
        got, start, stop = self._header()
        if got != tag:
            raise DERError(f"expected tag 0x{tag:02x}, got 0x{got:02x}")
        self.pos = stop
        return Reader(self.buf, start, stop, self.depth + 1)

    def read_optional(self, tag: int) -> Optional["Reader"]:
        return self.read(tag) if self.peek() == tag else None

    def bytes(self) -> bytes:
        return bytes(self.buf[self.pos:self.end])

    def tlv_bytes(self, tag: int) -> bytes:
        """The whole next TLV (tag `tag`) as bytes."""
        start = self.pos
        self.read(tag)
        return bytes(self.buf[start:self.pos])

    def done(self) -> None:
        if self.pos != self.end:
            raise DERError(f"{self.end - self.pos} unexpected trailing octets")


def check_structure(r: Reader) -> None:
    """Walk every TLV under `r` (recursing into constructed ones): the
    framing rules hold everywhere, not only where values are decoded."""
    while not r.empty():
        tag, start, stop = r.read_any()
        if tag & 0x20:
            check_structure(Reader(r.buf, start, stop, r.depth + 1))


# ---- primitive values ------------------------------------------------------------


def read_integer_octets(r: Reader) -> bytes:
    """An INTEGER's content octets (checked minimal)."""
    c = r.read(INTEGER).bytes()
    if not c:
        raise DERError("empty INTEGER")
    if len(c) > 1 and ((c[0] == 0 and c[1] < 0x80) or (c[0] == 0xFF and c[1] >= 0x80)):
        raise DERError("non-minimal INTEGER")
    return c


def read_integer(r: Reader) -> int:
    return int.from_bytes(read_integer_octets(r), "big", signed=True)


def read_boolean(r: Reader) -> bool:
    c = r.read(BOOLEAN).bytes()
    if len(c) != 1 or c[0] not in (0x00, 0xFF):
        raise DERError("BOOLEAN must be one octet, 0x00 or 0xFF")
    return c[0] == 0xFF


def oid_to_str(c: bytes) -> str:
    """Dotted form of an OBJECT IDENTIFIER's content octets."""
    if not c:
        raise DERError("empty OBJECT IDENTIFIER")
    if c[-1] & 0x80:
        raise DERError("truncated OBJECT IDENTIFIER")
    arcs: List[int] = []
    v = 0
    fresh = True
    for b in c:
        if fresh and b == 0x80:
            raise DERError("non-minimal OBJECT IDENTIFIER arc")
        v = (v << 7) | (b & 0x7F)
        fresh = not b & 0x80
        if fresh:
            arcs.append(v)
            v = 0
    first = min(arcs[0] // 40, 2)
    return ".".join(map(str, [first, arcs[0] - 40 * first] + arcs[1:]))


def read_oid(r: Reader) -> str:
    return oid_to_str(r.read(OID).bytes())


def read_bit_string(r: Reader) -> bytes:
    return bit_string_content(r.read(BIT_STRING).bytes())


def bit_string_content(c: bytes) -> bytes:
    """The bits of a BIT STRING's content octets (checked)."""
    if not c:
        raise DERError("empty BIT STRING")
    unused = c[0]
    if unused > 7 or (len(c) == 1 and unused != 0):
        raise DERError("bad unused-bits count in BIT STRING")
    if unused and c[-1] & ((1 << unused) - 1):
        raise DERError("unused bits of a BIT STRING are not zero")
    return c[1:]


def _ascii(c: bytes, what: str) -> str:
    try:
        return c.decode("ascii")
    except UnicodeDecodeError:
        raise DERError(f"{what} is not 7-bit ASCII") from None


_DECODERS = {
    UTF8_STRING: ("utf-8", "UTF8String"),
    BMP_STRING: ("utf-16-be", "BMPString"),
    UNIVERSAL_STRING: ("utf-32-be", "UniversalString"),
    T61_STRING: ("latin-1", "TeletexString"),
}
_ASCII_STRINGS = {PRINTABLE_STRING: "PrintableString", IA5_STRING: "IA5String",
                  VISIBLE_STRING: "VisibleString", NUMERIC_STRING: "NumericString"}


def read_string(r: Reader) -> str:
    """A directory string (an attribute value)."""
    tag, start, stop = r.read_any()
    c = bytes(r.buf[start:stop])
    if tag in _ASCII_STRINGS:
        return _ascii(c, _ASCII_STRINGS[tag])
    if tag in _DECODERS:
        codec, name = _DECODERS[tag]
        try:
            return c.decode(codec)
        except UnicodeDecodeError:
            raise DERError(f"invalid {name}") from None
    raise DERError(f"attribute value with tag 0x{tag:02x} is not a string")


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def read_time(r: Reader) -> str:
    """A Time in the stdlib's format: 'Mon DD HH:MM:SS YYYY GMT' (the day
    padded with a space, like OpenSSL's ASN1_TIME_print)."""
    tag, start, stop = r.read_any()
    c = bytes(r.buf[start:stop])
    if tag == UTC_TIME:
        if len(c) != 13:
            raise DERError("UTCTime must be YYMMDDHHMMSSZ")
        digits = c[:12]
    elif tag == GENERALIZED_TIME:
        if len(c) != 15:
            raise DERError("GeneralizedTime must be YYYYMMDDHHMMSSZ")
        digits = c[:14]
    else:
        raise DERError(f"expected UTCTime or GeneralizedTime, got tag 0x{tag:02x}")
    if c[-1:] != b"Z" or not all(0x30 <= b <= 0x39 for b in digits):
        raise DERError("time is not digits followed by Z")
    if tag == UTC_TIME:
        yy = int(digits[:2])
        year = yy + (1900 if yy >= 50 else 2000)  # RFC 5280 §4.1.2.5.1
        rest = digits[2:]
    else:
        year = int(digits[:4])
        rest = digits[4:]
    mon, day, hh, mm, ss = (int(rest[i:i + 2]) for i in range(0, 10, 2))
    try:
        datetime.datetime(year, mon, day, hh, mm, ss)
    except ValueError:
        raise DERError("impossible date or time") from None
    return f"{_MONTHS[mon - 1]} {day:2d} {hh:02d}:{mm:02d}:{ss:02d} {year} GMT"


# ---- names -------------------------------------------------------------------------

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


def oid_name(oid: str) -> str:
    return _ATTR_NAMES.get(oid, oid)


def read_name(r: Reader) -> tuple:
    """Name ::= SEQUENCE OF RelativeDistinguishedName (SET SIZE (1..MAX) OF
    AttributeTypeAndValue) -> the stdlib's tuple of RDN tuples."""
    seq = r.read(SEQUENCE)
    rdns = []
    while not seq.empty():
        rdn_set = seq.read(SET)
        if rdn_set.empty():
            raise DERError("empty RelativeDistinguishedName")
        rdn = []
        while not rdn_set.empty():
            atv = rdn_set.read(SEQUENCE)
            oid = read_oid(atv)
            value = read_string(atv)
            atv.done()
            rdn.append((oid_name(oid), value))
        rdns.append(tuple(rdn))
    return tuple(rdns)


# ---- general names -------------------------------------------------------------------

_OTHERNAME_UTF8 = {"1.3.6.1.5.5.7.8.9": "SmtpUTF8Mailbox", "1.3.6.1.5.5.7.8.5": "XmppAddr",
                   "1.3.6.1.4.1.311.20.2.3": "UPN", "1.3.6.1.5.5.7.8.8": "NAIRealm"}
_OTHERNAME_SRV = "1.3.6.1.5.5.7.8.7"


def _ia5(r: Reader, tag: int, what: str) -> str:
    return _ascii(r.read(tag).bytes(), what)


def _ip_text(c: bytes) -> str:
    if len(c) == 4:
        return "%d.%d.%d.%d" % tuple(c)
    if len(c) == 16:
        return ":".join("%X" % int.from_bytes(c[i:i + 2], "big") for i in range(0, 16, 2))
    raise DERError(f"iPAddress of {len(c)} octets (4 or 16 expected)")


def read_general_name(r: Reader) -> Tuple[str, Any]:
    """One GeneralName (RFC 5280 §4.2.1.6) as the stdlib shows it in
    subjectAltName."""
    tag = r.peek()
    if tag == ctx(0, True):  # otherName: type-id OID, [0] EXPLICIT value
        on = r.read(tag)
        oid = read_oid(on)
        value = on.read(ctx(0, True))
        on.done()
        vtag = value.peek()
        # OpenSSL's GENERAL_NAME_print names a few UTF8String (SRVName:
        # IA5String) types; everything else is "<unsupported>".
        text = "<unsupported>"
        if oid in _OTHERNAME_UTF8 and vtag == UTF8_STRING:
            text = f"{_OTHERNAME_UTF8[oid]}:{read_string(value)}"
        elif oid == _OTHERNAME_SRV and vtag == IA5_STRING:
            text = f"SRVName:{read_string(value)}"
        else:
            check_structure(value)
            value.pos = value.end
        value.done()
        return ("othername", text)
    if tag == ctx(1, False):
        return ("email", _ia5(r, tag, "rfc822Name"))
    if tag == ctx(2, False):
        return ("DNS", _ia5(r, tag, "dNSName"))
    if tag == ctx(3, True):
        check_structure(r.read(tag))
        return ("X400Name", "<unsupported>")
    if tag == ctx(4, True):  # directoryName: [4] EXPLICIT Name
        dn = r.read(tag)
        name = read_name(dn)
        dn.done()
        return ("DirName", name)
    if tag == ctx(5, True):
        check_structure(r.read(tag))
        return ("EdiPartyName", "<unsupported>")
    if tag == ctx(6, False):
        return ("URI", _ia5(r, tag, "uniformResourceIdentifier"))
    if tag == ctx(7, False):
        return ("IP Address", _ip_text(r.read(tag).bytes()))
    if tag == ctx(8, False):
        return ("Registered ID", oid_name(oid_to_str(r.read(tag).bytes())))
    if tag is None:
        raise DERError("truncated: a GeneralName was expected")
    raise DERError(f"unknown GeneralName tag 0x{tag:02x}")


def read_general_names(r: Reader) -> List[Tuple[str, Any]]:
    """The content of a GeneralNames (SEQUENCE SIZE (1..MAX) OF GeneralName)."""
    if r.empty():
        raise DERError("empty GeneralNames")
    names = []
    while not r.empty():
        names.append(read_general_name(r))
    return names


# ---- extensions ----------------------------------------------------------------------

_EXT_SAN = "2.5.29.17"
_EXT_AIA = "1.3.6.1.5.5.7.1.1"
_EXT_CRLDP = "2.5.29.31"
_AD_OCSP = "1.3.6.1.5.5.7.48.1"
_AD_CA_ISSUERS = "1.3.6.1.5.5.7.48.2"


def _san(value: Reader) -> tuple:
    seq = value.read(SEQUENCE)
    value.done()
    return tuple(read_general_names(seq))


def _aia(value: Reader) -> Dict[str, List[str]]:
    """AuthorityInfoAccessSyntax ::= SEQUENCE SIZE (1..MAX) OF
    AccessDescription { accessMethod OID, accessLocation GeneralName }:
    the URIs by method (only URIs are shown, like the stdlib)."""
    seq = value.read(SEQUENCE)
    value.done()
    if seq.empty():
        raise DERError("empty authorityInfoAccess")
    out: Dict[str, List[str]] = {_AD_OCSP: [], _AD_CA_ISSUERS: []}
    while not seq.empty():
        ad = seq.read(SEQUENCE)
        method = read_oid(ad)
        kind, location = read_general_name(ad)
        ad.done()
        if kind == "URI" and method in out:
            out[method].append(location)
    return out


def _crldp(value: Reader) -> List[str]:
    """CRLDistributionPoints ::= SEQUENCE SIZE (1..MAX) OF DistributionPoint
    { distributionPoint [0] DistributionPointName OPTIONAL, reasons [1]
    ReasonFlags OPTIONAL, cRLIssuer [2] GeneralNames OPTIONAL }: the URIs of
    the fullName forms (like the stdlib)."""
    seq = value.read(SEQUENCE)
    value.done()
    if seq.empty():
        raise DERError("empty cRLDistributionPoints")
    uris: List[str] = []
    while not seq.empty():
        dp = seq.read(SEQUENCE)
        dpn = dp.read_optional(ctx(0, True))
        reasons = dp.read_optional(ctx(1, False))
        issuer = dp.read_optional(ctx(2, True))
        dp.done()
        if dpn is None and issuer is None:
            raise DERError("DistributionPoint with neither a name nor a cRLIssuer")
        if reasons is not None:
            bit_string_content(reasons.bytes())
        if issuer is not None:
            read_general_names(issuer)
        if dpn is not None:
            if dpn.peek() == ctx(0, True):  # fullName [0] GeneralNames
                for kind, v in read_general_names(dpn.read(ctx(0, True))):
                    if kind == "URI":
                        uris.append(v)
            else:  # nameRelativeToCRLIssuer [1] RelativeDistinguishedName
                rdn = dpn.read(ctx(1, True))
                if rdn.empty():
                    raise DERError("empty nameRelativeToCRLIssuer")
                while not rdn.empty():
                    atv = rdn.read(SEQUENCE)
                    read_oid(atv)
                    read_string(atv)
                    atv.done()
            dpn.done()
    return uris


# ---- the certificate -------------------------------------------------------------------


def _serial_text(c: bytes) -> str:
    """OpenSSL's i2a_ASN1_INTEGER: uppercase hex of the magnitude's
    octets, '-' for a negative number."""
    v = int.from_bytes(c, "big", signed=True)
    mag = abs(v)
    digits = mag.to_bytes(max(1, (mag.bit_length() + 7) // 8), "big").hex().upper()
    return ("-" if v < 0 else "") + digits


def decode_certificate(der: bytes) -> Dict[str, Any]:
    """The dict of :meth:`ssl.SSLSocket.getpeercert` for one DER
    certificate.  Raises :class:`DERError` if it is malformed."""
    if not isinstance(der, (bytes, bytearray, memoryview)):
        raise TypeError("decode_certificate takes the DER as bytes")
    der = bytes(der)
    top = Reader(der)
    cert = top.read(SEQUENCE)
    top.done()
    check_structure(Reader(der, cert.pos, cert.end, 1))
    tbs = cert.read(SEQUENCE)
    sig_alg = cert.tlv_bytes(SEQUENCE)
    read_bit_string(cert)
    cert.done()

    # TBSCertificate (RFC 5280 §4.1).
    version = 1
    v = tbs.read_optional(ctx(0, True))
    if v is not None:
        n = read_integer(v)
        v.done()
        if not 0 <= n <= 2:
            raise DERError(f"unknown certificate version number {n} (v{n + 1})")
        version = n + 1
    serial = read_integer_octets(tbs)
    if len(serial) > 21 or (len(serial) == 21 and serial[0] != 0):
        raise DERError("serialNumber longer than 20 octets")
    if tbs.tlv_bytes(SEQUENCE) != sig_alg:
        raise DERError("TBSCertificate signature differs from signatureAlgorithm")
    issuer = read_name(tbs)
    validity = tbs.read(SEQUENCE)
    not_before = read_time(validity)
    not_after = read_time(validity)
    validity.done()
    subject = read_name(tbs)
    spki = tbs.read(SEQUENCE)
    spki.read(SEQUENCE)
    read_bit_string(spki)
    spki.done()
    for i in (1, 2):  # issuerUniqueID, subjectUniqueID: v2 and v3
        uid = tbs.read_optional(ctx(i, False))
        if uid is not None and version < 2:
            raise DERError("unique identifier in a v1 certificate")
    found: Dict[str, Reader] = {}
    exts = tbs.read_optional(ctx(3, True))
    if exts is not None:
        if version != 3:
            raise DERError("extensions in a certificate older than v3")
        seq = exts.read(SEQUENCE)
        exts.done()
        if seq.empty():
            raise DERError("empty Extensions")
        seen = set()
        while not seq.empty():
            ext = seq.read(SEQUENCE)
            oid = read_oid(ext)
            if ext.peek() == BOOLEAN:
                read_boolean(ext)
            value = ext.read(OCTET_STRING)
            ext.done()
            if oid in seen:
                raise DERError(f"extension {oid} appears twice")
            seen.add(oid)
            found[oid] = value
    tbs.done()

    out: Dict[str, Any] = {
        "subject": subject,
        "issuer": issuer,
        "version": version,
        "serialNumber": _serial_text(serial),
        "notBefore": not_before,
        "notAfter": not_after,
    }
    if _EXT_SAN in found:
        out["subjectAltName"] = _san(found[_EXT_SAN])
    if _EXT_AIA in found:
        aia = _aia(found[_EXT_AIA])
        if aia[_AD_OCSP]:
            out["OCSP"] = tuple(aia[_AD_OCSP])
        if aia[_AD_CA_ISSUERS]:
            out["caIssuers"] = tuple(aia[_AD_CA_ISSUERS])
    if _EXT_CRLDP in found:
        uris = _crldp(found[_EXT_CRLDP])
        if uris:
            out["crlDistributionPoints"] = tuple(uris)
    return out
