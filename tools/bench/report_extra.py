"""Report sections beside the main tables: the kernel's reference settings, the open-loop
curve and an A/B against another revision."""

from __future__ import annotations

from tools.bench.cpu_cost import cpu_cost
from tools.bench.results import Measurements, PipelineResult
from tools.bench.text import fmt


def reference_table(m: Measurements) -> list[str]:
    if not m.reference:
        return []
    best = m.best_reference()
    lines = [
        "",
        "The reference the pipeline is held to: the same kernel (fp32, 1.2 MP) in one process "
        "under each onnxruntime setting worth trying here; the best one counts. The workers' "
        f"default is {m.worker_setting}.",
        "",
        "| setting | img/s | preprocess p50 ms | inference p50 ms | CPU ms / image |",
        "|---|---|---|---|---|",
    ]
    for k in m.reference:
        mark = " (best)" if k is best else ""
        lines.append(
            f"| {k.setting}{mark} | {fmt(k.images_per_s)} | {fmt(k.preprocess_ms, 2)} "
            f"| {fmt(k.inference_ms, 2)} | {fmt(k.cpu_ms_per_image, 2)} |"
        )
    return lines


def open_loop_section(m: Measurements) -> list[str]:
    if not m.open_loop:
        return []
    lines = [
        "",
        "## Open loop",
        "",
        f"Uploads of the 1.2 MP JPEG arriving at a constant rate, each on its own schedule "
        f"whether or not earlier ones are answered (as photos from many phones do), at shares "
        f"of the capacity the defaults reached closed-loop ({fmt(m.capacity)} img/s); each "
        "upload then long-polls its result. Latency from the start of the POST to the client "
        "holding the result. CPU is % of one core over the arrivals and their answers; a "
        "client near 100 % would mean the load generator, not the system, set the pace.",
        "",
        "| load | uploads/s | sent | p50 | p95 | p99 | p99 / p50 | 503 | other failures "
        "| CPU gateway | CPU worker(s) | CPU client | CPU machine |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in m.open_loop:
        lines.append(
            f"| {r.load:.0%} | {fmt(r.rate)} | {r.sent} | {fmt(r.pct(50))} | {fmt(r.pct(95))} "
            f"| {fmt(r.pct(99))} | {r.tail_ratio:.2f} | {100 * r.refused_share:.1f} % "
            f"| {r.failed} "
            + "".join(
                f"| {r.cpu.get(role, 0):.0f} % "
                for role in ("gateway", "worker", "client", "machine")
            )
            + "|"
        )
    if m.plot:
        lines += ["", f"![open-loop latency]({m.plot})"]
    return lines


def ab_table(m: Measurements) -> list[str]:
    if not m.ab:
        return []
    model = m.worker_kernel()
    model_ms = model.cpu_ms_per_image if model else 0.0
    lines = [
        "",
        "## A/B",
        "",
        "Both stacks running at once on the default workers, measured in turns (A B, B A, ...); "
        "B / A is the ratio of the two, the same minute on the same machine.",
        "",
        "| image | clients | side | img/s | p50 | p95 | upload | store+notify "
        "| non-model CPU-ms | gateway CPU-ms | worker outside model CPU-ms |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for a, b in m.ab:
        ca, cb = cpu_cost(a, model_ms), cpu_cost(b, model_ms)
        lines += [_ab_row(a, model_ms), _ab_row(b, model_ms)]
        lines.append(
            f"| {a.size_mp} MP | {a.clients} | B / A | "
            f"{_ratio(b.images_per_s, a.images_per_s)} | {_ratio(b.pct(50), a.pct(50))} "
            f"| {_ratio(b.pct(95), a.pct(95))} | | | {_ratio(cb.non_model, ca.non_model)} "
            f"| {_ratio(cb.gateway, ca.gateway)} "
            f"| {_ratio(cb.worker_outside_model, ca.worker_outside_model)} |"
        )
    return lines


def _ab_row(p: PipelineResult, model_ms: float) -> str:
    c = cpu_cost(p, model_ms)
    return (
        f"| {p.size_mp} MP | {p.clients} | {p.config} | {fmt(p.images_per_s)} | {fmt(p.pct(50))} "
        f"| {fmt(p.pct(95))} | {fmt(p.median(lambda s: s.upload_ms))} "
        f"| {fmt(p.median(lambda s: s.after_ms))} | {fmt(c.non_model)} | {fmt(c.gateway)} "
        f"| {fmt(c.worker_outside_model)} |"
    )


def _ratio(b: float, a: float) -> str:
    return f"{b / a:.2f}" if a else "-"
