"""POST /uploads: a presigned PUT for one photo, so the phone uploads straight to storage."""

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field

from app.api.deps import UploadingUser, UploadsDep
from app.api.openapi import error_responses
from app.tasks.image_check import ACCEPTED_TYPES

router = APIRouter(tags=["predictions"])


class UploadRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    content_type: Literal[ACCEPTED_TYPES] = Field(  # type: ignore[valid-type]
        examples=["image/jpeg"], description="The photo's MIME type; the PUT must send it."
    )
    size_bytes: int = Field(
        gt=0,
        examples=[2_457_600],
        description="The photo's exact size; the PUT must send exactly this many bytes, at most "
        "`SNAPMATCH_MAX_UPLOAD_BYTES`.",
    )


class UploadTicketBody(BaseModel):
    upload_id: str = Field(
        examples=["3f1c2a9e-8d7b-4c6a-9e5f-0a1b2c3d4e5f"],
        description="Send it as the form field `upload_id` of `POST /predict` after the PUT; "
        "it becomes the task id.",
    )
    url: str = Field(
        examples=[
            "http://127.0.0.1:9000/snapmatch-photos/photos/5d41402abc4b2a76/"
            "3f1c2a9e-8d7b-4c6a-9e5f-0a1b2c3d4e5f/original?X-Amz-Algorithm=AWS4-HMAC-SHA256&..."
        ],
        description="Presigned URL to PUT the photo's bytes to (the body is the file itself).",
    )
    method: Literal["PUT"] = "PUT"
    headers: dict[str, str] = Field(
        examples=[{"Content-Type": "image/jpeg"}],
        description="Headers the PUT must carry, as they are (they are part of the signature).",
    )
    expires_at: datetime = Field(
        description="The URL's expiry; the upload must be submitted within as long again."
    )


@router.post(
    "/uploads",
    status_code=status.HTTP_201_CREATED,
    response_model=UploadTicketBody,
    responses=error_responses(
        {
            401: "Missing or invalid Firebase ID token (or App Check token, when required).",
            413: "`size_bytes` over `SNAPMATCH_MAX_UPLOAD_BYTES`.",
            422: "Not a JSON body with `content_type` (a supported image type) and `size_bytes`.",
            429: "Too many uploads by this user; retry after `Retry-After` seconds.",
            503: "Photo store (`object_store_unavailable`), result store or token verification "
            "unavailable; retry after `Retry-After` seconds.",
        },
        {503: ("object_store_unavailable", "the photo store is unavailable; retry later")},
    ),
    operation_id="createUpload",
    summary="Get a presigned URL to upload a photo straight to storage",
)
async def create_upload(
    body: UploadRequest, user: UploadingUser, uploads: UploadsDep
) -> UploadTicketBody:
    """Direct upload, for large photos and flaky networks: PUT the photo's bytes to `url` with
    `headers`, then `POST /predict` with the form field `upload_id`. The photo never passes
    through the gateway or the task queue. Counts against the upload rate limit like
    `POST /predict`."""
    ticket = await uploads.create(
        owner_uid=user.uid, content_type=body.content_type, size_bytes=body.size_bytes
    )
    return UploadTicketBody(
        upload_id=ticket.upload_id,
        url=ticket.url,
        headers=ticket.headers,
        expires_at=ticket.expires_at,
    )
