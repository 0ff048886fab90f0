"""The benchmark's models section replaces itself in docs/BENCHMARKS.md and nothing else."""

from tools.bench.models import render_models, replace_section
from tools.bench.results import ModelResult

DOC = "# Benchmarks\n\n## Raw kernel\n\nrows\n\n## Models\n\nold\n\n## Defaults and why\n\nwhy\n"


def _result(name: str, miss: float) -> ModelResult:
    return ModelResult(
        name, "fp32", 224, 18.5, 0.2, 50.0, 90.0, 9.6, 68.0, 80, 80, miss, 90.0, 40.0
    )


def test_the_section_is_replaced_in_place() -> None:
    updated = replace_section(DOC, ["", "## Models", "", "new"])
    assert updated == DOC.replace("old", "new")


def test_the_section_is_appended_when_missing() -> None:
    updated = replace_section("# Benchmarks\n\n## Raw kernel\n\nrows\n", ["", "## Models", "", "x"])
    assert updated == "# Benchmarks\n\n## Raw kernel\n\nrows\n\n## Models\n\nx\n"


def test_the_preloaded_default_has_no_cache_miss_row() -> None:
    lines = render_models([_result("efficientnet-lite0", float("nan")), _result("b", 120.0)])
    assert any(line.startswith("| efficientnet-lite0 | fp32 |") for line in lines)
    assert "| b | 120.0 | 90.0 | 40.0 |" in lines
    assert not any(line.startswith("| efficientnet-lite0 | nan") for line in lines)
