"""``privops``: the command line of the platform (local stack, services, tokens, docs)."""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

from deploy.dlq import dlq_app
from deploy.evidence import evidence
from deploy.smtp import smtp
from deploy.verify import verify
from shared.runtime.auth import SERVICES, admin_scopes, issue_token
from shared.runtime.settings import Role

app = typer.Typer(help="privops: privacy operations platform", no_args_is_help=True, add_completion=False)

ServiceArg = Annotated[str, typer.Argument(help=f"One of: {', '.join(SERVICES)}")]
# Served like a service, but with no tables to migrate and no scopes of its own: the portal's pages.
WEB_APPS = ("portal",)
ServedArg = Annotated[str, typer.Argument(help=f"One of: {', '.join((*SERVICES, *WEB_APPS))}")]


def _check_service(name: str, also: tuple[str, ...] = ()) -> str:
    known = (*SERVICES, *also)
    if name not in known:
        raise typer.BadParameter(f"unknown service {name!r}; choose one of {', '.join(known)}")
    return name


def _settings(service: str) -> object:
    module = importlib.import_module(f"services.{service}.settings")
    cls = next(v for k, v in vars(module).items() if k.endswith("Settings") and k != "ServiceSettings")
    from shared.runtime.settings import load_settings

    return load_settings(cls)


@app.command()
def serve(
    service: ServedArg,
    host: Annotated[str, typer.Option(help="Interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    role: Annotated[
        Role | None,
        typer.Option(
            help="api: the endpoints only; worker: outbox relay, consumers and jobs (serving health and metrics); "
            "all: both in one process (default: <SERVICE>_ROLE, else all)"
        ),
    ] = None,
) -> None:
    """Run one service (configuration from its environment variables)."""
    import uvicorn

    _check_service(service, WEB_APPS)
    if role is not None:
        os.environ[f"{service.upper()}_ROLE"] = role.value  # read by the settings the app factory loads
    _settings(service)  # fail fast, with the list of bad variables, before uvicorn starts
    uvicorn.run(
        f"services.{service}.app:create_app",
        factory=True,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        proxy_headers=True,
        timeout_graceful_shutdown=10,
    )


@app.command()
def migrate(service: ServiceArg) -> None:
    """Apply the service's database migrations (idempotent)."""
    from shared.runtime.migrations import upgrade

    _check_service(service)
    settings = _settings(service)
    key = settings.subject_hash_key.get_secret_value()  # type: ignore[attr-defined]
    upgrade(service, settings.database_url, subject_key=key)  # type: ignore[attr-defined]
    typer.echo(f"{service}: migrations applied")


@app.command("make-migration")
def make_migration(service: ServiceArg, message: Annotated[str, typer.Option("-m", "--message")]) -> None:
    """Autogenerate a migration of the service from its models (against its database)."""
    from shared.runtime.migrations import revision

    _check_service(service)
    settings = _settings(service)
    revision(service, settings.database_url, message)  # type: ignore[attr-defined]


@app.command()
def token(
    tenant: Annotated[str, typer.Option(help="Tenant the token acts for")],
    scope: Annotated[list[str] | None, typer.Option(help="Scope, repeatable (default: every admin scope)")] = None,
    dev_secret: Annotated[
        str | None,
        typer.Option(envvar="PRIVOPS_JWT_SECRET", help="Development only: sign HS256 with this shared secret"),
    ] = None,
    hours: Annotated[int, typer.Option(help="Lifetime in hours (development tokens only)")] = 12,
    subject: Annotated[str, typer.Option(help="Token subject (development tokens only)")] = "privops-cli",
) -> None:
    """Print a bearer token from the identity service (client credentials of the operator's CLI).

    The credentials come from PRIVOPS_IDENTITY_URL, PRIVOPS_CLIENT_ID and PRIVOPS_CLIENT_SECRET, or
    from the local stack's state folder (.privops/, found from the current folder upwards, or
    PRIVOPS_STATE_DIR). Nothing is signed with a made-up secret: without credentials it says so.
    """
    from deploy.local.clients import TokenError, cli_credentials

    scopes = scope or admin_scopes()
    if dev_secret:
        typer.echo(
            issue_token(dev_secret, tenant, scopes, now=datetime.now(UTC), subject=subject, ttl=timedelta(hours=hours))
        )
        return
    try:
        typer.echo(cli_credentials().token(tenant, scopes))
    except TokenError as exc:
        typer.secho(f"privops token: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None


app.command()(verify)
app.command()(evidence)


@app.command("secret")
def new_secret() -> None:
    """Print a fresh random secret for *_CLIENT_SECRET, *_SUBJECT_HASH_KEY, *_SIGNING_KEY or a key-encryption key."""
    typer.echo(secrets.token_urlsafe(48))


@app.command()
def docs(
    out: Annotated[Path, typer.Option(help="Output folder")] = Path("docs"),
    check: Annotated[bool, typer.Option(help="Fail if the files are not current")] = False,
) -> None:
    """Write the AsyncAPI document and the event JSON Schemas generated from the catalogue, and the JSON Schema of
    the DSAR package's personal-data.json."""
    from services.dsar.schemas.portability import package_schema
    from shared.events.asyncapi import render_files

    files = render_files()
    files["schemas/portability-package.json"] = json.dumps(package_schema(), indent=2, ensure_ascii=False) + "\n"
    stale = []
    for path, content in files.items():
        target = out / path
        if check:
            if not target.exists() or target.read_text() != content:
                stale.append(str(target))
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)
    if stale:
        typer.echo("out of date: " + ", ".join(stale) + " (run `privops docs`)", err=True)
        raise typer.Exit(1)
    typer.echo(f"event documentation {'is current' if check else 'written'} in {out}/")


@app.command()
def up(
    state_dir: Annotated[Path, typer.Option(help="Where data, secrets and logs are kept")] = Path(".privops"),
    base_port: Annotated[
        int, typer.Option(help="Port of the first service; the others, the portal and (away from 8001) SMTP follow")
    ] = 8001,
) -> None:
    """Start the whole platform locally: PostgreSQL, the broker, every service and the demo stores."""
    from deploy.local.stack import run_stack

    raise typer.Exit(run_stack(state_dir=state_dir, base_port=base_port))


app.command()(smtp)


@app.command("audit-verify")
def audit_verify(service: ServiceArg) -> None:
    """Walk the service's audit chain and report any edited, deleted or reordered row."""
    from shared.runtime import audit
    from shared.runtime.db import Database

    _check_service(service)
    settings = _settings(service)

    async def run() -> audit.VerifyReport:
        database = Database(settings.database_url)  # type: ignore[attr-defined]
        try:
            async with database.session() as session:
                return await audit.verify(session)
        finally:
            await database.dispose()

    report = asyncio.run(run())
    typer.echo(
        json.dumps(
            {"ok": report.ok, "checked": report.checked, "unsealed": report.unsealed, "problems": report.problems},
            indent=2,
        )
    )
    raise typer.Exit(0 if report.ok else 1)


consent_app = typer.Typer(help="Consent service tools", no_args_is_help=True)
app.add_typer(consent_app, name="consent")
app.add_typer(dlq_app, name="dlq")


@consent_app.command("import")
def consent_import(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="NDJSON or CSV file of consents")],
    tenant: Annotated[str, typer.Option(help="Tenant the consents belong to")] = "demo",
    url: Annotated[str, typer.Option(help="Base URL of the consent service")] = "http://127.0.0.1:8001",
    fmt: Annotated[str | None, typer.Option("--format", help="ndjson or csv (default: from the extension)")] = None,
    chunk_rows: Annotated[int, typer.Option(help="Rows per request (and at most about 4 MB)")] = 10_000,
    in_flight: Annotated[int, typer.Option(min=1, max=4, help="NDJSON chunks sent before the first answer")] = 2,
    resume: Annotated[str | None, typer.Option(help="Import id to resume after an interruption")] = None,
    token: Annotated[
        str | None, typer.Option(envvar="PRIVOPS_TOKEN", help="Bearer token (default: local secret)")
    ] = None,
) -> None:
    """Import existing consents in resumable chunks, with a progress bar and a rejected-rows count."""
    import httpx
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    from deploy.local.secrets import load_local_secrets
    from sdk.consent_import import ImportProgress, ImportStopped, detect_format, run_import

    bearer = token or issue_token(
        load_local_secrets(Path(".privops")).jwt_secret, tenant, ["consent:admin"], now=datetime.now(UTC)
    )
    the_format = fmt or detect_format(file)
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeRemainingColumn())
    with (
        httpx.Client(base_url=url, headers={"Authorization": f"Bearer {bearer}"}, timeout=300.0) as client,
        Progress(*columns) as bar,
    ):
        task = bar.add_task("importing", total=file.stat().st_size)

        def advance(progress: ImportProgress, read: int) -> None:
            bar.update(task, advance=read, description=f"{progress.accepted} accepted, {progress.rejected} rejected")

        try:
            result = run_import(
                client,
                file,
                fmt=the_format,
                chunk_rows=chunk_rows,
                resume=resume,
                in_flight=in_flight,
                on_progress=advance,
            )
        except ImportStopped as exc:
            typer.echo(
                f"import stopped: {exc}; {exc.rows_done} rows are stored, resume with --resume {exc.import_id}",
                err=True,
            )
            raise typer.Exit(1) from None
        except RuntimeError as exc:
            typer.echo(f"import stopped: {exc}", err=True)
            raise typer.Exit(1) from None
    typer.echo(
        json.dumps(
            {
                "import_id": result.import_id,
                "rows": result.rows_done,
                "accepted": result.accepted,
                "rejected": result.rejected,
                "report": f"{url}/v1/imports/{result.import_id}/rejections",
            }
        )
    )


def main() -> None:
    """Entry point of the ``privops`` console script."""
    app()


if __name__ == "__main__":
    main()
