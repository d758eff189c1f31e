"""``@polycall.function``: declares a Python function as a PolyCall function.

The decorated function stays an ordinary Python function (callable and testable as before);
the decorator records a `Function` on it (``fn.__polycall__``) and in the process-wide
registry that a worker announces. The registry is thread-safe.
"""

from __future__ import annotations

import inspect
import sys
import threading
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar, overload

from ._hints import type_of_hint
from ._proto import polycall_pb2 as pb
from .codec import small_value_encoder, small_value_kind
from .errors import InvalidArgument
from .types import ANY, Param, Scalar, Signature, parse_signature

__all__ = ["Function", "function", "registered", "clear_registry"]

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Function:
    """A Python function with its PolyCall signature, tags and doc. Immutable."""

    fn: Callable[..., Any]
    signature: Signature
    tags: tuple[str, ...] = ()
    doc: str = ""
    version: int = 0
    is_async: bool = field(default=False)
    # The hand-written encoder of the result's small values (codec.small_value_encoder), made
    # once here rather than per call.
    result_bytes: Callable[[Any], bytes | None] | None = field(
        default=None, init=False, repr=False, compare=False
    )
    # What the C fast path of a worker (polycall/_speedups.c, FastPath) calls: the function,
    # the number of its result's small encoder (codec.small_value_kind) and its parameter
    # count; None for an async function (the loop runs those).
    fast: tuple[Callable[..., Any], int, int] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        rtype = self.signature.result
        plain = None if isinstance(rtype, Scalar) and rtype.name == "any" else rtype
        object.__setattr__(self, "result_bytes", small_value_encoder(plain))
        if not self.is_async:
            fast = (self.fn, small_value_kind(plain), len(self.signature.params))
            object.__setattr__(self, "fast", fast)

    @property
    def name(self) -> str:
        return self.signature.name

    def decl(self) -> pb.FunctionDecl:
        return pb.FunctionDecl(
            signature=str(self.signature), version=self.version, tags=self.tags, doc=self.doc
        )


_lock = threading.Lock()
_registry: dict[str, Function] = {}


def registered() -> list[Function]:
    """Every function declared so far in this process, in declaration order."""
    with _lock:
        return list(_registry.values())


def lookup(name: str) -> Function | None:
    """The function announced as `name` (``"name"`` or ``"name@version"``)."""
    if "@" not in name:
        # A dict read is atomic: no lock on the per-call path.
        return _registry.get(name)
    base, _, ver = name.partition("@")
    with _lock:
        f = _registry.get(base)
    if f is None or (ver and ver != str(f.version or 1)):
        return None
    return f


def clear_registry() -> None:
    """Forgets every declared function (for tests)."""
    with _lock:
        _registry.clear()


@overload
def function(fn: F, /) -> F: ...


@overload
def function(
    *,
    name: str | None = None,
    namespace: str | None = None,
    signature: str | None = None,
    tags: typing.Iterable[str] = (),
    doc: str | None = None,
    version: int = 0,
) -> Callable[[F], F]: ...


def function(
    fn: F | None = None,
    /,
    *,
    name: str | None = None,
    namespace: str | None = None,
    signature: str | None = None,
    tags: typing.Iterable[str] = (),
    doc: str | None = None,
    version: int = 0,
) -> F | Callable[[F], F]:
    """Declares a PolyCall function; usable bare (``@function``) or with options.

    The signature comes from the type hints (``int`` -> ``i64``, ``float`` -> ``f64``,
    ``np.ndarray`` -> ``ndarray<f64>``, ``Annotated[int, "i32"]`` for other widths) unless
    `signature` gives it as text, with or without the name
    (``"(xs: ndarray<f64>) -> f64"``). The name is `name`, else ``<namespace>.<fn name>``
    where the namespace is `namespace`, else the module's ``__polycall_namespace__``, else
    the last part of the module's name. The doc defaults to the docstring.
    """

    def decorate(f: F) -> F:
        func = _make(f, name, namespace, signature, tuple(tags), doc, version)
        with _lock:
            _registry[func.name] = func
        f.__polycall__ = func  # type: ignore[attr-defined]
        return f

    if fn is not None:
        return decorate(fn)
    return decorate


def _make(
    f: Callable[..., Any],
    name: str | None,
    namespace: str | None,
    signature: str | None,
    tags: tuple[str, ...],
    doc: str | None,
    version: int,
) -> Function:
    where = getattr(f, "__qualname__", repr(f))
    if signature is not None:
        sig = parse_signature(signature.strip())
        if name is None and sig.name:
            name = sig.name
    else:
        sig = _signature_from_hints(f, where)
    if name is None:
        ns = namespace
        if ns is None:
            module = sys.modules.get(getattr(f, "__module__", "") or "")
            ns = getattr(module, "__polycall_namespace__", None)
            if ns is None:
                mod_name = getattr(f, "__module__", "") or ""
                ns = mod_name.rpartition(".")[2]
        name = f"{ns}.{f.__name__}" if ns else f.__name__
    parse_signature(name + "()")  # fails fast on a name the hub would refuse
    sig = sig.with_name(name)
    text = doc if doc is not None else inspect.getdoc(f) or ""
    return Function(
        fn=f,
        signature=sig,
        tags=tags,
        doc=text,
        version=version,
        is_async=inspect.iscoroutinefunction(f),
    )


def _signature_from_hints(f: Callable[..., Any], where: str) -> Signature:
    try:
        hints = typing.get_type_hints(f, include_extras=True)
    except Exception as e:
        raise InvalidArgument(f"{where}: cannot resolve type hints: {e}") from None
    params = []
    for p in inspect.signature(f).parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD, p.KEYWORD_ONLY):
            raise InvalidArgument(
                f"{where}: parameter {p.name} is {p.kind.description}; PolyCall functions take"
                " positional parameters only"
            )
        hint = hints.get(p.name)
        t = ANY if hint is None else type_of_hint(hint, f"{where}({p.name})")
        params.append(Param(p.name, t))
    result = hints.get("return", Any) if "return" in hints else Any
    return Signature("", tuple(params), type_of_hint(result, f"{where} -> result"))
