"""The committed generated code matches spec/polycall.proto and spec/service.proto.

Regenerate with `make proto`; this runs the same generator (tools/gen_proto.py) into a
temporary directory and compares every file.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SDK = Path(__file__).resolve().parents[1]
GENERATED = (
    "polycall_pb2.py",
    "polycall_pb2.pyi",
    "service_pb2.py",
    "service_pb2.pyi",
    "service_pb2_grpc.py",
)


def test_generated_code_is_up_to_date_with_the_protos(tmp_path: Path) -> None:
    pytest.importorskip("grpc_tools")
    subprocess.run([sys.executable, str(SDK / "tools" / "gen_proto.py"), str(tmp_path)], check=True)
    made = sorted(p.name for p in tmp_path.iterdir())
    assert made == sorted(GENERATED), "tools/gen_proto.py makes other files than expected"
    for name in GENERATED:
        fresh = (tmp_path / name).read_text()
        committed = (SDK / "polycall" / "_proto" / name).read_text()
        assert committed == fresh, f"polycall/_proto/{name} is stale: run `make proto`"


def test_the_service_stubs_import_the_messages_of_the_package() -> None:
    pytest.importorskip("grpc")
    from polycall._proto import polycall_pb2, service_pb2, service_pb2_grpc

    assert service_pb2_grpc.polycall__pb2 is polycall_pb2
    assert service_pb2.DESCRIPTOR.services_by_name["PolyCall"].full_name == "polycall.v1.PolyCall"
