"""What ``privops up`` prints: one summary table, then a short colourised stream of the services' logs."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

SERVICE_COLOURS = {
    "consent": "cyan",
    "dsar": "magenta",
    "retention": "green",
    "breach": "red",
    "subprocessor": "yellow",
    "notify": "bright_blue",
}
OTHER_COLOURS = ("blue", "bright_cyan", "bright_magenta", "bright_green", "bright_yellow")
LEVEL_STYLES = {
    "debug": "dim",
    "info": "green",
    "warning": "yellow",
    "error": "bold red",
    "critical": "bold white on red",
}
LEVEL_LABELS = {"warning": "WARN", "critical": "CRIT"}
QUIET_PATHS = ("/healthz", "/readyz", "/metrics")
# uvicorn's lifecycle chatter; "Uvicorn running on …" and the services' own start/stop records stay.
QUIET_EVENTS = frozenset(
    {
        "Waiting for application startup.",
        "Application startup complete.",
        "Shutting down",
        "Waiting for application shutdown.",
        "Application shutdown complete.",
    }
)
QUIET_PREFIXES = ("Started server process", "Finished server process")
# Keys shown elsewhere on the line, or too long to help in a one-line summary.
HIDDEN_KEYS = frozenset(
    {"event", "level", "timestamp", "service", "logger", "correlation_id", "exception", "exc_info", "color_message"}
)
MAX_FIELDS = 4
MAX_VALUE = 48
WIDE_ENOUGH = 200


def make_console() -> Console:
    """A console for the terminal, or a wide, colourless one when the output is a pipe (CI, tests)."""
    console = Console(highlight=False)
    if not console.is_terminal:
        console = Console(highlight=False, width=WIDE_ENOUGH)
    return console


@dataclass(frozen=True)
class Endpoint:
    """One row of the summary: a process and, for an HTTP service, its base URL."""

    name: str
    url: str | None


class LogStream:
    """Prints one short line per log record of the supervised processes (thread-safe)."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._colours: dict[str, str] = {}

    def colour(self, name: str) -> str:
        """The colour of a process name (fixed for the services, rotating for the others)."""
        if name not in self._colours:
            self._colours[name] = SERVICE_COLOURS.get(name) or OTHER_COLOURS[len(self._colours) % len(OTHER_COLOURS)]
        return self._colours[name]

    def line(self, name: str, raw: str) -> None:
        """Print one raw output line of ``name``, unless it is noise."""
        text = render(name, raw, self.colour(name))
        if text is not None:
            self.console.print(text, soft_wrap=True)

    def note(self, message: str, style: str = "dim") -> None:
        """Print a message of the supervisor itself (never failing: the stack must still stop if the output is gone)."""
        with contextlib.suppress(OSError):
            self.console.print(Text(message, style=style), soft_wrap=True)


def render(name: str, raw: str, colour: str) -> Text | None:
    """``time service level event key=value …`` for a JSON record; the raw text for anything else."""
    raw = raw.rstrip()
    if not raw.strip():
        return None
    record = _parse(raw)
    if record is None:
        return _prefix(_now(), name, colour, "").append(raw)
    if is_noise(record):
        return None
    level = str(record.get("level", "info")).lower()
    text = _prefix(_clock(record.get("timestamp")), name, colour, level)
    text.append(str(record.get("event", "")), style="bold" if level in ("error", "critical") else "")
    for key, value in list(_fields(record))[:MAX_FIELDS]:
        text.append(f" {key}=", style="dim").append(value)
    exception = record.get("exception")
    if exception:
        text.append(f"  {str(exception).strip().splitlines()[-1]}", style="red")
    return text


def is_noise(record: dict[str, Any]) -> bool:
    """Debug records, uvicorn's lifecycle chatter, and access logs of the probes (health, readiness, metrics)."""
    event = str(record.get("event", ""))
    if str(record.get("level", "")).lower() == "debug" or event in QUIET_EVENTS or event.startswith(QUIET_PREFIXES):
        return True
    where = " ".join(str(record.get(key, "")) for key in ("event", "path", "url", "request"))
    return any(path in where for path in QUIET_PATHS) and (
        "access" in str(record.get("logger", "")) or "path" in record or "GET " in where
    )


def _parse(raw: str) -> dict[str, Any] | None:
    if not raw.startswith("{"):
        return None
    try:
        record = json.loads(raw)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


def _fields(record: dict[str, Any]) -> list[tuple[str, str]]:
    shown = []
    for key, value in record.items():
        if key in HIDDEN_KEYS or value is None or value == "":
            continue
        text = value if isinstance(value, str) else json.dumps(value, default=str)
        shown.append((key, text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + "…"))
    return shown


def _prefix(clock: str, name: str, colour: str, level: str) -> Text:
    text = Text(f"{clock} ", style="dim")
    text.append(f"{name:<12} ", style=colour)
    text.append(f"{LEVEL_LABELS.get(level, level.upper()[:5]):<5} ", style=LEVEL_STYLES.get(level, ""))
    return text


def _clock(timestamp: object) -> str:
    try:
        return datetime.fromisoformat(str(timestamp)).astimezone().strftime("%H:%M:%S")
    except ValueError:
        return _now()


def _now() -> str:
    return datetime.now().astimezone().strftime("%H:%M:%S")


def print_summary(
    console: Console,
    endpoints: Sequence[Endpoint],
    facts: Sequence[tuple[str, str]],
    token: str,
    example: str,
) -> None:
    """The table of services and their links, the infrastructure, and a ready-to-use admin token."""
    table = Table(title="privops local stack", title_justify="left", expand=False)
    for column in ("service", "URL", "API docs", "health", "metrics"):
        table.add_column(column, no_wrap=True)
    for endpoint in endpoints:
        name = Text(endpoint.name, style=SERVICE_COLOURS.get(endpoint.name, "blue"))
        if endpoint.url is None:
            table.add_row(name, "(no HTTP)", "", "", "")
        else:
            url = endpoint.url
            table.add_row(name, url, f"{url}/docs", f"{url}/readyz", f"{url}/metrics")
    console.print(table)
    for label, value in facts:
        console.print(Text(f"{label:<16}", style="bold").append(value, style=""), soft_wrap=True)
    console.print(Text("admin token     ", style="bold").append("tenant demo, every admin scope, valid 12 h"))
    console.print(f"export PRIVOPS_TOKEN={token}", soft_wrap=True, markup=False)
    console.print(example, soft_wrap=True, markup=False)
