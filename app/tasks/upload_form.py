"""Parse the upload's multipart form ourselves, after authentication and within tight limits.

The route declares no form parameters, so FastAPI does not read the body before the route's
dependencies (authentication, rate limit) have run: an unauthenticated upload is refused without
its body being parsed. The OpenAPI request body is declared by hand (:data:`OPENAPI_BODY`).
"""

from dataclasses import dataclass
from typing import Any

from fastapi import Request
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.core.errors import APIError

IMAGE_FIELD = "image"
UPLOAD_ID_FIELD = "upload_id"
IMAGES_FIELD = "images"  # the files of a batch upload, in order
MAX_BATCH_IMAGES = 10
FCM_TOKEN_FIELD = "fcm_token"  # noqa: S105 - a form field name, not a secret
MODEL_FIELD = "model"
BATCH_TEXT_FIELDS = (FCM_TOKEN_FIELD, MODEL_FIELD)  # a batch applies them to every image
TEXT_FIELDS = (*BATCH_TEXT_FIELDS, UPLOAD_ID_FIELD)
# One file plus a few small fields is all a client needs to send.
MAX_FILES = 1
MAX_FIELDS = 8
# starlette's messages for the limits above (everything else it raises is malformed input).
_LIMIT_MESSAGES = ("Part exceeded", "Field exceeded", "Too many files", "Too many fields")

OPENAPI_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                # Exactly one of the two ways to send the photo.
                "oneOf": [{"required": [IMAGE_FIELD]}, {"required": [UPLOAD_ID_FIELD]}],
                "additionalProperties": False,
                "properties": {
                    IMAGE_FIELD: {
                        "type": "string",
                        "format": "binary",
                        "description": "The photo: JPEG, PNG, WebP or HEIC/HEIF. Send either "
                        "this or `upload_id`.",
                    },
                    UPLOAD_ID_FIELD: {
                        "type": "string",
                        "format": "uuid",
                        "description": "Instead of `image`: the id of a direct upload "
                        "(`POST /uploads`) whose photo was PUT to its URL. The task gets this "
                        "id; submitting it again returns the same task.",
                    },
                    FCM_TOKEN_FIELD: {
                        "type": "string",
                        "description": "Optional FCM registration token of this device: when "
                        "the result is ready a data message `{task_id, status, result_url}` is "
                        "pushed to it (if the server has push enabled). Polling works either "
                        "way. Limited like every text field (`SNAPMATCH_MAX_FORM_FIELD_BYTES`).",
                    },
                    MODEL_FIELD: {
                        "type": "string",
                        "description": "Optional: the model to run, by name (`GET /models` "
                        "lists them); omitted, the default model. An unknown name is refused "
                        "with 422 `unknown_model` and nothing is queued. The result's `model` "
                        "names the model and version that ran.",
                        "examples": ["efficientnet-lite2"],
                    },
                },
            }
        }
    },
}


@dataclass(frozen=True, slots=True)
class Upload:
    image: bytes  # empty when the photo is a direct upload
    fcm_token: str  # empty when the client wants no push
    model: str | None  # None: the default model
    upload_id: str | None = None  # a direct upload instead of the file


@dataclass(frozen=True, slots=True)
class BatchUpload:
    images: tuple[bytes, ...]  # in upload order
    fcm_token: str
    model: str | None


async def _form(request: Request, *, max_files: int, max_field_bytes: int) -> FormData:
    try:
        return await request.form(
            max_files=max_files, max_fields=MAX_FIELDS, max_part_size=max_field_bytes
        )
    except StarletteHTTPException as exc:
        if isinstance(exc, APIError):  # e.g. the body size limit, raised while streaming
            raise
        message = str(exc.detail)
        if message.startswith("Too many files") and max_files == MAX_BATCH_IMAGES:
            raise APIError(
                413,
                "too_many_images",
                f"a batch holds at most {MAX_BATCH_IMAGES} images; split it",
            ) from exc
        if message.startswith(_LIMIT_MESSAGES):
            raise APIError(413, "form_too_large", message) from exc
        raise APIError(422, "malformed_form", message) from exc


async def read_upload(request: Request, *, max_bytes: int, max_field_bytes: int) -> Upload:
    """The ``image`` file part (at most ``max_bytes``, else 413) or the ``upload_id`` of a
    direct upload (exactly one of them, else 422), and the optional FCM token and model."""
    form = await _form(request, max_files=MAX_FILES, max_field_bytes=max_field_bytes)
    image = form.get(IMAGE_FIELD)
    direct = UPLOAD_ID_FIELD in form
    if not direct and not isinstance(image, UploadFile):
        raise APIError(
            422,
            "missing_image",
            f"send the photo as a file in the multipart field {IMAGE_FIELD!r} "
            f"(or the {UPLOAD_ID_FIELD!r} of a direct upload)",
        )
    unexpected = sorted(set(form.keys()) - {IMAGE_FIELD, *TEXT_FIELDS})
    if unexpected:
        raise APIError(
            422,
            "unexpected_field",
            f"the form may only hold the file {IMAGE_FIELD!r} and the texts "
            f"{', '.join(map(repr, TEXT_FIELDS))}; remove {', '.join(unexpected)}",
        )
    fcm_token, model, upload_id = (_text(form.get(name, "")) for name in TEXT_FIELDS)
    if direct:
        if image is not None:
            raise APIError(
                422,
                "image_and_upload_id",
                f"send either the file {IMAGE_FIELD!r} or {UPLOAD_ID_FIELD!r}, not both",
            )
        return Upload(image=b"", fcm_token=fcm_token, model=model or None, upload_id=upload_id)
    assert isinstance(image, UploadFile)  # checked above
    data = await image.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise APIError(413, "payload_too_large", f"the image exceeds {max_bytes} bytes")
    return Upload(image=data, fcm_token=fcm_token, model=model or None)


async def read_batch_upload(
    request: Request, *, max_bytes: int, max_field_bytes: int
) -> BatchUpload:
    """1 to ``MAX_BATCH_IMAGES`` file parts named ``images`` (each at most ``max_bytes``) and
    the optional text fields, which apply to every image. A refusal of one image names its
    index (``"index"`` in the body); 11 images or more are 413 ``too_many_images``."""
    form = await _form(request, max_files=MAX_BATCH_IMAGES, max_field_bytes=max_field_bytes)
    unexpected = sorted(set(form.keys()) - {IMAGES_FIELD, *BATCH_TEXT_FIELDS})
    if unexpected:
        raise APIError(
            422,
            "unexpected_field",
            f"the form may only hold the files {IMAGES_FIELD!r} and the texts "
            f"{', '.join(map(repr, BATCH_TEXT_FIELDS))}; remove {', '.join(unexpected)}",
        )
    parts = form.getlist(IMAGES_FIELD)
    if not parts:
        raise APIError(
            422,
            "missing_image",
            f"send 1 to {MAX_BATCH_IMAGES} photos as files in the multipart field {IMAGES_FIELD!r}",
        )
    images = []
    for index, part in enumerate(parts):
        if not isinstance(part, UploadFile):
            raise APIError(
                422,
                "missing_image",
                f"images[{index}] is a text field; send each photo as a file",
                extra={"index": index},
            )
        data = await part.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise APIError(
                413,
                "payload_too_large",
                f"images[{index}]: the image exceeds {max_bytes} bytes",
                extra={"index": index},
            )
        images.append(data)
    fcm_token, model = (_text(form.get(name, "")) for name in BATCH_TEXT_FIELDS)
    return BatchUpload(images=tuple(images), fcm_token=fcm_token, model=model or None)


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise APIError(
            422, "malformed_form", f"{', '.join(map(repr, TEXT_FIELDS))} must be text fields"
        )
    return value.strip()
