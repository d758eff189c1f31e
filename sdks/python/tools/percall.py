"""The worker's own work per call, load-independent: run it under an instruction counter.

    valgrind --tool=callgrind --callgrind-out-file=/dev/null \\
        .venv/bin/python tools/percall.py MODE N [FUNCTION]

MODE ``serve``: N Calls of FUNCTION (``bench.noop`` by default; ``bench.add`` takes two
ints, ``bench.echo`` one string) are put on the incoming shared-memory ring of a real
`Connection` (the worker's, with a Wire), the socket is then closed, and the connection's
reader threads serve them all, as a worker serves a hub that calls back to back; the results
are checked at the end. MODE ``prepare``: the same without serving, to subtract.

Instructions per call = ((serve N2 - serve N1) - (prepare N2 - prepare N1)) / (N2 - N1):
start-up, imports and the end are the same in all four runs. No threads race for the ring
(the calls are all there before the reader starts), so the counts barely move between runs,
unlike CPU time on a shared machine. POLYCALL_SPEEDUPS=0 measures the pure-Python path.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

import polycall
from polycall._conn import Connection, Wire
from polycall._proto import polycall_pb2 as pb
from polycall._shm import Rings
from polycall.codec import decode, encode, frame_bytes
from polycall.functions import lookup


@polycall.function(name="bench.noop")
def noop() -> None:
    return None


@polycall.function(name="bench.add")
def add(a: int, b: int) -> int:
    return a + b


@polycall.function(name="bench.echo")
def echo(s: str) -> str:
    return s


ARGS = {"bench.noop": [], "bench.add": [encode(2), encode(3)], "bench.echo": [encode("hello")]}
EXPECT = {"bench.noop": None, "bench.add": 5, "bench.echo": "hello"}
RING_BYTES = 1 << 24  # room for every call and every result: nothing waits for space


async def main(mode: str, n: int, name: str) -> None:
    d = tempfile.mkdtemp(prefix="pcpc")
    path = os.path.join(d, "rings")
    hub = Rings.create(path, RING_BYTES)
    rings = Rings.map(path, RING_BYTES)
    os.unlink(path)
    os.rmdir(d)
    rings.incoming.set_awake(True)  # a producer offers only to an awake consumer
    args = ARGS[name]
    for i in range(n):
        call = pb.Call(call_id=i + 1, function=name, args=args)
        if not hub.outgoing.offer([frame_bytes(pb.Frame(call=call))]):
            raise SystemExit("the incoming ring is full")
    if mode != "serve":
        return
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    wire = Wire(ours)
    wire.use_rings(rings)
    hub.incoming.set_awake(True)
    theirs.shutdown(socket.SHUT_WR)  # the end, read once the ring's calls are served
    with ThreadPoolExecutor(4) as pool:
        conn = Connection(
            None, None, pb.Welcome(version=1), host=lookup, executor=pool, wire=wire, threads=4
        )
        await conn.run()
    got, on_socket = wire.ring_stats[2], wire.ring_stats[3]
    if got != n or on_socket:
        raise SystemExit(f"{got} results on the ring, {on_socket} on the socket, of {n}")
    first = hub.incoming.take(1 << 20)
    assert first is not None
    outcome = first.result.WhichOneof("outcome")
    if outcome != "value" or decode(first.result.value) != EXPECT[name]:
        raise SystemExit(f"unexpected result {first}")
    fast = getattr(conn, "_fast", None)  # the C fast path, when there is one
    fast = 0 if fast is None else fast.calls
    print(f"{n} calls of {name} served, {fast} by the C fast path", file=sys.stderr)


if __name__ == "__main__":
    asyncio.run(
        main(sys.argv[1], int(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else "bench.noop")
    )
