#!/usr/bin/env python3
"""limbo.py - run the x509-limbo suite through ferrule_verify_chain.

usage: tools/limbo.py [--lib PATH] [--check | --update] [--expected FILE]
                      [--verbose] [SUITE]

SUITE defaults to ../shared/limbo/limbo.json relative to the repository
root; the library to $FERRULE_LIB, else build/libferrule.so.  Each case is
validated with the public ABI only (ctypes): a client config holding the
case's trusted certificates, the peer certificate followed by the untrusted
intermediates (PEM decoded here), and ferrule_verify_options built from
validation_time, expected_peer_name, extended_key_usage / validation_kind,
max_chain_depth and crls; cases of the webpki namespace also get
FERRULE_VERIFY_CN_IN_SAN (the CA/B Forum CN rule, opt-in in ferrule).

Verdicts: SUCCESS, FAILURE, or SKIPPED with a reason.  A case passes when
the verdict equals expected_result.  "Wrongly accepted" counts the cases
that must be rejected but were accepted (they are also failures).  The last
line is exactly:

    limbo: P passed, F failed, S skipped, A wrongly accepted

--check compares with the committed expectations (tests/limbo/expected.json)
and exits non-zero when a case expected to pass no longer passes, when any
case is wrongly accepted, or (with CI=true) when the suite file is missing.
--update rewrites the expectations from this run.
"""

import argparse
import base64
import ctypes
import datetime
import ipaddress
import json
import os
import re
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_SUITE = os.path.join(REPO, "..", "shared", "limbo", "limbo.json")
DEFAULT_LIB = os.path.join(REPO, "build", "libferrule.so")
DEFAULT_EXPECTED = os.path.join(REPO, "tests", "limbo", "expected.json")

FERRULE_ROLE_CLIENT = 1
FERRULE_PURPOSE_SERVER_AUTH = 1
FERRULE_PURPOSE_CLIENT_AUTH = 2
FERRULE_VERIFY_USE_TIME = 1
FERRULE_VERIFY_CN_IN_SAN = 2
FERRULE_OK = 0
FERRULE_CERTIFICATE = 8
MAX_DEPTH = 32  # FR_VERIFY_MAX_DEPTH: ferrule's hard cap on max_depth


class VerifyOptions(ctypes.Structure):
    # ferrule_verify_options (abi/include/ferrule.h); the CRL fields were
    # appended in issue 3, so an older library reports a smaller size.
    _fields_ = [
        ("struct_size", ctypes.c_uint32),
        ("purpose", ctypes.c_uint32),
        ("flags", ctypes.c_uint32),
        ("max_depth", ctypes.c_uint32),
        ("time", ctypes.c_int64),
        ("peer_name", ctypes.c_char_p),
        ("crls", ctypes.POINTER(ctypes.c_char_p)),
        ("crl_lens", ctypes.POINTER(ctypes.c_size_t)),
        ("n_crls", ctypes.c_size_t),
    ]


CRL_FIELDS_END = VerifyOptions.n_crls.offset + ctypes.sizeof(ctypes.c_size_t)


class Ferrule:
    def __init__(self, path):
        lib = ctypes.CDLL(path)
        lib.ferrule_config_new.argtypes = [
            ctypes.POINTER(ctypes.c_void_p), ctypes.c_uint32, ctypes.c_void_p]
        lib.ferrule_config_new.restype = ctypes.c_int
        lib.ferrule_config_free.argtypes = [ctypes.c_void_p]
        lib.ferrule_config_free.restype = None
        lib.ferrule_config_add_trust_pem.argtypes = [
            ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t]
        lib.ferrule_config_add_trust_pem.restype = ctypes.c_int
        lib.ferrule_config_reason.argtypes = [ctypes.c_void_p]
        lib.ferrule_config_reason.restype = ctypes.c_uint32
        lib.ferrule_sizeof_verify_options.argtypes = []
        lib.ferrule_sizeof_verify_options.restype = ctypes.c_size_t
        lib.ferrule_verify_chain.argtypes = [
            ctypes.c_void_p, ctypes.POINTER(ctypes.c_char_p),
            ctypes.POINTER(ctypes.c_size_t), ctypes.c_size_t,
            ctypes.POINTER(VerifyOptions), ctypes.POINTER(ctypes.c_void_p)]
        lib.ferrule_verify_chain.restype = ctypes.c_int
        lib.ferrule_verify_result_reason.argtypes = [ctypes.c_void_p]
        lib.ferrule_verify_result_reason.restype = ctypes.c_uint32
        lib.ferrule_verify_result_free.argtypes = [ctypes.c_void_p]
        lib.ferrule_verify_result_free.restype = None
        lib.ferrule_reason_name.argtypes = [ctypes.c_uint32]
        lib.ferrule_reason_name.restype = ctypes.c_char_p
        self.lib = lib
        self.opts_size = min(lib.ferrule_sizeof_verify_options(),
                             ctypes.sizeof(VerifyOptions))
        self.has_crls = self.opts_size >= CRL_FIELDS_END

    def reason_name(self, reason):
        name = self.lib.ferrule_reason_name(reason)
        return name.decode() if name else str(reason)


PEM_RE = re.compile(
    r"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----", re.DOTALL)


def pem_blocks(text, kind):
    """DER bytes of every PEM block of type `kind` in `text`."""
    out = []
    for m in PEM_RE.finditer(text):
        if m.group(1) == kind:
            out.append(base64.b64decode("".join(m.group(2).split()),
                                        validate=True))
    return out


def epoch(iso):
    """ISO 8601 (limbo writes e.g. 2024-01-01T00:00:00+00:00) to Unix time."""
    t = datetime.datetime.fromisoformat(iso.replace("Z", "+00:00"))
    if t.tzinfo is None:
        t = t.replace(tzinfo=datetime.timezone.utc)
    return int(t.timestamp())


def peer_name(case):
    """The name to check: DNS or IP.  Other kinds (RFC822 for client
    certificates) are not service identities ferrule checks; such cases are
    decided by the chain alone."""
    names = []
    if case.get("expected_peer_name"):
        names.append(case["expected_peer_name"])
    names.extend(case.get("expected_peer_names") or [])
    dns_ip = [n for n in names if n["kind"] in ("DNS", "IP")]
    if len(dns_ip) > 1:
        return None, "more than one DNS/IP peer name"
    if not dns_ip:
        return b"", None
    n = dns_ip[0]
    if n["kind"] == "IP":
        # ferrule parses IP literals itself; keep limbo's text.
        ipaddress.ip_address(n["value"])
    return n["value"].encode(), None


def cid_namespace(case):
    """The first component of a case id ("webpki" of "webpki::cn::...")."""
    return case["id"].split("::", 1)[0]


def run_case(fr, case):
    """(verdict, reason-name or skip reason)."""
    if case.get("signature_algorithms"):
        return "SKIPPED", "signature_algorithms constraints not supported"
    if case.get("key_usage"):
        # limbo's key_usage lists usages the leaf must allow; ferrule
        # always requires digitalSignature of a TLS 1.3 leaf, which is the
        # only value limbo uses.
        if any(k != "digitalSignature" for k in case["key_usage"]):
            return "SKIPPED", "key_usage other than digitalSignature"
    crls = []
    for pem in case.get("crls") or []:
        crls.extend(pem_blocks(pem, "X509 CRL"))
    if crls and not fr.has_crls:
        return "SKIPPED", "CRLs not supported"

    ekus = case.get("extended_key_usage") or []
    kind = case.get("validation_kind", "SERVER")
    if not ekus:
        purpose = (FERRULE_PURPOSE_CLIENT_AUTH if kind == "CLIENT"
                   else FERRULE_PURPOSE_SERVER_AUTH)
    elif ekus == ["serverAuth"]:
        purpose = FERRULE_PURPOSE_SERVER_AUTH
    elif ekus == ["clientAuth"]:
        purpose = FERRULE_PURPOSE_CLIENT_AUTH
    else:
        return "SKIPPED", "extended_key_usage %s not supported" % ekus

    name, why = peer_name(case)
    if why:
        return "SKIPPED", why

    lib = fr.lib
    cfg = ctypes.c_void_p()
    st = lib.ferrule_config_new(ctypes.byref(cfg), FERRULE_ROLE_CLIENT, None)
    if st != FERRULE_OK:
        raise RuntimeError("ferrule_config_new failed: %d" % st)
    try:
        anchors = 0
        for pem in case.get("trusted_certs") or []:
            data = pem.encode()
            if lib.ferrule_config_add_trust_pem(cfg, data, len(data)) == FERRULE_OK:
                anchors += 1
        if anchors == 0:
            # No usable anchor: nothing can validate.
            return "FAILURE", "no usable trust anchor (%s)" % fr.reason_name(
                lib.ferrule_config_reason(cfg))

        ders = pem_blocks(case["peer_certificate"], "CERTIFICATE")
        for pem in case.get("untrusted_intermediates") or []:
            ders.extend(pem_blocks(pem, "CERTIFICATE"))
        n = len(ders)
        arr = (ctypes.c_char_p * n)(*ders)
        lens = (ctypes.c_size_t * n)(*[len(d) for d in ders])

        o = VerifyOptions()
        o.struct_size = fr.opts_size
        o.purpose = purpose
        vt = case.get("validation_time")
        if vt is not None:
            o.flags = FERRULE_VERIFY_USE_TIME
            o.time = epoch(vt)
        if cid_namespace(case) == "webpki":
            # The webpki cases expect the CA/B Forum subscriber profile,
            # whose BR 7.1.4.3 CN rule ferrule applies only on request.
            o.flags |= FERRULE_VERIFY_CN_IN_SAN
        depth = case.get("max_chain_depth")
        if depth is not None:
            # limbo counts intermediates; ferrule counts the path below the
            # anchor, leaf included.
            o.max_depth = min(depth + 1, MAX_DEPTH)
        o.peer_name = name if name else None
        if crls:
            crl_arr = (ctypes.c_char_p * len(crls))(*crls)
            crl_lens = (ctypes.c_size_t * len(crls))(*[len(c) for c in crls])
            o.crls = crl_arr
            o.crl_lens = crl_lens
            o.n_crls = len(crls)

        res = ctypes.c_void_p()
        st = lib.ferrule_verify_chain(cfg, arr, lens, n, ctypes.byref(o),
                                      ctypes.byref(res))
        if not res:
            raise RuntimeError("ferrule_verify_chain: status %d, no result" % st)
        reason = lib.ferrule_verify_result_reason(res)
        lib.ferrule_verify_result_free(res)
        if st == FERRULE_OK:
            return "SUCCESS", "OK"
        if st == FERRULE_CERTIFICATE:
            return "FAILURE", fr.reason_name(reason)
        raise RuntimeError("ferrule_verify_chain: status %d (%s)" % (
            st, fr.reason_name(reason)))
    finally:
        lib.ferrule_config_free(cfg)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("suite", nargs="?", default=DEFAULT_SUITE)
    ap.add_argument("--lib", default=os.environ.get("FERRULE_LIB", DEFAULT_LIB))
    ap.add_argument("--expected", default=DEFAULT_EXPECTED)
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true")
    mode.add_argument("--update", action="store_true")
    ap.add_argument("--verbose", "-v", action="store_true",
                    help="print every case, not only the failures")
    args = ap.parse_args()

    if not os.path.exists(args.suite):
        msg = "limbo: suite file %s not found" % args.suite
        status = 0
        if os.environ.get("CI") == "true":
            print(msg + " (CI=true: failing)")
            status = 1
        else:
            print(msg + "; skipping")
        print("limbo: 0 passed, 0 failed, 0 skipped, 0 wrongly accepted")
        return status

    with open(args.suite) as f:
        suite = json.load(f)
    fr = Ferrule(args.lib)

    results = {}
    passed = failed = skipped = wrong = 0
    for case in suite["testcases"]:
        cid = case["id"]
        verdict, why = run_case(fr, case)
        expected = case["expected_result"]
        if verdict == "SKIPPED":
            skipped += 1
            results[cid] = {"result": "skip", "reason": why}
            print("SKIP %s: %s" % (cid, why))
            continue
        if verdict == expected:
            passed += 1
            results[cid] = {"result": "pass"}
            if args.verbose:
                print("ok   %s: %s (%s)" % (cid, verdict, why))
            continue
        failed += 1
        results[cid] = {"result": "fail", "got": verdict, "reason": why}
        if expected == "FAILURE" and verdict == "SUCCESS":
            wrong += 1
            print("FAIL %s: expected FAILURE, got SUCCESS "
                  "(ACCEPTED A CHAIN THAT MUST BE REJECTED)" % cid)
        else:
            print("FAIL %s: expected %s, got %s (%s)" % (cid, expected, verdict, why))

    status = 0
    if args.update:
        os.makedirs(os.path.dirname(args.expected), exist_ok=True)
        out = {}
        for cid in sorted(results):
            r = results[cid]
            if r["result"] == "pass":
                out[cid] = "pass"
            elif r["result"] == "skip":
                out[cid] = {"result": "skip", "reason": r["reason"]}
            else:
                out[cid] = {"result": "fail", "got": r["got"], "reason": r["reason"]}
        with open(args.expected, "w") as f:
            json.dump(out, f, indent=1, sort_keys=True)
            f.write("\n")
        print("limbo: wrote %s" % os.path.relpath(args.expected))
    elif args.check:
        try:
            with open(args.expected) as f:
                exp = json.load(f)
        except OSError as e:
            print("limbo: cannot read expectations: %s" % e)
            return 1
        for cid, want in sorted(exp.items()):
            want = want["result"] if isinstance(want, dict) else want
            got = results.get(cid, {"result": "missing"})["result"]
            if want == "pass" and got != "pass":
                print("REGRESSION %s: expected to pass, now %s" % (cid, got))
                status = 1
        for cid in sorted(results):
            if cid not in exp:
                print("NEW %s: %s (not in the expectations; run --update)"
                      % (cid, results[cid]["result"]))
        if wrong:
            print("limbo: %d chain(s) wrongly accepted" % wrong)
            status = 1

    print("limbo: %d passed, %d failed, %d skipped, %d wrongly accepted"
          % (passed, failed, skipped, wrong))
    return status


if __name__ == "__main__":
    sys.exit(main())
