"""tools/bogo_profile.py: the BoGo test profile (docs/bogo-profile.md).

The sample below is a fixed list of runner test names with the class and
area a reader of the runner's source expects for ferrule (a TLS 1.3-only
library): the rules must keep giving those.  It spans every class and
every area and carries the tricky cases: TLS 1.2 peers that must be
REFUSED (in scope), the same tests when they expect TLS 1.2 to work (out),
DTLS/QUIC variants of TLS 1.3 tests, ECH, sending GREASE (out) next to
tolerating unknown values (in), signature schemes that are out only where
the test expects them to work.

Nothing here needs the runner or BoringSSL: the tool classifies names only.
"""

import json
import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOL = os.path.join(REPO, "tools", "bogo_profile.py")
PROFILE = os.path.join(REPO, "interop", "bogo", "profile.json")
CONFIG = os.path.join(REPO, "interop", "bogo", "config.json")
DOC = os.path.join(REPO, "docs", "bogo-profile.md")

sys.path.insert(0, os.path.join(REPO, "tools"))
import bogo_profile  # noqa: E402

REQ, OPT, OUT = "in_scope_required", "in_scope_optional", "out_of_scope"

SAMPLE = [
    # TLS 1.2 (or older) peers a TLS 1.3-only endpoint must refuse: in scope.
    ("MinimumVersion-Server-TLS13-TLS12-TLS", REQ, "version-negotiation"),
    ("MinimumVersion-Client-TLS13-TLS1-TLS", REQ, "version-negotiation"),
    ("NoSSL3-Server", REQ, "version-negotiation"),
    ("Downgrade-TLS12-Client-TLS", OUT, "downgrade"),
    ("Client-RejectJDK11DowngradeRandom", OUT, "downgrade"),
    ("EchoTLS13CompatibilitySessionID", OUT, "downgrade"),
    ("Resume-Client-Mismatch-TLS13-TLS12-TLS", OUT, "downgrade"),
    ("V2ClientHello-EmptyRecordPrefix", OPT, "alerts-close"),
    ("VersionTooLow", REQ, "version-negotiation"),
    ("FallbackSCSV", OPT, "version-negotiation"),
    # ... and the same families where TLS 1.2 is expected to work: out.
    ("MinimumVersion-Client-TLS1-TLS12-TLS", OUT, "legacy-version"),
    ("Downgrade-TLS12-Server-TLS", OUT, "legacy-version"),
    ("Client-AcceptJDK11DowngradeRandom", OUT, "boringssl-api"),
    ("Resume-Client-NoResume-TLS13-TLS12-TLS", OUT, "legacy-version"),
    ("VersionNegotiation-Client-TLS12-TLS13-TLS", OUT, "legacy-version"),
    ("VersionNegotiation-Server-TLS13-TLS12-TLS", OUT, "legacy-version"),
    ("MajorVersionTolerance", OUT, "legacy-version"),
    ("VersionNegotiation-Client-TLS13-TLS13-TLS", REQ, "version-negotiation"),
    ("FallbackSCSV-VersionMatch-TLS13", REQ, "version-negotiation"),
    ("VersionNegotiationExtension-TLS13-TLS", REQ, "version-negotiation"),
    ("DisableEverything", OUT, "boringssl-api"),
    # One test, three protocols / versions.
    ("ALPNClient-AllowUnknown-TLS-TLS13", OUT, "boringssl-api"),
    ("ALPNClient-AllowUnknown-DTLS-TLS13", OUT, "transport"),
    ("ALPNClient-AllowUnknown-TLS-TLS12", OUT, "legacy-version"),
    ("SendSplitAlert-Sync", OUT, "transport"),
    ("StrayChangeCipherSpec", OUT, "transport"),
    ("QUICTransportParams-Client-NotSentInNonQUIC-Standard-TLS-TLS13", OUT, "transport"),
    ("SRTP-Client-Ignore-TLS-TLS13", OUT, "transport"),
    # Features not offered.
    ("TLS-ECH-Server", OUT, "not-offered"),
    ("TLS-ECH-Client-TLS12SessionID", OUT, "not-offered"),
    ("ALPS-Basic-Client-New-TLS-TLS13", OUT, "not-offered"),
    ("ChannelID-Client-TLS13-TLS-Sync", OUT, "not-offered"),
    ("DelegatedCredentials-Basic", OUT, "not-offered"),
    ("ClientCertificateType-Server-RPKVerifyFail-TLS13", OUT, "not-offered"),
    ("PAKE-Client", OUT, "not-offered"),
    ("PSK-Client-PSKRequired-TLS12-TLS", OUT, "not-offered"),
    ("CertCompressionExpands-TLS13", OUT, "not-offered"),
    ("SignedCertificateTimestampList-Client-TLS-TLS13", OUT, "not-offered"),
    ("TrustAnchors-ServerSelect-Match", OUT, "not-offered"),
    ("ServerPadding-ExpectPadding", OUT, "not-offered"),
    ("AllExtensions-Client-Permute-HelloRetryRequest-TLS-TLS13", OUT, "not-offered"),
    ("CurveTest-Client-P-521-TLS13", OUT, "not-offered"),
    ("CurveTest-Client-X25519MLKEM768-TLS13", OUT, "not-offered"),
    # GREASE: sending is out; tolerating unknown values from the peer is in.
    ("GREASE-Client-TLS13", OUT, "not-offered"),
    ("GREASE-Server-TLS13", OUT, "not-offered"),
    ("UnknownCipher-TLS13", REQ, "cipher-suites"),
    ("UnknownCurve-TLS13", REQ, "key-exchange"),
    ("TLS13-Client-UnknownTicketFlags-1", REQ, "resumption"),
    ("KeyShareWithServerHint-UnrecognizedGroupIgnored-TLS13", OUT, "boringssl-api"),
    ("CustomKeyShares-Multiple-TLS13", OUT, "not-offered"),
    ("CustomKeyShares-TLS13", OPT, "key-exchange"),
    ("CurveTest-Server-EqualPreference-TLS13", OUT, "boringssl-api"),
    ("IgnoreExtensionsOnIntermediates-TLS13", OUT, "not-offered"),
    ("ExtraClientEncryptedExtension-New-TLS-TLS13", OUT, "not-offered"),
    ("UnexpectedClientEncryptedExtensions-New-TLS-TLS13", REQ, "extensions"),
    ("ExtendedMasterSecret-TLS13-Client", OPT, "boringssl-api"),
    # Signature schemes: out only where the test expects them to work.
    ("Client-Sign-ECDSA_P521_SHA512-TLS13", OUT, "not-offered"),
    ("Client-VerifyDefault-ECDSA_P521_SHA512-TLS13", REQ, "signature-algorithms"),
    ("Server-Sign-RSA_PKCS1_SHA1-TLS13", REQ, "signature-algorithms"),
    ("Client-Sign-RSA_PKCS1_SHA256_LEGACY-TLS13", OUT, "not-offered"),
    ("Server-Sign-RSA_PKCS1_SHA256_LEGACY-TLS13", REQ, "signature-algorithms"),
    ("Client-Verify-ML-DSA-44-TLS13", OUT, "not-offered"),
    ("Client-VerifyDefault-ML-DSA-44-TLS13", REQ, "signature-algorithms"),
    ("Client-Verify-Ed25519-TLS13", REQ, "signature-algorithms"),
    ("Client-VerifyDefault-Ed25519-TLS13", OPT, "signature-algorithms"),
    ("CurveTest-Client-X25519-TLS13", REQ, "key-exchange"),
    # TLS 1.3 must refuse TLS 1.2 mechanisms: in scope.
    ("NPN-Forbidden-TLS13", OUT, "legacy-version"),
    ("Renegotiate-Client-TLS13", REQ, "state-machine"),
    ("EMS-Forbidden-TLS13", OUT, "legacy-version"),
    ("NPN-Client-TLS-Sync", OUT, "legacy-version"),
    ("Renegotiate-Client", OUT, "legacy-version"),
    ("SendV2ClientHello-16-TLS-Sync", OUT, "legacy-version"),
    ("TLS12SessionID-TLS13", OUT, "legacy-version"),
    ("Ticket-Forbidden-TLS13", OUT, "legacy-version"),
    ("SkipEarlyData-EarlyDataInTLS12-TLS13", OUT, "legacy-version"),
    # State-machine coverage: unversioned names are TLS 1.2.
    ("Basic-Client-TLS-Sync", OUT, "legacy-version"),
    ("TLS13-1RTT-Client-TLS-Sync", REQ, "basic"),
    ("TLS13-Client-ClientAuth-ECDSA", REQ, "basic"),
    ("Basic-Server-EarlyCallback-TLS-Sync", OUT, "boringssl-api"),
    ("ShimSendAlert-TLS-Async-PackHandshake", REQ, "alerts-close"),
    ("ShimSendAlert-TLS-Sync-ImplicitHandshake", REQ, "alerts-close"),
    # BoringSSL-only APIs and policies.
    ("Compliance-fips-202205-TLS-Server-Ed25519", OUT, "boringssl-api"),
    ("TLS-HintMismatch-KeyShare", OUT, "boringssl-api"),
    ("Peek-Basic", OUT, "boringssl-api"),
    ("Server-DDoS-OK-Resume-TLS13", OUT, "boringssl-api"),
    ("FailCertCallback-Client-TLS13", OPT, "boringssl-api"),
    ("FailCertCallback-Server-TLS13", OPT, "boringssl-api"),
    # Optional: API details / policies with another valid behaviour.
    ("CertificateVerificationSoftFail-TLS13-TLS-Sync", OPT, "certificate-verification"),
    ("CertificateVerificationDoesNotFailOnResume-Server-TLS13-TLS-Sync", OPT, "certificate-verification"),
    ("CertificateVerificationDoesNotFailOnResume-Client-TLS13-TLS-Sync", REQ, "certificate-verification"),
    ("EarlyData-Accept0RTT-Client-ReverifyFails-Client-TLS13-CustomCallback-TLS-Async", OPT,
     "certificate-verification"),
    ("ClientOCSPCallback-Pass-TLS13-TLS-Sync", OPT, "ocsp"),
    ("ClientOCSPCallback-Pass-TLS13-TLS-Async-SplitHandshakeRecords", OPT, "ocsp"),
    ("HttpGET", OPT, "record-layer"),
    ("HttpPOST", OPT, "record-layer"),
    ("TLS13-Client-NonminimalTicketFlags", OPT, "resumption"),
    ("TLS13-Server-ResumptionAcrossNames", OPT, "resumption"),
    ("RetainOnlySHA256-OffOn-TLS13", OPT, "client-auth"),
    ("RetainOnlySHA256-OnOff-TLS13", OPT, "client-auth"),
    ("TicketCallback-Renew-TLS-TLS13", OPT, "resumption"),
    ("TicketCallback-TLS-TLS13-AEAD", OPT, "resumption"),
    # Required, one or two per area.
    ("Resume-Server-PSKBinderFirstExtension", REQ, "resumption"),
    ("Server-FullSessionID-TLS13", REQ, "resumption"),
    ("CertificateVerificationSucceed-Client-TLS13-CustomCallback-TLS-Sync", REQ,
     "certificate-verification"),
    ("CertificateVerificationSucceed-Server-TLS13-CustomCallback-TLS-Sync-ImplicitHandshake", REQ,
     "certificate-verification"),
    ("OCSPStapling-Client-TLS13-TLS-Sync", REQ, "ocsp"),
    ("OCSPStapling-Client-TLS13-TLS-Sync-ImplicitHandshake", REQ, "ocsp"),
    ("ALPNServer-Decline-TLS-TLS13", REQ, "alpn"),
    ("SkipChangeCipherSpec-Server-TLS13", REQ, "ccs"),
    ("SkipChangeCipherSpec-Client-TLS13", REQ, "ccs"),
    ("CertificateSelection-Client-SignatureAlgorithm-MatchDefault-TLS-TLS13", REQ,
     "certificate-selection"),
    ("CertificateSelection-Server-SignatureAlgorithm-MatchDefault-TLS-TLS13", REQ,
     "certificate-selection"),
    ("CertificateSelection-Server-CheckIssuer-MatchSecond-TLS-TLS13", OPT, "certificate-selection"),
    ("CertificateSelection-Client-CheckIssuer-MatchSecond-TLS-TLS13", OPT, "certificate-selection"),
    ("TLS13-CipherPreference-Client", REQ, "cipher-suites"),
    ("ClientAuth-NoCertificate-OldCallback-TLS13-TLS-Sync-ImplicitHandshake", REQ, "client-auth"),
    ("ClientAuth-ECDSA-Client-TLS13-TLS-Async-ImplicitHandshake", REQ, "client-auth"),
    ("EarlyData-CipherMismatch-Client-TLS13", REQ, "early-data"),
    ("EarlyData-Reject0RTT-DifferentPRF-Client", REQ, "early-data"),
    ("Unclean-Shutdown", REQ, "alerts-close"),
    ("RSA-PSS-Large", REQ, "signature-algorithms"),
    ("TLS13-Client-UnknownTicketFlags-0", REQ, "resumption"),
    ("EarlyData-HRR-RejectTicket-Server-TLS13", REQ, "early-data"),
    ("ExportTrafficSecrets-AEAD-AES128-GCM-SHA256", REQ, "exporters"),
    ("ExportKeyingMaterial-EmptyContext-TLS-TLS13", REQ, "exporters"),
    ("ExtensionTrailingData-StatusRequest-Client-TLS-TLS13", REQ, "extensions"),
    ("PartialServerHelloWithHelloRetryRequest", REQ, "handshake-framing"),
    ("TrailingMessageData-TLS13-EndOfEarlyData-TLS", REQ, "handshake-framing"),
    ("SecondClientHelloWrongCurve-TLS13", REQ, "hrr"),
    ("SendHelloRetryRequest-2-TLS13", OPT, "basic"),
    ("KeyUpdate-FromServer", REQ, "key-update"),
    ("KeyUpdate-ToServer", REQ, "key-update"),
    ("LargeMessage", REQ, "limits"),
    ("LargeMessage-Reject", REQ, "limits"),
    ("GarbageInitialRecordVersion-TLS13", REQ, "record-layer"),
    ("TLS13-WrongOuterRecord-TLS", REQ, "record-layer"),
    ("ServerNameExtensionClientMismatch-TLS-TLS13", REQ, "sni"),
    ("ServerNameExtensionClientMissing-TLS-TLS13", REQ, "sni"),
]


def run(*args, check=True):
    p = subprocess.run([sys.executable, TOOL] + list(args), capture_output=True, text=True)
    if check and p.returncode != 0:
        raise AssertionError("bogo_profile.py %s: exit %d\n%s" % (" ".join(args[:2]), p.returncode, p.stderr))
    return p


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def test_sample_is_large_and_spans_classes_and_areas():
    names = [n for n, _, _ in SAMPLE]
    assert len(set(names)) == len(names) >= 100
    assert {c for _, c, _ in SAMPLE} == set(bogo_profile.CLASSES)
    assert {a for _, _, a in SAMPLE} == set(bogo_profile.AREAS)


def test_classify_sample_reproducibly():
    names = [n for n, _, _ in SAMPLE]
    first = run("classify", *names).stdout
    assert run("classify", *names).stdout == first
    got = {}
    for line in first.splitlines():
        name, cls, area, rule = line.split("\t")
        got[name] = (cls, area, rule)
    wrong = ["%s: got %s/%s (rule %s), expected %s/%s" % (n, got[n][0], got[n][1], got[n][2], c, a)
             for n, c, a in SAMPLE if got[n][:2] != (c, a)]
    assert not wrong, "\n".join(wrong)


def test_classify_unknown_name_fails():
    p = run("classify", "TLS13-1RTT-Client-TLS-Sync", "NoSuchFeature-Whatever", check=False)
    assert p.returncode == 1
    assert "NoSuchFeature-Whatever\tUNCLASSIFIED" in p.stdout


def test_committed_profile_passes_check():
    p = run("check", "--profile", PROFILE)
    assert "; 0 problems" in p.stdout


def test_check_detects_a_tampered_profile(tmp_path):
    prof = load(PROFILE)
    name = "TLS-ECH-Server"
    assert prof["tests"][name]["class"] == OUT
    prof["tests"][name]["class"] = REQ
    bad = tmp_path / "profile.json"
    bad.write_text(json.dumps(prof), encoding="utf-8")
    p = run("check", "--profile", str(bad), check=False)
    assert p.returncode == 1
    assert name in p.stderr


def test_profile_header_and_counts():
    prof = load(PROFILE)
    assert prof["schema"] == "ferrule-bogo-profile/1"
    assert prof["boringssl_commit"] == "a0689af29e8e460f1e5380e0fb74cef1b342e810"
    assert prof["boringssl_date"] == "2026-08-21"
    assert len(prof["tests"]) == prof["counts"]["total"] == 7894
    assert sum(prof["counts"]["class"].values()) == 7894
    used = set(prof["counts"]["rule"])
    assert used == {r["id"] for r in prof["rules"]}


def test_committed_profile_equals_a_rebuild(tmp_path):
    names = tmp_path / "names.txt"
    names.write_text("\n".join(sorted(load(PROFILE)["tests"])) + "\n", encoding="utf-8")
    out = tmp_path / "profile.json"
    run("build", "--tests", str(names), "--out", str(out))
    with open(PROFILE, encoding="utf-8") as f:
        assert out.read_text(encoding="utf-8") == f.read()


def test_build_refuses_unclassified_names(tmp_path):
    names = tmp_path / "names.txt"
    names.write_text("TLS13-1RTT-Client-TLS-Sync\nNoSuchFeature-Whatever\n", encoding="utf-8")
    p = run("build", "--tests", str(names), "--out", str(tmp_path / "p.json"), check=False)
    assert p.returncode == 1
    assert "unclassified: NoSuchFeature-Whatever" in p.stderr
    assert not (tmp_path / "p.json").exists()


def test_build_reads_runner_results_json(tmp_path):
    results = tmp_path / "results.json"
    results.write_text(json.dumps({"version": 3, "tests": {
        "TLS13-1RTT-Client-TLS-Sync": {"actual": "SKIP"},
        "TLS-ECH-Server": {"actual": "SKIP"}}}), encoding="utf-8")
    out = tmp_path / "p.json"
    run("build", "--tests", str(results), "--out", str(out))
    prof = load(str(out))
    assert prof["tests"]["TLS13-1RTT-Client-TLS-Sync"]["class"] == REQ
    assert prof["tests"]["TLS-ECH-Server"]["class"] == OUT
    assert prof["counts"]["class"] == {REQ: 1, OUT: 1}


@pytest.mark.parametrize("strict", [False, True])
def test_config_disables_exactly_out_of_scope_plus_optional_if_strict(tmp_path, strict):
    prof = load(PROFILE)
    out = tmp_path / "config.json"
    run("config", "--profile", PROFILE, "--out", str(out), *(["--strict"] if strict else []))
    cfg = load(str(out))
    want = {n for n, t in prof["tests"].items()
            if t["class"] == OUT or (strict and t["class"] == OPT)}
    assert set(cfg["DisabledTests"]) == want
    assert want  # both classes are non-empty in the pinned runner
    for n in want:
        t = prof["tests"][n]
        assert cfg["DisabledTests"][n] == "[%s] %s" % (t["rule"], t["reason"])
    # exact names only: no glob character may widen a pattern
    assert not [n for n in cfg["DisabledTests"] if set(n) & set("*?[\\")]
    assert cfg["ErrorMap"] == {}
    # ferrule sends no tickets at 0.5-RTT (tools/bogo_profile.py HALF_RTT_TICKETS)
    assert cfg["HalfRTTTickets"] == 0


def test_committed_config_is_the_strict_one_regenerated(tmp_path):
    out = tmp_path / "config.json"
    run("config", "--profile", PROFILE, "--strict", "--out", str(out))
    with open(CONFIG, encoding="utf-8") as f:
        assert out.read_text(encoding="utf-8") == f.read()


def test_rules_table_lists_every_rule():
    table = run("rules-md").stdout
    for r in bogo_profile.RULES:
        assert "| %s |" % r["id"] in table


def test_doc_block_matches_the_profile(tmp_path):
    with open(DOC, encoding="utf-8") as f:
        doc = f.read()
    block = run("doc", "--profile", PROFILE).stdout
    assert block in doc, "docs/bogo-profile.md is stale: run tools/bogo_profile.py doc --write"
    copy = tmp_path / "doc.md"
    copy.write_text(doc, encoding="utf-8")
    run("doc", "--profile", PROFILE, "--write", str(copy))
    assert copy.read_text(encoding="utf-8") == doc
    prof = load(PROFILE)
    for n, t in prof["tests"].items():
        if t["class"] == OPT:
            assert "`%s`" % n in block
