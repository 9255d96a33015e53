"""The link mailed with an access package: the portal's page when a portal is set, the API's download otherwise."""

from __future__ import annotations

import uuid
from types import SimpleNamespace
from typing import Any

from services.dsar.service.packages import _link

PACKAGE = SimpleNamespace(id=uuid.UUID("5f0c2b7a-8e1d-4c3b-a2f9-1e0d9c8b7a6f"))


def uow(portal_url: str | None) -> Any:
    settings = SimpleNamespace(portal_url=portal_url)
    return SimpleNamespace(settings=settings, tenant_id="demo", url=lambda path: "https://dsar.example" + path)


def test_the_person_gets_the_portal_page_when_a_portal_is_set() -> None:
    link = _link(uow("https://privacy.example/"), PACKAGE, "t" * 43, for_person=True)  # type: ignore[arg-type]
    assert link == f"https://privacy.example/p/demo/packages/{PACKAGE.id}?token={'t' * 43}"


def test_the_api_link_otherwise_and_for_the_privacy_team() -> None:
    api = f"https://dsar.example/v1/packages/{PACKAGE.id}/download?token=tok"
    assert _link(uow(None), PACKAGE, "tok", for_person=True) == api  # type: ignore[arg-type]
    assert _link(uow("https://privacy.example"), PACKAGE, "tok") == api  # type: ignore[arg-type]
