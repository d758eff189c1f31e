"""Statistics with numpy, served by a Python worker pool (see examples/polycall.yaml).

Each ``@polycall.function`` is announced to the node under namespace ``npstats``; Java, C, Node
and clients call it by name. Run by the node's supervisor as
``python -m polycall.worker --file examples/workers/stats.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

import numpy as np

import polycall

__polycall_namespace__ = "npstats"


@dataclass
class Summary:
    n: Annotated[int, "u32"]
    mean: float
    std: float
    median: float


def _non_empty(xs: np.ndarray, what: str) -> None:
    if xs.size == 0:
        # A ValueError reaches the caller as INVALID_ARGUMENT, with this file's frames.
        raise ValueError(f"{what} of an empty array is undefined")


@polycall.function(tags=["pure"])
def mean(xs: np.ndarray) -> float:
    """The arithmetic mean (numpy.mean); fails for an empty array."""
    _non_empty(xs, "the mean")
    return float(np.mean(xs))


@polycall.function(tags=["pure"])
def std(xs: np.ndarray) -> float:
    """The population standard deviation (numpy.std)."""
    _non_empty(xs, "the standard deviation")
    return float(np.std(xs))


@polycall.function(tags=["pure"])
def percentile(xs: np.ndarray, q: float) -> float:
    """The q-th percentile, q in [0, 100] (numpy.percentile, linear interpolation)."""
    _non_empty(xs, "a percentile")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile q must be in [0, 100], not {q}")
    return float(np.percentile(xs, q))


@polycall.function(tags=["pure"])
def zscores(xs: np.ndarray) -> np.ndarray:
    """Each element's distance from the mean, in standard deviations."""
    _non_empty(xs, "z-scores")
    s = np.std(xs)
    return (xs - np.mean(xs)) / (s if s > 0 else 1.0)


@polycall.function(tags=["pure"])
def summary(xs: np.ndarray) -> Summary:
    """Count, mean, standard deviation and median in one struct."""
    _non_empty(xs, "a summary")
    return Summary(int(xs.size), float(np.mean(xs)), float(np.std(xs)), float(np.median(xs)))


@polycall.function
def format_all(fmt: Callable[[float], str], xs: np.ndarray) -> list[str]:
    """Each element formatted by ``fmt``: a callback into whatever language the caller chose."""
    return [fmt(float(x)) for x in xs]
