"""Sections of docs/BENCHMARKS.md that other measurements write (the web page's, the task
lifecycle's, the claim check's), kept when `make bench` rewrites the rest of the file."""

from pathlib import Path

PAGE_START = "<!-- page-bench:start -->"
PAGE_END = "<!-- page-bench:end -->"
MODELS = "## Models"  # written by tools.bench.models
LIFECYCLE_START = "<!-- lifecycle-bench:start -->"
LIFECYCLE_END = "<!-- lifecycle-bench:end -->"
STORAGE_START = "<!-- storage-bench:start -->"
STORAGE_END = "<!-- storage-bench:end -->"
_MARKERS = (
    (STORAGE_START, STORAGE_END),
    (PAGE_START, PAGE_END),
    (LIFECYCLE_START, LIFECYCLE_END),
)


def marked_section(text: str, start: str = PAGE_START, end: str = PAGE_END) -> str | None:
    """The section of ``text`` between ``start`` and ``end``, markers included, if any."""
    first, last = text.find(start), text.find(end)
    if first < 0 or last < first:
        return None
    return text[first : last + len(end)]


def with_marked_section(
    text: str, section: str, start: str = PAGE_START, end: str = PAGE_END
) -> str:
    """``text`` with its ``start``..``end`` section replaced by ``section`` (appended when it
    has none)."""
    current = marked_section(text, start, end)
    if current is not None:
        return text.replace(current, section)
    return text.rstrip("\n") + "\n\n" + section + "\n"


def page_section(text: str) -> str | None:
    """The page benchmark's section of ``text``, markers included, if it has one."""
    return marked_section(text, PAGE_START, PAGE_END)


def with_page_section(text: str, section: str) -> str:
    """``text`` with its page section replaced by ``section`` (appended when it has none)."""
    return with_marked_section(text, section, PAGE_START, PAGE_END)


def keep_page_section(out: Path, text: str) -> str:
    """``text`` (a fresh report) with the marked sections (claim check, page, lifecycle) of
    the report it replaces."""
    old = out.read_text() if out.is_file() else ""
    for start, end in _MARKERS:
        section = marked_section(old, start, end)
        if section is not None:
            text = with_marked_section(text, section, start, end)
    return text


def keep_models_section(out: Path, text: str) -> str:
    """``text`` (a report measured without the models) with the models section of the report
    it replaces, marked sections excluded."""
    old = out.read_text() if out.is_file() else ""
    start = old.find(f"\n{MODELS}\n")
    if start < 0:
        return text
    stops = [old.find(mark, start + 1) for mark in ("\n## ", *(s for s, _ in _MARKERS))]
    ends = [i for i in stops if i >= 0]
    section = old[start : min(ends) if ends else len(old)].strip("\n")
    return text.rstrip("\n") + "\n\n" + section + "\n"
