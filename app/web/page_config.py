"""What the page needs to know before it can sign anyone in, served as /app/config.json.

Nothing here is secret: a Firebase Web API key identifies the project to Google and is public
by design (rules and the gateway's token checks protect the data). Serving it from the settings
keeps one page build for every deployment.
"""

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from config import AuthMode, Settings

# The emulator accepts any key; the SDK refuses to start without one.
EMULATOR_API_KEY = "emulator-api-key"


class FirebaseWebConfig(BaseModel):
    """The object the Firebase JS SDK's ``initializeApp`` takes, key for key."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    api_key: str = Field(description="Web API key; empty when sign-in is not configured.")
    auth_domain: str
    project_id: str


class WebConfig(BaseModel):
    firebase: FirebaseWebConfig
    auth_emulator_url: str | None = Field(
        description="Where the browser reaches the Firebase Auth Emulator; null in production."
    )
    max_upload_bytes: int = Field(description="Largest photo the gateway accepts.")
    result_wait_seconds: float = Field(description="Longest long-poll the gateway holds.")
    top_k: int = Field(description="Labels per result, and the most pairs /products/matches takes.")


def emulator_url(settings: Settings) -> str | None:
    """The emulator's URL as the browser sees it, or None outside emulator mode."""
    if settings.auth_mode is not AuthMode.EMULATOR:
        return None
    configured = settings.web_auth_emulator_url or f"http://{settings.auth_emulator_host}"
    return configured.rstrip("/")


def web_config(settings: Settings) -> WebConfig:
    emulator = emulator_url(settings)
    api_key = settings.web_firebase_api_key or (EMULATOR_API_KEY if emulator else "")
    return WebConfig(
        firebase=FirebaseWebConfig(
            api_key=api_key,
            auth_domain=settings.web_firebase_auth_domain
            or f"{settings.firebase_project_id}.firebaseapp.com",
            project_id=settings.firebase_project_id,
        ),
        auth_emulator_url=emulator,
        max_upload_bytes=settings.max_upload_bytes,
        result_wait_seconds=settings.result_wait_max_seconds,
        top_k=settings.top_k,
    )
