"""Sections of docs/BENCHMARKS.md that other measurements write (the web page's), kept when
`make bench` rewrites the rest of the file."""

from pathlib import Path

PAGE_START = "<!-- page-bench:start -->"
PAGE_END = "<!-- page-bench:end -->"
MODELS = "## Models"  # written by tools.bench.models


def page_section(text: str) -> str | None:
    """The page benchmark's section of ``text``, markers included, if it has one."""
    start, end = text.find(PAGE_START), text.find(PAGE_END)
    if start < 0 or end < start:
        return None
    return text[start : end + len(PAGE_END)]


def with_page_section(text: str, section: str) -> str:
    """``text`` with its page section replaced by ``section`` (appended when it has none)."""
    current = page_section(text)
    if current is not None:
        return text.replace(current, section)
    return text.rstrip("\n") + "\n\n" + section + "\n"


def keep_page_section(out: Path, text: str) -> str:
    """``text`` (a fresh report) with the page section of the report it replaces."""
    old = out.read_text() if out.is_file() else ""
    section = page_section(old)
    return with_page_section(text, section) if section else text


def keep_models_section(out: Path, text: str) -> str:
    """``text`` (a report measured without the models) with the models section of the report
    it replaces, page section excluded."""
    old = out.read_text() if out.is_file() else ""
    start = old.find(f"\n{MODELS}\n")
    if start < 0:
        return text
    ends = [i for i in (old.find("\n## ", start + 1), old.find(PAGE_START, start)) if i >= 0]
    section = old[start : min(ends) if ends else len(old)].strip("\n")
    return text.rstrip("\n") + "\n\n" + section + "\n"
