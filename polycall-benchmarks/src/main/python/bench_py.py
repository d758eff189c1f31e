"""Python functions the cross-language harness calls through PolyCall."""

import numpy as np

import polycall

__polycall_namespace__ = "benchpy"


@polycall.function
def noop() -> None:
    return None


@polycall.function(signature="(xs: ndarray<f64>) -> ndarray<f64>")
def echo(xs: np.ndarray) -> np.ndarray:
    return xs
