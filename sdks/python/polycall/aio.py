"""The asyncio client: ``client = await polycall.aio.connect(path)``.

An `AsyncClient` belongs to the event loop it was connected on; its calls are multiplexed on
one connection, so many may be awaited at once.
"""

from __future__ import annotations

import asyncio
import contextlib
from types import TracebackType
from typing import Any

from ._conn import STREAM_LIMIT, Connection, handshake
from ._proto import polycall_pb2 as pb
from .errors import PolyCallError, Unavailable
from .values import FnRef

__all__ = ["AsyncClient", "connect", "FUNCTIONS_FUNCTION"]

# The hub function that lists functions (see README "What the hub provides").
FUNCTIONS_FUNCTION = "polycall.functions"


async def connect(path: str) -> AsyncClient:
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
    """Calls functions of one node. Use on the loop that created it; not thread-safe."""

    def __init__(self, conn: Connection, reader_task: asyncio.Task[None]) -> None:
        self._conn = conn
        self._reader_task = reader_task

    @property
    def node_id(self) -> str:
        return self._conn.node_id

    async def call(self, name: str | FnRef, *args: Any, timeout: float | None = None) -> Any:
        """Calls `name` with `args`; raises the PolyCallError subclass of a failed call."""
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
