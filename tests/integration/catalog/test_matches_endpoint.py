"""GET /products/matches: a client's own predictions get the products a server result has."""

from typing import Any

import httpx
import pytest

from tests.support.client import auth, poll, upload
from tools.devstack import Stack
from tools.devstack.emulator import SignedInUser


def _matches(base_url: str, token: str | None, **params: str) -> httpx.Response:
    headers = auth(token) if token else {}
    return httpx.get(f"{base_url}/products/matches", params=params, headers=headers, timeout=10)


def _as_params(predictions: list[dict[str, Any]]) -> dict[str, str]:
    return {
        "class_ids": ",".join(str(p["class_id"]) for p in predictions),
        "confidences": ",".join(repr(p["confidence"]) for p in predictions),
    }


@pytest.mark.parametrize("photo", ["coffee_jpeg", "cat_jpeg"])
def test_the_predictions_of_a_result_bring_exactly_its_products(
    catalog_stack: Stack, user: SignedInUser, photo: str, request: pytest.FixtureRequest
) -> None:
    base_url = catalog_stack.base_url
    task_id = upload(base_url, user.id_token, request.getfixturevalue(photo)).json()["task_id"]
    result = poll(base_url, user.id_token, task_id)

    response = _matches(base_url, user.id_token, **_as_params(result["predictions"]))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["products"] == result["products"]
    assert body["classes"] == [
        {"class_id": p["class_id"], "confidence": p["confidence"]} for p in result["predictions"]
    ]


def test_order_and_spacing_of_the_pairs_do_not_change_the_ranking(
    catalog_stack: Stack, user: SignedInUser
) -> None:
    base_url = catalog_stack.base_url
    one = _matches(base_url, user.id_token, class_ids="967,968", confidences="0.62,0.21").json()
    other = _matches(base_url, user.id_token, class_ids=" 968, 967", confidences="0.21 ,0.62")
    assert one["products"] and other.json()["products"] == one["products"]
    assert {p["category"]["slug"] for p in one["products"]} == {"mugs-and-cups"}
    scores = [p["score"] for p in one["products"]]
    assert scores == sorted(scores, reverse=True)
    assert scores[0] == pytest.approx(0.62 * 0.8 + 0.21 * 1.0)  # espresso 0.8, cup 1.0


def test_classes_the_shop_does_not_sell_bring_no_products(
    catalog_stack: Stack, user: SignedInUser
) -> None:
    response = _matches(catalog_stack.base_url, user.id_token, class_ids="281", confidences="0.9")
    assert response.status_code == 200
    assert response.json()["products"] == []


@pytest.mark.parametrize(
    ("class_ids", "confidences", "code"),
    [
        ("967,968", "0.62", "mismatched_pairs"),
        ("1000", "0.5", "invalid_class_ids"),
        ("-1", "0.5", "invalid_class_ids"),
        ("cup", "0.5", "invalid_class_ids"),
        ("967,", "0.5,0.1", "invalid_class_ids"),
        ("967", "1.5", "invalid_confidences"),
        ("967", "nan", "invalid_confidences"),
        ("967", "-0.1", "invalid_confidences"),
        ("1,2,3,4,5,6", "0.1,0.1,0.1,0.1,0.1,0.1", "too_many_classes"),
        ("967,967", "0.5,0.2", "duplicate_class_id"),
        ("", "", "validation_error"),
    ],
)
def test_malformed_pairs_are_refused_with_a_reason(
    catalog_stack: Stack, user: SignedInUser, class_ids: str, confidences: str, code: str
) -> None:
    response = _matches(
        catalog_stack.base_url, user.id_token, class_ids=class_ids, confidences=confidences
    )
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == code
    assert body["detail"]


def test_matches_need_a_token(catalog_stack: Stack) -> None:
    response = _matches(catalog_stack.base_url, None, class_ids="967", confidences="0.5")
    assert response.status_code == 401
    assert response.json()["error"] == "missing_token"
