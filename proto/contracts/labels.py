"""The class names a model's results carry: committed label files, one per label set.

A label set is a TSV in ``label_sets/`` (``class_id``, ``label``, ``wordnet``), derived offline
by ``python -m tools.imagenet_labels`` and reviewed like code. The worker names its predictions
from it and the gateway serves it as ``GET /models/{name}/labels``, so both always agree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

LABEL_SET_DIR = Path(__file__).resolve().parent / "label_sets"
HEADER = ("class_id", "label", "wordnet")
MAX_LABEL_CHARS = 30
MAX_LABEL_WORDS = 4
# Letters, digits, spaces and the punctuation of names ("jack-o'-lantern", "St. Bernard",
# "kite (bird)"); no slashes, commas or sentences.
_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 .'()-]*[A-Za-z0-9.)]$")


class LabelSetError(ValueError):
    """A label file is missing, malformed, or its labels are not unique, short and human."""


@dataclass(frozen=True)
class LabelSet:
    name: str
    labels: tuple[str, ...]  # by class id
    synonyms: tuple[str, ...]  # WordNet synonyms of each class, for reviewers

    def label(self, class_id: int) -> str:
        if not 0 <= class_id < len(self.labels):
            raise ValueError(f"class id {class_id} is outside 0..{len(self.labels) - 1}")
        return self.labels[class_id]


def check_labels(labels: tuple[str, ...]) -> None:
    """Raise LabelSetError unless every label is unique (ignoring case), short and plain."""
    seen: dict[str, int] = {}
    for class_id, label in enumerate(labels):
        if len(label) > MAX_LABEL_CHARS or len(label.split()) > MAX_LABEL_WORDS:
            raise LabelSetError(f"class {class_id}: {label!r} is longer than a short name")
        if not _LABEL.match(label) or "  " in label:
            raise LabelSetError(f"class {class_id}: {label!r} is not a plain name")
        earlier = seen.setdefault(label.casefold(), class_id)
        if earlier != class_id:
            raise LabelSetError(f"classes {earlier} and {class_id} are both named {label!r}")


def render_tsv(label_set: LabelSet) -> str:
    rows = ["\t".join(HEADER)]
    rows += [
        f"{class_id}\t{label}\t{synonyms}"
        for class_id, (label, synonyms) in enumerate(
            zip(label_set.labels, label_set.synonyms, strict=True)
        )
    ]
    return "\n".join(rows) + "\n"


def parse_tsv(name: str, text: str) -> LabelSet:
    lines = text.splitlines()
    if not lines or tuple(lines[0].split("\t")) != HEADER:
        raise LabelSetError(f"label set {name!r}: the first line must be {' '.join(HEADER)}")
    labels, synonyms = [], []
    for number, line in enumerate(lines[1:]):
        fields = line.split("\t")
        if len(fields) != len(HEADER) or fields[0] != str(number):
            raise LabelSetError(f"label set {name!r}: line {number + 2} is not class {number}")
        labels.append(fields[1])
        synonyms.append(fields[2])
    check_labels(tuple(labels))
    return LabelSet(name=name, labels=tuple(labels), synonyms=tuple(synonyms))


@cache
def load_label_set(name: str) -> LabelSet:
    """The committed label set ``name`` (e.g. ``imagenet-1k``), read once per process.

    ``name`` comes from a model manifest, never from a request; it is still checked to be a
    plain file name.
    """
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,63}", name):
        raise LabelSetError(f"{name!r} is not a label set name")
    path = LABEL_SET_DIR / f"{name}.tsv"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise LabelSetError(f"label set {name!r} not found: {exc}") from exc
    return parse_tsv(name, text)
