"""Response bodies of the HTTP API (the stored contract lives in ``contracts.results``)."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.catalog.matching import Matches
from app.catalog.models import ProductMatch
from app.history.queries import HistoryRow
from app.storage.photos import ResultImages
from contracts.model_files import Preprocessing
from contracts.model_registry import ModelEntry
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

    images: ResultImages | None = Field(
        None,
        description="Links to the photo as uploaded and to what the model saw, valid for "
        "`SNAPMATCH_IMAGE_URL_TTL_SECONDS`; poll again for fresh ones. Null for results "
        "stored before object storage.",
    )

    @classmethod
    def from_record(
        cls, record: TaskRecord, matches: Matches, images: ResultImages | None = None
    ) -> "TaskResult":
        fields = record.model_dump(exclude={"owner_uid", "attempts", "images"})
        return cls.model_validate(
            fields
            | {"products": matches.products, "products_status": matches.status, "images": images}
        )


class BatchTask(BaseModel):
    task_id: str
    result_url: str


class BatchAccepted(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "batch_id": "7d1c2b8e-4b8f-4a57-a7d9-3c3f0a9b8e21",
                    "status": "queued",
                    "tasks": [
                        {
                            "task_id": "0b9e6a52-5c1e-4f7e-9a53-2f1f0c4f6d11",
                            "result_url": "/result/0b9e6a52-5c1e-4f7e-9a53-2f1f0c4f6d11",
                        },
                        {
                            "task_id": "41aa0c3e-2f7d-4c55-8f0e-6d2b9c1a7e30",
                            "result_url": "/result/41aa0c3e-2f7d-4c55-8f0e-6d2b9c1a7e30",
                        },
                    ],
                }
            ]
        }
    )

    batch_id: str
    status: Literal["queued"] = "queued"
    tasks: list[BatchTask] = Field(description="One task per image, in upload order.")


class BatchResults(BaseModel):
    batch_id: str
    status: Literal["done"] = "done"
    results: list[TaskResult | TaskNotReady] = Field(
        description="One per image, in upload order: its result, or `not_found` for a task "
        "deleted (or expired) since."
    )


class BatchNotReady(BaseModel):
    batch_id: str
    status: Literal["pending", "not_found"]
    detail: str


class TopPrediction(BaseModel):
    class_id: int
    label: str
    confidence: float


class HistoryModel(BaseModel):
    name: str
    version: str | None = Field(description="The version that ran; null until the task ends.")


class TaskHistoryItem(BaseModel):
    """What the history keeps of a task: no image, no full prediction list."""

    task_id: str
    status: TaskStatus
    submitted_at: datetime
    completed_at: datetime | None
    model: HistoryModel | None
    top_prediction: TopPrediction | None
    error_code: str | None = Field(description="Why a `failed` task failed.")

    @classmethod
    def from_row(cls, row: HistoryRow) -> "TaskHistoryItem":
        top = None
        if row.top_class_id is not None and row.top_label is not None:
            top = TopPrediction(
                class_id=row.top_class_id,
                label=row.top_label,
                confidence=row.top_confidence or 0.0,
            )
        return cls(
            task_id=row.task_id,
            status=TaskStatus(row.status),
            submitted_at=row.submitted_at,
            completed_at=row.completed_at,
            model=None
            if row.model_name is None
            else HistoryModel(name=row.model_name, version=row.model_version),
            top_prediction=top,
            error_code=row.error_code,
        )


class TaskHistoryPage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "task_id": "0b9e6a52-5c1e-4f7e-9a53-2f1f0c4f6d11",
                            "status": "done",
                            "submitted_at": "2026-12-01T10:00:00.000000Z",
                            "completed_at": "2026-12-01T10:00:00.041000Z",
                            "model": {"name": "efficientnet-lite0", "version": "ac9acef47338"},
                            "top_prediction": {
                                "class_id": 967,
                                "label": "espresso",
                                "confidence": 0.62,
                            },
                            "error_code": None,
                        }
                    ],
                    "next_cursor": "eyJ0IjogIjIwMjYtMTItMDFUMTA6MDA6MDArMDA6MDAi",
                }
            ]
        }
    )

    items: list[TaskHistoryItem] = Field(description="Newest first.")
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next (older) page; null on the last page."
    )


class ModelRecord(BaseModel):
    """A served model: enough to choose it, download it and run it on a device."""

    name: str = Field(examples=["efficientnet-lite0"])
    version: str = Field(
        examples=["ac9acef47338"],
        description="First 12 hex digits of the file's SHA-256: changes whenever the file does.",
    )
    precision: Literal["fp32", "int8"]
    input_size: int = Field(examples=[224], description="Input height and width, in pixels.")
    num_classes: int = Field(examples=[1000])
    size_bytes: int = Field(description="Size of the ONNX file.")
    sha256: str = Field(description="SHA-256 of the ONNX file; also its download's ETag.")
    download_url: str = Field(
        examples=["/models/efficientnet-lite0/download?version=ac9acef47338"],
        description="This version's file; its bytes never change, so it may be cached for good.",
    )
    labels_url: str = Field(examples=["/models/efficientnet-lite0/labels"])
    preprocessing: Preprocessing = Field(
        description="What a client must do to a photo to get the server's answer on-device."
    )
    published_at: datetime

    @classmethod
    def from_entry(cls, entry: ModelEntry, *, download_url: str, labels_url: str) -> "ModelRecord":
        return cls.model_validate(
            entry.model_dump(include=set(cls.model_fields))
            | {"download_url": download_url, "labels_url": labels_url}
        )


class ModelList(BaseModel):
    default: str = Field(description="The model an upload runs when it names none.")
    models: list[ModelRecord]


class ModelLabels(BaseModel):
    model: str
    label_set: str = Field(examples=["imagenet-1k"])
    labels: list[str] = Field(description="Class names by class id: `labels[281]` is class 281.")


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    status: Literal["ready", "degraded", "unavailable"] = Field(
        description="`degraded` (still 200): uploads and results work, the catalog does not."
    )
    checks: dict[str, str] = Field(
        examples=[{"rabbitmq": "ok", "redis": "ok", "object_store": "ok", "mariadb": "ok"}]
    )
