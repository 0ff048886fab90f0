"""Redis key layout of the result store."""

TASK_KEY_PREFIX = "snapmatch:task:"


def task_key(task_id: str) -> str:
    """Key holding the JSON ``TaskRecord`` of one task (pending marker, then its result)."""
    return f"{TASK_KEY_PREFIX}{task_id}"
