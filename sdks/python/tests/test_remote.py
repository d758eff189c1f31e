"""The remote clients (gRPC and HTTP) against the fakes of fakeremote.py: URLs, values, errors,
deadlines, tokens and TLS. The same clients meet the real Java node in test_remote_node.py."""

from __future__ import annotations

import asyncio
import math
import shutil
import ssl
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import polycall
from polycall._json import from_json, to_json
from polycall._target import Target, parse_target
from polycall.types import parse_type
from polycall.values import FnRef, Handle, Struct

grpc = pytest.importorskip("grpc")
from fakeremote import FRAMES, NODE_ID, FakeGateway, FakeGrpcNode, make_certs  # noqa: E402

# ---- URLs ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("/run/pc/client.sock", Target("unix", path="/run/pc/client.sock")),
        ("unix:///run/pc/client.sock", Target("unix", path="/run/pc/client.sock")),
        ("grpc://localhost:50051", Target("grpc", False, "localhost", 50051)),
        ("grpcs://node.example", Target("grpc", True, "node.example", 443)),
        ("GRPCS://[::1]:9", Target("grpc", True, "::1", 9)),
        ("http://127.0.0.1:8080", Target("http", False, "127.0.0.1", 8080)),
        ("https://api.example/polycall/", Target("http", True, "api.example", 443, "/polycall")),
        ("http://h", Target("http", False, "h", 80)),
    ],
)
def test_a_target_is_a_socket_path_or_a_node_url(text: str, want: Target) -> None:
    got = parse_target(text)
    assert (got.kind, got.tls, got.host, got.port, got.path) == (
        want.kind,
        want.tls,
        want.host,
        want.port,
        want.path,
    )


def test_an_ipv6_authority_keeps_its_brackets() -> None:
    assert parse_target("grpc://[::1]:7").authority == "[::1]:7"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("grpc://localhost", "no port"),
        ("ftp://h:1", "unknown scheme"),
        ("grpc://:5", "no host"),
        ("http://h:99999", "port"),
        ("grpc://h:1/path", "no path"),
        ("http://u:p@h:1", "token="),
        ("http://h:1/?x=1", "query"),
        ("unix://", "no socket"),
        ("", "socket path or a URL"),
    ],
)
def test_a_malformed_target_is_invalid_argument_saying_why(text: str, says: str) -> None:
    with pytest.raises(polycall.InvalidArgument, match=says):
        polycall.connect(text)


def test_tls_options_on_a_plaintext_url_are_refused() -> None:
    with pytest.raises(polycall.InvalidArgument, match="need TLS: write grpcs://"):
        polycall.connect("grpc://127.0.0.1:1", ca=b"x")
    with pytest.raises(polycall.InvalidArgument, match="remote nodes"):
        polycall.connect("/tmp/x.sock", token="t")


# ---- JSON values -----------------------------------------------------------------------------


def test_a_numpy_array_travels_as_one_base64_block_and_comes_back_read_only() -> None:
    a = np.arange(6, dtype=np.int32).reshape(2, 3)
    block = to_json(a)
    assert block["dtype"] == "i32" and block["shape"] == [2, 3]
    back = from_json(block, parse_type("ndarray<i32>"))
    assert back.dtype == np.int32 and back.shape == (2, 3)
    assert np.array_equal(back, a) and not back.flags.writeable
    assert np.array_equal(from_json(block), a)  # recognised without a declared type too
    big_endian = np.arange(3, dtype=">f8")
    assert np.array_equal(from_json(to_json(big_endian)), big_endian)


def test_json_values_follow_the_declared_type() -> None:
    assert to_json(b"\x00\xff") == {"base64": "AP8="}
    assert from_json("AP8=", parse_type("bytes")) == b"\x00\xff"
    assert to_json([math.nan, math.inf, -math.inf]) == ["NaN", "Infinity", "-Infinity"]
    assert math.isnan(from_json("NaN", parse_type("f64")))
    assert from_json(2, parse_type("f64")) == 2.0 and isinstance(
        from_json(2, parse_type("f64")), float
    )
    assert from_json("18446744073709551615", parse_type("u64")) == 2**64 - 1
    s = from_json({"x": 1, "y": 2.5}, parse_type("struct P{x: i64, y: f64}"))
    assert s == Struct("P", {"x": 1, "y": 2.5})
    assert from_json({"[1, 2]": "a"}, parse_type("map<list<i64>, string>")) == {(1, 2): "a"}
    assert from_json(None, parse_type("optional<i64>")) is None
    assert from_json({"handle": "file", "id": 7, "generation": 1}) == Handle("file", 7, 1)
    assert from_json({"fn": "math.add"}) == FnRef("math.add")
    assert to_json(Struct("P", {"x": 1})) == {"x": 1}
    assert to_json(FnRef("math.add")) == "math.add"
    assert to_json(polycall.typed(200, "u8")) == 200


def test_a_value_json_cannot_carry_is_invalid_argument() -> None:
    with pytest.raises(polycall.InvalidArgument, match="object has no PolyCall type"):
        to_json(object())
    with pytest.raises(polycall.InvalidArgument, match="complex128"):
        to_json(np.zeros(2, dtype=np.complex128))


# ---- gRPC --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gnode() -> Iterator[FakeGrpcNode]:
    node = FakeGrpcNode()
    yield node
    node.close()


def test_a_grpc_client_calls_with_the_socket_clients_api(gnode: FakeGrpcNode) -> None:
    with polycall.connect(gnode.url) as client:
        assert isinstance(client, polycall.Client)
        assert client.node_id == NODE_ID
        assert client.call("math.add", 1, 2) == 3
        assert client.call("stats.mean", np.arange(5.0)) == 2.0
        scaled = client.call("stats.scale", np.ones((2, 2)), 3.0)
        assert scaled.shape == (2, 2) and scaled.sum() == 12.0
        assert client.call("bytes.rev", b"\x01\x02") == b"\x02\x01"
        assert client.functions("stats.*") == [
            "stats.mean(xs: ndarray<f64>) -> f64",
            "stats.scale(xs: ndarray<f64>, k: f64) -> ndarray<f64>",
        ]
        client.ping()


def test_a_status_trailer_becomes_the_exception_of_its_code_with_the_remote_frames(
    gnode: FakeGrpcNode,
) -> None:
    with polycall.connect(gnode.url) as client:
        with pytest.raises(polycall.NotFound, match="no such row") as info:
            client.call("fail", "no such row")
        assert info.value.frames[-1] == FRAMES[0]
        with pytest.raises(polycall.NotFound, match=r"did you mean math\.add"):
            client.call("math.ad", 1, 2)


def test_suggestions_are_read_from_the_message_whatever_the_transport() -> None:
    err = polycall.NotFound("no function named math.ad; did you mean math.add, math.abs?")
    assert err.suggestions == ["math.add", "math.abs"]
    assert polycall.NotFound("no such row").suggestions == []


def test_a_grpc_status_without_trailer_still_maps_to_its_code() -> None:
    from polycall._grpc import error_of_rpc

    class Err:
        def code(self) -> object:
            return grpc.StatusCode.PERMISSION_DENIED

        def details(self) -> str:
            return "not for you"

        def trailing_metadata(self) -> tuple[tuple[str, bytes], ...]:
            return (("polycall-status-bin", b"\xff\xff not a status"),)

    err = error_of_rpc(Err(), parse_target("grpc://h:1"), "f", None)
    assert isinstance(err, polycall.PermissionDenied) and err.message == "not for you"


def test_a_grpc_call_past_its_timeout_is_deadline_exceeded_and_carries_the_deadline(
    gnode: FakeGrpcNode,
) -> None:
    with polycall.connect(gnode.url) as client:
        with pytest.raises(polycall.DeadlineExceeded, match=r"within 0\.2 s"):
            client.call("slow", 2.0, timeout=0.2)
        assert client.call("math.add", 2, 2) == 4  # the channel keeps serving
    assert any(t is not None and t < 0.5 for t in gnode.seen.timeouts)  # the gRPC deadline


def test_the_token_is_sent_as_a_bearer_authorization(gnode: FakeGrpcNode) -> None:
    with polycall.connect(gnode.url, token="s3cret") as client:
        client.call("math.add", 1, 1)
    assert gnode.seen.metadata[-1]["authorization"] == "Bearer s3cret"
    with pytest.raises(polycall.Unauthenticated, match="token is not valid"):
        polycall.connect(gnode.url, token="wrong")


def test_a_grpc_node_that_is_not_there_is_unavailable_naming_it() -> None:
    with pytest.raises(polycall.Unavailable, match=r"cannot reach grpc://127\.0\.0\.1:1"):
        polycall.connect("grpc://127.0.0.1:1", timeout=5)


def test_a_closed_grpc_client_refuses_calls_and_close_is_idempotent(gnode: FakeGrpcNode) -> None:
    client = polycall.connect(gnode.url)
    client.close()
    client.close()
    with pytest.raises(polycall.FailedPrecondition):
        client.call("math.add", 1, 2)


def test_the_asyncio_grpc_client_runs_calls_concurrently(gnode: FakeGrpcNode) -> None:
    async def main() -> tuple[list[int], polycall.PolyCallError]:
        async with await polycall.aio.connect(gnode.url) as client:
            assert client.node_id == NODE_ID
            sums = await asyncio.gather(*(client.call("math.add", i, 1) for i in range(10)))
            try:
                await client.call("fail", "gone")
            except polycall.PolyCallError as e:
                err = e
            with pytest.raises(polycall.DeadlineExceeded):
                await client.call("slow", 2.0, timeout=0.1)
            assert await client.call("stats.mean", np.ones(100)) == 1.0
            return list(sums), err

    sums, err = asyncio.run(main())
    assert sums == [i + 1 for i in range(10)]
    assert isinstance(err, polycall.NotFound) and err.frames[-1] == FRAMES[0]


# ---- TLS ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make test certificates")
    return make_certs(tmp_path_factory.mktemp("certs"))


def test_grpcs_verifies_the_node_against_ca_and_presents_a_client_certificate(certs) -> None:  # type: ignore[no-untyped-def]
    creds = grpc.ssl_server_credentials(
        [(certs.server_key.read_bytes(), certs.server_cert.read_bytes())],
        root_certificates=certs.ca.read_bytes(),
        require_client_auth=True,
    )
    node = FakeGrpcNode(creds)
    url = f"grpcs://localhost:{node.port}"
    try:
        with polycall.connect(
            url, ca=certs.ca, cert=certs.client_cert, key=certs.client_key.read_bytes()
        ) as client:
            assert client.call("math.add", 20, 22) == 42
        with pytest.raises(polycall.Unavailable):  # no client certificate: the handshake fails
            polycall.connect(url, ca=str(certs.ca), timeout=5)
        with pytest.raises(polycall.Unavailable):  # the system CAs do not know this node
            polycall.connect(url, timeout=5)
    finally:
        node.close()


def test_https_verifies_the_gateway_against_ca_and_presents_a_client_certificate(certs) -> None:  # type: ignore[no-untyped-def]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(certs.server_cert, certs.server_key)
    ctx.load_verify_locations(certs.ca)
    ctx.verify_mode = ssl.CERT_REQUIRED
    gw = FakeGateway(lambda s: ctx.wrap_socket(s, server_side=True))
    try:
        url = f"https://localhost:{gw.port}"
        with polycall.connect(
            url, ca=certs.ca.read_text(), cert=certs.client_cert.read_bytes(), key=certs.client_key
        ) as client:
            assert client.call("math.add", 1, 2) == 3
        with pytest.raises(polycall.Unavailable):
            polycall.connect(url, timeout=5)
        with pytest.raises(polycall.InvalidArgument, match="both cert= and key="):
            polycall.connect(url, ca=certs.ca, cert=certs.client_cert)
    finally:
        gw.close()


# ---- HTTP --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gateway() -> Iterator[FakeGateway]:
    gw = FakeGateway()
    yield gw
    gw.close()


def test_an_http_client_calls_with_the_socket_clients_api(gateway: FakeGateway) -> None:
    with polycall.connect(gateway.url()) as client:
        assert client.call("math.add", 1, 2) == 3
        assert client.call("stats.mean", np.arange(5.0)) == 2.0
        scaled = client.call("stats.scale", np.ones((2, 2)), 3.0)
        assert isinstance(scaled, np.ndarray) and scaled.shape == (2, 2) and scaled.sum() == 12.0
        assert client.call("bytes.rev", b"\x01\x02") == b"\x02\x01"  # bytes, by the signature
        assert math.isnan(client.call("f.nan"))
        assert client.functions("math.*") == ["math.add(a: i64, b: i64) -> i64"]
        client.ping()
    sent = [b for b in gateway.bodies if b and isinstance(b[0], dict)]
    assert sent and sent[0][0]["dtype"] == "f64" and sent[0][0]["shape"] == [5]


def test_an_http_error_body_becomes_the_exception_of_its_code_with_frames(
    gateway: FakeGateway,
) -> None:
    with polycall.connect(gateway.url()) as client:
        with pytest.raises(polycall.NotFound, match="no such row") as info:
            client.call("fail", "no such row")
        assert info.value.frames == FRAMES
        with pytest.raises(polycall.NotFound, match=r"did you mean math\.add"):
            client.call("math.ad", 1, 2)
        with pytest.raises(polycall.Unavailable, match="HTTP 502"):  # a proxy's page, no body
            client.call("proxy.down")
        assert client.call("math.add", 2, 3) == 5


def test_an_http_call_sends_its_timeout_and_the_token(gateway: FakeGateway) -> None:
    with (
        polycall.connect(gateway.url(), token="s3cret") as client,
        pytest.raises(polycall.DeadlineExceeded, match="deadline passed"),
    ):
        client.call("slow", 5.0, timeout=0.25)
    sent = gateway.seen.timeouts[-1]
    assert sent is not None and 0 < sent <= 0.25  # what is left after the signature lookup
    assert gateway.seen.metadata[-1]["authorization"] == "Bearer s3cret"
    with pytest.raises(polycall.Unauthenticated):
        polycall.connect(gateway.url(), token="wrong")


def test_an_http_node_that_is_not_there_is_unavailable_naming_it() -> None:
    with pytest.raises(polycall.Unavailable, match=r"cannot reach http://127\.0\.0\.1:1"):
        polycall.connect("http://127.0.0.1:1")


def test_the_asyncio_http_client_runs_calls_concurrently(gateway: FakeGateway) -> None:
    async def main() -> list[int]:
        async with await polycall.aio.connect(gateway.url()) as client:
            with pytest.raises(polycall.NotFound):
                await client.call("fail", "x")
            return list(await asyncio.gather(*(client.call("math.add", i, 1) for i in range(10))))

    assert asyncio.run(main()) == [i + 1 for i in range(10)]


def test_sockets_and_urls_share_one_connect(tmp_path: Path) -> None:
    with pytest.raises(polycall.Unavailable, match="cannot connect to"):
        polycall.connect(f"unix://{tmp_path}/none.sock")
