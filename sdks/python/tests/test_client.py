"""The blocking and asyncio clients against the fake hub."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator

import numpy as np
import pytest
from fakehub import WAIT, FakeHub

import polycall
from polycall._proto import polycall_pb2 as pb


@pytest.fixture
def hub() -> Iterator[FakeHub]:
    d = tempfile.mkdtemp(prefix="pcc")
    h = FakeHub(os.path.join(d, "hub.sock"))
    h.functions["java.math.add"] = lambda a, b: a + b
    h.functions["java.sum"] = lambda xs: float(np.asarray(xs).sum())

    def fail(msg: str) -> None:
        raise ValueError(msg)

    h.functions["java.fail"] = fail
    yield h
    h.close()
    shutil.rmtree(d, ignore_errors=True)


def test_a_client_says_hello_as_a_client_and_calls(hub: FakeHub) -> None:
    with polycall.connect(hub.path) as client:
        peer = hub.accept()
        assert peer.hello.role == pb.CLIENT
        assert peer.hello.proof == b""
        assert client.node_id == "fake-node"
        assert client.call("java.math.add", 1, 2) == 3
        assert client.call("java.sum", np.ones(1000)) == 1000.0


def test_a_failed_call_raises_the_exception_of_its_code(hub: FakeHub) -> None:
    with polycall.connect(hub.path) as client:
        with pytest.raises(polycall.NotFound, match="no function nope"):
            client.call("nope")
        with pytest.raises(polycall.Unknown, match="ValueError: x"):
            client.call("java.fail", "x")


def test_an_out_of_range_int_fails_before_sending(hub: FakeHub) -> None:
    with polycall.connect(hub.path) as client:
        with pytest.raises(polycall.OutOfRange):
            client.call("java.math.add", 2**70, 1)
        assert not hub.calls_served


def test_many_threads_share_one_connection(hub: FakeHub) -> None:
    results: dict[int, object] = {}
    with polycall.connect(hub.path) as client:

        def work(i: int) -> None:
            results[i] = client.call("java.math.add", i, i)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(WAIT)
    assert results == {i: 2 * i for i in range(16)}


def test_functions_lists_by_glob(hub: FakeHub) -> None:
    with polycall.connect(hub.path) as client:
        names = client.functions("java.math.*")
    assert names == ["java.math.add(...) -> any"]


def test_close_is_idempotent_and_a_closed_client_refuses_calls(hub: FakeHub) -> None:
    client = polycall.connect(hub.path)
    client.close()
    client.close()
    with pytest.raises(polycall.FailedPrecondition):
        client.call("java.math.add", 1, 2)


def test_connecting_to_nothing_is_unavailable(tmp_path: object) -> None:
    with pytest.raises(polycall.Unavailable):
        polycall.connect("/nonexistent/polycall.sock")


def test_a_call_that_outlives_its_timeout_is_deadline_exceeded_and_cancelled(
    hub: FakeHub,
) -> None:
    gate = asyncio.Event()

    async def never() -> None:
        await gate.wait()

    hub.functions["java.never"] = never
    with polycall.connect(hub.path) as client:
        peer = hub.accept()
        with pytest.raises(polycall.DeadlineExceeded):
            client.call("java.never", timeout=0.05)
        client.ping()  # the Cancel was written before this Ping
        kinds = [f.WhichOneof("body") for f in peer.received]
        assert "cancel" in kinds
        assert peer.received[kinds.index("call")].call.timeout_nanos > 0


def test_the_hub_closing_fails_calls_in_flight_with_unavailable(hub: FakeHub) -> None:
    gate = asyncio.Event()

    async def never() -> None:
        await gate.wait()

    hub.functions["java.never"] = never
    with polycall.connect(hub.path) as client:
        peer = hub.accept()
        client.ping()
        errors: list[BaseException] = []

        def call() -> None:
            try:
                client.call("java.never")
            except BaseException as e:
                errors.append(e)

        t = threading.Thread(target=call)
        t.start()
        for _ in range(1000):  # bounded wait for the call to reach the hub
            if any(f.WhichOneof("body") == "call" for f in peer.received):
                break
            threading.Event().wait(0.01)
        peer.goaway(code=14, message="hub shutting down")
        t.join(WAIT)
    assert len(errors) == 1 and isinstance(errors[0], polycall.Unavailable)


def test_the_asyncio_client_multiplexes_concurrent_calls(hub: FakeHub) -> None:
    async def main() -> list[object]:
        async with await polycall.aio.connect(hub.path) as client:
            return list(
                await asyncio.gather(*(client.call("java.math.add", i, 1) for i in range(10)))
            )

    assert asyncio.run(main()) == [i + 1 for i in range(10)]


def test_the_asyncio_client_raises_status_exceptions(hub: FakeHub) -> None:
    async def main() -> None:
        client = await polycall.aio.connect(hub.path)
        try:
            with pytest.raises(polycall.InvalidArgument):
                await client.call("java.math.add", {1, 2})  # a set has no PolyCall type
            with pytest.raises(polycall.NotFound):
                await client.call("nope")
        finally:
            await client.close()
            await client.close()

    asyncio.run(main())


def test_polycall_call_outside_a_worker_function_says_what_to_do() -> None:
    with pytest.raises(polycall.FailedPrecondition, match=r"polycall\.connect"):
        polycall.call("java.math.add", 1, 2)


def test_garbage_from_the_hub_is_a_protocol_error_answered_with_goaway(hub: FakeHub) -> None:
    client = polycall.connect(hub.path)
    try:
        peer = hub.accept()
        peer.send_raw(bytes.fromhex("00000004ffffffff"))
        peer.wait_closed()
        goaways = [f.goaway for f in peer.received if f.WhichOneof("body") == "goaway"]
        assert [g.status.code for g in goaways] == [polycall.Code.INVALID_ARGUMENT]
        assert "Frame" in goaways[0].status.message
        with pytest.raises(polycall.Unavailable, match="protocol error"):
            client.call("java.math.add", 1, 2)
    finally:
        client.close()
