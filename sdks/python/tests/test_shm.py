"""Shared-memory rings (WIRE.md "Shared-memory rings"): a real worker against the fake hub."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fakehub import WAIT, FakeHub, Peer

from polycall import codec
from polycall._conn import WAKE_FRAME, Wire
from polycall._proto import polycall_pb2 as pb
from polycall._shm import FEATURE, Rings
from polycall.errors import Code

HERE = Path(__file__).parent
FUNCS = str(HERE / "worker_funcs.py")
# A reader that polls for a whole second after each frame: the fake hub, driven by a test
# thread, takes far longer than the worker's 50 us between two calls.
LONG_SPIN = {"POLYCALL_SHM_SPIN_US": "1000000"}


def start_worker(hub: FakeHub, *args: str, **env_extra: str) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env.pop("POLYCALL_SHM", None)
    env.pop("POLYCALL_SHM_SPIN_US", None)
    env.update(
        POLYCALL_SOCKET=hub.path,
        POLYCALL_WORKER_ID=hub.worker_id,
        POLYCALL_WORKER_SECRET=hub.env_secret,
        **env_extra,
    )
    return subprocess.Popen(
        [sys.executable, "-m", "polycall.worker", "--file", FUNCS, "--log-level", "DEBUG", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def stop(proc: subprocess.Popen[bytes]) -> str:
    """Ends the worker; its stderr."""
    if proc.poll() is None:
        proc.kill()
    _, err = proc.communicate(timeout=WAIT)
    return err.decode(errors="replace")


def value(result: pb.Result) -> object:
    assert result.WhichOneof("outcome") == "value", result
    return codec.decode(result.value)


def kinds(frames: list[pb.Frame]) -> list[str]:
    return [f.WhichOneof("body") or "" for f in frames]


@pytest.fixture(scope="module")
def sockdir() -> Iterator[str]:
    d = tempfile.mkdtemp(prefix="pcs")  # short: Unix socket paths are limited to 108 bytes
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def hub(sockdir: str) -> Iterator[FakeHub]:
    h = FakeHub(os.path.join(sockdir, "hub.sock"), rings=True)
    h.functions["java.math.add"] = lambda a, b: a + b
    yield h
    h.close()


@pytest.fixture(scope="module")
def spinning(hub: FakeHub) -> Iterator[Peer]:
    """A worker on rings that keeps polling between the tests' calls."""
    proc = start_worker(hub, **LONG_SPIN)
    try:
        peer = hub.accept()
        peer.wait_announce()
        yield peer
    finally:
        stop(proc)


@pytest.fixture
def fresh(sockdir: str) -> Iterator[tuple[FakeHub, subprocess.Popen[bytes], Peer]]:
    """A worker of its own, on rings, with the default (short) polling."""
    h = FakeHub(os.path.join(sockdir, "fresh.sock"), rings=True)
    h.functions["java.math.add"] = lambda a, b: a + b
    proc = start_worker(h)
    try:
        peer = h.accept()
        peer.wait_announce()
        yield h, proc, peer
    finally:
        stop(proc)
        h.close()


def until(cond: Callable[[], bool], what: str) -> None:
    for _ in range(int(WAIT * 1000)):
        if cond():
            return
        time.sleep(0.001)
    raise AssertionError(f"timed out waiting for {what}")


def test_the_worker_offers_rings_and_the_hub_unlinks_the_file_once_it_is_mapped(
    spinning: Peer,
) -> None:
    assert FEATURE in spinning.hello.features
    assert spinning.rings is not None
    assert not os.path.exists(spinning.rings_path)
    # After each call the worker polls for a second (LONG_SPIN). On a loaded machine this test
    # may be off the CPU for longer than that, so a missed window is retried with another call.
    for _ in range(20):
        assert value(spinning.call("t.add", 1, 1)) == 2
        for _ in range(200):
            if spinning.peer_awake():
                return
            time.sleep(0.001)
    raise AssertionError("the worker never showed it polls its ring after a call")


def test_calls_and_results_travel_on_the_rings_both_ways(spinning: Peer) -> None:
    before_ring, before_sent = len(spinning.via_ring), len(spinning.sent_on_ring)
    for i in range(20):
        assert value(spinning.call("t.add", i, 1)) == i + 1
    assert kinds(spinning.via_ring[before_ring:]).count("result") >= 19
    assert spinning.sent_on_ring[before_sent:].count("call") >= 19


def test_a_nested_call_goes_out_on_the_ring(spinning: Peer) -> None:
    # Its result comes back on the socket: while a call runs the worker does not poll (the
    # GIL is the running call's), so it says it sleeps.
    before_ring = len(spinning.via_ring)
    assert value(spinning.call("t.nested", 4, 5)) == 90
    assert value(spinning.call("t.anested", 2, 3)) == 6
    assert kinds(spinning.via_ring[before_ring:]).count("call") == 2


def test_an_async_function_and_a_long_sync_function_answer_with_rings_on(spinning: Peer) -> None:
    long = spinning.send_call("t.spin", 3_000_000)
    quick = [spinning.send_call("t.anested", i, 1) for i in range(10)]
    assert [value(spinning.result(c)) for c in quick] == [i + 2 for i in range(10)]
    assert value(spinning.result(long)) == sum(range(3_000_000))


def test_ping_travels_on_the_ring(spinning: Peer) -> None:
    before = len(spinning.via_ring)
    spinning.ping(77)
    assert "pong" in kinds(spinning.via_ring[before:]) + kinds(spinning.via_socket[-3:])


def test_records_wrap_around_the_ring_with_skip_markers(spinning: Peer) -> None:
    assert spinning.rings is not None
    text = "x" * 3000  # 64 KiB rings: about 20 records per lap
    for i in range(60):
        assert value(spinning.call("t.echo", f"{i}{text}")) == f"{i}{text}"
    assert spinning.skips_written > 0
    assert spinning.rings.outgoing._tail > 2 * spinning.rings.ring_bytes
    assert spinning.rings.incoming.head() > 2 * spinning.rings.ring_bytes


def test_a_frame_over_a_quarter_of_the_ring_goes_on_the_socket(spinning: Peer) -> None:
    big = "y" * 20000  # a quarter of 64 KiB is 16384
    before_sock, before_sent = len(spinning.via_socket), len(spinning.sent_on_ring)
    assert value(spinning.call("t.echo", big)) == big
    assert "call" not in spinning.sent_on_ring[before_sent:]
    assert "result" in kinds(spinning.via_socket[before_sock:])


def test_results_go_on_the_socket_while_the_hub_sleeps(spinning: Peer) -> None:
    before_ring = len(spinning.via_ring)
    spinning.set_hub_awake(False)
    try:
        for i in range(5):
            assert value(spinning.call("t.add", i, i)) == 2 * i
        assert "result" not in kinds(spinning.via_ring[before_ring:])
    finally:
        spinning.set_hub_awake(True)


def test_results_go_on_the_socket_when_the_ring_is_full(spinning: Peer) -> None:
    text = "z" * 8000
    before_ring, before_sock = len(spinning.via_ring), len(spinning.via_socket)
    spinning.ring_paused = True  # the hub stops consuming, still "awake": ring 1 fills up
    try:
        ids = [spinning.send_call("t.echo", f"{i}{text}") for i in range(20)]
        until(
            lambda: kinds(spinning.via_socket[before_sock:]).count("result") >= 12,
            "results on the socket",
        )
    finally:
        spinning.resume_ring()
    assert [value(spinning.result(c)) for c in ids] == [f"{i}{text}" for i in range(20)]
    assert "result" in kinds(spinning.via_ring[before_ring:])


def test_a_cancel_sent_on_the_socket_after_its_call_on_the_ring_is_seen_after_it(
    spinning: Peer,
) -> None:
    before_sent = len(spinning.sent_on_ring)
    cid = spinning.call_both_ways_cancel("t.wait_cancel")
    assert spinning.sent_on_ring[before_sent:] == ["call"]
    assert spinning.result(cid).status.code == Code.CANCELLED


def test_a_worker_asleep_serves_a_ring_record_after_a_wake(fresh) -> None:  # type: ignore[no-untyped-def]
    _, _, peer = fresh
    until(lambda: not peer.peer_awake(), "the worker to sleep")
    assert value(peer.result(forced_call(peer, 1, 2, wake=True))) == 3


def test_a_worker_asleep_finds_a_ring_record_without_a_wake_on_its_next_look(fresh) -> None:  # type: ignore[no-untyped-def]
    _, _, peer = fresh
    until(lambda: not peer.peer_awake(), "the worker to sleep")
    assert value(peer.result(forced_call(peer, 5, 6, wake=False))) == 11


def test_a_cancel_that_wakes_the_worker_is_seen_after_its_call_on_the_ring(fresh) -> None:  # type: ignore[no-untyped-def]
    # The worker asleep on the socket reads the Cancel first; the Call was on the ring before.
    _, _, peer = fresh
    until(lambda: not peer.peer_awake(), "the worker to sleep")
    cid = forced_call(peer, wake=False, function="t.sleepy", cancel=True)
    assert peer.result(cid).status.code == Code.CANCELLED


def test_calls_work_while_the_worker_mostly_sleeps(fresh) -> None:  # type: ignore[no-untyped-def]
    _, _, peer = fresh
    for i in range(50):
        assert value(peer.call("t.add", i, 2)) == i + 2
    assert value(peer.call("t.nested", 1, 1)) == 20


def test_a_malformed_ring_record_is_a_protocol_error(fresh) -> None:  # type: ignore[no-untyped-def]
    _, proc, peer = fresh
    peer.put_raw_record([0])  # length 0
    peer.wait_closed()
    assert proc.wait(WAIT) == 1
    goaways = [f.goaway for f in peer.received if f.WhichOneof("body") == "goaway"]
    assert goaways and goaways[0].status.code == Code.INVALID_ARGUMENT
    assert "ring record length 0" in stop(proc)


def test_a_ring_record_that_does_not_parse_is_a_protocol_error(fresh) -> None:  # type: ignore[no-untyped-def]
    _, proc, peer = fresh
    peer.put_raw_record([6], b"\xff" * 6)
    peer.wait_closed()
    assert proc.wait(WAIT) == 1
    assert "do not parse as a Frame" in stop(proc)


def test_a_socket_only_frame_on_a_ring_is_a_protocol_error(fresh) -> None:  # type: ignore[no-untyped-def]
    _, proc, peer = fresh
    peer.force_ring(pb.Frame(cancel=pb.Cancel(call_id=1)), wake=True)
    peer.wait_closed()
    assert proc.wait(WAIT) == 1
    assert "a cancel frame on a ring" in stop(proc)


def test_a_rings_file_that_cannot_be_mapped_leaves_the_socket(sockdir: str) -> None:
    h = FakeHub(os.path.join(sockdir, "nofile.sock"), rings=True, rings_path="/nonexistent/rings")
    h.functions["java.math.add"] = lambda a, b: a + b
    proc = start_worker(h)
    try:
        peer = h.accept()
        assert value(peer.call("t.add", 1, 2)) == 3
        assert value(peer.call("t.nested", 1, 2)) == 30
    finally:
        err = stop(proc)
        h.close()
    assert "cannot use the shared-memory rings" in err


def test_rings_are_not_offered_when_polycall_shm_is_0(sockdir: str) -> None:
    h = FakeHub(os.path.join(sockdir, "off.sock"), rings=True)
    proc = start_worker(h, POLYCALL_SHM="0")
    try:
        peer = h.accept()
        assert list(peer.hello.features) == []
        assert peer.rings is None
        assert value(peer.call("t.add", 1, 2)) == 3
    finally:
        stop(proc)
        h.close()


def test_a_producer_sends_wake_when_the_consumer_fell_asleep_after_it_looked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The race WIRE.md closes with Wake: the hub was awake when the frame was offered and is
    # asleep by the time the producer looks again, right after publishing.
    d = tempfile.mkdtemp(prefix="pcw")
    a, b = socket.socketpair()
    try:
        hub = Rings.create(os.path.join(d, "r"), 65536)
        peer = Rings.map(os.path.join(d, "r"), 65536)
        wire = Wire(a)
        wire.use_rings(peer)
        hub.incoming.set_awake(True)
        offer = peer.outgoing.offer

        def offer_then_hub_sleeps(parts: list[bytes]) -> bool:
            published = offer(parts)
            hub.incoming.set_awake(False)
            return published

        monkeypatch.setattr(peer.outgoing, "offer", offer_then_hub_sleeps)
        frame = pb.Frame(result=pb.Result(call_id=9, value=codec.encode(1)))
        wire.send(codec.frame_parts(frame))
        b.settimeout(WAIT)
        assert b.recv(64) == WAKE_FRAME
        assert hub.incoming.take(codec.MAX_FRAME_BYTES) == frame
        # Asleep now: the next frame goes on the socket itself.
        wire.send(codec.frame_parts(frame))
        assert b.recv(64) == codec.frame_bytes(frame)
        assert wire.ring_stats == [0, 0, 1, 1, 1]
    finally:
        a.close()
        b.close()
        shutil.rmtree(d, ignore_errors=True)


def forced_call(
    peer: Peer, *args: object, wake: bool, function: str = "t.add", cancel: bool = False
) -> int:
    """A call put on ring 0 although the worker sleeps (and maybe its Cancel); its call id."""

    async def future() -> asyncio.Future[pb.Result]:
        return asyncio.get_running_loop().create_future()

    peer.next_id += 1
    cid = peer.next_id
    peer.results[cid] = peer.hub.run(future())
    call = pb.Call(call_id=cid, function=function, args=[codec.encode(a) for a in args])
    then = pb.Frame(cancel=pb.Cancel(call_id=cid)) if cancel else None
    peer.force_ring(pb.Frame(call=call), wake=wake, then=then)
    return cid
