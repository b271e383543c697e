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


# The SSLContext example appears in two READMEs: the binding's "drop-in
# ssl.SSLContext" section and the top-level README's Python section.
SSLCONTEXT_SECTIONS = [
    (README, "## A drop-in `ssl.SSLContext`"),
    (REPO / "README.md", "## Python\n"),
]


@pytest.fixture(scope="module", params=SSLCONTEXT_SECTIONS, ids=["binding-readme", "top-readme"])
def sslcontext_example(request):
    """The code block of a README's SSLContext section, executed."""
    path, heading = request.param
    text = path.read_text()
    assert heading in text, f"no {heading.strip()!r} section in {path}"
    section = text.split(heading, 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"^```python\n(.*?)^```", section, re.S | re.M)
    assert len(blocks) == 1, f"one ```python block in the SSLContext section of {path}"
    mod = types.ModuleType("readme_sslcontext")
    exec(compile(blocks[0], str(path), "exec"), mod.__dict__)  # noqa: S102 - our own README
    return mod


async def test_readme_sslcontext_httpx(sslcontext_example, pki):
    from sslctx_util import BODY, HTTPSServer, sserver
    with HTTPSServer(sserver(pki)) as srv:
        assert await asyncio.to_thread(sslcontext_example.get, srv.url + "/",
                                       pki / "root.pem") == BODY.decode()
        assert await sslcontext_example.get_async(srv.url + "/", pki / "root.pem") == \
            BODY.decode()


async def test_readme_sslcontext_asyncio(sslcontext_example, openssl_server, pki):
    srv = openssl_server("ecdsa-p256", "-www")
    response = await asyncio.wait_for(
        sslcontext_example.raw_get("localhost", srv.port, cafile=pki / "root.pem"), TIMEOUT)
    assert response.startswith(b"HTTP/1.0 200 ok")
    assert b"TLSv1.3" in response


async def test_readme_sslcontext_refuses_default_trust_mismatch(sslcontext_example, pki):
    """Without cafile the example trusts the system store, which does not
    hold the test root: the same server is refused."""
    import httpx
    from sslctx_util import HTTPSServer, sserver
    with HTTPSServer(sserver(pki)) as srv:
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            await sslcontext_example.get_async(srv.url + "/")
