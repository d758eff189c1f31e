"""Multiplies two matrices by row blocks across the nodes of the distributed example.

    python driver.py [grpc://127.0.0.1:7440] [--size 600] [--block 25] [--delay-ms 0]

It connects to the front node (front.yaml) and sends every block of rows to ``matmul.rows`` at
once, from a thread pool; the front node routes each block to the node with the fewest blocks in
flight and, when a node dies, sends its blocks to the others (the function is idempotent). The
result is checked against numpy's own product on this machine.
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

import polycall


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("target", nargs="?", default="grpc://127.0.0.1:7440")
    p.add_argument("--size", type=int, default=600, help="the matrices are size x size")
    p.add_argument("--block", type=int, default=25, help="rows per call")
    p.add_argument("--delay-ms", type=int, default=0, help="extra work per block, for demos")
    args = p.parse_args()

    rng = np.random.default_rng(7)
    a = rng.standard_normal((args.size, args.size))
    b = rng.standard_normal((args.size, args.size))
    starts = range(0, args.size, args.block)
    began = time.perf_counter()
    with polycall.connect(args.target) as node, ThreadPoolExecutor(16) as pool:
        blocks = pool.map(
            lambda s: node.call(
                "matmul.rows", a[s : s + args.block], b, args.delay_ms, timeout=60
            ),
            starts,
        )
        c = np.vstack(list(blocks))
    took = time.perf_counter() - began
    err = float(np.max(np.abs(c - a @ b)))
    print(f"{args.size}x{args.size} in {len(starts)} blocks: {took:.2f} s, max error {err:.2e}")
    if err > 1e-9:
        raise SystemExit("the distributed product differs from numpy's")


if __name__ == "__main__":
    main()
