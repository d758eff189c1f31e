"""The worker process end to end, against the scripted fake hub."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fakehub import WAIT, FakeHub, Peer

from polycall import codec
from polycall._proto import polycall_pb2 as pb
from polycall.errors import Code, PolyCallError

HERE = Path(__file__).parent
FUNCS = str(HERE / "worker_funcs.py")


def start_worker(
    hub: FakeHub, *, secret_hex: str | None = None, worker_id: str | None = None
) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env.pop("POLYCALL_SPEEDUPS", None)
    if hub.path in PURE_PYTHON:
        env["POLYCALL_SPEEDUPS"] = "0"
    env.update(
        POLYCALL_SOCKET=hub.path,
        POLYCALL_WORKER_ID=worker_id or hub.worker_id,
        POLYCALL_WORKER_SECRET=secret_hex if secret_hex is not None else hub.env_secret,
    )
    return subprocess.Popen(
        [sys.executable, "-m", "polycall.worker", "--file", FUNCS, "--log-level", "DEBUG"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


class Gates:
    """Hub-side `hub.gate(key)`: answers once the test opens the gate."""

    def __init__(self) -> None:
        self._events: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    def event(self, key: str) -> threading.Event:
        with self._lock:
            return self._events.setdefault(key, threading.Event())

    async def gate(self, key: str) -> str:
        import asyncio

        ev = self.event(key)
        for _ in range(int(WAIT * 100)):
            if ev.is_set():
                return f"opened {key}"
            await asyncio.sleep(0.01)
        raise TimeoutError(key)


@pytest.fixture(scope="module")
def sockdir() -> Iterator[str]:
    d = tempfile.mkdtemp(prefix="pcw")  # short: Unix socket paths are limited to 108 bytes
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def gates() -> Gates:
    return Gates()


# Hub socket paths whose workers run without the C accelerator (POLYCALL_SPEEDUPS=0).
PURE_PYTHON: set[str] = set()


@pytest.fixture(scope="module", params=["socket", "rings", "rings-pure-python"])
def hub(sockdir: str, gates: Gates, request: pytest.FixtureRequest) -> Iterator[FakeHub]:
    # Every test of the module worker three times: on the socket alone, and with shared-memory
    # rings offered, with the C accelerator (when built) and in Python alone (test_shm.py tests
    # the rings themselves, test_speedups.py the accelerator).
    path = os.path.join(sockdir, f"{request.param}.sock")
    if request.param == "rings-pure-python":
        PURE_PYTHON.add(path)
    h = FakeHub(path, rings=request.param != "socket")
    h.functions["java.math.add"] = lambda a, b: a + b
    h.functions["hub.gate"] = gates.gate
    yield h
    h.close()


@pytest.fixture(scope="module")
def worker(hub: FakeHub) -> Iterator[tuple[subprocess.Popen[bytes], Peer]]:
    proc = start_worker(hub)
    try:
        peer = hub.accept()
        yield proc, peer
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=WAIT)


def value(result: pb.Result) -> object:
    assert result.WhichOneof("outcome") == "value", result
    return codec.decode(result.value)


def status(result: pb.Result) -> pb.Status:
    assert result.WhichOneof("outcome") == "status", result
    return result.status


def test_worker_proves_itself_and_announces_every_function(worker) -> None:
    _, peer = worker
    assert peer.hello.role == pb.WORKER
    assert peer.hello.language == "python"
    assert peer.hello.pid > 0
    sigs = {d.signature for d in peer.wait_announce()}
    assert "t.add(a: i64, b: i64) -> i64" in sigs
    assert "stats.mean(xs: ndarray<f64>) -> f64" in sigs
    assert "t.norm(p: struct Point{x: f64, y: f64}) -> f64" in sigs
    assert "t.fail(message: string) -> null" in sigs
    docs = {d.signature.split("(")[0]: d for d in peer.announced}
    assert docs["t.add"].doc == "Adds two ints."
    assert list(docs["stats.mean"].tags) == ["stats"]


def test_a_call_returns_its_result(worker) -> None:
    _, peer = worker
    assert value(peer.call("t.add", 2, 3)) == 5


def test_an_ndarray_travels_as_one_block_both_ways(worker) -> None:
    _, peer = worker
    xs = np.arange(12, dtype=np.float64).reshape(3, 4)
    assert value(peer.call("stats.mean", xs)) == pytest.approx(5.5)
    big = np.full(1 << 20, 0.5)  # 8 MiB each way
    np.testing.assert_array_equal(value(peer.call("t.scale", big, 2.0)), np.ones(1 << 20))
    out = value(peer.call("t.scale", xs, 2.0))
    assert isinstance(out, np.ndarray)
    np.testing.assert_array_equal(out, xs * 2)


def test_a_struct_argument_becomes_the_declared_dataclass(worker) -> None:
    _, peer = worker
    from polycall import Struct

    assert value(peer.call("t.norm", Struct("Point", x=3.0, y=4.0))) == 5.0


def test_a_value_error_is_invalid_argument_with_python_frames(worker) -> None:
    _, peer = worker
    st = status(peer.call("t.fail", "bad input"))
    assert st.code == Code.INVALID_ARGUMENT
    assert st.message == "ValueError: bad input"
    assert st.frames, "python frames expected"
    assert st.frames[0].language == "python"
    assert st.frames[0].function == "fail"
    assert st.frames[0].file.endswith("worker_funcs.py")
    assert st.frames[0].line > 0


def test_an_error_message_from_undecodable_bytes_is_repaired(worker) -> None:
    _, peer = worker
    st = status(peer.call("t.fail_bytes"))
    assert st.code == Code.INVALID_ARGUMENT
    assert st.message == "ValueError: bad \ufffd\ufffd bytes"


def test_an_int_beyond_64_bits_is_out_of_range(worker) -> None:
    _, peer = worker
    st = status(peer.call("t.huge"))
    assert st.code == Code.OUT_OF_RANGE


def test_a_result_that_does_not_fit_its_declared_width_is_invalid_argument(worker) -> None:
    _, peer = worker
    assert value(peer.call("t.small", 100)) == 100
    st = status(peer.call("t.small", 300))
    assert st.code == Code.INVALID_ARGUMENT
    assert "i8" in st.message


def test_an_argument_of_the_wrong_kind_is_invalid_argument(worker) -> None:
    _, peer = worker
    st = status(peer.call("t.add", "two", 3))
    assert st.code == Code.INVALID_ARGUMENT


def test_an_unknown_function_is_not_found(worker) -> None:
    _, peer = worker
    assert status(peer.call("t.nope")).code == Code.NOT_FOUND


def test_a_sync_function_calls_back_into_the_hub(worker) -> None:
    _, peer = worker
    assert value(peer.call("t.nested", 4, 5)) == 90


def test_an_async_function_calls_back_into_the_hub(worker) -> None:
    _, peer = worker
    assert value(peer.call("t.anested", 4, 5)) == 10


def test_a_fn_argument_is_callable_through_the_hub(worker) -> None:
    _, peer = worker
    peer.hub.functions["java.twice"] = lambda x: 2 * x
    assert value(peer.call("t.apply", pb.Value(fn_value=pb.FnRef(name="java.twice")), 21)) == 42


def test_ping_is_answered_while_functions_block(worker, gates: Gates) -> None:
    _, peer = worker
    blocked = peer.send_call("t.gated", "ping")
    peer.ping(12345)  # answered although t.gated holds a thread
    gates.event("ping").set()
    assert value(peer.result(blocked)) == "opened ping"


def test_calls_in_flight_complete_out_of_order(worker, gates: Gates) -> None:
    _, peer = worker
    first = peer.send_call("t.gated", "order")
    assert value(peer.call("t.add", 1, 1)) == 2  # overtakes the blocked call
    gates.event("order").set()
    assert value(peer.result(first)) == "opened order"


def test_cancel_stops_an_async_function(worker) -> None:
    _, peer = worker
    cid = peer.send_call("t.sleepy")
    peer.ping(1)  # the call has been read once the pong is back
    peer.cancel(cid)
    assert status(peer.result(cid)).code == Code.CANCELLED


def test_cancel_is_visible_to_a_sync_function(worker) -> None:
    _, peer = worker
    cid = peer.send_call("t.wait_cancel")
    peer.ping(2)
    peer.cancel(cid)
    assert status(peer.result(cid)).code == Code.CANCELLED


def test_a_call_past_its_timeout_is_deadline_exceeded(worker) -> None:
    _, peer = worker
    st = status(peer.call("t.sleepy", timeout_nanos=1_000_000))
    assert st.code == Code.DEADLINE_EXCEEDED


def test_a_batch_answers_in_order_and_fails_only_its_bad_call(worker) -> None:
    _, peer = worker
    br = peer.batch([("t.add", [1, 2]), ("t.fail", ["x"]), ("t.add", [3, 4])])
    assert [r.WhichOneof("outcome") for r in br.results] == ["value", "status", "value"]
    assert codec.decode(br.results[0].value) == 3
    assert br.results[1].status.code == Code.INVALID_ARGUMENT
    assert codec.decode(br.results[2].value) == 7


def test_goaway_drains_calls_in_flight_then_the_worker_exits_0_despite_a_stuck_thread(
    sockdir: str,
) -> None:
    gates = Gates()
    hub = FakeHub(os.path.join(sockdir, "drain.sock"))
    hub.functions["hub.gate"] = gates.gate
    proc = start_worker(hub)
    try:
        peer = hub.accept()
        peer.wait_announce()
        st = status(peer.call("t.stuck", timeout_nanos=1_000_000))
        assert st.code == Code.DEADLINE_EXCEEDED  # its thread runs on, ignoring the deadline
        cid = peer.send_call("t.gated", "drain")
        peer.ping(3)
        peer.goaway()
        gates.event("drain").set()
        assert value(peer.result(cid)) == "opened drain"
        assert proc.wait(WAIT) == 0
        _, err = proc.communicate(timeout=WAIT)
        assert b"GoAway" in err
        assert b"exiting with sync functions still running" in err
    finally:
        if proc.poll() is None:
            proc.kill()
        hub.close()


def test_a_hub_that_closes_right_after_goaway_ok_leaves_a_worker_that_exits_0(
    sockdir: str,
) -> None:
    # Pins a race: the reader thread saw the end of the stream before the loop had handled the
    # GoAway it read just before, and the worker exited 1 ("the hub closed the connection").
    hub = FakeHub(os.path.join(sockdir, "close.sock"))
    try:
        for _ in range(4):
            proc = start_worker(hub)
            try:
                peer = hub.accept()
                peer.wait_announce()
                assert value(peer.call("t.add", 1, 2)) == 3
                peer.goaway_and_close()
                assert proc.wait(WAIT) == 0, proc.communicate(timeout=WAIT)[1].decode()
            finally:
                if proc.poll() is None:
                    proc.kill()
                proc.communicate(timeout=WAIT)
    finally:
        hub.close()


def test_a_wrong_secret_makes_the_worker_exit_non_zero(sockdir: str) -> None:
    hub = FakeHub(os.path.join(sockdir, "auth.sock"))
    proc = start_worker(hub, secret_hex=os.urandom(32).hex())
    try:
        _, err = proc.communicate(timeout=WAIT)
        assert proc.returncode != 0
        assert b"handshake" in err and b"UNAUTHENTICATED" in err
        assert hub.refused == ["bad proof from w-1"]
    finally:
        if proc.poll() is None:
            proc.kill()
        hub.close()


def test_a_missing_environment_is_a_clear_error() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLYCALL_")}
    proc = subprocess.run(
        [sys.executable, "-m", "polycall.worker", "--file", FUNCS],
        env=env,
        capture_output=True,
        timeout=WAIT,
    )
    assert proc.returncode != 0
    assert b"POLYCALL_SOCKET" in proc.stderr


def test_help_describes_the_worker() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "polycall.worker", "--help"], capture_output=True, timeout=WAIT
    )
    assert proc.returncode == 0
    assert b"POLYCALL_WORKER_SECRET" in proc.stdout


def test_the_example_module_serves_through_a_worker(sockdir: str) -> None:
    hub = FakeHub(os.path.join(sockdir, "example.sock"))
    hub.functions["math.sqrt"] = lambda x: x**0.5
    env = dict(
        os.environ,
        POLYCALL_SOCKET=hub.path,
        POLYCALL_WORKER_ID=hub.worker_id,
        POLYCALL_WORKER_SECRET=hub.env_secret,
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "polycall.worker", "--module", "stats_module"],
        cwd=HERE.parent / "examples",
        env=env,
        stderr=subprocess.PIPE,
    )
    try:
        peer = hub.accept()
        sigs = [d.signature for d in peer.wait_announce()]
        assert (
            "stats.summary(xs: ndarray<f64>) -> struct Summary{n: u32, mean: f64, std: f64}" in sigs
        )
        assert value(peer.call("stats.mean", np.arange(5.0))) == 2.0
        assert status(peer.call("stats.mean", np.array([]))).code == Code.INVALID_ARGUMENT
        assert value(peer.call("stats.hypot_sum", [3.0, -4.0])) == 7.0
        peer.goaway()
        assert proc.wait(WAIT) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=WAIT)
        hub.close()


def test_cancelling_a_sync_function_cancels_its_nested_call_at_the_hub(worker) -> None:
    _, peer = worker
    cid = peer.send_call("t.gated", "never-opened")
    for _ in range(3000):  # bounded wait until the nested call reached the hub
        if any(
            f.WhichOneof("body") == "call"
            and f.call.args
            and codec.decode(f.call.args[0]) == "never-opened"
            for f in peer.received
        ):
            break
        peer.ping(4)
    nested = [
        f.call.call_id
        for f in peer.received
        if f.WhichOneof("body") == "call"
        and f.call.args
        and codec.decode(f.call.args[0]) == "never-opened"
    ]
    assert len(nested) == 1
    peer.cancel(cid)
    assert status(peer.result(cid)).code == Code.CANCELLED
    for _ in range(3000):
        if any(
            f.WhichOneof("body") == "cancel" and f.cancel.call_id == nested[0]
            for f in peer.received
        ):
            break
        peer.ping(5)
    assert any(
        f.WhichOneof("body") == "cancel" and f.cancel.call_id == nested[0] for f in peer.received
    )


def test_a_large_batch_runs_sync_calls_in_runs_and_keeps_order_and_per_call_failures(
    worker,
) -> None:
    # Pins the batch fast path: sync calls run many per pool job, and the results still line
    # up with the calls, async and nested calls included, one bad argument failing alone.
    _, peer = worker
    calls: list[tuple[str, list[object]]] = [("t.add", [i, 1]) for i in range(300)]
    calls[7] = ("t.add", ["seven", 1])
    calls[150] = ("t.fail", ["boom"])
    calls[200] = ("t.anested", [2, 3])
    calls[250] = ("t.nested", [4, 5])
    br = peer.batch(calls)
    assert len(br.results) == 300
    for i, r in enumerate(br.results):
        if i == 7 or i == 150:
            assert r.status.code == Code.INVALID_ARGUMENT
        elif i == 200:
            assert codec.decode(r.value) == 6
        elif i == 250:
            assert codec.decode(r.value) == 90
        else:
            assert codec.decode(r.value) == i + 1


SMALL_RESULTS: list[tuple[str, object]] = [
    ("t.same", None),
    ("t.same", True),
    ("t.same", 0),
    ("t.same", -1),
    ("t.same", 2**63 - 1),
    ("t.same", -(2**63)),
    ("t.same", 2**64 - 1),
    ("t.same", 1.5),
    ("t.same", float("-inf")),
    ("t.same", ""),
    ("t.same", "héllo ✓ 🎉"),
    ("t.same", "x" * 5000),
    ("t.same", b"\x00\xff"),
    ("t.same", [1, "a"]),
    ("t.as_f32", 0.1),
    ("t.as_f32", 1e39),
    ("t.as_u16", 65535),
    ("t.as_u16", 65536),
    ("t.as_u16", -1),
    ("t.small", -128),
    ("t.small", 300),
]


def _expected(name: str, x: object) -> pb.Result:
    """What the generic encoder makes of `x` returned by `name`: a value, or a status code."""
    result_type = {"t.same": None, "t.as_f32": "f32", "t.as_u16": "u16", "t.small": "i8"}[name]
    try:
        return pb.Result(value=codec.encode(x, result_type))
    except PolyCallError as e:
        return pb.Result(status=pb.Status(code=e.code))


def test_small_results_reach_the_caller_as_the_generic_encoder_writes_them(worker) -> None:
    _, peer = worker
    for name, x in SMALL_RESULTS:
        got = peer.call(name, x)
        want = _expected(name, x)
        if want.HasField("status"):
            assert status(got).code == want.status.code, (name, x)
        else:
            assert got.value == want.value, (name, x)
            assert got.value.SerializeToString() == want.value.SerializeToString(), (name, x)


def test_small_results_of_a_batch_are_the_generic_encoders_in_their_places(worker) -> None:
    _, peer = worker
    br = peer.batch([(name, [x]) for name, x in SMALL_RESULTS])
    assert br.batch_id == 7
    assert len(br.results) == len(SMALL_RESULTS)
    for (name, x), got in zip(SMALL_RESULTS, br.results, strict=True):
        assert got.call_id == 0
        want = _expected(name, x)
        if want.HasField("status"):
            assert status(got).code == want.status.code, (name, x)
        else:
            assert got.value.SerializeToString() == want.value.SerializeToString(), (name, x)


def test_each_call_of_a_batch_sees_its_own_metadata_even_beside_calls_without(worker) -> None:
    _, peer = worker
    br = peer.batch(
        [
            ("t.meta", ["k"], {"k": "1"}),
            ("t.meta", ["k"], {}),
            ("t.meta", ["k"], {}),
            ("t.meta", ["k"], {"k": "2"}),
            ("t.meta", ["k"], {"k": "3"}),
            ("t.meta", ["k"], {}),
        ]
    )
    assert [codec.decode(r.value) for r in br.results] == ["1", "", "", "2", "3", ""]


def test_an_argument_that_does_not_decode_is_named_in_the_invalid_argument(worker) -> None:
    _, peer = worker
    bad = pb.Value(int_value=300, width=pb.I8)
    st = status(peer.call("t.add", 1, bad))
    assert st.code == Code.INVALID_ARGUMENT
    assert "args[1] (b)" in st.message and "does not fit i8" in st.message
    st = status(peer.call("t.add", 1, 2, 3))
    assert st.code == Code.INVALID_ARGUMENT and "takes 2 argument(s), got 3" in st.message


def test_a_batch_of_slow_calls_handed_on_to_the_pool_keeps_order_and_each_calls_metadata(
    worker,
) -> None:
    # The reader runs a batch's calls itself for a few milliseconds, then hands the rest to
    # pool jobs: the results must not notice where each call ran.
    _, peer = worker
    calls = [("t.nap_meta", [1, "k"], {"k": str(i)} if i % 3 else {}) for i in range(120)]
    br = peer.batch(calls)
    assert [codec.decode(r.value) for r in br.results] == [
        str(i) if i % 3 else "" for i in range(120)
    ]


def test_results_over_the_frame_limit_come_back_as_resource_exhausted(sockdir: str) -> None:
    hub = FakeHub(os.path.join(sockdir, "small.sock"), limits=pb.Limits(max_frame_bytes=1024))
    proc = start_worker(hub)
    try:
        peer = hub.accept()
        assert value(peer.call("t.repeat", "x", 900)) == "x" * 900
        assert status(peer.call("t.repeat", "x", 2000)).code == Code.RESOURCE_EXHAUSTED
        br = peer.batch([("t.repeat", ["y", 400])] * 2)
        assert [codec.decode(r.value) for r in br.results] == ["y" * 400] * 2
        br = peer.batch([("t.repeat", ["y", 400])] * 3)
        assert [r.status.code for r in br.results] == [Code.RESOURCE_EXHAUSTED] * 3
        assert value(peer.call("t.add", 1, 2)) == 3  # the worker reads on
    finally:
        proc.kill()
        proc.communicate(timeout=WAIT)
        hub.close()


# ---- big ndarrays: received into the buffer the arrays view, sent from the array's memory ----

BIG_SHAPES = [(0,), (1,), (codec.BIG_BLOCK // 8 + 3,), (3, 40_001), (2, 0, 5), (1 << 20,)]


def odd_array(dtype: str, shape: tuple[int, ...]) -> np.ndarray:
    n = int(np.prod(shape))
    a = np.arange(n, dtype=np.int64) * 7919 + 13
    if dtype == "bool":
        return (a % 3 == 0).reshape(shape)
    return a.astype(codec.DTYPES[dtype]).reshape(shape)


@pytest.mark.parametrize("dtype", sorted(codec.DTYPES))
def test_arrays_of_every_dtype_and_odd_sizes_round_trip_exactly(worker, dtype: str) -> None:
    _, peer = worker
    for shape in BIG_SHAPES:
        if shape == (1 << 20,) and dtype not in ("f64", "u8"):
            continue  # 8 MiB each way: two dtypes are enough
        a = odd_array(dtype, shape)
        out = value(peer.call("t.same", a))
        assert isinstance(out, np.ndarray)
        assert out.dtype == a.dtype and out.shape == a.shape, (dtype, shape)
        np.testing.assert_array_equal(out, a)


def test_a_big_array_argument_arrives_read_only_beside_other_arguments(worker) -> None:
    _, peer = worker
    big = odd_array("f64", (1 << 20,))
    assert value(peer.call("t.read_only", big)) is True
    assert value(peer.call("t.read_only", big[:10].copy())) is True
    # Not copied out of the frame's buffer (a small one is, by protobuf).
    assert value(peer.call("t.block_owner", big)) == "memoryview"
    assert value(peer.call("t.block_owner", big[:10].copy())) == "bytes"
    out = value(peer.call("t.rotate", big, "s", odd_array("i32", (70_000,))))
    assert isinstance(out, list) and out[0] == "s"
    np.testing.assert_array_equal(out[1], odd_array("i32", (70_000,)))
    np.testing.assert_array_equal(out[2], big)
    np.testing.assert_array_equal(value(peer.call("t.scale", big, 2.0)), big * 2)


def test_a_big_array_reaches_an_async_function_and_a_call_with_a_deadline(worker) -> None:
    _, peer = worker
    big = odd_array("f32", (300, 301))
    np.testing.assert_array_equal(value(peer.call("t.asame", big)), big)
    out = value(peer.call("t.same", big, timeout_nanos=60_000_000_000))
    np.testing.assert_array_equal(out, big)


def test_a_big_array_result_over_the_frame_limit_is_resource_exhausted(sockdir: str) -> None:
    limit = 1 << 20
    hub = FakeHub(os.path.join(sockdir, "bigres.sock"), limits=pb.Limits(max_frame_bytes=limit))
    proc = start_worker(hub)
    try:
        peer = hub.accept()
        fits = value(peer.call("t.zeros", limit // 8 - 64))
        assert isinstance(fits, np.ndarray) and fits.shape == (limit // 8 - 64,)
        res = status(peer.call("t.zeros", limit // 8 + 1))
        assert res.code == Code.RESOURCE_EXHAUSTED and "exceeds the limit" in res.message
        assert value(peer.call("t.add", 1, 2)) == 3  # the worker reads on
    finally:
        proc.kill()
        proc.communicate(timeout=WAIT)
        hub.close()


def test_a_call_over_the_frame_limit_is_a_protocol_error_before_its_body(sockdir: str) -> None:
    limit = 1 << 20
    hub = FakeHub(os.path.join(sockdir, "bigcall.sock"), limits=pb.Limits(max_frame_bytes=limit))
    proc = start_worker(hub)
    try:
        peer = hub.accept()
        body = pb.Frame(
            call=pb.Call(call_id=5, function="t.same", args=[codec.encode(np.zeros(limit // 8))])
        ).SerializeToString()
        # Only the start of the body: the worker refuses the frame on its length alone.
        peer.send_raw(len(body).to_bytes(4, "big") + body[:1000])
        peer.wait_closed()
        goaways = [f.goaway for f in peer.received if f.WhichOneof("body") == "goaway"]
        assert [g.status.code for g in goaways] == [Code.INVALID_ARGUMENT]
        assert "exceeds the limit" in goaways[0].status.message
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=WAIT)
        hub.close()
