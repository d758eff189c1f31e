"""The C fast path of sync calls read from a ring (FastPath in polycall/_speedups.c).

Two real workers on rings behind fake hubs: one with the accelerator, one with
POLYCALL_SPEEDUPS=0 (the pure-Python path, the behaviour reference). Every call here is put on
the ring (with a Wake), so it is read from the ring whether the worker polls or sleeps; the
answers of both workers must be the same bytes, and the fast worker's count of fast-path calls
shows which calls took it.
"""

from __future__ import annotations

import asyncio
import math
import os
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
from fakehub import FakeHub, Peer
from test_shm import LONG_SPIN, start_worker, stop, value

from polycall import codec
from polycall._conn import WAKE_FRAME
from polycall._proto import polycall_pb2 as pb
from polycall.codec import (
    result_frame_bytes,
    small_value_encoder,
    small_value_kind,
)
from polycall.errors import Code
from polycall.types import parse_type
from polycall.values import Typed

speedups = pytest.importorskip(
    "polycall._speedups", reason="the C accelerator is not built (make -C sdks/python speedups)"
)


class Worker:
    def __init__(self, hub: FakeHub, proc: subprocess.Popen[bytes], peer: Peer) -> None:
        self.hub, self.proc, self.peer = hub, proc, peer

    def ring_call(
        self, function: str, *args: Any, metadata: dict[str, str] | None = None, **kw: Any
    ) -> pb.Result:
        """Calls `function` with its Call on ring 0 (and a Wake); the Result."""
        call = pb.Call(
            function=function,
            args=[a if isinstance(a, pb.Value) else codec.encode(a) for a in args],
            metadata=metadata or {},
            **kw,
        )
        return self.peer.result(self.force(call))

    def force(self, call: pb.Call, cancel: bool = False) -> int:
        async def future() -> asyncio.Future[pb.Result]:
            return asyncio.get_running_loop().create_future()

        self.peer.next_id += 1
        call.call_id = cid = self.peer.next_id
        self.peer.results[cid] = self.peer.hub.run(future())
        then = pb.Frame(cancel=pb.Cancel(call_id=cid)) if cancel else None
        self.peer.force_ring(pb.Frame(call=call), wake=True, then=then)
        return cid

    def raw_call(self, call_id: int, body: bytes) -> pb.Result:
        """A Frame body written by hand, on ring 0; the Result of call `call_id`."""

        async def future() -> asyncio.Future[pb.Result]:
            return asyncio.get_running_loop().create_future()

        self.peer.results[call_id] = self.peer.hub.run(future())
        self.peer.put_raw_record([len(body)], body)
        self.peer.send_raw(WAKE_FRAME)
        return self.peer.result(call_id)

    def fast_calls(self) -> int:
        return int(value(self.ring_call("t.fast_calls")))  # type: ignore[call-overload]


def _worker(sockdir: str, name: str, *args: str, **env: str) -> Iterator[Worker]:
    hub = FakeHub(os.path.join(sockdir, name), rings=True)
    hub.functions["java.math.add"] = lambda a, b: a + b
    proc = start_worker(hub, *args, **env, **LONG_SPIN)
    try:
        peer = hub.accept()
        peer.wait_announce()
        yield Worker(hub, proc, peer)
    finally:
        stop(proc)
        hub.close()


@pytest.fixture(scope="module")
def fast(sockdir: str) -> Iterator[Worker]:
    yield from _worker(sockdir, "fast.sock")


@pytest.fixture(scope="module")
def plain(sockdir: str) -> Iterator[Worker]:
    yield from _worker(sockdir, "plain.sock", POLYCALL_SPEEDUPS="0")


@pytest.fixture(scope="module")
def sockdir() -> Iterator[str]:
    import shutil
    import tempfile

    d = tempfile.mkdtemp(prefix="pcf")
    yield d
    shutil.rmtree(d, ignore_errors=True)


def same_bytes(a: pb.Result, b: pb.Result) -> bool:
    a.call_id = b.call_id = 0
    return a.SerializeToString(deterministic=True) == b.SerializeToString(deterministic=True)


def test_a_sync_call_read_from_the_ring_takes_the_c_fast_path(fast: Worker) -> None:
    before = fast.fast_calls()
    assert value(fast.ring_call("t.add", 2, 3)) == 5
    assert fast.fast_calls() - before == 2  # t.add and the second t.fast_calls


def test_polycall_speedups_0_leaves_the_python_path_alone(plain: Worker) -> None:
    assert plain.fast_calls() == -1
    assert value(plain.ring_call("t.add", 2, 3)) == 5


# (function, args, whether the fast path reads the call)
CASES: list[tuple[str, list[Any], bool]] = [
    ("t.same", [None], True),
    ("t.same", [True], True),
    ("t.same", [False], True),
    ("t.same", [0], True),
    ("t.same", [-1], True),
    ("t.same", [2**63 - 1], True),
    ("t.same", [-(2**63)], True),
    ("t.same", [2**64 - 1], True),  # a uint_value
    ("t.same", [1.5], True),
    ("t.same", [-0.0], True),
    ("t.same", [math.inf], True),
    ("t.same", [math.nan], True),
    ("t.same", [""], True),
    ("t.same", ["héllo ☃ \U0001f600"], True),
    ("t.same", ["x" * 127], True),
    ("t.same", ["x" * 128], True),
    ("t.same", ["x" * 5000], True),  # read here, written by protobuf (beyond SMALL_SCALAR)
    ("t.same", [b""], True),
    ("t.same", [b"\x00\xff" * 100], True),
    ("t.same", [[1, "a"]], False),
    ("t.same", [{"k": 1}], False),
    ("t.same", [Typed(5, "i8")], False),  # a width: the Python decoder checks it
    ("t.echo", ["abc"], True),
    ("t.repeat", ["ab", 3000], True),
    ("t.add", [1, 2], True),
    ("t.add", ["a", "b"], True),  # a str result for an i64: protobuf's path refuses it
    ("t.add", [1, 2, 3], False),  # too many: INVALID_ARGUMENT from Python
    ("t.add", [1], True),  # too few: the TypeError's status
    ("t.small", [-128], True),
    ("t.small", [300], True),  # does not fit i8
    ("t.as_u16", [65535], True),
    ("t.as_u16", [65536], True),
    ("t.as_u16", [-1], True),
    ("t.as_f32", [1.1], True),
    ("t.as_f32", [1e300], True),
    ("t.huge", [], True),  # 2**70: OUT_OF_RANGE
    ("t.fail", ["boom"], True),
    ("t.fail_bytes", [], True),
    ("t.nope", [], False),  # NOT_FOUND
    ("t.add@1", [1, 2], False),
    ("t.sleepy", [], False),  # async: the loop runs it
    ("t.norm", [{"x": 3.0, "y": 4.0}], False),
]


@pytest.mark.parametrize(("function", "args", "fast_path"), CASES)
def test_each_call_is_answered_with_the_bytes_of_the_python_path(
    fast: Worker, plain: Worker, function: str, args: list[Any], fast_path: bool
) -> None:
    if function == "t.sleepy":
        args_kw: dict[str, Any] = {"timeout_nanos": 50_000_000}
    else:
        args_kw = {}
    before = fast.fast_calls()
    got = fast.ring_call(function, *args, **args_kw)
    taken = fast.fast_calls() - before - 1
    want = plain.ring_call(function, *args, **args_kw)
    assert same_bytes(got, want), (got, want)
    assert taken == (1 if fast_path else 0)


def test_an_exception_in_a_fast_path_call_travels_with_its_python_frames(fast: Worker) -> None:
    before = fast.fast_calls()
    st = fast.ring_call("t.fail", "boom").status
    assert fast.fast_calls() - before == 2
    assert st.code == Code.INVALID_ARGUMENT
    assert st.message == "ValueError: boom"
    assert st.frames[0].language == "python"
    assert st.frames[0].function == "fail"
    assert st.frames[0].file.endswith("worker_funcs.py")


def test_a_cancel_reaches_a_fast_path_call_and_only_cancelled_is_answered(fast: Worker) -> None:
    before = fast.fast_calls()
    cid = fast.force(pb.Call(function="t.wait_cancel"), cancel=True)
    assert fast.peer.result(cid).status.code == Code.CANCELLED
    # The function saw the cancel (it returns at once) and its own result was dropped.
    assert value(fast.ring_call("t.add", 1, 1)) == 2
    assert fast.fast_calls() - before == 3
    answers = [
        f
        for f in fast.peer.via_ring + fast.peer.via_socket
        if f.WhichOneof("body") == "result" and f.result.call_id == cid
    ]
    assert len(answers) == 1


def test_a_fast_path_call_makes_nested_calls_through_its_context(fast: Worker) -> None:
    before = fast.fast_calls()
    assert value(fast.ring_call("t.nested", 4, 5)) == 90
    assert fast.fast_calls() - before == 2


def test_a_fast_path_call_sees_its_metadata(fast: Worker, plain: Worker) -> None:
    before = fast.fast_calls()
    meta = {"k": "v ☃", "other": ""}
    assert value(fast.ring_call("t.meta", "k", metadata=meta)) == "v ☃"
    assert fast.fast_calls() - before == 2
    assert value(plain.ring_call("t.meta", "k", metadata=meta)) == "v ☃"


def test_a_call_with_a_deadline_takes_the_python_path(fast: Worker) -> None:
    before = fast.fast_calls()
    assert value(fast.ring_call("t.add", 1, 2, timeout_nanos=10**10)) == 3
    assert fast.fast_calls() - before == 1


def test_a_fast_path_call_read_while_the_only_thread_is_busy_runs_in_the_pool(
    sockdir: str,
) -> None:
    # --threads 1: while t.wait_cancel runs on the leader, the follower that took the reading
    # over may not run another call itself (Connection._fast_elsewhere).
    workers = _worker(sockdir, "one.sock", "--threads", "1")
    w = next(workers)
    try:
        before = w.fast_calls()
        busy = w.force(pb.Call(function="t.wait_cancel"))
        assert value(w.ring_call("t.add", 1, 2)) == 3
        w.peer.cancel(busy)
        assert w.peer.result(busy).status.code == Code.CANCELLED
        assert w.fast_calls() - before == 3
    finally:
        workers.close()


def _tag(field: int, wire_type: int) -> bytes:
    return codec.varint(field << 3 | wire_type)


def _ld(field: int, data: bytes) -> bytes:
    return _tag(field, 2) + codec.varint(len(data)) + data


def _frame(call: bytes) -> bytes:
    return _ld(4, call)


# Call bodies written by hand (protobuf allows them; protobuf writers do not make them): the
# fast path reads the ones it is sure of, the Python path the others; the answers agree.
RAW: list[tuple[str, bytes, bool]] = [
    # fields in reverse order
    ("reversed", _ld(3, b"\x18\x04") + _ld(3, b"\x18\x06") + _ld(2, b"t.add") + b"\x08{id}", True),
    # an explicit width 0 and deadline 0
    ("zeros", b"\x08{id}" + _ld(2, b"t.same") + _ld(3, b"\x18\x04\x70\x00") + b"\x20\x00", True),
    # a varint written longer than needed
    ("long varint", b"\x08{id}" + _ld(2, b"t.same") + _ld(3, b"\x18\x84\x80\x00"), True),
    # two kinds in one Value: protobuf keeps the last
    ("two kinds", b"\x08{id}" + _ld(2, b"t.same") + _ld(3, b"\x18\x04" + _ld(6, b"x")), False),
    # an unknown field in the Call
    ("unknown", b"\x08{id}" + _ld(2, b"t.same") + _ld(3, b"\x10\x01") + _ld(9, b"?"), False),
    # a null_value other than NULL_VALUE
    ("bad null", b"\x08{id}" + _ld(2, b"t.same") + _ld(3, b"\x08\x01"), False),
    # a Value with no kind
    ("no kind", b"\x08{id}" + _ld(2, b"t.same") + _ld(3, b""), False),
]


@pytest.mark.parametrize(("what", "call", "fast_path"), RAW, ids=[r[0] for r in RAW])
def test_calls_written_by_hand_are_answered_as_the_python_path_answers(
    fast: Worker, plain: Worker, what: str, call: bytes, fast_path: bool
) -> None:
    answers = []
    for w in (fast, plain):
        before = w.fast_calls()
        w.peer.next_id += 1
        cid = w.peer.next_id
        body = _frame(call.replace(b"{id}", codec.varint(cid)))
        answers.append(w.raw_call(cid, body))
        taken = w.fast_calls() - before - 1
        if w is fast:
            assert taken == (1 if fast_path else 0), what
    assert same_bytes(answers[0], answers[1]), answers


def test_the_c_result_writer_writes_the_bytes_of_the_python_one() -> None:
    types = [
        None,
        *(
            parse_type(t)
            for t in [
                "any",
                "null",
                "bool",
                "i8",
                "i16",
                "i32",
                "i64",
                "u8",
                "u16",
                "u32",
                "u64",
                "f32",
                "f64",
                "string",
                "bytes",
                "optional<i8>",
                "optional<string>",
                "optional<list<i64>>",
                "list<i64>",
                "struct{a:i64}",
            ]
        ),
    ]
    values: list[Any] = [
        None,
        True,
        False,
        0,
        1,
        -1,
        127,
        128,
        -129,
        255,
        256,
        65535,
        65536,
        -(2**31),
        2**31 - 1,
        2**31,
        2**32,
        2**63 - 1,
        2**63,
        -(2**63),
        -(2**63) - 1,
        2**64 - 1,
        2**64,
        0.0,
        -0.0,
        1.1,
        3.4028234663852886e38,
        3.5e38,
        math.inf,
        -math.inf,
        math.nan,
        "",
        "a",
        "é" * 63,
        "x" * 125,
        "x" * 126,
        "x" * 4096,
        "x" * 4097,
        "\ud800",
        b"",
        b"\xff" * 4096,
        b"\xff" * 4097,
        bytearray(b"x"),
        [1],
        Typed(1, "i8"),
    ]
    for t in types:
        kind = small_value_kind(t)
        enc = small_value_encoder(t)
        for v in values:
            for call_id in (1, 127, 128, 300, 2**32, 2**64 - 1):
                want = None
                if enc is not None:
                    small = enc(v)
                    want = None if small is None else result_frame_bytes(call_id, small)
                got = speedups.result_frame(call_id, kind, v)
                assert got == want, (t, v, call_id)
