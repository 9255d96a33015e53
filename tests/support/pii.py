"""No personal data on the bus or in the logs: scan every message of a test's topics and every log line.

``scan_bus`` lists the broker's topics (admin client), keeps those with the test's prefix, reads every
partition from the beginning to its end offset and looks for the raw identifiers the test used in
each record's key, headers and value. ``LogCapture`` records every structlog event and standard
library log record the services emit (installed through the service factory's logging setup, so it
survives each service's lifespan reconfiguring logging). Both fail with where each identifier was found.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

MIN_LENGTH = 6  # shorter needles match hex ids and hashes by chance


def variants(identifiers: Iterable[str]) -> dict[str, str]:
    """Each identifier's spellings to look for (lower-cased), mapped to the identifier they reveal."""
    found: dict[str, str] = {}
    for raw in identifiers:
        assert len(raw) >= MIN_LENGTH, f"identifier {raw!r} is too short to scan for reliably"
        forms = {raw, raw.strip(), json.dumps(raw)[1:-1]}
        digits = re.sub(r"\D", "", raw)
        if raw.lstrip("+").replace(" ", "").replace("-", "").isdigit() and len(digits) >= 7:
            forms |= {digits, "+" + digits}  # a phone number, however it was normalised
        found |= {form.lower(): raw for form in forms if len(form) >= MIN_LENGTH}
    return found


def leaks(text: str, needles: dict[str, str]) -> list[str]:
    """The identifiers whose spellings occur in ``text``."""
    lowered = text.lower()
    return sorted({raw for form, raw in needles.items() if form in lowered})


@dataclass
class BusScan:
    """What a bus scan read and what it found."""

    topics: list[str] = field(default_factory=list)
    messages: int = 0
    findings: list[str] = field(default_factory=list)


async def scan_bus(bootstrap: str, prefix: str, identifiers: Iterable[str], timeout: float = 20.0) -> BusScan:
    """Read every message of every topic starting with ``prefix`` and report raw identifiers in them."""
    needles = variants(identifiers)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
    await admin.start()
    try:
        topics = sorted(t for t in await admin.list_topics() if t.startswith(prefix))
    finally:
        await admin.close()
    scan = BusScan(topics=topics)
    if not topics:
        return scan
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, request_timeout_ms=10_000)
    await consumer.start()
    try:
        partitions = [
            TopicPartition(topic, p) for topic in topics for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        if not partitions:  # metadata not fetched yet for these topics
            await consumer._client.force_metadata_update()
            partitions = [
                TopicPartition(topic, p) for topic in topics for p in sorted(consumer.partitions_for_topic(topic) or ())
            ]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        remaining = {tp for tp, end in ends.items() if end > 0}
        async with _deadline(timeout, lambda: f"bus scan read {scan.messages} messages, still missing {remaining}"):
            while remaining:
                batch = await consumer.getmany(*remaining, timeout_ms=500)
                for tp, records in batch.items():
                    for record in records:
                        scan.messages += 1
                        scan.findings += _inspect(record, needles)
                        if record.offset + 1 >= ends[tp]:
                            remaining.discard(tp)
    finally:
        await consumer.stop()
    return scan


def _inspect(record: Any, needles: dict[str, str]) -> list[str]:
    where = f"{record.topic}[{record.partition}]@{record.offset}"
    parts = [("key", record.key or b""), ("value", record.value or b"")]
    parts += [(f"header {name}", name.encode() + b"=" + (value or b"")) for name, value in record.headers or ()]
    return [
        f"{where} {part}: {raw!r}"
        for part, data in parts
        for raw in leaks(data.decode("utf-8", errors="replace"), needles)
    ]


@contextlib.asynccontextmanager
async def _deadline(timeout: float, describe: Any) -> Any:
    import asyncio

    try:
        async with asyncio.timeout(timeout):
            yield
    except TimeoutError:
        raise AssertionError(describe()) from None


class LogCapture:
    """Every log line the services emit while installed: structlog events and standard library records."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._handler = _ListHandler(self.lines)

    def _processor(self, _: Any, __: str, event_dict: Any) -> Any:
        self.lines.append(json.dumps(event_dict, default=str, ensure_ascii=False))
        return event_dict

    def install(self) -> None:
        """Add the capture to the current logging configuration (again after each reconfiguration)."""
        processors = list(structlog.get_config()["processors"])
        if self._processor not in processors:
            structlog.configure(processors=[self._processor, *processors])
        root = logging.getLogger()
        if self._handler not in root.handlers:
            root.addHandler(self._handler)

    @contextlib.contextmanager
    def active(self) -> Iterator[LogCapture]:
        """Capture from now on, including after every service start reconfigures logging."""
        import shared.runtime.service

        factory = vars(shared.runtime.service)  # the service factory calls configure_logging in every lifespan
        original = factory["configure_logging"]

        def configure_then_capture(*args: Any, **kwargs: Any) -> None:
            original(*args, **kwargs)
            self.install()

        factory["configure_logging"] = configure_then_capture
        self.install()
        try:
            yield self
        finally:
            factory["configure_logging"] = original
            logging.getLogger().removeHandler(self._handler)
            processors = [p for p in structlog.get_config()["processors"] if p is not self._processor]
            structlog.configure(processors=processors)

    def findings(self, identifiers: Iterable[str]) -> list[str]:
        """Log lines that contain a raw identifier."""
        needles = variants(identifiers)
        return [f"{raw!r} in log line: {line[:300]}" for line in self.lines for raw in leaks(line, needles)]


class _ListHandler(logging.Handler):
    def __init__(self, lines: list[str]) -> None:
        super().__init__(logging.DEBUG)
        self.lines = lines

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
        self.lines.append(f"{record.name}: {text}")


async def outbox_drained(database: Any, timeout: float = 15.0) -> None:
    """Wait until the service's relay has published every staged event (so the scan sees them all)."""
    import asyncio

    from sqlmodel import col, func, select

    from shared.bus.outbox import OutboxMessage

    statement = select(func.count()).select_from(OutboxMessage).where(col(OutboxMessage.published_at).is_(None))
    async with _deadline(timeout, lambda: "the outbox still holds unpublished events"):
        while True:
            async with database.session() as session:
                if not await session.scalar(statement):
                    return
            await asyncio.sleep(0.1)


@dataclass
class PiiReport:
    """The figures of one scan, for the test's report."""

    topics: int
    messages: int
    log_lines: int


async def assert_no_personal_data(
    bootstrap: str, prefix: str, identifiers: Iterable[str], logs: LogCapture | None = None
) -> PiiReport:
    """Fail when a raw identifier appears in any message of the test's topics or in a captured log line."""
    identifiers = list(identifiers)
    scan = await scan_bus(bootstrap, prefix, identifiers)
    findings = [f"bus: {f}" for f in scan.findings]
    if logs is not None:
        findings += [f"log: {f}" for f in logs.findings(identifiers)]
    assert not findings, f"raw identifiers found ({len(findings)}):\n" + "\n".join(findings[:50])
    assert scan.messages > 0, f"no message on the topics with prefix {prefix!r}: the scan proves nothing"
    if logs is not None:
        assert logs.lines, "no log line was captured: the log scan proves nothing"
    report = PiiReport(len(scan.topics), scan.messages, len(logs.lines) if logs else 0)
    print(f"\npii scan {prefix}: {report.messages} messages on {report.topics} topics, {report.log_lines} log lines")
    return report
