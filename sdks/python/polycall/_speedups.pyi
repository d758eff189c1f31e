# polycall/_speedups.c, the optional C accelerator (built by `make -C sdks/python env`).
def ring_offer(
    buffer: memoryview, offset: int, size: int, tail: int, parts: list[bytes], /
) -> int: ...
