"""Status codes, exception classes and the mapping of Python exceptions."""

from __future__ import annotations

import pytest

import polycall
from polycall.errors import Code, PolyCallError, StackFrame, error_for, status_of_exception


def raise_and_map(exc: BaseException) -> PolyCallError:
    try:
        raise exc
    except BaseException as e:
        return status_of_exception(e)


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (ValueError("v"), Code.INVALID_ARGUMENT),
        (TypeError("t"), Code.INVALID_ARGUMENT),
        (KeyError("k"), Code.NOT_FOUND),
        (IndexError("i"), Code.NOT_FOUND),
        (LookupError("l"), Code.NOT_FOUND),
        (TimeoutError("slow"), Code.DEADLINE_EXCEEDED),
        (NotImplementedError("later"), Code.UNIMPLEMENTED),
        (PermissionError("no"), Code.PERMISSION_DENIED),
        (RuntimeError("boom"), Code.UNKNOWN),
        (ZeroDivisionError("zero"), Code.UNKNOWN),
    ],
)
def test_python_exceptions_map_to_codes(exc: BaseException, code: Code) -> None:
    err = raise_and_map(exc)
    assert err.code == code
    assert err.message.startswith(type(exc).__name__ + ": ")


def test_the_message_names_the_exception_and_the_frames_are_python_innermost_first() -> None:
    def inner() -> None:
        raise ValueError("math domain error")

    def outer() -> None:
        inner()

    try:
        outer()
    except ValueError as e:
        err = status_of_exception(e)
    assert err.message == "ValueError: math domain error"
    assert [f.function for f in err.frames[:2]] == ["inner", "outer"]
    assert all(f.language == "python" and f.line > 0 for f in err.frames)


def test_undecodable_text_is_repaired_before_it_is_sent() -> None:
    err = raise_and_map(ValueError(b"\xff\xfeabc"))
    assert err.to_proto().message == "ValueError: \ufffd\ufffdabc"
    surrogates = PolyCallError(Code.UNKNOWN, "bad \udcff byte")
    assert surrogates.to_proto().message == "bad \ufffd byte"


def test_a_status_becomes_the_exception_of_its_code() -> None:
    err = error_for(5, "no such function", [StackFrame("java", "Router.route", "R.java", 3)])
    assert isinstance(err, polycall.NotFound)
    assert isinstance(err, PolyCallError)
    assert str(err) == "NOT_FOUND: no such function"
    back = PolyCallError.from_proto(err.to_proto())
    assert type(back) is polycall.NotFound
    assert back.frames == err.frames


def test_subclasses_take_just_a_message() -> None:
    err = polycall.OutOfRange("too big")
    assert (err.code, err.message) == (Code.OUT_OF_RANGE, "too big")


def test_a_nested_failure_keeps_its_code_and_adds_python_frames_in_front() -> None:
    remote = polycall.InvalidArgument("bad x", [StackFrame("java", "Math.sqrt")])
    err = raise_and_map(remote)
    assert err.code == Code.INVALID_ARGUMENT
    assert err.frames[0].language == "python"
    assert err.frames[-1] == StackFrame("java", "Math.sqrt")


def test_an_unknown_code_number_is_unknown() -> None:
    assert error_for(99, "x").code == Code.UNKNOWN
