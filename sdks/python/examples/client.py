"""A client: `python client.py /path/to/node/client.sock`."""

from __future__ import annotations

import asyncio
import sys

import numpy as np

import polycall


def blocking(path: str) -> None:
    with polycall.connect(path) as client:
        print(client.functions("stats.*"))
        print(client.call("stats.mean", np.arange(10.0)))
        try:
            client.call("stats.mean", np.array([]))
        except polycall.InvalidArgument as e:
            print("refused:", e.message)
            print(e.stack())


async def concurrent(path: str) -> None:
    async with await polycall.aio.connect(path) as client:
        xs = [np.random.default_rng(i).random(1000) for i in range(8)]
        print(await asyncio.gather(*(client.call("stats.mean", x) for x in xs)))


if __name__ == "__main__":
    blocking(sys.argv[1])
    asyncio.run(concurrent(sys.argv[1]))
