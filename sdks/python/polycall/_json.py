"""Python values <-> the JSON of the HTTP gateway (docs/http.md), guided by declared types.

To JSON (arguments): None, bool, str, int and float as themselves (NaN and infinities as the
strings "NaN", "Infinity", "-Infinity"); bytes as ``{"base64": ...}``; list/tuple as arrays;
dict, dataclass, NamedTuple and `Struct` as objects; a numpy array as one block
``{"dtype": "f64", "shape": [2, 3], "data": base64}`` (little-endian, C order, no per-element
work); `Handle` as ``{"handle", "id", "generation"}``; `FnRef` as its name. The gateway reads
them against the function's declared parameter types, as the node does on every transport.

From JSON (results), with the declared result type when the client knows it: bytes from
base64, floats from their text forms, ndarray blocks (or nested lists) as numpy arrays, structs
as their declared Python class or `Struct`, maps with non-string keys from their JSON text.
Without a type, ndarray blocks, handles and ``{"fn": name}`` are still recognised.
Pure and thread-safe.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import math
from collections.abc import Mapping
from typing import Any

from . import _hints
from .errors import InvalidArgument
from .types import (
    DTYPES,
    FnOf,
    HandleOf,
    ListOf,
    MapOf,
    NdArrayOf,
    OptionalOf,
    Scalar,
    StructOf,
    Type,
)
from .values import FnRef, Handle, Struct, Typed

try:
    import numpy as np
except ImportError:  # pragma: no cover
    np = None  # type: ignore[assignment]

__all__ = ["to_json", "from_json"]

# (numpy kind, item size) -> canonical dtype, whatever the array's byte order.
_NUMPY_DTYPES = {(v[1], int(v[2:])): k for k, v in DTYPES.items()}
_FLOAT_TEXT = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def to_json(v: Any, depth: int = 0) -> Any:
    """A JSON-ready tree of `v`; InvalidArgument for a value JSON cannot carry."""
    if depth > 64:
        raise InvalidArgument("value nested too deeply for JSON")
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, int):
        return int(v)  # an IntEnum or a bool-free int subclass as a plain number
    if isinstance(v, float):
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "Infinity" if v > 0 else "-Infinity"
        return v
    if isinstance(v, (bytes, bytearray, memoryview)):
        return {"base64": base64.b64encode(bytes(v)).decode("ascii")}
    if isinstance(v, Typed):
        return to_json(v.value, depth)
    if isinstance(v, Handle):
        return {"handle": v.kind, "id": v.id, "generation": v.generation}
    if isinstance(v, FnRef):
        return v.name
    if np is not None and isinstance(v, np.ndarray):
        return _ndarray_block(v)
    if np is not None and isinstance(v, np.generic):
        return to_json(v.item(), depth)
    if isinstance(v, Struct):
        return {k: to_json(x, depth + 1) for k, x in v.items()}
    if isinstance(v, tuple) and hasattr(v, "_fields"):  # NamedTuple
        return {k: to_json(x, depth + 1) for k, x in zip(v._fields, v, strict=True)}
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        return {f.name: to_json(getattr(v, f.name), depth + 1) for f in dataclasses.fields(v)}
    if isinstance(v, (list, tuple)):
        return [to_json(x, depth + 1) for x in v]
    if isinstance(v, Mapping):
        out: dict[str, Any] = {}
        for k, x in v.items():
            out[k if isinstance(k, str) else json.dumps(to_json(k, depth + 1))] = to_json(
                x, depth + 1
            )
        return out
    raise InvalidArgument(f"a {type(v).__name__} has no PolyCall type")


def _ndarray_block(a: Any) -> dict[str, Any]:
    name = _NUMPY_DTYPES.get((a.dtype.kind, a.dtype.itemsize))
    if name is None:
        raise InvalidArgument(f"numpy dtype {a.dtype} has no PolyCall ndarray dtype")
    data = np.ascontiguousarray(a, dtype=np.dtype(DTYPES[name]))
    return {
        "dtype": name,
        "shape": list(a.shape),
        "data": base64.b64encode(data.tobytes()).decode("ascii"),
    }


def from_json(node: Any, t: Type | None = None) -> Any:
    """The Python value of a JSON tree, read as the declared type `t` when given."""
    if isinstance(t, OptionalOf):
        return None if node is None else from_json(node, t.inner)
    if isinstance(t, Scalar) and t.name != "any":
        return _scalar(node, t.name)
    if isinstance(t, NdArrayOf):
        return _ndarray(node, t.dtype)
    if isinstance(t, ListOf) and isinstance(node, list):
        return [from_json(x, t.element) for x in node]
    if isinstance(t, MapOf) and isinstance(node, dict):
        string_keys = isinstance(t.key, Scalar) and t.key.name == "string"
        return {
            (k if string_keys else _key(from_json(json.loads(k), t.key))): from_json(x, t.value)
            for k, x in node.items()
        }
    if isinstance(t, StructOf) and isinstance(node, dict):
        ftypes = dict(t.fields)
        fields = {k: from_json(x, ftypes.get(k)) for k, x in node.items()}
        return _struct(t.name, fields)
    if isinstance(t, HandleOf) and isinstance(node, dict):
        return _handle(node)
    if isinstance(t, FnOf) and isinstance(node, (dict, str)):
        return FnRef(node if isinstance(node, str) else str(node.get("fn", "")), str(t))
    return _untyped(node)


def _untyped(node: Any) -> Any:
    if isinstance(node, list):
        return [_untyped(x) for x in node]
    if isinstance(node, dict):
        keys = set(node)
        if keys == {"dtype", "shape", "data"} and node["dtype"] in DTYPES:
            return _ndarray(node, str(node["dtype"]))
        if keys == {"handle", "id", "generation"}:
            return _handle(node)
        if keys == {"fn"} and isinstance(node["fn"], str):
            return FnRef(node["fn"])
        return {k: _untyped(x) for k, x in node.items()}
    return node


def _scalar(node: Any, name: str) -> Any:
    if name in ("f32", "f64"):
        if isinstance(node, str) and node in _FLOAT_TEXT:
            return _FLOAT_TEXT[node]
        return (
            float(node) if isinstance(node, (int, float)) and not isinstance(node, bool) else node
        )
    if name.startswith(("i", "u")) and isinstance(node, str):
        try:
            return int(node)  # a 64-bit integer written as text
        except ValueError:
            return node
    if name == "bytes":
        if isinstance(node, dict) and "base64" in node:
            node = node["base64"]
        if isinstance(node, str):
            try:
                return base64.b64decode(node, validate=True)
            except ValueError:
                raise InvalidArgument(f"a bytes result that is not base64: {node[:40]!r}") from None
    return node


def _ndarray(node: Any, dtype: str) -> Any:
    if np is None:
        raise InvalidArgument("received an ndarray but numpy is not installed")
    if isinstance(node, dict) and {"dtype", "shape", "data"} <= set(node):
        name = str(node["dtype"])
        if name not in DTYPES:
            raise InvalidArgument(f"ndarray block with dtype {name!r}")
        shape = tuple(int(d) for d in node["shape"])
        raw = base64.b64decode(str(node["data"]))
        dt = np.dtype(DTYPES[name])
        if len(raw) != math.prod(shape) * dt.itemsize:
            raise InvalidArgument(
                f"ndarray<{name}> of shape {list(shape)} needs {math.prod(shape) * dt.itemsize}"
                f" bytes, has {len(raw)}"
            )
        # One view over the decoded block, read-only like the socket's.
        return np.frombuffer(raw, dtype=dt).reshape(shape)
    return np.asarray(node, dtype=np.dtype(DTYPES.get(dtype, "<f8")))


def _struct(name: str, fields: dict[str, Any]) -> Any:
    cls = _hints.struct_class(name) if name else None
    if cls is not None:
        try:
            return cls(**fields)
        except TypeError:
            pass  # fields do not match the class: keep the generic form, as the codec does
    return Struct(name, fields)


def _handle(node: Mapping[str, Any]) -> Handle:
    return Handle(
        str(node.get("handle", "")), int(node.get("id", 0)), int(node.get("generation", 0))
    )


def _key(k: Any) -> Any:
    return tuple(_key(x) for x in k) if isinstance(k, list) else k
