"""The committed ImageNet-1k label file: unique, short, human, and reproducible from its
derivation (``python -m tools.imagenet_labels``)."""

from pathlib import Path

import pytest

from contracts.labels import (
    LABEL_SET_DIR,
    MAX_LABEL_CHARS,
    LabelSetError,
    check_labels,
    load_label_set,
    parse_tsv,
)
from tools.imagenet_labels import IMAGENET_1K, OVERRIDES, derive, main

LABELS = load_label_set(IMAGENET_1K)


def test_the_committed_file_is_what_the_derivation_writes(tmp_path: Path) -> None:
    out = tmp_path / "labels.tsv"
    assert main(["--out", str(out)]) == 0
    committed = (LABEL_SET_DIR / f"{IMAGENET_1K}.tsv").read_text(encoding="utf-8")
    assert out.read_text(encoding="utf-8") == committed, "run `python -m tools.imagenet_labels`"


def test_there_are_1000_labels_each_unique_ignoring_case() -> None:
    assert len(LABELS.labels) == 1000
    assert len({label.casefold() for label in LABELS.labels}) == 1000


def test_labels_are_short_plain_names() -> None:
    for label in LABELS.labels:
        assert 1 < len(label) <= MAX_LABEL_CHARS, label
        assert label == label.strip() and "/" not in label and "," not in label, label
        assert not label.lower().startswith(("a ", "an ")), label


@pytest.mark.parametrize(
    ("class_id", "label"),
    [
        (0, "tench"),
        (281, "tabby cat"),
        (282, "tiger cat"),
        (657, "missile"),
        (744, "projectile"),
        (836, "burning glass"),
        (837, "sunglasses"),
        (967, "espresso"),
        (968, "tea cup"),
    ],
)
def test_known_classes_read_as_people_say_them(class_id: int, label: str) -> None:
    assert LABELS.label(class_id) == label


def test_every_override_changes_something() -> None:
    derived = derive()
    for class_id, label in OVERRIDES.items():
        assert derived.labels[class_id] == label
    assert len(OVERRIDES) < 100, "overrides fix the exceptions, not the list"


def test_out_of_range_class_ids_are_refused() -> None:
    with pytest.raises(ValueError):
        LABELS.label(1000)
    with pytest.raises(ValueError):
        LABELS.label(-1)


def test_duplicates_long_names_and_sentences_are_refused() -> None:
    with pytest.raises(LabelSetError, match="both named"):
        check_labels(("missile", "Missile"))
    with pytest.raises(LabelSetError, match="short name"):
        check_labels(("a cat having a striped coat",))
    with pytest.raises(LabelSetError, match="plain name"):
        check_labels(("cardboard box / carton",))


def test_a_malformed_file_is_refused() -> None:
    with pytest.raises(LabelSetError, match="first line"):
        parse_tsv("x", "id\tname\n0\ttench\n")
    with pytest.raises(LabelSetError, match="not class 1"):
        parse_tsv("x", "class_id\tlabel\twordnet\n0\ttench\ttench\n2\tgoldfish\tgoldfish\n")


@pytest.mark.parametrize("name", ["../secrets", "imagenet-1k.tsv", "", "A"])
def test_label_set_names_are_never_paths(name: str) -> None:
    with pytest.raises(LabelSetError):
        load_label_set(name)
