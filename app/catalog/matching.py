"""Products for predicted classes: a terminal result's, computed when it is read, and a
client's own (``GET /products/matches``, for apps that run the model on the device). Both go
through ``Catalog.matches``, one query (``queries.match_products``), so they rank alike.

Matching happens when a finished result is read, not in the worker: prices and stock are
always current, the worker needs no database, and a catalog outage costs only the products
(``status == "unavailable"``), never the labels. Pending polls never reach the database.
"""

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import structlog

from app.catalog.database import CatalogUnavailableError
from app.catalog.models import PredictedClass, ProductMatch
from app.catalog.service import Catalog
from contracts.results import TaskRecord

logger = structlog.stdlib.get_logger(__name__)

_CLASS_ID = re.compile(r"[0-9]{1,3}")


@dataclass(frozen=True)
class Matches:
    products: list[ProductMatch] = field(default_factory=list)
    status: Literal["ok", "unavailable"] = "ok"


async def products_for(record: TaskRecord, catalog: Catalog) -> Matches:
    """The products that fit ``record``'s predictions; none, flagged, when the catalog is down."""
    try:
        return Matches(await catalog.matches(record.predictions))
    except CatalogUnavailableError as exc:
        logger.warning("result served without products", task_id=record.task_id, error=str(exc))
        return Matches(status="unavailable")


class MatchQueryError(ValueError):
    """Predicted classes a client sent that cannot be matched; ``code`` is stable."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def _items(text: str) -> list[str]:
    return [item.strip() for item in text.split(",")]


def _class_id(item: str, position: int) -> int:
    if not _CLASS_ID.fullmatch(item):
        raise MatchQueryError(
            "invalid_class_ids",
            f"class_ids[{position}] is '{item}': each class id is an integer from 0 to 999",
        )
    return int(item)


def _confidence(item: str, position: int) -> float:
    try:
        value = float(item)
    except ValueError:
        value = math.nan
    if not 0.0 <= value <= 1.0:  # NaN fails too
        raise MatchQueryError(
            "invalid_confidences",
            f"confidences[{position}] is '{item}': each confidence is a number from 0 to 1",
        )
    return value


def parse_predicted_classes(class_ids: str, confidences: str, *, most: int) -> list[PredictedClass]:
    """``"967,968"`` and ``"0.62,0.21"`` as pairs; at most ``most`` (the server's top-k)."""
    ids, scores = _items(class_ids), _items(confidences)
    if len(ids) != len(scores):
        raise MatchQueryError(
            "mismatched_pairs",
            f"{len(ids)} class ids but {len(scores)} confidences: send one confidence per class id",
        )
    if len(ids) > most:
        raise MatchQueryError(
            "too_many_classes", f"{len(ids)} class ids: at most {most} (the server's top-k)"
        )
    pairs = [
        PredictedClass(class_id=_class_id(i, n), confidence=_confidence(c, n))
        for n, (i, c) in enumerate(zip(ids, scores, strict=True))
    ]
    seen: set[int] = set()
    for pair in pairs:
        if pair.class_id in seen:
            raise MatchQueryError(
                "duplicate_class_id", f"class id {pair.class_id} is given twice: send each once"
            )
        seen.add(pair.class_id)
    return pairs


async def products_for_classes(
    classes: Sequence[PredictedClass], catalog: Catalog
) -> list[ProductMatch]:
    """The products a result with these predictions would come with (503 when the catalog is
    down: unlike a result, there is nothing else to answer with)."""
    return await catalog.matches(classes)
