"""Query and header parameters that several routes take, declared once."""

from typing import Annotated

from fastapi import Header, Query

IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        pattern=r"^[\x21-\x7e]+$",
        description="Any unique string per upload (e.g. a UUID). Retrying with the same key "
        "and the same photo (or photos) returns the first task (or batch) instead of queueing "
        "another.",
    ),
]

LongPollWait = Annotated[
    float,
    Query(
        ge=0,
        allow_inf_nan=False,
        description="Long-poll: while the task (or any task of the batch) is pending, hold the "
        "request up to this many seconds (capped by the server) and answer as soon as the "
        "result is stored.",
    ),
]

SyncWait = Annotated[
    float,
    Query(
        ge=0,
        allow_inf_nan=False,
        description="Synchronous answer: hold the request up to this many seconds (at most the "
        "server's long-poll cap, `SNAPMATCH_RESULT_WAIT_MAX_SECONDS`, 30 s by default; more "
        "is a 422) and answer 200 with the full result when it is ready in time, else the "
        "usual 202. Same queue, same workers.",
    ),
]
