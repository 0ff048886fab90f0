"""Response bodies of the HTTP API (the stored contract lives in ``contracts.results``)."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from contracts.results import Failure, ModelInfo, Prediction, TaskRecord, TaskStatus, Timings


class ErrorBody(BaseModel):
    error: str = Field(description="Stable machine-readable code.", examples=["invalid_token"])
    detail: str = Field(description="What was wrong, for humans.")


class TaskAccepted(BaseModel):
    task_id: str
    status: Literal["queued"] = "queued"
    result_url: str = Field(description="Where to poll for the result.")


class TaskNotReady(BaseModel):
    task_id: str
    status: Literal["pending", "not_found"]
    detail: str


class TaskResult(BaseModel):
    """A terminal result: ``done`` with predictions, or ``failed`` with an error."""

    task_id: str
    status: Literal[TaskStatus.DONE, TaskStatus.FAILED]
    predictions: list[Prediction]
    model: ModelInfo | None
    timings: Timings | None
    error: Failure | None
    submitted_at: datetime
    completed_at: datetime | None

    @classmethod
    def from_record(cls, record: TaskRecord) -> "TaskResult":
        return cls.model_validate(record.model_dump(exclude={"owner_uid", "attempts"}))


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    status: Literal["ready", "unavailable"]
    checks: dict[str, str] = Field(examples=[{"rabbitmq": "ok", "redis": "ok"}])
