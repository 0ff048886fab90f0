"""The upload's result URL is the one Starlette's url_for would build, root path included."""

import pytest
from fastapi import FastAPI, Request
from starlette.testclient import TestClient

from app.api.routes.results import RESULT_PATH, result_path


@pytest.mark.parametrize("root_path", ["", "/api", "/api/"])
def test_the_result_path_matches_url_for(root_path: str) -> None:
    app = FastAPI()

    @app.get(RESULT_PATH)
    async def get_result(task_id: str) -> dict[str, str]:
        return {}

    @app.get("/probe")
    async def probe(request: Request) -> dict[str, str]:
        expected = request.url_for("get_result", task_id="t-1").path
        return {"expected": expected, "built": result_path(request, "t-1")}

    answer = TestClient(app, root_path=root_path).get("/probe").json()
    assert answer["built"] == answer["expected"]
    assert answer["built"].endswith("/result/t-1")
