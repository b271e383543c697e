#!/usr/bin/env python3
"""bogo_summary.py - summarise a BoGo (BoringSSL test runner) run against ferrule's profile.

usage: tools/bogo_summary.py RESULTS [--profile PATH] [--json-out PATH] [--text] [--strict]
       tools/bogo_summary.py --self-test [--fixtures DIR]

RESULTS is the file the runner writes with `-json-output`.  The profile
(default interop/bogo/profile.json) classes every test name; of it this tool
reads exactly two keys: "boringssl_commit" (a string) and "tests"
({name: {"class": ..., "area": ...}}; "rule" and "reason" are not used).
The summary is printed as JSON (schema "ferrule-bogo-summary/1", keys always
in the order below); --text prints a short table instead, --json-out PATH
also writes the JSON to PATH.  The table lists the first 20 critical
failures with the property that marks each.

Exit status: 0 done; 1 --strict found a required test failed or
unimplemented or a test unclassified, or --self-test found a difference;
2 unreadable input: not JSON, an unknown results layout, an unknown result
value, a bad profile, a missing file.

Results layouts (what the runner has written, util/testresult/testresult.go
and before it ssl/test/runner/test_output.go, 2015-2026; all of them are
Chromium's JSON test results format, version 3):

  * top level {"version": 3, "path_delimiter": ".", "tests": {...}, ...};
  * "tests" is a trie: a node holding an "actual" key is a result
    {"actual", "expected", ...}; any other node is an object of children,
    and a test's name is its keys joined with "path_delimiter" ("/" when the
    key is absent, as Chromium's format says).  Every BoGo runner wrote a
    trie of depth one (the whole name is the key); Chromium tools nest.  Both
    parse alike.  Two paths giving one name are an error.
  * a result is {"actual", "expected", "is_unexpected" (since 2015-04),
    "error" (since 2024-05, on FAIL)}; only "actual" and "expected" are
    read.  "interrupted" is never set by the runner and is not read.
  * "actual" values: "PASS"; "FAIL"; the shim's
    exit 89 ("unimplemented") is "UNIMPLEMENTED" (expected "PASS") from
    runners of 2016-07 to 2018-11 and "SKIP" since: expected "SKIP" with
    -allow-unimplemented, expected "PASS" without.  At the pinned commit
    nothing else writes "SKIP".  Any other value is an error (exit 2).
  * No runner wrote a list of results; a list, a version other than 3, or
    a "tests" that is not an object is an unknown layout (exit 2).

Counting (every count is of this run's results file, except the in-scope
"total" and "not_run", which count the profile):

  total          entries in the results file
  pass, fail     actual PASS, FAIL
  unimplemented  actual SKIP or UNIMPLEMENTED (the shim answered exit 89);
                 total = pass + fail + unimplemented
  skip           those of them the runner expected ("SKIP" expected
                 "SKIP": the run had -allow-unimplemented and the runner
                 did not count them as failures); skip <= unimplemented
  in_scope_required / in_scope_optional:
      total          tests of that class in the profile
      pass, fail, unimplemented   their results as above
      not_run        in the profile, no entry in the results (the runner
                     writes none for a test disabled by the shim config or
                     left out by -test/-skip)
  out_of_scope_count  results entries the profile classes out_of_scope
                      (they ran although out of scope; a disabled one has
                      no entry and is not counted)
  unclassified        results entries the profile does not name
  required_failures, required_unimplemented, optional_failures: sorted
      names of in-scope tests that failed / answered unimplemented
  critical_failures  sorted names of in_scope_required tests that failed or
      answered unimplemented and that CRITICAL (below) marks, by area or
      by name; critical_failure_count is their number
  areas  one entry per area named in the profile (sorted), counting this
      run's results: required_pass/fail/unimplemented, optional_pass/fail
      (an optional test answering unimplemented has no column), and
      out_of_scope (entries of out-of-scope tests that ran)

Identity: total = (in_scope_required.total - not_run)
                + (in_scope_optional.total - not_run)
                + out_of_scope_count + unclassified.

--strict exits 1 when in_scope_required fail + unimplemented > 0 or
unclassified > 0.  A required test that did not run (not_run) does not
make --strict fail: it is reported, and the shim config decides what runs.

CRITICAL, the security properties whose required tests make a critical
failure (one table, below; a test is marked when its profile area is one
of the property's areas or its name matches the property's regular
expression, searched case-sensitively in the BoGo name):

  certificate verification  area certificate-verification; names with
                            Verify (CertificateVerify signatures, peer
                            verification), BadCert
  downgrade protection      area downgrade; names with Downgrade
  replay / 0-RTT            area early-data; names with Replay, EarlyData,
                            0RTT, TicketAge
  PSK binder                names with Binder
  transcript / Finished     names with Finished, Transcript
  record protection         area record-layer; names with AEAD, Padding,
                            LargePlaintext, LargeCiphertext, EmptyRecords,
                            RecordSizeLimit, MaxSendFragment

  The patterns err towards marking: a name carrying one of these words
  usually tests that property, and the profile has already decided the
  test is required.  --text shows the first property that marks a test.

--self-test summarises each results file of the golden fixtures
(tests/bogo/fixtures/summary/, SELF_TEST_CASES below) with the fixtures'
profile.json and compares the JSON text with the expected file byte for
byte (printing a unified diff when they differ), and checks that each
malformed fixture is refused as unreadable.
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
from pathlib import Path

SCHEMA = "ferrule-bogo-summary/1"
CLASSES = ("in_scope_required", "in_scope_optional", "out_of_scope")

# property, profile areas, name pattern (re.search on the test name)
CRITICAL = (
    ("certificate verification", ("certificate-verification",), r"Verify|BadCert"),
    ("downgrade protection", ("downgrade",), r"Downgrade"),
    ("replay / 0-RTT", ("early-data",), r"Replay|EarlyData|0RTT|TicketAge"),
    ("PSK binder", (), r"Binder"),
    ("transcript / Finished", (), r"Finished|Transcript"),
    ("record protection", ("record-layer",),
     r"AEAD|Padding|LargePlaintext|LargeCiphertext|EmptyRecords|RecordSizeLimit|MaxSendFragment"),
)
_CRITICAL_RE = tuple((prop, frozenset(areas), re.compile(pat)) for prop, areas, pat in CRITICAL)

# actual value -> outcome
OUTCOMES = {"PASS": "pass", "FAIL": "fail", "SKIP": "unimplemented", "UNIMPLEMENTED": "unimplemented"}

REPO = Path(__file__).resolve().parent.parent
DEFAULT_PROFILE = REPO / "interop" / "bogo" / "profile.json"
FIXTURES = REPO / "tests" / "bogo" / "fixtures" / "summary"
# (results, expected summary) against FIXTURES/profile.json
SELF_TEST_CASES = (
    ("results-current.json", "expected-current.json"),
    ("results-trie.json", "expected-trie.json"),
    ("results-2016.json", "expected-2016.json"),
)
# --text lists at most this many critical failures by name
TEXT_LIST_MAX = 20
# results files that must be refused (exit 2)
SELF_TEST_BAD = ("bad-list.json", "bad-version.json", "bad-actual.json")


class InputError(Exception):
    """Unreadable results or profile (exit status 2)."""


def _load_json(path: Path, what: str):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except OSError as e:
        raise InputError(f"{what} {path}: {e.strerror or e}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise InputError(f"{what} {path}: not JSON ({e})") from None


def parse_results(doc, where: str = "results") -> dict[str, tuple[str, str]]:
    """Return {test name: (actual, expected)} from a runner's JSON output."""
    if not isinstance(doc, dict):
        kind = "a list" if isinstance(doc, list) else type(doc).__name__
        raise InputError(f"{where}: unknown layout: top level is {kind}, expected an object "
                         "with \"version\": 3 and \"tests\" (Chromium JSON test results)")
    if doc.get("version") != 3:
        raise InputError(f"{where}: unknown layout: \"version\" is {doc.get('version')!r}, expected 3")
    tests = doc.get("tests")
    if not isinstance(tests, dict):
        raise InputError(f"{where}: unknown layout: \"tests\" is not an object")
    delim = doc.get("path_delimiter", "/")
    if not isinstance(delim, str) or not delim:
        raise InputError(f"{where}: unknown layout: \"path_delimiter\" is {delim!r}")

    out: dict[str, tuple[str, str]] = {}
    stack = [((key,), node) for key, node in tests.items()]
    while stack:
        path, node = stack.pop()
        name = delim.join(path)
        if not isinstance(node, dict):
            raise InputError(f"{where}: unknown layout: {name!r} is neither a result nor a node")
        if "actual" in node:
            actual, expected = node.get("actual"), node.get("expected")
            if not isinstance(actual, str) or not isinstance(expected, str):
                raise InputError(f"{where}: unknown layout: {name!r}: \"actual\" and "
                                 "\"expected\" must be strings")
            if actual not in OUTCOMES:
                raise InputError(f"{where}: {name!r}: unknown result {actual!r} "
                                 f"(known: {', '.join(OUTCOMES)})")
            if name in out:
                raise InputError(f"{where}: test {name!r} appears twice")
            out[name] = (actual, expected)
        elif not node:
            raise InputError(f"{where}: unknown layout: {name!r} is an empty node")
        else:
            stack.extend((path + (key,), child) for key, child in node.items())
    return out


def parse_profile(doc, where: str = "profile") -> tuple[str, dict[str, tuple[str, str]]]:
    """Return (boringssl_commit, {name: (class, area)})."""
    if not isinstance(doc, dict):
        raise InputError(f"{where}: not a JSON object")
    commit = doc.get("boringssl_commit")
    if not isinstance(commit, str):
        raise InputError(f"{where}: \"boringssl_commit\" missing or not a string")
    tests = doc.get("tests")
    if not isinstance(tests, dict):
        raise InputError(f"{where}: \"tests\" missing or not an object")
    out = {}
    for name, entry in tests.items():
        if not isinstance(entry, dict):
            raise InputError(f"{where}: test {name!r} is not an object")
        cls, area = entry.get("class"), entry.get("area")
        if cls not in CLASSES:
            raise InputError(f"{where}: test {name!r}: class {cls!r} is not one of {', '.join(CLASSES)}")
        if not isinstance(area, str) or not area:
            raise InputError(f"{where}: test {name!r}: \"area\" missing or not a string")
        out[name] = (cls, area)
    return commit, out


def critical_property(name: str, area: str) -> str | None:
    """The first CRITICAL property marking this test, or None."""
    for prop, areas, pattern in _CRITICAL_RE:
        if area in areas or pattern.search(name):
            return prop
    return None


def summarise(results: dict[str, tuple[str, str]], commit: str,
              profile: dict[str, tuple[str, str]], profile_name: str) -> dict:
    top = {"pass": 0, "fail": 0, "skip": 0, "unimplemented": 0}
    for actual, expected in results.values():
        top[OUTCOMES[actual]] += 1
        if actual == "SKIP" and expected == "SKIP":
            top["skip"] += 1

    per_class = {c: {"total": 0, "pass": 0, "fail": 0, "unimplemented": 0, "not_run": 0}
                 for c in CLASSES[:2]}
    lists = {("in_scope_required", "fail"): [], ("in_scope_required", "unimplemented"): [],
             ("in_scope_optional", "fail"): []}
    critical = []
    areas = {}
    for name, (cls, area) in profile.items():
        a = areas.setdefault(area, {"required_pass": 0, "required_fail": 0,
                                    "required_unimplemented": 0, "optional_pass": 0,
                                    "optional_fail": 0, "out_of_scope": 0})
        res = results.get(name)
        if cls == "out_of_scope":
            if res is not None:
                a["out_of_scope"] += 1
            continue
        stats = per_class[cls]
        stats["total"] += 1
        if res is None:
            stats["not_run"] += 1
            continue
        outcome = OUTCOMES[res[0]]
        stats[outcome] += 1
        short = "required" if cls == "in_scope_required" else "optional"
        key = f"{short}_{outcome}"
        if key in a:
            a[key] += 1
        if (cls, outcome) in lists:
            lists[(cls, outcome)].append(name)
        if cls == "in_scope_required" and outcome != "pass" and critical_property(name, area):
            critical.append(name)

    out_of_scope = sum(1 for n in results if n in profile and profile[n][0] == "out_of_scope")
    unclassified = sum(1 for n in results if n not in profile)
    return {
        "schema": SCHEMA,
        "runner_commit": commit,
        "profile": profile_name,
        "total": len(results),
        "pass": top["pass"],
        "fail": top["fail"],
        "skip": top["skip"],
        "unimplemented": top["unimplemented"],
        "in_scope_required": per_class["in_scope_required"],
        "in_scope_optional": per_class["in_scope_optional"],
        "out_of_scope_count": out_of_scope,
        "unclassified": unclassified,
        "critical_failure_count": len(critical),
        "critical_failures": sorted(critical),
        "required_failures": sorted(lists[("in_scope_required", "fail")]),
        "required_unimplemented": sorted(lists[("in_scope_required", "unimplemented")]),
        "optional_failures": sorted(lists[("in_scope_optional", "fail")]),
        "areas": {k: areas[k] for k in sorted(areas)},
    }


def summarise_files(results_path: Path, profile_path: Path) -> dict:
    results = parse_results(_load_json(results_path, "results"), str(results_path))
    commit, profile = parse_profile(_load_json(profile_path, "profile"), str(profile_path))
    return summarise(results, commit, profile, profile_path.name)


def to_json(summary: dict) -> str:
    return json.dumps(summary, indent=2, ensure_ascii=False) + "\n"


def to_text(summary: dict, profile: dict[str, tuple[str, str]] | None = None) -> str:
    s = summary
    lines = [
        f"BoGo summary (runner {s['runner_commit'][:12]}, profile {s['profile']})",
        f"  results: {s['total']} total, {s['pass']} pass, {s['fail']} fail, "
        f"{s['unimplemented']} unimplemented ({s['skip']} of them allowed skips)",
        f"  {'class':<19}{'total':>7}{'pass':>7}{'fail':>7}{'unimpl':>8}{'not run':>9}",
    ]
    for cls in CLASSES[:2]:
        c = s[cls]
        lines.append(f"  {cls:<19}{c['total']:>7}{c['pass']:>7}{c['fail']:>7}"
                     f"{c['unimplemented']:>8}{c['not_run']:>9}")
    lines.append(f"  out of scope (ran): {s['out_of_scope_count']}   unclassified: {s['unclassified']}")
    lines.append(f"  critical failures: {s['critical_failure_count']}")
    for name in s["critical_failures"][:TEXT_LIST_MAX]:
        prop = critical_property(name, profile[name][1]) if profile else None
        lines.append(f"    {name}" + (f"  [{prop}]" if prop else ""))
    if len(s["critical_failures"]) > TEXT_LIST_MAX:
        lines.append(f"    ... and {len(s['critical_failures']) - TEXT_LIST_MAX} more (all in the JSON)")
    for key, label in (("required_failures", "required failures"),
                       ("required_unimplemented", "required unimplemented")):
        lines.append(f"  {label}: {len(s[key])}")
    return "\n".join(lines) + "\n"


def strict_problems(summary: dict) -> list[str]:
    req = summary["in_scope_required"]
    problems = []
    if req["fail"] or req["unimplemented"]:
        problems.append(f"{req['fail']} required tests failed, {req['unimplemented']} unimplemented")
    if summary["unclassified"]:
        problems.append(f"{summary['unclassified']} tests are not in the profile")
    return problems


def self_test(fixtures: Path) -> int:
    failed = 0
    profile = fixtures / "profile.json"
    for results_name, expected_name in SELF_TEST_CASES:
        try:
            got = to_json(summarise_files(fixtures / results_name, profile))
            want = (fixtures / expected_name).read_text(encoding="utf-8")
        except (InputError, OSError) as e:
            print(f"FAIL {results_name}: {e}")
            failed += 1
            continue
        if got == want:
            print(f"ok   {results_name} == {expected_name}")
        else:
            failed += 1
            print(f"FAIL {results_name}: summary differs from {expected_name}:")
            sys.stdout.writelines(difflib.unified_diff(
                want.splitlines(True), got.splitlines(True),
                fromfile=expected_name, tofile=f"summary of {results_name}"))
    for bad in SELF_TEST_BAD:
        path = fixtures / bad
        if not path.is_file():
            print(f"FAIL {bad}: missing")
            failed += 1
            continue
        try:
            summarise_files(path, profile)
        except InputError as e:
            print(f"ok   {bad} refused: {e}")
        else:
            print(f"FAIL {bad}: was accepted")
            failed += 1
    total = len(SELF_TEST_CASES) + len(SELF_TEST_BAD)
    print(f"self-test: {total - failed}/{total} ok")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results", nargs="?", type=Path, help="the runner's -json-output file")
    ap.add_argument("--profile", type=Path, default=DEFAULT_PROFILE,
                    help="profile JSON (default interop/bogo/profile.json)")
    ap.add_argument("--json-out", type=Path, help="also write the summary JSON here")
    ap.add_argument("--text", action="store_true", help="print a short table instead of JSON")
    ap.add_argument("--strict", action="store_true",
                    help="exit 1 if a required test failed or is unimplemented, or a test is unclassified")
    ap.add_argument("--self-test", action="store_true", help="check against the golden fixtures")
    ap.add_argument("--fixtures", type=Path, default=FIXTURES, help="fixture directory for --self-test")
    args = ap.parse_args(argv)

    if args.self_test:
        if args.results is not None:
            ap.error("--self-test takes no RESULTS")
        return self_test(args.fixtures)
    if args.results is None:
        ap.error("RESULTS is required (or --self-test)")
    try:
        results = parse_results(_load_json(args.results, "results"), str(args.results))
        commit, profile = parse_profile(_load_json(args.profile, "profile"), str(args.profile))
    except InputError as e:
        print(f"bogo_summary: {e}", file=sys.stderr)
        return 2
    summary = summarise(results, commit, profile, args.profile.name)
    text = to_json(summary)
    if args.json_out:
        try:
            args.json_out.write_text(text, encoding="utf-8")
        except OSError as e:
            print(f"bogo_summary: {args.json_out}: {e.strerror or e}", file=sys.stderr)
            return 2
    sys.stdout.write(to_text(summary, profile) if args.text else text)
    if args.strict:
        problems = strict_problems(summary)
        if problems:
            print("bogo_summary: --strict: " + "; ".join(problems), file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
