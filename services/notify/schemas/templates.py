"""Request and response shapes of templates, previews and a tenant's overrides."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from services.notify.schemas.common import examples
from services.notify.schemas.profile import LOCALE


class TemplateOut(BaseModel):
    """A template key, the locales it exists in, and the tenant's overridden files."""

    key: str
    locales: list[str]
    overrides: list[str] = Field(description="The tenant's own files of this key, as <locale>/<file>")


class PreviewIn(BaseModel):
    """Values to render a template with."""

    model_config = examples(
        {
            "locale": "fr",
            "context": {
                "request_id": "7f0c7a1e-8d0b-4e43-9f5e-1f2a3b4c5d6e",
                "request_type": "access",
                "code": "482913",
                "expires_at": "2026-03-03T09:00:00+00:00",
            },
        }
    )

    locale: str | None = Field(default=None, pattern=LOCALE)
    context: dict[str, Any] = Field(default_factory=dict)


class PreviewOut(BaseModel):
    """A rendered message."""

    subject: str
    text: str
    html: str
    locale: str


class OverrideIn(BaseModel):
    """The tenant's version of one template file (Jinja2; a .txt file starts with its Subject: line)."""

    model_config = examples({"source": "Subject: Votre code\nVotre code : {{ code }}\n"})

    source: str = Field(min_length=1, max_length=100_000)


class OverrideOut(BaseModel):
    """A tenant's override."""

    locale: str
    file: str
    source: str
    updated_at: datetime
