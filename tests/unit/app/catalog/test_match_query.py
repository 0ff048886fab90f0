"""The predicted classes a client sends to GET /products/matches, parsed or refused."""

import pytest

from app.catalog.matching import MatchQueryError, parse_predicted_classes
from app.catalog.models import PredictedClass


def test_pairs_are_read_in_order_with_spaces_allowed() -> None:
    assert parse_predicted_classes("967, 968 ,0", "0.62,0.21, 1e-3", most=5) == [
        PredictedClass(class_id=967, confidence=0.62),
        PredictedClass(class_id=968, confidence=0.21),
        PredictedClass(class_id=0, confidence=0.001),
    ]


def test_the_bounds_themselves_are_accepted() -> None:
    pairs = parse_predicted_classes("0,999", "0,1", most=2)
    assert [(p.class_id, p.confidence) for p in pairs] == [(0, 0.0), (999, 1.0)]


@pytest.mark.parametrize(
    ("class_ids", "confidences", "code", "says"),
    [
        ("967,968", "0.6", "mismatched_pairs", "2 class ids but 1 confidences"),
        ("1000", "0.1", "invalid_class_ids", "class_ids[0] is '1000'"),
        ("967,x", "0.1,0.2", "invalid_class_ids", "class_ids[1] is 'x'"),
        ("9" * 5000, "0.1", "invalid_class_ids", "integer from 0 to 999"),
        ("\u00b2", "0.1", "invalid_class_ids", "integer from 0 to 999"),  # a digit, not 0-9
        ("1", "inf", "invalid_confidences", "confidences[0] is 'inf'"),
        ("1", "NaN", "invalid_confidences", "number from 0 to 1"),
        ("1", "0x1", "invalid_confidences", "number from 0 to 1"),
        ("1,2,3", "0.1,0.1,0.1", "too_many_classes", "at most 2"),
        ("5,5", "0.1,0.2", "duplicate_class_id", "class id 5 is given twice"),
    ],
)
def test_bad_pairs_are_refused_with_a_stable_code_and_a_reason(
    class_ids: str, confidences: str, code: str, says: str
) -> None:
    with pytest.raises(MatchQueryError) as refused:
        parse_predicted_classes(class_ids, confidences, most=2)
    assert refused.value.code == code
    assert says in refused.value.detail
