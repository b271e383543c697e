"""tools/bogo_summary.py: golden self-test, each results layout, --strict, refused inputs, the profile.

The fixtures (tests/bogo/fixtures/summary/) are hand-written: 15 profile
entries and 12-14 results per run; the numbers asserted here were worked out
from them by hand (see the comments), not read back from the tool.
"""

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TOOL = REPO / "tools" / "bogo_summary.py"
FIX = REPO / "tests" / "bogo" / "fixtures" / "summary"
PROFILE = FIX / "profile.json"

spec = importlib.util.spec_from_file_location("bogo_summary", TOOL)
bogo_summary = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bogo_summary)

KEYS = ["schema", "runner_commit", "profile", "total", "pass", "fail", "skip", "unimplemented",
        "in_scope_required", "in_scope_optional", "out_of_scope_count", "unclassified",
        "critical_failure_count", "critical_failures", "required_failures",
        "required_unimplemented", "optional_failures", "areas"]
AREA_KEYS = ["required_pass", "required_fail", "required_unimplemented", "optional_pass",
             "optional_fail", "out_of_scope"]


def run(*args, check_rc=None):
    p = subprocess.run([sys.executable, str(TOOL), *map(str, args)],
                       capture_output=True, text=True, timeout=60)
    if check_rc is not None:
        assert p.returncode == check_rc, (p.returncode, p.stdout, p.stderr)
    return p


def summary_of(results, profile=PROFILE):
    p = run(results, "--profile", profile, check_rc=0)
    assert p.stderr == ""
    return json.loads(p.stdout)


def write(path, obj):
    path.write_text(json.dumps(obj, indent=2) + "\n")
    return path


def load(name):
    return json.loads((FIX / name).read_text())


def check_identity(s):
    req, opt = s["in_scope_required"], s["in_scope_optional"]
    assert s["total"] == s["pass"] + s["fail"] + s["unimplemented"]
    assert s["skip"] <= s["unimplemented"]
    assert s["total"] == ((req["total"] - req["not_run"]) + (opt["total"] - opt["not_run"])
                          + s["out_of_scope_count"] + s["unclassified"])
    for c in (req, opt):
        assert c["total"] == c["pass"] + c["fail"] + c["unimplemented"] + c["not_run"]
    assert s["critical_failure_count"] == len(s["critical_failures"])


# --- the self-test ---------------------------------------------------------

def test_self_test_passes():
    p = run("--self-test", check_rc=0)
    assert "self-test: 6/6 ok" in p.stdout
    assert p.stdout.count("\nok   ") + p.stdout.startswith("ok   ") == 6


def test_self_test_fails_with_a_diff(tmp_path):
    fx = tmp_path / "fx"
    shutil.copytree(FIX, fx)
    exp = json.loads((fx / "expected-current.json").read_text())
    exp["fail"] = 6  # the run has 5
    write(fx / "expected-current.json", exp)
    p = run("--self-test", "--fixtures", fx, check_rc=1)
    assert "FAIL results-current.json" in p.stdout
    assert '\n-  "fail": 6,\n+  "fail": 5,\n' in p.stdout
    assert "self-test: 5/6 ok" in p.stdout


def test_self_test_fails_when_a_bad_fixture_is_accepted(tmp_path):
    fx = tmp_path / "fx"
    shutil.copytree(FIX, fx)
    shutil.copy(fx / "results-2016.json", fx / "bad-version.json")
    p = run("--self-test", "--fixtures", fx, check_rc=1)
    assert "FAIL bad-version.json: was accepted" in p.stdout


def test_self_test_compares_bytes(tmp_path):
    fx = tmp_path / "fx"
    shutil.copytree(FIX, fx)
    # same JSON value, other formatting: the self-test compares exactly
    exp = json.loads((fx / "expected-2016.json").read_text())
    (fx / "expected-2016.json").write_text(json.dumps(exp) + "\n")
    run("--self-test", "--fixtures", fx, check_rc=1)


# --- each layout ------------------------------------------------------------

def test_current_flat_layout_with_allow_unimplemented():
    s = summary_of(FIX / "results-current.json")
    assert list(s) == KEYS
    assert s["schema"] == "ferrule-bogo-summary/1"
    assert s["runner_commit"] == "a0689af29e8e460f1e5380e0fb74cef1b342e810"
    assert s["profile"] == "profile.json"
    # 14 entries: 5 PASS, 5 FAIL, 4 SKIP expected SKIP
    assert (s["total"], s["pass"], s["fail"], s["skip"], s["unimplemented"]) == (14, 5, 5, 4, 4)
    # 10 required: 3 pass, 4 fail, 2 SKIP, ALPNClient-TLS-TLS13 has no entry
    assert s["in_scope_required"] == {"total": 10, "pass": 3, "fail": 4, "unimplemented": 2,
                                      "not_run": 1}
    # 3 optional: Peek-Basic pass, PartialClientFinished... fail, Peek-KeyUpdate absent
    assert s["in_scope_optional"] == {"total": 3, "pass": 1, "fail": 1, "unimplemented": 0,
                                      "not_run": 1}
    assert s["out_of_scope_count"] == 1      # DTLS-Replay ran; Basic-Client-DTLS-Sync did not
    assert s["unclassified"] == 2            # Renegotiate-Client, TLS13-Client-ClientAuth-ECDSA
    # Basic-Server-TLS-Sync failed but marks no property; KeyUpdate-ToClient neither
    assert s["critical_failures"] == [
        "CertificateVerificationFail-Client-TLS13-TLS-Sync",  # by area only
        "Downgrade-TLS12-Client-TLS",                         # area and name
        "LargeCiphertext",                                    # by area only
        "PSK-Server-InvalidPSKBinder-FirstBinder-TLS",        # by name, unimplemented
    ]
    assert s["critical_failure_count"] == 4
    assert s["required_failures"] == ["Basic-Server-TLS-Sync",
                                      "CertificateVerificationFail-Client-TLS13-TLS-Sync",
                                      "Downgrade-TLS12-Client-TLS", "LargeCiphertext"]
    assert s["required_unimplemented"] == ["KeyUpdate-ToClient",
                                           "PSK-Server-InvalidPSKBinder-FirstBinder-TLS"]
    # a Finished name, but optional: not critical
    assert s["optional_failures"] == ["PartialClientFinishedWithClientHello"]
    assert list(s["areas"]) == sorted(s["areas"])
    assert len(s["areas"]) == 9
    assert all(list(a) == AREA_KEYS for a in s["areas"].values())
    assert s["areas"]["basic"] == dict(zip(AREA_KEYS, [1, 1, 0, 1, 0, 0]))
    assert s["areas"]["record-layer"] == dict(zip(AREA_KEYS, [1, 1, 0, 0, 0, 0]))
    assert s["areas"]["dtls"] == dict(zip(AREA_KEYS, [0, 0, 0, 0, 0, 1]))
    assert s["areas"]["alpn"] == dict(zip(AREA_KEYS, [0] * 6))
    check_identity(s)


def test_nested_trie_layout():
    doc = load("results-trie.json")
    assert doc["path_delimiter"] == "-" and "Basic" in doc["tests"]   # really nested
    s = summary_of(FIX / "results-trie.json")
    # 12 entries, run without -allow-unimplemented: SKIP expected PASS, so skip == 0
    assert (s["total"], s["pass"], s["fail"], s["skip"], s["unimplemented"]) == (12, 7, 2, 0, 3)
    assert s["in_scope_required"] == {"total": 10, "pass": 6, "fail": 2, "unimplemented": 2,
                                      "not_run": 0}
    assert s["in_scope_optional"] == {"total": 3, "pass": 1, "fail": 0, "unimplemented": 1,
                                      "not_run": 1}
    assert (s["out_of_scope_count"], s["unclassified"]) == (0, 0)
    assert s["critical_failures"] == ["BadFinished-Client-TLS13", "TLS13-RecordPadding-TLS"]
    assert s["required_failures"] == ["BadFinished-Client-TLS13", "Basic-Server-TLS-Sync"]
    assert s["optional_failures"] == []
    assert s["areas"]["record-layer"] == dict(zip(AREA_KEYS, [1, 0, 1, 0, 0, 0]))
    check_identity(s)


def flatten(tests, delim, prefix=()):
    out = {}
    for k, v in tests.items():
        if "actual" in v:
            out[delim.join(prefix + (k,))] = v
        else:
            out.update(flatten(v, delim, prefix + (k,)))
    return out


def nest(tests, delim):
    out = {}
    for name, r in tests.items():
        node = out
        parts = name.split(delim)
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = r
    return out


def test_trie_and_flat_give_one_summary(tmp_path):
    trie = load("results-trie.json")
    flat = dict(trie, path_delimiter=".", tests=flatten(trie["tests"], "-"))
    assert len(flat["tests"]) == 12
    assert summary_of(write(tmp_path / "flat.json", flat)) == summary_of(FIX / "results-trie.json")

    cur = load("results-current.json")
    nested = dict(cur, path_delimiter="-", tests=nest(cur["tests"], "-"))
    assert summary_of(write(tmp_path / "n.json", nested)) == summary_of(FIX / "results-current.json")
    # without "path_delimiter" Chromium's default "/" joins the keys
    slash = {k: v for k, v in nested.items() if k != "path_delimiter"}
    names = bogo_summary.parse_results(slash)
    assert len(names) == 14 and "Basic/Client/TLS/Sync" in names and "LargeCiphertext" in names
    s = summary_of(write(tmp_path / "s.json", slash))
    # only the two names without "-" (LargeCiphertext, PartialClientFinishedWithClientHello) match
    assert s["total"] == 14 and s["unclassified"] == 12


def test_2016_layout_unimplemented():
    doc = load("results-2016.json")
    assert "error" not in json.dumps(doc)
    assert sum(r["actual"] == "UNIMPLEMENTED" for r in doc["tests"].values()) == 2
    s = summary_of(FIX / "results-2016.json")
    assert (s["total"], s["pass"], s["fail"], s["skip"], s["unimplemented"]) == (14, 11, 1, 0, 2)
    assert s["in_scope_required"] == {"total": 10, "pass": 10, "fail": 0, "unimplemented": 0,
                                      "not_run": 0}
    assert s["in_scope_optional"] == {"total": 3, "pass": 1, "fail": 1, "unimplemented": 1,
                                      "not_run": 0}
    assert (s["out_of_scope_count"], s["unclassified"], s["critical_failure_count"]) == (1, 0, 0)
    check_identity(s)


def test_2015_layout_without_is_unexpected(tmp_path):
    doc = load("results-2016.json")
    for r in doc["tests"].values():
        del r["is_unexpected"]
    doc["tests"] = {n: r for n, r in doc["tests"].items() if r["actual"] != "UNIMPLEMENTED"}
    s = summary_of(write(tmp_path / "r.json", doc))
    assert (s["total"], s["pass"], s["fail"], s["unimplemented"]) == (12, 11, 1, 0)
    assert s["in_scope_optional"]["not_run"] == 1 and s["out_of_scope_count"] == 0


def test_skip_counts_only_allowed_skips(tmp_path):
    cur = load("results-current.json")
    cur["tests"]["KeyUpdate-ToClient"] = {"actual": "SKIP", "expected": "PASS", "is_unexpected": True}
    s = summary_of(write(tmp_path / "r.json", cur))
    assert (s["skip"], s["unimplemented"]) == (3, 4)
    assert s["in_scope_required"]["unimplemented"] == 2


# --- --strict, --json-out, --text --------------------------------------------

@pytest.mark.parametrize("name, rc", [("results-current.json", 1), ("results-trie.json", 1),
                                      ("results-2016.json", 0)])
def test_strict_exit_codes(name, rc):
    p = run(FIX / name, "--profile", PROFILE, "--strict", check_rc=rc)
    assert json.loads(p.stdout)["schema"] == "ferrule-bogo-summary/1"
    if rc:
        assert "--strict" in p.stderr
    else:
        assert p.stderr == ""
    run(FIX / name, "--profile", PROFILE, check_rc=0)   # without --strict: 0


def test_strict_unclassified_alone_fails(tmp_path):
    doc = load("results-2016.json")
    doc["tests"]["Not-In-The-Profile"] = {"actual": "PASS", "expected": "PASS", "is_unexpected": False}
    r = write(tmp_path / "r.json", doc)
    p = run(r, "--profile", PROFILE, "--strict", check_rc=1)
    assert "1 tests are not in the profile" in p.stderr
    assert json.loads(p.stdout)["unclassified"] == 1


def test_strict_required_unimplemented_alone_fails(tmp_path):
    doc = load("results-2016.json")
    doc["tests"]["KeyUpdate-ToClient"] = {"actual": "UNIMPLEMENTED", "expected": "PASS",
                                          "is_unexpected": True}
    p = run(write(tmp_path / "r.json", doc), "--profile", PROFILE, "--strict", check_rc=1)
    assert "0 required tests failed, 1 unimplemented" in p.stderr


def test_strict_ignores_not_run_required(tmp_path):
    doc = load("results-2016.json")
    del doc["tests"]["ALPNClient-TLS-TLS13"]
    p = run(write(tmp_path / "r.json", doc), "--profile", PROFILE, "--strict", check_rc=0)
    assert json.loads(p.stdout)["in_scope_required"]["not_run"] == 1


def test_json_out_and_text(tmp_path):
    out = tmp_path / "summary.json"
    p = run(FIX / "results-current.json", "--profile", PROFILE, "--json-out", out, check_rc=0)
    assert out.read_text() == p.stdout == (FIX / "expected-current.json").read_text()
    p = run(FIX / "results-current.json", "--profile", PROFILE, "--text", check_rc=0)
    lines = p.stdout.splitlines()
    assert lines[1].split(":")[1].split(",")[0].strip() == "14 total"
    assert "  in_scope_required       10      3      4       2        1" in lines
    assert "    LargeCiphertext  [record protection]" in lines
    assert "  critical failures: 4" in lines


def test_text_caps_the_critical_list(tmp_path):
    names = [f"Downgrade-{i:02d}" for i in range(25)]
    prof = {"boringssl_commit": "0" * 40,
            "tests": {n: {"class": "in_scope_required", "area": "downgrade"} for n in names}}
    res = {"version": 3, "tests": {n: {"actual": "FAIL", "expected": "PASS"} for n in names}}
    p = run(write(tmp_path / "r.json", res), "--profile", write(tmp_path / "p.json", prof),
            "--text", check_rc=0)
    lines = p.stdout.splitlines()
    assert "  critical failures: 25" in lines
    assert "    Downgrade-19  [downgrade protection]" in lines
    assert "    Downgrade-20  [downgrade protection]" not in lines
    assert "    ... and 5 more (all in the JSON)" in lines
    p = run(tmp_path / "r.json", "--profile", tmp_path / "p.json", check_rc=0)
    assert json.loads(p.stdout)["critical_failures"] == names


# --- refused inputs -----------------------------------------------------------

BAD = {
    "list": [{"name": "Basic-Client-TLS-Sync", "actual": "PASS"}],
    "no version": {"tests": {"Basic-Client-TLS-Sync": {"actual": "PASS", "expected": "PASS"}}},
    "version 4": {"version": 4, "tests": {"Basic-Client-TLS-Sync": {"actual": "PASS", "expected": "PASS"}}},
    "tests a list": {"version": 3, "tests": [{"Basic-Client-TLS-Sync": {"actual": "PASS"}}]},
    "leaf not object": {"version": 3, "tests": {"Basic-Client-TLS-Sync": "PASS"}},
    "actual not string": {"version": 3, "tests": {"A": {"actual": ["PASS"], "expected": "PASS"}}},
    "no expected": {"version": 3, "tests": {"A": {"actual": "PASS"}}},
    "unknown result": {"version": 3, "tests": {"A": {"actual": "CRASH", "expected": "PASS"}}},
    "retry list": {"version": 3, "tests": {"A": {"actual": "FAIL PASS", "expected": "PASS"}}},
    "empty node": {"version": 3, "path_delimiter": "-", "tests": {"A": {}}},
    "empty delimiter": {"version": 3, "path_delimiter": "", "tests": {}},
    "duplicate": {"version": 3, "path_delimiter": "-", "tests": {
        "A-B": {"actual": "PASS", "expected": "PASS"},
        "A": {"B": {"actual": "FAIL", "expected": "PASS"}}}},
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_unknown_layout_exits_2(tmp_path, case):
    p = run(write(tmp_path / "r.json", BAD[case]), "--profile", PROFILE, check_rc=2)
    assert p.stdout == ""
    assert p.stderr.startswith("bogo_summary: ") and str(tmp_path / "r.json") in p.stderr


def test_layout_error_messages(tmp_path):
    msgs = {}
    for case in ("list", "version 4", "unknown result", "duplicate"):
        msgs[case] = run(write(tmp_path / "r.json", BAD[case]), "--profile", PROFILE,
                         check_rc=2).stderr
    assert "unknown layout: top level is a list" in msgs["list"]
    assert '"version" is 4, expected 3' in msgs["version 4"]
    assert "unknown result 'CRASH'" in msgs["unknown result"]
    assert "'A-B' appears twice" in msgs["duplicate"]


def test_not_json_and_missing_files(tmp_path):
    (tmp_path / "r.json").write_text('{"version": 3, "tests": {')
    assert "not JSON" in run(tmp_path / "r.json", "--profile", PROFILE, check_rc=2).stderr
    run(tmp_path / "absent.json", "--profile", PROFILE, check_rc=2)
    p = run(FIX / "results-current.json", "--profile", tmp_path / "absent.json", check_rc=2)
    assert "absent.json" in p.stderr and p.stdout == ""


# --- the profile ----------------------------------------------------------------

def test_missing_profile_entry_is_unclassified(tmp_path):
    prof = load("profile.json")
    del prof["tests"]["KeyUpdate-ToClient"]          # ran, SKIP, in results-current
    del prof["tests"]["ALPNClient-TLS-TLS13"]        # did not run
    s = summary_of(FIX / "results-current.json", write(tmp_path / "p.json", prof))
    assert s["profile"] == "p.json"
    assert s["unclassified"] == 3
    assert s["in_scope_required"] == {"total": 8, "pass": 3, "fail": 4, "unimplemented": 1,
                                      "not_run": 0}
    assert s["required_unimplemented"] == ["PSK-Server-InvalidPSKBinder-FirstBinder-TLS"]
    assert "alpn" not in s["areas"] and "key-update" in s["areas"]   # Peek-KeyUpdate keeps it
    check_identity(s)


def test_profile_reads_only_class_area_and_commit(tmp_path):
    prof = load("profile.json")
    prof = {"boringssl_commit": prof["boringssl_commit"],
            "tests": {n: {"class": e["class"], "area": e["area"]} for n, e in prof["tests"].items()}}
    s = summary_of(FIX / "results-current.json", write(tmp_path / "profile.json", prof))
    assert s == json.loads((FIX / "expected-current.json").read_text())


@pytest.mark.parametrize("change", ["class", "area", "commit", "tests"])
def test_bad_profile_exits_2(tmp_path, change):
    prof = load("profile.json")
    if change == "class":
        prof["tests"]["Peek-Basic"]["class"] = "optional"
    elif change == "area":
        del prof["tests"]["Peek-Basic"]["area"]
    elif change == "commit":
        del prof["boringssl_commit"]
    else:
        prof["tests"] = list(prof["tests"])
    p = run(FIX / "results-current.json", "--profile", write(tmp_path / "p.json", prof), check_rc=2)
    assert p.stderr.startswith("bogo_summary: ") and p.stdout == ""


@pytest.mark.parametrize("name, prop", [
    ("Client-TLS13-NoVerify-X", "certificate verification"),
    ("BadCert-X", "certificate verification"),
    ("Downgrade-TLS12-Server-TLS", "downgrade protection"),
    ("X-Replay-Y", "replay / 0-RTT"), ("EarlyData-X", "replay / 0-RTT"),
    ("X-0RTT", "replay / 0-RTT"), ("TicketAgeSkew-X", "replay / 0-RTT"),
    ("PSK-Server-NoPSKBinder-FirstBinder-TLS", "PSK binder"),
    ("PartialClientFinishedWithClientHello", "transcript / Finished"),
    ("X-Transcript", "transcript / Finished"),
    ("X-AEAD-Y", "record protection"), ("TLS13-OnlyPadding-TLS", "record protection"),
    ("LargePlaintext", "record protection"), ("LargeCiphertext", "record protection"),
    ("TLS13-EmptyRecords-TLS", "record protection"), ("RecordSizeLimit-X", "record protection"),
    ("MaxSendFragment-TLS13-TooLarge", "record protection"),
])
def test_critical_name_patterns(name, prop):
    assert bogo_summary.critical_property(name, "basic") == prop
    assert bogo_summary.critical_property(name.lower(), "basic") is None   # case-sensitive


@pytest.mark.parametrize("area, prop", [
    ("certificate-verification", "certificate verification"), ("downgrade", "downgrade protection"),
    ("early-data", "replay / 0-RTT"), ("record-layer", "record protection")])
def test_critical_areas(area, prop):
    assert bogo_summary.critical_property("Plain-Name-TLS13", area) == prop
    assert bogo_summary.critical_property("Plain-Name-TLS13", area + "s") is None


def test_critical_table():
    cp = bogo_summary.critical_property
    assert cp("Client-Verify-ECDSA_P256_SHA256-TLS13", "signature-algorithms") == "certificate verification"
    assert cp("Anything", "certificate-verification") == "certificate verification"
    assert cp("EarlyDataVersionDowngrade-Client-TLS13", "early-data") == "downgrade protection"
    assert cp("TLS13-Something", "early-data") == "replay / 0-RTT"
    assert cp("Resume-Server-BinderWrongLength", "resumption") == "PSK binder"
    assert cp("BadFinished-Server-TLS13", "state-machine") == "transcript / Finished"
    assert cp("LargePlaintext-TLS13-Padded-8192-8192", "limits") == "record protection"
    assert cp("Basic-Client-TLS-Sync", "basic") is None
    assert cp("KeyUpdate-ToClient", "key-update") is None
    assert cp("ALPNClient-TLS-TLS13", "alpn") is None


def test_committed_profile_parses():
    """The real profile (interop/bogo/profile.json) in the keys this tool reads."""
    path = REPO / "interop" / "bogo" / "profile.json"
    assert path.is_file(), f"{path} is missing (tools/bogo_profile.py build)"
    commit, prof = bogo_summary.parse_profile(json.loads(path.read_text()), str(path))
    assert len(commit) == 40
    results = {n: ("PASS", "PASS") for n, (c, _) in prof.items() if c != "out_of_scope"}
    s = bogo_summary.summarise(results, commit, prof, path.name)
    req = s["in_scope_required"]
    assert req["total"] == req["pass"] > 0 and req["not_run"] == 0
    assert s["unclassified"] == 0 and s["critical_failure_count"] == 0
    check_identity(s)
