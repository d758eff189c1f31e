"""The blocking client: ``with polycall.connect(path_or_url) as client: client.call(...)``.

One `Client` class whatever the transport:

- a Unix socket path: the connection runs on a private event-loop thread, and calls from any
  number of threads are multiplexed on it;
- ``grpc://host:port`` / ``grpcs://``: grpc's blocking channel (one HTTP/2 connection);
- ``http://host:port`` / ``https://``: the node's HTTP gateway, kept-alive connections.

It is thread-safe, every method blocks until done, and failures raise the same
`PolyCallError` subclasses (with the node's cross-language frames) on every transport.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from types import TracebackType
from typing import Any, Protocol, TypeVar

from . import aio
from ._target import PemSource, parse_target
from .errors import FailedPrecondition
from .values import FnRef

__all__ = ["Client", "connect"]

T = TypeVar("T")


class Transport(Protocol):
    """What a `Client` calls through; every method blocks and is thread-safe."""

    @property
    def node_id(self) -> str: ...
    def call(self, name: str, args: list[Any], timeout: float | None) -> Any: ...
    def ping(self) -> None: ...
    def close(self) -> None: ...


def connect(
    target: str,
    *,
    token: str | None = None,
    ca: PemSource = None,
    cert: PemSource = None,
    key: PemSource = None,
    timeout: float | None = 30.0,
) -> Client:
    """Connects to a node and blocks until it answers.

    `target` is the node's client socket (a path, or ``unix:///path``), or a remote node:
    ``grpc://host:port``, ``grpcs://host:port`` (TLS), ``http://host:port``, ``https://...``.
    `token` is sent as ``authorization: Bearer <token>`` on every remote call; `ca` (PEM
    bytes or a file path) is the CA a TLS node's certificate must chain to (default: the
    system's); `cert` and `key` are this client's certificate for mutual TLS. `timeout`
    (seconds) bounds connecting; each call takes its own ``timeout=``.
    Raises InvalidArgument for a malformed target, Unavailable when the node cannot be
    reached, Unauthenticated or PermissionDenied when it refuses the token.
    """
    t = parse_target(target)
    if t.kind == "grpc":
        from ._grpc import GrpcTransport  # grpcio loads only when it is used

        grpc = GrpcTransport(t, token=token, ca=ca, cert=cert, key=key)
        grpc.start(timeout)
        return Client(grpc)
    if t.kind == "http":
        from ._http import HttpTransport

        http = HttpTransport(t, token=token, ca=ca, cert=cert, key=key)
        http.start(timeout)
        return Client(http)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="polycall-client", daemon=True)
    thread.start()
    try:
        fut = asyncio.run_coroutine_threadsafe(
            aio.connect(t.path, token=token, ca=ca, cert=cert, key=key, timeout=None), loop
        )
        inner = fut.result(timeout)
    except BaseException:
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()
        raise
    return Client(_LoopTransport(inner, loop, thread))


class Client:
    """A thread-safe, blocking client of one node. See the module doc."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport
        self._lock = threading.Lock()
        self._closed = False

    def _check(self) -> None:
        if self._closed:
            raise FailedPrecondition("the client is closed")

    @property
    def node_id(self) -> str:
        """The node's id ("" when an HTTP gateway does not say)."""
        return self._transport.node_id

    def call(self, name: str | FnRef, *args: Any, timeout: float | None = None) -> Any:
        """Calls `name` with `args` and returns the result; raises the call's PolyCallError.

        `timeout` (seconds) is the call's deadline: DeadlineExceeded after it, and the node
        cancels the call.
        """
        self._check()
        fname = name.name if isinstance(name, FnRef) else name
        return self._transport.call(fname, list(args), timeout)

    def functions(self, pattern: str = "*") -> list[str]:
        """Signatures of the node's functions whose name matches the glob `pattern`."""
        return [str(s) for s in self.call(aio.FUNCTIONS_FUNCTION, pattern)]

    def ping(self) -> None:
        """A round trip to the node; raises if it does not answer."""
        self._check()
        self._transport.ping()

    def close(self) -> None:
        """Closes the connection; calls in flight fail. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._transport.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class _LoopTransport:
    """The socket client's asyncio connection, driven from other threads through its loop."""

    def __init__(
        self, inner: aio.AsyncClient, loop: asyncio.AbstractEventLoop, thread: threading.Thread
    ) -> None:
        self._inner = inner
        self._loop = loop
        self._thread = thread

    @property
    def node_id(self) -> str:
        return self._inner.node_id

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        if threading.current_thread() is self._thread:
            coro.close()
            raise FailedPrecondition("a Client cannot be used from its own event-loop thread")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def call(self, name: str, args: list[Any], timeout: float | None) -> Any:
        return self._run(self._inner.call(name, *args, timeout=timeout))

    def ping(self) -> None:
        self._run(self._inner.ping())

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self._inner.close(), self._loop).result()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()
