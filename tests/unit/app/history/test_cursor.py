"""The opaque history cursor: round trip, and refusal of anything not made by the server."""

import base64
import json
from datetime import UTC, datetime

import pytest

from app.history.cursor import InvalidCursorError, Position, decode_cursor, encode_cursor


def test_a_cursor_round_trips_to_the_same_position() -> None:
    position = Position(
        datetime(2026, 12, 1, 10, 0, 0, 123456, tzinfo=UTC), "0b9e6a52-5c1e-4f7e-9a53-2f1f0c4f6d11"
    )
    cursor = encode_cursor(position)
    assert "=" not in cursor and "/" not in cursor and "+" not in cursor  # URL-safe as it is
    assert decode_cursor(cursor) == position


def _b64(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "not a cursor",
        "%%%",
        _b64([1, 2]),
        _b64({"t": 1}),
        _b64({"t": "yesterday", "id": "0b9e6a52-5c1e-4f7e-9a53-2f1f0c4f6d11"}),
        _b64({"t": "2026-12-01T10:00:00+00:00", "id": "not-a-uuid"}),
        _b64({"t": "2026-12-01T10:00:00", "id": "0b9e6a52-5c1e-4f7e-9a53-2f1f0c4f6d11"}),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    ],
)
def test_a_malformed_cursor_is_refused(cursor: str) -> None:
    with pytest.raises(InvalidCursorError):
        decode_cursor(cursor)
