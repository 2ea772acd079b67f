"""An aiorpcX server for gorpcx's interop tests.

It serves the methods of gorpcx's interop-server contract (echo, add,
sleep, fail, notify_back, request_back, bye, stats) with aiorpcX's own
RPCSession, serve_rs and handler_invocation, plus two of its own: notes
(the notifications received on this connection) and notify_big [method,
n] (sends the caller a notification whose params are a string of n "x"
characters, to go over the peer's size limit, then returns true).

    python3 aiorpcx_server.py [--protocol v2|v1|loose|auto] [--max-size N] [--port N]

It listens on 127.0.0.1 on --port (a free port by default) and prints
the port as its first line of standard output. Later lines are JSON objects reporting events
(such as {"event": "sleep_started"}). It runs until it is killed or its
standard input is closed.
"""

import argparse
import asyncio
import json
import os
import threading

from aiorpcx import (
    JSONRPCAutoDetect, JSONRPCConnection, JSONRPCLoose, JSONRPCv1, JSONRPCv2,
    NewlineFramer, Notification, ReplyAndDisconnect, RPCError, RPCSession,
    handler_invocation, serve_rs,
)

PROTOCOLS = {
    'v2': JSONRPCv2,
    'v1': JSONRPCv1,
    'loose': JSONRPCLoose,
    'auto': JSONRPCAutoDetect,
}


def report(**fields):
    print(json.dumps(fields, sort_keys=True), flush=True)


class InteropSession(RPCSession):
    """One connection, served with the interop methods."""

    def __init__(self, transport, *, protocol, max_size):
        super().__init__(transport, connection=JSONRPCConnection(protocol))
        self.max_size = max_size
        self.received_notes = []

    def default_framer(self):
        return NewlineFramer(self.max_size)

    async def handle_request(self, request):
        handler = None
        if isinstance(request.method, str) and request.method.isidentifier():
            handler = getattr(self, 'on_' + request.method, None)
        if isinstance(request, Notification):
            # Every notification is recorded; those without a handler
            # are not errors here.
            self.received_notes.append({'method': request.method, 'params': request.args})
            if handler is None:
                return None
        return await handler_invocation(handler, request)()

    async def on_echo(self, value):
        return value

    async def on_add(self, a, b):
        return a + b

    async def on_sleep(self, seconds, /):
        report(event='sleep_started', seconds=seconds)
        await asyncio.sleep(seconds)
        return True

    async def on_fail(self, code, message, /):
        raise RPCError(code, message)

    async def on_notify_back(self, method, params, /):
        await self.send_notification(method, params)
        return True

    async def on_request_back(self, method, params, /):
        # An error answer raises RPCError, which becomes this request's error.
        return await self.send_request(method, params)

    async def on_bye(self):
        raise ReplyAndDisconnect('bye')

    async def on_stats(self):
        return {'recv_count': self.recv_count, 'send_count': self.send_count,
                'errors': self.errors}

    async def on_notes(self):
        return self.received_notes

    async def on_notify_big(self, method, n, /):
        await self.send_notification(method, ['x' * n])
        return True


def exit_when_stdin_closes():
    """The test holds our standard input: if it goes away, so do we."""
    def watch():
        while os.read(0, 4096):
            pass
        os._exit(0)
    threading.Thread(target=watch, daemon=True).start()


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--protocol', choices=sorted(PROTOCOLS), default='v2')
    parser.add_argument('--max-size', type=int, default=1_000_000)
    parser.add_argument('--port', type=int, default=0)
    args = parser.parse_args()
    protocol = PROTOCOLS[args.protocol]

    def factory(transport):
        return InteropSession(transport, protocol=protocol, max_size=args.max_size)

    server = await serve_rs(factory, '127.0.0.1', args.port)
    print(server.sockets[0].getsockname()[1], flush=True)
    exit_when_stdin_closes()
    await server.serve_forever()


if __name__ == '__main__':
    asyncio.run(main())
