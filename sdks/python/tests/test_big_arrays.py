"""Big ndarrays travel apart from the frame around them (codec.ndarray_result_parts and
codec.split_call): the bytes written by hand must be exactly what protobuf writes, a frame read
without its blocks must decode to exactly what a whole parse gives, and anything that is not the
plain form must be left to protobuf, which then parses or refuses it as before."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from polycall import codec
from polycall._proto import polycall_pb2 as pb
from polycall.codec import (
    BIG_BLOCK,
    DTYPES,
    ProtocolError,
    decode,
    encode,
    frame_bytes,
    frame_parts,
    ndarray_result_parts,
    parse_frame,
    split_call,
    varint,
)
from polycall.errors import InvalidArgument
from polycall.types import OptionalOf, parse_type

SHAPES = [(), (0,), (1,), (7,), (3, 4), (2, 0, 3), (5, 3, 1), (BIG_BLOCK // 8 + 3,), (300, 301)]
CALL_IDS = [0, 1, 127, 128, 300, 2**35, 2**64 - 1]


def array(dtype: str, shape: tuple[int, ...]) -> np.ndarray:
    n = int(np.prod(shape)) if shape else 1
    a = np.arange(n, dtype=np.int64) * 37 + 5
    if dtype == "bool":
        return (a % 2 == 1).reshape(shape)
    return a.astype(DTYPES[dtype]).reshape(shape)  # wraps for the narrow ints: any bits will do


def protobuf_result_frame(call_id: int, a: np.ndarray, t: str | None) -> bytes:
    frame = pb.Frame()
    frame.result.call_id = call_id
    codec.encode_into(frame.result.value, a, t)
    return b"".join(frame_parts(frame))


def joined(parts: list[Any]) -> bytes:
    return b"".join(bytes(p) for p in parts)


# ---- the Result frame written by hand ---------------------------------------------------------


@pytest.mark.parametrize("dtype", sorted(DTYPES))
def test_a_result_frame_around_an_ndarray_is_the_frame_protobuf_writes(dtype: str) -> None:
    for shape in SHAPES:
        a = array(dtype, shape)
        for call_id in CALL_IDS:
            want = protobuf_result_frame(call_id, a, f"ndarray<{dtype}>")
            for t in [f"ndarray<{dtype}>", "any", f"ndarray<{dtype}>?"]:
                parts = ndarray_result_parts(call_id, a, parse_type(t))
                assert parts is not None, (dtype, shape, t)
                assert joined(parts) == want, (dtype, shape, call_id, t)
            parts = ndarray_result_parts(call_id, a, None)
            assert parts is not None and joined(parts) == want


def test_the_block_of_a_result_is_the_arrays_own_memory_not_a_copy() -> None:
    a = np.arange(1 << 20, dtype=np.float64)  # 8 MiB
    parts = ndarray_result_parts(5, a, parse_type("ndarray<f64>"))
    assert parts is not None and len(parts) == 2
    head, block = parts
    assert len(head) < 64 and block.nbytes == a.nbytes and len(block) == a.nbytes
    assert np.shares_memory(np.frombuffer(block, dtype=np.uint8), a)


def test_arrays_not_in_the_wire_form_are_converted_once_then_written_as_protobuf_does() -> None:
    base = np.arange(24, dtype=np.float64).reshape(4, 6)
    for a, t in [
        (base.T, "ndarray<f64>"),  # Fortran order
        (base[:, ::2], "ndarray<f64>"),  # strided
        (base.astype(">f8"), "ndarray<f64>"),  # big-endian
        (base.astype(np.float32), "ndarray<f64>"),  # widened
        (base.astype(np.int16), "ndarray<i64>"),
    ]:
        parts = ndarray_result_parts(9, a, parse_type(t))
        assert parts is not None
        assert joined(parts) == protobuf_result_frame(9, a, t)
        back = parse_frame(joined(parts)[4:])
        np.testing.assert_array_equal(decode(back.result.value), a)


def test_what_the_hand_written_frame_does_not_take_is_left_to_the_generic_path() -> None:
    f64 = parse_type("ndarray<f64>")
    assert ndarray_result_parts(1, [1.0, 2.0], f64) is None  # not an ndarray
    assert ndarray_result_parts(1, np.arange(4.0), parse_type("list<f64>")) is None
    assert ndarray_result_parts(1, np.arange(4.0), parse_type("ndarray<f32>")) is None  # narrows
    assert ndarray_result_parts(1, np.arange(4.0), parse_type("ndarray<f64>[5]")) is None
    assert ndarray_result_parts(1, np.array(["a"]), None) is None  # no PolyCall dtype
    assert ndarray_result_parts(1, np.arange(4.0), OptionalOf(parse_type("string"))) is None
    # The generic path then says why.
    with pytest.raises(InvalidArgument, match="narrowing"):
        encode(np.arange(4.0), "ndarray<f32>")


def test_a_result_over_the_frame_limit_is_left_to_the_generic_path() -> None:
    a = np.zeros(1000)
    parts = ndarray_result_parts(1, a, None, max_frame_bytes=8100)
    assert parts is not None
    size = len(joined(parts)) - 4
    assert ndarray_result_parts(1, a, None, max_frame_bytes=size) is not None
    assert ndarray_result_parts(1, a, None, max_frame_bytes=size - 1) is None


# ---- a Call frame read without its blocks ------------------------------------------------------


def call_body(*args: Any, **kw: Any) -> bytes:
    call = pb.Call(
        call_id=kw.get("call_id", 42),
        function=kw.get("function", "t.f"),
        args=[a if isinstance(a, pb.Value) else encode(a) for a in args],
        timeout_nanos=kw.get("timeout_nanos", 0),
        metadata=kw.get("metadata", {}),
    )
    return pb.Frame(call=call).SerializeToString(deterministic=True)


def read_split(body: bytes) -> tuple[pb.Frame, dict[int, memoryview]] | None:
    return split_call(memoryview(body).toreadonly())


def args_of(frame: pb.Frame, blocks: dict[int, memoryview]) -> list[Any]:
    return [
        codec._decode_ndarray(v.ndarray_value, blocks[i]) if i in blocks else decode(v)
        for i, v in enumerate(frame.call.args)
    ]


def assert_same_as_a_whole_parse(body: bytes, split_args: set[int]) -> None:
    whole = parse_frame(body)
    split = read_split(body)
    assert split is not None
    frame, blocks = split
    assert set(blocks) == split_args
    for f in ["call_id", "function", "timeout_nanos"]:
        assert getattr(frame.call, f) == getattr(whole.call, f)
    assert dict(frame.call.metadata) == dict(whole.call.metadata)
    got = args_of(frame, blocks)
    want = [decode(v) for v in whole.call.args]
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        if isinstance(w, np.ndarray):
            assert g.dtype == w.dtype and g.shape == w.shape
            np.testing.assert_array_equal(g, w)
        else:
            assert g == w


@pytest.mark.parametrize("dtype", sorted(DTYPES))
def test_a_call_with_a_big_array_reads_as_a_whole_parse_does_for_every_dtype(dtype: str) -> None:
    for shape in [(BIG_BLOCK,), (BIG_BLOCK // 8 + 3,), (300, 301), (2, 3, 40000)]:
        a = array(dtype, shape)
        if a.nbytes < BIG_BLOCK:
            continue
        assert_same_as_a_whole_parse(call_body(a), {0})


def test_big_arrays_among_other_arguments_metadata_and_a_deadline_keep_their_places() -> None:
    big = np.arange(1 << 20, dtype=np.float64)
    small = np.arange(10, dtype=np.int32)
    body = call_body(
        1,
        big,
        "s",
        small,
        big[::-1].copy(),
        [1, 2],
        timeout_nanos=5_000_000,
        metadata={"trace": "t1", "b": "2"},
        call_id=2**40,
    )
    assert_same_as_a_whole_parse(body, {1, 4})


def test_the_arrays_read_view_the_frames_buffer_read_only() -> None:
    big = np.arange(1 << 17, dtype=np.float64)
    buf = bytearray(call_body(big))
    split = split_call(memoryview(buf).toreadonly())
    assert split is not None
    frame, blocks = split
    a = codec._decode_ndarray(frame.call.args[0].ndarray_value, blocks[0])
    assert not a.flags.writeable
    assert np.shares_memory(a, np.frombuffer(buf, dtype=np.uint8))
    with pytest.raises(ValueError):
        a[0] = 1.0


def test_frames_with_nothing_big_or_not_in_the_plain_form_are_left_to_protobuf() -> None:
    big = np.arange(BIG_BLOCK // 8 + 1, dtype=np.float64)
    block = big.tobytes()
    nd = pb.NdArray(dtype=pb.F64, shape=[len(big)], data=block)
    cases = {
        "small array": call_body(np.arange(100.0)),
        "no array": call_body("x" * (2 * BIG_BLOCK)),
        "big bytes": call_body(b"x" * (2 * BIG_BLOCK)),
        "array in a list": call_body([big]),
        "not a call": pb.Frame(result=pb.Result(call_id=1, value=encode(big))).SerializeToString(),
        "a width beside the ndarray": call_body(pb.Value(ndarray_value=nd, width=pb.F64)),
    }
    plain = call_body(pb.Value(ndarray_value=nd))
    assert read_split(plain) is not None
    # The data field twice (protobuf keeps the last): the split form leaves it to protobuf.
    inner = nd.SerializeToString() + b"\x1a" + varint(len(block)) + block
    value = b"\x5a" + varint(len(inner)) + inner
    cases["data twice"] = wrap_call(b"\x1a" + varint(len(value)) + value)
    # An unknown field inside the NdArray.
    inner = nd.SerializeToString() + b"\x78\x01"
    value = b"\x5a" + varint(len(inner)) + inner
    cases["unknown field"] = wrap_call(b"\x1a" + varint(len(value)) + value)
    # A second body field after the call (the oneof's last member wins in protobuf).
    cases["two bodies"] = plain + b"\x3a\x02\x08\x01"
    for name, body in cases.items():
        assert read_split(body) is None, name
        parse_frame(body)  # still a valid frame, parsed whole


def wrap_call(call: bytes) -> bytes:
    return b"\x22" + varint(len(call)) + call


def test_malformed_frames_are_left_to_protobuf_which_refuses_them_as_before() -> None:
    body = call_body(np.arange(BIG_BLOCK // 8 + 1, dtype=np.float64))
    for bad in [
        body[:-1],  # the block ends past the frame
        body[:3],
        body[:1] + b"\xff" * 11,  # a varint longer than 64 bits
        b"\x22\x05\x1a\x09\x5a\x07\x1a\x80",  # lengths that point past the end
    ]:
        assert read_split(bad) is None
        with pytest.raises(ProtocolError):
            parse_frame(bad)


def test_an_array_whose_shape_does_not_match_its_block_is_still_invalid() -> None:
    nd = pb.NdArray(dtype=pb.F64, shape=[3], data=b"\x00" * (BIG_BLOCK + 8))
    split = read_split(call_body(pb.Value(ndarray_value=nd)))
    assert split is not None
    frame, blocks = split
    with pytest.raises(InvalidArgument, match="needs 24 bytes"):
        codec._decode_ndarray(frame.call.args[0].ndarray_value, blocks[0])


def test_a_bool_array_holding_another_byte_is_still_invalid() -> None:
    nd = pb.NdArray(dtype=pb.BOOL, shape=[BIG_BLOCK], data=b"\x01" * (BIG_BLOCK - 1) + b"\x02")
    split = read_split(call_body(pb.Value(ndarray_value=nd)))
    assert split is not None
    frame, blocks = split
    with pytest.raises(InvalidArgument, match="other than 0 or 1"):
        codec._decode_ndarray(frame.call.args[0].ndarray_value, blocks[0])


def test_the_frame_written_by_hand_reads_back_through_the_split_reader_of_a_call() -> None:
    # The two halves agree: a Call built around a block (as a hub would send it) and read apart.
    a = array("f32", (500, 70))
    head_parts = ndarray_result_parts(0, a, None)
    assert head_parts is not None
    value = pb.Frame.FromString(joined(head_parts)[4:]).result.value
    assert_same_as_a_whole_parse(call_body(value), {0})
    assert frame_bytes(pb.Frame(call=pb.Call(args=[value])))  # and protobuf takes it whole


def test_the_ndarray_result_vector_is_the_frame_written_by_hand() -> None:
    import json
    from pathlib import Path

    path = Path(__file__).resolve().parents[3] / "spec" / "vectors" / "frames.json"
    if not path.exists():
        pytest.skip("no spec/vectors/frames.json")
    case = next(
        e for e in json.loads(path.read_text()) if e["name"].startswith("result with an ndarray")
    )
    frame = pb.Frame.FromString(bytes.fromhex(case["hex"])[4:])
    a = decode(frame.result.value)
    for t in [None, parse_type("ndarray<f64>"), parse_type("any")]:
        parts = ndarray_result_parts(frame.result.call_id, a, t)
        assert parts is not None
        assert joined(parts).hex() == case["hex"]
