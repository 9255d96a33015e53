"""What the chaos run checks once the platform has drained: every count, against what the load actually sent.

Each check compares an expected figure with the one found in the services' databases, the demo
stores' ledgers and the SMTP server's mailbox. The expected figures come from ``Progress`` (the load
goes on past its configured minimum while faults are still coming), never from the configuration.
"""

from __future__ import annotations

import re
import sqlite3
from collections import Counter
from dataclasses import dataclass
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from deploy.local.demo import RETENTION_SYSTEMS
from shared.runtime.auth import SERVICES
from tests.chaos.stack import ChaosStack
from tests.chaos.workload import WITHDRAWAL_EVERY, Progress

SYSTEMS = 9  # the seven services and the two demo stores each get a task per erasure
STORE_SYSTEMS = (("crm-store", "crm"), ("analytics-store", "analytics"))
CONSENT_DATA = "consent_based"
# The systems the demo data map routes consent-based data to: each sweeps every withdrawal's subject once.
SWEPT_SYSTEMS = tuple(sorted(s for s, body in RETENTION_SYSTEMS.items() if CONSENT_DATA in body["categories"]))
ERASURE_ADDRESS = re.compile(r"chaos-dsar-\d+@example\.test")
REQUESTS_SQL = (
    "SELECT r.id, r.state, count(c.id), coalesce(r.outcome, '') FROM dsar_request r "
    "LEFT JOIN dsar_erasure_certificate c ON c.request_id = r.id WHERE r.tenant_id = 'demo' "
    "GROUP BY r.id, r.state, r.outcome"
)


@dataclass
class Check:
    """One assertion of the final state."""

    name: str
    expected: Any
    actual: Any
    ok: bool


class Checks:
    """The checks of one run and the figures behind them."""

    def __init__(self, stack: ChaosStack, progress: Progress) -> None:
        self.stack = stack
        self.progress = progress
        self.checks: list[Check] = []
        self.counts: dict[str, Any] = {}

    def check(self, name: str, expected: Any, actual: Any) -> None:
        """Record one check."""
        self.checks.append(Check(name, expected, actual, expected == actual))

    def rows(self, database: str, sql: str) -> list[list[str]]:
        """Rows of a query in one service's database."""
        return sql_rows(self.stack, database, sql)


def sql_rows(stack: ChaosStack, database: str, sql: str) -> list[list[str]]:
    """Rows of a query (psql, unaligned, ``|``-separated)."""
    out = stack.pg.psql(sql, database=database)
    return [line.split("|") for line in out.splitlines() if line]


def final_checks(stack: ChaosStack, progress: Progress, holds: dict[int, str]) -> tuple[list[Check], dict[str, Any]]:
    """Every count the issue asks for; ``holds``: the legal hold placed on erasure number -> its id."""
    run = Checks(stack, progress)
    per_system = _erasures(run)
    _legal_holds(run, holds)
    _consents(run)
    sweeps = _schedules_and_sweeps(run)
    _stores(run, per_system, sweeps)
    _notifications(run)
    dead = {s: int(run.rows(s, "SELECT count(*) FROM dead_letter")[0][0]) for s in SERVICES}
    run.counts["dead_letters"] = dead
    run.check("dead-lettered events", 0, sum(dead.values()))
    run.counts["outbox_rows"] = {s: int(run.rows(s, "SELECT count(*) FROM outbox")[0][0]) for s in SERVICES}
    return run.checks, run.counts


def _erasures(run: Checks) -> dict[str, int]:
    """DSAR: every erasure completed, with a certificate; one closed task per system. The tasks per system."""
    ids = set(run.progress.dsar_ids.values())
    run.check("erasures opened (as many as sent)", run.progress.erasures.sent, len(ids))
    ours = [r for r in run.rows("dsar", REQUESTS_SQL) if r[0] in ids]
    run.check("erasures completed", len(ids), sum(1 for r in ours if r[1] == "completed"))
    run.check("erasures with exactly one certificate", len(ids), sum(1 for r in ours if r[2] == "1"))
    tasks = run.rows(
        "dsar",
        "SELECT request_id, count(*), count(*) FILTER (WHERE state = 'closed'), count(DISTINCT system_key) "
        "FROM dsar_task WHERE tenant_id = 'demo' GROUP BY request_id",
    )
    ours_tasks = [t for t in tasks if t[0] in ids]
    run.check(f"erasure tasks ({SYSTEMS} systems each)", len(ids) * SYSTEMS, sum(int(t[1]) for t in ours_tasks))
    run.check("erasure tasks closed", len(ids) * SYSTEMS, sum(int(t[2]) for t in ours_tasks))
    complete = sum(1 for t in ours_tasks if int(t[3]) == SYSTEMS)
    run.check(f"requests with a task for each of the {SYSTEMS} systems", len(ids), complete)
    tasks_sql = "SELECT system_key, count(*) FROM dsar_task WHERE tenant_id = 'demo' GROUP BY 1"
    per_system = {r[0]: int(r[1]) for r in run.rows("dsar", tasks_sql)}
    run.counts["dsar_tasks_per_system"] = per_system
    still_open = run.rows(
        "dsar",
        "SELECT system_key, count(*), max(attempt), count(*) FILTER (WHERE escalated_at IS NOT NULL) "
        "FROM dsar_task WHERE tenant_id = 'demo' AND state = 'open' GROUP BY 1",
    )
    run.counts["dsar_tasks_open"] = {
        r[0]: {"open": int(r[1]), "max_attempt": int(r[2]), "escalated": int(r[3])} for r in still_open
    }
    run.counts["dsar_outcomes"] = dict(Counter(r[3] or "none" for r in ours))
    return per_system


def _legal_holds(run: Checks, holds: dict[int, str]) -> None:
    """A held person's erasure completes (partial: exempt everywhere) and every task names the hold; no other does.

    Erasure does not reach data needed for legal claims, GDPR Art. 17(3)(e),
    https://eur-lex.europa.eu/eli/reg/2016/679/oj: every system answers ``exempt`` with the hold as the reason.
    """
    held = {run.progress.dsar_ids[i]: hold for i, hold in holds.items() if i in run.progress.dsar_ids}
    run.check("held erasures opened (one per hold placed)", len(holds), len(held))
    run.counts["legal_holds_placed"] = len(holds)
    if not held:
        return
    ours = {r[0]: r for r in run.rows("dsar", REQUESTS_SQL) if r[0] in held}
    run.check(
        "held erasures completed, outcome partial (exempt)",
        len(held),
        sum(1 for r in ours.values() if r[1] == "completed" and r[3] == "partial"),
    )
    run.check("held erasures with exactly one certificate", len(held), sum(1 for r in ours.values() if r[2] == "1"))
    pairs = ", ".join(f"('{rid}'::uuid, '{hold}')" for rid, hold in held.items())
    named = run.rows(
        "dsar",
        "SELECT count(*), count(*) FILTER (WHERE t.outcome = 'exempt' "
        "AND position(h.hold_id in coalesce(t.exemption, '')) > 0) "
        f"FROM dsar_task t JOIN (VALUES {pairs}) AS h(request_id, hold_id) ON h.request_id = t.request_id",
    )
    run.check(
        f"tasks of held erasures answered exempt naming the hold ({SYSTEMS} each)",
        len(held) * SYSTEMS,
        int(named[0][1]),
    )
    by_hold = run.rows(
        "dsar", "SELECT DISTINCT request_id FROM dsar_task WHERE tenant_id = 'demo' AND exemption ILIKE '%legal hold%'"
    )
    unheld = set(run.progress.dsar_ids.values()) - set(held)
    run.check("unheld erasures with a task exempt by a legal hold", 0, sum(1 for r in by_hold if r[0] in unheld))


def _consents(run: Checks) -> None:
    """Consent: each write exactly once in the records and in the projection."""
    progress = run.progress
    refs = set(progress.consent_refs.values())
    sent = progress.consents.sent
    run.check("consent writes acknowledged (as many as sent)", sent, len(progress.consent_refs))
    run.check("distinct subjects written", sent, len(refs))
    records = run.rows(
        "consent",
        "SELECT subject_ref, count(*) FROM consent_record WHERE tenant_id = 'demo' AND collector = 'chaos-run' "
        "GROUP BY subject_ref",
    )
    by_ref = {r[0]: int(r[1]) for r in records}
    run.check("consent records (one per write)", sent, sum(by_ref.values()))
    run.check("subjects with exactly one record", len(refs), sum(1 for ref in refs if by_ref.get(ref) == 1))
    run.check("records of subjects the load did not write", 0, len(set(by_ref) - refs))
    states = run.rows(
        "consent",
        "SELECT s.subject_ref, count(*) FROM consent_state s JOIN consent_record r ON r.id = s.record_id "
        "WHERE s.tenant_id = 'demo' AND s.purpose = 'newsletter' AND r.collector = 'chaos-run' GROUP BY s.subject_ref",
    )
    state_by_ref = {r[0]: int(r[1]) for r in states}
    run.check("consent projection rows (one per write)", len(refs), sum(state_by_ref.values()))
    one = sum(1 for ref in refs if state_by_ref.get(ref) == 1)
    run.check("subjects with exactly one projection row", len(refs), one)
    withdrawals = -(-sent // WITHDRAWAL_EVERY)  # writes 0, 10, 20 … below ``sent``
    run.check("withdrawals", withdrawals, len(progress.withdrawn_refs))


def _schedules_and_sweeps(run: Checks) -> dict[str, list[str]]:
    """Retention: one schedule per withdrawal, swept by every system the data map routes it to, once each.

    Returns the subject sweep runs of each routed system (their ids), for the stores' ledgers.
    """
    withdrawn = run.progress.withdrawn_refs | set(run.progress.people_refs.values())
    schedules = run.rows(
        "retention",
        "SELECT subject_ref, status, coalesce(CAST(batch_id AS text), '') FROM subject_schedule "
        f"WHERE tenant_id = 'demo' AND purpose = 'newsletter' AND category = '{CONSENT_DATA}'",
    )
    per_ref = Counter(r[0] for r in schedules)
    ours = [r for r in schedules if r[0] in withdrawn]
    run.check(
        "withdrawals with exactly one retention schedule", len(withdrawn), sum(per_ref[r] == 1 for r in withdrawn)
    )
    duplicates = run.rows(
        "retention",
        "SELECT count(*) FROM (SELECT 1 FROM subject_schedule "
        "GROUP BY tenant_id, subject_ref, category, purpose, reason HAVING count(*) > 1) d",
    )
    run.check("duplicate retention schedules", 0, int(duplicates[0][0]))
    statuses = Counter(r[1] for r in ours)
    run.counts["withdrawal_schedules"] = dict(statuses)
    run.check("withdrawal schedules done (swept)", len(withdrawn), statuses["done"])
    run.check("withdrawal schedules pending, requested, held or unrouted", 0, len(ours) - statuses["done"])

    runs = run.rows(
        "retention",
        "SELECT CAST(id AS text), system, status, coalesce(CAST(batch_id AS text), ''), attempts FROM sweep_run "
        f"WHERE tenant_id = 'demo' AND kind = 'subject' AND category = '{CONSENT_DATA}'",
    )
    systems_of: dict[str, list[str]] = {}
    for _id, system, _status, batch, _attempts in runs:
        systems_of.setdefault(batch, []).append(system)
    batches = {r[2] for r in ours if r[2]}
    swept_once = sum(1 for b in batches if sorted(systems_of.get(b, [])) == list(SWEPT_SYSTEMS))
    run.check(
        f"withdrawal batches swept once by each of {', '.join(SWEPT_SYSTEMS)}",
        len(batches),
        swept_once,
    )
    run.check("subject sweeps completed", len(runs), sum(1 for r in runs if r[2] == "completed"))
    # A run escalated to a person stays marked (escalated_at) even when a late answer completes it.
    escalated = run.rows("retention", "SELECT count(*) FROM sweep_run WHERE escalated_at IS NOT NULL")
    run.check("sweeps escalated (no answer after the last attempt)", 0, int(escalated[0][0]))
    answers = run.rows(
        "retention",
        "SELECT entity_id, count(*) FROM audit_log WHERE action = 'sweep.completed' GROUP BY entity_id",
    )
    recorded = {r[0]: int(r[1]) for r in answers}
    run.check(
        "subject sweeps whose answer retention recorded once", len(runs), sum(recorded.get(r[0]) == 1 for r in runs)
    )
    run.counts["subject_sweeps"] = {
        "batches": len(batches),
        "runs": len(runs),
        "runs_per_system": dict(Counter(r[1] for r in runs)),
        "sent_again": sum(1 for r in runs if int(r[4]) > 1),
    }
    return {system: [r[0] for r in runs if r[1] == system] for system in SWEPT_SYSTEMS}


def _stores(run: Checks, per_system: dict[str, int], sweep_ids: dict[str, list[str]]) -> None:
    """Demo stores: each task and each sweep carried out once (ledger rows; side effects logged once per task)."""
    for store, system in STORE_SYSTEMS:
        ledger = sqlite3.connect(str(run.stack.ledger_path(store)))
        try:
            handled = ledger.execute("SELECT count(*) FROM handled WHERE kind = 'task'").fetchone()
            unpublished = ledger.execute(
                "SELECT kind, count(*) FROM handled WHERE published_at IS NULL AND event_type IS NOT NULL GROUP BY kind"
            ).fetchall()
            swept = {row[0] for row in ledger.execute("SELECT item_id FROM handled WHERE kind = 'sweep'")}
        finally:
            ledger.close()
        executed = (run.stack.log_dir / f"{store}.log").read_text(errors="replace").count("store.task_done")
        waiting = dict(unpublished)
        run.counts[f"{system}_ledger_tasks"] = handled[0]
        run.counts[f"{system}_executions_logged"] = executed
        run.check(f"{system}: ledger rows = its DSAR tasks", per_system.get(system, 0), handled[0])
        run.check(f"{system}: each task carried out once (executions logged = ledger rows)", handled[0], executed)
        run.check(f"{system}: answers not acknowledged by the broker", 0, waiting.get("task", 0))
        if system in SWEPT_SYSTEMS:
            ids = sweep_ids.get(system, [])
            run.check(
                f"{system}: subject sweeps in its ledger (one row each)", len(ids), sum(1 for i in ids if i in swept)
            )
            run.check(f"{system}: sweep answers not acknowledged by the broker", 0, waiting.get("sweep", 0))
    people = run.progress.people_refs
    if people:
        emails = ", ".join(f"'{email}'" for email in people)
        kept = run.rows(
            "crm",
            "SELECT count(*) FROM subscriptions s JOIN contacts c ON c.id = s.contact_id "
            f"WHERE s.list = 'newsletter' AND c.email IN ({emails})",
        )
        run.check("crm: newsletter subscriptions left of the demo people who withdrew", 0, int(kept[0][0]))


def _notifications(run: Checks) -> None:
    """Every message DSAR asked for reached the SMTP server once, and DSAR knows it.

    (notify erases the delivered messages of an erased person, so its own log is not the count to compare with.)
    """
    ids = run.progress.dsar_ids
    asked = run.rows(
        "dsar",
        "SELECT count(*), count(*) FILTER (WHERE state = 'delivered'), count(*) FILTER (WHERE state = 'failed') "
        "FROM dsar_notification WHERE tenant_id = 'demo'",
    )
    total, delivered, failed = (int(v) for v in asked[0])
    states = run.rows("dsar", "SELECT state, count(*) FROM dsar_notification WHERE tenant_id = 'demo' GROUP BY 1")
    run.counts["dsar_notification_states"] = {r[0]: int(r[1]) for r in states}
    pending = run.rows("notify", "SELECT count(*) FROM message WHERE state IN ('queued', 'retrying')")
    smtp = run.stack.smtp
    mailbox = smtp.mailbox if smtp else None
    mails = [recipient(path) for path in mailbox.glob("*.eml")] if mailbox else []
    kept = sum(1 for to in mails if ERASURE_ADDRESS.search(to))
    repeats = mailbox / ".repeats" if mailbox else None
    run.counts["notifications"] = {"requested": total, "delivered": delivered, "failed": failed}
    run.counts["other_mails"] = len(mails) - kept  # alerts to the DPO (an escalated sweep, a breach …)
    resent = len(repeats.read_text().splitlines()) if repeats and repeats.exists() else 0
    run.counts["mails_resent_and_recognised"] = resent
    run.check("notifications requested (two per erasure: the code, the completion)", 2 * len(ids), total)
    run.check("notifications delivered, as the requester sees it", total, delivered)
    run.check("notifications failed", 0, failed)
    run.check("notifications still waiting in notify", 0, int(pending[0][0]))
    run.check("mails to the erasure subjects in the SMTP server's mailbox (one per notification)", delivered, kept)


def recipient(path: Path) -> str:
    """The ``To`` header of a mail in the mailbox."""
    with path.open("rb") as handle:
        return str(BytesParser(policy=policy.default).parse(handle, headersonly=True).get("To", ""))
