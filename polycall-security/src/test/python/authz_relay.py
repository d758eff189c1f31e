"""A worker function that tries to reach, through a nested call, what only its caller may call."""

import polycall

__polycall_namespace__ = "relay"


@polycall.function
def read_vault() -> str:
    # Runs as worker:POOL: the caller's rights do not come along.
    return polycall.call("vault.secret")


@polycall.function
def add_via_worker(a: int, b: int) -> int:
    # Allowed for the worker itself.
    return polycall.call("math.add", a, b)
