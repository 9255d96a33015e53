"""Analytics data: a profile and page-view events per user; no correctable data, so no rectification."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Sized
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from examples.common import NO_SUBJECT_KEY, PER_PERSON, HeldSubjects, NamedSubjects
from sdk import (
    Hold,
    Identifiers,
    Outcome,
    Purged,
    Store,
    SubjectSweep,
    Sweep,
    SweepCounts,
    SystemRegistration,
    TenantScope,
)

SYSTEM = "analytics"
REGISTRATION = SystemRegistration(
    name="Demo product analytics",
    owner="data-team@example.com",
    data_categories=["usage events", "audience segments"],
    purposes=["product analytics", "audience measurement"],
    recipients=[],
    retention="events: 13 months",
    source="observed from your use of the product",
    transfer_safeguards="none: hosted in the EU",
)
SCHEMA = """
CREATE TABLE IF NOT EXISTS profiles (
    user_id TEXT PRIMARY KEY,
    email TEXT,
    segment TEXT,
    tracking_opt_out INTEGER NOT NULL DEFAULT 0,
    restricted INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id TEXT,
    name TEXT NOT NULL,
    page TEXT,
    occurred_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_events_user ON events(user_id);
CREATE TABLE IF NOT EXISTS tenant_purges (task_id TEXT PRIMARY KEY, records INTEGER NOT NULL, purged_at TEXT NOT NULL);
"""
# The retention categories (of the default policy pack) this store holds: events follow the tracker's 13 months.
SWEPT = ("cookie",)
# Per person: tracking runs on the audience-measurement consent (purpose ``analytics``); when it ends, the
# person's events and profile go (``consent_based``), as they do when the account is closed (``account``).
SWEPT_BY_SUBJECT = ("consent_based", "cookie", "account")
TRACKING_PURPOSES = (None, "analytics")
# The categories a user's profile and events are data of: a legal hold on one keeps them through an erasure.
HELD_CATEGORIES = ("cookie", "consent_based", "account")
PEOPLE = [
    ("u-1001", "ada@example.com", "engineers"),
    ("u-1002", "grace@example.com", "engineers"),
    ("u-1003", "alan@example.com", "researchers"),
    ("u-1005", "edsger@example.com", "researchers"),
]


class AnalyticsStore(Store):
    """Users found by user id, or by email through their profile."""

    def __init__(self, path: str | Path, subject_key: bytes | None = None) -> None:
        self.subject_key = subject_key  # to recognise held subjects in sweeps (WorkerConfig.subject_key)
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        self.db.executescript(SCHEMA)
        self.lock = threading.Lock()

    def _q(self, sql: str, args: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        with self.lock:
            cursor = self.db.execute(sql, args)
            return [dict(row) for row in cursor.fetchall()]

    def _tx(self, statements: list[tuple[str, tuple[Any, ...]]]) -> list[int]:
        with self.lock:
            self.db.execute("BEGIN")
            try:
                counts = [self.db.execute(sql, args).rowcount for sql, args in statements]
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            return counts

    async def query(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        """Rows of a query, run off the event loop."""
        return await asyncio.to_thread(self._q, sql, args)

    def seed(self, now: datetime | None = None) -> int:
        """Profiles and a few months of page views for the sample people, once: never again after the tenant's purge."""
        if self._q("SELECT (SELECT count(*) FROM profiles) + (SELECT count(*) FROM tenant_purges) AS n")[0]["n"]:
            return 0
        start = (now or datetime.now(UTC)) - timedelta(days=400)
        statements: list[tuple[str, tuple[Any, ...]]] = []
        for user_id, email, segment in PEOPLE:
            statements.append(
                ("INSERT INTO profiles (user_id, email, segment) VALUES (?, ?, ?)", (user_id, email, segment))
            )
            for day in range(0, 400, 50):
                at = (start + timedelta(days=day)).isoformat()
                statements.append(
                    (
                        "INSERT INTO events (user_id, name, page, occurred_at) VALUES (?, 'page_view', '/pricing', ?)",
                        (user_id, at),
                    )
                )
        self._tx(statements)
        return len(PEOPLE)

    async def _user_ids(self, ids: Identifiers) -> list[str]:
        users = set(ids.all("user_id"))
        for email in ids.all("email"):
            rows = await self.query("SELECT user_id FROM profiles WHERE lower(email) = ?", email.lower())
            users |= {r["user_id"] for r in rows}
        return sorted(users)

    def _in(self, values: Sized) -> str:
        return ",".join("?" * len(values))

    async def export(self, identifiers: Identifiers) -> list[dict[str, Any]]:
        """The profile and every event."""
        users = await self._user_ids(identifiers)
        if not users:
            return []
        marks = self._in(users)
        profiles = await self.query(f"SELECT * FROM profiles WHERE user_id IN ({marks})", *users)
        events = await self.query(f"SELECT * FROM events WHERE user_id IN ({marks}) ORDER BY occurred_at", *users)
        return [{"table": "profiles", **p} for p in profiles] + [{"table": "events", **e} for e in events]

    async def export_tenant(self, scope: TenantScope) -> dict[str, list[dict[str, Any]]]:
        """Every profile and event: all of this store's data is the tenant's."""
        return {
            "profiles": await self.query("SELECT * FROM profiles ORDER BY user_id"),
            "events": await self.query("SELECT * FROM events ORDER BY id"),
        }

    async def purge_tenant(self, scope: TenantScope) -> Purged:
        """Delete every profile and event (nothing here is kept by law); a redelivered task reports the first run."""
        return await asyncio.to_thread(self._purge, scope.task_id)

    def _purge(self, task_id: str) -> Purged:
        with self.lock:
            self.db.execute("BEGIN")
            try:
                done = self.db.execute("SELECT records FROM tenant_purges WHERE task_id = ?", (task_id,)).fetchone()
                if done is None:
                    events = self.db.execute("DELETE FROM events").rowcount
                    profiles = self.db.execute("DELETE FROM profiles").rowcount
                    records, detail = events + profiles, f"{profiles} profile(s), {events} event(s)"
                    # Recorded in the deletion's transaction: a redelivered task finds it and deletes nothing more.
                    self.db.execute(
                        "INSERT INTO tenant_purges VALUES (?, ?, ?)", (task_id, records, datetime.now(UTC).isoformat())
                    )
                else:
                    records, detail = int(done["records"]), "already purged under this task"
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
        return Purged(records, detail=detail)

    async def erase(self, identifiers: Identifiers) -> Outcome:
        """Delete the profile and every event, unless a legal hold keeps one of the categories they are data of."""
        users = await self._user_ids(identifiers)
        if not users:
            return Outcome.no_data()
        # No record here is tagged with a matter, so only a hold on a category (and no matter) covers them.
        if held := [hold for category in HELD_CATEGORIES for hold in identifiers.holds_on(category)]:
            return Outcome.exempt(Hold.reasons(held), detail="profile and events kept under legal hold")
        marks = self._in(users)
        events, profiles = await asyncio.to_thread(
            self._tx,
            [
                (f"DELETE FROM events WHERE user_id IN ({marks})", tuple(users)),
                (f"DELETE FROM profiles WHERE user_id IN ({marks})", tuple(users)),
            ],
        )
        return Outcome.done(events + profiles, detail=f"{profiles} profile(s), {events} event(s)")

    async def _set(self, identifiers: Identifiers, assignment: str) -> Outcome:
        users = await self._user_ids(identifiers)
        if not users:
            return Outcome.no_data()
        sql = f"UPDATE profiles SET {assignment} WHERE user_id IN ({self._in(users)})"
        (count,) = await asyncio.to_thread(self._tx, [(sql, tuple(users))])
        return Outcome.done(count) if count else Outcome.no_data()

    async def restrict(self, identifiers: Identifiers) -> Outcome:
        """Stop analysing the user (events are kept)."""
        return await self._set(identifiers, "restricted = 1")

    async def lift_restriction(self, identifiers: Identifiers) -> Outcome:
        """Analyse the user again."""
        return await self._set(identifiers, "restricted = 0")

    async def object(self, identifiers: Identifiers, purposes: list[str]) -> Outcome:
        """Any objection here stops tracking (analytics runs on legitimate interest)."""
        return await self._set(identifiers, "tracking_opt_out = 1")

    async def sweep(self, sweep: Sweep) -> SweepCounts:
        """Retention of usage events (``cookie``, 13 months from the tracker): delete or anonymise older events.

        Events of a subject under legal hold (recognised by user id or profile email) are left alone
        and counted as ``skipped_held``.
        """
        if sweep.category in SWEPT_BY_SUBJECT and sweep.category not in SWEPT:
            return SweepCounts(detail=PER_PERSON)
        if sweep.category not in SWEPT:
            return SweepCounts(detail=f"nothing kept here under {sweep.category!r}")
        if sweep.action == "archive":
            return SweepCounts(detail="usage events are not archived here: nothing done")
        held = HeldSubjects(self.subject_key, sweep.tenant_id, list(sweep.held_subject_refs))
        if held.unknowable:
            return SweepCounts(detail=NO_SUBJECT_KEY)
        return await asyncio.to_thread(self._sweep_events, sweep.cutoff, sweep.action, held)

    async def sweep_subjects(self, sweep: SubjectSweep) -> SweepCounts:
        """The named people's events and profile, once their tracking consent ended or their account closed."""
        if sweep.category not in SWEPT_BY_SUBJECT:
            return SweepCounts(detail=f"nothing kept here under {sweep.category!r}")
        if sweep.category == "consent_based" and sweep.purpose not in TRACKING_PURPOSES:
            return SweepCounts(detail=f"no data kept here for the purpose {sweep.purpose!r}")
        named = NamedSubjects(self.subject_key, sweep.tenant_id, sweep.subject_refs)
        profiles = await self.query("SELECT user_id, email FROM profiles")
        users = [p["user_id"] for p in profiles if named.covers([("user_id", p["user_id"]), ("email", p["email"])])]
        # Events of users without a profile are recognised by their user id alone.
        orphans = await self.query(
            "SELECT DISTINCT user_id FROM events WHERE user_id NOT IN (SELECT user_id FROM profiles)"
        )
        users += [o["user_id"] for o in orphans if o["user_id"] and named.covers([("user_id", o["user_id"])])]
        if not users:
            return SweepCounts(detail="none of these people is here")
        marks = self._in(users)
        if sweep.action == "anonymise":
            events, profiles_done = await asyncio.to_thread(
                self._tx,
                [
                    (f"UPDATE events SET user_id = NULL WHERE user_id IN ({marks})", tuple(users)),
                    (f"DELETE FROM profiles WHERE user_id IN ({marks})", tuple(users)),
                ],
            )
            return SweepCounts(anonymised=events, deleted=profiles_done, detail=f"{events} event(s) anonymised")
        events, profiles_done = await asyncio.to_thread(
            self._tx,
            [
                (f"DELETE FROM events WHERE user_id IN ({marks})", tuple(users)),
                (f"DELETE FROM profiles WHERE user_id IN ({marks})", tuple(users)),
            ],
        )
        return SweepCounts(deleted=events + profiles_done, detail=f"{profiles_done} profile(s), {events} event(s)")

    def _sweep_events(self, cutoff: datetime, action: str, held: HeldSubjects) -> SweepCounts:
        anonymise = action == "anonymise"
        due = "e.occurred_at < ?" + (" AND e.user_id IS NOT NULL" if anonymise else "")
        with self.lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                rows = self.db.execute(
                    f"SELECT e.id, e.user_id, p.email FROM events e LEFT JOIN profiles p ON p.user_id = e.user_id "
                    f"WHERE {due}",
                    (cutoff.astimezone(UTC).isoformat(),),
                ).fetchall()
                verdicts: dict[str | None, bool] = {None: False}  # an anonymous event belongs to nobody
                ids: list[int] = []
                for row in rows:
                    user = row["user_id"]
                    if user not in verdicts:
                        verdicts[user] = held.covers([("user_id", user), ("email", row["email"])])
                    if not verdicts[user]:
                        ids.append(row["id"])
                sql = (
                    "UPDATE events SET user_id = NULL WHERE id IN ({})"
                    if anonymise
                    else "DELETE FROM events WHERE id IN ({})"
                )
                for start in range(0, len(ids), 500):
                    chunk = ids[start : start + 500]
                    self.db.execute(sql.format(self._in(chunk)), chunk)
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
        skipped = len(rows) - len(ids)
        if anonymise:
            return SweepCounts(anonymised=len(ids), skipped_held=skipped, detail=f"{len(ids)} event(s) anonymised")
        return SweepCounts(deleted=len(ids), skipped_held=skipped, detail=f"{len(ids)} event(s) deleted")

    def close(self) -> None:
        """Close the file."""
        with self.lock:
            self.db.close()
