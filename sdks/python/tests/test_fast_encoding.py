"""The hand-written bytes of small results (codec.small_value_encoder and the frames around
them) against protobuf's own serialization and the shared vectors: every fast path must write
exactly what the generic path writes, or step aside."""

from __future__ import annotations

import base64
import json
import math
import struct
from pathlib import Path
from typing import Any

import pytest

from polycall import Struct, Typed
from polycall._proto import polycall_pb2 as pb
from polycall.codec import (
    JOIN_BELOW,
    SMALL_SCALAR,
    batch_entry_bytes,
    batch_entry_of,
    batch_result_parts,
    decode,
    encode,
    frame_bytes,
    frame_parts,
    result_frame_bytes,
    small_value_encoder,
    small_value_kind,
    varint,
)
from polycall.errors import InvalidArgument, OutOfRange
from polycall.functions import Function
from polycall.types import OptionalOf, Scalar, Signature, parse_type

VECTORS = Path(__file__).resolve().parents[3] / "spec" / "vectors"

try:  # the C writer of the worker's fast path (FastPath.run) must write the same bytes
    from polycall._speedups import result_frame as c_result_frame
except ImportError:  # not built: the checks of it are skipped
    c_result_frame = None


def check_c_writer(t: str | None, v: Any, value: bytes | None, call_id: int = 1) -> None:
    """The C writer's Result frame for `v` of type `t` is the frame around `value`, the small
    encoder's bytes (None: both leave `v` to the generic path)."""
    if c_result_frame is None:
        return
    kind = small_value_kind(None if t in (None, "any") else parse_type(t))
    want = None if value is None else result_frame_bytes(call_id, value)
    assert c_result_frame(call_id, kind, v) == want, (t, v, call_id)


NAN_PAYLOAD = struct.unpack("<d", bytes.fromhex("0100000000f8ff7f"))[0]
FLOATS = [
    0.0,
    -0.0,
    1.5,
    -1.25,
    0.1,
    5e-324,
    1.7976931348623157e308,
    3.4028234663852886e38,
    3.5e38,
    1e-50,
    math.inf,
    -math.inf,
    math.nan,
    NAN_PAYLOAD,
]
INTS = [
    0,
    1,
    -1,
    63,
    64,
    -64,
    -65,
    127,
    128,
    -128,
    -129,
    255,
    256,
    300,
    -300,
    16383,
    16384,
    2097151,
    2097152,
    32767,
    -32768,
    65535,
    65536,
    2**31 - 1,
    -(2**31),
    2**32 - 1,
    2**32,
    2**63 - 1,
    -(2**63),
    2**63,
    2**64 - 1,
    2**64,
    -(2**63) - 1,
]
STRINGS = ["", "a", "hello", "héllo wörld ✓ 日本 🎉", "x" * 127, "x" * 128, "é" * 300, "\0"]
BYTES = [b"", b"\x00\x01\x7f\x80\xff", b"z" * 200]
VALUES: list[Any] = [None, True, False, *INTS, *FLOATS, *STRINGS, *BYTES]
TYPES = [
    "any",
    "null",
    "bool",
    "i8",
    "i16",
    "i32",
    "i64",
    "u8",
    "u16",
    "u32",
    "u64",
    "f32",
    "f64",
    "string",
    "bytes",
    "optional<i32>",
    "optional<string>",
    "optional<any>",
    "optional<list<i64>>",
]


def generic_bytes(v: Any, t: str) -> bytes | None:
    """What `encode` writes for `v` as `t`, None when it refuses the value."""
    try:
        return encode(v, None if t == "any" else t).SerializeToString(deterministic=True)
    except (InvalidArgument, OutOfRange):
        return None


@pytest.mark.parametrize("t", TYPES)
def test_small_results_of_every_scalar_type_are_the_bytes_protobuf_writes_or_none(t: str) -> None:
    enc = small_value_encoder(None if t == "any" else parse_type(t))
    assert enc is not None
    taken = 0
    for v in VALUES:
        fast = enc(v)
        check_c_writer(t, v, fast)
        if fast is None:
            continue  # the generic path takes it (and reports what it refuses)
        taken += 1
        assert fast == generic_bytes(v, t), (t, v)
    assert taken > 0


@pytest.mark.parametrize("t", ["i8", "u8", "i32", "u64", "f32", "string", "bool", "null"])
def test_a_value_the_declared_type_refuses_is_left_to_the_generic_path(t: str) -> None:
    enc = small_value_encoder(parse_type(t))
    assert enc is not None
    for v in VALUES:
        if generic_bytes(v, t) is None:
            assert enc(v) is None, (t, v)


def test_values_the_small_encoder_does_not_write_are_left_to_the_generic_path() -> None:
    enc = small_value_encoder(None)
    assert enc is not None
    for v in [
        "x" * (SMALL_SCALAR + 1),
        b"y" * (SMALL_SCALAR + 1),
        "\ud800",
        bytearray(b"ab"),
        [1, 2],
        {"a": 1},
        Typed(3, "i8"),
        Struct("P", {"x": 1}),
        2**64,
    ]:
        assert enc(v) is None, v
        check_c_writer(None, v, None)


def test_types_without_small_values_have_no_small_encoder() -> None:
    for t in ["list<i64>", "map<string, i64>", "ndarray<f64>", "struct Point{x: f64}"]:
        assert small_value_encoder(parse_type(t)) is None


def test_an_optional_of_a_type_without_small_values_still_writes_its_null() -> None:
    enc = small_value_encoder(OptionalOf(parse_type("list<i64>")))
    assert enc is not None
    assert enc(None) == generic_bytes(None, "optional<list<i64>>")
    assert enc([1]) is None


def test_scalar_value_vectors_are_the_bytes_of_the_small_encoder() -> None:
    path = VECTORS / "values.json"
    if not path.exists():
        pytest.skip("no spec/vectors/values.json")
    checked = 0
    for case in json.loads(path.read_text()):
        ((kind, x),) = case["value"].items()
        if kind in ("null", "bool", "string"):
            v: Any = x
        elif kind in ("f32", "f64"):
            v = float(x) if not isinstance(x, str) else float(x.replace("Infinity", "inf"))
        elif kind == "bytes":
            v = base64.b64decode(x)
        elif kind[0] in "iu":
            v = int(x)
        else:
            continue
        enc = small_value_encoder(parse_type(kind))
        assert enc is not None
        got = enc(v)
        assert got is not None, case["name"]
        assert got.hex() == case["hex"], case["name"]
        check_c_writer(kind, v, got)
        checked += 1
    assert checked >= 30


def test_varints_are_protobufs() -> None:
    for n in [0, 1, 127, 128, 16383, 16384, 2097151, 2097152, 2**35, 2**63, 2**64 - 1]:
        # Ping.nonce is a uint64: its bytes are the tag 08 and the varint.
        assert b"\x08" + varint(n) == pb.Ping(nonce=n).SerializeToString() or n == 0, n
    assert varint(0) == b"\x00"


@pytest.mark.parametrize("call_id", [0, 1, 127, 128, 300, 2**21, 2**35, 2**64 - 1])
def test_a_result_frame_written_by_hand_is_the_frame_protobuf_writes(call_id: int) -> None:
    for v, t in [(None, "null"), (7, "i64"), (-3, "i8"), (1.5, "f64"), ("x" * 100, "string")]:
        for value in [generic_bytes(v, t), generic_bytes("é" * 2000, "string")]:
            assert value is not None
            expected = pb.Frame(result=pb.Result(call_id=call_id, value=pb.Value.FromString(value)))
            assert result_frame_bytes(call_id, value) == frame_bytes(expected), (call_id, v)
        if call_id:  # the C writer leaves call id 0 (batches) to Python
            check_c_writer(t, v, generic_bytes(v, t), call_id)
            check_c_writer("string", "é" * 2000, generic_bytes("é" * 2000, "string"), call_id)


def test_the_result_vector_with_a_value_is_the_frame_written_by_hand() -> None:
    path = VECTORS / "frames.json"
    if not path.exists():
        pytest.skip("no spec/vectors/frames.json")
    case = next(e for e in json.loads(path.read_text()) if e["name"] == "result with a value")
    frame = pb.Frame.FromString(bytes.fromhex(case["hex"])[4:])
    value = frame.result.value.SerializeToString()
    assert result_frame_bytes(frame.result.call_id, value).hex() == case["hex"]


@pytest.mark.parametrize("batch_id", [0, 1, 200, 2**40])
def test_a_batch_result_assembled_from_entries_is_the_frame_protobuf_writes(batch_id: int) -> None:
    status = pb.Status(code=3, message="bad")
    big = pb.Result(value=pb.Value(bytes_value=b"\x01" * (JOIN_BELOW + 10)))
    expected = pb.Frame()
    expected.batch_result.batch_id = batch_id
    entries: list[bytes | list[bytes]] = []
    for v in [None, 5, "s" * 300]:
        value = generic_bytes(v, "any")
        assert value is not None
        entries.append(batch_entry_bytes(value))
        expected.batch_result.results.add().value.ParseFromString(value)
    entries.append(batch_entry_of(pb.Result(status=status)))
    expected.batch_result.results.add().status.CopyFrom(status)
    entries.append(batch_entry_of(big))
    expected.batch_result.results.add().CopyFrom(big)
    entries.append(batch_entry_of(pb.Result(value=pb.Value(null_value=pb.NULL_VALUE))))
    expected.batch_result.results.add().value.null_value = pb.NULL_VALUE
    parts = batch_result_parts(batch_id, entries)
    assert b"".join(parts) == frame_bytes(expected)
    assert any(len(p) == len(big.SerializeToString()) for p in parts)  # sent apart, not copied


def test_an_empty_batch_result_is_the_frame_protobuf_writes() -> None:
    expected = pb.Frame()
    expected.batch_result.batch_id = 9
    assert b"".join(batch_result_parts(9, [])) == frame_bytes(expected)


def test_a_batch_result_over_the_frame_limit_is_refused() -> None:
    entry = batch_entry_bytes(b"\x08\x00")
    with pytest.raises(InvalidArgument, match="exceeds the limit"):
        batch_result_parts(1, [entry] * 100, max_frame_bytes=200)


def test_frames_without_maps_serialize_as_the_deterministic_form() -> None:
    for frame in [
        pb.Frame(result=pb.Result(call_id=3, value=encode({"b": 1, "a": [1.5, "x"]}))),
        pb.Frame(ping=pb.Ping(nonce=5)),
        pb.Frame(call=pb.Call(call_id=1, function="f", metadata={"z": "1", "a": "2", "m": "3"})),
    ]:
        body = frame.SerializeToString(deterministic=True)
        assert frame_parts(frame) == [len(body).to_bytes(4, "big") + body]


def test_a_function_gets_the_small_encoder_of_its_result_type() -> None:
    def f() -> None:
        return None

    fn = Function(f, Signature("t.f", (), Scalar("i32")))
    assert fn.result_bytes is not None
    assert fn.result_bytes(5) == generic_bytes(5, "i32")
    assert fn.result_bytes(2**40) is None
    listy = Function(f, Signature("t.g", (), parse_type("list<i64>")))
    assert listy.result_bytes is None


def test_default_width_scalars_decode_as_before_and_other_widths_are_still_checked() -> None:
    for v in [0, -5, 2**63 - 1, 1.5, math.inf, "héllo", "", True, False]:
        assert decode(encode(v)) == v
    assert decode(encode(Typed(3, "i8")), exact=True) == Typed(3, "i8")
    bad = pb.Value(string_value="x", width=pb.I8)
    with pytest.raises(InvalidArgument, match="width i8 on a string_value"):
        decode(bad)
    with pytest.raises(InvalidArgument, match="does not fit i8"):
        decode(pb.Value(int_value=300, width=pb.I8))


def test_result_frames_around_one_byte_lengths_are_the_frames_protobuf_writes() -> None:
    # Result lengths of 126 to 130 bytes: the short form and the general one meet there.
    for call_id in [1, 300, 70000, 2**30]:
        for size in range(105, 130):
            value = generic_bytes("z" * size, "string")
            assert value is not None
            expected = pb.Frame(result=pb.Result(call_id=call_id, value=pb.Value.FromString(value)))
            assert result_frame_bytes(call_id, value) == frame_bytes(expected), (call_id, size)
