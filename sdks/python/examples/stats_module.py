"""A worker module: `python -m polycall.worker --module stats_module` (run from this folder)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import numpy as np

import polycall

__polycall_namespace__ = "stats"


@dataclass
class Summary:
    n: Annotated[int, "u32"]
    mean: float
    std: float


@polycall.function
def mean(xs: np.ndarray) -> float:
    """Arithmetic mean."""  # announced as stats.mean(xs: ndarray<f64>) -> f64
    if xs.size == 0:
        raise ValueError("mean of an empty array")  # -> INVALID_ARGUMENT
    return float(xs.mean())


@polycall.function
def summary(xs: np.ndarray) -> Summary:
    """Count, mean and standard deviation."""
    return Summary(int(xs.size), float(xs.mean()), float(xs.std()))


@polycall.function(tags=["nested"])
def hypot_sum(xs: list[float]) -> float:
    """Calls back into the node: each square root is math.sqrt, wherever that lives."""
    return sum(polycall.call("math.sqrt", x * x) for x in xs)


@polycall.function
async def mean_async(xs: np.ndarray) -> float:
    return await polycall.acall("stats.mean", xs)  # type: ignore[no-any-return]
