"""The example in bindings/python/README.md runs as written, against local
servers: https_get() against `openssl s_server -www`, echo_server() with a
ferrule client."""

from __future__ import annotations

import asyncio
import re
import types

import pytest

import ferrule.asyncio as fa
from conftest import REPO, TIMEOUT, client_config, free_port

README = REPO / "bindings" / "python" / "README.md"


@pytest.fixture(scope="module")
def example():
    text = README.read_text()
    blocks = re.findall(r"^```python\n(.*?)^```", text, re.S | re.M)
    assert blocks, "no ```python block in bindings/python/README.md"
    code = blocks[0]
    assert len(code.splitlines()) <= 30, "the README example should stay within 30 lines"
    mod = types.ModuleType("readme_example")
    exec(compile(code, str(README), "exec"), mod.__dict__)  # noqa: S102 - our own README
    return mod


async def test_readme_https_get(example, openssl_server, pki):
    srv = openssl_server("ecdsa-p256", "-www")
    response = await asyncio.wait_for(
        example.https_get("localhost", srv.port, cafile=pki / "root.pem"), TIMEOUT)
    assert response.startswith(b"HTTP/1.0 200 ok")
    assert b"TLSv1.3" in response


async def test_readme_echo_server(example, pki):
    port = free_port()
    server = asyncio.create_task(example.echo_server(pki / "ecdsa-p256.chain.pem",
                                                     pki / "ecdsa-p256.key", port))
    try:
        for _ in range(200):  # wait for it to listen
            try:
                r, w = await fa.open_connection("127.0.0.1", port, config=client_config(pki),
                                                server_hostname="localhost")
                break
            except ConnectionRefusedError:
                await asyncio.sleep(0.05)
        else:
            pytest.fail("the README echo server did not start")
        for line in (b"hello\n", b"x" * 40000 + b"\n"):
            w.write(line)
            await w.drain()
            assert await asyncio.wait_for(r.readline(), TIMEOUT) == line
        w.close()
        await asyncio.wait_for(w.wait_closed(), TIMEOUT)
    finally:
        server.cancel()
        with pytest.raises(asyncio.CancelledError):
            await server
