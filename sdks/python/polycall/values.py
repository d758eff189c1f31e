"""Python-side value classes that have no built-in Python equivalent.

`Handle` and `FnRef` mirror the wire messages; `Struct` is what a struct decodes to when no
Python class was declared for it; `Typed` pins an explicit width on a number
(``typed(5, "u8")``). All are immutable and thread-safe.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Handle", "FnRef", "Struct", "Typed", "typed"]


@dataclass(frozen=True)
class Handle:
    """An opaque reference to a resource held by one bridge (``handle<kind>``)."""

    kind: str
    id: int
    generation: int = 0


@dataclass(frozen=True)
class FnRef:
    """A reference to a registered function; calling it makes a Call through the hub.

    Inside a worker function the call goes back through the worker's own connection; elsewhere
    it needs a `polycall.Client` bound with ``client.bind(ref)`` or ``client.call(ref, ...)``.
    """

    name: str
    signature: str = ""

    def __call__(self, *args: Any, timeout: float | None = None) -> Any:
        from ._context import call

        return call(self.name, *args, timeout=timeout)

    async def acall(self, *args: Any, timeout: float | None = None) -> Any:
        from ._context import acall

        return await acall(self.name, *args, timeout=timeout)


class Struct(Mapping[str, Any]):
    """A struct value without a declared Python class: a name and ordered, named fields.

    Fields read as attributes (``p.x``) or items (``p["x"]``); equality compares the name and
    the fields in order.
    """

    __slots__ = ("_fields", "_name")

    def __init__(self, name: str = "", fields: Mapping[str, Any] | None = None, **kw: Any):
        object.__setattr__(self, "_name", name)
        object.__setattr__(self, "_fields", dict(fields or {}, **kw))

    @property
    def struct_name(self) -> str:
        return self._name  # type: ignore[no-any-return]

    def __getattr__(self, item: str) -> Any:
        try:
            return self._fields[item]
        except KeyError:
            raise AttributeError(item) from None

    def __setattr__(self, key: str, value: Any) -> None:
        raise AttributeError("Struct is immutable")

    def __getitem__(self, key: str) -> Any:
        return self._fields[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._fields)

    def __len__(self) -> int:
        return len(self._fields)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Struct):
            return NotImplemented
        return self._name == other._name and list(self._fields.items()) == list(
            other._fields.items()
        )

    def __hash__(self) -> int:
        return hash((self._name, tuple(self._fields)))

    def __repr__(self) -> str:
        body = ", ".join(f"{k}={v!r}" for k, v in self._fields.items())
        return f"Struct({self._name!r}, {body})" if body else f"Struct({self._name!r})"


@dataclass(frozen=True)
class Typed:
    """A number (or any value) with an explicit canonical type, e.g. ``Typed(5, "u8")``."""

    value: Any
    type: str

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Typed):
            return NotImplemented
        if self.type != other.type:
            return False
        a, b = self.value, other.value
        if isinstance(a, float) and isinstance(b, float) and a != a and b != b:
            return True  # NaN == NaN for round-trip comparisons
        return bool(a == b)

    def __hash__(self) -> int:
        return hash((self.type, self.value))


def typed(value: Any, type: str) -> Typed:
    """``typed(300, "u16")``: send `value` as the canonical type `type`."""
    return Typed(value, type)
