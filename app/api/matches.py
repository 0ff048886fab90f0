"""A terminal result plus its product matches, computed at read time.

Matching happens when a finished result is read, not in the worker: prices and stock are
always current, the worker needs no database, and a catalog outage costs only the products
(``products_status: "unavailable"``), never the labels. Pending polls never reach the database.
"""

import logging

from app.api.schemas import TaskResult
from app.catalog.database import CatalogUnavailableError
from app.catalog.service import Catalog
from contracts.results import TaskRecord

logger = logging.getLogger(__name__)


async def result_with_products(record: TaskRecord, catalog: Catalog) -> TaskResult:
    try:
        products = await catalog.matches(record.predictions)
    except CatalogUnavailableError as exc:
        logger.warning("result %s served without products: %s", record.task_id, exc)
        return TaskResult.from_record(record, products_status="unavailable")
    return TaskResult.from_record(record, products)
