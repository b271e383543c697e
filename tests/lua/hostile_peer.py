#!/usr/bin/env python3
"""tests/lua/hostile_peer.py MODE - a raw TCP server for the Lua suites:
prints "ACCEPT 127.0.0.1:PORT", takes one connection, reads the client's
first record and answers according to MODE (garbage, oversized, alert,
truncated, stall), then waits for the client to go."""
import socket
import sys
import time

REPLIES = {
    "garbage": b"HTTP/1.1 400 Bad Request\r\n\r\n",
    "oversized": bytes([22, 3, 3, 0x40, 0x01]) + bytes(16385),
    "alert": bytes([21, 3, 3, 0, 2, 2, 70]),
    "truncated": bytes([22, 3, 3, 0, 90, 2, 0, 0, 86]),  # a ServerHello cut short
}

mode = sys.argv[1]
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(1)
print(f"ACCEPT 127.0.0.1:{srv.getsockname()[1]}", flush=True)
c, _ = srv.accept()
c.settimeout(10)
hdr = c.recv(5)
if len(hdr) == 5:
    want = hdr[3] << 8 | hdr[4]
    while want > 0:
        chunk = c.recv(want)
        if not chunk:
            break
        want -= len(chunk)
if mode == "stall":
    time.sleep(30)
else:
    c.sendall(REPLIES[mode])
    if mode == "truncated":
        c.shutdown(socket.SHUT_WR)
    try:
        while c.recv(4096):
            pass
    except OSError:
        pass
