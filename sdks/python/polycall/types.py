"""PolyCall's canonical types: a reader and printer of type and signature text.

The spelling is the hub's (``map<string, f64>``, ``struct Point{x: f64, y: f64}``,
``ndarray<f64>[2,?]``, ``fn(i64) -> i64``, ``T?`` for ``optional<T>``), so a signature printed
here reads back identically on the Java side. Types are immutable and hashable.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .errors import InvalidArgument

__all__ = [
    "Type",
    "Scalar",
    "ListOf",
    "MapOf",
    "OptionalOf",
    "StructOf",
    "NdArrayOf",
    "HandleOf",
    "FnOf",
    "Param",
    "Signature",
    "parse_type",
    "parse_signature",
    "SCALARS",
    "DTYPES",
    "INT_RANGES",
]


class Type:
    """Base of every type; `str(t)` is the canonical spelling."""

    __slots__ = ()


@dataclass(frozen=True)
class Scalar(Type):
    name: str

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class ListOf(Type):
    element: Type

    def __str__(self) -> str:
        return f"list<{self.element}>"


@dataclass(frozen=True)
class MapOf(Type):
    key: Type
    value: Type

    def __str__(self) -> str:
        return f"map<{self.key}, {self.value}>"


@dataclass(frozen=True)
class OptionalOf(Type):
    inner: Type

    def __str__(self) -> str:
        return f"optional<{self.inner}>"


@dataclass(frozen=True)
class StructOf(Type):
    name: str
    fields: tuple[tuple[str, Type], ...]

    def __str__(self) -> str:
        body = ", ".join(f"{n}: {t}" for n, t in self.fields)
        return "struct" + (f" {self.name}" if self.name else "") + "{" + body + "}"


@dataclass(frozen=True)
class NdArrayOf(Type):
    dtype: str
    shape: tuple[int, ...] | None = None  # -1 for a dimension of any size; None for any rank

    def __str__(self) -> str:
        if self.shape is None:
            return f"ndarray<{self.dtype}>"
        dims = ",".join("?" if d < 0 else str(d) for d in self.shape)
        return f"ndarray<{self.dtype}>[{dims}]"


@dataclass(frozen=True)
class HandleOf(Type):
    kind: str

    def __str__(self) -> str:
        return f"handle<{self.kind}>"


@dataclass(frozen=True)
class FnOf(Type):
    params: tuple[Type, ...]
    result: Type

    def __str__(self) -> str:
        return "fn(" + ", ".join(map(str, self.params)) + f") -> {self.result}"


@dataclass(frozen=True)
class Param:
    name: str
    type: Type

    def __str__(self) -> str:
        return f"{self.name}: {self.type}"


@dataclass(frozen=True)
class Signature:
    """``ns.name(a: T, b: U) -> R``; a missing result is ``null``."""

    name: str
    params: tuple[Param, ...]
    result: Type

    @property
    def namespace(self) -> str:
        return self.name.rpartition(".")[0]

    def shape(self) -> str:
        return "(" + ", ".join(map(str, self.params)) + f") -> {self.result}"

    def with_name(self, name: str) -> Signature:
        return Signature(name, self.params, self.result)

    def __str__(self) -> str:
        return self.name + self.shape()


SCALARS = frozenset(
    [
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
        "any",
    ]
)
# Canonical dtype -> numpy dtype string (little-endian; bool is one byte, 0 or 1).
DTYPES: dict[str, str] = {
    "bool": "|b1",
    "i8": "|i1",
    "i16": "<i2",
    "i32": "<i4",
    "i64": "<i8",
    "u8": "|u1",
    "u16": "<u2",
    "u32": "<u4",
    "u64": "<u8",
    "f32": "<f4",
    "f64": "<f8",
}
INT_RANGES: dict[str, tuple[int, int]] = {
    "i8": (-(1 << 7), (1 << 7) - 1),
    "i16": (-(1 << 15), (1 << 15) - 1),
    "i32": (-(1 << 31), (1 << 31) - 1),
    "i64": (-(1 << 63), (1 << 63) - 1),
    "u8": (0, (1 << 8) - 1),
    "u16": (0, (1 << 16) - 1),
    "u32": (0, (1 << 32) - 1),
    "u64": (0, (1 << 64) - 1),
}
ANY = Scalar("any")
NULL = Scalar("null")


def parse_type(text: str) -> Type:
    """Reads a type such as ``list<map<string, f64>>``; InvalidArgument on a syntax error."""
    p = _Parser(text, "type")
    t = p.type()
    p.end()
    return t


def parse_signature(text: str) -> Signature:
    """Reads ``ns.name(a: T) -> R``; the name may be absent (``(a: T) -> R``), giving ``""``."""
    p = _Parser(text, "signature")
    name = "" if p.peek("(") else p.qname()
    params = p.params()
    result: Type = NULL
    if p.accept("->"):
        result = p.type()
    p.end()
    return Signature(name, params, result)


class _Parser:
    def __init__(self, text: str, what: str) -> None:
        if not text or not text.strip():
            raise InvalidArgument(f"malformed {what}: it is empty")
        self.text = text
        self.pos = 0
        self.what = what

    def error(self, expected: str) -> InvalidArgument:
        return InvalidArgument(
            f"malformed {self.what} at column {self.pos + 1}: expected {expected}\n"
            f"  {self.text}\n  {' ' * self.pos}^"
        )

    def skip(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def peek(self, s: str) -> bool:
        self.skip()
        return self.text.startswith(s, self.pos)

    def accept(self, s: str) -> bool:
        if self.peek(s):
            self.pos += len(s)
            return True
        return False

    def expect(self, s: str) -> None:
        if not self.accept(s):
            raise self.error(f"'{s}'")

    def end(self) -> None:
        self.skip()
        if self.pos != len(self.text):
            raise self.error("the end")

    def ident(self, what: str = "a name") -> str:
        self.skip()
        start = self.pos
        while self.pos < len(self.text) and (
            self.text[self.pos].isalnum() or self.text[self.pos] in "_$"
        ):
            self.pos += 1
        if start == self.pos or self.text[start].isdigit():
            self.pos = start
            raise self.error(what)
        return self.text[start : self.pos]

    def qname(self) -> str:
        parts = [self.ident("a function name")]
        while self.accept("."):
            parts.append(self.ident("a name after '.'"))
        return ".".join(parts)

    def params(self) -> tuple[Param, ...]:
        self.expect("(")
        params: list[Param] = []
        if not self.accept(")"):
            while True:
                name = self.ident("a parameter name")
                if any(p.name == name for p in params):
                    raise self.error(f"a parameter name other than '{name}' (duplicate)")
                self.expect(":")
                params.append(Param(name, self.type()))
                if self.accept(")"):
                    break
                self.expect(",")
        return tuple(params)

    def type(self) -> Type:
        t = self.base()
        if self.accept("?"):
            t = OptionalOf(t)
        return t

    def base(self) -> Type:
        word = self.ident("a type")
        if word in SCALARS:
            return Scalar(word)
        if word == "list":
            self.expect("<")
            t = self.type()
            self.expect(">")
            return ListOf(t)
        if word == "map":
            self.expect("<")
            k = self.type()
            self.expect(",")
            v = self.type()
            self.expect(">")
            return MapOf(k, v)
        if word == "optional":
            self.expect("<")
            t = self.type()
            self.expect(">")
            return OptionalOf(t)
        if word == "struct":
            name = "" if self.peek("{") else self.ident("a struct name or '{'")
            self.expect("{")
            fields: list[tuple[str, Type]] = []
            if not self.accept("}"):
                while True:
                    fname = self.ident("a field name")
                    self.expect(":")
                    fields.append((fname, self.type()))
                    if self.accept("}"):
                        break
                    self.expect(",")
            return StructOf(name, tuple(fields))
        if word == "ndarray":
            self.expect("<")
            at = self.pos
            dtype = self.ident("a dtype")
            if dtype not in DTYPES:
                self.pos = at
                raise self.error("a numeric or bool dtype")
            self.expect(">")
            shape: tuple[int, ...] | None = None
            if self.accept("["):
                dims: list[int] = []
                while True:
                    self.skip()
                    if self.accept("?"):
                        dims.append(-1)
                    else:
                        start = self.pos
                        while self.pos < len(self.text) and self.text[self.pos].isdigit():
                            self.pos += 1
                        if start == self.pos:
                            raise self.error("a dimension (number or '?')")
                        dims.append(int(self.text[start : self.pos]))
                    if self.accept("]"):
                        break
                    self.expect(",")
                shape = tuple(dims)
            return NdArrayOf(dtype, shape)
        if word == "handle":
            self.expect("<")
            kind = self.ident("a handle kind")
            self.expect(">")
            return HandleOf(kind)
        if word == "fn":
            self.expect("(")
            ps: list[Type] = []
            if not self.accept(")"):
                while True:
                    # an optional parameter name: 'x: f64'
                    save = self.pos
                    try:
                        self.ident()
                        if not self.accept(":"):
                            self.pos = save
                    except InvalidArgument:
                        self.pos = save
                    ps.append(self.type())
                    if self.accept(")"):
                        break
                    self.expect(",")
            self.expect("->")
            return FnOf(tuple(ps), self.type())
        self.pos -= len(word)
        raise self.error("a type")


def signature_of(name: str, params: Sequence[tuple[str, Type]], result: Type) -> Signature:
    return Signature(name, tuple(Param(n, t) for n, t in params), result)
