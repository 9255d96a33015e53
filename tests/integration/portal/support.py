"""What the privacy center's page tests share: the app over the fake services, one browser, its form token."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from services.portal.app import create_app
from shared.rules.clock import ManualClock
from tests.integration.portal.fakes import NOW, Services, settings

EVIL = {"Origin": "https://evil.example"}


@pytest.fixture
def services() -> Services:
    return Services()


@pytest.fixture
def app(services: Services) -> FastAPI:
    return create_app(settings(), ManualClock(NOW), transport=httpx.MockTransport(services.handle))


def browser(app: FastAPI, base_url: str = "http://portal.test") -> httpx.AsyncClient:
    """A client of the portal with its own cookie jar, as one browser."""
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 4000))
    return httpx.AsyncClient(transport=transport, base_url=base_url)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with browser(app) as http:
        yield http


def csrf_of(page: httpx.Response) -> str:
    """The form token a page's forms carry."""
    match = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert match, "the forms carry a CSRF token"
    return match.group(1)
