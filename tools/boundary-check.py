#!/usr/bin/env python3
"""tools/boundary-check.py BUILD_DIR - hold core/ to what a sans-I/O engine may use.

The core (core/, built as BUILD_DIR/libferrule_core.a) owns no host
facilities: threads, clocks, files and directories, sockets, name
resolution, the environment and the scheduler belong to its host (abi/),
which passes time in and implements the locks of core/sync.h
(docs/architecture.md).  This script checks, and prints every offence:

  symbols   the undefined symbols of libferrule_core.a (nm -u) name none of
            those facilities (FORBIDDEN below; _FORTIFY_SOURCE and LFS
            spellings such as __fread_chk or fopen64 count as the plain name);
  upcalls   every fr_* / ferrule_* symbol the core references is defined in
            the core: nothing calls up into abi/;
  includes  every #include in core/ is a core/ header, <openssl/...>,
            <sodium.h> or one of the C standard headers in STD_HEADERS.
  codes     core/codes.h is what tools/gen-codes.py makes of ferrule.h;
  abi       a quoted #include in abi/src/ names one of its own headers,
            core/engine.h or ferrule.h: the ABI reaches the engine by calls
            only, never through its structs (core/conn.h).

Exit status 0 when clean; every offence is printed.
"""
import os
import re
import subprocess
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
CORE = os.path.join(ROOT, "core")

STD_HEADERS = {"stddef.h", "stdint.h", "string.h", "stdlib.h", "stdatomic.h", "limits.h",
               "stdbool.h"}

# (what, regex over the normalised symbol name)
FORBIDDEN = [
    ("threads", r"pthread_.*|thrd_.*|mtx_.*|cnd_.*"),
    ("the clock", r"time|clock_gettime|clock|gettimeofday|ftime|localtime(_r)?|gmtime(_r)?"
                  r"|mktime|timegm|nanosleep|sleep|usleep"),
    ("stdio files", r"fopen|fdopen|freopen|fread|fwrite|fclose|fflush|fseeko?|ftello?|rewind"
                    r"|ferror|feof|fgets|fgetc|getc|fputs|fputc|putc|puts|putchar"
                    r"|v?fprintf|v?printf|v?dprintf|perror|popen|pclose|tmpfile|stdin|stdout"
                    r"|stderr"),
    ("directories", r"opendir|fdopendir|readdir(_r)?|closedir|rewinddir|scandir|glob"),
    ("file metadata", r"stat|lstat|fstat|fstatat|statx|xstat|lxstat|fxstat|fxstatat|access"
                      r"|realpath"),
    ("file descriptors", r"open|openat|creat|read|write|close|pread|pwrite|readv|writev|lseek"
                         r"|mmap|munmap|unlink|fcntl|ioctl|dup2?"),
    ("sockets", r"socket|socketpair|connect|bind|listen|accept4?|send|sendto|sendmsg|recv"
                r"|recvfrom|recvmsg|shutdown|setsockopt|getsockopt|poll|ppoll|select|epoll_.*"),
    ("name resolution", r"inet_.*|getaddrinfo|freeaddrinfo|gai_strerror|gethostbyname2?"
                        r"|getnameinfo|htons|htonl|ntohs|ntohl"),
    ("the environment", r"getenv|secure_getenv|setenv|unsetenv|putenv|clearenv"),
    ("the scheduler", r"sched_.*"),
    ("processes and signals", r"fork|vfork|execv.*|execl.*|system|signal|sigaction|raise"
                              r"|kill|abort|exit|_exit"),
]
FORBIDDEN = [(what, re.compile("(?:%s)$" % rx)) for what, rx in FORBIDDEN]


def normalise(sym):
    """The plain C name behind fortified / large-file / versioned spellings."""
    sym = sym.split("@", 1)[0]
    sym = re.sub(r"^__isoc(99|23)_", "", sym)
    sym = re.sub(r"^_+", "", sym)
    sym = re.sub(r"_chk$", "", sym)
    sym = re.sub(r"(?<=[a-z])64$", "", sym)
    return sym


def forbidden(sym):
    n = normalise(sym)
    for what, rx in FORBIDDEN:
        if rx.match(n):
            return what
    return None


def core_sources():
    out = []
    for d, _, files in os.walk(CORE):
        for f in files:
            if f.endswith((".c", ".h")):
                out.append(os.path.relpath(os.path.join(d, f), ROOT))
    return sorted(out)


def nm(lib, *args):
    r = subprocess.run(["nm", "-A", "-P", *args, lib], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("boundary: nm failed on %s: %s" % (lib, r.stderr.strip()))
    # POSIX format: "lib.a[member.o]: symbol TYPE [value size]"
    for line in r.stdout.splitlines():
        m = re.match(r"^.*\[(.+)\]:\s+(\S+)\s+(\S)", line)
        if m:
            yield m.group(1), m.group(2), m.group(3)


def member_source(member, sources):
    """core/... path(s) of the source an archive member was compiled from."""
    base = re.sub(r"\.o(bj)?$", "", member)
    hits = [s for s in sources if os.path.basename(s) == base]
    return " or ".join(hits) if hits else "core/?/" + base


def check_symbols(lib, sources):
    offences = []
    defined = {s for _, s, t in nm(lib, "--defined-only") if t not in "Uwv"}
    for member, sym, _ in nm(lib, "-u"):
        src = member_source(member, sources)
        what = forbidden(sym)
        if what is not None:
            offences.append((src, "symbol", sym, "calls %s (%s)" % (sym, what)))
        elif re.match(r"^(fr|ferrule)_", sym) and sym not in defined:
            offences.append((src, "upcall", sym,
                             "calls %s, which the core does not define (abi/ above it?)" % sym))
    return offences


INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def check_includes(sources):
    offences = []
    for path in sources:
        with open(os.path.join(ROOT, path), encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                m = INCLUDE.match(line)
                if not m:
                    continue
                kind, name = m.groups()
                if kind == '"':
                    here = os.path.dirname(os.path.join(ROOT, path))
                    cands = [os.path.join(here, name), os.path.join(CORE, name)]
                    ok = any(os.path.isfile(c) and
                             os.path.realpath(c).startswith(os.path.realpath(CORE) + os.sep)
                             for c in cands)
                    why = "includes \"%s\", not a core/ header" % name
                else:
                    ok = name in STD_HEADERS or name.startswith("openssl/") or name == "sodium.h"
                    why = "includes <%s>, outside the C standard headers the core may use" % name
                if not ok:
                    offences.append((path, "include", name, "line %d %s" % (n, why)))
    return offences


def check_abi_includes():
    src = os.path.join(ROOT, "abi", "src")
    offences = []
    for name in sorted(os.listdir(src)):
        if not name.endswith((".c", ".h")):
            continue
        path = os.path.join("abi", "src", name)
        with open(os.path.join(ROOT, path), encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                m = INCLUDE.match(line)
                if not m or m.group(1) != '"':
                    continue
                inc = m.group(2)
                if inc in ("engine.h", "ferrule.h") or os.path.isfile(os.path.join(src, inc)):
                    continue
                offences.append((path, "abi", inc, "line %d includes \"%s\": the ABI includes "
                                 "only core/engine.h of the core" % (n, inc)))
    return offences


def check_codes():
    gen = os.path.join(ROOT, "tools", "gen-codes.py")
    if not os.path.exists(gen):
        return []
    r = subprocess.run([sys.executable, gen, "--check"], capture_output=True, text=True)
    if r.returncode == 0:
        return []
    return [("core/codes.h", "codes", "drift", (r.stdout + r.stderr).strip())]


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: %s BUILD_DIR" % sys.argv[0])
    lib = os.path.join(sys.argv[1], "libferrule_core.a")
    if not os.path.exists(lib):
        sys.exit("boundary: FAIL: %s not found (build first)" % lib)
    sources = core_sources()
    offences = check_symbols(lib, sources) + check_includes(sources) + check_codes()
    offences += check_abi_includes()
    bad = sorted(set("%s: %s" % (src, why) for src, kind, item, why in offences))
    for line in bad:
        print("boundary: FAIL: " + line)
    if bad:
        print("boundary: the core must not use host facilities or include outside core/, "
              "libcrypto and libsodium (docs/architecture.md)")
        return 1
    print("boundary: ok: %d core files, no host facility, no include outside core/; "
          "abi/src/ includes only engine.h of the core" % len(sources))
    return 0


if __name__ == "__main__":
    sys.exit(main())
