"""Row blocks of a matrix product with numpy, for the distributed example (README.md here).

Every node of the example runs this file in a Python worker pool. ``matmul.rows`` is tagged
``idempotent``: it has no side effects, so when the node running a block dies, the caller's
router sends the same block to another node instead of failing the job.
"""

from __future__ import annotations

import os
import time

import numpy as np

import polycall

__polycall_namespace__ = "matmul"


@polycall.function(tags=["pure", "idempotent"])
def rows(a: np.ndarray, b: np.ndarray, delay_ms: int) -> np.ndarray:
    """``a @ b`` for a block of rows ``a`` (k x n) and the whole ``b`` (n x m), as a k x m array.

    ``delay_ms`` stands for more work per block (sleeps that long first), so a demo or a test can
    kill a node while blocks are in flight; 0 in real use.
    """
    if a.ndim != 2 or b.ndim != 2:
        raise ValueError(f"rows needs 2-d arrays, got shapes {a.shape} and {b.shape}")
    if a.shape[1] != b.shape[0]:
        raise ValueError(f"cannot multiply {a.shape} by {b.shape}: inner sizes differ")
    if delay_ms > 0:
        time.sleep(delay_ms / 1000)
    return np.ascontiguousarray(a @ b)


@polycall.function
def node() -> str:
    """The id of the node whose worker answers (POLYCALL_EXAMPLE_NODE of its pool's env)."""
    return os.environ.get("POLYCALL_EXAMPLE_NODE", "unknown")
