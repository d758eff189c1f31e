"""Functions the end-to-end tests serve from a real worker process."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Annotated

import numpy as np

import polycall

__polycall_namespace__ = "t"


@dataclass
class Point:
    x: float
    y: float


@polycall.function
def add(a: int, b: int) -> int:
    """Adds two ints."""
    return a + b


@polycall.function(name="stats.mean", tags=["stats"])
def mean(xs: np.ndarray) -> float:
    return float(xs.mean())


@polycall.function
def scale(xs: np.ndarray, k: float) -> np.ndarray:
    return xs * k


@polycall.function
def norm(p: Point) -> float:
    return float((p.x**2 + p.y**2) ** 0.5)


@polycall.function
def small(n: int) -> Annotated[int, "i8"]:
    return n


@polycall.function
def fail(message: str) -> None:
    raise ValueError(message)


@polycall.function
def fail_bytes() -> None:
    raise ValueError(b"bad \xff\xfe bytes")


@polycall.function
def huge() -> int:
    return 2**70


@polycall.function
def nested(a: int, b: int) -> int:
    """Calls back into the hub from a sync function."""
    return polycall.call("java.math.add", a, b) * 10


@polycall.function
async def anested(a: int, b: int) -> int:
    return await polycall.acall("java.math.add", a, b) + 1


@polycall.function
def apply(f: polycall.FnRef, x: int) -> int:
    return f(x)  # type: ignore[no-any-return]


@polycall.function
def gated(key: str) -> str:
    """Blocks in a nested call until the hub opens the gate named `key`."""
    return str(polycall.call("hub.gate", key))


@polycall.function
def wait_cancel() -> str:
    """Runs until the caller cancels or the deadline passes (bounded)."""
    ctx = polycall.current()
    assert ctx is not None
    for _ in range(6000):
        if ctx.cancelled:
            return "stopped"
        time.sleep(0.005)
    return "never cancelled"


@polycall.function
async def sleepy() -> None:
    await asyncio.sleep(3600)


@polycall.function
def stuck() -> None:
    """Ignores its deadline and cancellation (bounded, so a broken test cannot hang forever)."""
    for _ in range(2400):
        time.sleep(0.05)


@polycall.function
def echo(s: str) -> str:
    return s


@polycall.function
def spin(n: int) -> int:
    """A long sync call that needs the GIL all along (a CPU-bound function)."""
    total = 0
    for i in range(n):
        total += i
    return total


@polycall.function(signature="(x: any) -> any")
def same(x: object) -> object:
    """Returns its argument (what a result of any value becomes on the wire)."""
    return x


@polycall.function
def as_f32(x: float) -> Annotated[float, "f32"]:
    return x


@polycall.function
def as_u16(x: int) -> Annotated[int, "u16"]:
    return x


@polycall.function
def meta(key: str) -> str:
    """The value of `key` in the metadata of the call being served ("" without it)."""
    ctx = polycall.current()
    assert ctx is not None
    return ctx.metadata.get(key, "")


@polycall.function
def nap_meta(ms: int, key: str) -> str:
    """Sleeps `ms` milliseconds, then answers as `meta` does."""
    time.sleep(ms / 1000)
    return meta(key)


@polycall.function
def repeat(s: str, n: int) -> str:
    return s * n


@polycall.function(signature="(xs: any) -> bool")
def read_only(xs: np.ndarray) -> bool:
    """Whether the array argument came read-only (it views the buffer the frame was read into)."""
    return not xs.flags.writeable


@polycall.function(signature="(a: any, b: any, c: any) -> list<any>")
def rotate(a: object, b: object, c: object) -> list[object]:
    return [b, c, a]


@polycall.function
def zeros(n: int) -> np.ndarray:
    return np.zeros(n)


@polycall.function
async def asame(xs: np.ndarray) -> np.ndarray:
    """An async echo of an array: its arguments take the loop's path, not the reader's."""
    return xs


@polycall.function(signature="(xs: any) -> string")
def block_owner(xs: np.ndarray) -> str:
    """The type of the object that owns an array argument's memory: the received frame's
    buffer (a memoryview of it) when the block was not copied out of the frame."""
    base: object = xs
    while isinstance(base, np.ndarray):
        base = base.base
    return type(base).__name__


@polycall.function
def fast_calls() -> int:
    """Calls the C fast path of this connection has taken so far (this one too), -1 without it."""
    ctx = polycall.current()
    assert ctx is not None
    fast = ctx.connection._fast
    return -1 if fast is None else int(fast.calls)
