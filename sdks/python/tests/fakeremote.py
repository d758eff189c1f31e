"""Small fakes of a remote node for the client's unit tests: a gRPC `polycall.v1.PolyCall`
server (grpcio) and an HTTP gateway (http.server), both on loopback, both scripted by plain
Python functions; plus throw-away TLS certificates made with the openssl command.

The system tests (test_remote_node.py) run the same client against the real Java node.
"""

from __future__ import annotations

import fnmatch
import json
import subprocess
import threading
import time
from collections.abc import Callable
from concurrent import futures
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import grpc

from polycall import _json, codec
from polycall._proto import polycall_pb2 as pb
from polycall._proto import service_pb2 as spb
from polycall._proto import service_pb2_grpc as sgrpc
from polycall.errors import PolyCallError, StackFrame, status_of_exception

NODE_ID = "fake-remote"
FRAMES = (StackFrame("java", "io.example.Lookup.find", "Lookup.java", 42),)


def _slow(seconds: float) -> str:
    time.sleep(seconds)
    return "late"


def _fail(message: str) -> None:
    raise PolyCallError(5, message, FRAMES)


# name -> (signature, implementation)
FUNCTIONS: dict[str, tuple[str, Callable[..., Any]]] = {
    "math.add": ("math.add(a: i64, b: i64) -> i64", lambda a, b: a + b),
    "stats.mean": ("stats.mean(xs: ndarray<f64>) -> f64", lambda xs: float(xs.mean())),
    "stats.scale": (
        "stats.scale(xs: ndarray<f64>, k: f64) -> ndarray<f64>",
        lambda xs, k: xs * k,
    ),
    "bytes.rev": ("bytes.rev(b: bytes) -> bytes", lambda b: bytes(b)[::-1]),
    "f.nan": ("f.nan() -> f64", lambda: float("nan")),
    "fail": ("fail(message: string) -> null", _fail),
    "slow": ("slow(seconds: f64) -> string", _slow),
}


FUNCTIONS_SIG = "polycall.functions(pattern: string) -> list<string>"


def _run(name: str, args: list[Any]) -> Any:
    if name == "polycall.functions":
        pattern = str(args[0]) if args else "*"
        sigs = {n: sig for n, (sig, _) in FUNCTIONS.items()} | {"polycall.functions": FUNCTIONS_SIG}
        return [sig for n, sig in sigs.items() if fnmatch.fnmatchcase(n, pattern)]
    if name not in FUNCTIONS:
        raise PolyCallError(5, f"no function named {name}; did you mean math.add?")
    return FUNCTIONS[name][1](*args)


@dataclass
class Seen:
    """What the fakes received, for assertions."""

    metadata: list[dict[str, str]] = field(default_factory=list)
    timeouts: list[float | None] = field(default_factory=list)


class FakeGrpcNode(sgrpc.PolyCallServicer):
    def __init__(self, credentials: Any = None) -> None:
        self.seen = Seen()
        self.server = grpc.server(futures.ThreadPoolExecutor(8))
        sgrpc.add_PolyCallServicer_to_server(self, self.server)
        addr = "127.0.0.1:0"
        if credentials is None:
            self.port = self.server.add_insecure_port(addr)
        else:
            self.port = self.server.add_secure_port(addr, credentials)
        self.server.start()

    def _note(self, context: Any) -> None:
        self.seen.metadata.append({k: v for k, v in context.invocation_metadata()})
        self.seen.timeouts.append(context.time_remaining())

    def Call(self, request: pb.Call, context: Any) -> pb.Result:
        self._note(context)
        try:
            args = [codec.decode(a) for a in request.args]
            value = _run(request.function, args)
        except Exception as e:
            status = status_of_exception(e).to_proto()
            context.set_trailing_metadata((("polycall-status-bin", status.SerializeToString()),))
            context.abort(grpc.StatusCode(_grpc_code(status.code)), status.message)
        return pb.Result(value=codec.encode(value))

    def ListFunctions(self, request: Any, context: Any) -> Any:
        self._note(context)
        if dict(context.invocation_metadata()).get("authorization") == "Bearer wrong":
            context.abort(grpc.StatusCode.UNAUTHENTICATED, "the token is not valid")
        return spb.ListFunctionsResponse(node_id=NODE_ID)

    @property
    def url(self) -> str:
        return f"grpc://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.server.stop(None).wait()


def _grpc_code(number: int) -> tuple[int, str]:
    for c in grpc.StatusCode:
        if c.value[0] == number:
            return c.value  # type: ignore[no-any-return]
    return grpc.StatusCode.UNKNOWN.value  # type: ignore[no-any-return]


class FakeGateway:
    """POST /v1/call/{name}: JSON array in, {"result"} or {"error"} out, as docs/http.md says."""

    def __init__(self, wrap: Callable[[Any], Any] | None = None) -> None:
        self.seen = Seen()
        self.bodies: list[Any] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a: Any) -> None:
                pass

            def do_POST(self) -> None:
                n = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(n) or b"null")
                fake.bodies.append(body)
                fake.seen.metadata.append({k.lower(): v for k, v in self.headers.items()})
                t = self.headers.get("X-PolyCall-Timeout")
                fake.seen.timeouts.append(float(t[:-2]) / 1000 if t else None)
                name = self.path.rsplit("/", 1)[-1]
                if name == "proxy.down":
                    return self._send(502, b"<html>bad gateway</html>", "text/html")
                if self.headers.get("Authorization") == "Bearer wrong":
                    return self._error(16, "UNAUTHENTICATED", "the token is not valid", 401)
                sig = FUNCTIONS.get(name, ("",))[0]
                try:
                    args = [_arg(a, sig, i) for i, a in enumerate(body or [])]
                    if name == "slow" and t is not None and float(t[:-2]) / 1000 < args[0]:
                        return self._error(4, "DEADLINE_EXCEEDED", "slow: deadline passed", 504)
                    value = _run(name, args)
                except PolyCallError as e:
                    return self._error(
                        int(e.code), e.code.name, e.message, 404 if e.code == 5 else 500, e.frames
                    )
                self._send(200, json.dumps({"result": _json.to_json(value)}).encode())

            def _error(self, status: int, code: str, msg: str, http: int, frames: Any = ()) -> None:
                err: dict[str, Any] = {"code": code, "status": status, "message": msg}
                if frames:
                    err["frames"] = [
                        {
                            "language": f.language,
                            "function": f.function,
                            "file": f.file,
                            "line": f.line,
                        }
                        for f in frames
                    ]
                self._send(http, json.dumps({"error": err}).encode())

            def _send(self, status: int, data: bytes, ctype: str = "application/json") -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        if wrap is not None:
            self.server.socket = wrap(self.server.socket)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, scheme: str = "http") -> str:
        return f"{scheme}://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _arg(node: Any, sig: str, i: int) -> Any:
    from polycall.types import parse_signature

    if not sig:
        return _json.from_json(node)
    params = parse_signature(sig).params
    return _json.from_json(node, params[i].type if i < len(params) else None)


@dataclass
class Certs:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


def make_certs(d: Path) -> Certs:
    """A CA and a server and a client certificate it signs (server name: localhost/127.0.0.1)."""

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=d)

    run(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=test-ca",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
    )
    ext = d / "san.ext"
    ext.write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    for who in ("server", "client"):
        run(
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            f"/CN={who}",
            "-keyout",
            f"{who}.key",
            "-out",
            f"{who}.csr",
        )
        run(
            "x509",
            "-req",
            "-in",
            f"{who}.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            str(ext),
            "-out",
            f"{who}.pem",
        )
    return Certs(
        d / "ca.pem", d / "server.pem", d / "server.key", d / "client.pem", d / "client.key"
    )
