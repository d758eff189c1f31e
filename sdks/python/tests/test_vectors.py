"""The shared, language-neutral vectors of spec/vectors (WIRE.md "Test vectors")."""

from __future__ import annotations

import asyncio
import base64
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from google.protobuf import json_format

from polycall import FnRef, Handle, Struct, Typed
from polycall._conn import proof_of, read_frame
from polycall._proto import polycall_pb2 as pb
from polycall.codec import FrameReader, ProtocolError, decode_value_bytes, encode_value_bytes
from polycall.errors import Code, PolyCallError

VECTORS = Path(__file__).resolve().parents[3] / "spec" / "vectors"


def load(name: str) -> list[dict[str, Any]]:
    path = VECTORS / name
    if not path.exists():
        pytest.skip(f"{path} does not exist yet (the hub's engineer commits the vectors)")
    data: list[dict[str, Any]] = json.loads(path.read_text())
    return data


def cases(name: str) -> list[Any]:
    path = VECTORS / name
    if not path.exists():
        return [pytest.param(None, id="missing")]
    return [pytest.param(e, id=e["name"]) for e in json.loads(path.read_text())]


# Written out here rather than taken from the SDK, so the test does not trust the code it checks.
NUMPY_DTYPES = {
    "bool": "?",
    "i8": "i1",
    "i16": "<i2",
    "i32": "<i4",
    "i64": "<i8",
    "u8": "u1",
    "u16": "<u2",
    "u32": "<u4",
    "u64": "<u8",
    "f32": "<f4",
    "f64": "<f8",
}


def _float(x: Any) -> float:
    return float(x) if not isinstance(x, str) else float(x.replace("Infinity", "inf"))


def to_python(v: dict[str, Any]) -> Any:
    """The Python value of the neutral form, widths kept as `Typed` where not default."""
    ((kind, x),) = v.items()
    if kind == "null":
        return None
    if kind in ("bool", "string"):
        return x
    if kind == "i64":
        return int(x)
    if kind in ("i8", "i16", "i32", "u8", "u16", "u32", "u64"):
        return Typed(int(x), kind)
    if kind == "f64":
        return _float(x)
    if kind == "f32":
        return Typed(_float(x), "f32")
    if kind == "bytes":
        return base64.b64decode(x)
    if kind == "list":
        return [to_python(i) for i in x]
    if kind == "map":
        return {to_python(k): to_python(val) for k, val in x}
    if kind == "struct":
        return Struct(x["name"], {n: to_python(f) for n, f in x["fields"]})
    if kind == "ndarray":
        dtype = NUMPY_DTYPES[x["dtype"]]
        data = base64.b64decode(x["data"])
        return np.frombuffer(data, dtype=np.dtype(dtype)).reshape(tuple(x["shape"]))
    if kind == "handle":
        return Handle(x["kind"], int(x["id"]), x["generation"])
    if kind == "fn":
        return FnRef(x["name"], x["signature"])
    raise AssertionError(f"unknown kind {kind}")


def same(a: Any, b: Any) -> bool:
    """Deep equality that tells dtypes and widths apart and takes NaN as equal to NaN."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (
            isinstance(a, np.ndarray)
            and isinstance(b, np.ndarray)
            and a.dtype == b.dtype
            and a.shape == b.shape
            and a.tobytes() == b.tobytes()
        )
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (
            a == b and math.copysign(1, a) == math.copysign(1, b)
        )
    if isinstance(a, Typed):
        return a.type == b.type and same(a.value, b.value)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, Struct):
        return (
            a.struct_name == b.struct_name
            and list(a) == list(b)
            and all(same(a[k], b[k]) for k in a)
        )
    return bool(a == b)


@pytest.mark.parametrize("case", cases("values.json"))
def test_value_vector_decodes_to_its_value(case: dict[str, Any] | None) -> None:
    if case is None:
        load("values.json")
    assert case is not None
    decoded = decode_value_bytes(bytes.fromhex(case["hex"]), exact=True)
    assert same(decoded, to_python(case["value"])), decoded


@pytest.mark.parametrize("case", cases("values.json"))
def test_value_vector_encodes_to_its_bytes(case: dict[str, Any] | None) -> None:
    if case is None:
        load("values.json")
    assert case is not None
    assert encode_value_bytes(to_python(case["value"])).hex() == case["hex"]


@pytest.mark.parametrize("case", cases("frames.json"))
def test_frame_vector_matches_its_bytes_both_ways(case: dict[str, Any] | None) -> None:
    if case is None:
        load("frames.json")
    assert case is not None
    expected = json_format.ParseDict(case["frame"], pb.Frame())
    body = expected.SerializeToString(deterministic=True)
    assert (len(body).to_bytes(4, "big") + body).hex() == case["hex"]
    frames = FrameReader().feed(bytes.fromhex(case["hex"]))
    assert frames == [expected]


def test_the_hello_vector_proof_is_the_hmac_this_sdk_computes() -> None:
    (case,) = [e for e in load("frames.json") if e["frame"].get("hello", {}).get("proof")]
    hello = json_format.ParseDict(case["frame"], pb.Frame()).hello
    nonce = bytes(range(0xA0, 0xC0))
    assert proof_of(bytes(range(0x20)), nonce, hello.worker_id) == hello.proof


def _refuse_stream(data: bytes, chunk: int) -> PolyCallError:
    reader = FrameReader()
    try:
        for i in range(0, len(data), chunk):
            reader.feed(data[i : i + chunk])
        reader.eof()
    except ProtocolError as e:
        return e
    raise AssertionError("stream accepted")


async def _refuse_async(data: bytes) -> PolyCallError:
    r = asyncio.StreamReader()
    r.feed_data(data)
    r.feed_eof()
    try:
        while await read_frame(r, 64 * 1024 * 1024) is not None:
            pass
    except ProtocolError as e:
        return e
    raise AssertionError("stream accepted")


@pytest.mark.parametrize("case", cases("invalid.json"))
def test_invalid_vector_is_refused_with_its_status(case: dict[str, Any] | None) -> None:
    if case is None:
        load("invalid.json")
    assert case is not None
    data = bytes.fromhex(case["hex"])
    want = Code[case["status"]]
    if case["kind"] == "value":
        with pytest.raises(PolyCallError) as info:
            decode_value_bytes(data)
        assert info.value.code == want, info.value
    else:
        assert case["kind"] == "stream"
        for chunk in (len(data) or 1, 1):  # whole, then one byte at a time
            assert _refuse_stream(data, chunk).code == want
        assert asyncio.run(_refuse_async(data)).code == want
