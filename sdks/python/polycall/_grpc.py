"""The gRPC transport: calls through a node's `polycall.v1.PolyCall` service (spec/service.proto).

Values travel as the same `polycall.v1.Value` messages as on the Unix socket (numpy arrays as
one ndarray block). A failed call's gRPC status carries the code and message, and the trailer
``polycall-status-bin`` the whole `polycall.v1.Status` with the cross-language stack; both
become the same `PolyCallError` subclass the socket client raises.

`GrpcTransport` (blocking, thread-safe: grpc's sync channel) backs `polycall.Client`;
`AsyncGrpcTransport` (grpc.aio, bound to the loop it was made on) backs `polycall.aio`.
Needs the ``grpc`` extra: ``pip install 'polycall[grpc]'``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ._proto import polycall_pb2 as pb
from ._target import PemSource, Target, read_pem
from .codec import MAX_DEPTH, MAX_FRAME_BYTES, decode, encode_into
from .errors import Code, FailedPrecondition, PolyCallError, Unavailable, error_for

try:
    import grpc
    import grpc.aio

    from ._proto import service_pb2 as spb
    from ._proto import service_pb2_grpc as sgrpc
except ImportError as e:  # pragma: no cover - exercised only without the extra
    grpc = None
    _IMPORT_ERROR: ImportError | None = e
else:
    _IMPORT_ERROR = None

__all__ = ["GrpcTransport", "AsyncGrpcTransport", "STATUS_TRAILER", "error_of_rpc"]

STATUS_TRAILER = "polycall-status-bin"
# A cheap request that always answers: the node's own built-in function, by exact name.
_PROBE = "polycall.functions"
# What one call may carry each way: the socket's frame limit (gRPC's default is 4 MB).
_CHANNEL_OPTIONS = [
    ("grpc.max_receive_message_length", MAX_FRAME_BYTES),
    ("grpc.max_send_message_length", MAX_FRAME_BYTES),
]


def _require_grpc() -> None:
    if _IMPORT_ERROR is not None:
        raise FailedPrecondition(
            f"grpc:// needs grpcio: pip install 'polycall[grpc]' ({_IMPORT_ERROR})"
        )


def _check_tls_args(target: Target, ca: PemSource, cert: PemSource, key: PemSource) -> None:
    if not target.tls and (ca is not None or cert is not None or key is not None):
        raise error_for(
            Code.INVALID_ARGUMENT,
            f"ca=, cert= and key= need TLS: write {target.url.replace('://', 's://', 1)}",
        )
    if (cert is None) != (key is None):
        raise error_for(Code.INVALID_ARGUMENT, "mutual TLS needs both cert= and key=")


def _credentials(ca: PemSource, cert: PemSource, key: PemSource) -> Any:
    return grpc.ssl_channel_credentials(
        root_certificates=read_pem(ca, "ca"),
        private_key=read_pem(key, "key"),
        certificate_chain=read_pem(cert, "cert"),
    )


def _metadata(token: str | None) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),) if token else ()


def _request(name: str, args: Iterable[Any], max_depth: int) -> pb.Call:
    req = pb.Call(function=name)
    for a in args:
        # Encoded in place: a megabyte ndarray is not copied into the message a second time.
        encode_into(req.args.add(), a, max_depth=max_depth)
    return req


def _outcome(result: pb.Result, max_depth: int) -> Any:
    if result.WhichOneof("outcome") == "status":
        raise PolyCallError.from_proto(result.status)
    return decode(result.value, max_depth=max_depth)


def error_of_rpc(err: Any, target: Target, name: str, timeout: float | None) -> PolyCallError:
    """The PolyCallError of a failed RPC: from the status trailer when the node sent one."""
    code = err.code()
    details = err.details() or ""
    for k, v in err.trailing_metadata() or ():
        if k == STATUS_TRAILER and isinstance(v, bytes):
            try:
                return PolyCallError.from_proto(pb.Status.FromString(v))
            except Exception:  # a broken trailer: fall back to the gRPC status itself
                break
    number = code.value[0] if code is not None else Code.UNKNOWN
    if number == Code.DEADLINE_EXCEEDED and timeout is not None:
        return error_for(number, f"{name}: no answer within {timeout:g} s ({details})")
    if number == Code.UNAVAILABLE:
        return error_for(number, f"cannot reach {target.url}: {details}")
    return error_for(number, details)


class GrpcTransport:
    """A blocking gRPC connection to one node; thread-safe (calls share one HTTP/2 channel)."""

    def __init__(
        self,
        target: Target,
        *,
        token: str | None = None,
        ca: PemSource = None,
        cert: PemSource = None,
        key: PemSource = None,
        max_depth: int = MAX_DEPTH,
    ) -> None:
        _require_grpc()
        _check_tls_args(target, ca, cert, key)
        self.target = target
        self.node_id = ""
        self._max_depth = max_depth
        self._metadata = _metadata(token)
        if target.tls:
            creds = _credentials(ca, cert, key)
            self._channel = grpc.secure_channel(target.authority, creds, _CHANNEL_OPTIONS)
        else:
            self._channel = grpc.insecure_channel(target.authority, _CHANNEL_OPTIONS)
        self._stub = sgrpc.PolyCallStub(self._channel)  # type: ignore[no-untyped-call]
        self.closed = False

    def start(self, timeout: float | None) -> None:
        """Checks that the node answers (and accepts the token); learns its node id."""
        try:
            self.node_id = self._probe(timeout)
        except BaseException:
            self.close()
            raise

    def _probe(self, timeout: float | None) -> str:
        try:
            resp = self._stub.ListFunctions(
                spb.ListFunctionsRequest(pattern=_PROBE), timeout=timeout, metadata=self._metadata
            )
        except grpc.RpcError as e:
            raise error_of_rpc(e, self.target, "ListFunctions", timeout) from None
        return str(resp.node_id)

    def call(self, name: str, args: list[Any], timeout: float | None) -> Any:
        req = _request(name, args, self._max_depth)
        try:
            result = self._stub.Call(req, timeout=timeout, metadata=self._metadata)
        except grpc.RpcError as e:
            raise error_of_rpc(e, self.target, name, timeout) from None
        return _outcome(result, self._max_depth)

    def ping(self) -> None:
        self._probe(None)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._channel.close()


class AsyncGrpcTransport:
    """A grpc.aio connection to one node; use it on the loop that made it."""

    def __init__(
        self,
        target: Target,
        *,
        token: str | None = None,
        ca: PemSource = None,
        cert: PemSource = None,
        key: PemSource = None,
        max_depth: int = MAX_DEPTH,
    ) -> None:
        _require_grpc()
        _check_tls_args(target, ca, cert, key)
        self.target = target
        self.node_id = ""
        self._max_depth = max_depth
        self._metadata = _metadata(token)
        if target.tls:
            creds = _credentials(ca, cert, key)
            self._channel = grpc.aio.secure_channel(target.authority, creds, _CHANNEL_OPTIONS)
        else:
            self._channel = grpc.aio.insecure_channel(target.authority, _CHANNEL_OPTIONS)
        self._stub = sgrpc.PolyCallStub(self._channel)  # type: ignore[no-untyped-call]
        self.closed = False

    async def start(self, timeout: float | None) -> None:
        try:
            self.node_id = await self._probe(timeout)
        except BaseException:
            await self.close()
            raise

    async def _probe(self, timeout: float | None) -> str:
        if self.closed:
            raise Unavailable("the client is closed")
        try:
            resp = await self._stub.ListFunctions(
                spb.ListFunctionsRequest(pattern=_PROBE), timeout=timeout, metadata=self._metadata
            )
        except grpc.RpcError as e:
            raise error_of_rpc(e, self.target, "ListFunctions", timeout) from None
        return str(resp.node_id)

    async def call(self, name: str, args: list[Any], timeout: float | None = None) -> Any:
        if self.closed:
            raise Unavailable("the client is closed")
        req = _request(name, args, self._max_depth)
        try:
            result = await self._stub.Call(req, timeout=timeout, metadata=self._metadata)
        except grpc.RpcError as e:
            raise error_of_rpc(e, self.target, name, timeout) from None
        return _outcome(result, self._max_depth)

    async def ping(self) -> None:
        await self._probe(None)

    async def close(self) -> None:
        if not self.closed:
            self.closed = True
            await self._channel.close()
