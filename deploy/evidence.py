"""``privops evidence``: have the identity service build a tenant's signed evidence pack and save it."""

from __future__ import annotations

import json
import zipfile
from datetime import datetime
from io import BytesIO
from pathlib import Path
from typing import Annotated

import httpx
import typer

from shared.rules.evidence_pack import MANIFEST
from shared.rules.scopes import EVIDENCE_READ


def evidence(
    tenant: Annotated[str, typer.Option(help="Tenant (customer) of the pack")],
    since: Annotated[datetime, typer.Option(formats=["%Y-%m-%d"], help="First day of the period, YYYY-MM-DD (UTC)")],
    until: Annotated[datetime, typer.Option(formats=["%Y-%m-%d"], help="Last day of the period, included")],
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="ZIP to write (default: evidence-<tenant>-<period>.zip)")
    ] = None,
    url: Annotated[str | None, typer.Option(help="The identity service (default: the CLI credentials' one)")] = None,
    token: Annotated[
        str | None, typer.Option(envvar="PRIVOPS_TOKEN", help="Bearer token with evidence:read (default: the CLI's)")
    ] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the pack")] = 300.0,
) -> None:
    """Build the tenant's signed evidence pack for a period (every service's evidence) and save the ZIP.

    Check it with `privops verify <file>` (add --jwks to check it offline).
    """
    from deploy.local.clients import TokenError, cli_credentials

    first, last = since.date().isoformat(), until.date().isoformat()
    try:
        if token and url:
            bearer, base = token, url
        else:
            credentials = cli_credentials()
            bearer = token or credentials.token(tenant, [EVIDENCE_READ])
            base = url or credentials.identity_url
    except TokenError as exc:
        typer.secho(f"privops evidence: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None
    try:
        response = httpx.post(
            base.rstrip("/") + "/v1/evidence-packs",
            json={"tenant": tenant, "since": first, "until": last},
            headers={"Authorization": f"Bearer {bearer}"},
            timeout=timeout,
        )
    except httpx.HTTPError as exc:
        typer.secho(f"privops evidence: the identity service at {base} is not reachable ({exc})", err=True)
        raise typer.Exit(1) from None
    if response.status_code != 200:
        typer.secho(f"privops evidence: refused ({response.status_code}): {response.text[:500]}", err=True)
        raise typer.Exit(1)
    target = output or Path(f"evidence-{tenant}-{first}-{last}.zip")
    target.write_bytes(response.content)
    with zipfile.ZipFile(BytesIO(response.content)) as pack:
        manifest = json.loads(pack.read(MANIFEST))
    typer.echo(f"{target}: evidence pack {manifest['pack_id']}, {len(manifest['files'])} files")
    for name, outcome in manifest["services"].items():
        typer.echo(f"  {name}: {outcome['status']}" + (f" ({outcome['reason']})" if outcome["reason"] else ""))
    if not manifest["complete"]:
        typer.secho("incomplete: some services did not answer (named above)", fg=typer.colors.YELLOW, err=True)
