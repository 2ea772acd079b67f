"""An aiorpcX client for gorpcx's interop tests.

It connects with aiorpcX's connect_rs to a server of gorpcx's
interop-server contract (or aiorpcx_server.py) and runs a scenario,
printing one JSON object per line on standard output for each outcome:

    {"case": NAME, "result": R}                    a result
    {"case": NAME, "error": [CODE, MESSAGE]}       an error response (RPCError)
    {"case": NAME, "protocol_error": [CODE, MSG]}  aiorpcX's ProtocolError
    {"case": NAME, "exception": TYPE}              any other exception

    python3 aiorpcx_client.py --port N [--protocol v2|v1|loose|auto]
        [--max-size N] [--scenario suite|oversize_send|oversize_recv|mid_call|echo]

The client serves two methods to the server: client.mul (x * y) and
client.fail (raises RPCError(code, message)); it records notifications.
"""

import argparse
import asyncio
import json
import os
import threading

from aiorpcx import (
    JSONRPCAutoDetect, JSONRPCConnection, JSONRPCLoose, JSONRPCv1, JSONRPCv2,
    NewlineFramer, Notification, ProtocolError, RPCError, RPCSession,
    connect_rs, handler_invocation,
)

PROTOCOLS = {
    'v2': JSONRPCv2,
    'v1': JSONRPCv1,
    'loose': JSONRPCLoose,
    'auto': JSONRPCAutoDetect,
}

# No single wait may hang the test.
WAIT = 10


def out(case, **fields):
    print(json.dumps(dict(case=case, **fields), sort_keys=True), flush=True)


def outcome(value):
    """The JSON form of a result or an exception."""
    if isinstance(value, RPCError):
        return {'error': [value.code, value.message]}
    if isinstance(value, ProtocolError):
        return {'protocol_error': [value.code, value.message]}
    if isinstance(value, BaseException):
        return {'exception': type(value).__name__}
    return {'result': value}


async def run(case, awaitable):
    try:
        value = await asyncio.wait_for(awaitable, WAIT)
    except (Exception, asyncio.CancelledError) as e:  # reported, not raised
        value = e
    out(case, **outcome(value))
    return value


class ClientSession(RPCSession):
    """The client's side: serves client.mul and client.fail."""

    def __init__(self, transport, *, protocol, max_size):
        super().__init__(transport, connection=JSONRPCConnection(protocol))
        self.max_size = max_size
        self.notes = []
        self.note_arrived = asyncio.Event()

    def default_framer(self):
        return NewlineFramer(self.max_size)

    async def handle_request(self, request):
        if isinstance(request, Notification):
            self.notes.append({'method': request.method, 'params': request.args})
            self.note_arrived.set()
            return None
        handler = {'client.mul': self.mul, 'client.fail': self.fail}.get(request.method)
        return await handler_invocation(handler, request)()

    async def mul(self, x, y):
        return x * y

    async def fail(self, code, message, /):
        raise RPCError(code, message)

    async def wait_note(self):
        await asyncio.wait_for(self.note_arrived.wait(), WAIT)
        self.note_arrived.clear()
        return self.notes.pop(0)


async def batch(session):
    """A batch of four requests and a notification; results in order."""
    async with session.send_batch() as b:
        b.add_request('echo', ['b1'])
        b.add_request('add', [1, 2])
        b.add_notification('echo', ['in a batch'])
        b.add_request('fail', [5, 'five'])
        b.add_request('no_such_method')
    return [outcome(r) for r in b.results]


async def suite(session):
    await run('echo_positional', session.send_request('echo', [{'a': [1, 2.5, None, 'ü'], 'b': {}}]))
    await run('echo_named', session.send_request('echo', {'value': 'named'}))
    await run('add_positional', session.send_request('add', [2, 3.5]))
    await run('add_named', session.send_request('add', {'a': 40, 'b': 2}))
    await run('add_too_few', session.send_request('add', [1]))
    await run('add_too_many', session.send_request('add', [1, 2, 3]))
    await run('add_wrong_name', session.send_request('add', {'a': 1, 'c': 2}))
    await run('sleep_named', session.send_request('sleep', {'seconds': 0}))
    await run('unknown_method', session.send_request('no_such_method', []))
    await run('fail', session.send_request('fail', [-1234, 'custom failure']))
    await run('batch', batch(session))

    # A notification from the server.
    await run('notify_back', session.send_request('notify_back', ['client.note', ['hello', 1]]))
    await run('notification_received', session.wait_note())

    # A notification to the server, seen in its message count.
    before = await session.send_request('stats', [])
    await session.send_notification('echo', ['ping'])
    after = await session.send_request('stats', [])
    out('notification_sent', result=after['recv_count'] - before['recv_count'])

    # Requests from the server.
    await run('request_back', session.send_request('request_back', ['client.mul', [6, 7]]))
    await run('request_back_named', session.send_request('request_back', ['client.mul', {'x': 3, 'y': 5}]))
    await run('request_back_error', session.send_request('request_back', ['client.fail', [-77, 'client says no']]))

    # Concurrency: an echo sent after a sleep is answered first.
    order = []

    async def timed(name, method, args):
        result = await session.send_request(method, args)
        order.append(name)
        return result
    sleeper = asyncio.create_task(timed('sleep', 'sleep', [0.5]))
    await asyncio.sleep(0)
    await run('echo_during_sleep', timed('echo', 'echo', ['quick']))
    await asyncio.wait_for(sleeper, WAIT)
    out('concurrency', result=order)

    # bye: the answer, then the server closes the connection.
    await run('bye', session.send_request('bye', []))
    await run('closed_after_bye', closed(session))


async def closed(session):
    for _ in range(WAIT * 100):
        if session.is_closing():
            return True
        await asyncio.sleep(0.01)
    return False


async def oversize_send(session):
    """A message over the server's limit (10,000 bytes): dropped, and the
    server reads on at the next line."""
    await session.send_notification('echo', ['x' * 300_000])
    await run('after_oversized_sent', session.send_request('echo', ['after sent']))
    # send_count is left out: gorpcx counts a reply once its write has
    # returned, which can be just after this client read it.
    stats = await session.send_request('stats', [])
    out('server_stats', result={k: stats[k] for k in ('recv_count', 'errors')})


async def oversize_recv(session):
    """A message over this client's limit (10,000 bytes): the server's
    notification back is dropped, and its answer read."""
    await run('oversized_notification', session.send_request('notify_back', ['client.note', ['x' * 300_000]]))
    out('notes_received', result=len(session.notes))
    await run('after_oversized_received', session.send_request('echo', ['after received']))


async def mid_call(session):
    """A request the server never answers: the server side goes away."""
    await run('mid_call', session.send_request('sleep', [30]))
    await run('closed_mid_call', closed(session))


async def echo(session):
    await run('echo', session.send_request('echo', ['hi']))


SCENARIOS = {
    'suite': suite, 'oversize_send': oversize_send, 'oversize_recv': oversize_recv,
    'mid_call': mid_call, 'echo': echo,
}


def exit_when_stdin_closes():
    """The test holds our standard input: if it goes away, so do we."""
    def watch():
        while os.read(0, 4096):
            pass
        os._exit(3)
    threading.Thread(target=watch, daemon=True).start()


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--port', type=int, required=True)
    parser.add_argument('--protocol', choices=sorted(PROTOCOLS), default='v2')
    parser.add_argument('--max-size', type=int, default=1_000_000)
    parser.add_argument('--scenario', choices=sorted(SCENARIOS), default='suite')
    args = parser.parse_args()
    protocol = PROTOCOLS[args.protocol]
    exit_when_stdin_closes()

    def factory(transport):
        return ClientSession(transport, protocol=protocol, max_size=args.max_size)

    async with connect_rs('127.0.0.1', args.port, session_factory=factory) as session:
        await SCENARIOS[args.scenario](session)
    out('done', result=True)


if __name__ == '__main__':
    asyncio.run(main())
