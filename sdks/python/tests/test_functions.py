"""Signatures that @polycall.function derives from type hints."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Optional

import numpy as np
import numpy.typing as npt
import pytest

import polycall
from polycall import InvalidArgument
from polycall.types import parse_signature, parse_type


@dataclass
class Point:
    x: float
    y: Annotated[int, "i32"]


def sig(fn: Callable[..., object]) -> str:
    return str(fn.__polycall__.signature)  # type: ignore[attr-defined]


def test_scalars_map_to_canonical_types_and_the_namespace_is_the_module() -> None:
    @polycall.function
    def f(a: int, b: float, c: str, d: bytes, e: bool) -> None: ...

    assert sig(f) == "test_functions.f(a: i64, b: f64, c: string, d: bytes, e: bool) -> null"


def test_an_ndarray_hint_is_f64_unless_its_dtype_says_otherwise() -> None:
    @polycall.function(namespace="stats")
    def mean(xs: np.ndarray) -> float: ...

    @polycall.function(namespace="stats")
    def ints(xs: npt.NDArray[np.int32]) -> npt.NDArray[np.float32]: ...

    assert sig(mean) == "stats.mean(xs: ndarray<f64>) -> f64"
    assert sig(ints) == "stats.ints(xs: ndarray<i32>) -> ndarray<f32>"


def test_containers_optionals_structs_and_annotated_widths() -> None:
    @polycall.function(namespace="g")
    def f(
        xs: list[int],
        m: dict[str, list[float]],
        o: Optional[str],  # noqa: UP045 - both spellings are supported
        u: bytes | None,
        p: Point,
        w: Annotated[int, "u16"],
        cb: Callable[[float], float],
    ) -> tuple[int, ...]: ...

    assert sig(f) == (
        "g.f(xs: list<i64>, m: map<string, list<f64>>, o: optional<string>,"
        " u: optional<bytes>, p: struct Point{x: f64, y: i32}, w: u16,"
        " cb: fn(f64) -> f64) -> list<i64>"
    )


def test_an_explicit_signature_overrides_the_hints_and_may_carry_the_name() -> None:
    @polycall.function(signature="stats.mean(xs: ndarray<f32>) -> f32", tags=["pure"])
    def mean(xs):  # type: ignore[no-untyped-def]
        """Arithmetic mean."""

    decl = mean.__polycall__.decl()
    assert decl.signature == "stats.mean(xs: ndarray<f32>) -> f32"
    assert list(decl.tags) == ["pure"]
    assert decl.doc == "Arithmetic mean."

    @polycall.function(name="x.y", signature="(a: i8) -> i8")
    def g(a):  # type: ignore[no-untyped-def]
        return a

    assert sig(g) == "x.y(a: i8) -> i8"
    assert g(3) == 3  # still a plain function


def test_async_functions_are_declared_too() -> None:
    @polycall.function(namespace="a")
    async def fetch(url: str) -> bytes: ...

    assert fetch.__polycall__.is_async  # type: ignore[attr-defined]
    assert sig(fetch) == "a.fetch(url: string) -> bytes"


def test_unannotated_parameters_are_any_and_keyword_only_ones_are_refused() -> None:
    @polycall.function(namespace="n")
    def loose(a, b: int):  # type: ignore[no-untyped-def]
        ...

    assert sig(loose) == "n.loose(a: any, b: i64) -> any"
    with pytest.raises(InvalidArgument, match="keyword-only"):

        @polycall.function
        def kw(*, a: int) -> int: ...


def test_a_hint_without_a_polycall_type_is_refused_naming_the_parameter() -> None:
    with pytest.raises(InvalidArgument, match=r"bad\(s\)"):

        @polycall.function
        def bad(s: set[complex]) -> None: ...


@pytest.mark.parametrize(
    "text",
    [
        "math.cos(x: f64) -> f64",
        "a.b.c(xs: list<map<string, f64>>, p: struct Point{x: f64, y: f64}) -> optional<i32>",
        "img.blur(px: ndarray<u8>[?,?,3], k: handle<kernel>) -> ndarray<u8>[?,?,3]",
        "ev.on(cb: fn(i64, string) -> null) -> null",
    ],
)
def test_signatures_print_back_as_they_were_read(text: str) -> None:
    assert str(parse_signature(text)) == text


def test_t_question_mark_is_optional_and_bad_text_names_the_column() -> None:
    assert str(parse_type("i32?")) == "optional<i32>"
    with pytest.raises(InvalidArgument, match="column 6"):
        parse_type("list<nope>")
