"""``privops dlq``: the dead letters of the services' consumer groups, through each service's admin API.

``list`` (every service unless ``--service``), ``show``, ``replay`` (one, or ``--all --group G``)
and ``discard``. Who calls and where come before the command (``privops dlq --tenant acme list``).
The token is minted like ``privops token``: with ``--tenant``, that tenant's
admin (its own dead letters only); without, a platform operator's (``platform:admin``: every
tenant's, and those of no known tenant). The token's subject names the person at the keyboard,
so the services' audit logs say who replayed what.
"""

from __future__ import annotations

import getpass
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.table import Table

from shared.bus.dead_letter_admin import OPERATOR_SCOPE
from shared.runtime.auth import SERVICES, admin_scopes, issue_token

dlq_app = typer.Typer(
    help="Dead letters of every consumer group: list, show, replay (never applied twice), discard",
    no_args_is_help=True,
)
OPERATOR_TENANT = "platform"  # the tenant claim of an operator's token (it sees every tenant's dead letters)
PATH = "/v1/admin/dead-letters"
PAGE = 200

ServiceOpt = Annotated[str | None, typer.Option("--service", "-s", help=f"One of: {', '.join(SERVICES)}")]
UrlOpt = Annotated[
    str | None, typer.Option(help="Base URL of the service (default: PRIVOPS_<SERVICE>_URL, else the local stack's)")
]
BasePortOpt = Annotated[int, typer.Option(help="Port of the local stack's first service; the others follow")]
TenantOpt = Annotated[
    str | None, typer.Option(help="Act as this tenant's admin (default: a platform operator, every tenant)")
]
TokenOpt = Annotated[str | None, typer.Option(envvar="PRIVOPS_TOKEN", help="Bearer token (default: minted here)")]
SecretOpt = Annotated[
    str | None, typer.Option(envvar="PRIVOPS_JWT_SECRET", help="HS256 secret (default: the local stack's)")
]
StateDirOpt = Annotated[Path, typer.Option(help="The local stack's state folder (its secrets)")]


@dataclass(frozen=True)
class Caller:
    """How to reach the services' admin APIs: a token, and where each service listens."""

    token: str
    url: str | None
    base_port: int

    def client(self, service: str) -> httpx.Client:
        """An HTTP client of ``service``'s API carrying the token."""
        env = os.environ.get(f"PRIVOPS_{service.upper()}_URL")
        base = self.url or env or f"http://127.0.0.1:{self.base_port + SERVICES.index(service)}"
        return httpx.Client(base_url=base, headers={"Authorization": f"Bearer {self.token}"}, timeout=60.0)


class CallFailed(Exception):
    """A service answered with a problem, or could not be reached."""


def caller(
    tenant: str | None, token: str | None, secret: str | None, state_dir: Path, url: str | None, base_port: int
) -> Caller:
    """The caller of these commands: the given token, else one minted for the tenant's admin or an operator."""
    if token is None:
        from deploy.local.secrets import load_local_secrets

        key = secret or load_local_secrets(state_dir).jwt_secret
        scopes = admin_scopes() if tenant else [OPERATOR_SCOPE]
        token = issue_token(
            key,
            tenant or OPERATOR_TENANT,
            scopes,
            now=datetime.now(UTC),
            subject=f"cli:{getpass.getuser()}",
            ttl=timedelta(minutes=15),
        )
    return Caller(token, url, base_port)


@dlq_app.callback()
def connect(
    ctx: typer.Context,
    tenant: TenantOpt = None,
    token: TokenOpt = None,
    secret: SecretOpt = None,
    state_dir: StateDirOpt = Path(".privops"),
    url: UrlOpt = None,
    base_port: BasePortOpt = 8001,
) -> None:
    """Who calls (a tenant's admin, or a platform operator) and where the services listen, for every command."""
    ctx.obj = caller(tenant, token, secret, state_dir, url, base_port)


def _service(name: str | None) -> str:
    if name is None:
        raise typer.BadParameter("name the service with --service")
    if name not in SERVICES:
        raise typer.BadParameter(f"unknown service {name!r}; choose one of {', '.join(SERVICES)}")
    return name


def _call(client: httpx.Client, method: str, path: str, **kwargs: Any) -> Any:
    """The JSON answer of a call; ``CallFailed`` with the problem's detail otherwise."""
    try:
        response = client.request(method, path, **kwargs)
    except httpx.HTTPError as exc:
        raise CallFailed(f"unreachable at {client.base_url} ({type(exc).__name__})") from None
    if response.status_code >= 400:
        try:
            problem = response.json()
            detail = f"{problem.get('title', 'error')}: {problem.get('detail', '')}"
        except ValueError:
            detail = response.text[:200]
        raise CallFailed(f"{response.status_code} {detail}")
    return response.json()


def _pages(client: httpx.Client, params: dict[str, Any], limit: int | None = None) -> Iterator[dict[str, Any]]:
    """Every dead letter matching ``params`` (at most ``limit``), oldest first, a page at a time."""
    after, seen = 0, 0
    while True:
        page = _call(client, "GET", PATH, params={**params, "after": after, "limit": PAGE})
        for item in page["items"]:
            if limit is not None and seen >= limit:
                return
            seen += 1
            yield item
        if page["next_after"] is None:
            return
        after = page["next_after"]


def _short_group(service: str, group: str) -> str:
    """The subscription name of a group id (``privops.dsar.notifications`` → ``notifications``)."""
    marker = f"privops.{service}."
    return group.split(marker, 1)[1] if marker in group else group


def _when(value: str | None) -> str:
    return value[:19].replace("T", " ") if value else ""


def _table(title: str, *columns: str) -> Table:
    table = Table(title=title)
    for column in columns:
        table.add_column(column, overflow="fold")
    return table


def _print(table: Table, failed: bool) -> None:
    """Print what was done; exit 1 when a call or a replay failed."""
    Console().print(table)
    if failed:
        raise typer.Exit(1)


def _fail(message: str) -> None:
    Console(stderr=True).print(f"[red]{message}[/red]")


def _one(ctx: typer.Context, service: str | None, method: str, path: str, **kwargs: Any) -> Any:
    """One call to one service's admin API; on a problem, say it and exit 1."""
    name = _service(service)
    with ctx.obj.client(name) as client:
        try:
            return _call(client, method, path, **kwargs)
        except CallFailed as exc:
            _fail(f"{name}: {exc}")
            raise typer.Exit(1) from None


@dlq_app.command("list")
def list_dead_letters(
    ctx: typer.Context,
    service: ServiceOpt = None,
    group: Annotated[str | None, typer.Option(help="Subscription name or group id")] = None,
    state: Annotated[str, typer.Option(help="open, replayed, discarded, or all")] = "open",
    event_type: Annotated[str | None, typer.Option("--type", help="Event type")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many per service")] = 100,
) -> None:
    """The dead letters of one service, or of every service, with the reason, oldest first."""
    who: Caller = ctx.obj
    if who.url and not service:
        raise typer.BadParameter("--url needs --service")
    services = [_service(service)] if service else list(SERVICES)
    params = {k: v for k, v in {"group": group, "state": state, "type": event_type}.items() if v and v != "all"}
    columns = ("service", "id", "group", "type", "tenant", "reason", "attempts", "state", "first failed")
    table = _table("Dead letters", *columns)
    failed = False
    for name in services:
        try:
            with who.client(name) as client:
                for item in _pages(client, params, limit):
                    table.add_row(
                        name,
                        str(item["id"]),
                        _short_group(name, item["group"]),
                        item["event_type"] or "?",
                        item["tenant_id"] or "?",
                        f"{item['reason']}: {item['error'][:80]}",
                        str(item["attempts"]),
                        item["state"] + (f" ({item['outcome']})" if item["outcome"] else ""),
                        _when(item["failed_at"]),
                    )
        except CallFailed as exc:
            _fail(f"{name}: {exc}")
            failed = True
    _print(table, failed)


@dlq_app.command("show")
def show(
    ctx: typer.Context,
    dead_letter_id: Annotated[int, typer.Argument(help="The dead letter's id")],
    service: ServiceOpt = None,
) -> None:
    """One dead letter: its envelope, headers and data, the reason, and what became of it."""
    item = _one(ctx, service, "GET", f"{PATH}/{dead_letter_id}")
    table = Table(title=f"{service}: dead letter {dead_letter_id}", show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    for key, value in item.items():
        shown = json.dumps(value, indent=2, ensure_ascii=False) if isinstance(value, dict | list) else value
        table.add_row(key, "" if shown is None else str(shown))
    Console().print(table)


@dlq_app.command("replay")
def replay(
    ctx: typer.Context,
    dead_letter_id: Annotated[int | None, typer.Argument(help="The dead letter's id (or --all --group G)")] = None,
    every: Annotated[bool, typer.Option("--all", help="Every open dead letter of --group")] = False,
    group: Annotated[str | None, typer.Option(help="With --all: the subscription name or group id")] = None,
    service: ServiceOpt = None,
) -> None:
    """Apply dead letters again through their group's handler and inbox: an event already applied is a duplicate."""
    name = _service(service)
    if (dead_letter_id is None) == (not every):
        raise typer.BadParameter("give a dead letter id, or --all with --group")
    if every and not group:
        raise typer.BadParameter("--all needs --group (one consumer group at a time)")
    table = _table(f"{name}: replays", "id", "group", "type", "outcome", "state", "reason")
    failed = False
    with ctx.obj.client(name) as client:
        try:
            # Listed before replaying: a replay that fails again stays open and must not be taken twice.
            ids = (
                [item["id"] for item in _pages(client, {"group": group, "state": "open"})]
                if every
                else [dead_letter_id]
            )
            for one in ids:
                answer = _call(client, "POST", f"{PATH}/{one}/replay")
                item, outcome = answer["dead_letter"], answer["outcome"]
                failed |= outcome == "failed"
                reason = f"{item['reason']}: {item['error'][:80]}" if outcome == "failed" else ""
                style = "red" if outcome == "failed" else "green" if outcome == "applied" else "yellow"
                table.add_row(
                    str(one),
                    _short_group(name, item["group"]),
                    item["event_type"] or "?",
                    f"[{style}]{outcome}[/{style}]",
                    item["state"],
                    reason,
                )
        except CallFailed as exc:
            _fail(f"{name}: {exc}")
            failed = True
    _print(table, failed)


@dlq_app.command("discard")
def discard(
    ctx: typer.Context,
    dead_letter_id: Annotated[int, typer.Argument(help="The dead letter's id")],
    reason: Annotated[str, typer.Option(help="Why it is given up on (kept and audited)")],
    service: ServiceOpt = None,
) -> None:
    """Give up on an open dead letter on purpose, saying why."""
    item = _one(ctx, service, "POST", f"{PATH}/{dead_letter_id}/discard", json={"reason": reason})
    Console().print(f"{service}: dead letter {item['id']} discarded by {item['resolved_by']}")
