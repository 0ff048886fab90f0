"""A terminal result's product matches, computed when the result is read.

Matching happens when a finished result is read, not in the worker: prices and stock are
always current, the worker needs no database, and a catalog outage costs only the products
(``status == "unavailable"``), never the labels. Pending polls never reach the database.
"""

from dataclasses import dataclass, field
from typing import Literal

import structlog

from app.catalog.database import CatalogUnavailableError
from app.catalog.models import ProductMatch
from app.catalog.service import Catalog
from contracts.results import TaskRecord

logger = structlog.stdlib.get_logger(__name__)


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
