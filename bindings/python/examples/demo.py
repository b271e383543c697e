"""demo.py PKI_DIR - the Python binding over loopback (run by `make demo`).

A ferrule.asyncio echo server; a ferrule.asyncio client and a client made
with Python's own ssl module talk to it; then the ferrule client resumes
its session.  Prints what each handshake negotiated.
"""

import asyncio
import pathlib
import ssl
import sys

import ferrule
import ferrule.asyncio


async def echo(reader, writer):
    while data := await reader.read(65536):
        writer.write(data)
        await writer.drain()
    writer.close()


async def main(pki: pathlib.Path) -> None:
    server_cfg = ferrule.ServerConfig(certfile=pki / "ecdsa-p256.chain.pem",
                                      keyfile=pki / "ecdsa-p256.key",
                                      alpn_protocols=["echo"])
    server = await ferrule.asyncio.start_server(echo, "127.0.0.1", 0, config=server_cfg)
    port = server.sockets[0].getsockname()[1]
    client_cfg = ferrule.ClientConfig(cafile=pki / "root.pem", alpn_protocols=["echo"])
    stdlib_ctx = ssl.create_default_context(cafile=str(pki / "root.pem"))
    session = None
    async with server:
        for who in ("ferrule.asyncio", "python ssl", "ferrule.asyncio (resumed)"):
            if who == "python ssl":
                reader, writer = await asyncio.open_connection(
                    "127.0.0.1", port, ssl=stdlib_ctx, server_hostname="localhost")
            else:
                reader, writer = await ferrule.asyncio.open_connection(
                    "127.0.0.1", port, config=client_cfg, server_hostname="localhost",
                    session=session)
            writer.write(b"hello over TLS 1.3")
            await writer.drain()
            reply = await reader.readexactly(18)
            conn = writer.get_extra_info("ferrule_object")
            extra = ""
            if conn is not None:
                session = conn.session
                extra = f", group {conn.group()}, resumed {conn.session_reused}"
            print(f"python demo: {who} -> ferrule server: {writer.get_extra_info('cipher')[0]}"
                  f"{extra}, echo ok: {reply == b'hello over TLS 1.3'}")
            writer.close()
            await writer.wait_closed()


if __name__ == "__main__":
    asyncio.run(main(pathlib.Path(sys.argv[1])))
