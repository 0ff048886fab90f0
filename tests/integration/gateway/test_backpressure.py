"""A burst beyond the queue's bound is refused with 503 + Retry-After, not queued without end."""

from pathlib import Path
from typing import cast

import redis

from contracts.redis_keys import TASK_KEY_PREFIX
from contracts.results import TaskRecord
from tests.support.client import poll, upload
from tests.support.stacks import custom_stack
from tools.devstack import REDIS_URL
from tools.devstack.emulator import SignedInUser


def _records_of(owner_uid: str) -> int:
    store = redis.Redis.from_url(REDIS_URL)
    try:
        raw = [cast(bytes | None, store.get(k)) for k in store.scan_iter(f"{TASK_KEY_PREFIX}*")]
        records = [TaskRecord.from_json(r) for r in raw if r is not None]
        return sum(1 for record in records if record.owner_uid == owner_uid)
    finally:
        store.close()


def test_a_full_queue_refuses_uploads_and_recovers_once_drained(
    tmp_path: Path, user: SignedInUser, coffee_jpeg: bytes
) -> None:
    with custom_stack(tmp_path, SNAPMATCH_QUEUE_MAX_LENGTH="3") as stack:
        responses = [upload(stack.base_url, user.id_token, coffee_jpeg) for _ in range(6)]
        codes = [r.status_code for r in responses]
        accepted = codes.count(202)
        # A quorum queue admits one message past x-max-length before it starts to refuse.
        assert accepted in (3, 4), codes
        assert codes == [202] * accepted + [503] * (6 - accepted)
        refused = responses[-1]
        assert refused.json()["error"] == "queue_full"
        assert refused.headers["Retry-After"]
        # Refused uploads left no pending marker behind: only accepted tasks have a record.
        assert _records_of(user.uid) == accepted

        stack.start_worker()
        for response in responses[:accepted]:
            result = poll(stack.base_url, user.id_token, response.json()["task_id"])
            assert result["status"] == "done"
        assert upload(stack.base_url, user.id_token, coffee_jpeg).status_code == 202
