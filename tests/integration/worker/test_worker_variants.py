"""Workers configured for speed, through HTTP with the real services: the int8 model, CUDA
asked for on a host without it (falls back to CPU and says so), and micro-batching."""

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from contracts.model_registry import read_manifest
from tests.support.client import poll, upload
from tests.support.imagenet import CAT_CLASSES, COFFEE_CLASSES
from tools.devstack import Stack, stored_attempts
from tools.devstack.emulator import SignedInUser

INT8 = "efficientnet-lite0-int8"


def _classify_all(
    stack: Stack, user: SignedInUser, photos: list[bytes], *, model: str | None = None
) -> list[dict[str, object]]:
    def one(jpeg: bytes) -> dict[str, object]:
        response = upload(stack.base_url, user.id_token, jpeg, model=model)
        assert response.status_code == 202, response.text
        return poll(stack.base_url, user.id_token, response.json()["task_id"], timeout=120)

    with ThreadPoolExecutor(max_workers=len(photos)) as pool:
        return list(pool.map(one, photos))


def _top3(result: dict[str, object]) -> set[int]:
    predictions = result["predictions"]
    assert isinstance(predictions, list)
    return {p["class_id"] for p in predictions[:3]}


def test_an_int8_worker_asked_for_cuda_runs_on_cpu_and_recognises_photos(
    private_stack: Stack,
    built_model: Path,
    user: SignedInUser,
    coffee_jpeg: bytes,
    cat_jpeg: bytes,
) -> None:
    worker = private_stack.start_worker(
        SNAPMATCH_DEFAULT_MODEL=INT8, SNAPMATCH_WORKER_EXECUTION_PROVIDER="cuda"
    )
    coffee, cat = _classify_all(private_stack, user, [coffee_jpeg, cat_jpeg], model=INT8)

    assert coffee["status"] == cat["status"] == "done"
    assert _top3(coffee) & COFFEE_CLASSES
    assert _top3(cat) & CAT_CLASSES
    entry = read_manifest(built_model).models[INT8]
    assert entry.precision == "int8"
    assert coffee["model"] == {"name": INT8, "version": entry.version}
    log = worker.log()
    assert "'cuda' requested" in log and "running on CPU" in log


def test_a_batching_worker_answers_every_task_once(
    private_stack: Stack, user: SignedInUser, coffee_jpeg: bytes, cat_jpeg: bytes
) -> None:
    worker = private_stack.start_worker(
        SNAPMATCH_WORKER_BATCH_MAX_SIZE="4",
        SNAPMATCH_WORKER_PREFETCH="4",
        SNAPMATCH_WORKER_BATCH_MAX_WAIT_MS="20",
    )
    photos = [coffee_jpeg, cat_jpeg] * 4
    results = _classify_all(private_stack, user, photos)

    assert [r["status"] for r in results] == ["done"] * len(photos)
    for photo, result in zip(photos, results, strict=True):
        expected = COFFEE_CLASSES if photo is coffee_jpeg else CAT_CLASSES
        assert _top3(result) & expected, result
    assert stored_attempts([str(r["task_id"]) for r in results]) == [1] * len(photos)
    assert [line["max_images"] for line in worker.events("micro-batching")] == [4]
