"""The optional C accelerator (polycall/_speedups.c): ring offers and takes as Python does them."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import tempfile
from collections.abc import Iterator

import pytest

from polycall import _shm
from polycall._proto import polycall_pb2 as pb
from polycall._shm import MIN_RING_BYTES, Rings
from polycall.codec import ProtocolError, frame_bytes

speedups = pytest.importorskip(
    "polycall._speedups", reason="the C accelerator is not built (make -C sdks/python speedups)"
)

MAX = 1 << 20


class Pair:
    """One fresh rings file seen by the hub (consumer of ring 1) and the worker (its producer)."""

    def __init__(self, path: str) -> None:
        self.hub = Rings.create(path, MIN_RING_BYTES)
        self.worker = Rings.map(path, MIN_RING_BYTES)
        self.hub.incoming.set_awake(True)

    def file(self) -> bytes:
        return bytes(self.hub._mm)


@pytest.fixture
def pairs() -> Iterator[tuple[Pair, Pair]]:
    d = tempfile.mkdtemp(prefix="pcsp")
    yield Pair(os.path.join(d, "c")), Pair(os.path.join(d, "py"))
    for name in ("c", "py"):
        os.unlink(os.path.join(d, name))
    os.rmdir(d)


def offer_both(
    pairs: tuple[Pair, Pair], parts: list[bytes], monkeypatch: pytest.MonkeyPatch
) -> bool:
    """Offers `parts` through the C path on the first pair and the Python path on the second;
    the same answer and the same file bytes, or the test fails."""
    c, py = pairs
    assert _shm.ring_offer is speedups.ring_offer
    done_c = c.worker.outgoing.offer(parts)
    with monkeypatch.context() as m:
        m.setattr(_shm, "ring_offer", None)
        done_py = py.worker.outgoing.offer(parts)
    assert done_c == done_py
    assert c.worker.outgoing._tail == py.worker.outgoing._tail
    assert c.file() == py.file()
    return done_c


def consume_both(pairs: tuple[Pair, Pair]) -> list[bytes]:
    """Takes every record waiting on ring 1 of both pairs; the bodies (equal on both)."""
    bodies: list[list[bytes]] = []
    for pair in pairs:
        got = []
        for _ in range(10_000):
            body = pair.hub.incoming.poll(MAX)
            if body is None:
                break
            got.append(bytes(body))
            body.release()
            pair.hub.incoming.release()
        bodies.append(got)
    assert bodies[0] == bodies[1]
    return bodies[0]


def take_both(
    pairs: tuple[Pair, Pair], monkeypatch: pytest.MonkeyPatch, max_frame_bytes: int = MAX
) -> list[object]:
    """Takes from ring 0 of the first pair through C, of the second through Python, until empty
    or an error; what each take gave (frames, None, error messages), equal on both, and the same
    file bytes after each take, or the test fails."""
    c, py = pairs
    got: list[object] = []
    for _ in range(10_000):
        outcome: list[object] = []
        for pair, accelerated in ((c, True), (py, False)):
            with monkeypatch.context() as m:
                if not accelerated:
                    m.setattr(_shm, "ring_take", None)
                else:
                    assert _shm.ring_take is speedups.ring_take
                try:
                    outcome.append(pair.worker.incoming.take(max_frame_bytes))
                except ProtocolError as e:
                    outcome.append(e.message)
        assert outcome[0] == outcome[1]
        assert c.worker.incoming._head == py.worker.incoming._head
        assert c.file() == py.file()
        got.append(outcome[0])
        if not isinstance(outcome[0], pb.Frame):
            break
    return got


def publish_raw(pair: Pair, words: list[int], payload: bytes = b"") -> None:
    """Puts hand-made bytes on ring 0: u32 `words`, then `payload`, 8-aligned."""
    out = pair.hub.outgoing
    raw = b"".join(w.to_bytes(4, "little") for w in words) + payload
    raw += bytes(-len(raw) % 8)
    pos = out._tail & out._mask
    out._data[pos : pos + len(raw)] = raw
    out._tail += len(raw)
    out._q[0] = out._tail


def call(n: int) -> bytes:
    """A whole Call frame (length prefix included) of about `n` bytes."""
    return frame_bytes(pb.Frame(call=pb.Call(call_id=n + 1, function="f" * n)))


def frame(n: int) -> bytes:
    """A whole Result frame (length prefix included) whose body is about `n` bytes."""
    return frame_bytes(pb.Frame(result=pb.Result(call_id=n, value=pb.Value(bytes_value=b"x" * n))))


def test_the_worker_uses_the_accelerator_unless_polycall_speedups_is_0() -> None:
    assert _shm.ring_offer is speedups.ring_offer
    code = "from polycall import _shm; print(_shm.ring_offer is None)"
    env = dict(os.environ, POLYCALL_SPEEDUPS="0")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, check=True)
    assert out.stdout.strip() == b"True"


def test_an_accelerator_built_from_an_older_source_is_not_used() -> None:
    code = (
        "import sys, types\n"
        "sys.modules['polycall._speedups'] = types.ModuleType('polycall._speedups')\n"
        "from polycall import _shm\n"
        "print(_shm.ring_offer is None and _shm.ring_take is None)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True)
    assert out.stdout.strip() == b"True"


def test_offers_of_many_sizes_write_the_bytes_python_writes(
    pairs: tuple[Pair, Pair], monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(7)
    sent = []
    for i in range(600):
        data = frame(rng.choice((0, 1, 3, 4, 5, 7, 8, 100, 1000, rng.randrange(5000))))
        assert offer_both(pairs, [data], monkeypatch)
        sent.append(data[4:])
        if i % 5 == 4:
            assert consume_both(pairs) == sent
            sent = []
    assert consume_both(pairs) == sent


def test_offers_that_wrap_write_the_same_skip_markers(
    pairs: tuple[Pair, Pair], monkeypatch: pytest.MonkeyPatch
) -> None:
    skips = 0
    for i in range(200):
        before = pairs[0].worker.outgoing._tail
        assert offer_both(pairs, [frame(3000 + 37 * i)], monkeypatch)
        after = pairs[0].worker.outgoing._tail
        skips += (before & (MIN_RING_BYTES - 1)) + (after - before) > MIN_RING_BYTES
        consume_both(pairs)
    assert skips >= 5


def test_a_full_ring_refuses_an_offer_in_both_paths(
    pairs: tuple[Pair, Pair], monkeypatch: pytest.MonkeyPatch
) -> None:
    refused = False
    for _ in range(100):
        if not offer_both(pairs, [frame(9000)], monkeypatch):
            refused = True
            break
    assert refused
    consume_both(pairs)
    assert offer_both(pairs, [frame(9000)], monkeypatch)


def test_an_asleep_consumer_or_an_oversized_record_gets_nothing_written(
    pairs: tuple[Pair, Pair], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert not offer_both(pairs, [frame(MIN_RING_BYTES // 4)], monkeypatch)
    for pair in pairs:
        pair.hub.incoming.set_awake(False)
    assert not offer_both(pairs, [frame(10)], monkeypatch)
    for pair in pairs:
        pair.hub.incoming.set_awake(True)
    assert offer_both(pairs, [frame(10)], monkeypatch)


def test_a_frame_in_several_parts_is_written_as_one_record(
    pairs: tuple[Pair, Pair], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = frame(500)
    assert offer_both(pairs, [data[:4], data[4:20], b"", data[20:]], monkeypatch)
    assert offer_both(pairs, [data[:2], data[2:]], monkeypatch)
    assert consume_both(pairs) == [data[4:], data[4:]]


def test_parts_that_are_not_bytes_take_the_python_path(
    pairs: tuple[Pair, Pair], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = frame(64)
    ring = pairs[0].worker.outgoing
    assert (
        speedups.ring_offer(ring._buf, ring._offset, ring.size, ring._tail, [memoryview(data)])
        == -1
    )
    assert offer_both(pairs, [data[:4], bytearray(data[4:])], monkeypatch)  # type: ignore[list-item]
    assert consume_both(pairs) == [data[4:]]


def test_a_ring_outside_the_buffer_is_refused() -> None:
    buf = memoryview(bytearray(128 + MIN_RING_BYTES))
    with pytest.raises(ValueError):
        speedups.ring_offer(buf, 8, MIN_RING_BYTES, 0, [frame(1)])
    with pytest.raises(ValueError):
        speedups.ring_offer(buf, 0, MIN_RING_BYTES - 1, 0, [frame(1)])
    with pytest.raises(ValueError):
        speedups.ring_offer(buf, -8, MIN_RING_BYTES, 0, [frame(1)])


def test_takes_give_the_frames_and_free_the_space_as_python_does(
    pairs: tuple[Pair, Pair], monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(11)
    for pair in pairs:
        pair.worker.incoming.set_awake(True)
    for i in range(300):  # ~70 times round the ring: skip markers on the way
        sent = [call(rng.choice((0, 1, 5, 100, rng.randrange(3000)))) for _ in range(1 + i % 4)]
        for data in sent:
            for pair in pairs:
                assert pair.hub.outgoing.offer([data])
        got = take_both(pairs, monkeypatch)
        assert got[-1] is None
        assert (
            [f.SerializeToString() for f in got[:-1]]
            == [  # type: ignore[union-attr]
                pb.Frame.FromString(d[4:]).SerializeToString() for d in sent
            ]
        )


@pytest.mark.parametrize(
    ("words", "payload", "max_frame_bytes"),
    [
        ([0], b"", MAX),  # length 0
        ([MIN_RING_BYTES // 4], b"", MAX),  # over R/4
        ([9], b"\x22\x00" + bytes(7), 8),  # over max_frame_bytes
        ([3], b"\xff\xff\xff", MAX),  # does not parse
        ([2], b"\x32\x00", MAX),  # a Cancel: socket only
        ([0x100], b"", MAX),  # runs beyond the tail
        ([2], b"", MAX),  # a Frame with no body set? (two zero bytes: field 0)
    ],
)
def test_a_record_that_breaks_the_rules_gives_the_error_python_gives(
    pairs: tuple[Pair, Pair],
    monkeypatch: pytest.MonkeyPatch,
    words: list[int],
    payload: bytes,
    max_frame_bytes: int,
) -> None:
    for pair in pairs:
        publish_raw(pair, words, payload)
    got = take_both(pairs, monkeypatch, max_frame_bytes)
    assert isinstance(got[-1], str)


def test_a_tail_out_of_step_and_a_skip_beyond_it_give_the_errors_python_gives(
    pairs: tuple[Pair, Pair], monkeypatch: pytest.MonkeyPatch
) -> None:
    for pair in pairs:
        pair.hub.outgoing._q[0] = 12  # not a multiple of 8
    assert take_both(pairs, monkeypatch) == ["ring tail 12 is not within 65536 bytes of head 0"]
    for pair in pairs:
        pair.hub.outgoing._q[0] = 0
        publish_raw(pair, [_shm.SKIP])
    got = take_both(pairs, monkeypatch)
    assert got == ["a ring skip marker beyond the ring's tail"]
