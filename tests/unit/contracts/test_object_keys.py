"""The photo bucket's key layout, shared by the gateway, the workers and the deletion jobs."""

import pytest

from contracts.object_keys import (
    PHOTOS_PREFIX,
    original_key,
    owner_digest,
    processed_key,
    task_prefix,
)

TASK = "0b9e6a52-5c1e-4f7e-9a53-2f1f0c4f6d11"


def test_both_images_of_a_task_sit_under_its_one_prefix() -> None:
    prefix = task_prefix("uid-alice", TASK)
    assert prefix == f"{PHOTOS_PREFIX}{owner_digest('uid-alice')}/{TASK}/"
    assert original_key("uid-alice", TASK) == prefix + "original"
    assert processed_key("uid-alice", TASK) == prefix + "processed.png"


def test_keys_carry_a_pseudonym_not_the_uid() -> None:
    key = original_key("firebase-uid-12345", TASK)
    assert "firebase-uid-12345" not in key
    assert len(owner_digest("firebase-uid-12345")) == 16


def test_another_owners_prefix_for_the_same_task_id_is_disjoint() -> None:
    """Deleting by (task id, owner) can never reach another user's objects."""
    mine, theirs = task_prefix("uid-alice", TASK), task_prefix("uid-bob", TASK)
    assert not mine.startswith(theirs) and not theirs.startswith(mine)


@pytest.mark.parametrize("task_id", ["", "../other", "0B9E6A52-5C1E-4F7E-9A53-2F1F0C4F6D11", "*"])
def test_a_task_id_that_is_not_a_uuid_makes_no_key(task_id: str) -> None:
    """A prefix built from anything else could match other tasks' objects (a prefix of '')."""
    with pytest.raises(ValueError, match="not a task id"):
        task_prefix("uid-alice", task_id)
