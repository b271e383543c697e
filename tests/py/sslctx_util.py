"""Helpers of the test_sslcontext_* suites: ferrule and stdlib contexts for
the test PKI, and HTTPS servers (stdlib http.server over ssl or ferrule,
one that truncates its response) in threads."""

from __future__ import annotations

import http.server
import socket
import ssl
import threading

import ferrule

BODY = b"ferrule says hello\n" * 500  # 9,500 bytes


def fclient(pki, alpn=None, **options):
    ctx = ferrule.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(pki / "root.pem")
    if alpn:
        ctx.set_alpn_protocols(alpn)
    if options:
        ctx.ferrule_options(**options)
    return ctx


def fserver(pki, kind="ecdsa-p256", alpn=None, **options):
    ctx = ferrule.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pki / f"{kind}.chain.pem", pki / f"{kind}.key")
    if alpn:
        ctx.set_alpn_protocols(alpn)
    if options:
        ctx.ferrule_options(**options)
    return ctx


def sclient(pki, alpn=None):
    ctx = ssl.create_default_context(cafile=str(pki / "root.pem"))
    if alpn:
        ctx.set_alpn_protocols(alpn)
    return ctx


def sserver(pki, kind="ecdsa-p256", alpn=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_cert_chain(pki / f"{kind}.chain.pem", pki / f"{kind}.key")
    if alpn:
        ctx.set_alpn_protocols(alpn)
    return ctx


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        body = BODY if self.path == "/" else self.path.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-TLS-Version", str(self.connection.version()))
        self.send_header("X-Stack", type(self.connection).__module__)
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        data = self.rfile.read(n)
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class HTTPSServer:
    """http.server over a TLS context (stdlib or ferrule) in a thread."""

    def __init__(self, ctx):
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True,
                                            do_handshake_on_connect=False)
        self.port = self.httpd.server_address[1]
        self.url = f"https://localhost:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(30)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class TruncatingServer:
    """Answers one request per connection with a Content-Length of 100,000
    and 1,000 bytes of body, then closes the TCP connection without
    close_notify (a truncation attack or a crashed server)."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.lsock = socket.create_server(("127.0.0.1", 0))
        self.port = self.lsock.getsockname()[1]
        self.url = f"https://localhost:{self.port}"
        self.stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stop:
            try:
                raw, _ = self.lsock.accept()
            except OSError:
                return
            try:
                raw.settimeout(30)
                tls = self.ctx.wrap_socket(raw, server_side=True)
                buf = b""
                while b"\r\n\r\n" not in buf:
                    chunk = tls.recv(4096)
                    if not chunk:
                        break
                    buf += chunk
                tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n"
                            b"Content-Type: text/plain\r\n\r\n" + b"t" * 1000)
                # No unwrap(): the TCP connection ends without close_notify.
                sock = socket.socket(fileno=tls.detach())
                sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            except (OSError, ValueError):
                raw.close()

    def close(self):
        self.stop = True
        try:
            self.lsock.shutdown(socket.SHUT_RDWR)  # wakes the accept()
        except OSError:
            pass
        self.lsock.close()
        self.thread.join(30)
        assert not self.thread.is_alive(), "the truncating server did not stop"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
