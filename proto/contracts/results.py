"""The task record stored in Redis: written ``pending`` by the gateway, finished by a worker."""

from datetime import UTC, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class TaskStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


class FailureCode(StrEnum):
    """Why a task ended ``failed``; stable strings a client can switch on."""

    UNDECODABLE_IMAGE = "undecodable_image"
    IMAGE_TOO_LARGE = "image_too_large"
    UNKNOWN_MODEL = "unknown_model"
    MODEL_UNAVAILABLE = "model_unavailable"
    DELIVERY_LIMIT_EXCEEDED = "delivery_limit_exceeded"
    OBJECT_STORE_UNAVAILABLE = "object_store_unavailable"
    IMAGE_MISSING = "image_missing"


class Prediction(BaseModel):
    model_config = ConfigDict(frozen=True)

    class_id: int = Field(ge=0, le=999, description="ImageNet-1k class index.")
    label: str = Field(description="Short human name of the class (the model's label set).")
    confidence: float = Field(ge=0.0, le=1.0, description="Softmax probability.")


class ModelInfo(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str = Field(examples=["efficientnet-lite0"], description="The model that ran.")
    version: str = Field(
        examples=["ac9acef47338"],
        description="The version that ran: the first 12 hex digits of its ONNX file's SHA-256.",
    )


class Timings(BaseModel):
    queued_ms: float = Field(description="From the gateway's acceptance to a worker taking it.")
    model_load_ms: float = Field(
        0.0,
        description="Waiting for the model to be loaded and warmed up: 0 when the worker held "
        "it already, the load time on a cache miss.",
    )
    preprocess_ms: float = Field(description="Decode, orient, resize, crop and normalise.")
    inference_ms: float = Field(description="The model's forward pass.")
    total_ms: float = Field(description="From acceptance to the stored result.")


class StoredImages(BaseModel):
    """Where a task's images are in the photo bucket (``contracts.object_keys``). The gateway
    turns each key into a short-lived presigned URL for the owner; the keys never leave it."""

    original_key: str | None = Field(None, description="The photo as uploaded.")
    processed_key: str | None = Field(
        None, description="The model's input as a PNG; None when the model never ran."
    )


class Failure(BaseModel):
    code: FailureCode
    message: str


class TaskRecord(BaseModel):
    """Everything known about a task; serialised as JSON under ``redis_keys.task_key``."""

    task_id: str
    owner_uid: str
    status: TaskStatus
    submitted_at: datetime
    completed_at: datetime | None = None
    model: ModelInfo | None = None
    predictions: list[Prediction] = Field(default_factory=list)
    timings: Timings | None = None
    error: Failure | None = None
    attempts: int = Field(0, ge=0, description="Deliveries the worker saw (1 = first try).")
    images: StoredImages | None = Field(
        None, description="The task's stored images; None in records from before object storage."
    )

    @property
    def is_terminal(self) -> bool:
        return self.status is not TaskStatus.PENDING

    def to_json(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_json(cls, raw: bytes | str) -> "TaskRecord":
        return cls.model_validate_json(raw)


def utc_now() -> datetime:
    return datetime.now(UTC)
