"""The console's newer forms (pure): each body is one the service's own schema accepts, and each mistake is named."""

from __future__ import annotations

from typing import Any

import pytest

from services.breach.schemas import ApprovalIn, ContactsIn, PublicCommunicationIn
from services.consent.schemas.purposes import NoticeIn
from services.portal.domain import FormError
from services.portal.domain import demand_forms as demands
from services.portal.domain import notice_forms as notices
from services.subprocessor.domain.demands import Decision, DemandStatus
from services.subprocessor.schemas import DeferralIn, DemandIn, DisclosureIn, ReviewIn

DEMAND = {
    "authority_name": ["BRDA"],
    "authority_country": ["fr"],
    "authority_reference": ["BRDA-1"],
    "legal_basis": ["Réquisition"],
    "legal_reference": ["CPP art. 60-1"],
    "received_at": ["2026-03-09T08:30"],
    "customer_id": ["d5b2f3a4-2222-4b3c-9d4e-0f9e8d7c6b52"],
    "subjects": ["ada@example.com\nphone: +33 6 12 34 56 78\n\nuser_id:42"],
    "data_categories": ["contact_details,\nconnection_logs, contact_details"],
}


def errors_of(build: Any, form: dict[str, list[str]]) -> dict[str, str]:
    with pytest.raises(FormError) as caught:
        build(form)
    return caught.value.errors


def test_the_choices_are_the_services_own() -> None:
    assert set(demands.DEMAND_STATUSES) == {s.value for s in DemandStatus}
    assert set(demands.DECISIONS) == {d.value for d in Decision}


def test_a_demand_form_becomes_a_demand_the_service_accepts() -> None:
    body = demands.demand_body(DEMAND)
    assert body["subjects"] == [
        {"kind": "email", "value": "ada@example.com"},
        {"kind": "phone", "value": "+33 6 12 34 56 78"},
        {"kind": "user_id", "value": "42"},
    ]
    assert body["data_categories"] == ["contact_details", "connection_logs"] and "deferral" not in body
    DemandIn.model_validate(body)
    deferred = demands.demand_body(
        DEMAND
        | {
            "defer": ["yes"],
            "deferral_reason": ["Gag"],
            "deferral_instrument": ["Ord."],
            "deferral_until": ["2026-06-01"],
        }
    )
    assert DemandIn.model_validate(deferred).deferral == DeferralIn.model_validate(deferred["deferral"])


def test_a_demand_form_names_every_mistake() -> None:
    wrong = errors_of(demands.demand_body, {"authority_country": ["France"], "customer_id": ["acme"], "defer": ["yes"]})
    assert set(wrong) == {
        "authority_name",
        "authority_country",
        "legal_basis",
        "legal_reference",
        "authority_reference",
        "received_at",
        "customer_id",
        "subjects",
        "data_categories",
        "deferral_reason",
        "deferral_instrument",
        "deferral_until",
    }


def test_review_disclosure_and_deferral_bodies() -> None:
    ReviewIn.model_validate(demands.review_body({"decision": ["refused"], "reasoning": ["Too broad"]}))
    assert set(errors_of(demands.review_body, {"decision": ["maybe"]})) == {"decision", "reasoning"}
    disclosure = demands.disclosure_body(
        {
            "subject_ref": ["ab" * 32],
            "categories": ["connection_logs"],
            "records_count": ["42"],
            "channel": ["archive"],
            "disclosed_at": ["2026-03-10T08:00"],
        }
    )
    assert DisclosureIn.model_validate(disclosure).records_count == 42
    assert "records_count" in errors_of(demands.disclosure_body, {"records_count": ["-1"]})
    DeferralIn.model_validate(
        demands.deferral({"deferral_reason": ["r"], "deferral_instrument": ["i"], "deferral_until": ["2026-06-01"]})
    )


def test_a_contract_end_form() -> None:
    body = demands.contract_end_body(
        {
            "mode": ["delete"],
            "effective_at": ["2026-04-01"],
            "reason": ["Notice"],
            "notify_to": ["a@b.example"],
            "locale": ["de"],
        }
    )
    assert body == {
        "mode": "delete",
        "effective_at": "2026-04-01T00:00:00+00:00",
        "reason": "Notice",
        "notify_to": "a@b.example",
    }
    assert set(errors_of(demands.contract_end_body, {"mode": ["burn"], "notify_to": ["nobody"]})) == {
        "mode",
        "effective_at",
        "reason",
        "notify_to",
    }
    assert demands.task_close_body({"outcome": ["exempt"], "evidence": ["Tax law, 10 years"]})["records"] == 0
    assert set(errors_of(demands.task_close_body, {"records": ["many"]})) == {"outcome", "records", "evidence"}


def test_pasted_people_become_contacts_the_service_accepts() -> None:
    body = notices.contacts_body(
        {"contacts": ['email,name,locale\nada@example.com,"Lovelace, Ada",FR\r\n,\nbob@example.com']}
    )
    assert ContactsIn.model_validate(body).contacts[0].name == "Lovelace, Ada"
    assert body["contacts"][1] == {"email": "bob@example.com"}
    assert (
        "Line 1, 3"
        in errors_of(notices.contacts_body, {"contacts": ["nobody\nada@example.com\nbob@example.com,Bob,?"]})[
            "contacts"
        ]
    )
    assert "at least one" in errors_of(notices.contacts_body, {"contacts": ["email,name,locale"]})["contacts"]
    many = "\n".join(f"p{i}@example.com" for i in range(notices.MAX_PEOPLE + 1))
    assert "At most" in errors_of(notices.contacts_body, {"contacts": [many]})["contacts"]


def test_approval_and_public_communication_bodies() -> None:
    approval = notices.approval_body(
        {"decision": ["declined"], "name": ["Grace"], "means": ["Letter"], "reason": ["Wording"]}
    )
    assert ApprovalIn.model_validate(approval).reason == "Wording"
    assert set(
        errors_of(notices.approval_body, {"decision": ["declined"], "email": ["x"], "received_at": ["soon"]})
    ) == {
        "name",
        "means",
        "reason",
        "email",
        "received_at",
    }
    published = notices.public_communication_body(
        {"channel": ["website"], "published_at": ["2026-03-10T08:00"], "text": ["T"], "reason": ["R"]}
    )
    assert "url" not in published and PublicCommunicationIn.model_validate(published).channel == "website"


def test_a_notice_version_body() -> None:
    plain = notices.notice_version_body({"text": ["Full text"], "requires_renewal": ["yes"]})
    assert plain == {"text": "Full text", "language": "en", "material": False}
    NoticeIn.model_validate(plain)
    material = notices.notice_version_body(
        {"text": ["T"], "material": ["yes"], "summary": ["Monthly"], "requires_renewal": ["yes"], "language": ["fr-CA"]}
    )
    assert NoticeIn.model_validate(material).requires_renewal is True
    assert set(
        errors_of(notices.notice_version_body, {"material": ["yes"], "language": ["français"], "url": ["x"]})
    ) == {
        "text",
        "language",
        "summary",
        "url",
    }
