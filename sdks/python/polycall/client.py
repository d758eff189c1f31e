"""The blocking client: ``with polycall.connect(path) as client: client.call("math.cos", 0.5)``.

A `Client` runs its connection on a private event-loop thread, so it is thread-safe: any
number of threads may call at once and their calls are multiplexed on one connection.
Every method blocks until done.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from types import TracebackType
from typing import Any, TypeVar

from . import aio
from .errors import FailedPrecondition
from .values import FnRef

__all__ = ["Client", "connect"]

T = TypeVar("T")


def connect(path: str, *, timeout: float | None = 30.0) -> Client:
    """Connects to a node's client socket (a Unix socket path); blocks until Welcome."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="polycall-client", daemon=True)
    thread.start()
    try:
        fut = asyncio.run_coroutine_threadsafe(aio.connect(path), loop)
        inner = fut.result(timeout)
    except BaseException:
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()
        raise
    return Client(inner, loop, thread)


class Client:
    """A thread-safe, blocking client of one node. See the module doc."""

    def __init__(
        self, inner: aio.AsyncClient, loop: asyncio.AbstractEventLoop, thread: threading.Thread
    ) -> None:
        self._inner = inner
        self._loop = loop
        self._thread = thread
        self._lock = threading.Lock()
        self._closed = False

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        if threading.current_thread() is self._thread:
            coro.close()
            raise FailedPrecondition("a Client cannot be used from its own event-loop thread")
        if self._closed:
            coro.close()
            raise FailedPrecondition("the client is closed")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    @property
    def node_id(self) -> str:
        return self._inner.node_id

    def call(self, name: str | FnRef, *args: Any, timeout: float | None = None) -> Any:
        """Calls `name` with `args` and returns the result; raises the call's PolyCallError."""
        return self._run(self._inner.call(name, *args, timeout=timeout))

    def functions(self, pattern: str = "*") -> list[str]:
        """Signatures of the node's functions whose name matches the glob `pattern`."""
        return self._run(self._inner.functions(pattern))

    def ping(self) -> None:
        self._run(self._inner.ping())

    def close(self) -> None:
        """Closes the connection and its thread; calls in flight fail. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        asyncio.run_coroutine_threadsafe(self._inner.close(), self._loop).result()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
