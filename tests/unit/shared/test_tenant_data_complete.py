"""Every table of a service that holds a tenant's rows is named in its contract-end declaration.

A table left out would survive a contract's end unnoticed: neither returned to the customer nor
deleted nor listed as kept on the certificate of destruction (GDPR Art. 28(3)(g)).
"""

from __future__ import annotations

import importlib

import pytest

from shared.bus.tenant_store import TenantData

SERVICES = ("consent", "dsar", "retention", "breach", "subprocessor", "notify", "identity")
# The contract end's own record and tasks: the process that ends the tenant, not data held for it.
PROCESS_TABLES = {"dsar": {"dsar_contract_end", "dsar_contract_end_task"}}


def declaration(name: str) -> TenantData:
    module = importlib.import_module(f"services.{name}.service.store")
    (data,) = [v.tenant_data for v in vars(module).values() if isinstance(v, type) and hasattr(v, "tenant_data")]
    assert isinstance(data, TenantData)
    return data


@pytest.mark.parametrize("name", SERVICES)
def test_every_tenant_table_is_deleted_or_kept_with_its_ground(name: str) -> None:
    covered = {str(t.__tablename__) for t in declaration(name).tables()}
    models = importlib.import_module(f"services.{name}.models")
    holding = {
        str(getattr(v, "__tablename__", ""))
        for v in vars(models).values()
        if isinstance(v, type) and hasattr(v, "__table__") and "tenant_id" in v.__table__.columns
    }
    assert holding - covered - PROCESS_TABLES.get(name, set()) == set()
