"""The Content-Security-Policy of the page and of the API docs.

The JSON API keeps ``default-src 'none'`` (``app.http.security_headers``); the two HTML surfaces
get policies that allow exactly what they load: their own origin, and for the page's sign-in
either the Auth Emulator (emulator mode only) or Google's two Identity Toolkit hosts. No
``'unsafe-inline'`` script anywhere; the docs' one inline script is allowed by its hash. The
page's ``script-src`` adds ``'wasm-unsafe-eval'``, which lets it compile WebAssembly (the
on-device model's runtime) and nothing else: JavaScript ``eval`` stays refused.
"""

import base64
import hashlib
from collections.abc import Iterable
from urllib.parse import urlsplit

from app.web.page_config import emulator_url
from config import Settings

# What the Firebase Auth JS SDK calls in production: sign-in, and the token refresh.
FIREBASE_AUTH_ORIGINS = (
    "https://identitytoolkit.googleapis.com",
    "https://securetoken.googleapis.com",
)


def _render(directives: dict[str, Iterable[str]]) -> str:
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def page_policy(settings: Settings) -> str:
    emulator = emulator_url(settings)
    sign_in = (_origin(emulator),) if emulator else FIREBASE_AUTH_ORIGINS
    return _render(
        {
            "default-src": ["'none'"],
            "script-src": ["'self'", "'wasm-unsafe-eval'"],
            "style-src": ["'self'"],
            # blob: the preview of the photo picked, read locally.
            "img-src": ["'self'", "blob:"],
            "connect-src": ["'self'", *sign_in],
            "base-uri": ["'none'"],
            "form-action": ["'self'"],
            "frame-ancestors": ["'none'"],
        }
    )


def script_hash(script: str) -> str:
    digest = hashlib.sha256(script.encode()).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


def docs_policy(inline_scripts: Iterable[str]) -> str:
    """Swagger UI and ReDoc: their bundles from 'self', inline styles (both inject them),
    data: images (Swagger UI's icons) and blob: workers (ReDoc's search index)."""
    return _render(
        {
            "default-src": ["'none'"],
            "script-src": ["'self'", *(script_hash(s) for s in inline_scripts)],
            "style-src": ["'self'", "'unsafe-inline'"],
            "img-src": ["'self'", "data:"],
            "font-src": ["'self'"],
            "connect-src": ["'self'"],
            "worker-src": ["'self'", "blob:"],
            "base-uri": ["'none'"],
            "form-action": ["'none'"],
            "frame-ancestors": ["'none'"],
        }
    )
