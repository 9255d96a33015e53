"""The end of a customer's contract: four eyes, modes, and when each stage may start."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from datetime import UTC, datetime, timedelta
from hashlib import sha256

import pytest

from services.dsar.domain.contract_ends import (
    ContractEndConflict,
    ContractEndMode,
    ContractEndState,
    SameApprover,
    confirm,
    deletion_may_start,
    due_to_start,
    first_stage,
    transition,
)
from services.dsar.models import ContractEnd
from services.dsar.service.contract_end_results import build_return_zip

NOW = datetime(2027, 1, 1, 9, 0, tzinfo=UTC)
WINDOW = timedelta(days=30)


def test_the_person_who_asked_cannot_confirm() -> None:
    with pytest.raises(SameApprover) as refused:
        confirm(ContractEndState.REQUESTED, "user:alice", "user:alice")
    assert refused.value.status == 403


def test_a_second_person_confirms_once() -> None:
    assert confirm(ContractEndState.REQUESTED, "user:alice", "user:bob") is ContractEndState.CONFIRMED
    with pytest.raises(ContractEndConflict) as again:
        confirm(ContractEndState.CONFIRMED, "user:alice", "user:carol")
    assert again.value.status == 409


def test_cancel_only_before_it_starts() -> None:
    for state in (ContractEndState.REQUESTED, ContractEndState.CONFIRMED):
        assert transition(state, ContractEndState.CANCELLED) is ContractEndState.CANCELLED
    for state in (ContractEndState.RETURNING, ContractEndState.DELETING, ContractEndState.COMPLETED):
        with pytest.raises(ContractEndConflict):
            transition(state, ContractEndState.CANCELLED)


def test_a_deletion_never_goes_back() -> None:
    with pytest.raises(ContractEndConflict):
        transition(ContractEndState.DELETING, ContractEndState.RETURNING)
    with pytest.raises(ContractEndConflict):
        transition(ContractEndState.REQUESTED, ContractEndState.DELETING)  # not without a confirmation


def test_the_mode_decides_the_first_stage() -> None:
    assert first_stage(ContractEndMode.RETURN_THEN_DELETE) is ContractEndState.RETURNING
    assert first_stage(ContractEndMode.DELETE) is ContractEndState.DELETING


def test_it_starts_on_its_effective_date_once_confirmed() -> None:
    assert not due_to_start(ContractEndState.CONFIRMED, NOW, NOW - timedelta(seconds=1))
    assert due_to_start(ContractEndState.CONFIRMED, NOW, NOW)
    assert not due_to_start(ContractEndState.REQUESTED, NOW, NOW + timedelta(days=1))


def test_deletion_waits_for_every_export_then_the_download_or_the_window() -> None:
    assert not deletion_may_start(1, NOW, None, WINDOW, NOW)  # an export is still out
    assert not deletion_may_start(0, None, None, WINDOW, NOW)  # the package is not built
    assert not deletion_may_start(0, NOW, None, WINDOW, NOW + WINDOW - timedelta(seconds=1))
    assert deletion_may_start(0, NOW, NOW + timedelta(hours=2), WINDOW, NOW + timedelta(hours=2))  # downloaded
    assert deletion_may_start(0, NOW, None, WINDOW, NOW + WINDOW)  # the customer never came


def test_the_returned_data_is_one_zip_with_a_manifest_of_checksums() -> None:
    end = ContractEnd(
        id=uuid.uuid4(),
        tenant_id="acme",
        mode="return_then_delete",
        state="returning",
        effective_at=NOW,
        reason="contract terminated",
        contract_ref="MSA-1",
        requested_by="user:alice",
        requested_at=NOW,
        updated_at=NOW,
    )
    exports = {"crm": {"contacts": [{"id": 1, "email": "ada@example.com", "tags": ["a"]}], "notes": []}}
    archive = zipfile.ZipFile(io.BytesIO(build_return_zip(end, exports, NOW)))
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["systems"] == {"crm": {"contacts": 1, "notes": 0}}
    assert {f["path"] for f in manifest["files"]} == {
        "crm/contacts.jsonl",
        "crm/contacts.csv",
        "crm/notes.jsonl",
        "crm/notes.csv",
    }
    for entry in manifest["files"]:
        assert sha256(archive.read(entry["path"])).hexdigest() == entry["sha256"]
    assert json.loads(archive.read("crm/contacts.jsonl").decode().splitlines()[0])["email"] == "ada@example.com"
    assert archive.read("crm/contacts.csv").decode().splitlines()[0] == "email,id,tags"


def test_only_a_hold_on_the_whole_system_keeps_all_of_a_tenants_data() -> None:
    from shared.events.catalogue.contract_ends import tenant_holds
    from shared.events.catalogue.dsar import TaskHold

    def hold(**scope: str) -> TaskHold:
        return TaskHold(hold_id=uuid.uuid4(), reason="case 12", placed_at=NOW, **scope)

    everything, crm_only = hold(), hold(system="crm")
    narrower = [hold(subject_ref="ab" * 32), hold(category="invoice"), hold(matter="case-12"), hold(system="erp")]
    assert tenant_holds([everything, crm_only, *narrower], "crm") == [everything, crm_only]
    assert tenant_holds(narrower, "crm") == []
