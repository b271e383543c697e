#!/usr/bin/env python3
"""fuzz/seeds_parsers.py OUTDIR RAWSEEDS [PKIDIR [OCSPDIR]] - seeds of the
per-parser targets (called by fuzz/seeds.sh).

  RAWSEEDS  a directory with the engine seeds (fuzz_server/, fuzz_client/,
            fuzz_x509/: the output of `gen_seeds pairs` and seeds.sh, or
            fuzz/corpus itself): the first plaintext handshake message of
            each becomes a fuzz_client_hello / fuzz_server_hello seed, the
            certificates fuzz_der seeds;
  PKIDIR    a tools/gen-pki.sh output (certificates for fuzz_certificate,
            the CA key for the CRLs);
  OCSPDIR   a tools/gen-ocsp.sh output (fuzz_ocsp seeds).
Everything else is built here from fuzz/test_cert.h (the embedded PKI the
targets use) with the `cryptography` module: the CertificateVerify seeds
sign the content fuzz_cert_verify checks (th_before[i] = 0x11 + i), the
CRLs list the embedded leaf's serial.
"""
import datetime
import hashlib
import os
import re
import struct
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

out, raw = sys.argv[1], sys.argv[2]
pki = sys.argv[3] if len(sys.argv) > 3 else None
ocspdir = sys.argv[4] if len(sys.argv) > 4 else None
here = os.path.dirname(os.path.abspath(__file__))


def write(target, name, data):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def v8(b):
    return bytes([len(b)]) + b


def v16(b):
    return struct.pack(">H", len(b)) + b


def v24(b):
    return struct.pack(">I", len(b))[1:] + b


def ext(t, body):
    return struct.pack(">H", t) + v16(body)


src = open(os.path.join(here, "test_cert.h")).read()


def pem_of(name):
    body = re.search(name + r"\[\] =\n(.*?);\n", src, re.S).group(1)
    return ("\n".join(re.findall(r'"(.*?)\\n"', body)) + "\n").encode()


chain = x509.load_pem_x509_certificates(pem_of("FUZZ_LEAF_CHAIN_PEM"))
leaf, root = chain[0], chain[1]
leaf_der = leaf.public_bytes(serialization.Encoding.DER)
root_der = root.public_bytes(serialization.Encoding.DER)
leaf_key = serialization.load_pem_private_key(pem_of("FUZZ_LEAF_KEY_PEM"), None)


def first_message(path, rtype):
    data = open(path, "rb").read()[1:]  # the split byte
    if len(data) < 9 or data[0] != 0x16 or data[5] != rtype:
        return None
    n = int.from_bytes(data[6:9], "big")
    body = data[9:9 + n]
    return body if len(body) == n else None


# ---- ClientHello / ServerHello: first messages of the engine seeds ----------
for target, src_t, rtype in (("fuzz_client_hello", "fuzz_server", 1),
                             ("fuzz_server_hello", "fuzz_client", 2)):
    seen = set()
    d = os.path.join(raw, src_t)
    for name in sorted(os.listdir(d)) if os.path.isdir(d) else []:
        body = first_message(os.path.join(d, name), rtype)
        if body is None:
            continue
        h = hashlib.sha1(body).hexdigest()[:16]
        if h in seen:
            continue
        seen.add(h)
        write(target, "from-%s-%s" % (src_t, h), body)
        if len(seen) >= 24:
            break

# ---- fuzz_ext: slot byte + a plausible body per slot (see fuzz_ext.c) -------
sigs = v16(b"\x04\x03\x08\x04\x04\x01\x08\x07")
slots = [
    ("ch-server_name", v16(b"\x00" + v16(b"localhost"))),
    ("ch-status_request", b"\x01" + v16(b"") + v16(b"")),
    ("ch-supported_groups", v16(b"\x00\x1d\x00\x17\x00\x18")),
    ("ch-signature_algorithms", sigs),
    ("ch-alpn", v16(v8(b"h2") + v8(b"http/1.1"))),
    ("ch-record_size_limit", b"\x40\x01"),
    ("ch-pre_shared_key", v16(v16(b"ticket-identity") + b"\x00\x00\x00\x01") + v16(v8(bytes(32)))),
    ("ch-early_data", b""),
    ("ch-supported_versions", v8(b"\x03\x04\x03\x03")),
    ("ch-cookie", v16(b"cookie-bytes")),
    ("ch-psk_key_exchange_modes", v8(b"\x01\x00")),
    ("ch-certificate_authorities", v16(v16(root.subject.public_bytes()))),
    ("ch-post_handshake_auth", b""),
    ("ch-signature_algorithms_cert", sigs),
    ("ch-key_share", v16(b"\x00\x17" + v16(b"\x04" + bytes(64)))),
    ("ch-unknown", b"grease"),
    ("sh-pre_shared_key", b"\x00\x00"),
    ("sh-supported_versions", b"\x03\x04"),
    ("sh-key_share", b"\x00\x1d" + v16(bytes(32))),
    ("sh-record_size_limit", b"\x40\x00"),
    ("hrr-supported_versions", b"\x03\x04"),
    ("hrr-cookie", v16(b"cookie")),
    ("hrr-key_share", b"\x00\x18"),
    ("ee-server_name", b""),
    ("ee-supported_groups", v16(b"\x00\x17")),
    ("ee-alpn", v16(v8(b"h2"))),
    ("ee-record_size_limit", b"\x40\x01"),
    ("ee-early_data", b""),
    ("cr-signature_algorithms", sigs),
    ("cr-certificate_authorities", v16(v16(root.subject.public_bytes()))),
    ("cr-signature_algorithms_cert", sigs),
    ("cr-status_request", b""),
    ("cert-status_request", b"\x01" + v24(b"\x30\x03\x0a\x01\x00")),
    ("nst-early_data", b"\x00\x00\x40\x00"),
]
for i, (name, body) in enumerate(slots):
    write("fuzz_ext", "%02d-%s" % (i, name), bytes([i]) + body)

# ---- Certificate: the embedded chain, with and without a staple ------------
entries = v24(leaf_der) + v16(b"") + v24(root_der) + v16(b"")
write("fuzz_certificate", "chain", b"\x00" + v8(b"") + v24(entries))
write("fuzz_certificate", "leaf-only", b"\x00" + v8(b"") + v24(v24(leaf_der) + v16(b"")))
staple = v24(leaf_der) + v16(ext(5, b"\x01" + v24(b"\x30\x03\x0a\x01\x00"))) + v24(root_der) + v16(b"")
write("fuzz_certificate", "chain-staple", b"\x01" + v8(b"") + v24(staple))
if pki:
    for f in ("rsa.chain.pem", "ed25519.chain.pem", "ecdsa-p384.chain.pem"):
        p = os.path.join(pki, f)
        if os.path.exists(p):
            certs = x509.load_pem_x509_certificates(open(p, "rb").read())
            e = b"".join(v24(c.public_bytes(serialization.Encoding.DER)) + v16(b"") for c in certs)
            write("fuzz_certificate", f.replace(".pem", ""), b"\x00" + v8(b"") + v24(e))

# ---- CertificateVerify: real signatures over the harness's content ---------
content = b" " * 64 + b"TLS 1.3, server CertificateVerify\x00" + bytes((0x11 + i) & 0xff for i in range(32))
sig = leaf_key.sign(content, ec.ECDSA(hashes.SHA256()))
write("fuzz_cert_verify", "ecdsa-p256-good", b"\x04\x03" + v16(sig))
write("fuzz_cert_verify", "ecdsa-p256-bad", b"\x04\x03" + v16(sig[:-1] + bytes([sig[-1] ^ 1])))
write("fuzz_cert_verify", "wrong-scheme", b"\x08\x04" + v16(sig))

# ---- NewSessionTicket --------------------------------------------------------
def nst(lifetime, nonce, ticket, exts):
    return struct.pack(">II", lifetime, 0x01020304) + v8(nonce) + v16(ticket) + v16(exts)


write("fuzz_nst", "plain", nst(7200, b"\x00", b"T" * 64, b""))
write("fuzz_nst", "early", nst(86400, b"\x00\x01", b"T" * 200, ext(42, b"\x00\x00\x40\x00")))
write("fuzz_nst", "zero-lifetime", nst(0, b"", b"T", b""))
write("fuzz_nst", "unknown-ext", nst(60, b"n", b"T" * 16, ext(0x1234, b"x") + ext(42, b"\x00\x00\x00\x10")))

# ---- fuzz_ticket: mode byte + ticket / state --------------------------------
name = b"fuzz-ticket-key\x00"


def state(v, ident):
    s = bytes([v]) + b"\x13\x01" + v8(bytes(range(32))) + struct.pack(">QII", 1795392000, 604800, 77)
    s += v8(b"h2") + v8(b"localhost")
    if v >= 2:
        s += struct.pack(">I", 16384) + b"F" * 16
    if v >= 3:
        s += b"\x00" if not ident else b"\x01" + struct.pack(">Q", 1795392000) + b"\x01" + v24(leaf_der)
    return s


for v in (1, 2, 3):
    write("fuzz_ticket", "seal-v%d" % v, b"\x01" + state(v, False))
    write("fuzz_ticket", "parse-v%d" % v, b"\x02" + state(v, False))
write("fuzz_ticket", "seal-v3-identity", b"\x01" + state(3, True))
write("fuzz_ticket", "open-ours-garbage", b"\x00" + name + bytes(12) + b"state" + bytes(16))
write("fuzz_ticket", "open-not-ours", b"\x00" + b"N" * 16 + bytes(40))

# ---- fuzz_der: certificates and names, with a split byte ------------------
write("fuzz_der", "leaf", bytes([len(leaf_der) // 2 % 256]) + leaf_der)
write("fuzz_der", "root", b"\x00" + root_der)
write("fuzz_der", "names", bytes([len(leaf.subject.public_bytes())]) +
      leaf.subject.public_bytes() + root.subject.public_bytes())
write("fuzz_der", "typed", b"\x00" + b"\x30\x13\x01\x01\xff\x02\x02\x01\x00\x06\x03\x2a\x03\x04\x03\x02\x07\x80\x05\x00\x04\x00")

# ---- fuzz_crl ----------------------------------------------------------------
def crl(serials, next_update=True, crl_number=True, reason=False, signer=leaf_key, issuer=root.subject):
    now = datetime.datetime(2026, 11, 22, tzinfo=datetime.timezone.utc)
    b = x509.CertificateRevocationListBuilder().issuer_name(issuer).last_update(now)
    if next_update:
        b = b.next_update(now + datetime.timedelta(days=30))
    for s in serials:
        r = x509.RevokedCertificateBuilder().serial_number(s).revocation_date(now)
        if reason:
            r = r.add_extension(x509.CRLReason(x509.ReasonFlags.key_compromise), critical=False)
        b = b.add_revoked_certificate(r.build())
    if crl_number:
        b = b.add_extension(x509.CRLNumber(7), critical=False)
    b = b.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root.public_key()), critical=False)
    return b.sign(signer, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


write("fuzz_crl", "empty", crl([]))
write("fuzz_crl", "lists-leaf", crl([leaf.serial_number, 5]))
write("fuzz_crl", "others-reason", crl([1, 2, 3], reason=True))
write("fuzz_crl", "no-number", crl([9], crl_number=False))

# ---- fuzz_ocsp ----------------------------------------------------------------
if ocspdir and os.path.isdir(ocspdir):
    for f in sorted(os.listdir(ocspdir)):
        if f.endswith(".der"):
            write("fuzz_ocsp", f[:-4], open(os.path.join(ocspdir, f), "rb").read())

# ---- fuzz_names -------------------------------------------------------------
names = [
    (0, b"localhost", b"localhost"), (0, b"*.example.com", b"a.example.com"),
    (0, b"*.example.com", b"example.com"), (0, b"*.com", b"a.com"), (0, b"*.co.uk", b"a.co.uk"),
    (0, b"Example.COM", b"example.com."), (0, b"f*.example.com", b"foo.example.com"),
    (0, b"xn--bcher-kva.example", b"XN--BCHER-KVA.example"), (0, b"a..b", b"a..b"),
    (1, b"\x7f\x00\x00\x01", b"127.0.0.1"), (1, bytes(15) + b"\x01", b"::1"),
    (1, b"\x0a\x00\x00\x01", b"10.0.0.01"), (1, b"\x7f\x00\x00\x01", b"127.1"),
]
for i, (mode, pat, ref) in enumerate(names):
    write("fuzz_names", "%02d-%s" % (i, "dns" if mode == 0 else "ip"), bytes([mode]) + pat + b"\x00" + ref)


def subtrees(*gns):
    return b"".join(b"\x30" + bytes([len(g)]) + g for g in gns)


def gn(tag, v):
    return bytes([tag, len(v)]) + v


nc = [
    (2, subtrees(gn(0x82, b"example.com")), None, b"www.example.com"),
    (2, subtrees(gn(0x82, b"example.com")), subtrees(gn(0x82, b"bad.example.com")), b"*.example.com"),
    (2, None, subtrees(gn(0x82, b"x.example.com")), b"*.example.com"),
    (7, subtrees(gn(0x87, b"\x0a\x00\x00\x00\xff\x00\x00\x00")), None, b"\x0a\x01\x02\x03"),
    (1, subtrees(gn(0x81, b".example.com")), None, b"user@mail.example.com"),
    (1, subtrees(gn(0x81, b"user@example.com")), None, b"user@EXAMPLE.com"),
    (4, subtrees(bytes([0xa4, len(root.subject.public_bytes())]) + root.subject.public_bytes()), None,
     root.subject.public_bytes()),
    (6, subtrees(gn(0x86, b"example.com")), None, b"https://example.com/"),
]
for i, (form, perm, excl, nm) in enumerate(nc):
    def lv(b):
        return b"\xff\xff" if b is None else struct.pack(">H", len(b)) + b
    write("fuzz_names", "nc-%02d" % i, b"\x02" + bytes([form]) + lv(perm) + lv(excl) + nm)
print("parser seeds in", out)
