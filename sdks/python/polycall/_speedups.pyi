# polycall/_speedups.c, the optional C accelerator (built by `make -C sdks/python env`).
def ring_offer(
    buffer: memoryview, offset: int, size: int, tail: int, parts: list[bytes], /
) -> int: ...
def ring_take(
    buffer: memoryview, offset: int, size: int, head: int, max_frame_bytes: int, /
) -> tuple[int, bytes | str | None]: ...
