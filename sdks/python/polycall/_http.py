"""The HTTP transport: calls through a node's HTTP gateway (docs/http.md), standard library only.

    POST {prefix}/v1/call/{function}    body: JSON array of the arguments
      200 {"result": ...}
      4xx/5xx {"error": {"code", "status", "message", "frames": [...]}}

Values map to JSON as `polycall._json` describes (numpy arrays as one base64 block). To read a
result as its declared type (bytes, NaN, structs, ndarrays), the client asks the node once per
function for its signature (the built-in ``polycall.functions``) and caches it. A timeout goes
to the node as ``X-PolyCall-Timeout`` and bounds the wait here too; the token as
``Authorization: Bearer``.

`HttpTransport` is blocking and thread-safe: each request takes a kept-alive connection from a
small pool (or opens one) and gives it back. `AsyncHttpTransport` runs it on a thread pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import os
import socket
import ssl
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar
from urllib.parse import quote

from . import __version__
from ._json import from_json, to_json
from ._target import PemSource, Target, read_pem
from .errors import Code, DeadlineExceeded, PolyCallError, StackFrame, Unavailable, error_for
from .types import Signature, parse_signature

__all__ = ["HttpTransport", "AsyncHttpTransport", "code_of_http_status"]

T = TypeVar("T")

FUNCTIONS_FUNCTION = "polycall.functions"
# Beyond the deadline the node enforces, how long this side waits for its answer to arrive.
_GRACE_S = 2.0
# Idle connections kept per transport.
_POOL_SIZE = 16
# How HTTP statuses read when a response has no PolyCall error body (a proxy answered):
# gRPC's own HTTP-to-gRPC mapping.
_HTTP_CODES = {
    400: Code.INTERNAL,
    401: Code.UNAUTHENTICATED,
    403: Code.PERMISSION_DENIED,
    404: Code.UNIMPLEMENTED,
    429: Code.UNAVAILABLE,
    502: Code.UNAVAILABLE,
    503: Code.UNAVAILABLE,
    504: Code.UNAVAILABLE,
}


def code_of_http_status(status: int) -> Code:
    return _HTTP_CODES.get(status, Code.UNKNOWN)


def _tls_context(ca: PemSource, cert: PemSource, key: PemSource) -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ca_pem = read_pem(ca, "ca")
    if ca_pem is not None:
        ctx.load_verify_locations(cadata=ca_pem.decode("ascii"))
    if cert is not None and key is not None:
        cert_pem, key_pem = read_pem(cert, "cert"), read_pem(key, "key")
        assert cert_pem is not None and key_pem is not None
        # ssl loads a client certificate only from files: PEM given as bytes goes through a
        # private temporary directory that is removed at once.
        with tempfile.TemporaryDirectory(prefix="polycall-tls-") as d:
            cf, kf = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
            for path, data in ((cf, cert_pem), (kf, key_pem)):
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
            try:
                ctx.load_cert_chain(cf, kf)
            except ssl.SSLError as e:
                raise error_for(Code.INVALID_ARGUMENT, f"cert=/key= do not load: {e}") from None
    return ctx


class HttpTransport:
    """A blocking client of one node's HTTP gateway; thread-safe. See the module doc."""

    def __init__(
        self,
        target: Target,
        *,
        token: str | None = None,
        ca: PemSource = None,
        cert: PemSource = None,
        key: PemSource = None,
    ) -> None:
        if not target.tls and (ca is not None or cert is not None or key is not None):
            raise error_for(
                Code.INVALID_ARGUMENT,
                f"ca=, cert= and key= need TLS: write {target.url.replace('://', 's://', 1)}",
            )
        if (cert is None) != (key is None):
            raise error_for(Code.INVALID_ARGUMENT, "mutual TLS needs both cert= and key=")
        self.target = target
        self.node_id = ""
        self._ssl = _tls_context(ca, cert, key) if target.tls else None
        self._headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": f"polycall-python/{__version__}",
        }
        if token:
            self._headers["Authorization"] = f"Bearer {token}"
        self._idle: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()
        self._signatures: dict[str, Signature | None] = {}
        self.closed = False

    # ---- lifecycle ---------------------------------------------------------------------------

    def start(self, timeout: float | None) -> None:
        """Checks that the gateway answers (and accepts the token)."""
        self._probe(timeout)

    def _probe(self, timeout: float | None) -> None:
        self._signature_of(FUNCTIONS_FUNCTION, timeout, strict=True)

    def ping(self) -> None:
        self._call_raw(FUNCTIONS_FUNCTION, [FUNCTIONS_FUNCTION], None)

    def close(self) -> None:
        with self._lock:
            self.closed = True
            idle, self._idle = self._idle, []
        for c in idle:
            c.close()

    # ---- calls -------------------------------------------------------------------------------

    def call(self, name: str, args: list[Any], timeout: float | None) -> Any:
        body = [to_json(a) for a in args]  # before any request: a bad value sends nothing
        start = time.monotonic()
        sig = self._signature_of(name, timeout)
        if timeout is not None:  # the first call of a function also paid for its signature
            timeout = max(0.0, timeout - (time.monotonic() - start))
        result = self._call_raw(name, body, timeout)
        return from_json(result, sig.result if sig is not None else None)

    def _signature_of(
        self, name: str, timeout: float | None, *, strict: bool = False
    ) -> Signature | None:
        base = name.split("@", 1)[0]
        if base in self._signatures:
            return self._signatures[base]
        sig: Signature | None = None
        try:
            for text in self._call_raw(FUNCTIONS_FUNCTION, [base], timeout) or ():
                s = parse_signature(str(text))
                if s.name == base:
                    sig = s
        except PolyCallError as e:
            # Reading results untyped is a fallback, not a failure; but a node that cannot be
            # reached or refuses us fails the call here rather than at the call itself.
            if strict or e.code in (
                Code.UNAVAILABLE,
                Code.UNAUTHENTICATED,
                Code.PERMISSION_DENIED,
                Code.DEADLINE_EXCEEDED,
            ):
                raise
            return None
        if sig is not None:  # unknown names are not cached: the function may come later
            self._signatures[base] = sig
        return sig

    def _call_raw(self, name: str, body: list[Any], timeout: float | None) -> Any:
        headers = dict(self._headers)
        if timeout is not None:
            headers["X-PolyCall-Timeout"] = f"{max(timeout, 0) * 1000:.3f}ms"
        data = json.dumps(body, allow_nan=False).encode("utf-8")
        path = f"{self.target.path}/v1/call/{quote(name, safe='@.')}"
        status, raw = self._request("POST", path, data, headers, timeout, name)
        try:
            doc = json.loads(raw) if raw else None
        except ValueError:
            doc = None
        if status == 200:
            if not isinstance(doc, dict) or "result" not in doc:
                raise error_for(
                    Code.INTERNAL, f"{self.target.url} answered 200 without a JSON result"
                )
            return doc["result"]
        raise _error_of(status, doc, raw)

    def _request(
        self,
        method: str,
        path: str,
        data: bytes,
        headers: dict[str, str],
        timeout: float | None,
        name: str,
    ) -> tuple[int, bytes]:
        if self.closed:
            raise Unavailable("the client is closed")
        wait = None if timeout is None else timeout + _GRACE_S
        for attempt in (0, 1):
            conn, reused = self._take(wait)
            try:
                conn.request(method, path, body=data, headers=headers)
                resp = conn.getresponse()
                raw = resp.read()
            except TimeoutError:  # socket.timeout is TimeoutError
                conn.close()
                raise DeadlineExceeded(f"{name}: no answer within {timeout:g} s") from None
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as e:
                conn.close()
                # A kept-alive connection the server closed while idle: one retry on a new one.
                if reused and attempt == 0:
                    continue
                raise Unavailable(f"{self.target.url}: connection lost: {e}") from None
            except (OSError, http.client.HTTPException) as e:
                conn.close()
                raise Unavailable(f"cannot reach {self.target.url}: {e}") from None
            if resp.will_close:
                conn.close()
            else:
                self._give(conn)
            return resp.status, raw
        raise AssertionError("unreachable")  # pragma: no cover

    def _take(self, timeout: float | None) -> tuple[http.client.HTTPConnection, bool]:
        with self._lock:
            conn = self._idle.pop() if self._idle else None
        if conn is not None:
            conn.timeout = timeout
            if conn.sock is not None:
                conn.sock.settimeout(timeout)
            return conn, True
        if self._ssl is not None:
            return _HTTPSConnection(
                self.target.host, self.target.port, timeout=timeout, context=self._ssl
            ), False
        return _HTTPConnection(self.target.host, self.target.port, timeout=timeout), False

    def _give(self, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            if not self.closed and len(self._idle) < _POOL_SIZE:
                self._idle.append(conn)
                return
        conn.close()


class _HTTPConnection(http.client.HTTPConnection):
    """No Nagle: http.client writes the headers and the body apart, and the body's last segment
    would otherwise wait for the server's delayed ACK of the headers (~40 ms per call)."""

    def connect(self) -> None:
        super().connect()
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _HTTPSConnection(http.client.HTTPSConnection):
    def connect(self) -> None:
        super().connect()  # TCP_NODELAY set on the plain socket before TLS wraps it is kept
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _error_of(status: int, doc: Any, raw: bytes) -> PolyCallError:
    err = doc.get("error") if isinstance(doc, dict) else None
    if isinstance(err, dict) and isinstance(err.get("status"), int):
        frames = [
            StackFrame(
                str(f.get("language", "")),
                str(f.get("function", "")),
                str(f.get("file", "")),
                int(f.get("line", 0) or 0),
            )
            for f in err.get("frames") or ()
            if isinstance(f, dict)
        ]
        return error_for(err["status"], str(err.get("message", "")), frames)
    text = raw[:200].decode("utf-8", errors="replace").strip()
    return error_for(code_of_http_status(status), f"HTTP {status}" + (f": {text}" if text else ""))


class AsyncHttpTransport:
    """`HttpTransport` for asyncio: each request runs on the transport's own threads."""

    def __init__(self, target: Target, **kw: Any) -> None:
        self._sync = HttpTransport(target, **kw)
        self._pool = ThreadPoolExecutor(_POOL_SIZE, thread_name_prefix="polycall-http")

    @property
    def node_id(self) -> str:
        return self._sync.node_id

    @property
    def closed(self) -> bool:
        return self._sync.closed

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        if self._sync.closed:
            raise Unavailable("the client is closed")
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    async def start(self, timeout: float | None) -> None:
        try:
            await self._run(self._sync.start, timeout)
        except BaseException:
            await self.close()
            raise

    async def call(self, name: str, args: list[Any], timeout: float | None = None) -> Any:
        return await self._run(self._sync.call, name, args, timeout)

    async def ping(self) -> None:
        await self._run(self._sync.ping)

    async def close(self) -> None:
        if not self._sync.closed:
            self._sync.close()
            with contextlib.suppress(RuntimeError):
                self._pool.shutdown(wait=False, cancel_futures=True)
