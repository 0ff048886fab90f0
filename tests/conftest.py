"""Shared fixtures: real photos, a running stack (gateway + worker), emulator users."""

import io
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import structlog
from PIL import Image

from app.catalog.database import connect
from app.catalog.migrations import migrate
from app.catalog.seed import SeedCatalog, apply_seed, load_seed
from contracts.model_registry import manifest_path
from tests.support.catalog import settings_for
from tools.devstack import REGISTRY, Stack, delete_queue, free_port
from tools.devstack.emulator import SignedInUser, sign_up, unique_email

_TESTS = Path(__file__).resolve().parent
# The folder a test lives in says what it needs; `pytest -m unit` runs without any service.
_KINDS = ("unit", "integration", "deploy")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        kind = item.path.relative_to(_TESTS).parts[0]
        if kind in _KINDS:
            item.add_marker(kind)


@pytest.fixture(autouse=True)
def _structlog_through_stdlib() -> None:
    """Code under test logs with structlog: route it through stdlib logging, as the processes
    do, so that ``caplog`` sees each line (event and key-value fields in the message)."""
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.stdlib.add_log_level,
            structlog.processors.format_exc_info,
            structlog.processors.KeyValueRenderer(key_order=["event"], sort_keys=True),
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )


def _jpeg(pixels: np.ndarray, quality: int = 90) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).convert("RGB").save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


@pytest.fixture(scope="session")
def coffee_jpeg() -> bytes:
    """A real photograph of a cup of espresso (scikit-image sample data, public domain)."""
    from skimage import data

    return _jpeg(data.coffee())  # type: ignore[no-untyped-call]


@pytest.fixture(scope="session")
def cat_jpeg() -> bytes:
    """A real photograph of a tabby cat (scikit-image's 'chelsea')."""
    from skimage import data

    return _jpeg(data.chelsea())  # type: ignore[no-untyped-call]


@pytest.fixture(scope="session")
def built_model() -> Path:
    """The model registry `make model` publishes (the stacks' gateways and workers serve it)."""
    if not manifest_path(REGISTRY).is_file():
        pytest.fail(f"{manifest_path(REGISTRY)} is missing: run `make model` (make test does)")
    return REGISTRY


def _start_stack(tmp_dir: Path, workers: int) -> Stack:
    stack = Stack(queue=f"tasks-{uuid.uuid4().hex[:8]}", log_dir=tmp_dir)
    stack.start_gateway()
    for _ in range(workers):
        stack.start_worker()
    return stack


@pytest.fixture(scope="session")
def stack(built_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """One gateway and one worker, shared by the tests that don't disturb them."""
    stack = _start_stack(tmp_path_factory.mktemp("stack"), workers=1)
    yield stack
    stack.stop()
    delete_queue(stack.queue)


@pytest.fixture
def private_stack(built_model: Path, tmp_path: Path) -> Iterator[Stack]:
    """A gateway on a queue of its own, no workers: the test starts and kills them."""
    stack = _start_stack(tmp_path, workers=0)
    yield stack
    stack.stop()
    delete_queue(stack.queue)


@pytest.fixture
def gateway_without_redis(tmp_path: Path) -> Iterator[Stack]:
    """A gateway whose Redis URL points at a closed port (no worker)."""
    stack = Stack(
        queue=f"tasks-{uuid.uuid4().hex[:8]}",
        log_dir=tmp_path,
        env_overrides={"SNAPMATCH_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"},
    )
    stack.start_gateway(probe="/health")
    yield stack
    stack.stop()
    delete_queue(stack.queue)


@pytest.fixture(scope="session")
def seeded_catalog() -> SeedCatalog:
    """The suite's catalog database, migrated and loaded with the seed catalog."""
    seed = load_seed()
    connection = connect(settings_for())
    try:
        migrate(connection)
        apply_seed(connection, seed)
    finally:
        connection.close()
    return seed


@pytest.fixture
def user() -> SignedInUser:
    """A fresh user signed up on the Auth Emulator, as a Flutter app would do."""
    return sign_up(unique_email())


@pytest.fixture
def other_user() -> SignedInUser:
    return sign_up(unique_email("other"))
