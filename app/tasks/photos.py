"""Uploaded images turned into photos ready to queue, after the gateway's checks."""

from collections.abc import Sequence

from app.core.errors import APIError
from app.tasks.image_check import inspect_image
from app.tasks.submit import Photo


def checked_photo(image: bytes, *, max_pixels: int, model: str, fcm_token: str) -> Photo:
    """``image`` as a Photo once its type and size pass (APIError otherwise)."""
    info = inspect_image(image, max_pixels=max_pixels)
    return Photo(data=image, content_type=info.content_type, fcm_token=fcm_token, model=model)


def checked_photos(
    images: Sequence[bytes], *, max_pixels: int, model: str, fcm_token: str
) -> list[Photo]:
    """Every image checked before any is queued; a refusal names the image's index."""
    photos = []
    for index, image in enumerate(images):
        try:
            photos.append(
                checked_photo(image, max_pixels=max_pixels, model=model, fcm_token=fcm_token)
            )
        except APIError as exc:
            raise APIError(
                exc.status_code,
                exc.code,
                f"images[{index}]: {exc.detail}",
                exc.headers,
                extra={"index": index},
            ) from exc
    return photos
