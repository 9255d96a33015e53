"""A customer's contract ends: identity purges the tenant's clients and accounts, and its tokens stop working.

New tokens are refused (the clients are gone); tokens already issued are refused too once the end is
recorded (``ended_tenant``), while privops' own services still act for the tenant (the certificate's
signature). The document keys stay: they verify the certificates offline.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from shared.events.catalogue import decode
from shared.events.catalogue.contract_ends import ContractEndCompleted, ContractEndTaskRequested
from shared.events.envelope import CloudEvent
from shared.events.topics import DSAR_TASK_RESULTS
from tests.integration.identity.support import access_token, bearer, identity, token_response
from tests.integration.retention.support import produce
from tests.support.stack import Infra, eventually, read_topic

pytestmark = pytest.mark.integration


async def test_an_ended_tenant_gets_no_token_and_its_tokens_are_refused(
    infra: Infra, topic_prefix: str, tmp_path: Path
) -> None:
    async with identity(infra, topic_prefix, tmp_path) as svc:
        old = await bearer(svc, "acme-admin")
        assert (await svc.client.get("/v1/clients", headers=old)).status_code == 200
        signer = await bearer(svc, "dsar", tenant="acme")
        signed = await svc.client.post("/v1/signatures", json={"typ": "test+jwt", "claims": {"a": 1}}, headers=signer)
        assert signed.status_code == 200, signed.text  # the tenant's document key now exists
        end_id = uuid.uuid4()

        task = ContractEndTaskRequested(
            task_id=uuid.uuid4(),
            contract_end_id=end_id,
            action="purge_tenant",
            system="privops-identity",
            export_url="http://dsar.test/unused",
            due_at=datetime.now(UTC),
        )
        await produce(infra, svc.settings, task, tenant="acme", subject=str(end_id))
        records = await read_topic(infra.broker.bootstrap, svc.settings.topic(DSAR_TASK_RESULTS), expect=1, timeout=30)
        answer: Any = decode(CloudEvent.from_kafka(list(records[0].headers), records[0].value))
        assert answer.outcome == "done" and answer.records_affected >= 1  # the acme-admin client at least
        assert answer.store_client == "service:identity"
        assert any(e.what == "document signing keys" for e in answer.exemptions)
        refused = await token_response(svc, "acme-admin")
        assert refused.status_code == 401, refused.text  # its client is gone
        assert (await svc.client.get("/v1/clients", headers=old)).status_code == 200  # until the end is recorded

        completed = ContractEndCompleted(
            contract_end_id=end_id,
            mode="delete",
            effective_at=datetime.now(UTC),
            completed_at=datetime.now(UTC),
            certificate_id=uuid.uuid4(),
            outcome="partial",
        )
        await produce(infra, svc.settings, completed, tenant="acme", subject=str(end_id))

        async def old_token_refused() -> bool | None:
            response = await svc.client.get("/v1/clients", headers=old)
            return True if response.status_code == 401 else None

        await eventually(old_token_refused, timeout=30)
        operator = await bearer(svc, "operator", tenant="acme")  # a platform client still reads the evidence
        assert (await svc.client.get("/v1/clients", headers=operator)).status_code == 200
        # privops' own services still act for the tenant: the certificate of destruction is signed after the end.
        signer = {"Authorization": f"Bearer {await access_token(svc, 'dsar', tenant='acme')}"}
        again = await svc.client.post("/v1/signatures", json={"typ": "test+jwt", "claims": {"a": 2}}, headers=signer)
        assert again.status_code == 200, again.text
        globex = await bearer(svc, "globex-admin")
        assert (await svc.client.get("/v1/clients", headers=globex)).status_code == 200  # other tenants unaffected
