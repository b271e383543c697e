"""A minimal peer-protocol peer (interop/peers/PROTOCOL.md) on Python's ssl,
for the harness's own tests (test_harness.py).  FAKE_PEER_MODE selects a
deliberate defect: `corrupt` (the server echoes one byte changed),
`bare-reason` (caps gives an empty reason).  Not a matrix peer: the real
Python peer is interop/peers/python/peer.py."""
import argparse
import json
import os
import socket
import ssl
import sys

MODE = os.environ.get("FAKE_PEER_MODE", "good")


def pattern(n):
    return bytes(i % 251 for i in range(n))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd", choices=("caps", "server", "client"))
    for f in ("--listen", "--connect", "--servername", "--cert", "--key", "--ca",
              "--verify-client", "--alpn", "--timeout"):
        ap.add_argument(f)
    ap.add_argument("--count", type=int, default=1)
    ap.add_argument("--send-bytes", type=int, default=1024)
    ap.add_argument("--hold", action="store_true")
    a = ap.parse_args()
    if a.cmd == "caps":
        na = "" if MODE == "bare-reason" else "the fake peer does not do this"
        feats = {k: na for k in ("suites", "groups", "hrr", "resumption", "early_data",
                                 "key_update", "client_auth", "sni", "ocsp", "record_size_limit")}
        feats["alpn"] = True
        print(json.dumps({"impl": "fake", "version": "0", "features": feats}))
        return 0
    if a.cmd == "server":
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        ctx.load_cert_chain(a.cert, a.key)
        if a.alpn:
            ctx.set_alpn_protocols(a.alpn.split(","))
        ls = socket.socket()
        host, port = a.listen.rsplit(":", 1)
        ls.bind((host, int(port)))
        ls.listen()
        print(f"ACCEPT 127.0.0.1:{ls.getsockname()[1]}", flush=True)
        for i in range(a.count):
            c, _ = ls.accept()
            rep = {"role": "server", "conn": i + 1, "ok": False, "error": None}
            try:
                t = ctx.wrap_socket(c, server_side=True)
                n = 0
                while True:
                    d = t.recv(65536)
                    if not d:
                        break
                    if MODE == "corrupt" and n == 0:
                        d = bytes([d[0] ^ 1]) + d[1:]
                    n += len(d)
                    t.sendall(d)
                rep.update(ok=True, received=n, close="close_notify",
                           alpn=t.selected_alpn_protocol())
                t.unwrap()
            except (OSError, ssl.SSLError) as e:
                rep["error"] = str(e)
            print(json.dumps(rep), flush=True)
        return 0
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_verify_locations(a.ca)
    if a.alpn:
        ctx.set_alpn_protocols(a.alpn.split(","))
    host, port = a.connect.rsplit(":", 1)
    rc = 0
    for i in range(a.count):
        rep = {"role": "client", "conn": i + 1, "ok": False, "error": None}
        try:
            t = ctx.wrap_socket(socket.create_connection((host, int(port)), timeout=10),
                                server_hostname=a.servername)
            data = pattern(a.send_bytes)
            t.sendall(data)
            got = b""
            while len(got) < len(data):
                d = t.recv(65536)
                if not d:
                    break
                got += d
            if a.hold:
                print("ECHOED", flush=True)
                sys.stdin.read()
            rep.update(ok=got == data, echo_ok=got == data, alpn=t.selected_alpn_protocol(),
                       close="close_notify")
            t.unwrap()
        except (OSError, ssl.SSLError) as e:
            rep["error"] = str(e)
            rc = 1
        print(json.dumps(rep), flush=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())
