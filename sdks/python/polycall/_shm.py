"""Shared-memory rings beside the socket (WIRE.md "Shared-memory rings", feature shm-rings/1).

The hub creates one file holding two single-producer, single-consumer rings; a worker maps it
and then exchanges frames through them while the receiver polls, which saves the system call
of a send and the wake-up of a receive on every frame. The socket stays the connection.

::

     file offset 0                      128 + R                            2 x (128 + R)
     +---------+-----------------------+---------+-----------------------+
     | header  | data (R bytes)        | header  | data (R bytes)        |
     +---------+-----------------------+---------+-----------------------+
       ring 0: hub -> peer               ring 1: peer -> hub          R = ring_bytes

     header (128 bytes; little-endian, naturally aligned)
     0        8                        64       72       76                128
     +--------+------------------------+--------+--------+-----------------+
     | tail   | (padding)              | head   | awake  | (padding)       |
     | u64    |                        | u64    | u32    |                 |
     +--------+------------------------+--------+--------+-----------------+
       written by the producer only      written by the consumer only

     a record at (position mod R); positions only grow; a record never wraps
     0        4                     4 + length        padded to a multiple of 8
     +--------+---------------------+-----------+
     | length | Frame (protobuf)    | (padding) |
     | u32 LE |                     |           |
     +--------+---------------------+-----------+
       length 0xFFFFFFFF: skip to the start of the data area

Aligned 8- and 4-byte loads and stores through a ``memoryview`` cast to ``Q``/``I`` are single
instructions, so the other side never sees half a word. CPython has no fence: acquiring and
releasing a ``threading.Lock`` is a locked instruction, a full fence on x86-64 (on AArch64 it
may not be one, which is why a sleeping consumer also wakes on a short timeout).

Not thread-safe by itself: a `Ring` has one producer and one consumer at a time; callers
serialize each role (the worker's writers share a lock, its readers take turns leading).
"""

from __future__ import annotations

import mmap
import os
import threading
from collections.abc import Callable
from typing import Any

from google.protobuf.message import DecodeError

from ._proto import polycall_pb2 as pb
from .codec import ProtocolError

FEATURE = "shm-rings/1"
HEADER_BYTES = 128
MIN_RING_BYTES = 65536
SKIP = 0xFFFFFFFF
# The frames that may travel on a ring; the others always use the socket (WIRE.md).
RING_FRAMES = frozenset(("call", "result", "batch", "batch_result", "ping", "pong"))
# Indexes of the header words in the ``Q`` and ``I`` views of a header.
_TAIL_Q = 0
_HEAD_Q = 64 // 8
_AWAKE_I = 72 // 4

_fence_lock = threading.Lock()

# The optional C accelerator (polycall/_speedups.c): `ring_offer` is Ring.offer in C (the
# Python offer was ~0.8 us of a no-op call's worker time). None when it was not built or
# POLYCALL_SPEEDUPS=0; Ring.offer then runs in Python.
ring_offer: Callable[[memoryview, int, int, int, list[bytes]], int] | None = None
# `ring_take` is Ring.poll and Ring.release in C (Ring.take then only parses).
ring_take: Callable[[memoryview, int, int, int, int], tuple[int, bytes | str | None]] | None = None
# `FastPath` serves the common sync call read from a ring in C (Connection._serve_fast).
FastPath: Any = None
if os.environ.get("POLYCALL_SPEEDUPS", "1") != "0":
    try:
        from . import _speedups

        ring_offer, ring_take = _speedups.ring_offer, _speedups.ring_take
        FastPath = _speedups.FastPath
    except (ImportError, AttributeError):  # not built, or built from an older _speedups.c
        pass


def fence() -> None:
    """A full memory fence, as near as CPython gets (see the module doc)."""
    _fence_lock.acquire()
    _fence_lock.release()


def record_bytes(length: int) -> int:
    """Bytes a frame body of `length` bytes takes on a ring: prefix and padding included."""
    return (4 + length + 7) & ~7


class Ring:
    """One ring of a mapped rings file, seen from one side (producer or consumer).

    The producer keeps its own copy of `tail` and the consumer of `head` (each is the only
    writer of its word), so a poll or an offer reads one shared word, the other side's.
    """

    def __init__(self, buf: memoryview, offset: int, size: int) -> None:
        header = buf[offset : offset + HEADER_BYTES]
        self._buf = buf
        self._offset = offset
        self._q = header.cast("Q")
        self._i = header.cast("I")
        self._data = buf[offset + HEADER_BYTES : offset + HEADER_BYTES + size]
        self._words = self._data.cast("I")
        self.size = size
        self.max_record = size // 4
        self._mask = size - 1
        self._tail = self._q[_TAIL_Q]
        self._head = self._q[_HEAD_Q]
        self._pending = self._head  # head after the record `poll` returned last

    # ---- producer side -----------------------------------------------------------------------

    def consumer_awake(self) -> bool:
        return self._i[_AWAKE_I] != 0

    def offer(self, parts: list[bytes]) -> bool:
        """Publishes a frame as one record: `parts` joined are its 4-byte length prefix (as on
        the socket) and its body.

        False, having written nothing, when the record exceeds R/4, the ring has no room now,
        or the consumer is asleep: the caller then sends the frame on the socket. Never waits.
        """
        if ring_offer is not None:
            tail = ring_offer(self._buf, self._offset, self.size, self._tail, parts)
            if tail > 0:
                self._tail = tail
                return True
            if tail == 0:
                return False
            # -1: a part that is not bytes; the Python path below takes any buffer.
        size = self.size
        if len(parts) == 1:
            length = len(parts[0]) - 4
        else:
            length = -4
            for p in parts:
                length += len(p)
        rec = (length + 11) & ~7  # record_bytes(length)
        if length <= 0 or rec > self.max_record or not self._i[_AWAKE_I]:
            return False
        tail = self._tail
        used = tail - self._q[_HEAD_Q]
        if used < 0 or used > size:
            return False  # a head the consumer cannot have written: keep out of its way
        pos = tail & self._mask
        pad = size - pos if pos + rec > size else 0
        if pad + rec > size - used:
            return False
        if pad:
            self._words[pos >> 2] = SKIP
            pos = 0
        # The parts go in whole, their big-endian prefix where the record's length goes, which
        # then overwrites it: cheaper than slicing the prefix off.
        data = self._data
        at = pos
        for p in parts:
            n = len(p)
            data[at : at + n] = p
            at += n
        self._words[pos >> 2] = length
        self._tail = tail = tail + pad + rec
        # The record's bytes are stored before the tail that publishes them: plain stores in
        # program order, and x86-64 keeps stores in order (see the module doc for AArch64).
        self._q[_TAIL_Q] = tail
        return True

    # ---- consumer side -----------------------------------------------------------------------

    def set_awake(self, awake: bool) -> None:
        self._i[_AWAKE_I] = 1 if awake else 0

    def is_awake(self) -> bool:
        return self._i[_AWAKE_I] != 0

    def ready(self) -> bool:
        """True when a record (or a skip marker) waits."""
        return self._q[_TAIL_Q] != self._head

    def tail(self) -> int:
        return self._q[_TAIL_Q]

    def head(self) -> int:
        return self._head

    def poll(self, max_frame_bytes: int) -> memoryview | None:
        """The next record's frame bytes, or None when the ring is empty.

        The bytes are a view into the ring: use them, then call `release` to hand their space
        back to the producer. ProtocolError on a record that breaks the rules of WIRE.md.
        """
        tail = self._q[_TAIL_Q]
        head = self._head
        if tail == head:
            return None
        size = self.size
        if tail - head > size or tail < head or tail & 7:
            raise ProtocolError(f"ring tail {tail} is not within {size} bytes of head {head}")
        pos = head & self._mask
        length = self._words[pos >> 2]
        if length == SKIP:
            head += size - pos
            if head > tail:
                raise ProtocolError("a ring skip marker beyond the ring's tail")
            self._head = self._pending = head
            self._q[_HEAD_Q] = head
            if head == tail:
                return None
            pos = 0
            length = self._words[0]
        if length == 0 or length > self.max_record or length > max_frame_bytes:
            raise ProtocolError(f"ring record length {length} (ring of {size} bytes)")
        rec = (length + 11) & ~7  # record_bytes(length)
        if head + rec > tail or pos + rec > size:
            raise ProtocolError(f"ring record of {length} bytes runs beyond the ring's tail")
        self._pending = head + rec
        return self._data[pos + 4 : pos + 4 + length]

    def release(self) -> None:
        """Frees the record `poll` returned last (its bytes must not be used any more)."""
        self._head = head = self._pending
        self._q[_HEAD_Q] = head

    def take(self, max_frame_bytes: int) -> pb.Frame | None:
        """The next record's Frame, its space freed; None when the ring is empty.

        ProtocolError on a record that breaks the rules of WIRE.md or does not parse.
        """
        if ring_take is not None:
            if self._q[_TAIL_Q] == self._head:
                return None  # the common empty poll, without the call's argument parsing
            head, body = ring_take(self._buf, self._offset, self.size, self._head, max_frame_bytes)
            self._head = self._pending = head
            if body is None:
                return None
            if isinstance(body, str):
                raise ProtocolError(body)
            return _ring_frame(body)
        view = self.poll(max_frame_bytes)
        if view is None:
            return None
        try:
            return _ring_frame(view)
        finally:
            view.release()
            self._head = head = self._pending
            self._q[_HEAD_Q] = head


def _ring_frame(body: bytes | memoryview) -> pb.Frame:
    """The Frame of a ring record's bytes; ProtocolError unless it parses as a ring frame."""
    try:
        frame: pb.Frame = pb.Frame.FromString(body)
    except DecodeError as e:
        raise ProtocolError(f"bytes that do not parse as a Frame: {e}") from None
    kind = frame.WhichOneof("body")
    if kind not in RING_FRAMES:
        if kind is None:
            raise ProtocolError("a Frame with no body set")
        # The order rule (a Cancel after its Call) holds only if these stay off rings.
        raise ProtocolError(f"a {kind} frame on a ring (it must use the socket)")
    return frame


class Rings:
    """The mapped rings file of one connection, from the peer's side: ring 0 in, ring 1 out."""

    def __init__(self, mm: mmap.mmap, ring_bytes: int, *, hub: bool = False) -> None:
        self._mm = mm
        view = memoryview(mm)
        first = Ring(view, 0, ring_bytes)
        second = Ring(view, HEADER_BYTES + ring_bytes, ring_bytes)
        # The hub (the tests' fake hub uses this class too) produces on ring 0.
        self.incoming, self.outgoing = (second, first) if hub else (first, second)
        self.ring_bytes = ring_bytes

    @staticmethod
    def map(path: str, ring_bytes: int, *, hub: bool = False) -> Rings:
        """Maps the rings file the Welcome names; OSError or ValueError when it cannot."""
        if ring_bytes < MIN_RING_BYTES or ring_bytes & (ring_bytes - 1):
            raise ValueError(f"ring_bytes {ring_bytes} is not a power of two >= {MIN_RING_BYTES}")
        size = 2 * (HEADER_BYTES + ring_bytes)
        fd = os.open(path, os.O_RDWR | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0))
        try:
            actual = os.fstat(fd).st_size
            if actual != size:
                raise ValueError(f"{path} has {actual} bytes, expected {size}")
            mm = mmap.mmap(fd, size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
        finally:
            os.close(fd)
        return Rings(mm, ring_bytes, hub=hub)

    @staticmethod
    def create(path: str, ring_bytes: int) -> Rings:
        """Creates a zero-filled rings file (mode 0600) and maps it as the hub (for tests)."""
        size = 2 * (HEADER_BYTES + ring_bytes)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.ftruncate(fd, size)
        finally:
            os.close(fd)
        return Rings.map(path, ring_bytes, hub=True)
