"""Python type hints -> canonical types (``list[int]`` -> ``list<i64>``)."""

from __future__ import annotations

import collections.abc
import dataclasses
import types
import typing
from typing import Any

from .errors import InvalidArgument
from .types import (
    ANY,
    NULL,
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
from .values import FnRef, Handle

try:  # numpy is optional
    import numpy as np
except ImportError:  # pragma: no cover - exercised only without numpy
    np = None  # type: ignore[assignment]

# Struct name -> the Python class a decoded struct of that name becomes.
_struct_classes: dict[str, type] = {}
_struct_types: dict[type, StructOf] = {}

_SIMPLE: dict[Any, Type] = {
    int: Scalar("i64"),
    float: Scalar("f64"),
    str: Scalar("string"),
    bytes: Scalar("bytes"),
    bytearray: Scalar("bytes"),
    memoryview: Scalar("bytes"),
    bool: Scalar("bool"),
    type(None): NULL,
    None: NULL,
    typing.Any: ANY,
    object: ANY,
    list: ListOf(ANY),
    tuple: ListOf(ANY),
    dict: MapOf(ANY, ANY),
    Handle: HandleOf("any"),
    FnRef: FnOf((), ANY),
}


def numpy_dtype_name(dtype: Any) -> str | None:
    """The canonical dtype of a numpy dtype (``float64`` -> ``f64``), None if it has none."""
    if np is None:
        return None
    d = np.dtype(dtype)
    if d.kind == "b":
        return "bool"
    if d.kind in "iuf" and d.itemsize in (1, 2, 4, 8) and not (d.kind == "f" and d.itemsize < 4):
        return {"i": "i", "u": "u", "f": "f"}[d.kind] + str(d.itemsize * 8)
    return None


def type_of_hint(hint: Any, where: str = "") -> Type:
    """The canonical type of a resolved type hint; InvalidArgument naming `where` if none."""
    if isinstance(hint, Type):
        return hint
    if isinstance(hint, str):
        return parse_type(hint)
    simple = _SIMPLE.get(hint) if _hashable(hint) else None
    if simple is not None:
        return simple
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is typing.Annotated:
        for meta in args[1:]:
            if isinstance(meta, Type):
                return meta
            if isinstance(meta, str):
                return parse_type(meta)
        return type_of_hint(args[0], where)
    if origin in (typing.Union, types.UnionType):
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1 and len(rest) < len(args):
            return OptionalOf(type_of_hint(rest[0], where))
        return ANY
    if origin in (list, collections.abc.Sequence, collections.abc.MutableSequence, set, frozenset):
        return ListOf(type_of_hint(args[0], where) if args else ANY)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return ListOf(type_of_hint(args[0], where))
        return ListOf(ANY)
    if origin in (dict, collections.abc.Mapping, collections.abc.MutableMapping):
        if args:
            return MapOf(type_of_hint(args[0], where), type_of_hint(args[1], where))
        return MapOf(ANY, ANY)
    if origin is collections.abc.Callable:
        if args and isinstance(args[0], list):
            return FnOf(tuple(type_of_hint(a, where) for a in args[0]), type_of_hint(args[1]))
        return FnOf((), ANY)
    if np is not None:
        if hint is np.ndarray:
            return NdArrayOf("f64")
        if origin is np.ndarray:
            # numpy.typing.NDArray[np.int32] is ndarray[Any, dtype[int32]]
            dt = typing.get_args(args[1])[0] if len(args) == 2 else None
            name = numpy_dtype_name(dt) if dt is not None and dt is not Any else None
            return NdArrayOf(name or "f64")
        if isinstance(hint, type) and issubclass(hint, np.generic):
            name = numpy_dtype_name(hint)
            if name is not None:
                return Scalar(name)
    if isinstance(hint, type):
        if dataclasses.is_dataclass(hint) or _is_namedtuple(hint):
            return struct_type_of(hint)
        if issubclass(hint, collections.abc.Mapping):
            return MapOf(ANY, ANY)
        if issubclass(hint, (list, tuple)):
            return ListOf(ANY)
    raise InvalidArgument(f"{where or 'type hint'}: no PolyCall type for {hint!r}")


def struct_type_of(cls: type) -> StructOf:
    """``struct Name{...}`` of a dataclass or NamedTuple, registered for decoding."""
    st = _struct_types.get(cls)
    if st is not None:
        return st
    hints = typing.get_type_hints(cls, include_extras=True)
    if dataclasses.is_dataclass(cls):
        names = [f.name for f in dataclasses.fields(cls)]
    else:
        names = list(cls._fields)  # type: ignore[attr-defined]
    st = StructOf(
        cls.__name__,
        tuple((n, type_of_hint(hints.get(n, Any), f"{cls.__name__}.{n}")) for n in names),
    )
    _struct_types[cls] = st
    _struct_classes.setdefault(cls.__name__, cls)
    return st


def struct_class(name: str) -> type | None:
    return _struct_classes.get(name)


def _is_namedtuple(cls: type) -> bool:
    return issubclass(cls, tuple) and hasattr(cls, "_fields")


def _hashable(x: Any) -> bool:
    try:
        hash(x)
        return True
    except TypeError:
        return False
