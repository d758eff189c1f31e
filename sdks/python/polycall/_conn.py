"""One protocol connection (after the handshake), shared by the worker and the clients.

A `Connection` lives on one asyncio event loop. Over asyncio streams (the clients) every read
and write happens on that loop, so frames never interleave. Over a `Wire` (the worker) frames
are read by leader/follower threads and written whole under a lock: a sync call runs on the
thread that read it, Pings are answered by the reader, every other frame is handed to the
loop in order. It multiplexes calls in both directions by call id, answers Ping at once (even
while functions run), serves incoming Calls when it hosts functions (sync ones off the loop,
async ones as tasks), honours Cancel and timeout_nanos, and drains on GoAway. Methods other
than `call`/`run`/`goaway` must be called on the loop; other threads go through
`asyncio.run_coroutine_threadsafe`.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import dataclasses
import hashlib
import hmac
import logging
import os
import select
import socket
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

from . import __version__, functions
from ._context import CallContext, _current
from ._proto import polycall_pb2 as pb
from ._shm import FastPath, Ring, Rings, _ring_frame, fence
from .codec import (
    BATCH_ENTRIES,
    BIG_BLOCK,
    MAX_DEPTH,
    MAX_FRAME_BYTES,
    ProtocolError,
    _decode,
    _decode_ndarray,
    batch_entry_bytes,
    batch_entry_of,
    batch_result_parts,
    check_length,
    decode,
    encode,
    encode_into,
    frame_bytes,
    frame_parts,
    ndarray_result_parts,
    parse_frame,
    result_frame_bytes,
    split_call,
)
from .errors import (
    Code,
    PolyCallError,
    Unauthenticated,
    Unavailable,
    error_for,
    status_of_exception,
)
from .functions import Function
from .types import OptionalOf, Scalar

log = logging.getLogger("polycall")

PROTOCOL_VERSIONS = (1,)
# StreamReader buffer: big enough that an ndarray of megabytes arrives in few reads.
STREAM_LIMIT = 1 << 20
# Requested socket send buffer (see Wire).
SEND_BUFFER_BYTES = 4 << 20
# Fewest consecutive sync calls of a Batch that one pool job runs.
BATCH_RUN = 64
# A reader thread runs the calls of a Batch itself (_serve_batch_here) and hands the rest to
# pool jobs once BATCH_HERE_SECONDS have passed if the calls took BATCH_SLOW_CALL_SECONDS each
# on average: calls that wait (I/O, sleep, nested calls) then run concurrently. Quick calls stay
# on the reader even when the machine is busy and the clock runs past the budget (more threads
# would only fight for the GIL).
BATCH_HERE_SECONDS = 0.002
BATCH_SLOW_CALL_SECONDS = 0.000_05
# How often a follower reader checks on a leader that runs a call (seconds): a call that runs
# longer than one to two checks gets its reading taken over (see Connection._reader_main).
FOLLOWER_CHECK = 0.001
# Checks that find the leader reading, after which a follower sleeps until woken.
FOLLOWER_CHECKS_BEFORE_SLEEP = 50
# How long a reader keeps polling the shared-memory ring after the last frame it read or sent
# (ns). A caller waiting for a result sends its next call within microseconds, and a record
# found by polling costs no wake-up; beyond this the reader sleeps on the socket so an idle
# worker burns no CPU (the hub then sends on the socket, or a Wake).
RING_SPIN_NS = 50_000
# Ring polls between two looks at the socket (a Cancel, GoAway or big frame comes there): a
# look is a system call, a poll a few hundred nanoseconds.
RING_SOCKET_CHECK = 32
# How long a reader asleep waits on the socket before looking at the ring anyway (ms): CPython
# cannot promise a full fence on every CPU, so a lost wake-up costs this, never a hang. After
# RING_SLEEP_LONG_AFTER looks that found nothing (a second), it looks every RING_SLEEP_LONG_MS:
# an idle worker then wakes 20 times a second, not 200 (0.9% of a core measured at 5 ms).
RING_SLEEP_MS = 5
RING_SLEEP_LONG_AFTER = 200
RING_SLEEP_LONG_MS = 50
# First byte of a frame body whose kind may travel on a ring (its oneof field's protobuf tag):
# Call 4, Result 5, Ping 7, Pong 8, Batch 11, BatchResult 12 (WIRE.md).
RING_KINDS = frozenset((4 << 3 | 2, 5 << 3 | 2, 7 << 3 | 2, 8 << 3 | 2, 11 << 3 | 2, 12 << 3 | 2))
# First byte of a Call frame's body (Frame.call: field 4, length-delimited).
CALL_TAG = 4 << 3 | 2
# The big ndarray blocks of a Call read without them, by argument index (codec.split_call).
Blocks = dict[int, memoryview]
# A whole Wake frame, length prefix included.
WAKE_FRAME = frame_bytes(pb.Frame(wake=pb.Wake()))


@dataclass(frozen=True)
class Limits:
    max_frame_bytes: int = MAX_FRAME_BYTES
    max_depth: int = MAX_DEPTH
    max_in_flight: int = 0

    @staticmethod
    def of(pl: pb.Limits) -> Limits:
        # proto3 cannot tell "absent" from 0: 0 means the default.
        return Limits(
            pl.max_frame_bytes or MAX_FRAME_BYTES,
            pl.max_depth or MAX_DEPTH,
            pl.max_in_flight,
        )


async def read_frame(reader: asyncio.StreamReader, max_frame_bytes: int) -> pb.Frame | None:
    """The next frame, None at a clean end of stream; ProtocolError on an invalid one."""
    try:
        head = await reader.readexactly(4)
    except asyncio.IncompleteReadError as e:
        if e.partial:
            raise ProtocolError("stream ended inside a frame length") from None
        return None
    length = int.from_bytes(head, "big")
    check_length(length, max_frame_bytes)
    try:
        body = await reader.readexactly(length)
    except asyncio.IncompleteReadError:
        raise ProtocolError(f"stream ended inside a frame of {length} bytes") from None
    return parse_frame(body)


class Wire:
    """A blocking socket: read by one thread at a time, written by any thread under a lock.

    The worker's transport (see `Connection` with ``wire=``). Reads are buffered; a big frame
    body is received straight into its own buffer. `readexactly`/`write`/`drain`/`close` let
    the asyncio `handshake` run over it before the connection starts.

    With shared-memory rings (`use_rings`, WIRE.md "Shared-memory rings") `read_frame` also
    takes frames from the incoming ring, polling it for a while after each frame (`RING_SPIN_NS`)
    while `quiet()` says no other thread of ours has Python work, then sleeping on the socket;
    `send` puts the frames allowed there on the outgoing ring when it has room.
    """

    CHUNK = 64 * 1024

    def __init__(self, sock: socket.socket) -> None:
        sock.setblocking(True)
        with contextlib.suppress(OSError):
            # A bigger send buffer (the kernel caps it at net.core.wmem_max): an 8 MB array then
            # crosses in a few pieces instead of ~40 of the default ~200 KB, each a wake-up.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER_BYTES)
        self.sock = sock
        self._buf = bytearray()
        self._pos = 0
        self._wlock = threading.Lock()
        self.closed = False
        # Shared-memory rings, when the hub offered them and they could be mapped.
        self.rings: Rings | None = None
        # Set by the Connection: True while no other thread of ours has Python work to do, so
        # that a reader polling the ring (holding the GIL) holds up nobody.
        self.quiet: Callable[[], bool] = lambda: True
        self._rlock = threading.Lock()  # the outgoing ring's one producer at a time
        self._poller: select.poll | None = None
        # The blocks of the frame read last (see read_frame); only the reading thread uses it.
        self.blocks: Blocks | None = None
        self._held: pb.Frame | None = None  # a socket frame waiting for older ring records
        self._held_blocks: Blocks | None = None
        self._held_until = 0  # ring position up to which records come before `_held`
        self._eof = False  # the socket ended (after `_held`, if any)
        self._last = 0  # monotonic ns of the last frame read or sent: traffic is expected
        self.spin_ns = RING_SPIN_NS
        # FastPath.take when the connection serves calls in C (Connection._serve_fast): it
        # takes what Ring.take does, but gives the calls it serves prepared (tuples).
        self.take_fast: Callable[[int], pb.Frame | tuple[Any, ...] | None] | None = None
        # Frames by path, with rings (for the log and tests): in on the ring, in on the socket
        # (Wakes not counted), out on the ring, out on the socket, Wakes sent.
        self.ring_stats = [0, 0, 0, 0, 0]

    def use_rings(self, rings: Rings) -> None:
        """From now on, frames also travel through `rings` (before the first frame is read)."""
        self._poller = select.poll()
        self._poller.register(self.sock, select.POLLIN)
        self.rings = rings
        rings.incoming.set_awake(True)
        self._last = time.monotonic_ns()

    def read_exactly(self, n: int) -> bytes | bytearray | None:
        """`n` bytes; None at a clean end of stream; IncompleteReadError inside them."""
        have = len(self._buf) - self._pos
        if have >= n:
            out = self._buf[self._pos : self._pos + n]
            self._pos += n
            return out
        if n - have > self.CHUNK:
            out = bytearray(n)
            out[:have] = self._buf[self._pos :]
            self._buf.clear()
            self._pos = 0
            view = memoryview(out)
            got = have
            while got < n:
                # MSG_WAITALL: the kernel fills the rest in one call (fewer returns to Python);
                # it returns early only at the end of the stream, a signal or a shutdown.
                k = self.sock.recv_into(view[got:], 0, socket.MSG_WAITALL)
                if k == 0:
                    raise asyncio.IncompleteReadError(bytes(out[:got]), n)
                got += k
            return out
        del self._buf[: self._pos]
        self._pos = 0
        while len(self._buf) < n:
            chunk = self.sock.recv(self.CHUNK)
            if not chunk:
                if not self._buf:
                    return None
                raise asyncio.IncompleteReadError(bytes(self._buf), n)
            self._buf += chunk
        out = self._buf[:n]
        self._pos = n
        return out

    def read_frame(self, max_frame_bytes: int) -> pb.Frame | tuple[Any, ...] | None:
        """The next frame, None at a clean end of stream; ProtocolError on an invalid one.
        With `take_fast`, a call the fast path serves comes as a tuple (FastPath.take).

        A Call with big ndarray arguments comes without their data: `blocks` then holds them
        (codec.split_call), until the next read.
        """
        self.blocks = None
        if self.rings is None:
            return self._socket_frame(max_frame_bytes)
        take = self.take_fast
        if take is not None and self._held is None:
            # The first poll of _ring_or_socket_frame, without its set-up: with the fast path
            # the record is there at once whenever calls come back to back.
            frame = take(max_frame_bytes)
            if frame is not None:
                self._last = time.monotonic_ns()
                self.ring_stats[0] += 1
                return frame
        return self._ring_or_socket_frame(self.rings.incoming, max_frame_bytes)

    def _socket_frame(self, max_frame_bytes: int) -> pb.Frame | None:
        try:
            head = self.read_exactly(4)
        except asyncio.IncompleteReadError:
            raise ProtocolError("stream ended inside a frame length") from None
        if head is None:
            return None
        length = int.from_bytes(head, "big")
        check_length(length, max_frame_bytes)
        try:
            body = self.read_exactly(length)
        except asyncio.IncompleteReadError:
            body = None
        if body is None:
            raise ProtocolError(f"stream ended inside a frame of {length} bytes")
        if length > BIG_BLOCK and body[0] == CALL_TAG:
            # The blocks stay in `body`, which is this frame's alone: the arrays view it.
            split = split_call(memoryview(body).toreadonly())
            if split is not None:
                frame, self.blocks = split
                return frame
        return parse_frame(body)

    def _ring_or_socket_frame(
        self, ring: Ring, max_frame_bytes: int
    ) -> pb.Frame | tuple[Any, ...] | None:
        # WIRE.md: before a frame read from the socket is dispatched, the records on the ring
        # at that moment are (so a Cancel sent after its Call on the ring comes after it).
        # Polling holds the GIL, so it happens only while `quiet()`: otherwise the reader
        # sleeps at once (awake = 0) and the hub sends on the socket meanwhile. Each poll
        # yields the CPU: on a machine with more busy threads than cores, the hub thread that
        # will publish the next record may be waiting for this very core (without the yield
        # a reader spun its whole window, then slept, and nearly every call took the socket).
        poller = self._poller
        assert poller is not None
        now = time.monotonic_ns
        yield_cpu = os.sched_yield
        take = self.take_fast or ring.take
        quiet = self.quiet
        spin_ns = self.spin_ns
        spins = 0
        while True:
            if self._held is None:
                frame = take(max_frame_bytes)
                if frame is not None:
                    self._last = now()
                    self.ring_stats[0] += 1
                    return frame
            else:
                if ring.head() < self._held_until:
                    frame = take(max_frame_bytes)
                    if frame is not None:
                        self.ring_stats[0] += 1
                        return frame
                frame, self._held = self._held, None
                self.blocks, self._held_blocks = self._held_blocks, None
                return frame
            if self._eof:
                return None
            spins += 1
            spin = now() - self._last < spin_ns and quiet()
            if spin and spins % RING_SOCKET_CHECK:
                yield_cpu()
                continue
            # Every RING_SOCKET_CHECK polls: anything on the socket? (Asleep, the wait below
            # looks at it; bytes already read look at it before.)
            if self._pos < len(self._buf) or (spin and poller.poll(0)):
                self._take_socket_frame(ring, max_frame_bytes)
                continue
            if spin:
                yield_cpu()
                continue
            # Sleep: say so, then look once more (the hub may have published before it saw
            # awake = 0). A wake-up the fence cannot guarantee costs RING_SLEEP_MS at most.
            # Outside this block the reader is always awake.
            ring.set_awake(False)
            fence()
            readable = False
            if not ring.ready():
                looks = 0
                while True:
                    if poller.poll(
                        RING_SLEEP_MS if looks < RING_SLEEP_LONG_AFTER else RING_SLEEP_LONG_MS
                    ):
                        readable = True
                        break
                    if ring.ready() or self.closed:
                        break
                    looks += 1
            ring.set_awake(True)
            self._last = now()
            if readable:
                self._take_socket_frame(ring, max_frame_bytes)

    def _take_socket_frame(self, ring: Ring, max_frame_bytes: int) -> None:
        """Reads the frame waiting on the socket; it is returned once older records are."""
        frame = self._socket_frame(max_frame_bytes)
        blocks, self.blocks = self.blocks, None
        self._held_until = ring.tail()
        ring.set_awake(True)
        self._last = time.monotonic_ns()
        if frame is None:
            self._eof = True
        elif frame.WhichOneof("body") != "wake":  # a Wake only says "look at the ring"
            self._held = frame
            self._held_blocks = blocks
            self.ring_stats[1] += 1

    def send(self, parts: list[bytes]) -> None:
        """Writes `parts` (a length-prefixed frame) whole, after any other thread's frame.

        On the outgoing ring when rings are in use, the frame's kind may go there and the ring
        takes it; else on the socket. OSError if the socket broke.
        """
        rings = self.rings
        if rings is not None:
            first = parts[0]
            kind = first[4] if len(first) > 4 else parts[1][0]
            if kind in RING_KINDS:
                out = rings.outgoing
                with self._rlock:
                    published = out.offer(parts)
                # Releasing the lock after the tail store is the full fence WIRE.md asks for
                # before looking at `awake` (a locked instruction, as in _shm.fence).
                if published:
                    self._last = time.monotonic_ns()
                    self.ring_stats[2] += 1
                    if not out.consumer_awake():
                        self.send_wake()  # it went to sleep meanwhile
                    return
            self.ring_stats[3] += 1
        self._send_socket(parts)

    def send_wake(self) -> None:
        """Sends Wake on the socket: the hub fell asleep before it saw our last record."""
        self.ring_stats[4] += 1
        self._send_socket([WAKE_FRAME])

    def _send_socket(self, parts: list[bytes]) -> None:
        with self._wlock:
            if len(parts) == 1:
                self.sock.sendall(parts[0])
                return
            views = [memoryview(p) for p in parts]
            while views:
                sent = self.sock.sendmsg(views)
                while views and sent >= len(views[0]):
                    sent -= len(views[0])
                    views.pop(0)
                if views and sent:
                    views[0] = views[0][sent:]

    def shutdown(self) -> None:
        """Ends both directions: a thread blocked reading sees the end of the stream."""
        self.closed = True
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)

    # For `handshake`, which speaks asyncio streams.
    async def readexactly(self, n: int) -> bytes:
        data = self.read_exactly(n)
        if data is None:
            raise asyncio.IncompleteReadError(b"", n)
        return bytes(data)

    def write(self, data: bytes) -> None:
        self.send([data])

    async def drain(self) -> None:
        pass

    def close(self) -> None:
        self.shutdown()
        self.sock.close()


def proof_of(secret: bytes, nonce: bytes, worker_id: str) -> bytes:
    """HMAC-SHA256(secret, nonce || UTF-8(worker_id)), as WIRE.md "Handshake" defines it."""
    return hmac.new(secret, nonce + worker_id.encode("utf-8"), hashlib.sha256).digest()


async def handshake(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    *,
    role: int,
    worker_id: str = "",
    secret: bytes = b"",
    features: tuple[str, ...] = (),
) -> pb.Welcome:
    """Challenge -> Hello -> Welcome. Raises Unauthenticated (GoAway) or Unavailable.

    `features` are offered in the Hello (e.g. "shm-rings/1"); the Welcome says which were taken.
    """
    first = await read_frame(reader, MAX_FRAME_BYTES)
    if first is None:
        raise Unavailable("the hub closed the connection before its Challenge")
    if first.WhichOneof("body") != "challenge":
        raise ProtocolError(f"expected Challenge, got {first.WhichOneof('body')}")
    common = set(PROTOCOL_VERSIONS) & set(first.challenge.versions)
    if not common:
        writer.close()
        raise error_for(
            Code.FAILED_PRECONDITION,
            f"no common protocol version (hub speaks {list(first.challenge.versions)},"
            f" this SDK {list(PROTOCOL_VERSIONS)})",
        )
    hello = pb.Hello(
        version=max(common),
        role=role,  # type: ignore[arg-type]
        language="python",
        sdk_version=__version__,
        pid=os.getpid(),
        features=features,
    )
    if role == pb.WORKER:
        hello.worker_id = worker_id
        hello.proof = proof_of(secret, first.challenge.nonce, worker_id)
    writer.write(frame_bytes(pb.Frame(hello=hello)))
    await writer.drain()
    answer = await read_frame(reader, MAX_FRAME_BYTES)
    if answer is None:
        raise Unavailable("the hub closed the connection during the handshake")
    kind = answer.WhichOneof("body")
    if kind == "goaway":
        err = PolyCallError.from_proto(answer.goaway.status)
        if err.code == Code.OK:
            err = Unauthenticated("the hub refused the handshake")
        raise err
    if kind != "welcome":
        raise ProtocolError(f"expected Welcome, got {kind}")
    return answer.welcome


# A quick call of a batch: its place, the call, the function, the function's name.
_Quick = tuple[int, pb.Call, Function, str]


@dataclass(slots=True)
class _BatchRun:
    """A Batch being served: its calls sorted, and the bytes of each result as they come."""

    batch_id: int
    entries: list[bytes | list[bytes]]
    quick: list[_Quick]
    slow: list[tuple[int, pb.Call]]


@dataclass(slots=True)
class _Serving:
    ctx: CallContext
    task: asyncio.Task[Any] | None = None
    answered: bool = False


# The fields FastPath (polycall/_speedups.c) fills, in this order, when it makes a CallContext
# and a _Serving: (connection, call id, function, None, metadata, False, None) and (ctx, None,
# False). If the dataclasses change, the fast path is not used until _speedups.c follows.
_CTX_FIELDS = ("connection", "call_id", "function", "deadline", "metadata", "_cancelled", "_nested")
_SERVING_FIELDS = ("ctx", "task", "answered")


class Connection:
    """A multiplexed PolyCall connection on one event loop. See the module doc."""

    def __init__(
        self,
        reader: asyncio.StreamReader | None,
        writer: asyncio.StreamWriter | None,
        welcome: pb.Welcome,
        *,
        host: Callable[[str], Function | None] | None = None,
        executor: Executor | None = None,
        wire: Wire | None = None,
        threads: int = 8,
    ) -> None:
        self.loop = asyncio.get_running_loop()
        self.limits = Limits.of(welcome.limits)
        self.node_id = welcome.node_id
        self._reader = reader
        self._writer = writer
        # With a Wire (the worker), frames are read by threads, leader/follower: the thread
        # that reads a sync call hands the reading on and runs the call itself, then writes
        # the result, so a call costs no hand-off between threads (see _reader_main). Other
        # frames go to the loop, in order.
        self._wire = wire
        self._max_running = max(1, threads)
        self._tlock = threading.Lock()
        self._cv = threading.Condition(self._tlock)
        self._leader: int | None = None  # the thread that reads (see _reader_main)
        self._busy = False  # the leader is running a call, not reading
        self._busy_seq = 0  # calls the leaders have started running
        self._deep = 0  # followers asleep until the leader starts a call
        self._idle = 0
        self._running = 0
        self._stop = False
        self._ended: asyncio.Event | None = None
        self._alock = threading.Lock()
        # Frames the readers handed to the loop, and those the loop has handled: while they
        # differ the loop wants the GIL, so a reader does not poll a ring (see _quiet).
        self._handed = 0
        self._handled = 0
        self._host = host
        self._executor = executor
        self._next_id = 1
        self._pending: dict[int, asyncio.Future[pb.Result]] = {}
        self._pings: dict[int, asyncio.Future[None]] = {}
        self._serving: dict[int, _Serving] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._in_flight = (
            asyncio.Semaphore(self.limits.max_in_flight) if self.limits.max_in_flight else None
        )
        self._draining = False
        self._batches = 0
        self._closed = asyncio.Event()
        self.goaway_status: pb.Status | None = None
        self.close_reason: PolyCallError | None = None
        # The C fast path of sync calls read from the ring (see _serve_fast), made by run().
        self._fast: Any = None
        if wire is not None:
            wire.quiet = self._quiet

    # ---- lifecycle ---------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    async def run(self) -> None:
        """Reads and dispatches frames until the connection ends; then fails what is left."""
        if self._wire is not None:
            self._ended = asyncio.Event()
            self._fast = self._fast_path()
            if self._fast is not None:
                self._wire.take_fast = self._fast.take
            self._spawn_reader()
            try:
                await self._ended.wait()
            finally:
                await self._finish()
            return
        assert self._reader is not None
        try:
            while True:
                frame = await read_frame(self._reader, self.limits.max_frame_bytes)
                if frame is None:
                    if not self._draining:
                        self.close_reason = Unavailable("the hub closed the connection")
                    break
                if self._dispatch(frame):
                    break
        except ProtocolError as e:
            log.error("protocol error: %s", e.message)
            self.close_reason = Unavailable(f"protocol error: {e.message}")
            self._send_goaway(e)
        except (ConnectionError, OSError) as e:
            self.close_reason = Unavailable(f"connection lost: {e}")
        finally:
            await self._finish()

    async def _finish(self) -> None:
        # Draining happened before the read loop ended (_drain_then_close); what is left now
        # cannot be answered any more.
        reason = self.close_reason or Unavailable("connection closed")
        for fut in self._pending.values():
            if not fut.done():
                fut.set_exception(reason)
        for pfut in self._pings.values():
            if not pfut.done():
                pfut.set_exception(reason)
        for s in list(self._serving.values()):
            s.ctx._cancel()
            if s.task is not None:
                s.task.cancel()
        self._shut()
        self._closed.set()

    async def wait_closed(self) -> None:
        await self._closed.wait()

    async def close(self) -> None:
        """Closes the connection now; calls in flight fail with UNAVAILABLE. Idempotent."""
        if self.close_reason is None:
            self.close_reason = Unavailable("connection closed by this side")
        self._shut()

    async def goaway(self) -> None:
        """Tells the other side we close, drains our own calls, then closes."""
        self._write(pb.Frame(goaway=pb.GoAway(status=pb.Status(code=0))))
        while self._pending and not self.closed:
            await asyncio.sleep(0.01)
        await self.close()

    # ---- outgoing ----------------------------------------------------------------------------

    async def call(self, name: str, args: list[Any], timeout: float | None = None) -> Any:
        """Calls `name` through the other side; the decoded result or a PolyCallError."""
        values = [encode(a, max_depth=self.limits.max_depth) for a in args]
        result = await self.call_values(name, values, timeout)
        if result.WhichOneof("outcome") == "status":
            raise PolyCallError.from_proto(result.status)
        return decode(result.value, max_depth=self.limits.max_depth)

    async def call_values(
        self, name: str, values: list[pb.Value], timeout: float | None = None
    ) -> pb.Result:
        if self.closed or self.close_reason is not None:
            raise self.close_reason or Unavailable("connection closed")
        if self._in_flight is not None:
            await self._in_flight.acquire()
        try:
            call_id = self._next_id
            self._next_id += 1
            call = pb.Call(call_id=call_id, function=name, args=values)
            if timeout is not None:
                call.timeout_nanos = max(1, int(timeout * 1e9))
            fut: asyncio.Future[pb.Result] = self.loop.create_future()
            self._pending[call_id] = fut
            try:
                self._write(pb.Frame(call=call))
                await self._drain()
                return await asyncio.wait_for(asyncio.shield(fut), timeout)
            except (asyncio.TimeoutError, asyncio.CancelledError) as e:
                if not self.closed:
                    self._write(pb.Frame(cancel=pb.Cancel(call_id=call_id)))
                if isinstance(e, asyncio.TimeoutError):
                    raise error_for(
                        Code.DEADLINE_EXCEEDED, f"{name}: no result within {timeout} s"
                    ) from None
                raise
            finally:
                self._pending.pop(call_id, None)
        finally:
            if self._in_flight is not None:
                self._in_flight.release()

    async def ping(self) -> None:
        """Sends a Ping and waits for its Pong."""
        nonce = int.from_bytes(os.urandom(8), "big")
        fut: asyncio.Future[None] = self.loop.create_future()
        self._pings[nonce] = fut
        try:
            self._write(pb.Frame(ping=pb.Ping(nonce=nonce)))
            await fut
        finally:
            self._pings.pop(nonce, None)

    # ---- incoming ----------------------------------------------------------------------------

    def _dispatch(self, frame: pb.Frame, blocks: Blocks | None = None) -> bool:
        """Handles one frame; True when the read loop should stop."""
        kind = frame.WhichOneof("body")
        if kind == "result":
            fut = self._pending.get(frame.result.call_id)
            if fut is not None and not fut.done():
                fut.set_result(frame.result)
        elif kind == "ping":
            self._write(pb.Frame(pong=pb.Pong(nonce=frame.ping.nonce)))
        elif kind == "pong":
            pfut = self._pings.get(frame.pong.nonce)
            if pfut is not None and not pfut.done():
                pfut.set_result(None)
        elif kind == "call":
            self._on_call(frame.call, blocks)
        elif kind == "cancel":
            self._on_cancel(frame.cancel.call_id)
        elif kind == "batch":
            self._spawn(self._serve_batch(frame.batch))
        elif kind == "goaway":
            self.goaway_status = frame.goaway.status
            if frame.goaway.status.code == Code.OK:
                log.info("GoAway from the hub: draining %d call(s)", len(self._serving))
                self._draining = True
                self._spawn(self._drain_then_close())
                return False
            err = PolyCallError.from_proto(frame.goaway.status)
            log.error("GoAway from the hub: %s", err)
            self.close_reason = Unavailable(f"the hub sent GoAway: {err}")
            return True
        else:
            raise ProtocolError(f"unexpected {kind} frame after the handshake")
        return False

    async def _drain_then_close(self) -> None:
        while self._serving or self._pending or self._batches:
            await asyncio.sleep(0.01)
        with contextlib.suppress(Exception):
            await self._drain()
        self._shut()

    def _spawn(self, coro: Any) -> None:
        task = self.loop.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _on_call(self, call: pb.Call, blocks: Blocks | None = None) -> None:
        if call.call_id in self._serving:
            self._answer(
                call.call_id,
                status=error_for(
                    Code.INVALID_ARGUMENT, f"call id {call.call_id} is already in flight"
                ),
            )
            return
        serving = self._new_serving(call)
        self._serving[call.call_id] = serving
        fn = self._sync_fast_path(call)
        if fn is not None:
            self._submit_sync(call, fn, serving, blocks)
            return

        async def run() -> None:
            frame = pb.Frame()
            try:
                await self._run_call(call, serving, frame.result, blocks)
            finally:
                self._serving.pop(call.call_id, None)
            if self._claim(serving):
                self._write(frame)
                with contextlib.suppress(Exception):
                    await self._drain()

        serving.task = self.loop.create_task(run())
        self._tasks.add(serving.task)
        serving.task.add_done_callback(self._tasks.discard)

    def _sync_fast_path(self, call: pb.Call) -> Function | None:
        """The function when `call` may run wholly off the loop: sync, no deadline.

        With a Wire such a call runs on the reader thread that read it (no hand-off at all);
        with asyncio streams, on a pool thread that decodes, runs, encodes and frames it, the
        loop only writing the bytes (one hand-off each way instead of a task, an executor
        future wrapped in an asyncio future, and encoding on the loop). Calls with a deadline
        keep the task path, which answers DEADLINE_EXCEEDED on time.
        """
        if self._executor is None or self._draining or self._host is None or call.timeout_nanos:
            return None
        fn = self._host(call.function)
        if fn is None or fn.is_async:
            return None
        return fn

    def _submit_sync(
        self, call: pb.Call, fn: Function, serving: _Serving, blocks: Blocks | None = None
    ) -> None:
        assert self._executor is not None
        call_id = call.call_id

        def work() -> None:
            data: list[bytes] | None = None
            try:
                data = self._serve_sync(call, fn, serving.ctx, blocks)
            finally:
                if self._wire is not None:
                    self._deliver(call_id, serving, data)
                else:
                    with contextlib.suppress(RuntimeError):  # the loop is closed
                        self.loop.call_soon_threadsafe(self._deliver, call_id, serving, data)

        self._executor.submit(contextvars.copy_context().run, work)

    def _deliver(self, call_id: int, serving: _Serving, data: list[bytes] | None) -> None:
        """Sends a sync call's result (on the loop, or on any thread with a Wire)."""
        self._serving.pop(call_id, None)
        if data is not None and self._claim(serving):
            self._out(data)

    def _claim(self, serving: _Serving) -> bool:
        """True once per call: the right to answer it (its result, or CANCELLED)."""
        with self._alock:
            if serving.answered:
                return False
            serving.answered = True
            return True

    def _serve_sync(
        self, call: pb.Call, fn: Function, ctx: CallContext, blocks: Blocks | None = None
    ) -> list[Any]:
        """Runs a sync function on the calling thread; the bytes of its Result frame (value or
        status). A small result is written by hand (codec.small_value_encoder), not by protobuf;
        so is the frame around a big ndarray, sent from the array's memory
        (codec.ndarray_result_parts).
        """
        call_id = ctx.call_id
        try:
            values = call.args
            args = self._decode_args(fn, values, blocks) if values else ()
            token = _current.set(ctx)
            try:
                result = fn.fn(*args)
            finally:
                _current.reset(token)
        except Exception as e:
            return self._error_data(call_id, ctx.function, e)
        return self._result_data(fn, call_id, ctx.function, result)

    def _result_data(self, fn: Function, call_id: int, name: str, result: Any) -> list[Any]:
        """The bytes of the Result frame of a sync function's `result` (a value or, when it
        cannot be sent, a status)."""
        try:
            small = fn.result_bytes
            if small is not None:
                value = small(result)
                if value is not None:
                    data = result_frame_bytes(call_id, value)
                    if len(data) - 4 <= self.limits.max_frame_bytes:
                        return [data]
            elif getattr(result, "nbytes", 0) >= BIG_BLOCK:
                parts = ndarray_result_parts(
                    call_id, result, fn.signature.result, self.limits.max_frame_bytes
                )
                if parts is not None:
                    return parts
            frame = pb.Frame()
            out = frame.result
            out.call_id = call_id
            self._encode_result(fn, result, out.value)
        except Exception as e:
            return self._error_data(call_id, name, e)
        return self._frame_data(frame)

    def _error_data(self, call_id: int, name: str, e: Exception) -> list[bytes]:
        """The bytes of the Result frame of a sync function's exception: its status."""
        status = status_of_exception(e)
        log.debug("%s failed: %s", name, status)
        frame = pb.Frame(result=pb.Result(call_id=call_id, status=status.to_proto()))
        return self._frame_data(frame)

    # ---- the C fast path ---------------------------------------------------------------------
    #
    # With the rings and polycall._speedups, a reader's FastPath.take reads the common sync call
    # (no deadline, simple argument values, a function of the registry) without protobuf, makes
    # its CallContext and _Serving and puts it in _serving, as _take_inline does; FastPath.run
    # runs it under that context and writes a small result onto the ring, as _serve_sync and
    # _deliver do. Everything else, and what run does not finish (results it does not write,
    # exceptions, Wake, a full ring), comes back here. So Cancel, nested calls, draining and the
    # end of the connection see these calls as any other, and POLYCALL_SPEEDUPS=0 (no FastPath)
    # is the same behaviour through Python alone.

    def _fast_path(self) -> Any:
        """The FastPath of this connection, or None when its calls cannot take it."""
        wire = self._wire
        if FastPath is None or wire is None or wire.rings is None or self._executor is None:
            return None
        if self._host is not functions.lookup:
            return None  # FastPath looks names up in the registry, as lookup does
        ctx_fields = [f.name for f in dataclasses.fields(CallContext)]
        serving_fields = [f.name for f in dataclasses.fields(_Serving)]
        if ctx_fields != [*_CTX_FIELDS] or serving_fields != [*_SERVING_FIELDS]:
            log.warning("the C fast path does not know these CallContext fields; not used")
            return None
        rings = wire.rings
        inc, out = rings.incoming, rings.outgoing
        return FastPath(
            inc._buf,
            inc._offset,
            out._offset,
            inc.size,
            self.limits.max_frame_bytes,
            inc,
            out,
            wire,
            functions._registry,
            self._serving,
            self,
            CallContext,
            tuple(CallContext.__dict__[n] for n in _CTX_FIELDS),
            _Serving,
            tuple(_Serving.__dict__[n] for n in _SERVING_FIELDS),
            _current,
            _ring_frame,
            ProtocolError,
            wire._rlock,
            self._alock,
        )

    def fast_calls(self) -> int:
        """Calls the C fast path has taken on this connection (0 without it)."""
        return 0 if self._fast is None else int(self._fast.calls)

    def _serve_fast(self, prep: tuple[Any, ...]) -> None:
        """Runs a call FastPath.take prepared (on a reader or in the pool) and answers it."""
        try:
            out = self._fast.run(prep)
        except BaseException:
            self._serving.pop(prep[4], None)
            raise
        if out is not None:
            self._fast_answer(prep, out)

    def _fast_answer(self, prep: tuple[Any, ...], out: Any) -> None:
        """Finishes a prepared call FastPath.run did not answer on the ring (see run)."""
        wire = self._wire
        assert wire is not None
        if out is True:
            try:
                wire.send_wake()
            except OSError as e:  # the reader sees the end and closes the connection
                log.debug("write failed: %s", e)
                wire.shutdown()
        elif type(out) is bytes:
            self._out([out])
        else:
            serving, ctx, call_id, fn = prep[0], prep[1], prep[4], prep[6]
            what, obj = out
            if what == 1:
                data = self._result_data(fn, call_id, ctx.function, obj)
            else:
                data = self._error_data(call_id, ctx.function, obj)
            self._deliver(call_id, serving, data)

    def _fast_elsewhere(self, prep: tuple[Any, ...]) -> None:
        """A prepared call that must not run on this reader: refused while draining (as
        _invoke refuses it), else run in the pool (as _submit_sync runs it)."""
        if self._draining:
            call_id = prep[4]
            err = error_for(Code.UNAVAILABLE, "the worker is draining (GoAway)")
            frame = pb.Frame(result=pb.Result(call_id=call_id, status=err.to_proto()))
            self._deliver(call_id, prep[0], self._frame_data(frame))
            return
        assert self._executor is not None
        self._executor.submit(contextvars.copy_context().run, self._serve_fast, prep)

    def _new_serving(self, call: pb.Call) -> _Serving:
        timeout = call.timeout_nanos
        deadline = time.monotonic() + timeout / 1e9 if timeout else None
        metadata = call.metadata
        # dict() of an empty protobuf map costs as much as the rest of the context.
        ctx = CallContext(
            self, call.call_id, call.function, deadline, dict(metadata) if metadata else {}
        )
        return _Serving(ctx)

    def _on_cancel(self, call_id: int) -> None:
        serving = self._serving.get(call_id)
        if serving is None:
            return
        serving.ctx._cancel()
        if self._claim(serving):
            self._answer(call_id, status=error_for(Code.CANCELLED, "cancelled by the caller"))
        if serving.task is not None:
            serving.task.cancel()

    def _answer(self, call_id: int, *, status: PolyCallError) -> None:
        self._write(pb.Frame(result=pb.Result(call_id=call_id, status=status.to_proto())))

    def _batch_plan(self, batch: pb.Batch) -> _BatchRun:
        """Sorts a Batch's calls: sync without a deadline (quick) or not (slow)."""
        calls = list(batch.calls)
        run = _BatchRun(batch.batch_id, [b""] * len(calls), [], [])
        quick = run.quick
        slow = run.slow
        hosts: dict[str, Function | None] = {}  # the fast-path function of each name
        for i, c in enumerate(calls):
            if c.timeout_nanos:
                slow.append((i, c))
                continue
            name = c.function
            if name in hosts:
                fn = hosts[name]
            else:
                fn = hosts[name] = self._sync_fast_path(c)
            if fn is not None:
                quick.append((i, c, fn, name))
            else:
                slow.append((i, c))
        return run

    def _run_many(self, items: list[_Quick], entries: list[Any], budget: float = 0.0) -> int:
        """Runs batch calls in order, each result's entry into `entries`; how many ran (all of
        them, or, with a `budget` in seconds, fewer when it has passed and the calls took
        BATCH_SLOW_CALL_SECONDS each on average).

        Consecutive calls of one function without metadata share one context: it would hold
        the same values (batch calls have call id 0 and no deadline on this path), and the
        calls of one run do not overlap. It is set without a reset per call: callers run this
        in a copy of the context.
        """
        ctx: CallContext | None = None
        current = _current
        decode_args = self._decode_args
        cached = BATCH_ENTRIES
        clock = time.perf_counter
        start = clock()
        until = start + budget if budget else 0.0
        k = 0
        for i, c, fn, name in items:
            # The clock is read after each of the first calls, then after every 16th.
            if until and k and (k < 8 or not k & 15) and clock() > until:
                if clock() - start > k * BATCH_SLOW_CALL_SECONDS:
                    return k
                until += budget  # quick calls on a busy machine: look again later
            k += 1
            metadata = c.metadata
            if ctx is None or ctx.function != name or metadata or ctx.metadata:
                ctx = self._new_serving(c).ctx
                current.set(ctx)
            try:
                values = c.args
                result = fn.fn(*decode_args(fn, values)) if values else fn.fn()
                small = fn.result_bytes
                value = small(result) if small is not None else None
                if value is not None:
                    entry = cached.get(value)
                    entries[i] = entry if entry is not None else batch_entry_bytes(value)
                    continue
                out = pb.Result()
                self._encode_result(fn, result, out.value)
            except Exception as e:
                status = status_of_exception(e)
                log.debug("%s failed: %s", name, status)
                out = pb.Result(status=status.to_proto())
            entries[i] = batch_entry_of(out)
        return k

    def _write_batch_result(self, run: _BatchRun) -> None:
        if self._closing():
            return
        limit = self.limits.max_frame_bytes
        try:
            parts = batch_result_parts(run.batch_id, run.entries, limit)
        except PolyCallError as e:
            # Results too big to send together: each becomes a status the caller can read, as
            # a lone result too big to send does (_frame_data).
            err = error_for(Code.RESOURCE_EXHAUSTED, f"the batch's results: {e.message}")
            entry = batch_entry_of(pb.Result(status=err.to_proto()))
            parts = batch_result_parts(run.batch_id, [entry] * len(run.entries), limit)
        self._out(parts)

    def _serve_batch_here(self, run: _BatchRun) -> None:
        """On a reader thread (see _take_inline): runs a Batch of quick calls here, as a lone
        sync call runs on the thread that read it (a thousand no-ops then cost no hand-off to
        the loop and the pool and back). When they prove slow (see BATCH_HERE_SECONDS) the
        calls left run in pool jobs, concurrently, while this thread waits (a follower reads).
        """
        try:
            quick = run.quick
            done = contextvars.copy_context().run(
                self._run_many, quick, run.entries, BATCH_HERE_SECONDS
            )
            if done < len(quick):
                assert self._executor is not None
                left = quick[done:]
                size = max(BATCH_RUN, -(-len(left) // self._pool_size()))
                jobs = [
                    self._executor.submit(
                        contextvars.copy_context().run,
                        self._run_many,
                        left[k : k + size],
                        run.entries,
                    )
                    for k in range(0, len(left), size)
                ]
                self._step_aside()
                for job in jobs:
                    job.result()
            self._write_batch_result(run)
        finally:
            with self._tlock:
                self._batches -= 1

    def _pool_size(self) -> int:
        return getattr(self._executor, "_max_workers", 1) or 1

    async def _serve_batch(self, batch: pb.Batch) -> None:
        # Sync calls without a deadline run in runs of consecutive calls, one pool job per run
        # (a thousand no-ops are then a few hand-offs, not a thousand tasks and futures); the
        # runs still run concurrently, and the others go through _run_call as lone calls do.
        # Each result becomes the bytes of its place in BatchResult.results at once, small ones
        # written by hand (codec.small_value_encoder), and the frame is those bytes joined: no
        # Result message for a no-op, nor a copy of a big value (it is sent apart).
        with self._tlock:
            self._batches += 1
        try:
            run = self._batch_plan(batch)
            entries = run.entries

            async def one(i: int, c: pb.Call) -> None:
                out = pb.Result()
                await self._run_call(c, self._new_serving(c), out)
                out.call_id = 0  # a batch's results carry call id 0 (WIRE.md)
                entries[i] = batch_entry_of(out)

            quick = run.quick
            size = max(BATCH_RUN, -(-len(quick) // self._pool_size()))
            jobs: list[Any] = [one(i, c) for i, c in run.slow]
            for k in range(0, len(quick), size):
                jobs.append(
                    self.loop.run_in_executor(
                        self._executor,
                        contextvars.copy_context().run,
                        self._run_many,
                        quick[k : k + size],
                        entries,
                    )
                )
            await asyncio.gather(*jobs)
            self._write_batch_result(run)
        finally:
            with self._tlock:
                self._batches -= 1

    async def _run_call(
        self, call: pb.Call, serving: _Serving, out: pb.Result, blocks: Blocks | None = None
    ) -> None:
        """Runs one incoming call to completion; fills `out` with a value or a status."""
        out.call_id = call.call_id
        try:
            await self._invoke(call, serving.ctx, out.value, blocks)
        except asyncio.CancelledError:
            out.status.CopyFrom(error_for(Code.CANCELLED, "cancelled").to_proto())
        except BaseException as e:
            if not isinstance(e, Exception):
                raise
            status = status_of_exception(e)
            if not isinstance(e, PolyCallError) or e.code != Code.DEADLINE_EXCEEDED:
                log.debug("%s failed: %s", call.function, status)
            out.status.CopyFrom(status.to_proto())

    async def _invoke(
        self, call: pb.Call, ctx: CallContext, out: pb.Value, blocks: Blocks | None = None
    ) -> None:
        if self._draining:
            raise error_for(Code.UNAVAILABLE, "the worker is draining (GoAway)")
        fn = self._host(call.function) if self._host is not None else None
        if fn is None:
            raise error_for(Code.NOT_FOUND, f"no function {call.function!r} here")
        args = self._decode_args(fn, call.args, blocks)
        timeout = ctx.remaining()
        token = _current.set(ctx)
        try:
            if fn.is_async:
                aw = fn.fn(*args)
                result = await (aw if timeout is None else asyncio.wait_for(aw, timeout))
            else:
                cv = contextvars.copy_context()
                fut = self.loop.run_in_executor(self._executor, cv.run, fn.fn, *args)
                result = await (fut if timeout is None else asyncio.wait_for(fut, timeout))
        except asyncio.TimeoutError:
            raise error_for(
                Code.DEADLINE_EXCEEDED, f"{fn.name}: deadline of {call.timeout_nanos} ns passed"
            ) from None
        finally:
            _current.reset(token)
        self._encode_result(fn, result, out)

    def _decode_args(self, fn: Function, values: Any, blocks: Blocks | None = None) -> list[Any]:
        """The arguments of a call from its `args` (read once: each read costs a lookup), and
        the blocks of those that came without their data (Wire.read_frame)."""
        n = len(values)
        if n == 0:
            return []
        params = fn.signature.params
        if n > len(params):
            raise error_for(
                Code.INVALID_ARGUMENT,
                f"{fn.name} takes {len(params)} argument(s), got {n}",
            )
        max_depth = self.limits.max_depth

        def one(i: int, v: pb.Value, p: Any) -> Any:
            block = blocks.get(i) if blocks else None
            if block is not None:  # a Value{ndarray_value} and nothing else (split_call)
                return _decode_ndarray(v.ndarray_value, block)
            return _decode(v, p.type, 0, max_depth, False)

        try:
            if not blocks:
                return [
                    _decode(v, p.type, 0, max_depth, False)
                    for v, p in zip(values, params, strict=False)
                ]
            return [one(i, v, p) for i, (v, p) in enumerate(zip(values, params, strict=False))]
        except PolyCallError:
            pass
        # Decoding is pure: decode again one by one to name the argument that fails.
        for i, (v, p) in enumerate(zip(values, params, strict=False)):
            try:
                one(i, v, p)
            except PolyCallError as e:
                raise error_for(e.code, f"args[{i}] ({p.name}){_sep(e.message)}") from None
        raise AssertionError("an argument failed to decode only once")  # pragma: no cover

    def _encode_result(self, fn: Function, result: Any, out: pb.Value) -> None:
        rtype = fn.signature.result
        if result is None and (
            isinstance(rtype, OptionalOf)
            or (isinstance(rtype, Scalar) and rtype.name in ("null", "any"))
        ):
            out.null_value = pb.NULL_VALUE  # the common "returns nothing", without the codec
            return
        try:
            encode_into(
                out,
                result,
                None if isinstance(rtype, Scalar) and rtype.name == "any" else rtype,
                max_depth=self.limits.max_depth,
            )
        except PolyCallError as e:
            raise error_for(e.code, f"{fn.name} result{_sep(e.message)}") from None

    # ---- writing -----------------------------------------------------------------------------

    def _write(self, frame: pb.Frame) -> None:
        if self._closing():
            return
        self._out(self._frame_data(frame))

    def _out(self, data: list[bytes]) -> None:
        if self._wire is not None:
            if not self._wire.closed:
                try:
                    self._wire.send(data)
                except OSError as e:  # the reader sees the end and closes the connection
                    log.debug("write failed: %s", e)
                    self._wire.shutdown()
            return
        assert self._writer is not None
        if not self._writer.is_closing():
            self._writer.writelines(data)

    def _closing(self) -> bool:
        if self._wire is not None:
            return self._wire.closed
        assert self._writer is not None
        return self._writer.is_closing()

    async def _drain(self) -> None:
        if self._writer is not None:
            await self._writer.drain()

    def _shut(self) -> None:
        """Closes the transport; the read loop then sees the end of the stream."""
        if self._wire is not None:
            self._wire.shutdown()
            return
        assert self._writer is not None and self._reader is not None
        with contextlib.suppress(Exception):
            self._writer.close()
        self._reader.feed_eof()

    # ---- reading with a Wire: leader/follower threads ----------------------------------------

    def _spawn_reader(self) -> None:
        with self._tlock:
            self._idle += 1
        threading.Thread(target=self._reader_main, name="polycall-fn-reader", daemon=True).start()

    def _reader_main(self) -> None:
        # The leader reads; a sync call it reads runs right here, on the leader, which keeps
        # the role meanwhile: a no-op then costs no wake-up of another thread (handing the
        # role on at every call wakes a follower, which then fights for the GIL: ~5 context
        # switches per call). A follower takes the role over when it sees the same call still
        # running at two checks FOLLOWER_CHECK apart (a long call must not stop the reading of
        # Pings, Cancels and other calls), and at once when the call blocks on a nested call
        # (_step_aside).
        wire = self._wire
        assert wire is not None
        me = threading.get_ident()
        fast_run = self._fast.run if self._fast is not None else None
        while True:
            # _await_role's first test inline: true after every call this leader ran.
            if (self._leader != me or self._stop) and not self._await_role(me):
                break
            eof = False
            frame: Any
            try:
                frame = wire.read_frame(self.limits.max_frame_bytes)
            except ProtocolError as e:
                log.error("protocol error: %s", e.message)
                self.close_reason = Unavailable(f"protocol error: {e.message}")
                self._send_goaway(e)
                frame = None
            except (ConnectionError, OSError) as e:
                self.close_reason = Unavailable(f"connection lost: {e}")
                frame = None
            else:
                eof = frame is None
            if frame is None:
                with self._cv:
                    self._stop = True
                    self._leader = None
                    self._cv.notify_all()
                wire.shutdown()
                with contextlib.suppress(RuntimeError):
                    self.loop.call_soon_threadsafe(self._reader_ended, eof)
                break
            # Decided while holding the role, so that a Cancel read next finds the call.
            fast = type(frame) is tuple
            if fast:
                # A sync call FastPath.take read and put in _serving: here, as _take_inline
                # would run it, unless it must not run here (an int read needs no lock).
                if self._draining or self._running >= self._max_running:
                    self._fast_elsewhere(frame)
                    continue
                run: Any = frame
            else:
                run = self._take_inline(frame, wire.blocks)
                if run is None:
                    continue
            # The condition's lock taken directly: Condition.__enter__/__exit__ are Python
            # calls, and these two blocks run at every call.
            with self._tlock:
                self._idle -= 1
                self._running += 1
                lonely = self._idle == 0
                self._busy = True
                self._busy_seq += 1
                if self._deep:
                    self._cv.notify_all()  # followers asleep: start watching the leader
            if lonely:
                self._spawn_reader()  # someone must be ready to read while this call runs
            surplus = False
            try:
                if fast:
                    out = fast_run(run)  # type: ignore[misc]  # FastPath.run, see _serve_fast
                    if out is not None:
                        self._fast_answer(run, out)
                elif isinstance(run, _BatchRun):
                    self._serve_batch_here(run)
                else:
                    call, fn, serving, blocks = run
                    ctx = serving.ctx
                    self._deliver(ctx.call_id, serving, self._serve_sync(call, fn, ctx, blocks))
            finally:
                with self._tlock:
                    self._running -= 1
                    if self._leader == me:
                        self._busy = False  # still the leader: read on, no hand-off
                        self._idle += 1
                    else:
                        surplus = self._idle >= 2
                        if not surplus:
                            self._idle += 1
            if surplus:
                return
        with self._tlock:
            self._idle -= 1

    def _await_role(self, me: int) -> bool:
        """Waits until this thread leads (True), or until the connection stops (False)."""
        # Without the lock when this thread leads already (after each call it ran): only a
        # leader that runs a call (_busy) can lose the role to another thread.
        if self._leader == me and not self._stop:
            return True
        with self._cv:
            if self._leader == me:
                return not self._stop
            seen: int | None = None
            misses = 0
            while True:
                if self._stop:
                    return False
                if self._leader is None:
                    self._leader = me
                    return True
                if self._busy:
                    if seen == self._busy_seq:
                        # The leader has been running one call for a whole check: take over.
                        self._leader = me
                        self._busy = False
                        return True
                    seen = self._busy_seq
                    misses = 0
                    self._cv.wait(FOLLOWER_CHECK)
                    continue
                seen = None
                misses += 1
                if misses <= FOLLOWER_CHECKS_BEFORE_SLEEP:
                    self._cv.wait(FOLLOWER_CHECK)
                    continue
                # The leader has been reading (no call running) for a while: sleep until it
                # starts a call, steps aside or the connection stops.
                self._deep += 1
                try:
                    self._cv.wait()
                finally:
                    self._deep -= 1
                misses = 0

    def _step_aside(self) -> None:
        """Called by a thread about to block in a sync function: a follower reads meanwhile."""
        if self._wire is None:
            return
        with self._cv:
            if self._leader == threading.get_ident() and self._busy:
                self._leader = None
                self._busy = False
                self._cv.notify_all()

    def _reader_ended(self, eof: bool) -> None:
        # On the loop, after the frames read before the end: a GoAway{OK} among them makes the
        # end a drain, not a lost connection (deciding on the reader thread raced with it).
        if eof and not self._draining and self.close_reason is None:
            self.close_reason = Unavailable("the hub closed the connection")
        if self._ended is not None:
            self._ended.set()

    def _take_inline(
        self, frame: pb.Frame, blocks: Blocks | None = None
    ) -> tuple[pb.Call, Function, _Serving, Blocks | None] | _BatchRun | None:
        """On a reader thread: a sync call or a batch of them to run here, or None when the
        frame was handled. `blocks`: the big ndarray arguments of a Call (Wire.read_frame)."""
        kind = frame.WhichOneof("body")
        if kind == "ping":
            self._write(pb.Frame(pong=pb.Pong(nonce=frame.ping.nonce)))
            return None
        if kind == "call":
            # _sync_fast_path and _new_serving inline, each field of the call read once: on a
            # no-op, these steps were a third of the worker's CPU.
            call = frame.call
            if (
                not call.timeout_nanos
                and self._executor is not None
                and self._host is not None
                and not self._draining
            ):
                name = call.function
                fn = self._host(name)
                call_id = call.call_id
                if fn is None or fn.is_async or call_id in self._serving:
                    fn = None
            else:
                fn = None
            if fn is not None:
                metadata = call.metadata
                serving = _Serving(
                    CallContext(self, call_id, name, None, dict(metadata) if metadata else {})
                )
                self._serving[call_id] = serving
                with self._tlock:
                    inline = self._running < self._max_running
                if inline:
                    return call, fn, serving, blocks
                self._submit_sync(call, fn, serving, blocks)
                return None
        elif kind == "batch" and self._executor is not None:
            # A batch of quick calls only runs here, as a sync call does (_serve_batch_here).
            run = self._batch_plan(frame.batch)
            if not run.slow:
                with self._tlock:
                    here = self._running < self._max_running
                    if here:
                        self._batches += 1
                if here:
                    return run
        self._handed += 1  # only the leader writes it
        with contextlib.suppress(RuntimeError):
            self.loop.call_soon_threadsafe(self._dispatch_on_loop, frame, blocks)
        return None

    def _dispatch_on_loop(self, frame: pb.Frame, blocks: Blocks | None) -> None:
        try:
            stop = self._dispatch(frame, blocks)
        except ProtocolError as e:
            log.error("protocol error: %s", e.message)
            self.close_reason = Unavailable(f"protocol error: {e.message}")
            self._send_goaway(e)
            stop = True
        finally:
            self._handled += 1  # only the loop writes it
        if stop:
            self._shut()

    def _quiet(self) -> bool:
        """True when no other thread of ours has Python work: no call being served (on a
        thread, in the pool or as a task), no batch, no frame waiting for the loop. A reader
        polls a shared-memory ring only then, as polling holds the GIL (CPython hands it to a
        waiting thread only after the 5 ms switch interval)."""
        return not self._serving and not self._batches and self._handed == self._handled

    def _frame_data(self, frame: pb.Frame) -> list[bytes]:
        """The frame's bytes, prefix and body; a Result too big to send is RESOURCE_EXHAUSTED."""
        try:
            data = frame_parts(frame, self.limits.max_frame_bytes)
        except PolyCallError as e:
            if frame.WhichOneof("body") == "result":
                # A result too big to send becomes a status the other side can read.
                err = error_for(Code.RESOURCE_EXHAUSTED, e.message)
                small = pb.Result(call_id=frame.result.call_id, status=err.to_proto())
                data = frame_parts(pb.Frame(result=small), self.limits.max_frame_bytes)
            else:
                raise
        return data

    def _send_goaway(self, err: PolyCallError) -> None:
        with contextlib.suppress(Exception):
            self._write(pb.Frame(goaway=pb.GoAway(status=err.to_proto())))


def _sep(message: str) -> str:
    return message if message.startswith(("[", ".")) else ": " + message


def metadata_of(m: Mapping[str, str] | None) -> dict[str, str]:
    return dict(m or {})
