"""Redis key layout of the result store."""

TASK_KEY_PREFIX = "snapmatch:task:"

# Pub/sub channel a worker publishes a task id on right after storing that task's terminal
# result, so a gateway holding a long-poll wakes up at once instead of polling. Pub/sub is
# at-most-once and not scoped to a database number: a message is only a hint to re-read the key.
RESULT_CHANNEL = "snapmatch:results"


def task_key(task_id: str) -> str:
    """Key holding the JSON ``TaskRecord`` of one task (pending marker, then its result)."""
    return f"{TASK_KEY_PREFIX}{task_id}"
