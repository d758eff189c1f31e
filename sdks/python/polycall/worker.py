"""``python -m polycall.worker --module stats_module``: a worker process the hub spawns.

It imports the given modules and files (their ``@polycall.function``s register themselves),
connects to POLYCALL_SOCKET, proves itself with POLYCALL_WORKER_ID and POLYCALL_WORKER_SECRET
(hex), announces its functions and serves calls until the hub sends GoAway (exit 0). A failed
handshake or a lost connection exits non-zero with the reason on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import importlib.util
import logging
import os
import socket
import sys
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from ._conn import Connection, Wire, handshake
from ._proto import polycall_pb2 as pb
from ._shm import FEATURE as SHM_FEATURE
from ._shm import Rings
from .codec import frame_bytes
from .errors import PolyCallError
from .functions import lookup, registered

log = logging.getLogger("polycall.worker")

EXIT_OK = 0
EXIT_CONNECTION_LOST = 1
EXIT_USAGE = 2
EXIT_HANDSHAKE = 3

# Freed heap kept for reuse (see _keep_freed_memory).
TRIM_THRESHOLD = 128 << 20


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m polycall.worker",
        description=(
            "Serve the @polycall.function functions of the given modules to a PolyCall hub."
            " Reads POLYCALL_SOCKET, POLYCALL_WORKER_ID and POLYCALL_WORKER_SECRET (hex)"
            " from the environment, as the hub's supervisor sets them."
        ),
        epilog=(
            f"exit codes: {EXIT_OK} drained after GoAway, {EXIT_CONNECTION_LOST} connection"
            f" lost, {EXIT_USAGE} bad usage or import error, {EXIT_HANDSHAKE} handshake refused"
        ),
    )
    p.add_argument(
        "--module",
        "-m",
        action="append",
        default=[],
        metavar="NAME",
        help="import this module (repeatable)",
    )
    p.add_argument(
        "--file",
        "-f",
        action="append",
        default=[],
        metavar="PATH",
        help="import this Python file (repeatable)",
    )
    p.add_argument(
        "--threads",
        type=int,
        default=min(32, (os.cpu_count() or 1) + 4),
        help="threads running sync functions (default: %(default)s)",
    )
    p.add_argument(
        "--log-level",
        default=os.environ.get("POLYCALL_LOG_LEVEL", "INFO"),
        help="stderr log level (default: %(default)s)",
    )
    return p


def load(modules: Sequence[str], files: Sequence[str]) -> None:
    """Imports modules by name and files by path, so their functions register."""
    for name in modules:
        importlib.import_module(name)
    for path in files:
        p = Path(path)
        spec = importlib.util.spec_from_file_location(p.stem, p)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot import {path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[p.stem] = module
        spec.loader.exec_module(module)


def shm_enabled() -> bool:
    """Whether to offer shared-memory rings: yes unless POLYCALL_SHM is 0/false/no/off.

    POLYCALL_SHM_SPIN_US sets how long the reader polls the ring after a frame (microseconds;
    see RING_SPIN_NS): longer keeps slow callers on the ring, at the cost of a busy core.
    """
    return os.environ.get("POLYCALL_SHM", "1").strip().lower() not in ("0", "false", "no", "off")


def _map_rings(wire: Wire, welcome: pb.Welcome) -> None:
    """Uses the rings the Welcome names; if they cannot be mapped, the socket alone."""
    if not welcome.HasField("rings") or not welcome.rings.path:
        return
    try:
        rings = Rings.map(welcome.rings.path, welcome.rings.ring_bytes)
    except (OSError, ValueError) as e:
        log.warning("cannot use the shared-memory rings (%s); using the socket only", e)
        return
    wire.use_rings(rings)
    spin = os.environ.get("POLYCALL_SHM_SPIN_US", "").strip()
    if spin:
        try:
            wire.spin_ns = max(0, int(float(spin) * 1000))
        except ValueError:
            log.warning("POLYCALL_SHM_SPIN_US=%r is not a number of microseconds; ignored", spin)
    log.debug("shared-memory rings of %d bytes: %s", welcome.rings.ring_bytes, welcome.rings.path)


async def serve(socket_path: str, worker_id: str, secret: bytes, threads: int = 8) -> int:
    """Runs the worker protocol on `socket_path`; the process exit code."""
    # A blocking socket read by the connection's own threads (Connection with a Wire): a
    # sync call then runs on the thread that read it, with no hand-off to a pool and back.
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(socket_path)
    except OSError as e:
        sock.close()
        log.error("cannot connect to the hub at %s: %s", socket_path, e)
        return EXIT_CONNECTION_LOST
    wire = Wire(sock)
    stream: Any = wire  # speaks enough of asyncio's streams for the handshake
    try:
        welcome = await handshake(
            stream,
            stream,
            role=pb.WORKER,
            worker_id=worker_id,
            secret=secret,
            features=(SHM_FEATURE,) if shm_enabled() else (),
        )
    except (PolyCallError, OSError, asyncio.IncompleteReadError) as e:
        log.error("handshake with the hub failed: %s", e)
        wire.close()
        return EXIT_HANDSHAKE if isinstance(e, PolyCallError) else EXIT_CONNECTION_LOST
    if shm_enabled():
        # Before the Announce: the hub unlinks the file once the first frame after the
        # Welcome arrives.
        _map_rings(wire, welcome)
    pool = ThreadPoolExecutor(threads, thread_name_prefix="polycall-fn")
    try:
        conn = Connection(
            None, None, welcome, host=lookup, executor=pool, wire=wire, threads=threads
        )
        functions = registered()
        wire.send(
            [frame_bytes(pb.Frame(announce=pb.Announce(functions=[f.decl() for f in functions])))]
        )
        log.info(
            "worker %s connected to node %s; announced %d function(s): %s",
            worker_id,
            welcome.node_id or "?",
            len(functions),
            ", ".join(f.name for f in functions),
        )
        await conn.run()
        if wire.rings is not None:
            got, got_socket, sent, sent_socket, wakes = wire.ring_stats
            log.info(
                "shared-memory rings: %d of %d frames in and %d of %d out took a ring"
                " (%d Wakes sent); %d calls took the C fast path",
                got,
                got + got_socket,
                sent,
                sent + sent_socket,
                wakes,
                conn.fast_calls(),
            )
    finally:
        # A sync function that ignores its deadline must not keep the process alive.
        pool.shutdown(wait=False, cancel_futures=True)
    if conn.close_reason is None:
        log.info("drained after GoAway; exiting")
        return EXIT_OK
    log.error("%s", conn.close_reason.message)
    return EXIT_CONNECTION_LOST


def _keep_freed_memory() -> None:
    """Asks glibc to reuse freed memory for big blocks instead of mapping fresh pages.

    By default every block above the mmap threshold (at most 32 MB, adjusted at run time) gets
    new pages from the kernel and gives them back when freed, so each megabyte-sized frame,
    ndarray and serialized body page-faults on every call: for an 8 MB array that is most of
    the worker's time. Keeping up to TRIM_THRESHOLD of freed heap makes those blocks reused.
    Without glibc this does nothing.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        m_trim_threshold, m_mmap_threshold = -1, -3
        libc.mallopt(m_mmap_threshold, 32 << 20)
        libc.mallopt(m_trim_threshold, TRIM_THRESHOLD)
    except (OSError, AttributeError):
        pass


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    _keep_freed_memory()
    logging.basicConfig(
        stream=sys.stderr,
        level=args.log_level.upper(),
        format=f"%(asctime)s polycall.worker[{os.getpid()}] %(levelname)s %(message)s",
    )
    env = os.environ
    missing = [
        k
        for k in ("POLYCALL_SOCKET", "POLYCALL_WORKER_ID", "POLYCALL_WORKER_SECRET")
        if not env.get(k)
    ]
    if missing:
        log.error(
            "missing environment variable(s) %s (set by the hub's supervisor)", ", ".join(missing)
        )
        return EXIT_USAGE
    try:
        secret = bytes.fromhex(env["POLYCALL_WORKER_SECRET"])
    except ValueError:
        log.error("POLYCALL_WORKER_SECRET is not hex")
        return EXIT_USAGE
    if not args.module and not args.file:
        log.error("nothing to serve: give --module NAME or --file PATH")
        return EXIT_USAGE
    sys.path.insert(0, os.getcwd())
    try:
        load(args.module, args.file)
    except Exception as e:
        log.exception("cannot load the functions: %s", e)
        return EXIT_USAGE
    code = asyncio.run(
        serve(env["POLYCALL_SOCKET"], env["POLYCALL_WORKER_ID"], secret, args.threads)
    )
    if any(
        t.name.startswith("polycall-fn") and t.is_alive() and not t.daemon
        for t in threading.enumerate()
    ):
        # Pool threads still running user code would block interpreter exit (executor threads
        # are joined at exit); the connection is gone, so nobody wants their results. The
        # reader threads are daemons (they may run a call inline, and never block the exit).
        log.warning("exiting with sync functions still running")
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


if __name__ == "__main__":
    sys.exit(main())
