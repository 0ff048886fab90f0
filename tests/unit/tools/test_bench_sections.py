"""docs/BENCHMARKS.md keeps the web page's section when `make bench` rewrites the rest."""

from pathlib import Path

from tools.bench.sections import (
    LIFECYCLE_END,
    LIFECYCLE_START,
    PAGE_END,
    PAGE_START,
    STORAGE_END,
    STORAGE_START,
    keep_page_section,
    with_marked_section,
    with_page_section,
)

SECTION = f"{PAGE_START}\n## Web page\n| cold | 300 |\n{PAGE_END}"


def test_a_section_is_appended_once_then_replaced_in_place() -> None:
    report = "# Benchmarks\n\n## Pipeline\n"
    once = with_page_section(report, SECTION)
    assert once == f"# Benchmarks\n\n## Pipeline\n\n{SECTION}\n"
    newer = SECTION.replace("300", "250")
    twice = with_page_section(once, newer)
    assert twice == f"# Benchmarks\n\n## Pipeline\n\n{newer}\n"


def test_a_rewritten_report_keeps_the_page_section(tmp_path: Path) -> None:
    out = tmp_path / "BENCHMARKS.md"
    out.write_text(f"# Benchmarks\n\nold pipeline numbers\n\n{SECTION}\n")
    fresh = "# Benchmarks\n\nnew pipeline numbers\n"
    assert keep_page_section(out, fresh) == f"{fresh}\n{SECTION}\n"


def test_without_a_page_section_the_report_is_unchanged(tmp_path: Path) -> None:
    fresh = "# Benchmarks\n"
    assert keep_page_section(tmp_path / "missing.md", fresh) == fresh
    (tmp_path / "plain.md").write_text("# Benchmarks\n\nno page numbers yet\n")
    assert keep_page_section(tmp_path / "plain.md", fresh) == fresh


def test_a_rewritten_report_keeps_the_claim_check_section_too(tmp_path: Path) -> None:
    storage = f"{STORAGE_START}\n## Claim check\n\n| a | b |\n{STORAGE_END}"
    out = tmp_path / "BENCHMARKS.md"
    out.write_text(with_page_section(f"# Benchmarks\n\nstale numbers\n\n{storage}\n", SECTION))
    fresh = "# Benchmarks\n\nnew numbers\n"
    kept = keep_page_section(out, fresh)
    assert kept.startswith(fresh.rstrip("\n"))
    assert storage in kept and SECTION in kept
    assert "stale numbers" not in kept


def test_the_claim_check_section_is_replaced_in_place() -> None:
    report = f"# Benchmarks\n\n{STORAGE_START}\nfirst\n{STORAGE_END}\n\ntail\n"
    newer = f"{STORAGE_START}\nsecond\n{STORAGE_END}"
    assert with_marked_section(report, newer, STORAGE_START, STORAGE_END) == (
        f"# Benchmarks\n\n{newer}\n\ntail\n"
    )


def test_a_rewritten_report_keeps_the_lifecycle_section_too(tmp_path: Path) -> None:
    lifecycle = f"{LIFECYCLE_START}\n## Task lifecycle\n| sync | 40 |\n{LIFECYCLE_END}"
    out = tmp_path / "BENCHMARKS.md"
    out.write_text(f"# Benchmarks\n\nold\n\n{SECTION}\n\n{lifecycle}\n")
    fresh = "# Benchmarks\n\nnew\n"
    kept = keep_page_section(out, fresh)
    assert kept == f"{fresh}\n{SECTION}\n\n{lifecycle}\n"
    newer = lifecycle.replace("40", "38")
    assert with_marked_section(kept, newer, LIFECYCLE_START, LIFECYCLE_END) == (
        f"{fresh}\n{SECTION}\n\n{newer}\n"
    )
