"""Everything the gateway holds open while it runs, built once when it starts.

``running_services`` opens the connections in dependency order and an ``AsyncExitStack`` closes
them in reverse, whatever fails on the way. Routes reach each service through one alias in
``app.api.deps``.
"""

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

from app.auth.app_check import AppCheckVerifier
from app.auth.firebase import TokenVerifier
from app.auth.rate_limit import UserRateLimiter
from app.catalog.service import Catalog
from app.core.metrics import GatewayMetrics
from app.core.redis import request_client, subscriber_client
from app.history.service import TaskHistory
from app.models.registry import ModelRegistry
from app.storage.photos import PhotoStore
from app.storage.uploads import DirectUploads
from app.tasks.erase import TaskEraser
from app.tasks.events import ResultEventConsumer
from app.tasks.publisher import TaskPublisher
from app.tasks.store import TaskStore
from app.tasks.submit import TaskSubmitter
from app.tasks.waiter import ResultNotifier
from app.webhooks.delivery import WebhookDeliverer, WebhookOutbox
from config import Settings


@dataclass(frozen=True)
class Services:
    settings: Settings
    metrics: GatewayMetrics
    verifier: TokenVerifier
    app_check: AppCheckVerifier | None  # None unless App Check is enabled
    rate_limiter: UserRateLimiter
    store: TaskStore
    notifier: ResultNotifier
    publisher: TaskPublisher
    submitter: TaskSubmitter
    catalog: Catalog
    models: ModelRegistry
    photos: PhotoStore
    uploads: DirectUploads
    history: TaskHistory
    eraser: TaskEraser


@asynccontextmanager
async def running_services(settings: Settings, metrics: GatewayMetrics) -> AsyncIterator[Services]:
    async with AsyncExitStack() as stack:
        models = ModelRegistry(
            settings.model_registry,
            default=settings.default_model,
            poll_seconds=settings.model_registry_poll_seconds,
        )
        await models.start()  # no registry, no gateway: uploads could not be checked
        stack.push_async_callback(models.close)

        verifier = TokenVerifier(settings)
        stack.callback(verifier.close)
        app_check = AppCheckVerifier(verifier.app) if settings.app_check_enabled else None

        redis = request_client(settings)
        stack.push_async_callback(redis.aclose)
        store = TaskStore(settings, redis, metrics)

        photos = PhotoStore(settings)
        await photos.start()  # creates the bucket; a store that is down only makes /ready 503

        publisher = TaskPublisher(settings, metrics)
        stack.push_async_callback(publisher.close)
        await publisher.start()

        catalog = Catalog(settings)
        stack.push_async_callback(catalog.close)
        catalog.start()

        notifier = ResultNotifier(settings)
        stack.push_async_callback(notifier.close)
        notifier.start()

        history = TaskHistory(settings, catalog.database, lambda: catalog.schema_ready)
        stack.push_async_callback(history.close)
        history.start()

        # Terminal-result events (history rows, webhooks): a background task on a client of its
        # own, whose reads block; webhook delivery makes short calls on the request client.
        events_redis = subscriber_client(settings)
        stack.push_async_callback(events_redis.aclose)
        outbox = None
        if settings.webhook_url is not None:
            outbox = WebhookOutbox(settings, events_redis)
            deliverer = WebhookDeliverer(settings, redis, metrics)
            stack.push_async_callback(deliverer.close)
            deliverer.start()
        events = ResultEventConsumer(
            settings, events_redis, store=store, history=history, outbox=outbox
        )
        stack.push_async_callback(events.close)
        events.start()

        submitter = TaskSubmitter(
            store,
            publisher,
            history,
            photos,
            claim_check_min_bytes=settings.claim_check_min_bytes,
        )
        yield Services(
            settings=settings,
            metrics=metrics,
            verifier=verifier,
            app_check=app_check,
            rate_limiter=UserRateLimiter(settings, redis),
            store=store,
            notifier=notifier,
            publisher=publisher,
            submitter=submitter,
            catalog=catalog,
            models=models,
            photos=photos,
            uploads=DirectUploads(settings, redis, photos, submitter),
            history=history,
            eraser=TaskEraser(store, history, photos),
        )
