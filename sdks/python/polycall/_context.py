"""The call a worker function runs under, found through a contextvar.

`call` and `acall` send nested calls back through the connection the current call arrived
on; `current` exposes the deadline and cancellation of that call.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import Cancelled, FailedPrecondition

if TYPE_CHECKING:
    from ._conn import Connection

__all__ = ["CallContext", "current", "call", "acall"]


_NESTED_LOCK = threading.Lock()


@dataclass(slots=True)
class CallContext:
    """The call a worker function is running for. Thread-safe."""

    connection: Connection
    call_id: int
    function: str
    deadline: float | None  # time.monotonic() seconds, None without a deadline
    metadata: dict[str, str]
    # A plain flag, not a threading.Event: a context is made per call (a thousand per batch
    # of no-ops) and an Event costs a Condition and two locks; nothing waits on it.
    _cancelled: bool = False
    # Nested calls in flight from sync code; cancelled with this call. Made on first use and
    # guarded by _NESTED_LOCK (shared): most calls make no nested call, and a set and a lock
    # per context were a fifth of a no-op call's cost in the worker.
    _nested: set[concurrent.futures.Future[Any]] | None = None

    def _cancel(self) -> None:
        self._cancelled = True
        with _NESTED_LOCK:
            nested = list(self._nested or ())
        for f in nested:
            f.cancel()  # cancels the nested call's task, which sends Cancel to the hub

    @property
    def cancelled(self) -> bool:
        """True once the caller cancelled the call or its deadline passed."""
        if self.deadline is not None and time.monotonic() >= self.deadline:
            return True
        return self._cancelled

    def remaining(self) -> float | None:
        """Seconds left before the deadline, None without one."""
        if self.deadline is None:
            return None
        return max(0.0, self.deadline - time.monotonic())


_current: contextvars.ContextVar[CallContext | None] = contextvars.ContextVar(
    "polycall_call", default=None
)


def current() -> CallContext | None:
    """The call the running worker function serves, or None outside one."""
    return _current.get()


def _require() -> CallContext:
    ctx = _current.get()
    if ctx is None:
        raise FailedPrecondition(
            "polycall.call works inside a function served by a worker; elsewhere use"
            " polycall.connect(path).call(...)"
        )
    return ctx


def _timeout(ctx: CallContext, timeout: float | None) -> float | None:
    # A nested call inherits what is left of the outer call's deadline.
    left = ctx.remaining()
    if timeout is None:
        return left
    return timeout if left is None else min(timeout, left)


def call(name: str, *args: Any, timeout: float | None = None) -> Any:
    """Calls any function of the node from inside a sync worker function; blocks."""
    ctx = _require()
    conn = ctx.connection
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is conn.loop:
        raise FailedPrecondition(
            f"polycall.call({name!r}) would block the event loop; in an async function use"
            " 'await polycall.acall(...)'"
        )
    if ctx.cancelled:
        raise Cancelled(f"{ctx.function} was cancelled; not calling {name}")
    fut = asyncio.run_coroutine_threadsafe(
        conn.call(name, list(args), _timeout(ctx, timeout)), conn.loop
    )
    with _NESTED_LOCK:
        if ctx._nested is None:
            ctx._nested = set()
        ctx._nested.add(fut)
    conn._step_aside()  # a worker's reader thread: the result must be read while it waits
    try:
        return fut.result()
    except concurrent.futures.CancelledError:
        raise Cancelled(f"{ctx.function} was cancelled while calling {name}") from None
    finally:
        with _NESTED_LOCK:
            ctx._nested.discard(fut)


async def acall(name: str, *args: Any, timeout: float | None = None) -> Any:
    """Calls any function of the node from inside an async worker function."""
    ctx = _require()
    conn = ctx.connection
    coro = conn.call(name, list(args), _timeout(ctx, timeout))
    if asyncio.get_running_loop() is conn.loop:
        return await coro
    return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, conn.loop))
