"""One status model for every language: gRPC's codes, a message and a cross-language stack.

`PolyCallError` is the base of every error a PolyCall call raises; each gRPC code has its own
subclass so callers can write ``except polycall.NotFound``. Errors raised by user functions
inside a worker are mapped to codes at the boundary (`status_of_exception`).
"""

from __future__ import annotations

import enum
import re
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType

from ._proto import polycall_pb2 as pb

__all__ = [
    "Code",
    "StackFrame",
    "PolyCallError",
    "Cancelled",
    "Unknown",
    "InvalidArgument",
    "DeadlineExceeded",
    "NotFound",
    "AlreadyExists",
    "PermissionDenied",
    "ResourceExhausted",
    "FailedPrecondition",
    "Aborted",
    "OutOfRange",
    "Unimplemented",
    "Internal",
    "Unavailable",
    "DataLoss",
    "Unauthenticated",
    "error_for",
    "status_of_exception",
]


class Code(enum.IntEnum):
    """gRPC's canonical status codes, with gRPC's numbers."""

    OK = 0
    CANCELLED = 1
    UNKNOWN = 2
    INVALID_ARGUMENT = 3
    DEADLINE_EXCEEDED = 4
    NOT_FOUND = 5
    ALREADY_EXISTS = 6
    PERMISSION_DENIED = 7
    RESOURCE_EXHAUSTED = 8
    FAILED_PRECONDITION = 9
    ABORTED = 10
    OUT_OF_RANGE = 11
    UNIMPLEMENTED = 12
    INTERNAL = 13
    UNAVAILABLE = 14
    DATA_LOSS = 15
    UNAUTHENTICATED = 16


# How the node words its suggestions, on every transport (the gateway parses the same text).
_DID_YOU_MEAN = re.compile(r"did you mean ([^?]+)\?")


@dataclass(frozen=True)
class StackFrame:
    """One frame of a cross-language stack."""

    language: str
    function: str
    file: str = ""
    line: int = 0

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"[{self.language}] {self.function}" + (f" ({where})" if where else "")


class PolyCallError(Exception):
    """A failed call: a status code, a message and the stack, innermost frame first.

    ``PolyCallError(code, message, frames)`` for any code; the subclasses take the message
    and frames only (``NotFound("no such function")``). `error_for` picks the subclass of a
    code.
    """

    code: Code = Code.UNKNOWN

    def __init__(
        self,
        code: Code | int | str,
        message: str = "",
        frames: Sequence[StackFrame] = (),
    ) -> None:
        self.code = Code[code] if isinstance(code, str) else Code(code)
        self.message = message
        self.frames: tuple[StackFrame, ...] = tuple(frames)
        super().__init__(f"{self.code.name}: {message}" if message else self.code.name)

    @property
    def suggestions(self) -> list[str]:
        """Close names the node proposed (``... did you mean math.add?`` of a NOT_FOUND)."""
        m = _DID_YOU_MEAN.search(self.message)
        return [n.strip() for n in m.group(1).split(",") if n.strip()] if m else []

    def stack(self) -> str:
        """The cross-language stack as text, innermost frame first."""
        return "\n".join(f"  at {f}" for f in self.frames)

    def to_proto(self) -> pb.Status:
        return pb.Status(
            code=int(self.code),
            message=_repair(self.message),
            frames=[
                pb.StackFrame(
                    language=_repair(f.language),
                    function=_repair(f.function),
                    file=_repair(f.file),
                    line=f.line,
                )
                for f in self.frames
            ],
        )

    @staticmethod
    def from_proto(status: pb.Status) -> PolyCallError:
        frames = [StackFrame(f.language, f.function, f.file, f.line) for f in status.frames]
        return error_for(status.code, status.message, frames)


class _CodedError(PolyCallError):
    """Base of the per-code subclasses: the code is the class's own."""

    def __init__(self, message: str = "", frames: Sequence[StackFrame] = ()) -> None:
        super().__init__(type(self).code, message, frames)


class Cancelled(_CodedError):
    code = Code.CANCELLED


class Unknown(_CodedError):
    code = Code.UNKNOWN


class InvalidArgument(_CodedError):
    code = Code.INVALID_ARGUMENT


class DeadlineExceeded(_CodedError):
    code = Code.DEADLINE_EXCEEDED


class NotFound(_CodedError):
    code = Code.NOT_FOUND


class AlreadyExists(_CodedError):
    code = Code.ALREADY_EXISTS


class PermissionDenied(_CodedError):
    code = Code.PERMISSION_DENIED


class ResourceExhausted(_CodedError):
    code = Code.RESOURCE_EXHAUSTED


class FailedPrecondition(_CodedError):
    code = Code.FAILED_PRECONDITION


class Aborted(_CodedError):
    code = Code.ABORTED


class OutOfRange(_CodedError):
    code = Code.OUT_OF_RANGE


class Unimplemented(_CodedError):
    code = Code.UNIMPLEMENTED


class Internal(_CodedError):
    code = Code.INTERNAL


class Unavailable(_CodedError):
    code = Code.UNAVAILABLE


class DataLoss(_CodedError):
    code = Code.DATA_LOSS


class Unauthenticated(_CodedError):
    code = Code.UNAUTHENTICATED


_BY_CODE: dict[Code, type[_CodedError]] = {
    cls.code: cls
    for cls in (
        Cancelled,
        Unknown,
        InvalidArgument,
        DeadlineExceeded,
        NotFound,
        AlreadyExists,
        PermissionDenied,
        ResourceExhausted,
        FailedPrecondition,
        Aborted,
        OutOfRange,
        Unimplemented,
        Internal,
        Unavailable,
        DataLoss,
        Unauthenticated,
    )
}


def error_for(
    code: Code | int | str, message: str = "", frames: Sequence[StackFrame] = ()
) -> PolyCallError:
    """The exception of the subclass matching `code` (UNKNOWN for a number gRPC does not define)."""
    if isinstance(code, str):
        c = Code[code]
    else:
        try:
            c = Code(code)
        except ValueError:
            return Unknown(f"status code {int(code)}: {message}", frames)
    cls = _BY_CODE.get(c)
    return cls(message, frames) if cls is not None else PolyCallError(c, message, frames)


# Most specific first: KeyError is a LookupError, TimeoutError and PermissionError are OSErrors.
_EXCEPTION_CODES: tuple[tuple[type[BaseException], Code], ...] = (
    (NotImplementedError, Code.UNIMPLEMENTED),
    (TimeoutError, Code.DEADLINE_EXCEEDED),
    (PermissionError, Code.PERMISSION_DENIED),
    (LookupError, Code.NOT_FOUND),
    (ValueError, Code.INVALID_ARGUMENT),
    (TypeError, Code.INVALID_ARGUMENT),
    (OverflowError, Code.OUT_OF_RANGE),
)


def status_of_exception(exc: BaseException) -> PolyCallError:
    """The status a user function's exception travels as.

    A `PolyCallError` keeps its code and message and gains the Python frames in front of the
    ones it carried (a nested call's failure shows both stacks); any other exception maps by
    type (ValueError -> INVALID_ARGUMENT, ...), with message ``"ValueError: ..."``.
    """
    frames = python_frames(exc.__traceback__)
    if isinstance(exc, PolyCallError):
        return error_for(exc.code, exc.message, [*frames, *exc.frames])
    code = Code.UNKNOWN
    for cls, c in _EXCEPTION_CODES:
        if isinstance(exc, cls):
            code = c
            break
    text = _text_of(exc)
    message = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return error_for(code, message, frames)


def python_frames(tb: TracebackType | None) -> list[StackFrame]:
    """The frames of a traceback as StackFrames, innermost first, SDK frames left out."""
    frames = []
    for fs in traceback.extract_tb(tb):
        if _is_sdk_file(fs.filename):
            continue
        frames.append(StackFrame("python", fs.name, fs.filename, fs.lineno or 0))
    frames.reverse()
    return frames


def _is_sdk_file(filename: str) -> bool:
    import os

    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.dirname(os.path.abspath(filename)) == here


def _text_of(exc: BaseException) -> str:
    # KeyError's str() is the repr of its key; bytes arguments are decoded, not repr'd, so a
    # message built from undecodable bytes is repaired rather than shown as b'...'.
    if len(exc.args) == 1 and isinstance(exc.args[0], (bytes, bytearray)):
        return bytes(exc.args[0]).decode("utf-8", errors="replace")
    try:
        return str(exc)
    except Exception:  # a broken __str__ must not hide the original error
        return repr(exc.args)


def _repair(text: str) -> str:
    """Valid UTF-8 text: lone surrogates (from undecodable bytes) become U+FFFD."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        pass
    try:  # surrogates from os.fsdecode & co: the original bytes, decoded with replacement
        raw = text.encode("utf-8", errors="surrogateescape")
    except UnicodeEncodeError:
        raw = text.encode("utf-8", errors="surrogatepass")
    return raw.decode("utf-8", errors="replace")
