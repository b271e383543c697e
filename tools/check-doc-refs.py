#!/usr/bin/env python3
"""tools/check-doc-refs.py DOC... - every code and test reference a document
names exists.

A reference is a backticked token of one of these shapes:

  `test_NAME:case`            a case of tests/c/test_NAME.c (TEST(case) or a
                              table row "case" / "case/variant"), else a
                              pytest function of interop/test_NAME.py or
                              tests/py/test_NAME.py
  `PATH/test_X.c:case`        a case of the C test PATH/test_X.c
  `PATH.c:function`           a function defined in PATH.c (PATH relative to
                              the repository, or to core/ as the RFC 8446
                              matrix writes them)
  `PATH.py:test_x`            def test_x in PATH.py
  `PATH_test.go:TestX`        func TestX in PATH_test.go
  `fuzz/NAME.c`, `tools/X`    a file that exists

A case name may carry a variant (`case/variant`): the row must exist.
Prints every reference that does not resolve; exit status 1 if any.
Used by `make check-review` on docs/security-review.md.
"""
import os
import re
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

TOKEN = re.compile(r"`([^`\s]+)`")
REF = re.compile(r"^([A-Za-z0-9_./-]+):([A-Za-z_][A-Za-z0-9_]*(?:/[A-Za-z0-9_]+)?)(?:\(\))?$")
PATHLIKE = re.compile(r"^(?:core|abi|cli|tests|fuzz|tools|interop|bindings|bench|docs)/"
                      r"[A-Za-z0-9_./+-]+$")


def read(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


def c_test_has(text, case):
    base = case.split("/")[0]
    if "/" in case:
        return ('"%s"' % case) in text
    return (re.search(r"\bTEST\(%s\)" % re.escape(base), text) is not None
            or ('"%s"' % base) in text or ('"%s/' % base) in text)


def resolve_file(path):
    for cand in (path, os.path.join("core", path)):
        full = os.path.join(ROOT, cand)
        if os.path.isfile(full):
            return full
    return None


def check_ref(file_part, name):
    """None if the reference resolves, else why not."""
    if re.fullmatch(r"test_[a-z0-9_]+", file_part):  # short form
        c = os.path.join(ROOT, "tests/c", file_part + ".c")
        if os.path.isfile(c):
            return None if c_test_has(read(c), name) else "no case %s in %s" % (
                name, os.path.relpath(c, ROOT))
        for d in ("interop", "tests/py"):
            p = os.path.join(ROOT, d, file_part + ".py")
            if os.path.isfile(p):
                return None if re.search(r"\bdef %s\(" % re.escape(name), read(p)) else \
                    "no def %s in %s" % (name, os.path.relpath(p, ROOT))
        return "no test file for %s" % file_part
    full = resolve_file(file_part)
    if full is None:
        return "no file %s" % file_part
    text = read(full)
    rel = os.path.relpath(full, ROOT)
    if os.path.basename(rel).startswith("test_") and rel.endswith(".c"):  # a C test anywhere
        ok = c_test_has(text, name)
    elif full.endswith(".py"):
        ok = re.search(r"\bdef %s\(" % re.escape(name), text) is not None
    elif full.endswith(".go"):
        ok = re.search(r"\bfunc %s\(" % re.escape(name), text) is not None
    else:  # C source or header: a definition or a macro
        ok = (re.search(r"^[A-Za-z_][^;{}()]*\b%s\(" % re.escape(name), text, re.M) is not None
              or re.search(r"#define\s+%s\b" % re.escape(name), text) is not None)
    return None if ok else "no %s in %s" % (name, rel)


def check_doc(doc):
    bad = 0
    seen = 0
    for lineno, line in enumerate(read(doc).splitlines(), 1):
        for tok in TOKEN.findall(line):
            m = REF.match(tok)
            why = None
            if m and (m.group(1).startswith("test_") or "/" in m.group(1)
                      or m.group(1).endswith((".c", ".h", ".py", ".go"))):
                seen += 1
                why = check_ref(m.group(1), m.group(2))
            elif PATHLIKE.match(tok) and not tok.endswith("/"):
                seen += 1
                if not os.path.exists(os.path.join(ROOT, tok)):
                    why = "no file %s" % tok
            if why:
                bad += 1
                print("%s:%d: `%s`: %s" % (os.path.relpath(doc, ROOT), lineno, tok, why))
    return seen, bad


def main(argv):
    if len(argv) < 2:
        print(__doc__.strip().splitlines()[0], file=sys.stderr)
        return 2
    total_bad = 0
    for doc in argv[1:]:
        seen, bad = check_doc(doc)
        total_bad += bad
        print("%s: %d references, %d unresolved" % (os.path.relpath(doc, ROOT), seen, bad))
    return 1 if total_bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
