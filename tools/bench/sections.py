"""Sections of docs/BENCHMARKS.md that other measurements write (the web page's, the claim
check's), kept when `make bench` rewrites the rest of the file."""

from pathlib import Path

PAGE_START = "<!-- page-bench:start -->"
PAGE_END = "<!-- page-bench:end -->"
STORAGE_START = "<!-- storage-bench:start -->"
STORAGE_END = "<!-- storage-bench:end -->"
_KEPT = ((STORAGE_START, STORAGE_END), (PAGE_START, PAGE_END))


def marked_section(text: str, start_marker: str, end_marker: str) -> str | None:
    """The section of ``text`` between the markers, markers included, if it has one."""
    start, end = text.find(start_marker), text.find(end_marker)
    if start < 0 or end < start:
        return None
    return text[start : end + len(end_marker)]


def with_marked_section(text: str, section: str, start_marker: str, end_marker: str) -> str:
    """``text`` with its marked section replaced by ``section`` (appended when it has none)."""
    current = marked_section(text, start_marker, end_marker)
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
    """``text`` (a fresh report) with the separately measured sections of the report it
    replaces (the claim check's, the page's)."""
    old = out.read_text() if out.is_file() else ""
    for start, end in _KEPT:
        section = marked_section(old, start, end)
        if section:
            text = with_marked_section(text, section, start, end)
    return text
