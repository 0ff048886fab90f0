"""A request id on every response and every log line written while serving the request.

``asgi-correlation-id`` keeps the client's ``X-Request-ID`` when it is a short token (else it
makes a fresh one), echoes it and holds it in a context variable; :func:`add_request_id` copies
it onto the gateway's structlog lines.
"""

import re
import uuid
from typing import Any

from asgi_correlation_id import CorrelationIdMiddleware, correlation_id
from starlette.middleware import Middleware
from structlog.typing import EventDict

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def _is_valid(offered: str) -> bool:
    return _VALID_REQUEST_ID.match(offered) is not None


def request_id_middleware() -> Middleware:
    return Middleware(
        CorrelationIdMiddleware,
        header_name=REQUEST_ID_HEADER,
        validator=_is_valid,
        generator=lambda: uuid.uuid4().hex,
        update_request_header=False,
    )


def current_request_id() -> str:
    return correlation_id.get() or "-"


def add_request_id(_: Any, __: str, event: EventDict) -> EventDict:
    """structlog processor: the current request's id, on lines logged while serving one."""
    request_id = correlation_id.get()
    if request_id is not None:
        event.setdefault("request_id", request_id)
    return event
