"""The remote clients against the REAL Java node: `bin/polycall serve --grpc --http` with the
built-in example config (Java, C, and the example Python and Node workers), started once for
this module and stopped at its end. Every case runs over gRPC and over HTTP, sync and asyncio.

The node is polycall-server/target/polycall.jar, which `make test` builds before the SDK suites
(in a worktree: ./mvnw -B -q -o -ntp -pl polycall-server -am package -DskipTests).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import polycall

pytest.importorskip("grpc")
from fakeremote import Certs, make_certs

ROOT = Path(__file__).resolve().parents[3]
JAR = ROOT / "polycall-server" / "target" / "polycall.jar"
START_LIMIT_S = 120.0


def _url(scheme: str, address: str) -> str:
    return address if "://" in address else f"{scheme}://{address}"


@contextlib.contextmanager
def _serving(d: Path, *args: str) -> Iterator[dict[str, str]]:
    """`bin/polycall serve ARGS --ready-file` in `d`; the ready file's addresses; then SIGTERM."""
    if not JAR.is_file():
        pytest.fail(
            f"{JAR} is missing: the remote-node tests need the Java node. Build it with"
            " `make build` (make test builds it before the SDK suites), or in a worktree:"
            " ./mvnw -B -q -o -ntp -pl polycall-server -am package -DskipTests"
        )
    ready = d / "ready.json"
    log = (d / "node.log").open("wb")
    proc = subprocess.Popen(
        [str(ROOT / "bin" / "polycall"), *args, "--ready-file", str(ready)],
        cwd=d,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    try:
        deadline = time.monotonic() + START_LIMIT_S
        while not ready.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                tail = (d / "node.log").read_text(errors="replace")[-3000:]
                pytest.fail(f"bin/polycall serve did not get ready (exit {proc.poll()}):\n{tail}")
            time.sleep(0.1)
        yield json.loads(ready.read_text())
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    d = tmp_path_factory.mktemp("node")  # no polycall.yaml here: the built-in example config
    with _serving(d, "serve", "--grpc", "127.0.0.1:0", "--http", "127.0.0.1:0") as info:
        yield {"grpc": _url("grpc", info["grpc"]), "http": _url("http", info["http"])}


TRANSPORTS = ["grpc", "http"]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_java_functions_answer_over_the_network(node: dict[str, str], transport: str) -> None:
    with polycall.connect(node[transport]) as client:
        assert client.call("math.add", 1, 2) == 3
        assert client.call("stats.mean", np.arange(10.0)) == 4.5  # an ndarray, one block
        scaled = client.call("stats.scale", np.array([1.0, 2.0, 3.0]), 2.0)
        assert isinstance(scaled, np.ndarray) and scaled.tolist() == [2.0, 4.0, 6.0]
        summary = client.call("stats.summary", np.array([1.0, 3.0]))
        assert (summary.count, summary.min, summary.max, summary.mean) == (2, 1.0, 3.0, 2.0)
        assert client.call("math.cos", 0.0) == 1.0  # C, through the node
        assert "math.add(a: i64, b: i64) -> i64" in client.functions("math.*")
        if transport == "grpc":
            assert client.node_id


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_an_unknown_function_is_not_found_with_suggestions(
    node: dict[str, str], transport: str
) -> None:
    with polycall.connect(node[transport]) as client:
        with pytest.raises(polycall.NotFound, match=r"math\.add") as info:
            client.call("math.ad", 1, 2)
        assert "math.add" in info.value.suggestions
        assert client.call("math.add", 2, 2) == 4  # the node keeps serving


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_wrong_type_is_invalid_argument_and_the_node_keeps_serving(
    node: dict[str, str], transport: str
) -> None:
    with polycall.connect(node[transport]) as client:
        with pytest.raises(polycall.InvalidArgument):
            client.call("math.add", 1, "two")
        assert client.call("math.add", 2, 3) == 5


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_python_workers_exception_arrives_with_its_frames(
    node: dict[str, str], transport: str
) -> None:
    with polycall.connect(node[transport]) as client:
        if "npstats.mean(xs: ndarray<f64>) -> f64" not in client.functions("npstats.*"):
            pytest.skip("the example Python worker is not running (make sdk-envs)")
        with pytest.raises(polycall.InvalidArgument, match="empty") as info:
            client.call("npstats.mean", np.array([]))
        assert any(f.language == "python" for f in info.value.frames)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_an_expired_deadline_is_deadline_exceeded_and_the_node_keeps_serving(
    node: dict[str, str], transport: str
) -> None:
    with polycall.connect(node[transport]) as client:
        with pytest.raises(polycall.DeadlineExceeded):
            client.call("stats.mean", np.arange(1e6), timeout=1e-6)
        assert client.call("math.add", 1, 1, timeout=30) == 2


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_the_asyncio_client_calls_the_node_concurrently(
    node: dict[str, str], transport: str
) -> None:
    async def main() -> list[int]:
        async with await polycall.aio.connect(node[transport]) as client:
            assert await client.call("stats.mean", np.ones(1000)) == 1.0
            with pytest.raises(polycall.NotFound):
                await client.call("math.ad", 1, 2)
            with pytest.raises(polycall.InvalidArgument):
                await client.call("math.add", 1, "two")
            with pytest.raises(polycall.DeadlineExceeded):
                await client.call("stats.mean", np.arange(1e6), timeout=1e-6)
            return list(await asyncio.gather(*(client.call("math.square", i) for i in range(16))))

    assert asyncio.run(main()) == [i * i for i in range(16)]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_the_readmes_remote_example_runs_against_the_node(
    node: dict[str, str], transport: str
) -> None:
    example = Path(__file__).resolve().parents[1] / "examples" / "remote_client.py"
    out = subprocess.run(
        [sys.executable, str(example), node[transport]],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout.splitlines()
    assert out == ["3", "4.5", "not found: ['math.add']", "[0, 1, 4, 9, 16]"]


# ---- TLS with the real node: its grpc.tls config section, mutual TLS -------------------------


@pytest.fixture(scope="module")
def tls_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Certs]]:
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make test certificates")
    d = tmp_path_factory.mktemp("tlsnode")
    certs = make_certs(d)
    (d / "polycall.yaml").write_text(
        "jvm: [io.polycall.server.examples.MathFunctions]\n"
        "grpc:\n"
        "  listen: 127.0.0.1:0\n"
        "  tls: {cert: server.pem, key: server.key, client_ca: ca.pem}\n"
    )
    with _serving(d, "--config", str(d / "polycall.yaml"), "serve") as info:
        yield _url("grpcs", info["grpc"]), certs


def test_grpcs_with_a_client_certificate_reaches_the_real_node(
    tls_node: tuple[str, Certs],
) -> None:
    url, certs = tls_node
    with polycall.connect(url, ca=certs.ca, cert=certs.client_cert, key=certs.client_key) as c:
        assert c.call("math.add", 20, 22) == 42

    async def main() -> int:
        async with await polycall.aio.connect(
            url, ca=certs.ca, cert=certs.client_cert, key=certs.client_key
        ) as client:
            return int(await client.call("math.square", 9))

    assert asyncio.run(main()) == 81


def test_the_real_node_refuses_a_client_without_certificate_or_trust(
    tls_node: tuple[str, Certs],
) -> None:
    url, certs = tls_node
    with pytest.raises(polycall.Unavailable):  # no client certificate: mTLS refuses it
        polycall.connect(url, ca=certs.ca, timeout=10)
    with pytest.raises(polycall.Unavailable):  # the system CAs do not know the node
        polycall.connect(url, timeout=10)
