"""The committed generated code matches spec/polycall.proto (regenerate with `make proto`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SDK = Path(__file__).resolve().parents[1]
SPEC = SDK.parents[1] / "spec"


def test_generated_code_is_up_to_date_with_the_proto(tmp_path: Path) -> None:
    pytest.importorskip("grpc_tools")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "grpc_tools.protoc",
            f"-I{SPEC}",
            f"--python_out={tmp_path}",
            f"--pyi_out={tmp_path}",
            str(SPEC / "polycall.proto"),
        ],
        check=True,
    )
    for name in ("polycall_pb2.py", "polycall_pb2.pyi"):
        fresh = (tmp_path / name).read_text()
        committed = (SDK / "polycall" / "_proto" / name).read_text()
        assert committed == fresh, f"polycall/_proto/{name} is stale: run `make proto`"
