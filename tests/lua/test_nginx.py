"""tests/lua/test_nginx.py - resty.ferrule inside a real nginx (Debian's,
with its Lua module and lua-resty-core): the harness writes a
configuration, starts nginx on loopback, and drives locations that make
upstream TLS calls through resty.ferrule to openssl s_server, a ferrule
server and Python's ssl.  Run by `make check-lua` (pytest)."""

from __future__ import annotations

import concurrent.futures
import os
import pathlib
import re
import signal
import socket
import ssl
import subprocess
import threading
import time
import urllib.request

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
PKI = pathlib.Path(os.environ["FERRULE_TEST_PKI"])
FERRULE_BIN = os.environ["FERRULE_BIN"]
FERRULE_LIB = os.environ["FERRULE_LIB"]
MODULES = pathlib.Path("/usr/lib/nginx/modules")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_peer(argv, tmp_path, name):
    """A process that prints "ACCEPT host:port"; returns (proc, port)."""
    log = open(tmp_path / f"{name}.log", "w")
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        line = p.stdout.readline()
        m = re.match(r"ACCEPT .*:(\d+)$", line.strip())
        if m:
            threading.Thread(target=p.stdout.read, daemon=True).start()
            return p, int(m.group(1))
    p.kill()
    raise RuntimeError(f"{name} did not start")


def readme_location() -> str:
    """The ```nginx block of the README's Lua section, as written."""
    text = (REPO / "README.md").read_text()
    m = re.search(r"^```nginx\n(.*?)^```", text, re.S | re.M)
    assert m, "no ```nginx block in README.md"
    return m.group(1)


CONF = r"""
daemon off;
master_process on;
{user}
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
env FERRULE_LIB;
load_module {modules}/ndk_http_module.so;
load_module {modules}/ngx_http_lua_module.so;
events {{ worker_connections 2048; }}
http {{
    access_log off;
    lua_package_path "{bindings}/?.lua;/usr/share/lua/5.1/?.lua;;";
    lua_shared_dict sessions 1m;
    lua_socket_log_errors off;
    init_worker_by_lua_block {{
        local f = require "resty.ferrule"
        TLS_CFG = assert(f.config {{ trust_file = "{pki}/root.pem" }})
        TLS_MTLS = assert(f.config {{ trust_file = "{pki}/root.pem",
            chains = {{ {{ cert_file = "{pki}/ecdsa-p256.chain.pem", key_file = "{pki}/ecdsa-p256.key" }} }} }})
        TLS_MOD = f
    }}
    server {{
        listen 127.0.0.1:{port};
        set $ferrule_trust "{pki}/root.pem";
        location = /fetch {{
            content_by_lua_block {{
                local f, args = TLS_MOD, ngx.req.get_uri_args()
                local tls = f.wrap(ngx.socket.tcp(), args.mtls and TLS_MTLS or TLS_CFG)
                tls:settimeouts(2000, 2000, tonumber(args.timeout) or 2000)
                local ok, err = tls:connect("127.0.0.1", tonumber(args.port))
                if not ok then ngx.say("connect error: ", err) return end
                local cached = args.resume and ngx.shared.sessions:get(args.port)
                local session, herr = tls:sslhandshake(cached, args.name or "localhost", true)
                if not session then ngx.say("handshake error: ", herr) return end
                tls:send(args.send or "GET / HTTP/1.0\r\n\r\n")
                local body, rerr
                if args.line then body, rerr = tls:receive("*l") else body, rerr = tls:receive("*a") end
                if not body then ngx.say("receive error: ", rerr) return end
                local info = tls:info()
                local blob = session:serialize()
                if blob then ngx.shared.sessions:set(args.port, blob) end
                if args.keepalive then
                    local kok, kerr = tls:setkeepalive(10000, 16)
                    if not kok then ngx.say("keepalive error: ", kerr) return end
                else
                    tls:close()
                end
                ngx.say("suite=", info.suite, " resumed=", tostring(info.resumed),
                        " reused=", tls:getreusedtimes(), " bytes=", #body)
                ngx.say(body)
            }}
        }}
        location = /mem {{
            content_by_lua_block {{
                collectgarbage()
                local f = io.open("/proc/self/status")
                local s = f:read("*a")
                f:close()
                ngx.say(s:match("VmRSS:%s*(%d+)"), " ", math.floor(collectgarbage("count")))
            }}
        }}
        {readme}
    }}
}}
"""


@pytest.fixture(scope="module")
def nginx(tmp_path_factory):
    prefix = tmp_path_factory.mktemp("nginx")
    (prefix / "logs").mkdir()
    port = free_port()
    conf = CONF.format(prefix=prefix, modules=MODULES, bindings=REPO / "bindings" / "lua", pki=PKI,
                       port=port, readme=readme_location(),
                       # the workers read the test PKI's private keys (mode 0600)
                       user="user root;" if os.geteuid() == 0 else "")
    (prefix / "nginx.conf").write_text(conf)
    env = dict(os.environ, FERRULE_LIB=FERRULE_LIB)
    p = subprocess.Popen(["nginx", "-p", str(prefix), "-c", str(prefix / "nginx.conf")], env=env,
                         stderr=open(prefix / "stderr.log", "w"))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    else:
        p.kill()
        raise RuntimeError("nginx did not start: " + (prefix / "stderr.log").read_text()
                           + (prefix / "error.log").read_text())
    yield type("N", (), {"port": port, "prefix": prefix, "proc": p})
    p.send_signal(signal.SIGQUIT)
    try:
        p.wait(10)
    except subprocess.TimeoutExpired:
        p.kill()
    err = (prefix / "error.log").read_text()
    assert "[alert]" not in err and "[emerg]" not in err and "[crit]" not in err, err


def get(nginx, path, timeout=10) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{nginx.port}{path}", timeout=timeout) as r:
        return r.read().decode()


@pytest.fixture
def ferrule_www(tmp_path):
    p, port = start_peer([FERRULE_BIN, "server", "--accept", "127.0.0.1:0", "--quiet", "--www",
                          "--cert", str(PKI / "ecdsa-p256.chain.pem"), "--key", str(PKI / "ecdsa-p256.key")],
                         tmp_path, "ferrule-www")
    yield port
    p.kill()


def test_upstream_openssl_ferrule_and_python(nginx, tmp_path, ferrule_www):
    o, oport = start_peer(["openssl", "s_server", "-accept", "127.0.0.1:0", "-tls1_3", "-www",
                           "-cert", str(PKI / "ecdsa-p256.leaf.pem"), "-cert_chain", str(PKI / "inter.pem"),
                           "-key", str(PKI / "ecdsa-p256.key")], tmp_path, "openssl")
    try:
        out = get(nginx, f"/fetch?port={oport}")
        assert out.startswith("suite=TLS_AES_128_GCM_SHA256 resumed=false"), out
        assert "Protocol  : TLSv1.3" in out
    finally:
        o.kill()
    out = get(nginx, f"/fetch?port={ferrule_www}")
    assert out.startswith("suite=") and "HTTP/1.0 200" in out, out

    # Python's ssl as the upstream.
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_cert_chain(PKI / "ecdsa-p256.chain.pem", PKI / "ecdsa-p256.key")
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)

    def serve():
        c, _ = srv.accept()
        with ctx.wrap_socket(c, server_side=True) as s:
            s.recv(100)
            s.sendall(b"hello from python\n")
            s.unwrap()

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    out = get(nginx, f"/fetch?port={srv.getsockname()[1]}")
    t.join(5)
    srv.close()
    assert out.startswith("suite=") and "hello from python" in out, out


def test_resumption_across_requests(nginx, ferrule_www):
    first = get(nginx, f"/fetch?port={ferrule_www}&resume=1")
    second = get(nginx, f"/fetch?port={ferrule_www}&resume=1")
    assert "resumed=false" in first, first
    assert "resumed=true" in second, second


def test_keepalive_reuses_the_tls_connection(nginx, tmp_path):
    p, port = start_peer([FERRULE_BIN, "server", "--accept", "127.0.0.1:0", "--quiet", "--echo",
                          "--cert", str(PKI / "ecdsa-p256.chain.pem"), "--key", str(PKI / "ecdsa-p256.key")],
                         tmp_path, "echo")
    try:
        outs = [get(nginx, f"/fetch?port={port}&keepalive=1&line=1&send=ping%0A") for _ in range(3)]
    finally:
        p.kill()
    assert "reused=0" in outs[0] and "reused=1" in outs[1] and "reused=2" in outs[2], outs
    assert all(o.endswith("ping\n") for o in outs), outs


def test_mutual_tls_and_verification_failure(nginx, tmp_path):
    p, port = start_peer([FERRULE_BIN, "server", "--accept", "127.0.0.1:0", "--quiet", "--echo",
                          "--verify-client", "require", "--cafile", str(PKI / "root.pem"),
                          "--cert", str(PKI / "ecdsa-p256.chain.pem"), "--key", str(PKI / "ecdsa-p256.key")],
                         tmp_path, "mtls")
    try:
        ok = get(nginx, f"/fetch?port={port}&mtls=1&line=1&send=hi%0A")
        refused = get(nginx, f"/fetch?port={port}&line=1&send=hi%0A")
    finally:
        p.kill()
    assert ok.startswith("suite=") and ok.endswith("hi\n"), ok
    assert "receive error: alert-received: peer_alert (alert 116 certificate_required, received)" in refused, refused
    p, port = start_peer([FERRULE_BIN, "server", "--accept", "127.0.0.1:0", "--quiet",
                          "--cert", str(PKI / "untrusted.chain.pem"), "--key", str(PKI / "untrusted.key")],
                         tmp_path, "untrusted")
    try:
        out = get(nginx, f"/fetch?port={port}")
    finally:
        p.kill()
    assert out.startswith("handshake error: certificate: cert_unknown_issuer (alert 48 unknown_ca, sent)"), out


def test_200_concurrent_requests(nginx, ferrule_www):
    with concurrent.futures.ThreadPoolExecutor(50) as ex:
        outs = list(ex.map(lambda _: get(nginx, f"/fetch?port={ferrule_www}", timeout=30), range(200)))
    assert all(o.startswith("suite=") and "HTTP/1.0 200" in o for o in outs), [o for o in outs if "200" not in o][:3]


def hostile(mode):
    return ["python3", str(REPO / "tests" / "lua" / "hostile_peer.py"), mode]


def test_stalled_and_garbage_peers_leave_the_worker_serving(nginx, tmp_path, ferrule_www):
    p, port = start_peer(hostile("stall"), tmp_path, "stall")
    try:
        t0 = time.monotonic()
        out = get(nginx, f"/fetch?port={port}&timeout=500")
        assert out.startswith("handshake error: timeout"), out
        assert time.monotonic() - t0 < 5
    finally:
        p.kill()
    p, port = start_peer(hostile("garbage"), tmp_path, "garbage")
    try:
        out = get(nginx, f"/fetch?port={port}")
        assert out.startswith("handshake error: decode: bad_content_type"), out
    finally:
        p.kill()
    assert "HTTP/1.0 200" in get(nginx, f"/fetch?port={ferrule_www}")


def test_worker_memory_flat_over_10000_requests(nginx, ferrule_www):
    def run(n):
        with concurrent.futures.ThreadPoolExecutor(8) as ex:
            outs = list(ex.map(lambda _: get(nginx, f"/fetch?port={ferrule_www}", timeout=30), range(n)))
        assert all("HTTP/1.0 200" in o for o in outs)

    run(2000)  # warm-up: pools, caches and the allocator reach their steady size
    rss0, lua0 = map(int, get(nginx, "/mem").split())
    run(8000)
    rss1, lua1 = map(int, get(nginx, "/mem").split())
    assert rss1 - rss0 < 4096, f"worker RSS grew {rss1 - rss0} KiB over 8,000 requests ({rss0} -> {rss1})"
    assert lua1 - lua0 < 1024, f"Lua heap grew {lua1 - lua0} KiB ({lua0} -> {lua1})"


def test_readme_location(nginx, ferrule_www):
    out = get(nginx, f"/readme?port={ferrule_www}")
    assert out.startswith("HTTP/1.0 200"), out
