"""Python values <-> ``polycall.v1.Value``, and the framing of ``Frame`` on a byte stream.

Encoding follows the declared canonical type when there is one (a function's signature) and
infers it otherwise: int -> i64 (u64 above i64's range), float -> f64, str, bytes,
list/tuple, dict, dataclass/NamedTuple/`Struct` -> struct, numpy arrays -> one ndarray block,
`Handle`, `FnRef`, `Typed`. Decoding checks widths and nesting depth as WIRE.md requires.
The functions are pure and thread-safe.

Framing (WIRE.md)::

     0               4                                   4 + length
     +---------------+-----------------------------------+
     | length (u32,  |  Frame (protobuf, `length` bytes) |
     |  big-endian)  |                                   |
     +---------------+-----------------------------------+
"""

from __future__ import annotations

import dataclasses
import math
import struct
from collections.abc import Callable, Mapping
from typing import Any

from google.protobuf.message import DecodeError

from . import _hints
from ._proto import polycall_pb2 as pb
from .errors import InvalidArgument, OutOfRange
from .types import (
    DTYPES,
    INT_RANGES,
    FnOf,
    HandleOf,
    ListOf,
    MapOf,
    NdArrayOf,
    OptionalOf,
    Scalar,
    StructOf,
    Type,
    parse_type,
)
from .values import FnRef, Handle, Struct, Typed

try:
    import numpy as np
except ImportError:  # pragma: no cover
    np = None  # type: ignore[assignment]

try:
    # upb refuses messages nested deeper than 100 (a list level is two messages, a map
    # level three): enough for the default depth of 32 (WIRE.md), not for a hub that raises
    # max_depth; and its size cap is not ours. The SDK enforces both limits itself (frame size
    # before parsing, depth while decoding), so a too-deep value fails only its call.
    from google._upb import _message as _upb_message

    _upb_message.SetAllowOversizeProtos(True)
except ImportError:  # pragma: no cover - the pure-Python protobuf has no such limit knob
    pass

__all__ = [
    "MAX_DEPTH",
    "MAX_FRAME_BYTES",
    "encode",
    "decode",
    "encode_value_bytes",
    "decode_value_bytes",
    "frame_bytes",
    "FrameReader",
    "ProtocolError",
]

MAX_DEPTH = 32
MAX_FRAME_BYTES = 64 * 1024 * 1024

_SCALAR_ENUM: dict[str, int] = {
    "bool": pb.BOOL,
    "i8": pb.I8,
    "i16": pb.I16,
    "i32": pb.I32,
    "i64": pb.I64,
    "u8": pb.U8,
    "u16": pb.U16,
    "u32": pb.U32,
    "u64": pb.U64,
    "f32": pb.F32,
    "f64": pb.F64,
}
_ENUM_SCALAR: dict[int, str] = {v: k for k, v in _SCALAR_ENUM.items()}
_SIGNED = ("i8", "i16", "i32", "i64")
_UNSIGNED = ("u8", "u16", "u32", "u64")
_F32_MAX = 3.4028234663852886e38
_I64_MIN = -(1 << 63)
_U64_MAX = (1 << 64) - 1


class ProtocolError(InvalidArgument):
    """Bytes on a connection that are not a valid frame (WIRE.md "Framing")."""


# Bodies below this are joined to their length prefix before writing.
JOIN_BELOW = 64 * 1024

# ---- encode ----------------------------------------------------------------------------------


def encode(value: Any, type: Type | str | None = None, *, max_depth: int = MAX_DEPTH) -> pb.Value:
    """The wire Value of `value`, as the canonical `type` if given.

    Raises OutOfRange for an int outside both i64 and u64, and InvalidArgument (naming the
    path, e.g. ``[1][3].name``) for a value that does not fit the type.
    """
    out = pb.Value()
    encode_into(out, value, type, max_depth=max_depth)
    return out


def encode_into(
    out: pb.Value, value: Any, type: Type | str | None = None, *, max_depth: int = MAX_DEPTH
) -> None:
    """`encode`, into `out` (a field of the message that will carry it), saving a copy."""
    if isinstance(type, str):
        type = parse_type(type)
    _encode_into(out, value, type, 0, max_depth)


def encode_value_bytes(value: Any, type: Type | str | None = None) -> bytes:
    data: bytes = encode(value, type).SerializeToString(deterministic=True)
    return data


def _fail(path: str, err: InvalidArgument | OutOfRange) -> InvalidArgument | OutOfRange:
    msg = err.message
    sep = "" if msg.startswith(("[", ".")) else ": "
    return type(err)(f"{path}{sep}{msg}", err.frames)


def _encode_into(out: pb.Value, v: Any, t: Type | None, depth: int, max_depth: int) -> None:
    if t is not None:
        if isinstance(t, Scalar):
            if t.name == "any":
                t = None
            else:
                _encode_scalar(out, v, t.name)
                return
        elif isinstance(t, OptionalOf):
            if v is None:
                out.null_value = pb.NULL_VALUE
                return
            _encode_into(out, v, t.inner, depth, max_depth)
            return
    if t is None:
        t = _infer(v)
        if t is None:
            _encode_scalar(out, v, None)
            return
        if isinstance(t, Scalar):
            _encode_scalar(out, v, t.name)
            return
    if isinstance(t, (ListOf, MapOf, StructOf)):
        depth += 1
        if depth > max_depth:
            raise InvalidArgument(f"value nested deeper than {max_depth}")
    if isinstance(t, ListOf):
        if not isinstance(v, (list, tuple)):
            raise _mismatch(v, t)
        items = out.list_value.items
        out.list_value.SetInParent()
        for i, item in enumerate(v):
            try:
                _encode_into(items.add(), item, _opt(t.element), depth, max_depth)
            except (InvalidArgument, OutOfRange) as e:
                raise _fail(f"[{i}]", e) from None
    elif isinstance(t, MapOf):
        if not isinstance(v, Mapping):
            raise _mismatch(v, t)
        entries = out.map_value.entries
        out.map_value.SetInParent()
        for k, item in v.items():
            entry = entries.add()
            try:
                _encode_into(entry.key, k, _opt(t.key), depth, max_depth)
                _encode_into(entry.value, item, _opt(t.value), depth, max_depth)
            except (InvalidArgument, OutOfRange) as e:
                raise _fail(f"[{k!r}]", e) from None
    elif isinstance(t, StructOf):
        _encode_struct(out.struct_value, v, t, depth, max_depth)
    elif isinstance(t, NdArrayOf):
        _encode_ndarray(out.ndarray_value, v, t)
    elif isinstance(t, HandleOf):
        if not isinstance(v, Handle):
            raise _mismatch(v, t)
        out.handle_value.kind = v.kind
        out.handle_value.id = v.id
        out.handle_value.generation = v.generation
    elif isinstance(t, FnOf):
        if not isinstance(v, FnRef):
            raise _mismatch(v, t)
        out.fn_value.name = v.name
        out.fn_value.signature = v.signature
    else:  # pragma: no cover - the Type set is closed
        raise InvalidArgument(f"cannot encode as {t}")


def _opt(t: Type) -> Type | None:
    return None if isinstance(t, Scalar) and t.name == "any" else t


def _infer(v: Any) -> Type | None:
    """The type a value is sent as when none is declared; None for plain scalars."""
    if v is None or isinstance(v, (bool, int, float, str, bytes, bytearray, memoryview)):
        return None
    if isinstance(v, Typed):
        return parse_type(v.type)
    if isinstance(v, (list, tuple)):
        if isinstance(v, tuple) and hasattr(v, "_fields"):
            return _hints.struct_type_of(type(v))
        return ListOf(Scalar("any"))
    if isinstance(v, Struct):
        return StructOf(v.struct_name, tuple((k, Scalar("any")) for k in v))
    if isinstance(v, Mapping):
        return MapOf(Scalar("any"), Scalar("any"))
    if isinstance(v, Handle):  # before dataclasses: Handle and FnRef are dataclasses too
        return HandleOf(v.kind)
    if isinstance(v, FnRef):
        return FnOf((), Scalar("any"))
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        return _hints.struct_type_of(type(v))
    if np is not None:
        if isinstance(v, np.ndarray):
            name = _hints.numpy_dtype_name(v.dtype)
            if name is None:
                raise InvalidArgument(f"ndarray dtype {v.dtype} has no PolyCall dtype")
            return NdArrayOf(name)
        if isinstance(v, np.generic):
            name = _hints.numpy_dtype_name(v.dtype)
            if name is None:
                raise InvalidArgument(f"numpy {v.dtype} has no PolyCall type")
            return Scalar(name)
    raise InvalidArgument(f"cannot encode a {type(v).__name__} as a PolyCall value")


def _mismatch(v: Any, t: Type | str) -> InvalidArgument:
    return InvalidArgument(f"expected {t}, got {type(v).__name__}")


def _encode_scalar(out: pb.Value, v: Any, name: str | None) -> None:
    if isinstance(v, Typed):
        _encode_into(out, v.value, parse_type(v.type), 0, MAX_DEPTH)
        return
    if np is not None and isinstance(v, np.generic):
        v = v.item()
    if name is None:  # inferred
        if v is None:
            out.null_value = pb.NULL_VALUE
        elif isinstance(v, bool):
            out.bool_value = v
        elif isinstance(v, int):
            if _I64_MIN <= v < (1 << 63):
                out.int_value = v
            elif 0 <= v <= _U64_MAX:
                out.uint_value = v
            else:
                raise OutOfRange(f"int {v} does not fit in 64 bits (i64 or u64)")
        elif isinstance(v, float):
            out.float_value = v
        elif isinstance(v, str):
            out.string_value = v
        else:
            out.bytes_value = bytes(v)
        return
    if name == "null":
        if v is not None:
            raise _mismatch(v, name)
        out.null_value = pb.NULL_VALUE
    elif name == "bool":
        if not isinstance(v, bool):
            raise _mismatch(v, name)
        out.bool_value = v
    elif name in INT_RANGES:
        if isinstance(v, bool) or not isinstance(v, int):
            raise _mismatch(v, name)
        if not _I64_MIN <= v <= _U64_MAX:
            raise OutOfRange(f"int {v} does not fit in 64 bits (i64 or u64)")
        lo, hi = INT_RANGES[name]
        if not lo <= v <= hi:
            raise InvalidArgument(f"{v} does not fit {name}")
        if name in _SIGNED:
            out.int_value = v
        else:
            out.uint_value = v
        if name not in ("i64", "u64"):
            out.width = _SCALAR_ENUM[name]  # type: ignore[assignment]
    elif name in ("f32", "f64"):
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise _mismatch(v, name)
        f = float(v)
        if isinstance(v, int) and f != v:
            raise InvalidArgument(f"{v} is not exactly a {name}")
        if name == "f32":
            if math.isfinite(f) and abs(f) > _F32_MAX:
                raise InvalidArgument(f"{f} does not fit f32")
            f = struct.unpack("<f", struct.pack("<f", f))[0]
            out.float_value = f
            out.width = pb.F32
        else:
            out.float_value = f
    elif name == "string":
        if not isinstance(v, str):
            raise _mismatch(v, name)
        out.string_value = v
    elif name == "bytes":
        if not isinstance(v, (bytes, bytearray, memoryview)):
            raise _mismatch(v, name)
        out.bytes_value = bytes(v)
    else:
        raise InvalidArgument(f"cannot encode as {name}")


def _encode_struct(out: pb.StructValue, v: Any, t: StructOf, depth: int, max_depth: int) -> None:
    out.name = t.name
    mapping = isinstance(v, Mapping)  # Struct is a Mapping too
    if not mapping and not (
        dataclasses.is_dataclass(v) or (isinstance(v, tuple) and hasattr(v, "_fields"))
    ):
        raise _mismatch(v, t)

    def get(k: str) -> Any:
        return v[k] if mapping else getattr(v, k)

    def has(k: str) -> bool:
        return k in v if mapping else hasattr(v, k)

    out.SetInParent()
    for fname, ftype in t.fields:
        if not has(fname):
            raise InvalidArgument(f".{fname}: missing field of {t}")
        field = out.fields.add()
        field.name = fname
        try:
            _encode_into(field.value, get(fname), _opt(ftype), depth, max_depth)
        except (InvalidArgument, OutOfRange) as e:
            raise _fail(f".{fname}", e) from None


def _encode_ndarray(out: pb.NdArray, v: Any, t: NdArrayOf) -> None:
    v = _wire_ndarray(v, t)
    out.dtype = _SCALAR_ENUM[t.dtype]  # type: ignore[assignment]
    out.shape.extend(v.shape)
    # tobytes() is one C-order copy of the whole block (none per element).
    out.data = v.tobytes(order="C")


def _wire_ndarray(v: Any, t: NdArrayOf) -> Any:
    """`v` as the array that travels as `t`: its dtype, C order (a copy only when it is not)."""
    if np is None or not isinstance(v, np.ndarray):
        raise _mismatch(v, t)
    want = np.dtype(DTYPES[t.dtype])
    if v.dtype != want:
        if v.dtype.newbyteorder("=") == want.newbyteorder("=") or np.can_cast(
            v.dtype, want, "safe"
        ):
            v = v.astype(want)  # one block conversion: byte order or a widening
        else:
            raise InvalidArgument(f"ndarray of {v.dtype} does not fit {t} without narrowing")
    if t.shape is not None and (
        len(t.shape) != v.ndim
        or any(d >= 0 and d != n for d, n in zip(t.shape, v.shape, strict=True))
    ):
        raise InvalidArgument(f"ndarray of shape {list(v.shape)} does not fit {t}")
    # (ascontiguousarray would make a 0-d array 1-d; a 0-d array is always contiguous.)
    return v if v.flags.c_contiguous else np.ascontiguousarray(v)


# ---- hand-written bytes of small results -------------------------------------------------------
#
# A worker answers most calls with nothing or one small scalar. Building Frame{result{value}}
# with protobuf and serializing it cost more than the rest of a no-op call; the bytes below are
# the same (tests compare them with SerializeToString for many values), written directly.
# Anything else (and any value these do not take) goes through `encode` as before.

# Strings and bytes up to this many characters are written by hand; longer ones by protobuf.
SMALL_SCALAR = 4096

_BYTES1 = [bytes((i,)) for i in range(256)]
_VARINT1 = _BYTES1[:128]
_PACK_D = struct.Struct("<d").pack
_PACK_F = struct.Struct("<f").pack
_UNPACK_F = struct.Struct("<f").unpack
_NULL_BYTES = b"\x08\x00"  # null_value: NULL_VALUE (a oneof member is written even at 0)
_TRUE_BYTES = b"\x10\x01"
_FALSE_BYTES = b"\x10\x00"
_TAG_INT = b"\x18"
_TAG_UINT = b"\x20"
_TAG_FLOAT = b"\x29"
_TAG_STRING = b"\x32"
_TAG_BYTES = b"\x3a"
_TAG_LEN2 = b"\x12"  # field 2, length-delimited: Result.value, BatchResult.results


def varint(n: int) -> bytes:
    """The protobuf varint of 0 <= n < 2**64."""
    if n < 0x80:
        return _VARINT1[n]
    if n < 0x4000:
        return _BYTES1[(n & 0x7F) | 0x80] + _BYTES1[n >> 7]
    if n < 0x200000:
        return bytes(((n & 0x7F) | 0x80, ((n >> 7) & 0x7F) | 0x80, n >> 14))
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _width_bytes(name: str) -> bytes:
    # Value.width (field 14, varint), written after the kind as protobuf orders fields.
    return b"\x70" + varint(_SCALAR_ENUM[name])


def _zigzag(v: int) -> bytes:
    return varint(v << 1 if v >= 0 else ((-v) << 1) - 1)


def _any_bytes(v: Any) -> bytes | None:
    t = type(v)
    if v is None:
        return _NULL_BYTES
    if t is bool:
        return _TRUE_BYTES if v else _FALSE_BYTES
    if t is int:
        if _I64_MIN <= v < (1 << 63):
            return _TAG_INT + _zigzag(v)
        if 0 <= v <= _U64_MAX:
            return _TAG_UINT + varint(v)
        return None
    if t is float:
        return _TAG_FLOAT + _PACK_D(v)
    if t is str:
        return _str_bytes(v)
    if t is bytes:
        return _bytes_bytes(v)
    return None


def _str_bytes(v: Any) -> bytes | None:
    if type(v) is not str or len(v) > SMALL_SCALAR:
        return None
    try:
        b = v.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: protobuf's path reports it
        return None
    return _TAG_STRING + varint(len(b)) + b


def _bytes_bytes(v: Any) -> bytes | None:
    if type(v) is not bytes or len(v) > SMALL_SCALAR:
        return None
    return _TAG_BYTES + varint(len(v)) + v


def _null_bytes(v: Any) -> bytes | None:
    return _NULL_BYTES if v is None else None


def _bool_bytes(v: Any) -> bytes | None:
    if type(v) is not bool:
        return None
    return _TRUE_BYTES if v else _FALSE_BYTES


def _int_encoder(name: str) -> Callable[[Any], bytes | None]:
    lo, hi = INT_RANGES[name]
    tag = _TAG_INT if name in _SIGNED else _TAG_UINT
    width = b"" if name in ("i64", "u64") else _width_bytes(name)
    signed = name in _SIGNED

    def enc(v: Any) -> bytes | None:
        if type(v) is not int or not lo <= v <= hi:
            return None
        return tag + (_zigzag(v) if signed else varint(v)) + width

    return enc


def _f64_bytes(v: Any) -> bytes | None:
    if type(v) is not float:
        return None
    return _TAG_FLOAT + _PACK_D(v)


_F32_WIDTH = b"\x70" + bytes((pb.F32,))


def _f32_bytes(v: Any) -> bytes | None:
    if type(v) is not float or (math.isfinite(v) and abs(v) > _F32_MAX):
        return None
    return _TAG_FLOAT + _PACK_D(_UNPACK_F(_PACK_F(v))[0]) + _F32_WIDTH


def small_value_encoder(t: Type | None) -> Callable[[Any], bytes | None] | None:
    """For results of type `t`: a function giving the bytes of the serialized ``Value`` that
    ``encode(v, t)`` gives, for None and small scalars, and None for any other value (the caller
    then uses `encode`, which also reports the errors). None when `t` has no such values.
    """
    if t is None:
        return _any_bytes
    if isinstance(t, OptionalOf):
        inner = small_value_encoder(_opt(t.inner))
        if inner is None:
            return _null_bytes

        def opt(v: Any) -> bytes | None:
            return _NULL_BYTES if v is None else inner(v)

        return opt
    if not isinstance(t, Scalar):
        return None
    name = t.name
    if name == "any":
        return _any_bytes
    if name == "null":
        return _null_bytes
    if name == "bool":
        return _bool_bytes
    if name in INT_RANGES:
        return _int_encoder(name)
    if name == "f64":
        return _f64_bytes
    if name == "f32":
        return _f32_bytes
    if name == "string":
        return _str_bytes
    if name == "bytes":
        return _bytes_bytes
    return None


# The numbers the C fast path (_speedups.c, K_*) knows small_value_encoder's encoders by.
_KIND_NONE, _KIND_ANY, _KIND_NULL, _KIND_BOOL, _KIND_F64, _KIND_F32 = 0, 1, 2, 3, 4, 5
_KIND_STRING, _KIND_BYTES, _KIND_INT, _KIND_OPTIONAL = 6, 7, 16, 256


def small_value_kind(t: Type | None) -> int:
    """`small_value_encoder(t)` as the number the C fast path (polycall/_speedups.c) writes the
    same bytes by: 0 when `t` has no small values (every result then goes through `encode`)."""
    if t is None:
        return _KIND_ANY
    if isinstance(t, OptionalOf):
        return small_value_kind(_opt(t.inner)) | _KIND_OPTIONAL
    if not isinstance(t, Scalar):
        return _KIND_NONE
    name = t.name
    if name in INT_RANGES:
        return _KIND_INT + _SCALAR_ENUM[name]
    return {
        "any": _KIND_ANY,
        "null": _KIND_NULL,
        "bool": _KIND_BOOL,
        "f64": _KIND_F64,
        "f32": _KIND_F32,
        "string": _KIND_STRING,
        "bytes": _KIND_BYTES,
    }.get(name, _KIND_NONE)


_RESULT_HEAD = struct.Struct(">IBBB").pack  # prefix, Frame.result tag, its length, call_id tag
_VALUE_HEAD = [b"\x12" + _BYTES1[n] for n in range(128)]  # Result.value tag and length


def result_frame_bytes(call_id: int, value: bytes) -> bytes:
    """The length-prefixed bytes of Frame{result{call_id, value}}, `value` a serialized Value."""
    n = len(value)
    if n < 0x80 and call_id:
        cid = varint(call_id)
        rlen = len(cid) + 3 + n
        if rlen < 0x80:  # every length fits in one byte: the common small result
            return _RESULT_HEAD(rlen + 2, 0x2A, rlen, 0x08) + cid + _VALUE_HEAD[n] + value
    r = (b"\x08" + varint(call_id) if call_id else b"") + _TAG_LEN2 + varint(n) + value
    body = b"\x2a" + varint(len(r)) + r  # Frame.result: field 5, length-delimited
    return len(body).to_bytes(4, "big") + body


# ---- big ndarrays: the frame around the block, the block apart ---------------------------------
#
# An 8 MB array used to be copied four times on its way out of a worker (tobytes, into the
# protobuf message, serialized, into a Python bytes) and twice on its way in (parsed, then the
# `data` field read): about 4 ms of an 8 MB round trip. A block of BIG_BLOCK bytes or more now
# travels apart from the few bytes around it: a result's frame is written by hand as [head,
# the array's own memory] (the bytes protobuf writes, which tests check), and a received Call's
# blocks stay in the buffer the frame was read into, which the decoded arrays view.

BIG_BLOCK = JOIN_BELOW
# Fields a frame may have for `split_call` to look at it (beyond, protobuf parses it whole):
# scanning them is Python work, protobuf's is C.
_SPLIT_MAX_FIELDS = 256


def ndarray_result_parts(
    call_id: int, v: Any, t: Type | None, max_frame_bytes: int = MAX_FRAME_BYTES
) -> list[Any] | None:
    """The length-prefixed Frame{result{call_id, value: ndarray}} of `v` as [head, block]: the
    bytes ``frame_parts`` gives for ``encode(v, t)``, the block a view of the array's memory
    (copied only when `v` is not in the wire's dtype or C order). None when `v` is not a numpy
    array `t` takes, or its frame is over `max_frame_bytes`: the caller then takes the generic
    path, which also reports why.

    The block is the array's memory, not a snapshot: send it before anyone changes the array.
    """
    if np is None or not isinstance(v, np.ndarray):
        return None
    if isinstance(t, OptionalOf):
        t = t.inner
    if t is None or (isinstance(t, Scalar) and t.name == "any"):
        name = _hints.numpy_dtype_name(v.dtype)
        if name is None:
            return None
        t = NdArrayOf(name)
    if not isinstance(t, NdArrayOf):
        return None
    try:
        a = _wire_ndarray(v, t)
    except InvalidArgument:
        return None
    n = a.nbytes
    nd = _ndarray_head(t.dtype, a.shape, n)
    value = b"\x5a" + varint(len(nd) + n) + nd  # Value.ndarray_value: field 11
    r = (b"\x08" + varint(call_id) if call_id else b"") + _TAG_LEN2 + varint(len(value) + n) + value
    frame = b"\x2a" + varint(len(r) + n) + r  # Frame.result: field 5
    length = len(frame) + n
    if length > max_frame_bytes:
        return None
    head = length.to_bytes(4, "big") + frame
    # A flat byte view: writers count what they sent in bytes.
    return [head, memoryview(a).cast("B")] if n else [head]


def _ndarray_head(dtype: str, shape: tuple[int, ...], nbytes: int) -> bytes:
    """The fields of an NdArray before its data: dtype, packed shape, data's tag and length."""
    h = b"\x08" + varint(_SCALAR_ENUM[dtype])
    if shape:
        packed = b"".join([varint(d) for d in shape])
        h += b"\x12" + varint(len(packed)) + packed
    if nbytes:  # proto3 leaves an empty bytes field out
        h += b"\x1a" + varint(nbytes)
    return h


class _Unsplittable(Exception):
    """Bytes `split_call` leaves to protobuf (which then parses, or refuses, them whole)."""


def _varint_at(mv: memoryview, i: int, end: int) -> tuple[int, int]:
    n = shift = 0
    while i < end and shift < 64:
        b = mv[i]
        i += 1
        n |= (b & 0x7F) << shift
        if b < 0x80:
            return n, i
        shift += 7
    raise _Unsplittable


def split_call(body: memoryview) -> tuple[pb.Frame, dict[int, memoryview]] | None:
    """A Call frame whose arguments include big ndarrays, parsed without copying their blocks.

    `body` is the frame's bytes (no length prefix), format "B". Returns the Frame with each such
    argument's ``data`` left out, and the blocks by argument index: views of `body` that
    ``_decode_ndarray`` takes instead. None when there is nothing to split or the bytes are not
    the plain form this expects (an argument that is exactly Value{ndarray_value{dtype, shape,
    data}}, the Call the whole frame): `parse_frame` then parses them whole, as before, and
    refuses what is invalid.
    """
    try:
        return _split_call(body)
    except _Unsplittable:
        return None


def _split_call(mv: memoryview) -> tuple[pb.Frame, dict[int, memoryview]] | None:
    end = len(mv)
    if end < 2 or mv[0] != 0x22:  # Frame.call: field 4, length-delimited
        return None
    n, i = _varint_at(mv, 1, end)
    if i + n != end:
        return None
    pieces: list[bytes] = []
    blocks: dict[int, memoryview] = {}
    run = i  # start of the bytes copied as they are
    arg = 0
    fields = 0
    while i < end:
        fields += 1
        if fields > _SPLIT_MAX_FIELDS:
            return None
        tag, j = _varint_at(mv, i, end)
        wire_type = tag & 7
        start = j
        if wire_type == 0:
            _, j = _varint_at(mv, j, end)
        elif wire_type == 2:
            size, start = _varint_at(mv, j, end)
            j = start + size
        elif wire_type == 1:
            j += 8
        elif wire_type == 5:
            j += 4
        else:
            return None
        if j > end:
            return None
        if tag == 0x1A:  # Call.args: field 3, length-delimited
            split = _split_ndarray_value(mv, start, j)
            if split is not None:
                value, offset, size = split
                pieces.append(bytes(mv[run:i]))
                pieces.append(b"\x1a" + varint(len(value)) + value)
                blocks[arg] = mv[offset : offset + size]
                run = j
            arg += 1
        i = j
    if not blocks:
        return None
    pieces.append(bytes(mv[run:end]))
    call = b"".join(pieces)
    return parse_frame(b"\x22" + varint(len(call)) + call), blocks


def _split_ndarray_value(mv: memoryview, s: int, e: int) -> tuple[bytes, int, int] | None:
    """For Value bytes [s, e) that are exactly Value{ndarray_value{...}} with a big block: the
    Value without the block, and where the block is."""
    if e - s < 2 or mv[s] != 0x5A:  # Value.ndarray_value: field 11, length-delimited
        return None
    n, i = _varint_at(mv, s + 1, e)
    if i + n != e:
        return None  # other fields of Value too (a width...): parse it whole
    kept: list[bytes] = []
    block: tuple[int, int] | None = None
    fields = 0
    while i < e:
        fields += 1
        if fields > _SPLIT_MAX_FIELDS:
            return None
        tag, j = _varint_at(mv, i, e)
        if tag in (0x08, 0x10):  # dtype; an unpacked shape element
            _, j = _varint_at(mv, j, e)
            kept.append(bytes(mv[i:j]))
        elif tag == 0x12:  # packed shape
            size, j = _varint_at(mv, j, e)
            j += size
            if j > e:
                return None
            kept.append(bytes(mv[i:j]))
        elif tag == 0x1A and block is None:  # data, once
            size, j = _varint_at(mv, j, e)
            block = (j, size)
            j += size
            if j > e:
                return None
        else:
            return None
        i = j
    if block is None or block[1] < BIG_BLOCK:
        return None
    nd = b"".join(kept)
    return b"\x5a" + varint(len(nd)) + nd, block[0], block[1]


# The entries of the most common small values (null, booleans, small ints...), by value bytes:
# a batch of no-ops then costs a dict lookup per result. Bounded; values of a few bytes only.
BATCH_ENTRIES: dict[bytes, bytes] = {}
_BATCH_ENTRIES_MAX = 4096
_BATCH_ENTRY_CACHED_BELOW = 16


def batch_entry_bytes(value: bytes) -> bytes:
    """One element of BatchResult.results, Result{value} (call id 0), as its field bytes."""
    entry = BATCH_ENTRIES.get(value)
    if entry is not None:
        return entry
    r = _TAG_LEN2 + varint(len(value)) + value
    entry = _TAG_LEN2 + varint(len(r)) + r
    if len(value) < _BATCH_ENTRY_CACHED_BELOW and len(BATCH_ENTRIES) < _BATCH_ENTRIES_MAX:
        BATCH_ENTRIES[value] = entry
    return entry


def batch_entry_of(result: pb.Result) -> bytes | list[bytes]:
    """`batch_entry_bytes` of a Result built by protobuf; a big one as [header, body] (not
    joined, so that megabytes are not copied to put a few bytes in front of them)."""
    r: bytes = result.SerializeToString()
    head = _TAG_LEN2 + varint(len(r))
    return head + r if len(r) < JOIN_BELOW else [head, r]


def batch_result_parts(
    batch_id: int, entries: list[bytes | list[bytes]], max_frame_bytes: int = MAX_FRAME_BYTES
) -> list[bytes]:
    """The length-prefixed Frame{batch_result{batch_id, results}} from its entries, as parts:
    small entries joined, big ones apart. InvalidArgument if it exceeds the frame limit."""
    head = b"\x08" + varint(batch_id) if batch_id else b""
    size = len(head)
    for e in entries:
        size += len(e) if isinstance(e, bytes) else len(e[0]) + len(e[1])
    start = b"\x62" + varint(size)  # Frame.batch_result: field 12, length-delimited
    length = len(start) + size
    if length > max_frame_bytes:
        raise InvalidArgument(
            f"frame of {length} bytes exceeds the limit of {max_frame_bytes} bytes"
        )
    parts: list[bytes] = []
    run: list[bytes] = [length.to_bytes(4, "big"), start, head]
    for e in entries:
        if isinstance(e, bytes):
            run.append(e)
        else:
            run.append(e[0])
            parts.append(b"".join(run))
            parts.append(e[1])
            run = []
    if run:
        parts.append(b"".join(run))
    return parts


# ---- decode ----------------------------------------------------------------------------------


def decode_value_bytes(data: bytes, *, max_depth: int = MAX_DEPTH, exact: bool = False) -> Any:
    """Decodes the bytes of one ``Value`` message (INVALID_ARGUMENT if they are not one)."""
    msg = pb.Value()
    try:
        msg.ParseFromString(data)
    except DecodeError as e:
        raise InvalidArgument(f"malformed Value: {e}") from None
    return decode(msg, max_depth=max_depth, exact=exact)


def decode(
    msg: pb.Value,
    type: Type | str | None = None,
    *,
    max_depth: int = MAX_DEPTH,
    exact: bool = False,
) -> Any:
    """The Python value of a wire Value.

    Ints and floats come back as int and float; with ``exact=True`` a non-default width
    (i8..i32, u8..u64, f32) comes back as `Typed` so that re-encoding gives the same bytes.
    Structs become the dataclass/NamedTuple declared for their name (by `type` or by an
    earlier `@polycall.function`), else `Struct`. ndarrays are read-only numpy arrays over the
    received block. Raises InvalidArgument for a value the wire forbids.
    """
    if isinstance(type, str):
        type = parse_type(type)
    return _decode(msg, type, 0, max_depth, exact)


def _decode(msg: pb.Value, t: Type | None, depth: int, max_depth: int, exact: bool) -> Any:
    kind = msg.WhichOneof("kind")
    width = msg.width
    if not width:
        # The common scalars of the default width first: every check below passes for them.
        if kind == "int_value":
            return msg.int_value
        if kind == "float_value":
            return msg.float_value
        if kind == "string_value":
            return msg.string_value
        if kind == "bool_value":
            return msg.bool_value
    if width and width not in _ENUM_SCALAR:
        raise InvalidArgument(f"unknown width {width}")
    wname = _ENUM_SCALAR.get(width)
    if kind is None:
        raise InvalidArgument("Value with no kind set")
    if kind == "int_value":
        w = wname or "i64"
        if w not in _SIGNED:
            raise InvalidArgument(f"width {w} on an int_value")
        v = msg.int_value
        lo, hi = INT_RANGES[w]
        if not lo <= v <= hi:
            raise InvalidArgument(f"{v} does not fit {w}")
        return Typed(v, w) if exact and w != "i64" else v
    if kind == "uint_value":
        w = wname or "u64"
        if w not in _UNSIGNED:
            raise InvalidArgument(f"width {w} on a uint_value")
        v = msg.uint_value
        if v > INT_RANGES[w][1]:
            raise InvalidArgument(f"{v} does not fit {w}")
        return Typed(v, w) if exact else v
    if kind == "float_value":
        w = wname or "f64"
        if w not in ("f32", "f64"):
            raise InvalidArgument(f"width {w} on a float_value")
        f = msg.float_value
        if w == "f32" and math.isfinite(f) and abs(f) > _F32_MAX:
            raise InvalidArgument(f"{f} does not fit f32")
        return Typed(f, w) if exact and w == "f32" else f
    if wname is not None and not (kind == "bool_value" and wname == "bool"):
        raise InvalidArgument(f"width {wname} on a {kind}")
    if kind == "null_value":
        if msg.null_value != pb.NULL_VALUE:
            raise InvalidArgument(f"unknown null_value {msg.null_value}")
        return None
    if kind == "bool_value":
        return msg.bool_value
    if kind == "string_value":
        return msg.string_value
    if kind == "bytes_value":
        return msg.bytes_value
    if kind in ("list_value", "map_value", "struct_value"):
        depth += 1
        if depth > max_depth:
            raise InvalidArgument(f"value nested deeper than {max_depth}")
    if kind == "list_value":
        et = t.element if isinstance(t, ListOf) else None
        out = []
        for i, item in enumerate(msg.list_value.items):
            try:
                out.append(_decode(item, et, depth, max_depth, exact))
            except InvalidArgument as e:
                raise _fail(f"[{i}]", e) from None
        return out
    if kind == "map_value":
        kt, vt = (t.key, t.value) if isinstance(t, MapOf) else (None, None)
        result: dict[Any, Any] = {}
        for i, entry in enumerate(msg.map_value.entries):
            try:
                if not entry.HasField("key") or not entry.HasField("value"):
                    raise InvalidArgument("map entry without key or value")
                k = _freeze(_decode(entry.key, kt, depth, max_depth, exact))
                if k in result:
                    raise InvalidArgument(f"duplicate map key {k!r}")
                result[k] = _decode(entry.value, vt, depth, max_depth, exact)
            except InvalidArgument as e:
                raise _fail(f"[entry {i}]", e) from None
        return result
    if kind == "struct_value":
        sv = msg.struct_value
        st = t if isinstance(t, StructOf) else None
        ftypes = dict(st.fields) if st is not None else {}
        fields: dict[str, Any] = {}
        for f in sv.fields:
            if f.name in fields:
                raise InvalidArgument(f"duplicate struct field {f.name!r}")
            if not f.HasField("value"):
                raise InvalidArgument(f".{f.name}: struct field without a value")
            try:
                fields[f.name] = _decode(f.value, ftypes.get(f.name), depth, max_depth, exact)
            except InvalidArgument as e:
                raise _fail(f".{f.name}", e) from None
        cls = _hints.struct_class(sv.name) if sv.name else None
        if cls is not None and not exact:
            try:
                return cls(**fields)
            except TypeError:
                pass  # fields do not match the class: keep the generic form
        return Struct(sv.name, fields)
    if kind == "ndarray_value":
        return _decode_ndarray(msg.ndarray_value)
    if kind == "handle_value":
        h = msg.handle_value
        return Handle(h.kind, h.id, h.generation)
    if kind == "fn_value":
        return FnRef(msg.fn_value.name, msg.fn_value.signature)
    raise InvalidArgument(f"unknown Value kind {kind}")  # pragma: no cover


def _freeze(k: Any) -> Any:
    if isinstance(k, list):
        return tuple(_freeze(x) for x in k)
    try:
        hash(k)
    except TypeError:
        raise InvalidArgument(f"map key {type(k).__name__} cannot be a Python dict key") from None
    return k


def _decode_ndarray(a: pb.NdArray, block: memoryview | None = None) -> Any:
    """The array of `a`, viewing `block` instead of ``a.data`` when given (see split_call)."""
    name = _ENUM_SCALAR.get(a.dtype)
    if name is None:
        raise InvalidArgument(f"ndarray with dtype {a.dtype}")
    size = 1
    for d in a.shape:
        size *= d
    dt_str = DTYPES[name]
    itemsize = int(dt_str[2:]) if dt_str[1] != "b" else 1
    data = a.data if block is None else block
    if size * itemsize != len(data):
        raise InvalidArgument(
            f"ndarray<{name}> of shape {list(a.shape)} needs {size * itemsize} bytes,"
            f" has {len(data)}"
        )
    if np is None:
        raise InvalidArgument("received an ndarray but numpy is not installed")
    if name == "bool":
        raw = np.frombuffer(data, dtype=np.uint8)
        if raw.size and int(raw.max()) > 1:
            raise InvalidArgument("ndarray<bool> holds a byte other than 0 or 1")
    # One view over the received block; no per-element work.
    return np.frombuffer(data, dtype=np.dtype(dt_str)).reshape(tuple(a.shape))


# ---- frames ----------------------------------------------------------------------------------


def frame_bytes(frame: pb.Frame, max_frame_bytes: int = MAX_FRAME_BYTES) -> bytes:
    """The length-prefixed bytes of a Frame; InvalidArgument if it exceeds the frame limit."""
    return b"".join(frame_parts(frame, max_frame_bytes))


_WITH_MAPS = ("call", "batch")


def frame_parts(frame: pb.Frame, max_frame_bytes: int = MAX_FRAME_BYTES) -> list[bytes]:
    """`frame_bytes` as [prefix, body], for writers that send both without joining them.

    A small body comes joined (one buffer, one syscall); a big one apart, so that megabytes
    are not copied only to put four bytes in front of them.
    """
    # Deterministic output only orders map entries, and only a Call has a map (metadata):
    # other frames come out the same without it, at half the cost.
    body: bytes = frame.SerializeToString(deterministic=frame.WhichOneof("body") in _WITH_MAPS)
    if len(body) > max_frame_bytes:
        raise InvalidArgument(
            f"frame of {len(body)} bytes exceeds the limit of {max_frame_bytes} bytes"
        )
    prefix = len(body).to_bytes(4, "big")
    return [prefix + body] if len(body) < JOIN_BELOW else [prefix, body]


def parse_frame(body: bytes | bytearray) -> pb.Frame:
    frame = pb.Frame()
    try:
        frame.ParseFromString(body)
    except DecodeError as e:
        raise ProtocolError(f"bytes that do not parse as a Frame: {e}") from None
    if frame.WhichOneof("body") is None:
        raise ProtocolError("a Frame with no body set")
    return frame


def check_length(length: int, max_frame_bytes: int) -> None:
    if length == 0:
        raise ProtocolError("frame length 0")
    if length > max_frame_bytes:
        raise ProtocolError(f"frame length {length} exceeds the limit of {max_frame_bytes}")


class FrameReader:
    """Splits a byte stream into Frames, whatever the pieces it arrives in. Not thread-safe."""

    def __init__(self, max_frame_bytes: int = MAX_FRAME_BYTES) -> None:
        self.max_frame_bytes = max_frame_bytes
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[pb.Frame]:
        """Frames completed by `data`; ProtocolError on an invalid one."""
        self._buf += data
        frames = []
        while len(self._buf) >= 4:
            length = int.from_bytes(self._buf[:4], "big")
            check_length(length, self.max_frame_bytes)
            if len(self._buf) < 4 + length:
                break
            body = bytes(self._buf[4 : 4 + length])
            del self._buf[: 4 + length]
            frames.append(parse_frame(body))
        return frames

    def eof(self) -> None:
        """The stream ended: ProtocolError if it ended inside a frame."""
        if self._buf:
            raise ProtocolError(f"stream ends inside a frame ({len(self._buf)} bytes pending)")

    @property
    def pending_bytes(self) -> int:
        return len(self._buf)
