#!/usr/bin/env python3
"""bench/lua_bench.py [--seconds S] [--rounds R] [--write FILE] - resty.ferrule
against nginx's own TLS (ngx.socket.tcp():sslhandshake(), OpenSSL) in the
same run, through a real nginx (`make bench-lua`; docs/performance.md).

One nginx worker with two locations doing the same work: connect to an
upstream `openssl s_server -WWW` on loopback, a TLS 1.3 handshake that
verifies the chain and the name, GET a file, close.  wrk drives each
location in turn (1 thread, 8 connections, keep-alive towards nginx), the
two alternating for R rounds of S seconds; the table gives medians.
/handshake fetches a 64-byte file (the cost is the upstream handshake);
/bulk fetches 1 MiB over one upstream connection (MB/s of upstream data).
"""
from __future__ import annotations

import argparse
import os
import pathlib
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
SECTION = "## make bench-lua: resty.ferrule vs nginx's own TLS"

CONF = r"""
daemon off;
master_process on;
worker_processes 1;
{user}
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
env FERRULE_LIB;
load_module /usr/lib/nginx/modules/ndk_http_module.so;
load_module /usr/lib/nginx/modules/ngx_http_lua_module.so;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    lua_package_path "{bindings}/?.lua;/usr/share/lua/5.1/?.lua;;";
    lua_ssl_trusted_certificate {pki}/root.pem;
    lua_ssl_verify_depth 4;
    lua_ssl_protocols TLSv1.3;
    init_worker_by_lua_block {{
        FR = require "resty.ferrule"
        CFG = assert(FR.config {{ trust_file = "{pki}/root.pem" }})
        UPSTREAM = {upstream}
    }}
    server {{
        listen 127.0.0.1:{port};
        location ~ ^/(ferrule|native)/(.+)$ {{
            set $lib $1;
            set $file $2;
            content_by_lua_block {{
                local sock = ngx.socket.tcp()
                sock:settimeouts(2000, 2000, 5000)
                local tls = ngx.var.lib == "ferrule" and FR.wrap(sock, CFG) or sock
                local ok, err = tls:connect("127.0.0.1", UPSTREAM)
                if not ok then ngx.status = 502 ngx.say(err) return end
                ok, err = tls:sslhandshake(false, "localhost", true)
                if not ok then ngx.status = 502 ngx.say(err) return end
                tls:send("GET /" .. ngx.var.file .. " HTTP/1.0\r\n\r\n")
                local body, rerr = tls:receive("*a")
                if not body then ngx.status = 502 ngx.say(rerr) return end
                tls:close()
                ngx.say(#body)
            }}
        }}
    }}
}}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wrk(url: str, seconds: float) -> float:
    out = subprocess.run(["wrk", "-t1", "-c8", f"-d{max(1, round(seconds))}s", url], capture_output=True, text=True,
                         check=True).stdout
    m = re.search(r"Requests/sec:\s*([\d.]+)", out)
    errs = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if not m or errs:
        sys.exit(f"lua_bench: wrk against {url} failed:\n{out}")
    return float(m.group(1))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--write")
    a = ap.parse_args()
    pki = pathlib.Path(os.environ["FERRULE_TEST_PKI"])
    work = pathlib.Path(tempfile.mkdtemp(prefix="lua-bench-"))
    (work / "www").mkdir()
    (work / "www" / "small").write_bytes(b"x" * 64)
    (work / "www" / "big").write_bytes(os.urandom(1 << 20))
    up = subprocess.Popen(["openssl", "s_server", "-accept", "127.0.0.1:0", "-tls1_3", "-WWW",
                           "-naccept", "1000000", "-cert", str(pki / "ecdsa-p256.leaf.pem"),
                           "-cert_chain", str(pki / "inter.pem"), "-key", str(pki / "ecdsa-p256.key")],
                          cwd=work / "www", stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL, text=True)
    upstream_port = None
    for _ in range(50):
        line = up.stdout.readline()
        m = re.match(r"ACCEPT .*:(\d+)", line)
        if m:
            upstream_port = int(m.group(1))
            break
    if upstream_port is None:
        sys.exit("lua_bench: openssl s_server did not start")
    port = free_port()
    conf = CONF.format(prefix=work, bindings=REPO / "bindings" / "lua", pki=pki, port=port,
                       upstream=upstream_port, user="user root;" if os.geteuid() == 0 else "")
    (work / "logs").mkdir()
    (work / "nginx.conf").write_text(conf)
    ng = subprocess.Popen(["nginx", "-p", str(work), "-c", str(work / "nginx.conf")],
                          env=dict(os.environ), stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        base = f"http://127.0.0.1:{port}"
        for lib in ("ferrule", "native"):  # both work before measuring
            out = subprocess.run(["curl", "-sf", f"{base}/{lib}/big"], capture_output=True, text=True)
            got = out.stdout.strip()
            if not got.isdigit() or int(got) <= 1 << 20:  # the body and the upstream's headers
                sys.exit(f"lua_bench: /{lib}/big failed: {out.stdout} {out.stderr}")
        res = {(k, lib): [] for k in ("handshake", "bulk") for lib in ("ferrule", "native")}
        for r in range(a.rounds):
            order = ("ferrule", "native") if r % 2 == 0 else ("native", "ferrule")
            for lib in order:
                res[("handshake", lib)].append(wrk(f"{base}/{lib}/small", a.seconds))
                res[("bulk", lib)].append(wrk(f"{base}/{lib}/big", a.seconds) * (1 << 20) / 1e6)
            print(f"round {r + 1}/{a.rounds} done", file=sys.stderr)
    finally:
        ng.send_signal(signal.SIGQUIT)
        ng.wait(10)
        up.kill()
    med = {k: statistics.median(v) for k, v in res.items()}
    table = ("| measure | resty.ferrule | nginx sslhandshake (OpenSSL) | ratio |\n| --- | ---: | ---: | ---: |\n"
             f"| upstream handshakes per second (64-byte GET each) | {med[('handshake', 'ferrule')]:.0f} | "
             f"{med[('handshake', 'native')]:.0f} | {med[('handshake', 'ferrule')] / med[('handshake', 'native')]:.2f} |\n"
             f"| upstream bulk, 1 MiB per connection, MB/s | {med[('bulk', 'ferrule')]:.1f} | "
             f"{med[('bulk', 'native')]:.1f} | {med[('bulk', 'ferrule')] / med[('bulk', 'native')]:.2f} |\n")
    print(table)
    if a.write:
        nginx_v = subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr.strip()
        text = (f"{SECTION}\n\n`make bench-lua` (bench/lua_bench.py): one nginx worker, two locations doing the same "
                "work through the Lua module: connect to an upstream `openssl s_server -WWW` on loopback, a TLS 1.3 "
                "handshake verifying the chain and the name, GET a file, close; one through `resty.ferrule`, one "
                "through the cosocket's own `sslhandshake` (nginx's OpenSSL). wrk (1 thread, 8 connections) drives "
                f"each in turn, {a.rounds} alternating rounds of {a.seconds:g} s, medians. The upstream and wrk run "
                f"on the same 2-core machine, so both paths share its load.\n\nMachine: {os.cpu_count()} CPUs; "
                f"{nginx_v}; {time.strftime('%Y-%m-%d')}.\n\n{table}")
        p = pathlib.Path(a.write)
        s = p.read_text() if p.exists() else ""
        i = s.find(SECTION)
        if i >= 0:
            j = s.find("\n## ", i + 1)
            s = s[:i] + text + ("\n" + s[j + 1:] if j >= 0 else "")
        else:
            s = s.rstrip("\n") + "\n\n" + text
        p.write_text(s)
    return 0


if __name__ == "__main__":
    sys.exit(main())
