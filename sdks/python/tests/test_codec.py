"""Python values <-> wire Values: inference, declared types, ndarrays, limits, framing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pytest

from polycall import FnRef, Handle, InvalidArgument, OutOfRange, Struct, typed
from polycall._proto import polycall_pb2 as pb
from polycall.codec import FrameReader, ProtocolError, decode, encode, frame_bytes


@dataclass
class Pixel:
    x: int
    y: int
    label: str


class Pair(NamedTuple):
    left: float
    right: float


def roundtrip(v: object, t: str | None = None) -> object:
    return decode(pb.Value.FromString(encode(v, t).SerializeToString()), t)


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        False,
        0,
        -1,
        2**63 - 1,
        -(2**63),
        1.5,
        "héllo",
        b"\x00\xff",
        [1, "a", None],
        {"a": 1, "b": [2.5]},
        Handle("file", 7, 1),
        FnRef("math.cos", "fn(f64) -> f64"),
    ],
)
def test_plain_python_values_round_trip(value: object) -> None:
    assert roundtrip(value) == value


def test_a_tuple_travels_as_a_list() -> None:
    assert roundtrip((1, 2)) == [1, 2]


def test_an_int_between_i64_and_u64_max_travels_as_u64() -> None:
    v = encode(2**64 - 1)
    assert v.WhichOneof("kind") == "uint_value"
    assert decode(v) == 2**64 - 1


@pytest.mark.parametrize("big", [2**64, -(2**63) - 1, 2**70])
def test_an_int_beyond_64_bits_is_out_of_range_before_sending(big: int) -> None:
    with pytest.raises(OutOfRange):
        encode(big)
    with pytest.raises(OutOfRange):
        encode([1, {"k": big}])


def test_a_declared_width_is_sent_and_checked() -> None:
    v = encode(-5, "i8")
    assert (v.int_value, v.width) == (-5, pb.I8)
    with pytest.raises(InvalidArgument, match="300 does not fit i8"):
        encode(300, "i8")
    with pytest.raises(InvalidArgument, match="does not fit u32"):
        encode(-1, "u32")
    assert encode(typed(200, "u8")).width == pb.U8


def test_a_bad_element_is_reported_with_its_path() -> None:
    with pytest.raises(InvalidArgument, match=r"^INVALID_ARGUMENT: \[1\]\[3\]: 300 does not fit"):
        encode([[1], [1, 2, 3, 300]], "list<list<i8>>")
    with pytest.raises(InvalidArgument, match=r"\[0\]\.y: 300 does not fit i8"):
        encode([{"x": 1, "y": 300}], "list<struct P{x: i8, y: i8}>")


def test_numpy_scalars_keep_their_width() -> None:
    assert encode(np.float32(0.5)).width == pb.F32
    assert encode(np.int16(-3)).width == pb.I16
    assert encode(np.uint64(5)).WhichOneof("kind") == "uint_value"


def test_dataclasses_and_namedtuples_are_structs_and_decode_back_to_their_class() -> None:
    p = Pixel(1, 2, "a")
    v = encode(p)
    assert v.struct_value.name == "Pixel"
    assert [f.name for f in v.struct_value.fields] == ["x", "y", "label"]
    assert roundtrip(p) == p
    assert roundtrip(Pair(1.0, 2.0)) == Pair(1.0, 2.0)


def test_a_struct_without_a_class_decodes_to_struct() -> None:
    s = roundtrip(Struct("Unseen", a=1, b="two"))
    assert isinstance(s, Struct)
    assert (s.struct_name, s.a, s["b"]) == ("Unseen", 1, "two")


def test_an_8_mb_float64_array_is_one_block_each_way() -> None:
    xs = np.random.default_rng(1).random(1 << 20)  # 8 MiB
    v = encode(xs)
    assert v.WhichOneof("kind") == "ndarray_value"
    assert v.ndarray_value.dtype == pb.F64
    assert list(v.ndarray_value.shape) == [1 << 20]
    assert v.ndarray_value.data == xs.tobytes()
    back = decode(pb.Value.FromString(v.SerializeToString()))
    assert isinstance(back, np.ndarray)
    assert back.dtype == np.float64 and back.base is not None  # a view over the block
    np.testing.assert_array_equal(back, xs)


def test_non_contiguous_and_big_endian_arrays_are_sent_little_endian_c_order() -> None:
    a = np.arange(6, dtype=">i4").reshape(2, 3).T
    back = roundtrip(a)
    assert isinstance(back, np.ndarray)
    assert back.dtype == np.dtype("<i4")
    np.testing.assert_array_equal(back, a)


def test_a_declared_dtype_widens_but_never_narrows() -> None:
    assert encode(np.arange(3, dtype=np.int32), "ndarray<f64>").ndarray_value.dtype == pb.F64
    with pytest.raises(InvalidArgument, match="without narrowing"):
        encode(np.arange(3, dtype=np.float64), "ndarray<f32>")
    with pytest.raises(InvalidArgument, match="shape"):
        encode(np.zeros((2, 2)), "ndarray<f64>[2,3]")


def test_unsupported_dtypes_and_objects_are_refused() -> None:
    with pytest.raises(InvalidArgument):
        encode(np.zeros(2, dtype=np.complex128))
    with pytest.raises(InvalidArgument, match="cannot encode a object"):
        encode(object())


def nested_list(depth: int) -> object:
    v: object = 1
    for _ in range(depth):
        v = [v]
    return v


def test_nesting_is_limited_to_32_each_way() -> None:
    ok = encode(nested_list(32))
    assert decode(ok) == nested_list(32)
    with pytest.raises(InvalidArgument, match="deeper than 32"):
        encode(nested_list(33))
    deep = pb.Value()
    cur = deep
    for _ in range(40):
        cur = cur.list_value.items.add()
    cur.int_value = 1
    with pytest.raises(InvalidArgument, match="deeper than 32"):
        decode(pb.Value.FromString(deep.SerializeToString()))


def test_a_self_containing_list_is_refused_not_a_recursion_error() -> None:
    loop: list[object] = []
    loop.append(loop)
    with pytest.raises(InvalidArgument):
        encode(loop)


def test_frames_survive_one_byte_reads_and_many_frames_per_read() -> None:
    frames = [pb.Frame(ping=pb.Ping(nonce=i)) for i in range(5)]
    data = b"".join(frame_bytes(f) for f in frames)
    one_by_one = FrameReader()
    got = [f for i in range(len(data)) for f in one_by_one.feed(data[i : i + 1])]
    assert got == frames
    assert FrameReader().feed(data) == frames


def test_a_frame_above_the_limit_is_refused_before_its_body_arrives() -> None:
    reader = FrameReader(max_frame_bytes=16)
    with pytest.raises(ProtocolError, match="exceeds the limit"):
        reader.feed((17).to_bytes(4, "big"))
