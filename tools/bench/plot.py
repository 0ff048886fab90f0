"""The open-loop latency curve as a PNG for docs/ (matplotlib, the `bench` extra)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from tools.bench.openloop import OpenLoopResult


def plot_open_loop(results: Sequence[OpenLoopResult], path: Path, title: str) -> bool:
    """Write p50/p95/p99 against the arrival rate (share of capacity) to ``path``; False
    (nothing written) when matplotlib is not installed or there is nothing to plot."""
    try:
        import matplotlib

        matplotlib.use("Agg")  # no display: files only
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    answered = [r for r in results if r.latencies_ms]
    if not answered:
        return False
    loads = [100 * r.load for r in answered]
    figure, axes = plt.subplots(figsize=(6.4, 4.0), dpi=100)
    for q, style in ((50, "o-"), (95, "s--"), (99, "^:")):
        axes.plot(loads, [r.pct(q) for r in answered], style, label=f"p{q}")
    for r in answered:
        if r.refused:
            axes.annotate(
                f"{100 * r.refused_share:.0f} % 503",
                (100 * r.load, r.pct(99)),
                textcoords="offset points",
                xytext=(0, 6),
                ha="center",
            )
    axes.set_xlabel("arrival rate, % of measured capacity")
    axes.set_ylabel("upload to result, ms")
    axes.set_title(title, fontsize=10)
    axes.set_ylim(bottom=0)
    axes.grid(True, alpha=0.3)
    axes.legend()
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)
    return True
