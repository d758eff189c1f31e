"""A small, scripted fake of the Java hub: the hub side of WIRE.md on a Unix socket.

It runs an asyncio server on its own thread and offers a blocking API to tests: accept a
peer, make Calls, send Ping/Cancel/GoAway, and inspect what the peer sent. Hub-side functions
(what Java, C or another worker would host) are plain Python callables in `functions`.
Every wait is bounded by `WAIT` seconds so that a broken SDK fails a test instead of hanging
it; no test asserts on durations.
"""

from __future__ import annotations

import asyncio
import fnmatch
import hmac
import os
import tempfile
import threading
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

from polycall import codec
from polycall._conn import RING_KINDS, WAKE_FRAME, proof_of
from polycall._proto import polycall_pb2 as pb
from polycall._shm import FEATURE as SHM_FEATURE
from polycall._shm import Rings, fence, record_bytes

WAIT = 30.0
T = TypeVar("T")


@dataclass
class Peer:
    """One accepted, welcomed connection."""

    hub: FakeHub
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    hello: pb.Hello
    announced: list[pb.FunctionDecl] = field(default_factory=list)
    announce_event: asyncio.Event = field(default_factory=asyncio.Event)
    results: dict[int, asyncio.Future[pb.Result]] = field(default_factory=dict)
    batch_results: dict[int, asyncio.Future[pb.BatchResult]] = field(default_factory=dict)
    pongs: dict[int, asyncio.Future[None]] = field(default_factory=dict)
    received: list[pb.Frame] = field(default_factory=list)
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    next_id: int = 100
    # With shared-memory rings (FakeHub(rings=True) and a peer that offered them): the hub's
    # side, what came on which path, and knobs for the tests.
    rings: Rings | None = None
    rings_path: str = ""
    via_ring: list[pb.Frame] = field(default_factory=list)
    via_socket: list[pb.Frame] = field(default_factory=list)
    sent_on_ring: list[str] = field(default_factory=list)
    wakes: int = 0  # Wake frames received
    skips_written: int = 0  # skip markers the hub wrote on ring 0
    ring_paused: bool = False  # the hub stops consuming ring 1 (it stays "awake")
    _draining_scheduled: bool = False

    # ---- blocking API for tests --------------------------------------------------------------

    def wait_announce(self) -> list[pb.FunctionDecl]:
        self.hub.run(asyncio.wait_for(self.announce_event.wait(), WAIT))
        return self.announced

    def send_call(self, function: str, *args: Any, timeout_nanos: int = 0) -> int:
        """Sends a Call without waiting; its call id."""

        async def go() -> int:
            self.next_id += 1
            cid = self.next_id
            self.results[cid] = asyncio.get_running_loop().create_future()
            call = pb.Call(
                call_id=cid,
                function=function,
                timeout_nanos=timeout_nanos,
                args=[a if isinstance(a, pb.Value) else codec.encode(a) for a in args],
            )
            self._write(pb.Frame(call=call))
            return cid

        return self.hub.run(go())

    def result(self, call_id: int) -> pb.Result:
        return self.hub.run(asyncio.wait_for(asyncio.shield(self.results[call_id]), WAIT))

    def call(self, function: str, *args: Any, timeout_nanos: int = 0) -> pb.Result:
        return self.result(self.send_call(function, *args, timeout_nanos=timeout_nanos))

    def batch(
        self, calls: list[tuple[str, list[Any]]] | list[tuple[str, list[Any], dict[str, str]]]
    ) -> pb.BatchResult:
        """Sends one Batch of (function, args[, metadata]) and waits for its BatchResult."""

        async def go() -> pb.BatchResult:
            fut = asyncio.get_running_loop().create_future()
            self.batch_results[7] = fut
            self._write(
                pb.Frame(
                    batch=pb.Batch(
                        batch_id=7,
                        calls=[
                            pb.Call(
                                function=c[0],
                                args=[codec.encode(a) for a in c[1]],
                                metadata=c[2] if len(c) > 2 else {},
                            )
                            for c in calls
                        ],
                    )
                )
            )
            return await asyncio.wait_for(fut, WAIT)

        return self.hub.run(go())

    def cancel(self, call_id: int) -> None:
        self.hub.run(self._async_write(pb.Frame(cancel=pb.Cancel(call_id=call_id))))

    def ping(self, nonce: int) -> None:
        """Sends Ping and waits for the matching Pong."""

        async def go() -> None:
            fut = asyncio.get_running_loop().create_future()
            self.pongs[nonce] = fut
            self._write(pb.Frame(ping=pb.Ping(nonce=nonce)))
            await asyncio.wait_for(fut, WAIT)

        self.hub.run(go())

    def goaway(self, code: int = 0, message: str = "") -> None:
        self.hub.run(
            self._async_write(
                pb.Frame(goaway=pb.GoAway(status=pb.Status(code=code, message=message)))
            )
        )

    def goaway_and_close(self) -> None:
        """Sends GoAway{OK} and closes the connection at once, as a hub that shuts down does."""

        async def go() -> None:
            self._write(pb.Frame(goaway=pb.GoAway(status=pb.Status(code=0))))
            await self.writer.drain()
            self.writer.close()

        self.hub.run(go())

    def send_raw(self, data: bytes) -> None:
        async def go() -> None:
            self.writer.write(data)
            await self.writer.drain()

        self.hub.run(go())

    def wait_closed(self) -> None:
        self.hub.run(asyncio.wait_for(self.closed.wait(), WAIT))

    # ---- on the hub's loop -------------------------------------------------------------------

    def _write(self, frame: pb.Frame) -> None:
        data = codec.frame_bytes(frame)
        rings = self.rings
        if rings is not None and data[4] in RING_KINDS:
            out = rings.outgoing
            before = out._tail
            if out.offer([data]):
                if out._tail - before > record_bytes(len(data) - 4):
                    self.skips_written += 1
                self.sent_on_ring.append(frame.WhichOneof("body") or "")
                fence()
                if not out.consumer_awake():
                    self.writer.write(WAKE_FRAME)
                return
        self.writer.write(data)

    # ---- rings: knobs for tests --------------------------------------------------------------

    def set_hub_awake(self, awake: bool) -> None:
        """Says the hub polls ring 1 (or not: the peer must then send on the socket)."""
        assert self.rings is not None
        self.rings.incoming.set_awake(awake)

    def peer_awake(self) -> bool:
        assert self.rings is not None
        return self.rings.outgoing.consumer_awake()

    def force_ring(self, frame: pb.Frame, *, wake: bool, then: pb.Frame | None = None) -> None:
        """Publishes `frame` on ring 0 even if the peer sleeps, then maybe sends a Wake, then
        `then` on the socket."""
        assert self.rings is not None
        out = self.rings.outgoing

        async def go() -> None:
            data = codec.frame_bytes(frame)
            awake = out._i[18]
            out._i[18] = 1  # offer() insists on an awake consumer: lie to it
            try:
                assert out.offer([data])
            finally:
                out._i[18] = awake
            if wake:
                self.writer.write(WAKE_FRAME)
            if then is not None:
                self.writer.write(codec.frame_bytes(then))
            await self.writer.drain()

        self.hub.run(go())

    def put_raw_record(self, words: list[int], payload: bytes = b"") -> None:
        """Publishes hand-made bytes on ring 0: u32 `words`, then `payload`, 8-aligned."""
        assert self.rings is not None
        out = self.rings.outgoing
        raw = b"".join(w.to_bytes(4, "little") for w in words) + payload
        raw += bytes(-len(raw) % 8)
        pos = out._tail & out._mask
        out._data[pos : pos + len(raw)] = raw
        out._tail += len(raw)
        out._q[0] = out._tail

    def call_both_ways_cancel(self, function: str, *args: Any) -> int:
        """A Call (on ring 0 when the peer is awake) and right after it its Cancel (socket)."""

        async def go() -> int:
            self.next_id += 1
            cid = self.next_id
            self.results[cid] = asyncio.get_running_loop().create_future()
            call = pb.Call(call_id=cid, function=function, args=[codec.encode(a) for a in args])
            self._write(pb.Frame(call=call))
            await self._async_write(pb.Frame(cancel=pb.Cancel(call_id=cid)))
            return cid

        return self.hub.run(go())

    def _drain_ring(self) -> None:
        self._draining_scheduled = False
        if self.rings is None or self.ring_paused:
            return
        ring = self.rings.incoming
        while ring.ready():
            body = ring.poll(codec.MAX_FRAME_BYTES)
            if body is None:
                continue
            try:
                frame = codec.parse_frame(bytes(body))
            finally:
                body.release()
                ring.release()
            self.via_ring.append(frame)
            self._on_frame(frame)

    def resume_ring(self) -> None:
        async def go() -> None:
            self.ring_paused = False
            self._drain_ring()

        self.hub.run(go())

    async def _async_write(self, frame: pb.Frame) -> None:
        self._write(frame)
        await self.writer.drain()

    async def read_loop(self) -> None:
        from polycall._conn import read_frame

        poller: threading.Thread | None = None
        if self.rings is not None:
            loop = asyncio.get_running_loop()
            poller = threading.Thread(target=self._poll_ring_on(loop), daemon=True)
            poller.start()
        first = True
        try:
            while True:
                frame = await read_frame(self.reader, codec.MAX_FRAME_BYTES)
                if frame is None:
                    break
                if first and self.rings_path:
                    # The peer has mapped the file by now (WIRE.md): nobody else may.
                    first = False
                    os.unlink(self.rings_path)
                if self.rings is not None and not self.ring_paused:
                    self._drain_ring()  # older records first
                if frame.WhichOneof("body") == "wake":
                    self.wakes += 1
                    continue
                self.via_socket.append(frame)
                self._on_frame(frame)
        except (ConnectionError, codec.ProtocolError):
            pass
        finally:
            self.closed.set()

    def _poll_ring_on(self, loop: asyncio.AbstractEventLoop) -> Callable[[], None]:
        # The hub's consumer of ring 1: a thread that looks every 100 us (a real hub spins),
        # and drains on the loop, where socket frames are handled, to keep WIRE.md's order.
        def run() -> None:
            assert self.rings is not None
            ring = self.rings.incoming
            while not self.closed.is_set():
                if ring.ready() and not self.ring_paused and not self._draining_scheduled:
                    self._draining_scheduled = True
                    loop.call_soon_threadsafe(self._drain_ring)
                time.sleep(0.0001)

        return run

    def _on_frame(self, frame: pb.Frame) -> None:
        self.received.append(frame)
        kind = frame.WhichOneof("body")
        if kind == "announce":
            self.announced.extend(frame.announce.functions)
            self.announce_event.set()
        elif kind == "result":
            fut = self.results.get(frame.result.call_id)
            if fut is not None and not fut.done():
                fut.set_result(frame.result)
        elif kind == "batch_result":
            bfut = self.batch_results.get(frame.batch_result.batch_id)
            if bfut is not None and not bfut.done():
                bfut.set_result(frame.batch_result)
        elif kind == "pong":
            pfut = self.pongs.get(frame.pong.nonce)
            if pfut is not None and not pfut.done():
                pfut.set_result(None)
        elif kind == "ping":
            self._write(pb.Frame(pong=pb.Pong(nonce=frame.ping.nonce)))
        elif kind == "call":
            asyncio.get_running_loop().create_task(self._serve(frame.call))

    async def _serve(self, call: pb.Call) -> None:
        """Answers a Call from the peer with a hub-side function (a Java one, say)."""
        fn = self.hub.functions.get(call.function)
        if fn is None and call.function == "polycall.functions":
            pattern = codec.decode(call.args[0]) if call.args else "*"
            sigs = [d.signature for d in self.announced] + [
                f"{n}(...) -> any" for n in self.hub.functions
            ]
            fn = lambda *_: [s for s in sigs if fnmatch.fnmatch(s.split("(")[0], pattern)]  # noqa: E731
        if fn is None:
            res = pb.Result(
                call_id=call.call_id,
                status=pb.Status(code=5, message=f"no function {call.function}"),
            )
        else:
            try:
                value = fn(*[codec.decode(a) for a in call.args])
                if asyncio.iscoroutine(value):
                    value = await value
                res = pb.Result(call_id=call.call_id, value=codec.encode(value))
            except Exception as e:
                res = pb.Result(
                    call_id=call.call_id,
                    status=pb.Status(code=2, message=f"{type(e).__name__}: {e}"),
                )
        self.hub.calls_served.append(call)
        self._write(pb.Frame(result=res))


class FakeHub:
    """The fake hub's server, on its own event-loop thread. Close with `close()`."""

    def __init__(
        self,
        path: str,
        *,
        worker_id: str = "w-1",
        secret: bytes | None = None,
        versions: tuple[int, ...] = (1,),
        limits: pb.Limits | None = None,
        rings: bool = False,
        ring_bytes: int = 65536,
        rings_path: str | None = None,
    ) -> None:
        """`rings`: accept shm-rings/1 (a fresh file per peer, or `rings_path` named as is)."""
        self.path = path
        self.offer_rings = rings
        self.ring_bytes = ring_bytes
        self.fixed_rings_path = rings_path
        self._ring_dir = tempfile.mkdtemp(prefix="pcr") if rings else ""
        self.worker_id = worker_id
        self.secret = secret if secret is not None else os.urandom(32)
        self.versions = versions
        self.limits = limits or pb.Limits()
        self.functions: dict[str, Callable[..., Any]] = {}
        self.calls_served: list[pb.Call] = []
        self.refused: list[str] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._peers: asyncio.Queue[Peer] = self.run(self._make_queue())
        self._server = self.run(asyncio.start_unix_server(self._on_connect, path))

    @property
    def env_secret(self) -> str:
        return self.secret.hex()

    async def _make_queue(self) -> asyncio.Queue[Peer]:
        return asyncio.Queue()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(WAIT + 5)

    def accept(self) -> Peer:
        """The next peer that completed the handshake."""
        return self.run(asyncio.wait_for(self._peers.get(), WAIT))

    def close(self) -> None:
        async def stop() -> None:
            self._server.close()
            for t in asyncio.all_tasks():
                if t is not asyncio.current_task():
                    t.cancel()

        self.run(stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(WAIT)
        if os.path.exists(self.path):
            os.unlink(self.path)
        if self._ring_dir:
            for name in os.listdir(self._ring_dir):
                os.unlink(os.path.join(self._ring_dir, name))
            os.rmdir(self._ring_dir)

    async def _on_connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        from polycall._conn import read_frame

        nonce = os.urandom(32)
        writer.write(
            codec.frame_bytes(pb.Frame(challenge=pb.Challenge(nonce=nonce, versions=self.versions)))
        )
        frame = await read_frame(reader, codec.MAX_FRAME_BYTES)
        if frame is None or frame.WhichOneof("body") != "hello":
            self.refused.append("no Hello")
            writer.close()
            return
        hello = frame.hello
        if hello.role == pb.WORKER:
            good = hello.worker_id == self.worker_id and hmac.compare_digest(
                hello.proof, proof_of(self.secret, nonce, hello.worker_id)
            )
            if not good:
                self.refused.append(f"bad proof from {hello.worker_id}")
                writer.write(
                    codec.frame_bytes(
                        pb.Frame(
                            goaway=pb.GoAway(
                                status=pb.Status(code=16, message="worker proof does not match")
                            )
                        )
                    )
                )
                await writer.drain()
                writer.close()
                return
        welcome = pb.Welcome(version=1, limits=self.limits, node_id="fake-node")
        rings: Rings | None = None
        rings_path = ""
        if self.offer_rings and SHM_FEATURE in hello.features:
            if self.fixed_rings_path is not None:
                welcome.rings.path = self.fixed_rings_path
            else:
                rings_path = os.path.join(self._ring_dir, f"rings-{os.urandom(4).hex()}")
                rings = Rings.create(rings_path, self.ring_bytes)
                welcome.rings.path = rings_path
            welcome.rings.ring_bytes = self.ring_bytes
        writer.write(codec.frame_bytes(pb.Frame(welcome=welcome)))
        peer = Peer(self, reader, writer, hello, rings=rings, rings_path=rings_path)
        if rings is not None:
            rings.incoming.set_awake(True)  # the hub polls ring 1 (see _poll_ring_on)
        await self._peers.put(peer)
        await peer.read_loop()
