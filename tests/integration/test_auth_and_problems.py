"""Auth on a sample endpoint: 401 without or with a bad token, 403 without the scope, 404 across tenants."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest
from sqlmodel import func, select

from services.consent.models import ConsentRecord
from shared.bus.outbox import OutboxMessage
from tests.support.stack import JWT_SECRET, Infra, RunningService, auth, run_service, token

pytestmark = pytest.mark.integration

BODY = {"subject": {"kind": "email", "value": "grace@example.com"}, "purpose": "newsletter", "decision": "granted"}


@pytest.fixture
async def consent(infra: Infra, topic_prefix: str):  # type: ignore[no-untyped-def]
    settings = infra.settings("consent", infra.fresh_database("consent"), topic_prefix)
    async with run_service("consent", settings) as svc:
        # Decisions are recorded only for purposes in the tenant's catalogue.
        for tenant in ("acme", "globex"):
            created = await svc.client.post(
                "/v1/purposes",
                json={"key": "newsletter", "name": "Newsletter", "lawful_basis": "consent"},
                headers=auth(tenant, "consent:admin"),
            )
            assert created.status_code == 201, created.text
        yield svc


def assert_problem(response, status: int) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert body["title"] and body["detail"] and body["type"]
    return dict(body)


async def rows(svc: RunningService) -> tuple[int, int]:
    async with svc.runtime.database.session() as session:
        records = (await session.exec(select(func.count()).select_from(ConsentRecord))).one()
        events = (await session.exec(select(func.count()).select_from(OutboxMessage))).one()
    return int(records), int(events)


async def test_no_token_is_401_with_a_challenge(consent: RunningService) -> None:
    response = await consent.client.post("/v1/consents", json=BODY)
    assert_problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert await rows(consent) == (0, 0)


@pytest.mark.parametrize(
    "bad_token",
    [
        "not-a-jwt",
        token("acme", "consent:write", secret="another-secret-that-is-long-enough-1234567"),
        token("acme", "consent:write", ttl=timedelta(seconds=-120)),
        jwt.encode({"sub": "x", "scope": "consent:write", "exp": 4102444800}, JWT_SECRET, algorithm="HS256"),
        jwt.encode(
            {"sub": "x", "tenant": "acme", "scope": "consent:write", "exp": 4102444800}, "k" * 64, algorithm="HS384"
        ),
    ],
    ids=["garbage", "wrong-signature", "expired", "no-tenant", "other-algorithm"],
)
async def test_invalid_tokens_are_401(consent: RunningService, bad_token: str) -> None:
    response = await consent.client.post("/v1/consents", json=BODY, headers={"Authorization": f"Bearer {bad_token}"})
    assert_problem(response, 401)
    assert await rows(consent) == (0, 0)


async def test_missing_scope_is_403(consent: RunningService) -> None:
    response = await consent.client.post("/v1/consents", json=BODY, headers=auth("acme", "consent:read"))
    body = assert_problem(response, 403)
    assert body["required_scopes"] == ["consent:write"]
    assert await rows(consent) == (0, 0)


async def test_admin_scope_implies_write_and_read(consent: RunningService) -> None:
    created = await consent.client.post("/v1/consents", json=BODY, headers=auth("acme", "consent:admin"))
    assert created.status_code == 201
    read = await consent.client.get(f"/v1/consents/{created.json()['id']}", headers=auth("acme", "consent:admin"))
    assert read.status_code == 200
    assert read.json()["decision"] == "granted"


async def test_another_tenants_object_is_404(consent: RunningService) -> None:
    created = await consent.client.post("/v1/consents", json=BODY, headers=auth("acme", "consent:write"))
    consent_id = created.json()["id"]
    own = await consent.client.get(f"/v1/consents/{consent_id}", headers=auth("acme", "consent:read"))
    assert own.status_code == 200
    other = await consent.client.get(f"/v1/consents/{consent_id}", headers=auth("globex", "consent:read"))
    assert_problem(other, 404)
    missing = await consent.client.get(
        "/v1/consents/00000000-0000-0000-0000-000000000000", headers=auth("acme", "consent:read")
    )
    assert other.json()["detail"].replace(consent_id, "X") == missing.json()["detail"].replace(
        "00000000-0000-0000-0000-000000000000", "X"
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**BODY, "decision": "maybe"}, "decision"),
        ({**BODY, "purpose": "Not A Key!"}, "purpose"),
        ({**BODY, "subject": {"kind": "email", "value": "not-an-email"}}, "email"),
        ({**BODY, "subject": {"kind": "passport", "value": "X1"}}, "subject.kind"),
        ({**BODY, "surprise": True}, "surprise"),
        ({**BODY, "occurred_at": "2031-01-01T00:00:00Z"}, "occurred_at"),
    ],
    ids=["bad-decision", "bad-purpose", "malformed-email", "unknown-kind", "extra-field", "future"],
)
async def test_bad_input_is_a_problem_and_changes_nothing(consent: RunningService, body: dict, field: str) -> None:
    response = await consent.client.post("/v1/consents", json=body, headers=auth("acme", "consent:write"))
    problem = assert_problem(response, 422)
    assert field.split(".")[0] in problem["detail"] or field in str(problem.get("errors", ""))
    assert await rows(consent) == (0, 0)


async def test_a_write_stores_the_record_its_event_and_an_audit_entry_together(consent: RunningService) -> None:
    created = await consent.client.post("/v1/consents", json=BODY, headers=auth("acme", "consent:write"))
    assert created.status_code == 201
    assert await rows(consent) == (1, 1)
    recorded = datetime.fromisoformat(created.json()["recorded_at"])
    assert recorded == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # the injected clock


async def test_the_commit_happens_before_the_response(consent: RunningService) -> None:
    """A failure at commit time must reach the client as an error, never as a 201 for a lost write."""
    from sqlalchemy import text

    async with consent.runtime.database.session() as session:
        for statement in (
            "CREATE FUNCTION fail_at_commit() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'refused at commit'; END $$"
            " LANGUAGE plpgsql",
            "CREATE CONSTRAINT TRIGGER fail_at_commit AFTER INSERT ON consent_record"
            " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION fail_at_commit()",
        ):
            await session.exec(text(statement))  # type: ignore[call-overload]
    response = await consent.client.post("/v1/consents", json=BODY, headers=auth("acme", "consent:write"))
    assert_problem(response, 500)
    assert await rows(consent) == (0, 0)
