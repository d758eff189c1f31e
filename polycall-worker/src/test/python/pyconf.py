"""The bridge conformance functions, written in Python (see BridgeConformanceTest)."""

import math
import os
import time
from dataclasses import dataclass
from typing import Annotated, Optional

import numpy as np

import polycall

__polycall_namespace__ = "pyconf"


@dataclass
class Point:
    x: float
    y: float


@polycall.function(signature="(a: i32, b: i32) -> i32")
def add_i32(a: int, b: int) -> int:
    return a + b


@polycall.function
def add_i64(a: int, b: int) -> int:
    return a + b


@polycall.function
def mul_f64(a: float, b: float) -> float:
    return a * b


@polycall.function(signature="(x: i8) -> i8")
def negate_i8(x: int) -> int:
    return -x


@polycall.function
def is_positive(x: float) -> bool:
    return x > 0


@polycall.function(signature="(s: string) -> u64")
def utf8_len(s: str) -> int:
    return len(s.encode("utf-8"))


@polycall.function
def maybe_len(s: Optional[str]) -> int:
    return -1 if s is None else len(s)


@polycall.function
def sum_f64(xs: np.ndarray) -> float:
    return float(xs.sum())


@polycall.function(signature="(data: bytes) -> u64")
def byte_sum(data: bytes) -> int:
    return sum(data)


@polycall.function
def checked_div(a: int, b: int) -> int:
    if b == 0:
        raise ValueError(f"division by zero: {a} / 0")
    return a // b if (a >= 0) == (b > 0) else -(-a // b)


@polycall.function(signature="(f: fn(i64) -> i64, x: i64) -> i64")
def apply(f, x: int) -> int:  # noqa: ANN001 - an FnRef
    return f(x)


@polycall.function
def norm(p: Point) -> float:
    return math.hypot(p.x, p.y)


@polycall.function
def midpoint(a: Point, b: Point) -> Point:
    return Point((a.x + b.x) / 2, (a.y + b.y) / 2)


@polycall.function(signature="(ms: i64) -> null")
def sleep_ms(ms: int) -> None:
    end = time.monotonic() + ms / 1000
    while time.monotonic() < end:
        if polycall.current().cancelled:
            return
        time.sleep(0.005)


# ---- for the fault tests ------------------------------------------------------------------


@polycall.function
def pid() -> int:
    return os.getpid()


@polycall.function(signature="(ms: i64) -> i64")
def block(ms: int) -> int:
    """Sleeps without checking for cancellation: a worker that hangs."""
    time.sleep(ms / 1000)
    return ms


@polycall.function
def crash(code: int) -> int:
    """Exits the whole worker process abruptly, mid-call."""
    os._exit(code)


@polycall.function
def noop() -> None:
    return None


@polycall.function
def big_int() -> int:
    return 2**70


@polycall.function
def bad_message() -> None:
    raise ValueError(b"caf\xe9 \xff".decode("latin-1").encode("utf-8", "surrogateescape").decode("utf-8", "surrogateescape") + "\udcff")


@polycall.function(signature="(xs: ndarray<f64>) -> ndarray<f64>")
def double_all(xs: np.ndarray) -> np.ndarray:
    return xs * 2


@polycall.function(signature="(name: string, x: i64) -> i64")
def call_back(name: str, x: int) -> int:
    """A nested call: Python calls any function of the node by name."""
    return polycall.call(name, x)


@polycall.function(signature="(x: i64) -> i64")
def nested_depth(x: Annotated[int, "i64"]) -> int:
    return x


@polycall.function(signature="(kind: string) -> null")
def write_bad_frame(kind: str) -> None:
    """Makes this worker misbehave on the wire, from inside a call: the hub must drop it."""
    ctx = polycall.current()
    conn = ctx.connection
    if kind == "garbage":  # a sane length, then bytes that are no Frame
        data = b"\x00\x00\x00\x05\xff\xff\xff\xff\xff"
    elif kind == "oversized":  # a length far past the 64 MiB limit
        data = b"\x7f\xff\xff\xff" + b"\x00" * 16
    elif kind == "truncated":  # a frame cut short, then the stream ends
        data = b"\x00\x00\x01\x00" + b"\x22" * 10
    else:
        raise ValueError(f"unknown kind {kind}")

    def send() -> None:
        out = conn._wire if conn._wire is not None else conn._writer  # the worker's is a Wire
        out.write(data)
        if kind == "truncated":
            out.close()

    conn.loop.call_soon_threadsafe(send)
    time.sleep(5)  # the hub closes the connection long before this returns


@polycall.function(signature="(x: any) -> any")
def echo_any(x: object) -> object:
    """Returns its argument as it came (an ndarray of any dtype and shape comes back as is)."""
    return x
