"""The speed knobs: off-by-default batching, a capped long-poll, CPU unless told otherwise."""

import pytest
from pydantic import ValidationError

from config import ExecutionProvider, Settings


def test_defaults_keep_batching_off_and_run_on_the_cpu() -> None:
    settings = Settings(_env_file=None)
    assert settings.worker_batch_max_size == 1
    assert settings.worker_execution_provider is ExecutionProvider.CPU
    assert settings.result_wait_max_seconds == 30.0


def test_the_provider_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SNAPMATCH_WORKER_EXECUTION_PROVIDER", "cuda")
    assert Settings(_env_file=None).worker_execution_provider is ExecutionProvider.CUDA


def test_an_unknown_provider_is_refused() -> None:
    with pytest.raises(ValidationError):
        Settings(worker_execution_provider="tpu", _env_file=None)


def test_a_batch_larger_than_the_prefetch_is_refused() -> None:
    with pytest.raises(ValidationError, match="batches never fill"):
        Settings(worker_batch_max_size=8, worker_prefetch=2, _env_file=None)


def test_a_batch_the_prefetch_can_fill_is_accepted() -> None:
    settings = Settings(worker_batch_max_size=8, worker_prefetch=8, _env_file=None)
    assert settings.worker_batch_max_size == 8
