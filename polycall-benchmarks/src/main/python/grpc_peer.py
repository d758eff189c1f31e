"""The grpcio side of the throughput comparison: a Python gRPC server doing the same no-op.

Started by io.polycall.bench.GrpcPeer with a port; it prints "ready" and serves until killed.
Methods use raw bytes (no generated code), so the server does only what PolyCall's worker does:
receive a call, run a no-op Python function, answer.
"""

import sys
from concurrent import futures

import grpc


def noop(request: bytes, context: grpc.ServicerContext) -> bytes:
    return b""


def main() -> None:
    port = int(sys.argv[1])
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
    handler = grpc.method_handlers_generic_handler(
        "bench.Bench",
        {"Noop": grpc.unary_unary_rpc_method_handler(noop)},
    )
    server.add_generic_rpc_handlers((handler,))
    server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    print("ready", flush=True)
    server.wait_for_termination()


if __name__ == "__main__":
    main()
