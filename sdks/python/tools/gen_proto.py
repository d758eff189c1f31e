"""Generates polycall/_proto from spec/polycall.proto and spec/service.proto.

`make proto` runs it into polycall/_proto; tests/test_proto.py runs it into a temporary
directory and compares, so the committed files must be exactly what this produces.

protoc writes ``import polycall_pb2`` (the proto's import path as a top-level module); inside
the package that must be a relative import, so those lines are rewritten here, once for both.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

SPEC = Path(__file__).resolve().parents[3] / "spec"
PROTOS = ("polycall.proto", "service.proto")
_TOP_LEVEL_IMPORT = re.compile(r"^import (\w+_pb2(?:_grpc)?) as (\w+)$", re.MULTILINE)


def generate(out: Path) -> None:
    from grpc_tools import protoc  # the test extra's pinned grpcio-tools

    out.mkdir(parents=True, exist_ok=True)
    args = [
        "protoc",
        f"-I{SPEC}",
        f"--python_out={out}",
        f"--pyi_out={out}",
        f"--grpc_python_out={out}",
        *(str(SPEC / p) for p in PROTOS),
    ]
    if protoc.main(args) != 0:
        raise SystemExit(f"protoc failed for {PROTOS}")
    for f in out.glob("*_pb2*.py*"):
        text = f.read_text()
        fixed = _TOP_LEVEL_IMPORT.sub(r"from . import \1 as \2", text)
        if fixed != text:
            f.write_text(fixed)
    # polycall.proto has no service: its empty *_grpc.py stub is noise.
    (out / "polycall_pb2_grpc.py").unlink(missing_ok=True)


if __name__ == "__main__":
    generate(Path(sys.argv[1]))
