"""PolyCall for Python: host functions in a worker, call any function of a node.

import polycall

@polycall.function(namespace="stats")
def mean(xs: np.ndarray) -> float:      # stats.mean(xs: ndarray<f64>) -> f64
    return float(xs.mean())

with polycall.connect("/run/polycall/client.sock") as client:
    client.call("math.cos", 0.5)
"""

from __future__ import annotations

__version__ = "0.1.0"

from . import aio
from ._context import CallContext, acall, call, current
from .client import Client, connect
from .errors import (
    Aborted,
    AlreadyExists,
    Cancelled,
    Code,
    DataLoss,
    DeadlineExceeded,
    FailedPrecondition,
    Internal,
    InvalidArgument,
    NotFound,
    OutOfRange,
    PermissionDenied,
    PolyCallError,
    ResourceExhausted,
    StackFrame,
    Unauthenticated,
    Unavailable,
    Unimplemented,
    Unknown,
    error_for,
)
from .functions import Function, function, registered
from .values import FnRef, Handle, Struct, Typed, typed

__all__ = [
    "__version__",
    "function",
    "Function",
    "registered",
    "call",
    "acall",
    "current",
    "CallContext",
    "connect",
    "Client",
    "aio",
    "Handle",
    "FnRef",
    "Struct",
    "Typed",
    "typed",
    "Code",
    "StackFrame",
    "PolyCallError",
    "error_for",
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
]
