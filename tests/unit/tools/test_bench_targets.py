"""`make bench`'s verdicts: the four targets, the CPU per process, the open loop's summary,
the A/B merge and the plot, computed from hand-made measurements."""

from pathlib import Path

import pytest

from tools.bench.ab import merge
from tools.bench.cpu_cost import cpu_cost
from tools.bench.openloop import arrival_offsets, summarize
from tools.bench.plot import plot_open_loop
from tools.bench.report import render
from tools.bench.results import DEFAULTS, KernelResult, Measurements, PipelineResult, Sample
from tools.bench.sections import keep_models_section
from tools.bench.targets import targets

WORKER_SETTING = "2 thread(s), spinning off"


def sample(e2e_ms: float) -> Sample:
    return Sample(
        upload_ms=3.0,
        e2e_ms=e2e_ms,
        queued_ms=1.0,
        preprocess_ms=4.0,
        inference_ms=5.0,
        after_ms=1.0,
    )


def run(clients: int, ips: float, e2e_ms: float, cpu: dict[str, float]) -> PipelineResult:
    """100 photos; ``cpu`` in CPU-seconds by role over the run."""
    samples = [sample(e2e_ms)] * 100
    return PipelineResult(DEFAULTS, 1.2, clients, ips, samples, {}, cpu)


def kernel(setting: str, ips: float, cpu_ms: float) -> KernelResult:
    return KernelResult("fp32", 1.2, ips, 4.0, 5.0, cpu_ms, setting=setting)


def measurements(*, p50: float, best_ips: float, gateway_s: float, **extra: object) -> Measurements:
    cpu = {"gateway": gateway_s, "worker": 1.5, "rabbitmq": 0.1, "redis": 0.05, "client": 0.4}
    return Measurements(
        machine=[],
        kernels=[],
        pipelines=[run(1, 50.0, p50, cpu), run(4, best_ips, 40.0, cpu)],
        sweep=[],
        batches=[],
        blocks=[],
        agreement=(75, 80),
        rss={},
        reference=[
            kernel("1 thread(s), spinning off", 80.0, 12.0),
            kernel(WORKER_SETTING, 100.0, 13.0),
        ],
        worker_setting=WORKER_SETTING,
        **extra,  # type: ignore[arg-type]
    )


def test_targets_pass_when_every_goal_is_met() -> None:
    tail = summarize(0.7, 50.0, [10.0] * 98 + [20.0, 25.0], lost=0)
    m = measurements(p50=14.0, best_ips=90.0, gateway_s=0.05, open_loop=[tail])
    verdicts = [t.met for t in targets(m)]
    assert verdicts == [True, True, True, True]


def test_targets_fail_and_say_by_how_much() -> None:
    tail = summarize(0.7, 50.0, [10.0] * 90 + [100.0] * 10, lost=0)
    m = measurements(p50=20.0, best_ips=60.0, gateway_s=0.5, open_loop=[tail])
    found = targets(m)
    assert [t.met for t in found] == [False, False, False, False]
    assert found[0].measured == "20.0 ms"
    assert found[1].measured.startswith("0.60 (60.0 at 4 clients vs 100.0 img/s")
    # gateway 5 + broker 1 + redis 0.5 + worker (15 - model 13) = 8.5 CPU-ms per photo
    assert found[2].measured.startswith("8.5 CPU-ms")


def test_a_target_without_its_measurement_is_not_judged() -> None:
    m = measurements(p50=14.0, best_ips=90.0, gateway_s=0.1)
    assert targets(m)[3].met is None
    assert "not measured" in render(m)


def test_cpu_per_photo_splits_the_worker_into_model_and_the_rest() -> None:
    cost = cpu_cost(run(4, 80.0, 30.0, {"gateway": 0.3, "worker": 1.6, "rabbitmq": 0.2}), 12.0)
    assert (cost.gateway, cost.worker, cost.broker, cost.redis) == (3.0, 16.0, 2.0, 0.0)
    assert cost.worker_outside_model == pytest.approx(4.0)
    assert cost.non_model == pytest.approx(9.0)


def test_open_loop_tells_refusals_from_failures_and_lost_arrivals() -> None:
    result = summarize(0.9, 60.0, [12.0, 14.0, 503, 503, 500, 18.0], lost=2)
    assert result.latencies_ms == [12.0, 14.0, 18.0]
    assert (result.refused, result.failed, result.sent) == (2, 3, 8)
    assert result.refused_share == 0.25
    assert result.pct(50) == 14.0


def test_arrivals_are_evenly_spaced_at_the_rate() -> None:
    assert arrival_offsets(4.0, 1.0) == [0.0, 0.25, 0.5, 0.75]
    assert arrival_offsets(0.1, 1.0) == [0.0]


def test_ab_turns_merge_into_one_result_per_side() -> None:
    a = run(4, 50.0, 20.0, {"gateway": 0.2})
    b = run(4, 100.0, 30.0, {"gateway": 0.4})
    merged = merge([(a, 2.0), (b, 1.0)], 1.2)
    assert len(merged.samples) == 200
    assert merged.images_per_s == pytest.approx(200 / 3.0)
    assert merged.cpu_seconds["gateway"] == pytest.approx(0.6)
    assert merged.cpu["gateway"] == pytest.approx(20.0)


def test_the_open_loop_plot_is_a_png(tmp_path: Path) -> None:
    results = [
        summarize(load, 10.0, [10.0 + load, 20.0 + load, 503], lost=0) for load in (0.5, 0.9)
    ]
    path = tmp_path / "docs" / "curve.png"
    assert plot_open_loop(results, path, "test")
    assert path.read_bytes().startswith(b"\x89PNG")


def test_a_report_measured_without_models_keeps_the_old_models_section(tmp_path: Path) -> None:
    out = tmp_path / "BENCHMARKS.md"
    out.write_text("# Benchmarks\n\nold\n\n## Models\n\n| lite0 | 1 |\n\n## Later\n\nx\n")
    assert keep_models_section(out, "# Benchmarks\n\nnew\n") == (
        "# Benchmarks\n\nnew\n\n## Models\n\n| lite0 | 1 |\n"
    )
    assert keep_models_section(tmp_path / "missing.md", "# B\n") == "# B\n"
