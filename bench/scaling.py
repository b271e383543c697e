#!/usr/bin/env python3
"""bench/scaling.py - how the cost of ferrule and of OpenSSL's libssl grows
with the work (`make bench-scaling`, also run by `make bench`).

    bench/scaling.py [--build DIR] [--write FILE] [--jobs N]

Instruction counts come from bench/scale_probe.c run under valgrind's
callgrind (--collect-atstart=no; the probe collects and dumps each measured
region by itself), with OPENSSL_ia32cap=":0" as in tools/cost.sh so libcrypto
takes the same code paths on any x86-64 host.  Heap bytes per connection with
1, 1,000 and 10,000 connections held come from native runs of the probe
(allocations counted as in bench/pair_bench.c).  The growth order of each
dimension is derived from the measured numbers (growth()).  With --write, the
section "## make bench-scaling: ..." of FILE is replaced (or appended); the
rest of the file is left alone.
"""
import argparse
import concurrent.futures
import datetime
import glob
import json
import math
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile

LIBS = ("ferrule", "openssl")
# The probe's jobs, the longest first (loading 5,000 anchors under callgrind
# takes minutes) so that --jobs workers finish together.
JOBS = (("store", "5000"), ("store", "500"), ("store", "system"), ("store", "1"), ("chain",), ("resumed",),
        ("record",))
SECTION = "## make bench-scaling: how cost grows with the work"
HELD = (1, 1000, 10000)
DEPTHS = range(0, 9)
RECORDS = 16  # records per counted region (bench/scale_probe.c)


def run_counted(probe, pki, lib, job, work):
    """Run one job of the probe under callgrind; returns ({label: instructions}, stdout)."""
    out = os.path.join(work, "cg." + ".".join((lib,) + job))
    env = dict(os.environ, OPENSSL_ia32cap=":0")
    cmd = ["valgrind", "--tool=callgrind", "--collect-atstart=no",
           f"--callgrind-out-file={out}", probe, "count", pki, lib, *job]
    r = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if r.returncode != 0:
        sys.stderr.write(r.stderr[-4000:])
        raise SystemExit(f"scaling: {lib} {' '.join(job)} failed under valgrind")
    counts = {}
    for f in glob.glob(out + ".*"):
        desc = total = None
        with open(f) as fh:
            for line in fh:
                if line.startswith("desc: Trigger: Client Request: "):
                    desc = line.split(": ", 3)[3].strip()
                elif line.startswith("summary:"):
                    total = int(line.split()[1])
        if desc is not None and total is not None:
            counts[desc] = total
    return counts, r.stdout


def run_heap(probe, pki, lib, n, depth):
    r = subprocess.run([probe, "heap", pki, lib, str(n), str(depth)], capture_output=True, text=True)
    m = re.search(r"client (\d+) server (\d+)", r.stdout)
    if r.returncode != 0 or m is None:
        sys.stderr.write(r.stderr)
        raise SystemExit(f"scaling: heap {lib} {n} failed")
    return int(m.group(1)), int(m.group(2))


def linfit(xs, ys):
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx if sxx else 0.0
    a = my - b * mx
    ss_res = sum((y - (a + b * x)) ** 2 for x, y in zip(xs, ys))
    ss_tot = sum((y - my) ** 2 for y in ys)
    return a, b, (1 - ss_res / ss_tot) if ss_tot else 1.0


def growth(xs, ys, unit, flat=0.10):
    """The growth order of ys over xs: "constant" if every value is within
    `flat` of the first; with 5 points or more, "linear" if a straight line
    fits (R^2 >= 0.98), its slope given; otherwise (or with fewer points) the
    exponent k of the growth above the first point between the last two
    points, (y - y0) ~ (x - x0)^k: linear for k in 0.85..1.15, else
    superlinear or sublinear."""
    lo, hi = min(ys), max(ys)
    if hi <= ys[0] * (1 + flat) and lo >= ys[0] * (1 - flat):
        return f"constant (last/first {ys[-1] / ys[0]:.2f})"
    if len(xs) >= 5:
        _, b, r2 = linfit(xs, ys)
        if r2 >= 0.98:
            return f"linear, {b:+,.0f} per {unit} (R² {r2:.3f}; last/first {ys[-1] / ys[0]:.2f})"
    d1, d2 = ys[-2] - ys[0], ys[-1] - ys[0]
    slope = d2 / (xs[-1] - xs[0])
    if d1 <= 0 or d2 <= 0:
        return f"irregular (last/first {ys[-1] / ys[0]:.2f})"
    k = math.log(d2 / d1) / math.log((xs[-1] - xs[0]) / (xs[-2] - xs[0]))
    kind = "linear" if 0.85 <= k <= 1.15 else "superlinear" if k > 1.15 else "sublinear"
    return f"{kind} (growth ~ n^{k:.2f}), {slope:+,.0f} per {unit} at the last point (last/first {ys[-1] / ys[0]:.2f})"


def fmt(n):
    return f"{n:,.0f}"


def table(head, rows):
    out = ["| " + " | ".join(head) + " |", "| " + " | ".join(["---"] + ["---:"] * (len(head) - 1)) + " |"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


def measure(args):
    probe = os.path.join(args.build, "scale_probe")
    if not os.access(probe, os.X_OK):
        raise SystemExit(f"scaling: {probe} missing (make build)")
    if shutil.which("valgrind") is None:
        raise SystemExit("scaling: valgrind not found (tools/deps.sh installs it)")
    pki = os.path.abspath(os.path.join(args.build, "scale-pki"))
    need = ["leaf.key"] + [f"chain-{d}.pem" for d in DEPTHS] + [f"store-{s}.pem" for s in ("1", "system", "500", "5000")]
    if not all(os.path.exists(os.path.join(pki, f)) for f in need):
        os.makedirs(pki, exist_ok=True)
        subprocess.run([probe, "gen", pki], check=True)
    res = {}
    with tempfile.TemporaryDirectory() as work, \
            concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futs = {(lib, job): pool.submit(run_counted, probe, pki, lib, job, work) for job in JOBS for lib in LIBS}
        for (lib, job), f in futs.items():
            counts, out = f.result()
            prev = res.setdefault((lib, job[0]), ({}, ""))
            res[lib, job[0]] = ({**prev[0], **counts}, prev[1] + out)
            print(f"scaling: counted {lib} {' '.join(job)}", file=sys.stderr)
    heap = {(lib, n): run_heap(probe, pki, lib, n, 1) for lib in LIBS for n in HELD}
    heap_depth = {(lib, d): run_heap(probe, pki, lib, 16, d) for lib in LIBS for d in DEPTHS}
    system = os.path.join(pki, "store-system.pem")
    with open(system) as fh:
        n_system = fh.read().count("BEGIN CERTIFICATE")
    return res, heap, heap_depth, n_system


def side_by_side(xs, label, get, unit, xfmt=str, per_unit=False, xval=None):
    """A table of both libraries over xs (xval: the number of units of each x,
    for the per-unit columns), and the growth order of each."""
    rows, cols = [], {lib: [get(lib, x) for x in xs] for lib in LIBS}
    xval = xval or {x: x for x in xs}
    head = [label, "ferrule", "OpenSSL", "ferrule / OpenSSL"]
    if per_unit:
        head += [f"ferrule per {unit}", f"OpenSSL per {unit}"]
    for i, x in enumerate(xs):
        f, o = cols["ferrule"][i], cols["openssl"][i]
        per = [fmt(f / xval[x]), fmt(o / xval[x])] if per_unit else []
        rows.append([xfmt(x), fmt(f), fmt(o), f"{f / o:.2f}"] + per)
    t = table(head, rows)
    g = {lib: growth([xval[x] for x in xs], cols[lib], unit) if all(isinstance(xval[x], (int, float)) for x in xs)
         else None for lib in LIBS}
    return t, g, cols


def report(res, heap, heap_depth, n_system):
    """The parts of the section: (dimension, title, table, growth per library)."""
    c = {k: v[0] for k, v in res.items()}
    out = []
    depths = list(DEPTHS)
    t, g, _ = side_by_side(depths, "intermediates", lambda lib, d: c[lib, "chain"][f"chain {d}"], "intermediate")
    out.append(("Full handshake vs chain depth", "Full handshake pair vs the server's chain depth (instructions "
                "per pair; the client verifies every link)", t, g))
    t, g, _ = side_by_side(depths, "intermediates", lambda lib, d: heap_depth[lib, d][0], "intermediate")
    out.append(("Client heap vs the peer's chain depth", "Heap bytes per idle client connection vs the peer's "
                "chain depth (16 pairs held)", t, g))
    t, g, _ = side_by_side(depths, "intermediates (original handshake)",
                           lambda lib, d: c[lib, "resumed"][f"resumed {d}"], "intermediate")
    out.append(("Resumed handshake vs the original chain depth", "Resumed (psk_dhe_ke) handshake pair vs the "
                "original chain's depth (instructions per pair)", t, g))
    sess = {}
    for lib in LIBS:
        for m in re.finditer(r"session (\d+) (\d+)", res[lib, "resumed"][1]):
            sess[lib, int(m.group(1))] = int(m.group(2))
    t, g, _ = side_by_side(depths, "intermediates", lambda lib, d: sess[lib, d], "intermediate")
    out.append(("Session size vs the original chain depth", "Client session size vs the original chain's depth "
                "(bytes: ferrule's session blob, OpenSSL's i2d_SSL_SESSION)", t, g))
    # Trust stores: the growth order from the stores of one kind (the bench
    # root alone, with 500 and with 5,000 bench anchors); the system's is
    # shown for scale, outside the fit (its anchors are of other kinds).
    fit = [("1", 1), ("500", 501), ("5000", 5001)]
    shown = sorted(fit + ([("system", n_system)] if n_system > 1 else []), key=lambda s: s[1])
    name = {"1": "1 (the root)", "system": f"system ({n_system}: the bundle + the root; not in the fit)",
            "500": "501 (500 + the root)", "5000": "5,001 (5,000 + the root)"}

    def store_part(dim, title, key, per_unit):
        get = lambda lib, s: c[lib, "store"][key(s)]
        t, _, _ = side_by_side([s for s, _ in shown], "anchors", get, "anchor", lambda s: name[s], per_unit,
                               xval=dict(shown))
        cols = {lib: [get(lib, s) for s, _ in fit] for lib in LIBS}
        out.append((dim, title, t, {lib: growth([n for _, n in fit], cols[lib], "anchor") for lib in LIBS}))

    store_part("Trust store load", "Loading a trust store (instructions for the one call reading the file)",
               lambda s: f"load {s}", True)
    for depth in (1, 8):
        plural = "s" if depth > 1 else ""
        store_part(f"Full handshake vs trust store size, {depth} intermediate{plural}",
                   f"Full handshake pair vs the client's trust store, chain of {depth} intermediate{plural} "
                   "(instructions per pair)", lambda s, depth=depth: f"hs {s} {depth}", False)
    sizes = [64, 256, 1024, 4096, 16384]
    t, g, _ = side_by_side(sizes, "record bytes", lambda lib, s: c[lib, "record"][f"record {s}"] / RECORDS,
                           "byte")
    out.append(("Record cost vs record size", "One record, client write to server read (instructions per "
                "record, AES-128-GCM)", t, g))
    for which, idx in (("client", 0), ("server", 1)):
        t, g, _ = side_by_side(list(HELD), "connections held", lambda lib, n: heap[lib, n][idx], "connection",
                               lambda n: f"{n:,}")
        out.append((f"Heap per {which} connection vs connections held", f"Heap bytes per idle {which} "
                    "connection vs the number held", t, g))
    return out


def key_ratios(res):
    """The figures issue 11's targets name, from the counts."""
    c = {k: v[0] for k, v in res.items()}
    lines = []
    for lib, name in (("ferrule", "ferrule"), ("openssl", "OpenSSL")):
        s = c[lib, "store"]
        r = c[lib, "resumed"]
        lines.append(f"- {name}: a handshake with 5,001 anchors and 8 intermediates costs "
                     f"{s['hs 5000 8'] / s['hs 1 8']:.2f}x the one with 1 anchor (target: within 1.2x); "
                     f"a resumption after 8 intermediates {r['resumed 8'] / r['resumed 0']:.2f}x one after none.")
    return lines


def render(parts, res):
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    ver = subprocess.run(["openssl", "version"], capture_output=True, text=True).stdout.strip()
    lines = [SECTION, "",
             "`make bench-scaling` (run by `make bench`; bench/scaling.py driving bench/scale_probe.c): the "
             "same work for ferrule and for OpenSSL's libssl in one process over memory buffers (TLS 1.3, "
             "TLS_AES_128_GCM_SHA256, X25519, one ticket, the client verifying the chain and the name), counted in "
             "instructions by valgrind's callgrind, each measured region collected alone after an uncounted "
             "warm-up of the same work, with `OPENSSL_ia32cap=\":0\"` (as tools/cost.sh). The PKI is made by "
             "`scale_probe gen` with libcrypto in about 2 s: a P-256 root, intermediates i1..i8 in a line, a "
             "P-256 leaf for \"localhost\" under each, and 5,000 unrelated self-signed P-256 anchors (\"O=ferrule "
             "bench, CN=bench anchor N\": the same organisation as the chain's names; the 500-anchor store is the "
             "first 500 of them). ferrule's "
             "client allows 10 certificates below the anchor here (its default is 8, leaf included); "
             "OpenSSL's limit is 100. Heap figures are native runs, counted as in the table above (ferrule's "
             "allocator plus libcrypto/libssl through CRYPTO_set_mem_functions, the transport excluded).",
             "",
             f"Last run: {now}, {os.cpu_count()} CPUs, {platform.processor() or platform.machine()}; {ver}. "
             "Commands: `make bench-scaling` (`python3 bench/scaling.py --build build --write docs/performance.md`).",
             "",
             "Growth orders, from the numbers below (\"constant\": every point within 10% of the first; "
             "\"linear\": with 5 points or more a straight-line fit with R² >= 0.98, its slope given; otherwise "
             "k in (y - y0) ~ (x - x0)^k between the last two points, linear for k in 0.85..1.15, super- or "
             "sublinear beyond; trust stores: fitted over 1, 501 and 5,001 anchors of one kind):",
             ""]
    for dim, _, _, g in parts:
        lines.append(f"- {dim}: ferrule {g['ferrule']}; OpenSSL {g['openssl']}.")
    lines += ["", "Against the targets:", ""] + key_ratios(res) + [""]
    for _, title, t, _ in parts:
        lines += [f"### {title}", "", t, ""]
    return "\n".join(lines)


def write_section(path, text):
    doc = open(path).read() if os.path.exists(path) else ""
    start = doc.find("\n" + SECTION + "\n")
    if start < 0:
        doc = doc.rstrip("\n") + "\n\n" + text
    else:
        nxt = doc.find("\n## ", start + 1)
        doc = doc[:start + 1] + text + ("\n" + doc[nxt + 1:] if nxt >= 0 else "")
    with open(path, "w") as fh:
        fh.write(doc if doc.endswith("\n") else doc + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--write")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--save", help="also keep the measurements in this JSON file")
    ap.add_argument("--load", help="report the measurements of a --save file instead of measuring")
    args = ap.parse_args()
    if args.load:
        with open(args.load) as fh:
            m = json.load(fh)
        data = ({tuple(k.split("|")): v for k, v in m["res"].items()},
                {(k.split("|")[0], int(k.split("|")[1])): v for k, v in m["heap"].items()},
                {(k.split("|")[0], int(k.split("|")[1])): v for k, v in m["heap_depth"].items()}, m["n_system"])
    else:
        data = measure(args)
    if args.save:
        res, heap, heap_depth, n_system = data
        with open(args.save, "w") as fh:
            json.dump({"res": {"|".join(k): v for k, v in res.items()},
                       "heap": {f"{k[0]}|{k[1]}": v for k, v in heap.items()},
                       "heap_depth": {f"{k[0]}|{k[1]}": v for k, v in heap_depth.items()},
                       "n_system": n_system}, fh)
    text = render(report(*data), data[0])
    print(text)
    if args.write:
        write_section(args.write, text)


if __name__ == "__main__":
    main()
