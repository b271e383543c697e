#!/usr/bin/env python3
"""bogo_profile.py - which BoringSSL runner (BoGo) tests apply to ferrule.

usage:
  tools/bogo_profile.py classify NAME...
  tools/bogo_profile.py build --tests RESULTS.json|NAMES.txt [--out PROFILE.json]
  tools/bogo_profile.py config --profile PROFILE.json [--strict] [--out CONFIG.json]
  tools/bogo_profile.py check --profile PROFILE.json
  tools/bogo_profile.py rules-md
  tools/bogo_profile.py doc --profile PROFILE.json [--write docs/bogo-profile.md]

Every test name of the runner at the pinned BoringSSL commit is put in one
of three classes by the ordered RULES below (first match wins; a rule
matches the whole name, as a regular expression or a glob):

  in_scope_required   a TLS 1.3-over-TCP test of a feature ferrule has
  in_scope_optional   TLS 1.3 over TCP, but it checks a BoringSSL API
                      detail or policy where another RFC-compliant
                      behaviour is equally valid
  out_of_scope        DTLS, QUIC, TLS 1.2 and older, or a feature ferrule
                      does not offer by design (each rule says why)

The rules look at NAMES ONLY: nothing here reads the runner's source or
its test list beyond the names given to `build`.  `build` writes the
profile (interop/bogo/profile.json), `config` the runner's -shim-config
file (interop/bogo/config.json): every out_of_scope test (with --strict
also every in_scope_optional one) is in DisabledTests under its exact
name, the reason being "[rule id] reason".  Exact names rather than the
rules' globs: the runner matches DisabledTests patterns in no order, so a
broad pattern would also disable names an earlier, narrower rule keeps in
scope.  ErrorMap comes from ERROR_MAP below.  docs/bogo-profile.md
describes the rules, the classes and the areas; `doc` writes its
generated part (rule table, counts, the optional tests), `rules-md` the
rule table alone.

Output is deterministic: JSON with sorted keys, names sorted.
"""

import argparse
import collections
import fnmatch
import json
import os
import re
import sys

SCHEMA = "ferrule-bogo-profile/1"
BORINGSSL_COMMIT = "a0689af29e8e460f1e5380e0fb74cef1b342e810"
BORINGSSL_DATE = "2026-08-21"

REQ = "in_scope_required"
OPT = "in_scope_optional"
OUT = "out_of_scope"
CLASSES = (REQ, OPT, OUT)

# The fixed list of areas (docs/bogo-profile.md repeats it).
AREAS = {
    "transport": "DTLS and QUIC (ferrule is TLS over a byte stream only)",
    "legacy-version": "TLS 1.2 and older: their handshakes, suites, key exchanges and extensions",
    "not-offered": "a feature ferrule does not offer by design",
    "boringssl-api": "a BoringSSL API, callback or policy with no ferrule counterpart",
    "basic": "plain handshakes and the runner's state-machine coverage (sync/async, split/packed records)",
    "version-negotiation": "supported_versions, refusing older peers, version tolerance",
    "downgrade": "the RFC 8446 section 4.1.3 downgrade sentinels",
    "record-layer": "record framing, padding, sizes, empty records, bad records",
    "handshake-framing": "handshake message framing, trailing data, messages split across key changes",
    "cipher-suites": "the three TLS 1.3 AEAD suites and their negotiation",
    "key-exchange": "groups (x25519, P-256, P-384), key shares",
    "hrr": "HelloRetryRequest and cookies",
    "signature-algorithms": "signature schemes in CertificateVerify and their negotiation",
    "certificate-verification": "peer chain verification, its callbacks, key usage",
    "certificate-selection": "choosing the certificate to send (signature algorithms, issuers)",
    "client-auth": "CertificateRequest, client certificates (required or optional), certificate_authorities",
    "resumption": "tickets, PSK binders, psk_ke/psk_dhe_ke, session IDs in TLS 1.3",
    "early-data": "0-RTT, its acceptance, rejection and anti-replay",
    "key-update": "KeyUpdate",
    "alpn": "ALPN",
    "sni": "server_name",
    "ocsp": "status_request and OCSP stapling",
    "exporters": "RFC 8446 section 7.5 exporters and traffic secrets",
    "alerts-close": "alerts, close_notify, shutdown",
    "extensions": "extension parsing and placement rules in general",
    "ccs": "middlebox compatibility mode ChangeCipherSpec",
    "state-machine": "unexpected or missing messages",
    "limits": "message and record size limits",
}

# Shared fragments (Python regular expressions, matched against the whole
# name with re.fullmatch).
OLDV = r"(?:SSL3|TLS1|TLS11|TLS12)"          # version tokens below TLS 1.3
_T = r"(?:^|.*-)"                             # start of a '-' separated token
_E = r"(?:-.*|$)"                             # end of a token
SM = r"(?:-TLS)?-(?:Sync|Async)(?:-ImplicitHandshake|-SplitHandshakeRecords|-PackHandshake)?"


def R(rid, pattern, cls, area, reason, kind="regex"):
    return {"id": rid, "kind": kind, "pattern": pattern, "class": cls,
            "area": area, "reason": reason}


RULES = [
    # ---- transport: DTLS and QUIC ---------------------------------------
    R("quic-transport-params", r"QUICTransportParams-.*", OUT, "transport",
      "QUIC transport parameters (also their absence over TCP): a QUIC-only extension; ferrule offers no QUIC API to configure it."),
    R("dtls", _T + r"DTLS\w*" + _E, OUT, "transport",
      "DTLS (a name token DTLS, DTLS1, DTLS12, DTLS13 or starting with DTLS): ferrule implements TLS over a reliable byte stream only."),
    R("quic", _T + r"QUIC\w*" + _E, OUT, "transport",
      "QUIC (a name token starting with QUIC): ferrule has no QUIC integration (no QUIC secrets or transport parameters API)."),
    R("dtls-untagged", r"SendSplitAlert-(?:Sync|Async)|StrayChangeCipherSpec", OUT, "transport",
      "DTLS-only runner tests whose names carry no DTLS token (the runner builds them with protocol dtls)."),
    R("srtp", r"SRTP-.*", OUT, "transport",
      "use_srtp (RFC 5764) is a DTLS-SRTP extension; ferrule does not offer it."),

    # ---- BoringSSL-only APIs and policies --------------------------------
    R("compliance-policy", r"Compliance-.*", OUT, "boringssl-api",
      "BoringSSL compliance policies (fips-202205, wpa-202304, cnsa*): a BoringSSL-only configuration API."),
    R("handshake-hints", r".*HintMismatch.*|.*Handshaker.*", OUT, "boringssl-api",
      "Split handshakes / handshake hints / handshaker: BoringSSL-only architecture (the shim answers No to -is-handshaker-supported)."),
    R("jdk11-reject", r"Client-RejectJDK11DowngradeRandom", OUT, "downgrade",
      "The runner's TLS 1.2 server would send JDK 11's broken downgrade random, but it refuses ferrule's TLS 1.3-only ClientHello (no older version offered) before any ServerHello; ferrule's refusal of TLS 1.2 ServerHellos is tested directly (test_neg_server_hello:sh_tls12_without_sentinel)."),
    R("jdk11-workaround", r".*JDK11.*", OUT, "boringssl-api",
      "BoringSSL's JDK 11 workaround (-jdk11-workaround): a BoringSSL-only interoperability hack ferrule does not have."),
    R("ddos-callback", r".*DDoS.*", OUT, "boringssl-api",
      "BoringSSL's DDoS (select-certificate) callback API specifics."),
    R("early-callback", r".*EarlyCallback.*", OUT, "boringssl-api",
      "BoringSSL's early (select_certificate) callback: a BoringSSL API; ferrule's ClientHello decisions are a different API."),
    R("equal-preference-groups", r"CurveTest-Server-EqualPreference-TLS13", OUT, "boringssl-api",
      "BoringSSL's equal-preference group sets (-curves-flags), exercised with X25519MLKEM768 and MLKEM1024."),
    R("server-groups-hint", r"KeyShareWithServerHint-.*", OUT, "boringssl-api",
      "BoringSSL's server-supported-groups hint (SSL_set1_server_supported_groups_hint) steering the client's key shares, exercised with ML-KEM groups."),
    R("peek", r"Peek-.*", OUT, "boringssl-api",
      "SSL_peek specifics: ferrule has no peek operation (the application owns the receive buffer)."),

    # ---- features ferrule does not offer by design -----------------------
    R("ech", _T + r"ECH" + _E + r"|TLS-ECH-.*", OUT, "not-offered",
      "Encrypted ClientHello: ferrule does not offer ECH."),
    R("alps", _T + r"ALPS" + _E + r"|.*ApplicationSettings.*|ExtraClientEncryptedExtension-(?:New|Old)-TLS-TLS13", OUT, "not-offered",
      "ALPS (application settings): ferrule does not offer it (ExtraClientEncryptedExtension-* configures the shim for ALPS)."),
    R("channel-id", r".*ChannelID.*", OUT, "not-offered",
      "Channel ID: a BoringSSL/Chrome extension ferrule does not offer."),
    R("delegated-credentials", r".*DelegatedCredential.*", OUT, "not-offered",
      "Delegated credentials (RFC 9345): ferrule does not offer them."),
    R("raw-public-keys", r"(?:Client|Server)CertificateType-.*|.*RawPublicKey.*|.*RPK.*", OUT, "not-offered",
      "Raw public keys / certificate_type extensions (RFC 7250): ferrule uses X.509 certificates only."),
    R("pake", r".*PAKE.*", OUT, "not-offered",
      "PAKEs (SPAKE2+): ferrule does not offer password-authenticated key exchange."),
    R("external-psk", r"PSK-.*|(?:Explicit)?EmptyPSKHint.*|EmptyECDHEPSKHint|ClientAuth-(?:ECDHE_)?PSK",
      OUT, "not-offered",
      "External / imported PSKs (and TLS 1.2 PSK suites): ferrule does resumption PSKs only."),
    R("cert-compression", r".*CertCompression.*|.*CertificateCompression.*", OUT, "not-offered",
      "Certificate compression (RFC 8879): ferrule does not offer it."),
    R("sct", r".*SignedCertificateTimestamp.*|.*SCT(?:List|On|-).*|.*-SCT|IgnoreExtensionsOnIntermediates-TLS13", OUT, "not-offered",
      "Signed certificate timestamps (RFC 6962 extension): ferrule does not offer them (IgnoreExtensionsOnIntermediates-TLS13 expects the leaf's SCT list)."),
    R("trust-anchor-ids", r".*TrustAnchor.*", OUT, "not-offered",
      "Trust anchor IDs (draft): ferrule does not offer them."),
    R("server-padding", r"ServerPadding.*", OUT, "not-offered",
      "Server-side padding extension (draft): ferrule does not offer it."),
    R("grease-send", r"GREASE-(?:Client|Server)-TLS13", OUT, "not-offered",
      "Sending GREASE (-enable-grease): ferrule does not send GREASE values (it tolerates them from a peer; those tests stay in scope)."),
    R("extension-permutation", r".*Permute.*", OUT, "not-offered",
      "ClientHello extension permutation: ferrule sends extensions in a fixed order."),
    R("pq-groups", r".*MLKEM.*|.*PostQuantum.*|.*MultiplePQGroups.*", OUT, "not-offered",
      "ML-KEM groups (X25519MLKEM768, MLKEM1024): Debian's libcrypto 3.0 does not offer them; issue 15 adds them."),
    R("pq-key-shares", r"CustomKeyShares-(?:Multiple|MultipleNonContiguous|NotMostPreferred-HRR|PeerSelectedLaterKeyShare|All)-TLS13",
      OUT, "not-offered",
      "Custom key shares that include X25519MLKEM768 / MLKEM1024 (groups 4588, 514) and P-521: groups ferrule's libcrypto 3.0 build lacks; issue 15 adds them."),
    R("p521-group", r"CurveTest-.*P-521.*", OUT, "not-offered",
      "P-521 key exchange: Debian's libcrypto 3.0 build as ferrule uses it does not offer it; issue 15 adds it."),
    R("sig-p521-success", r"(?:Client|Server)-(?:Sign|SignDefault|Sign-Negotiate|Verify)-ECDSA_P521_SHA512-TLS13",
      OUT, "not-offered",
      "ecdsa_secp521r1_sha512 expected to succeed: ferrule never signs or accepts it in TLS 1.3 CertificateVerify (the tests where it must be refused stay in scope)."),
    R("sig-mldsa-success", r"(?:Client|Server)-(?:Sign|SignDefault|Sign-Negotiate|Verify)-ML-DSA-(?:44|65|87)-TLS13",
      OUT, "not-offered",
      "ML-DSA signatures expected to succeed: not offered by Debian's libcrypto 3.0 nor by ferrule (the tests where they must be refused stay in scope)."),
    R("sig-pkcs1-legacy-success",
      r"Client-Sign-RSA_PKCS1_SHA256_LEGACY-TLS13|Client-Sign-Negotiate-RSA_PKCS1_SHA256_LEGACY-TLS13|Server-Verify-RSA_PKCS1_SHA256_LEGACY-TLS13",
      OUT, "not-offered",
      "rsa_pkcs1_sha256_legacy (BoringSSL's 0x0420 codepoint for TLS 1.3 client certificates) expected to succeed: ferrule never signs or accepts RSA-PKCS1 in TLS 1.3 CertificateVerify."),

    # ---- decided from the strict runs (docs/bogo-results.md), test by test ---
    # Unreachable with a TLS 1.3-only client: the runner's server stops below
    # TLS 1.3 and refuses ferrule's ClientHello (no TLS 1.2 version or suite
    # in it) before it sends the ServerHello the test is about.
    R("unreachable-tls12-server",
      r"Downgrade-" + OLDV + r"-Client-TLS|NoSSL3-Client-Unsolicited|EchoTLS13CompatibilitySessionID"
      r"|EarlyDataVersionDowngrade-Client-TLS13(?:-WarningAlert)?"
      r"|Resume-Client-Mismatch-TLS13-" + OLDV + r"-TLS",
      OUT, "downgrade",
      "The runner's TLS 1.2-or-older server refuses ferrule's TLS 1.3-only ClientHello (it offers no older version or suite) before sending the ServerHello whose refusal the test checks; ferrule's refusal of such a ServerHello and its downgrade-sentinel check are tested directly (test_neg_server_hello:sh_tls12_without_sentinel, sh_downgrade_sentinel)."),
    R("tls12-only-extensions", r"EMS-Forbidden-TLS13|RenegotiationInfo-Forbidden-TLS13", OUT, "legacy-version",
      "The runner's server sends extended_master_secret / renegotiation_info in TLS 1.3 only to a client that offered them; ferrule never offers these TLS 1.2 extensions."),
    R("npn-tls13", r"NPN-(?:Declined|Forbidden)-TLS13", OUT, "legacy-version",
      "NPN is a TLS 1.2 extension ferrule does not offer (the shim flags -advertise-npn / -select-next-proto)."),
    R("fallback-scsv-client", r"SendFallbackSCSV", OUT, "legacy-version",
      "TLS_FALLBACK_SCSV is sent by a client retrying with a lower version (RFC 7507); a TLS 1.3-only client never falls back."),
    R("sig-unoffered-invalid",
      r"(?:Client|Server)-InvalidSignature-(?:ECDSA_P521_SHA512|ML-DSA-(?:44|65|87)|RSA_PKCS1_SHA256_LEGACY)-TLS13",
      OUT, "not-offered",
      "A bad signature under ecdsa_secp521r1_sha512, ML-DSA or rsa_pkcs1_sha256_legacy: the scheme must be negotiated first, and ferrule offers none of them in TLS 1.3."),
    R("boringssl-ticket-format", r"Resume-Server-Decline(?:BadCipher|CrossVersion)-TLS13", OUT, "boringssl-api",
      "The runner decrypts and rewrites the shim's ticket assuming BoringSSL's ticket format and key layout."),
    R("certificate-type-selection", r"CertificateSelection-Server-CertificateType-.*", OUT, "not-offered",
      "Certificate selection by certificate type (RFC 7250 server_certificate_type): ferrule uses X.509 only."),
    R("max-send-fragment", r"MaxSendFragment-TLS13(?:-TooLarge)?", OUT, "boringssl-api",
      "SSL_set_max_send_fragment, a local cap on the records sent: ferrule fragments to the peer's record_size_limit (RFC 8449) only."),
    R("sct-on-certificates",
      r"SendDuplicateExtensionsOnCerts-TLS13|SendNoClientCertificateExtensions-TLS13|SendNoExtensionsOnIntermediate-TLS13|UnsolicitedCertificateExtensions-TLS-TLS13",
      OUT, "not-offered",
      "These configure the shim to send signed certificate timestamps in its certificate entries (-signed-cert-timestamps); ferrule does not offer SCTs."),
    R("alpn-accept-unoffered", r"ALPNClient-AllowUnknown-TLS-TLS13", OUT, "boringssl-api",
      "A client accepting a protocol it did not offer (-allow-unknown-alpn-protos) violates RFC 7301 section 3.2; ferrule refuses it by design."),
    # RFC-compliant alternatives to BoringSSL's choice.
    R("client-empty-certificate",
      r"Client-(?:Sign|SignDefault)-(?:ECDSA_SHA1|RSA_PKCS1_SHA1|RSA_PKCS1_SHA256|RSA_PKCS1_SHA256_LEGACY|RSA_PKCS1_SHA384|RSA_PKCS1_SHA512)-TLS13"
      r"|Client-TLS13-NoSign-RSA_PKCS1_MD5_SHA1|NoCommonAlgorithms-TLS13"
      r"|CertificateSelection-Client-SignatureAlgorithm(?:ECDSACurve)?-MatchNone-TLS-TLS13",
      OPT, "client-auth",
      "A client whose certificate cannot sign any scheme the server accepts: RFC 8446 section 4.4.2.3 says it MUST send an empty Certificate, which ferrule does (the server then decides); BoringSSL aborts with handshake_failure."),
    R("alert-choice",
      r"CertificateVerificationFail-(?:Client|Server)-TLS13-(?:CustomCallback-)?TLS-Sync(?:-ImplicitHandshake|-PackHandshake|-SplitHandshakeRecords)?"
      r"|GarbageCertificate-(?:Client|Server)-TLS13|DuplicateExtension(?:Client|Server)-TLS-TLS13"
      r"|EncryptedExtensionsWithKeyShare-TLS13|PointFormat-EncryptedExtensions-TLS13"
      r"|MissingSignatureAlgorithmsInCertificateRequest-TLS13|HelloRetryRequestVersionMismatch-TLS13"
      r"|TLS13-(?:HRR-)?InvalidCompressionMethod|UnencryptedEncryptedExtensions|SendWarningAlerts-TLS13"
      r"|RequestContextInHandshake-TLS13|Resume-Server-BinderWrongLength(?:-SecondBinder)?"
      r"|Resume-Server-OmitAllPSKsOnSecondClientHello|SkipEarlyData-SecondClientHelloEarlyData-TLS13"
      r"|TrailingMessageData-TLS13-(?:Client|Server)Finished-TLS|ServerAuth-NoFallback-TLS13"
      r"|RejectPSSKeyType-(?:Client|Server)-TLS13|Garbage|V2ClientHello-(?:EmptyRecordPrefix|WarningAlertPrefix)",
      OPT, "alerts-close",
      "ferrule sends the alert RFC 8446 names for the fault, or where the RFC names none one it allows, and BoringSSL another (each case in docs/bogo-results.md: e.g. bad_certificate for an application's refusal, illegal_parameter for a duplicate extension, decode_error for a Finished or binder of a length its syntax forbids, missing_extension without signature_algorithms)."),
    R("record-version-ignored", r"CheckRecordVersion-TLS13", OPT, "record-layer",
      "RFC 8446 section 5.1: legacy_record_version MUST be ignored for all purposes; ferrule ignores it, BoringSSL refuses a record whose version is not 0x0303."),
    R("server-choice", r"SendHelloRetryRequest-2-TLS13|TLS13-CipherPreference-Server-ChaCha20-AES"
      r"|Resume-Server-(?:CipherNotPreferred|UnofferedCipher)-TLS13|EmptySessionID-TLS13|PackedEncryptedHandshake-TLS13",
      OPT, "basic",
      "A server choice the RFC leaves open, made differently: accepting a supported key share the client sent rather than asking for its preferred group, its own suite preference, resuming under another suite of the same hash (section 4.2.11), the compatibility change_cipher_spec only to a client in compatibility mode (Appendix D.4), one record per handshake message (section 5.1)."),
    R("early-alpn-policy",
      r"EarlyData-ALPN(?:Mismatch|Omitted1|Omitted2)-Server-TLS13|EarlyData-ALPNPreferenceChanged-TLS13"
      r"|EarlyData-WriteAfter(?:ServerHello|EncryptedExtensions)",
      OPT, "early-data",
      "0-RTT policy the RFC leaves open: ferrule's server does not resume a ticket under another ALPN (BoringSSL resumes and only refuses the early data); ferrule's client offers 0-RTT only when the application writes early data, and takes it only until the ServerHello."),
    R("issuer-credential-api",
      r"CertificateSelection-Client-CheckIssuer(?:Fallback)?-Match(?:First|Second|None|Default)-TLS-TLS13"
      r"|CertificateSelection-(?:Client|Server)-SignatureAlgorithmKeyPrefs-Match(?:First|Second|None|Default)-TLS-TLS13",
      OPT, "certificate-selection",
      "BoringSSL's per-credential settings (-must-match-issuer, -signing-prefs per credential): a ferrule client prefers a chain issued under an authority the server named and otherwise falls back to any suitable chain (certificate_authorities is a hint, RFC 8446 section 4.2.4), and signs every chain from one scheme list."),
    R("ca-list-api",
      r"TLS13-(?:Client|Server)-CertReq-CA-List|TLS13-Empty-Client-CA-List"
      r"|ExtensionTrailingData-CertificateAuthorities-Server-TLS-TLS13|RejectEmptyCertificateAuthorities-Server-TLS-TLS13",
      OPT, "client-auth",
      "BoringSSL's CA-list API (a CertificateRequest list apart from the trust store, and the client's view of the server's list); ferrule's server names its trust anchors and does not read a ClientHello's certificate_authorities (RFC 8446 section 4.2.4 makes using it a MAY), so it never parses that extension."),
    R("sni-no-ack", r"ServerNameExtensionServer-NoACK-TLS-TLS13", OPT, "sni",
      "BoringSSL's option to use the client's server_name without acknowledging it; ferrule's server always acknowledges a name it used (RFC 6066 section 3)."),
    R("key-update-single-answer", r"KeyUpdate-Requested(?:-UnfinishedWrite)?", OPT, "key-update",
      "ferrule answers update_requested at the end of each pass over the input that read one (one answer per pass, before its next application data as RFC 8446 section 4.6.3 requires); the runner's KeyUpdates arrive over several passes and it expects exactly one answer in all (docs/key-update.md)."),
    R("ticket-age-boundary", r"TLS13-TicketAgeSkew-(?:Forward|Backward)-(?:60-Accept|61-Reject)", OPT, "early-data",
      "The accept/refuse boundary between 60 and 61 s of ticket-age skew is finer than ferrule's one-second clock (the time callback counts seconds), so these two flip with when a second begins; the wider skews stay required."),
    R("ocsp-always-requested", r"SendUnsolicitedOCSPOnCertificate-TLS13", OPT, "ocsp",
      "ferrule's client always sends status_request, so a staple is never unsolicited; BoringSSL asks only when configured to."),

    # ---- TLS 1.2 peers that a TLS 1.3-only endpoint must refuse ----------
    R("downgrade-server", r"Downgrade-" + OLDV + r"-Server-TLS", OUT, "legacy-version",
      "Checks that a server which negotiates TLS 1.2 or older writes the sentinel; a TLS 1.3-only server never negotiates them."),
    R("minversion-refuse",
      r"MinimumVersion-(?:Client|Server)2?-(?:TLS11-TLS1|TLS12-(?:TLS1|TLS11)|TLS13-(?:TLS1|TLS11|TLS12))-TLS",
      REQ, "version-negotiation",
      "The peer's highest version is below the shim's minimum: the handshake must be refused with protocol_version."),
    R("minversion-tls13", r"MinimumVersion-(?:Client|Server)2?-" + r"(?:TLS1|TLS11|TLS12|TLS13)" + r"-TLS13-TLS",
      REQ, "version-negotiation",
      "Minimum-version configuration with a TLS 1.3 peer: TLS 1.3 must be negotiated."),
    R("versionneg-tls13", r"VersionNegotiation-(?:Client|Server)2?-TLS13-TLS13-TLS", REQ, "version-negotiation",
      "Both sides at TLS 1.3."),
    R("nossl3", r"NoSSL3-(?:Client|Client-Unsolicited|Server)", REQ, "version-negotiation",
      "An SSL 3.0-only peer must be refused."),
    R("fallback-scsv", r"FallbackSCSV", OPT, "version-negotiation",
      "A TLS 1.1 client sends TLS_FALLBACK_SCSV; BoringSSL answers inappropriate_fallback (RFC 7507). A TLS 1.3-only server that refuses with protocol_version is equally compliant: RFC 8446 does not require RFC 7507."),

    R("opt-tls13-api-reports",
      r"(?:No)?ExtendedMasterSecret-TLS13-(?:Client|Server)|AlwaysReportRenegotiationInfo-TLS13|EarlyData-Client-VersionAPI-TLS13",
      OPT, "boringssl-api",
      "BoringSSL's getters report extended_master_secret and secure renegotiation as in effect for every TLS 1.3 connection (-expect-extended-master-secret, -expect-secure-renegotiation); ferrule has no such queries. The wire behaviour (EMS and renegotiation_info ignored in TLS 1.3) is covered by EMS-Forbidden-TLS13 and RenegotiationInfo-Forbidden-TLS13."),
    R("tls13-refuses-legacy",
      r"(?:NPN-Forbidden|NPN-Declined|RenegotiationInfo-Forbidden|Renegotiate-Client|StrayHelloRequest)-TLS13",
      REQ, "state-machine",
      "TLS 1.3 must refuse or ignore the TLS 1.2 mechanisms these name (NPN, renegotiation_info, HelloRequest)."),

    # ---- TLS 1.2 and older ------------------------------------------------
    R("legacy-negotiated-version",
      r"ClientHelloVersionTooHigh|ConflictingVersionNegotiation(?:-2)?|MinorVersionTolerance|MajorVersionTolerance",
      OUT, "legacy-version",
      "ClientHello.version handling without (or against) supported_versions: the expected result is a TLS 1.2 or 1.1 connection."),
    R("legacy-version-token", _T + OLDV + _E, OUT, "legacy-version",
      "Named for SSL 3.0 / TLS 1.0 / 1.1 / 1.2 and expects that version to work (or fails for a reason specific to it): ferrule is TLS 1.3 only."),
    R("legacy-version-suffix", r".*GotEncipherment(?:TLS1|TLS11|TLS12)|.*MaxTLS12|.*NegotiateTLS12|.*InTLS12-.*|(?:Resume)?TLS12(?:No)?SessionID-TLS13|TLS12(?:Client|Server)ShouldNot.*|ClientShouldNotAllowInTLS12-.*",
      OUT, "legacy-version",
      "The version is glued to another word in the name (...TLS12): a TLS 1.2 connection expected to work."),
    R("legacy-npn", r"NPN-.*|.*-NPN(?:-.*)?", OUT, "legacy-version",
      "NPN: a TLS 1.2-era extension ferrule does not implement."),
    R("legacy-false-start", r"(?:No)?FalseStart.*|.*-FalseStart", OUT, "legacy-version",
      "False Start: TLS 1.2 only."),
    R("legacy-renegotiation",
      r"Renegotiat.*|.*-Renegotiate|.*Renego.*|SendHalfHelloRequest.*|BadHelloRequest-\d|StrayHelloRequest(?:-Packed)?|Shutdown-Shim-HelloRequest-.*|Shutdown-Shim-Renegotiate-.*",
      OUT, "legacy-version",
      "Renegotiation and HelloRequest: TLS 1.2 and older only."),
    R("legacy-ems", r"ExtendedMasterSecret-(?:No|Yes)To(?:No|Yes)-(?:Client|Server)", OUT, "legacy-version",
      "Extended master secret (RFC 7627): TLS 1.2 only."),
    R("legacy-tls-unique", r"TLSUnique-.*", OUT, "legacy-version",
      "tls-unique channel binding: TLS 1.2 only."),
    R("legacy-cbc", r".*CBC.*", OUT, "legacy-version",
      "CBC cipher suites, their padding and record splitting: TLS 1.2 and older."),
    R("legacy-v2-hello", r"SendV2ClientHello-.*", OUT, "legacy-version",
      "SSLv2-compatible ClientHello accepted for a TLS 1.2 handshake."),
    R("legacy-key-exchange",
      r"BadRSAClientKeyExchange-\d|RSAEphemeralKey|UnauthenticatedECDH|SkipServerKeyExchange|SendClientVersion-RSA|BadECDSA-\d-\d|CertificateCipherMismatch-.*|ServerCipherFilter-.*|CipherNegotiation-\d+|UnknownCipher|NoSharedCipher|UnsupportedCipherSuite|ServerHelloBogusCipher|UnknownCurve|NoSupportedCurves|NoCommonCurves|BadECDHECurve|UnsupportedCurve|CurveID-Resume-(?:Client|Server)|PointFormat-(?:Client|Server)-.*|CheckLeafCurve",
      OUT, "legacy-version",
      "TLS 1.2 cipher suites and key exchanges (RSA, ECDHE ServerKeyExchange, point formats); the TLS 1.3 counterparts are the *-TLS13 tests."),
    R("legacy-signatures",
      r"(?:Client|Server)Auth-(?:SignatureType|SHA1-Fallback-(?:RSA|ECDSA)|Enforced)|ClientAuth-NoFallback-(?:RSA|ECDSA)|Verify-(?:Client|Server)Auth-SignatureType|NoCommonAlgorithms|Agree-Digest-.*|FilterExtraAlgorithms|RSA-PSS-Default-(?:Verify|Sign)",
      OUT, "legacy-version",
      "TLS 1.2 signature_algorithms rules (SHA-1 fallback, ServerKeyExchange signatures); the TLS 1.3 counterparts are the *-TLS13 tests."),
    R("legacy-messages",
      r"SkipCertificateStatus|ServerSkipCertificateVerify|SkipNewSessionTicket|CheckClientCertificateTypes|ClientCertificateTypes|EmptyCertificateList|Null-Client-CA-List|InvalidCompressionMethod|UnknownExtension-Client|UnofferedExtension-Client|ExpectOmitExtensions|BadFinished-(?:Client|Server)|(?:Partial(?:Finished|NewSessionTicket)WithServerHelloDone|PartialClientKeyExchangeWithClientHello)|(?:WrongMessageType|TrailingMessageData)-\w+-TLS",
      OUT, "legacy-version",
      "TLS 1.2 handshake messages and their framing (ServerKeyExchange, ServerHelloDone, CertificateStatus, TLS 1.2 Finished); the TLS 1.3 counterparts are the *-TLS13 tests."),
    R("legacy-ccs",
      r"SkipChangeCipherSpec-(?:Client|Server)|FragmentAcrossChangeCipherSpec-.*|EarlyChangeCipherSpec-server-\d|BadChangeCipherSpec-\d|(?:App|Alert)DataAfterChangeCipherSpec.*|AlertAfterChangeCipherSpec",
      OUT, "legacy-version",
      "The TLS 1.2 ChangeCipherSpec that switches keys; TLS 1.3's compatibility CCS is tested by the *-TLS13 tests."),
    R("legacy-sessions",
      r"Resume-Server-(?:DeclineCrossVersion|DeclineBadCipher(?:-2)?|CipherNotPreferred|UnofferedCipher)|Resume-Client-CipherMismatch|SessionTicketsDisabled-.*|SupportTicketsWithSessionID|ShimTicketRewritable|Ticket-Forbidden-TLS13|EmptySessionID|Client-(?:ShortSessionID|TooLongSessionID)",
      OUT, "legacy-version",
      "TLS 1.2 session IDs and session tickets (RFC 5077); TLS 1.3 resumption is tested by the *-TLS13 tests."),
    R("legacy-alerts",
      r"SendWarningAlerts-(?:Pass|TooMany(?:" + SM + r")?)|Alternate\w*WarningAlerts|SendSNIWarningAlert|Shutdown-Shim-ApplicationData" + SM,
      OUT, "legacy-version",
      "Warning alerts and close behaviour as TLS 1.2 allows them (TLS 1.3 has no warning alerts but user_canceled/close_notify; see the *-TLS13 tests)."),
    R("legacy-state-machine-tls12",
      r"(?:Basic-(?:Client|Server)[\w-]*|ClientAuth-(?:NoCertificate-(?:Client|Server|OldCallback)|RSA-Client|ECDSA-Client|OldCallback|Server)|Shutdown-Shim)" + SM,
      OUT, "legacy-version",
      "The runner's state-machine coverage tests without a version in the name run at TLS 1.2 (the TLS 1.3 copies are named TLS13-* or *-TLS13-*)."),

    # ---- BoringSSL policies where another behaviour is equally valid ------
    R("opt-ed25519-default", r"Ed25519DefaultDisable-.*|(?:Client|Server)-VerifyDefault-Ed25519-TLS13", OPT, "signature-algorithms",
      "BoringSSL leaves Ed25519 out of its default verify preferences; ferrule accepts ed25519 by default, which RFC 8446 equally allows."),
    R("disable-all-versions", r"DisableEverything", OUT, "boringssl-api",
      "All versions disabled with BoringSSL's -no-tls* switches; ferrule has no way to disable TLS 1.3, its only version."),
    R("opt-http-request", r"Http(?:GET|POST|HEAD|PUT|CONNECT)", OPT, "record-layer",
      "BoringSSL recognises plaintext HTTP in place of a ClientHello and reports HTTP_REQUEST; any record-layer refusal is equally valid."),
    R("opt-fail-cert-callback", r"FailCertCallback-(?:Client|Server)-TLS13|FailEarlyCallback", OPT, "boringssl-api",
      "A BoringSSL certificate callback that returns failure; ferrule's callbacks fail the handshake too but through its own API."),
    R("opt-custom-key-shares", r"CustomKeyShares-(?:DefaultSupportedGroups-|Empty-HRR-)?TLS13", OPT, "key-exchange",
      "BoringSSL's API choosing which groups get a key share (-key-shares, -no-key-shares); RFC 8446 section 4.2.8 leaves that choice to the client and ferrule has no such setting."),
    R("opt-ticket-callback", r"TicketCallback-.*", OPT, "resumption",
      "BoringSSL's ticket key callback (-use-ticket-callback, renew): an API detail; ferrule rotates ticket keys its own way."),
    R("opt-retain-sha256", r"RetainOnlySHA256-.*", OPT, "client-auth",
      "BoringSSL's option to keep only the SHA-256 of the client certificate in the session."),
    R("opt-cert-verify-resume-softfail", r"CertificateVerification(?:SoftFail|PassesOnResume|FailsOnResume)-.*|EarlyData-\w+-Client-Reverify(?:Fails)?-Client-TLS13-CustomCallback" + SM,
      OPT, "certificate-verification",
      "BoringSSL's soft-fail verify mode (-verify-fail with the result only recorded) and client re-verification on resume (-reverify-on-resume): API details with several valid designs."),
    R("opt-server-no-reverify-on-resume", r"CertificateVerificationDoesNotFailOnResume-Server-TLS13-.*", OPT, "certificate-verification",
      "BoringSSL does not verify a client certificate again on resumption, so a verify callback that fails on the resumed connection must not matter; ferrule's server validates the ticket's client chain again and runs the verify callback (docs/resumption.md), falling back to a full handshake: equally valid."),
    R("opt-server-issuer-selection", r"CertificateSelection-Server-CheckIssuer(?:Fallback)?-Match\w+-TLS-TLS13", OPT, "certificate-selection",
      "A server choosing its chain by the client's certificate_authorities extension (BoringSSL's must-match-issuer credentials): RFC 8446 section 4.2.4 makes that a MAY; ferrule's server does not read the extension (docs/limits.md). The client side (CertificateSelection-Client-CheckIssuer-*) stays required."),
    R("opt-ocsp-callback", r"(?:Client|Server)OCSPCallback-.*", OPT, "ocsp",
      "BoringSSL's OCSP callbacks (-use-ocsp-callback, -set-ocsp-in-callback, -fail-ocsp-callback): API details; ferrule's OCSP policy and verify callback are another valid design."),
    R("opt-ticket-flags",
      r"TLS13-Client-(?:EmptyTicketFlags|NonminimalTicketFlags|KnownAndUnknownTicketFlags-\d)|TLS13-(?:Client|Server)-(?:No)?ResumptionAcrossNames",
      OPT, "resumption",
      "The draft TLS flags extension in NewSessionTicket (draft-ietf-tls-tlsflags) and its resumption_across_names flag: BoringSSL parses and sets it; ignoring an unknown NewSessionTicket extension (RFC 8446 section 4.6.1) is equally valid. Tolerating unknown flags (TLS13-Client-UnknownTicketFlags-*) stays required."),

    # ---- TLS 1.3: ferrule's features (in_scope_required) -----------------
    R("basic-tls13", r"TLS13-(?:1RTT|HelloRetryRequest)-(?:Client|Server)-.*|TLS13-(?:Client|Server)-ClientAuth-(?:ECDSA|RSA)",
      REQ, "basic", "TLS 1.3 handshakes of the runner's state-machine coverage."),
    R("basic-runner-shutdown", r"Shutdown-Runner" + SM + r"|Shutdown-Shim-KeyUpdate" + SM + r"|ShimSendAlert" + SM,
      REQ, "alerts-close", "close_notify and alerts at TLS 1.3 (the runner's default version)."),
    R("version-tls13", r"(?:VersionNegotiationExtension|IgnoreLegacyVersion|VersionTolerance|NoSupportedVersions|IgnoreClientVersionOrder|VersionTooLow|ServerBogusVersion|SecondServerHello(?:No|Wrong)Version|HelloRetryRequestVersionMismatch|NoLegacyServerConnect|FallbackSCSV-VersionMatch|NoFallbackSCSV|SendFallbackSCSV|FragmentedClientVersion)(?:-TLS13)?(?:-TLS)?",
      REQ, "version-negotiation", "supported_versions handling and version tolerance at TLS 1.3."),
    R("record-layer",
      r"TLS-TLS13-\w+-(?:BadRecord|LargeRecord)|TLS13-(?:RecordPadding|OnlyPadding|EmptyRecords|WrongOuterRecord)-TLS|SendEmptyRecords.*|SendInvalidRecordType|TLSFatalBadPackets|Garbage|AppDataBefore(?:Handshake|TLS13KeyChange)(?:-Empty)?|UnencryptedEncryptedExtensions|(?:Check|Garbage|Loose)\w*RecordVersion-TLS13|LargePlaintext.*|LargeCiphertext|MaxSendFragment-TLS13(?:-TooLarge)?|SendUserCanceledAlerts(?:-TooMany)?-TLS13",
      REQ, "record-layer", "TLS 1.3 record protection, padding, content types and record sizes."),
    R("alerts", r"Alert|FragmentAlert|DoubleAlert|SendBogusAlertType|SendWarningAlerts-TLS13|Unclean-Shutdown(?:-Ignored|-Alert)?",
      REQ, "alerts-close", "Alerts in TLS 1.3 (fragmented, doubled, unknown, warning) and a peer closing without close_notify (truncation)."),
    R("limits", r"LargeMessage(?:-Reject)?", REQ, "limits", "Maximum handshake message size."),
    R("handshake-framing",
      r"(?:WrongMessageType|TrailingMessageData)-TLS13-\w+-TLS|Partial\w+With\w+(?:-NoCCS)?|PartialSecondClientHelloAfterFirst|TrailingDataWithFinished-.*|PackedEncryptedHandshake-TLS13|ExtraHandshake-(?:Client|Server)(?:-EarlyData)?-TLS13",
      REQ, "handshake-framing", "TLS 1.3 handshake message framing and key-change boundaries."),
    R("cipher-suites", r"TLS13-CipherPreference-.*|TLS13-(?:HRR-)?InvalidCompressionMethod|(?:NoSharedCipher|ServerHelloBogusCipher|UnknownCipher|ExtraCompressionMethods|NoNullCompression)-TLS13",
      REQ, "cipher-suites", "TLS 1.3 cipher suite negotiation."),
    R("key-exchange",
      r"CurveTest-.*-TLS13|(?:UnknownCurve|NoSupportedCurves|BadECDHECurve|UnsupportedCurve-ServerHello|PointFormat-EncryptedExtensions|SupportedCurves-EncryptedExtensions|CurveID-Resume-(?:Client|Server)|MissingKeyShare-(?:Client|Server)|DuplicateKeyShares|TrailingKeyShareData|EncryptedExtensionsWithKeyShare|CheckECDSACurve-NotApplicable)-TLS13",
      REQ, "key-exchange", "TLS 1.3 groups and key shares."),
    R("hrr",
      r"HelloRetryRequest-.*-TLS13|(?:UnknownCurve-HelloRetryRequest|SendHelloRetryRequest(?:-2)?|DisabledCurve-HelloRetryRequest|UnnecessaryHelloRetryRequest|SecondHelloRetryRequest|SecondClientHelloMissingKeyShare|SecondClientHelloWrongCurve|HelloRetryRequestCurveMismatch|SkipHelloRetryRequest)-TLS13",
      REQ, "hrr", "HelloRetryRequest, cookies and the second ClientHello."),
    R("signature-algorithms",
      r"(?:Client|Server)-(?:Sign|SignDefault|Sign-Negotiate|Verify|VerifyDefault|InvalidSignature)-[\w-]+-TLS13|(?:Client|Server)-TLS13-No(?:Sign|Verify)-\w+|(?:ClientAuth|ServerAuth)-(?:PeerVerifyPrefs|Enforced|SignatureType|NoFallback)-TLS13|Verify-(?:Client|Server)Auth-SignatureType-TLS13|NoCommonAlgorithms-TLS13|VerifyPreferences-.*|BadECDSA-\d-\d-TLS13|ECDSACurveMismatch-(?:Verify|Sign)-TLS13|RejectPSSKeyType-(?:Client|Server)-TLS13|CheckLeafCurve-TLS13|RSA-PSS-Large",
      REQ, "signature-algorithms",
      "TLS 1.3 signature schemes: ecdsa P-256/P-384, rsa_pss_*, ed25519 work; RSA-PKCS1, SHA-1, P-521 and ML-DSA must be refused in CertificateVerify."),
    R("certificate-verification",
      r"CertificateVerification(?:Succeed|Fail|DoesNotFailOnResume)-.*|(?:ECDSAKeyUsage|RSAKeyUsage)-(?:Client|Server)-.*TLS13|GarbageCertificate-(?:Client|Server)-TLS13|SendReceiveIntermediate-(?:Client|Server)-TLS13",
      REQ, "certificate-verification", "Verifying the peer's chain (verify-peer, verify-fail) and key usage in TLS 1.3."),
    R("certificate-selection", r"CertificateSelection-.*-TLS13", REQ, "certificate-selection",
      "Choosing among several certificate chains by signature algorithm and issuer."),
    R("client-auth",
      r"ClientAuth-.*-TLS13.*|TLS13-(?:Client|Server)-CertReq-CA-List|TLS13-Empty-Client-CA-List|(?:NoClientCertificate(?:-Server)?|NoClientCertificateRequested-Server|RequireAnyClientCertificate|SkipClientCertificate|ServerSkipCertificateVerify|ClientSkipCertificateVerify|RequestContextInHandshake|UnknownExtensionInCertificateRequest|MissingSignatureAlgorithmsInCertificateRequest|EmptyCertificateList|SendExtensionOnClientCertificate|SendNoClientCertificateExtensions)-TLS13|RejectEmptyCertificateAuthorities-(?:Client|Server)-TLS-TLS13",
      REQ, "client-auth", "CertificateRequest, client certificates required or optional, certificate_authorities."),
    R("resumption",
      r"Resume-(?:Client|Server)-.*TLS13.*|Resume-Server-(?:BinderWrongLength|NoPSKBinder|ExtraPSKBinder|ExtraIdentityNoBinder|InvalidPSKBinder|PSKBinderFirstExtension|OmitAllPSKsOnSecondClientHello)(?:-SecondBinder)?|TLS13-Client-UnknownTicketFlags-\d|TLS13-(?:ExpectNoSessionTicketOnBadKEMode|SendBadKEModeSessionTicket|SendNoKEMModesWithPSK|SendUnknownModeSessionTicket)-Server|TLS13-HonorServerSessionTicketLifetime(?:-2)?|TLS13-NoTicket-No(?:Accept|Mint)|TLS13-TestValidTicketAge-Client|TLS13-TicketAgeSkew-.*|(?:AlwaysSelectPSKIdentity|InvalidPSKIdentity|ExtraPSKIdentity|CustomTicketExtension|SendEmptySessionTicket|NegotiatePSKResumption|TLS13SessionID|CorruptTicket|CertificateInResumption|CertificateRequestInResumption|EmptySessionID)-(?:TLS-)?TLS13|Server-(?:Short|Full|TooLong)SessionID-TLS13",
      REQ, "resumption", "TLS 1.3 tickets, PSK binders, PSK modes, ticket age."),
    R("early-data",
      r"EarlyData-.*|TLS13-EarlyData-.*|TLS13-MaxEarlyData-Server.*|TLS13-(?:ExpectTicketEarlyDataSupport|SendTicketEarlyDataSupport(?:-Disabled)?|DuplicateTicketEarlyDataSupport|TestBadTicketAge-Client)|SkipEarlyData.*-TLS13|EarlyDataWithoutResume-Client-TLS13|ServerAcceptsEarlyDataOnHRR-Client-TLS13|Server-NonEmptyEndOfEarlyData-TLS13",
      REQ, "early-data", "0-RTT: acceptance, rejection, limits, EndOfEarlyData."),
    R("key-update", r"KeyUpdate-.*|TooManyKeyUpdates", REQ, "key-update", "KeyUpdate, requested and not."),
    R("alpn", r"ALPN(?:Client|Server)-.*-TLS13|ALPN(?:Client|Server)-TLS-TLS13", REQ, "alpn", "ALPN."),
    R("sni",
      r"(?:ServerNameExtension(?:Client|Server|ClientMismatch|ClientMissing)(?:-NoACK)?|TolerateServerNameAck|UnsolicitedServerNameAck)-TLS-TLS13|ExtensionTrailingData-ServerName-.*",
      REQ, "sni", "server_name."),
    R("ocsp", r"OCSPStapling-.*TLS13.*|RejectEmptyOCSPResponse-TLS-TLS13|SendUnsolicitedOCSPOnCertificate-TLS13|SendOCSPResponseOnResume-TLS-TLS13",
      REQ, "ocsp", "status_request: stapling and requiring a staple."),
    R("exporters", r"ExportKeyingMaterial-.*TLS13.*|ExportTrafficSecrets-.*|NoEarlyKeyingMaterial-.*", REQ, "exporters",
      "RFC 8446 section 7.5 exporters (and keylog-style traffic secrets)."),
    R("ccs", r"(?:SkipChangeCipherSpec|TooManyChangeCipherSpec)-(?:Client|Server)-TLS13|SendPostHandshakeChangeCipherSpec-TLS13",
      REQ, "ccs", "Middlebox compatibility ChangeCipherSpec in TLS 1.3."),
    R("extensions",
      r"(?:DuplicateExtension(?:Client|Server)|UnsolicitedCertificateExtensions|UnexpectedClientEncryptedExtensions-\w+|ExtraClientEncryptedExtension-\w+)-TLS-TLS13|ExtensionTrailingData-.*-TLS-TLS13|(?:UnknownExtension-Client|UnknownUnencryptedExtension-Client|UnexpectedUnencryptedExtension-Client|UnofferedExtension-Client|EmptyEncryptedExtensions|SendUnknownExtensionOnCertificate|IgnoreExtensionsOnIntermediates|SendNoExtensionsOnIntermediate|SendDuplicateExtensionsOnCerts|EMS-Forbidden)-TLS13",
      REQ, "extensions",
      "Extensions in TLS 1.3: unknown, duplicate, misplaced; TLS 1.2-only extensions (EMS) refused or ignored."),
    R("state-machine", r"BadFinished-(?:Client|Server)-TLS13",
      REQ, "state-machine", "A bad Finished in TLS 1.3."),
]

# ErrorMap for the runner's -shim-config: BoringSSL's expected error string
# -> the strings that count as the same error in the shim's stderr.  Kept
# empty on purpose: the shim (interop/bogo/) prints BoringSSL-form errors
# itself (":DECODE_ERROR:" etc., mapped from ferrule's reason codes), so the
# runner compares them directly.  An entry belongs here only when no single
# BoringSSL string is right for a ferrule reason; each entry carries its
# reason.
ERROR_MAP_COMMENT = (
    "ErrorMap is empty on purpose: the shim prints BoringSSL-form error strings "
    "(e.g. :DECODE_ERROR:) itself, mapped from ferrule's reason codes. An entry "
    "belongs here only where no single BoringSSL string fits a ferrule reason; "
    "each entry is {boringssl: [shim strings], reason}. Source: tools/bogo_profile.py ERROR_MAP.")
ERROR_MAP = {
    # ":BORINGSSL_ERROR:": {"accept": [":OTHER:"], "reason": "..."},
}

# How many NewSessionTickets the runner's 0-RTT client expects before the
# server's 0.5-RTT data.  ferrule's server sends its tickets after the
# client's Finished (RFC 8446 section 4.6.1 allows either): the resumption
# secret depends on the client's second flight, so none come at 0.5-RTT.
HALF_RTT_TICKETS = 0
HALF_RTT_TICKETS_COMMENT = (
    "ferrule's server sends NewSessionTickets after the client's Finished, none at 0.5-RTT "
    "(RFC 8446 section 4.6.1 allows either). Source: tools/bogo_profile.py HALF_RTT_TICKETS.")

_COMPILED = []


def _compiled():
    if not _COMPILED:
        for r in RULES:
            if r["kind"] == "regex":
                rx = re.compile(r["pattern"])
            elif r["kind"] == "glob":
                rx = re.compile(fnmatch.translate(r["pattern"]))
            else:
                raise ValueError("rule %s: unknown kind %r" % (r["id"], r["kind"]))
            _COMPILED.append((rx, r))
    return _COMPILED


def classify(name):
    """The first rule matching the whole name, or None."""
    for rx, r in _compiled():
        if rx.fullmatch(name):
            return r
    return None


def load_names(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if path.endswith(".json"):
        data = json.loads(text)
        if isinstance(data, dict) and "tests" in data:
            data = data["tests"]
        if isinstance(data, dict):
            names = list(data)
        else:
            names = [t["name"] if isinstance(t, dict) else t for t in data]
    else:
        names = [ln.strip() for ln in text.splitlines()]
        names = [n for n in names if n and not n.startswith("#")]
    return sorted(set(names))


def build_profile(names):
    tests, unclassified = {}, []
    for n in names:
        r = classify(n)
        if r is None:
            unclassified.append(n)
            continue
        tests[n] = {"class": r["class"], "area": r["area"], "rule": r["id"], "reason": r["reason"]}
    counts = {
        "total": len(tests),
        "class": dict(collections.Counter(t["class"] for t in tests.values())),
        "area": dict(collections.Counter(t["area"] for t in tests.values())),
        "rule": dict(collections.Counter(t["rule"] for t in tests.values())),
        "area_class": {},
    }
    ac = collections.defaultdict(collections.Counter)
    for t in tests.values():
        ac[t["area"]][t["class"]] += 1
    counts["area_class"] = {a: dict(c) for a, c in ac.items()}
    profile = {
        "schema": SCHEMA,
        "boringssl_commit": BORINGSSL_COMMIT,
        "boringssl_date": BORINGSSL_DATE,
        "rules": RULES,
        "areas": AREAS,
        "tests": tests,
        "counts": counts,
    }
    return profile, unclassified


def build_config(profile, strict):
    disabled_classes = {OUT, OPT} if strict else {OUT}
    disabled = {}
    for name, t in profile["tests"].items():
        if t["class"] in disabled_classes:
            disabled[name] = "[%s] %s" % (t["rule"], t["reason"])
    return {
        "_comment": ("Generated by tools/bogo_profile.py config from interop/bogo/profile.json "
                     "(%s); do not edit. BoringSSL %s (%s)."
                     % ("strict: out_of_scope and in_scope_optional disabled" if strict
                        else "out_of_scope disabled", BORINGSSL_COMMIT, BORINGSSL_DATE)),
        "_comment_ErrorMap": ERROR_MAP_COMMENT,
        "DisabledTests": disabled,
        "ErrorMap": {k: list(v["accept"]) for k, v in ERROR_MAP.items()},
        "_comment_HalfRTTTickets": HALF_RTT_TICKETS_COMMENT,
        "HalfRTTTickets": HALF_RTT_TICKETS,
    }


def check_profile(profile):
    """A list of problems (empty: the profile is sound)."""
    problems = []
    if profile.get("schema") != SCHEMA:
        problems.append("schema is %r, not %r" % (profile.get("schema"), SCHEMA))
    if profile.get("boringssl_commit") != BORINGSSL_COMMIT:
        problems.append("boringssl_commit differs from the pinned one")
    ids = [r["id"] for r in RULES]
    for i in sorted({i for i in ids if ids.count(i) > 1}):
        problems.append("rule id %s used twice" % i)
    known = {r["id"]: r for r in RULES}
    for r in RULES:
        if r["class"] not in CLASSES:
            problems.append("rule %s: class %r" % (r["id"], r["class"]))
        if r["area"] not in AREAS:
            problems.append("rule %s: area %r not in the fixed list" % (r["id"], r["area"]))
        if not r["reason"].strip():
            problems.append("rule %s: no reason" % r["id"])
    if profile.get("rules") != RULES:
        problems.append("the profile's rules differ from the tool's (rebuild it)")
    used = collections.Counter()
    for name, t in sorted(profile.get("tests", {}).items()):
        if t.get("class") not in CLASSES:
            problems.append("%s: class %r" % (name, t.get("class")))
        if t.get("area") not in AREAS:
            problems.append("%s: area %r" % (name, t.get("area")))
        r = classify(name)
        if r is None:
            problems.append("%s: unclassified" % name)
            continue
        if t.get("rule") != r["id"] or t.get("class") != r["class"] or t.get("area") != r["area"]:
            problems.append("%s: recorded as %s/%s/%s, the rules say %s/%s/%s"
                            % (name, t.get("rule"), t.get("class"), t.get("area"),
                               r["id"], r["class"], r["area"]))
        used[t.get("rule")] += 1
    for r in RULES:
        if used[r["id"]] == 0:
            problems.append("rule %s matches no test" % r["id"])
    rebuilt, _ = build_profile(sorted(profile.get("tests", {})))
    if rebuilt["counts"] != profile.get("counts"):
        problems.append("counts do not match the tests")
    return problems


def dump_json(obj):
    return json.dumps(obj, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def write(path, text):
    if path in (None, "-"):
        sys.stdout.write(text)
    else:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)


def rules_md():
    def cell(s):
        return s.replace("|", "\\|")
    out = ["| # | id | pattern (%s) | class | area | reason |" % "regex, full name",
           "|---|---|---|---|---|---|"]
    for i, r in enumerate(RULES, 1):
        pat = "`%s`" % cell(r["pattern"]) if r["kind"] == "regex" else "glob `%s`" % cell(r["pattern"])
        out.append("| %d | %s | %s | %s | %s | %s |" % (i, r["id"], pat, r["class"], r["area"], cell(r["reason"])))
    return "\n".join(out) + "\n"


DOC_BEGIN = "<!-- BEGIN generated by tools/bogo_profile.py doc: do not edit by hand -->"
DOC_END = "<!-- END generated -->"


def doc_block(profile):
    """The generated part of docs/bogo-profile.md: rules, counts, optional tests."""
    c = profile["counts"]
    out = [DOC_BEGIN, "", "### Rules (in order; the first that matches the whole name wins)", "",
           rules_md().rstrip("\n"), "",
           "### Counts per class", "", "| class | tests |", "|---|---|"]
    for k in CLASSES:
        out.append("| %s | %d |" % (k, c["class"].get(k, 0)))
    out += ["| total | %d |" % c["total"], "", "### Counts per area", "",
            "| area | meaning | required | optional | out of scope | total |",
            "|---|---|---|---|---|---|"]
    for a, meaning in AREAS.items():
        ac = c["area_class"].get(a, {})
        out.append("| %s | %s | %d | %d | %d | %d |" % (a, meaning, ac.get(REQ, 0), ac.get(OPT, 0),
                                                        ac.get(OUT, 0), c["area"].get(a, 0)))
    out += ["", "### The in_scope_optional tests", ""]
    by_rule = collections.defaultdict(list)
    for n, t in sorted(profile["tests"].items()):
        if t["class"] == OPT:
            by_rule[t["rule"]].append(n)
    for r in RULES:
        if r["id"] in by_rule:
            names = by_rule[r["id"]]
            out += ["- **%s** (%d): %s" % (r["id"], len(names), r["reason"]), "",
                    "  " + ", ".join("`%s`" % n for n in names), ""]
    out.append(DOC_END)
    return "\n".join(out) + "\n"


def replace_doc_block(text, block):
    i, j = text.find(DOC_BEGIN), text.find(DOC_END)
    if i < 0 or j < i:
        raise ValueError("the document has no generated block (markers missing)")
    return text[:i] + block + text[j + len(DOC_END) + 1:]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("classify", help="print class, area and rule per name")
    p.add_argument("names", nargs="+")
    p = sub.add_parser("build", help="write the profile")
    p.add_argument("--tests", required=True, help="the runner's JSON results (tests keys) or a names file")
    p.add_argument("--out", default="-")
    p = sub.add_parser("config", help="write the runner's -shim-config file")
    p.add_argument("--profile", required=True)
    p.add_argument("--strict", action="store_true", help="also disable in_scope_optional tests")
    p.add_argument("--out", default="-")
    p = sub.add_parser("check", help="check a profile against the rules")
    p.add_argument("--profile", required=True)
    sub.add_parser("rules-md", help="print the rule table (Markdown)")
    p = sub.add_parser("doc", help="print the generated part of docs/bogo-profile.md, or rewrite it there")
    p.add_argument("--profile", required=True)
    p.add_argument("--write", metavar="DOC", help="replace the generated block of DOC in place")
    a = ap.parse_args(argv)

    if a.cmd == "classify":
        status = 0
        for n in a.names:
            r = classify(n)
            if r is None:
                print("%s\tUNCLASSIFIED" % n)
                status = 1
            else:
                print("%s\t%s\t%s\t%s" % (n, r["class"], r["area"], r["id"]))
        return status
    if a.cmd == "build":
        profile, unclassified = build_profile(load_names(a.tests))
        if unclassified:
            for n in unclassified:
                print("unclassified: %s" % n, file=sys.stderr)
            print("%d names match no rule; add a rule" % len(unclassified), file=sys.stderr)
            return 1
        write(a.out, dump_json(profile))
        return 0
    if a.cmd == "config":
        with open(a.profile, encoding="utf-8") as f:
            profile = json.load(f)
        write(a.out, dump_json(build_config(profile, a.strict)))
        return 0
    if a.cmd == "check":
        with open(a.profile, encoding="utf-8") as f:
            profile = json.load(f)
        problems = check_profile(profile)
        for pr in problems:
            print(pr, file=sys.stderr)
        c = profile.get("counts", {}).get("class", {})
        print("check: %d tests, %s; %d problems"
              % (len(profile.get("tests", {})), ", ".join("%s %d" % (k, c.get(k, 0)) for k in CLASSES),
                 len(problems)))
        return 1 if problems else 0
    if a.cmd == "rules-md":
        sys.stdout.write(rules_md())
        return 0
    if a.cmd == "doc":
        with open(a.profile, encoding="utf-8") as f:
            block = doc_block(json.load(f))
        if not a.write:
            sys.stdout.write(block)
            return 0
        with open(a.write, encoding="utf-8") as f:
            text = f.read()
        with open(a.write, "w", encoding="utf-8") as f:
            f.write(replace_doc_block(text, block))
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
