"""Execution-provider choice: CUDA when asked for and present, otherwise CPU with a clear log."""

import logging

import pytest

from config import ExecutionProvider
from worker.inference.providers import CPU, CUDA, log_active, provider_chain


def test_cpu_is_the_default_chain() -> None:
    assert provider_chain(ExecutionProvider.CPU, [CUDA, CPU]) == [CPU]


def test_cuda_is_preferred_with_cpu_behind_it_when_available() -> None:
    assert provider_chain(ExecutionProvider.CUDA, ["TensorrtExecutionProvider", CUDA, CPU]) == [
        CUDA,
        CPU,
    ]


def test_cuda_requested_without_onnxruntime_gpu_falls_back_to_cpu_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="worker.inference.providers"):
        chain = provider_chain(ExecutionProvider.CUDA, ["AzureExecutionProvider", CPU])
    assert chain == [CPU]
    assert "'cuda' requested" in caplog.text
    assert "running on CPU" in caplog.text
    assert "onnxruntime-gpu" in caplog.text


def test_a_session_that_dropped_cuda_is_reported(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="worker.inference.providers"):
        used = log_active(ExecutionProvider.CUDA, [CPU])
    assert used == CPU
    assert "CUDA could not be initialised" in caplog.text


def test_a_session_on_cuda_is_reported_as_such(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="worker.inference.providers"):
        used = log_active(ExecutionProvider.CUDA, [CUDA, CPU])
    assert used == CUDA
    assert "provider='CUDAExecutionProvider'" in caplog.text
    assert "could not" not in caplog.text
