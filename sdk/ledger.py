"""A store's local record of the tasks and sweeps it handled, and the answer it gave (SQLite).

The answer is written before it is published and marked published after the broker acknowledged
it, so a redelivered task is never carried out twice and an unpublished answer is sent again.
After a broker lost its log, answers published since then are marked unpublished and re-sent.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS handled (
    kind TEXT NOT NULL,
    item_id TEXT NOT NULL,
    tenant TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    event_type TEXT,
    topic TEXT,
    subject TEXT,
    data TEXT,
    published_at TEXT,
    handled_at TEXT NOT NULL,
    PRIMARY KEY (kind, item_id)
)
"""


@dataclass(frozen=True)
class Answer:
    """The answer given to one task or sweep (``event_type`` None: the task was closed, nothing to send)."""

    kind: str
    item_id: str
    tenant: str
    attempt: int
    event_type: str | None
    topic: str | None
    subject: str | None
    data: dict[str, Any] | None
    published: bool


class Ledger:
    """Handled task and sweep ids in a SQLite file (``:memory:`` for tests)."""

    def __init__(self, path: str | Path = ":memory:") -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(SCHEMA)
        self._lock = threading.Lock()

    def _run(self, sql: str, args: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    async def get(self, kind: str, item_id: str) -> Answer | None:
        """The recorded answer for an item, if any."""
        rows = await asyncio.to_thread(
            self._run,
            "SELECT tenant, attempt, event_type, topic, subject, data, published_at FROM handled "
            "WHERE kind = ? AND item_id = ?",
            (kind, item_id),
        )
        if not rows:
            return None
        tenant, attempt, event_type, topic, subject, data, published_at = rows[0]
        return Answer(
            kind,
            item_id,
            tenant,
            attempt,
            event_type,
            topic,
            subject,
            json.loads(data) if data else None,
            published_at is not None,
        )

    async def record(self, answer: Answer) -> None:
        """Keep the answer (not yet published)."""
        await asyncio.to_thread(
            self._run,
            "INSERT OR REPLACE INTO handled VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, ?)",
            (
                answer.kind,
                answer.item_id,
                answer.tenant,
                answer.attempt,
                answer.event_type,
                answer.topic,
                answer.subject,
                json.dumps(answer.data) if answer.data is not None else None,
                datetime.now(UTC).isoformat(),
            ),
        )

    async def mark_published(self, kind: str, item_id: str, attempt: int) -> None:
        """The broker has the answer."""
        await asyncio.to_thread(
            self._run,
            "UPDATE handled SET published_at = ?, attempt = MAX(attempt, ?) WHERE kind = ? AND item_id = ?",
            (datetime.now(UTC).isoformat(), attempt, kind, item_id),
        )

    async def unpublish_since(self, since: datetime) -> int:
        """Mark answers published since ``since`` as not published (the broker lost them); return how many."""
        rows = await asyncio.to_thread(
            self._run,
            "UPDATE handled SET published_at = NULL WHERE published_at >= ? AND event_type IS NOT NULL "
            "RETURNING item_id",
            (since.astimezone(UTC).isoformat(),),
        )
        return len(rows)

    async def unpublished(self, limit: int = 10_000) -> list[Answer]:
        """Answers recorded but not (or no longer) acknowledged by the broker, oldest first."""
        rows = await asyncio.to_thread(
            self._run,
            "SELECT kind, item_id FROM handled WHERE published_at IS NULL AND event_type IS NOT NULL "
            "ORDER BY handled_at LIMIT ?",
            (limit,),
        )
        answers = [await self.get(kind, item_id) for kind, item_id in rows]
        return [answer for answer in answers if answer is not None]

    def close(self) -> None:
        """Close the file."""
        with self._lock:
            self._db.close()
