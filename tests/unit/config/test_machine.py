"""Worker defaults follow the cores available; explicit settings win."""

import os

import pytest

from config import Settings, machine


@pytest.mark.parametrize(
    ("cores", "processes", "threads"),
    [(1, 1, 1), (2, 2, 2), (4, 4, 2), (16, 16, 2)],
)
def test_one_worker_per_core_with_two_threads_each(
    cores: int, processes: int, threads: int
) -> None:
    assert machine.default_worker_processes(cores) == processes
    assert machine.default_inference_threads(cores) == threads


@pytest.mark.parametrize(
    ("cores", "processes", "threads", "spinning"),
    [(2, 2, 2, False), (16, 16, 2, False), (16, 4, 2, True), (4, 1, 2, True), (3, 1, 2, False)],
)
def test_threads_spin_only_where_cores_are_left_over(
    cores: int, processes: int, threads: int, spinning: bool
) -> None:
    assert machine.default_spinning(cores, processes=processes, threads=threads) is spinning


def test_the_cores_are_this_process_affinity() -> None:
    assert machine.available_cores() == len(os.sched_getaffinity(0))


def test_settings_default_to_the_plan_for_the_available_cores(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(machine, "available_cores", lambda: 16)
    settings = Settings(_env_file=None)
    assert (settings.worker_processes, settings.worker_inference_threads) == (16, 2)
    assert settings.worker_inference_spinning is False


def test_fewer_workers_than_cores_lets_the_threads_spin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(machine, "available_cores", lambda: 16)
    monkeypatch.setenv("SNAPMATCH_WORKER_PROCESSES", "4")
    settings = Settings(_env_file=None)
    assert settings.worker_inference_spinning is True


def test_explicit_settings_override_the_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SNAPMATCH_WORKER_PROCESSES", "3")
    monkeypatch.setenv("SNAPMATCH_WORKER_INFERENCE_THREADS", "1")
    monkeypatch.setenv("SNAPMATCH_WORKER_INFERENCE_SPINNING", "true")
    settings = Settings(_env_file=None)
    assert settings.worker_processes == 3
    assert settings.worker_inference_threads == 1
    assert settings.worker_inference_spinning is True
