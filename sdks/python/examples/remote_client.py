"""A client of a remote node: `python remote_client.py grpc://127.0.0.1:50051` (or http://...).

Start a node with `bin/polycall serve --grpc 127.0.0.1:50051 --http 127.0.0.1:8080`.
"""

from __future__ import annotations

import asyncio
import sys

import numpy as np

import polycall


def blocking(url: str) -> None:
    with polycall.connect(url) as node:  # the same Client as for a socket path
        print(node.call("math.add", 1, 2))  # 3
        print(node.call("stats.mean", np.arange(10.0), timeout=2.0))  # 4.5: one ndarray block
        try:
            node.call("math.ad", 1, 2)
        except polycall.NotFound as e:  # the same exceptions as the socket
            print("not found:", e.suggestions)  # ['math.add']


async def concurrent(url: str) -> None:
    async with await polycall.aio.connect(url) as node:
        print(await asyncio.gather(*(node.call("math.square", i) for i in range(5))))


if __name__ == "__main__":
    blocking(sys.argv[1])
    asyncio.run(concurrent(sys.argv[1]))
