"""Response bodies of the HTTP API (the stored contract lives in ``contracts.results``)."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from app.catalog.matching import Matches
from app.catalog.models import ProductMatch
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
    products: list[ProductMatch] = Field(
        default_factory=list,
        description="Catalog products that fit the predictions, best first; empty when nothing "
        "fits (or the task failed).",
    )
    products_status: Literal["ok", "unavailable"] = Field(
        "ok",
        description="`unavailable`: the catalog could not be reached, so `products` is empty "
        "for now; the labels are complete and a later poll may bring products.",
    )

    @classmethod
    def from_record(cls, record: TaskRecord, matches: Matches) -> "TaskResult":
        fields = record.model_dump(exclude={"owner_uid", "attempts"})
        return cls.model_validate(
            fields | {"products": matches.products, "products_status": matches.status}
        )


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    status: Literal["ready", "degraded", "unavailable"] = Field(
        description="`degraded` (still 200): uploads and results work, the catalog does not."
    )
    checks: dict[str, str] = Field(examples=[{"rabbitmq": "ok", "redis": "ok", "mariadb": "ok"}])
