"""The committed generated module must match task.proto (run `make proto` after editing it)."""

import filecmp
import subprocess
import sys
from pathlib import Path

from google.protobuf.timestamp_pb2 import Timestamp

from contracts.task_pb2 import TaskMessage

PROTO_ROOT = Path(__file__).resolve().parents[3] / "proto"


def test_generated_module_is_up_to_date(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "grpc_tools.protoc",
            f"-I{PROTO_ROOT}",
            f"--python_out={tmp_path}",
            f"--pyi_out={tmp_path}",
            "contracts/task.proto",
        ],
        check=True,
        cwd=PROTO_ROOT,
    )
    for name in ("task_pb2.py", "task_pb2.pyi"):
        fresh, committed = tmp_path / "contracts" / name, PROTO_ROOT / "contracts" / name
        assert filecmp.cmp(fresh, committed, shallow=False), (
            f"proto/contracts/{name} is stale: run `make proto` and commit the result"
        )


def test_task_message_round_trips_every_field() -> None:
    submitted = Timestamp(seconds=1_700_000_000, nanos=123_000_000)
    message = TaskMessage(
        task_id="7c0e",
        owner_uid="uid-1",
        image=b"\xff\xd8\xff\x00",
        content_type="image/jpeg",
        submitted_at=submitted,
        model="efficientnet-lite0",
    )
    decoded = TaskMessage.FromString(message.SerializeToString())
    assert decoded == message
    assert decoded.image == b"\xff\xd8\xff\x00"
    assert decoded.submitted_at.ToMilliseconds() == 1_700_000_000_123
