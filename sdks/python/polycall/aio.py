"""The asyncio client: ``client = await polycall.aio.connect(path_or_url)``.

An `AsyncClient` belongs to the event loop it was connected on; many calls may be awaited at
once (multiplexed on one socket connection, or one HTTP/2 channel for gRPC).
"""

from __future__ import annotations

import asyncio
import contextlib
from types import TracebackType
from typing import Any, Protocol

from ._conn import STREAM_LIMIT, Connection, handshake
from ._proto import polycall_pb2 as pb
from ._target import PemSource, parse_target
from .errors import DeadlineExceeded, InvalidArgument, PolyCallError, Unavailable
from .values import FnRef

__all__ = ["AsyncClient", "connect", "FUNCTIONS_FUNCTION"]

# The hub function that lists functions (see README "What the hub provides").
FUNCTIONS_FUNCTION = "polycall.functions"


class AsyncTransport(Protocol):
    """What an `AsyncClient` calls through: a socket `Connection` or a remote transport."""

    @property
    def node_id(self) -> str: ...
    @property
    def closed(self) -> bool: ...
    async def call(self, name: str, args: list[Any], timeout: float | None = None) -> Any: ...
    async def ping(self) -> None: ...
    async def close(self) -> None: ...


async def connect(
    target: str,
    *,
    token: str | None = None,
    ca: PemSource = None,
    cert: PemSource = None,
    key: PemSource = None,
    timeout: float | None = 30.0,
) -> AsyncClient:
    """Connects to a node: its client socket (a path), or ``grpc[s]://`` / ``http[s]://`` URL.

    `token` is sent as ``authorization: Bearer`` on every remote call; `ca` (PEM bytes or a
    path) verifies a TLS node, `cert` and `key` identify this client (mutual TLS). `timeout`
    bounds the connection check (the socket's handshake, a first request to a remote node).
    Raises Unavailable when the node cannot be reached, Unauthenticated when it refuses.
    """
    t = parse_target(target)
    if t.kind == "unix":
        if token is not None or ca is not None or cert is not None or key is not None:
            raise InvalidArgument(
                "token=, ca=, cert= and key= are for remote nodes (grpc://, http://)"
            )
        try:
            return await asyncio.wait_for(_connect_socket(t.path), timeout)
        except asyncio.TimeoutError:
            raise DeadlineExceeded(f"no Welcome from {t.path} within {timeout:g} s") from None
    # Imported here: grpcio loads only when a grpc:// node is used.
    from ._grpc import AsyncGrpcTransport
    from ._http import AsyncHttpTransport

    transport: AsyncGrpcTransport | AsyncHttpTransport
    if t.kind == "grpc":
        transport = AsyncGrpcTransport(t, token=token, ca=ca, cert=cert, key=key)
    else:
        transport = AsyncHttpTransport(t, token=token, ca=ca, cert=cert, key=key)
    await transport.start(timeout)
    return AsyncClient(transport)


async def _connect_socket(path: str) -> AsyncClient:
    """Connects to a node's client socket and completes the handshake as a CLIENT."""
    try:
        reader, writer = await asyncio.open_unix_connection(path, limit=STREAM_LIMIT)
    except OSError as e:
        raise Unavailable(f"cannot connect to {path}: {e}") from None
    try:
        welcome = await handshake(reader, writer, role=pb.CLIENT)
    except BaseException:
        writer.close()
        raise
    conn = Connection(reader, writer, welcome)
    return AsyncClient(conn, asyncio.get_running_loop().create_task(conn.run()))


class AsyncClient:
    """Calls functions of one node. Use on the loop that created it; not thread-safe.

    The same class, methods and exceptions whatever the transport (socket, gRPC, HTTP).
    """

    def __init__(self, conn: AsyncTransport, reader_task: asyncio.Task[None] | None = None) -> None:
        self._conn = conn
        self._reader_task = reader_task

    @property
    def node_id(self) -> str:
        """The node's id ("" when an HTTP gateway does not say)."""
        return self._conn.node_id

    async def call(self, name: str | FnRef, *args: Any, timeout: float | None = None) -> Any:
        """Calls `name` with `args`; raises the PolyCallError subclass of a failed call.

        `timeout` (seconds) is the call's deadline: DeadlineExceeded after it, and the node
        cancels the call.
        """
        fname = name.name if isinstance(name, FnRef) else name
        return await self._conn.call(fname, list(args), timeout)

    async def functions(self, pattern: str = "*") -> list[str]:
        """Signatures of the node's functions whose name matches the glob `pattern`."""
        result = await self.call(FUNCTIONS_FUNCTION, pattern)
        return [str(s) for s in result]

    async def ping(self) -> None:
        await self._conn.ping()

    async def close(self) -> None:
        """Closes the connection; calls in flight fail with UNAVAILABLE. Idempotent."""
        if not self._conn.closed:
            await self._conn.close()
        if self._reader_task is not None:
            with contextlib.suppress(asyncio.CancelledError, PolyCallError):
                await self._reader_task

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
