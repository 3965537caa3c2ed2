# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""An asyncio server: waits in epoll, calls accept() only when a client comes."""
import asyncio
import sys


async def handle(reader, writer):
    writer.write(b"hello\n")
    await writer.drain()
    writer.close()


async def main(port):
    server = await asyncio.start_server(handle, "127.0.0.1", port)
    async with server:
        await server.serve_forever()

asyncio.run(main(int(sys.argv[1])))
