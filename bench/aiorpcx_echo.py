#!/usr/bin/python3
"""The aiorpcX server of the gorpcx benchmarks.

Answers echo(value) -> value over newline-delimited JSON-RPC 2.0 with
aiorpcX's RPCSession and serve_rs at their defaults (newline framing,
JSON-RPC 2.0, aiorpcX's concurrency and cost limits), the method found
with handler_invocation as aiorpcX's own examples do.

Usage: /usr/bin/python3 aiorpcx_echo.py [--addr 127.0.0.1:0]

The first line on standard output is "listening on HOST:PORT". It
serves until SIGINT or SIGTERM. Debian's python3-aiorpcx provides the
library.
"""

import argparse
import asyncio
import signal
import sys

from aiorpcx import RPCSession, handler_invocation, serve_rs


async def echo(value):
    return value


class EchoSession(RPCSession):
    """A session whose only method is echo."""

    handlers = {"echo": echo}

    async def handle_request(self, request):
        handler = self.handlers.get(request.method)
        return await handler_invocation(handler, request)()


async def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--addr", "-addr", default="127.0.0.1:0",
                        help="listen address (port 0 picks a free one)")
    args = parser.parse_args()
    host, _, port = args.addr.rpartition(":")
    # A backlog large enough for the benchmark's burst of connections.
    server = await serve_rs(EchoSession, host, int(port), backlog=4096)
    addr = server.sockets[0].getsockname()
    print(f"listening on {addr[0]}:{addr[1]}", flush=True)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.close()


if __name__ == "__main__":
    asyncio.run(main())
    sys.exit(0)
