"""The gateway serves the built page, its settings and the API docs, each with the headers
its content needs, while the JSON API keeps its own."""

import re

import httpx
import pytest

from tools.devstack import Stack
from tools.devstack.emulator import DEFAULT_HOST as AUTH_EMULATOR_HOST

API_POLICY = "default-src 'none'; frame-ancestors 'none'"


def _directives(policy: str) -> dict[str, list[str]]:
    return {
        name: sources
        for name, *sources in (part.split() for part in policy.split(";") if part.strip())
    }


def test_the_root_leads_to_the_page(stack: Stack) -> None:
    response = httpx.get(f"{stack.base_url}/")
    assert response.status_code == 307
    assert response.headers["Location"] == "/app/"
    assert httpx.get(f"{stack.base_url}/app").headers["Location"].endswith("/app/")


def test_the_page_allows_only_itself_and_the_auth_emulator(stack: Stack) -> None:
    response = httpx.get(f"{stack.base_url}/app/")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    assert response.headers["Cache-Control"] == "no-cache"
    policy = _directives(response.headers["Content-Security-Policy"])
    assert policy["default-src"] == ["'none'"]
    assert policy["script-src"] == ["'self'", "'wasm-unsafe-eval'"]
    assert policy["connect-src"] == ["'self'", f"http://{AUTH_EMULATOR_HOST}"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    # Every script and stylesheet the page names is its own, and served.
    assets = re.findall(r'(?:src|href)="(/app/assets/[^"]+)"', response.text)
    assert any(a.endswith(".js") for a in assets) and any(a.endswith(".css") for a in assets)
    for asset in assets:
        served = httpx.get(f"{stack.base_url}{asset}")
        assert served.status_code == 200, asset
        assert served.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert not re.search(r'(?:src|href)="(?:https?:)?//', response.text)


def test_the_on_device_runtime_comes_from_the_page_build_as_wasm(stack: Stack) -> None:
    page = httpx.get(f"{stack.base_url}/app/").text
    bundle = re.search(r'src="(/app/assets/index-[^"]+\.js)"', page)
    assert bundle is not None
    script = httpx.get(f"{stack.base_url}{bundle.group(1)}").text
    runtimes = set(re.findall(r"/app/assets/ort-wasm[\w.-]+\.wasm", script))
    assert len(runtimes) == 1, runtimes
    wasm = httpx.get(f"{stack.base_url}{runtimes.pop()}")
    assert wasm.status_code == 200
    assert wasm.headers["Content-Type"] == "application/wasm"
    assert wasm.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert wasm.content[:4] == b"\0asm"


def test_an_unchanged_page_is_revalidated_without_a_body(stack: Stack) -> None:
    first = httpx.get(f"{stack.base_url}/app/")
    again = httpx.get(f"{stack.base_url}/app/", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert again.content == b""


def test_the_page_settings_point_the_browser_at_the_emulator(stack: Stack) -> None:
    response = httpx.get(f"{stack.base_url}/app/config.json")
    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"] == API_POLICY
    assert response.json() == {
        "firebase": {
            "apiKey": "emulator-api-key",
            "authDomain": "demo-snapmatch.firebaseapp.com",
            "projectId": "demo-snapmatch",
        },
        "auth_emulator_url": f"http://{AUTH_EMULATOR_HOST}",
        "max_upload_bytes": 10 * 1024 * 1024,
        "result_wait_seconds": 30.0,
        "top_k": 5,
    }


def test_a_missing_page_file_is_a_json_404(stack: Stack) -> None:
    response = httpx.get(f"{stack.base_url}/app/nothing-here.js")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


@pytest.mark.parametrize(
    ("path", "bundle"),
    [
        ("/docs", "/app/vendor/swagger-ui/swagger-ui-bundle.js"),
        ("/redoc", "/app/vendor/redoc/redoc.standalone.js"),
    ],
)
def test_the_api_docs_load_their_scripts_from_the_gateway(
    stack: Stack, path: str, bundle: str
) -> None:
    page = httpx.get(f"{stack.base_url}{path}")
    assert page.status_code == 200
    assert f'src="{bundle}"' in page.text
    assert "cdn.jsdelivr.net" not in page.text and "fonts.googleapis.com" not in page.text
    policy = _directives(page.headers["Content-Security-Policy"])
    inline_scripts = re.findall(r"<script>(.*?)</script>", page.text, re.DOTALL)
    hashes = [source for source in policy["script-src"] if source.startswith("'sha256-")]
    assert len(hashes) == len(inline_scripts)
    assert "'unsafe-inline'" not in policy["script-src"]
    script = httpx.get(f"{stack.base_url}{bundle}")
    assert script.status_code == 200
    assert "javascript" in script.headers["Content-Type"]
    assert "cdn.redoc.ly" not in script.text


def test_api_answers_keep_the_strict_policy(stack: Stack) -> None:
    for path in ("/health", "/openapi.json", "/result/not-a-uuid"):
        response = httpx.get(f"{stack.base_url}{path}")
        assert response.headers["Content-Security-Policy"] == API_POLICY, path
