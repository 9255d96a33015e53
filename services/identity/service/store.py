"""The identity service as a data store: the accounts of a tenant's people, found by their email's reference.

Clients are machines, and keys and signatures carry no identifier of a person; people's accounts
(email, name, roles, sign-in times) are personal data. Access exports the account. Erasure
deletes a disabled account with its codes and failed sign-ins; an active account is kept and
reported as exempt: it is what gives its holder access to privops (processing necessary for their
work, GDPR Art. 6(1)(b), so Art. 17(1)(a) does not apply while it is), and its end is the
administrator's call (``DELETE /v1/users/{id}``, then erasure removes it).
https://eur-lex.europa.eu/eli/reg/2016/679/oj
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete
from sqlmodel import col, select

from services.identity import models as tenant_tables
from services.identity.models import LoginFailure, UserAccount
from services.identity.service import Uow
from shared.bus.store import StoreResult, TaskInput
from shared.bus.tenant_store import TenantData

SYSTEM = "privops-identity"
EXPORTED = {"email", "name", "roles", "created_at", "updated_at", "last_login_at", "disabled_at"}
ACTIVE_KEPT = "active console account kept while it gives its holder access (Art. 6(1)(b)); disable it to erase it"
NOT_APPLICABLE = "accounts are managed by the tenant's administrator (PATCH or DELETE /v1/users/{id})"


def _mine(task: TaskInput) -> Any:
    return (col(UserAccount.tenant_id) == task.tenant_id, col(UserAccount.email_ref).in_(task.refs))


class AccountStore:
    """DSAR actions on the console accounts of a person."""

    # At a contract's end (Art. 28(3)(g) GDPR): Accounts and clients go, so the tenant's sign-ins and token requests
    # are refused; document keys stay.
    tenant_data = TenantData(
        deleted=(
            tenant_tables.LoginFailure,
            tenant_tables.AuthorizationCode,
            tenant_tables.UserAccount,
            tenant_tables.Client,
        ),
        kept=(
            (
                tenant_tables.SigningKey,
                "document signing keys",
                "not personal data: the tenant's public document keys verify its certificates of erasure and "
                "destruction offline (GDPR Art. 5(2))",
            ),
        ),
    )

    async def erase(self, uow: Uow, task: TaskInput) -> StoreResult:
        """Delete the person's disabled accounts; keep active ones (exempt, see the module's note)."""
        accounts = (await uow.session.exec(select(UserAccount).where(*_mine(task)))).all()
        if not accounts:
            return StoreResult("no_data")
        gone = [a for a in accounts if a.disabled_at is not None]
        for account in gone:
            await uow.session.delete(account)  # its authorization codes go with it (ON DELETE CASCADE)
        await uow.session.exec(
            delete(LoginFailure).where(
                col(LoginFailure.tenant_id) == task.tenant_id, col(LoginFailure.account_ref).in_(task.refs)
            )
        )
        kept = len(accounts) - len(gone)
        uow.audit("users.erased", "subject", task.subject_ref, {"accounts": len(gone), "kept_active": kept})
        if kept:
            return StoreResult("exempt", records_affected=len(gone), exemption=ACTIVE_KEPT)
        return StoreResult("done", records_affected=len(gone))

    async def export(self, uow: Uow, task: TaskInput) -> list[dict[str, Any]]:
        """The person's accounts: address, name, roles and dates (never the password hash)."""
        rows = await uow.session.exec(select(UserAccount).where(*_mine(task)).order_by(col(UserAccount.created_at)))
        return [{"type": "console_account", **a.model_dump(mode="json", include=EXPORTED)} for a in rows.all()]

    async def restrict(self, uow: Uow, task: TaskInput, lift: bool) -> StoreResult:
        """An account is used only to sign its holder in; disabling it is the administrator's call."""
        return StoreResult("exempt", exemption=NOT_APPLICABLE, detail="no-op")

    async def object(self, uow: Uow, task: TaskInput) -> StoreResult:
        """No processing of an account rests on legitimate interest or serves marketing."""
        return StoreResult("exempt", exemption=NOT_APPLICABLE, detail="no-op")

    async def rectify(self, uow: Uow, task: TaskInput) -> StoreResult:
        """Names and addresses are corrected by the administrator (or the person, through them)."""
        return StoreResult("exempt", exemption=NOT_APPLICABLE, detail="nothing to rectify here")
