"""``privops verify FILE``: check a signed certificate of erasure, consent receipt or evidence pack, with no token.

The file holds a compact JWS, the JSON a privops API answered with a ``jws`` (or ``signature``)
field, or an evidence pack (a ZIP: its signed manifest, then every file's SHA-256, see
``shared.rules.evidence_pack``). The signer's public keys come from the JWKS beside the document's issuer: an ``iss`` of
``<base>/tenants/<tenant>`` publishes them at ``<base>/.well-known/privops/tenants/<tenant>/jwks.json``
(or give ``--jwks`` a URL or a file, to check fully offline).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import httpx
import jwt
import typer

from shared.rules import evidence_pack, keys


def read_jws(path: Path) -> str:
    """The compact JWS in a file: the text itself, or the ``jws``/``signature`` field of a JSON document."""
    text = path.read_text().strip()
    if text.startswith("{"):
        body = json.loads(text)
        for name in ("jws", "signature"):
            if isinstance(body.get(name), str) and body[name].count(".") == 2:
                return str(body[name])
        raise typer.BadParameter(f"{path}: a JSON document without a compact JWS in 'jws' or 'signature'")
    return text


def jwks_location(jws: str) -> str:
    """Where the issuer named in the (unverified) claims publishes its keys."""
    issuer = str(jwt.decode(jws, options={"verify_signature": False}).get("iss", ""))
    base, marker, tenant = issuer.rpartition("/tenants/")
    if not marker or not tenant or not base.startswith(("http://", "https://")):
        raise typer.BadParameter(f"the document's issuer {issuer!r} is not <base>/tenants/<tenant>: give --jwks")
    return f"{base}/.well-known/privops/tenants/{tenant}/jwks.json"


def load_jwks(source: str) -> dict[str, Any]:
    """A JWK set from a URL or a file."""
    if source.startswith(("http://", "https://")):
        response = httpx.get(source, timeout=10.0)
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body
    loaded: dict[str, Any] = json.loads(Path(source).read_text())
    return loaded


def verify(
    file: Annotated[Path, typer.Argument(help="A compact JWS, or the JSON answer holding one", exists=True)],
    jwks: Annotated[str | None, typer.Option(help="JWKS URL or file (default: beside the document's issuer)")] = None,
) -> None:
    """Verify a signed certificate, receipt or evidence pack with only the issuer's public keys; exit 1 when it does
    not verify."""
    content = file.read_bytes()
    if evidence_pack.is_pack(content):
        verify_evidence_pack(content, jwks)
        return
    jws = read_jws(file)
    source = jwks or jwks_location(jws)
    try:
        claims = keys.verify(jws, load_jwks(source))
    except keys.SignatureInvalid as exc:
        typer.secho(f"NOT VALID: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None
    header = keys.header(jws)
    typer.secho(f"valid {header.get('typ', 'JWS')} signed by key {header['kid']} ({source})", fg=typer.colors.GREEN)
    typer.echo(json.dumps(claims, indent=2, ensure_ascii=False, sort_keys=True))


def verify_evidence_pack(content: bytes, jwks: str | None) -> None:
    """Check a pack's signed manifest and every file it lists; print what it covers; exit 1 on any problem."""
    try:
        source = jwks or jwks_location(evidence_pack.signed_jws(content))
    except (jwt.PyJWTError, UnicodeDecodeError) as exc:
        typer.secho(f"NOT VALID: manifest.jws is not a compact JWS ({exc})", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None
    report = evidence_pack.verify_pack(content, load_jwks(source))
    if not report.ok:
        for problem in report.problems:
            typer.secho(f"NOT VALID: {problem}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)
    manifest = report.manifest
    period = manifest["period"]
    kid = keys.header(evidence_pack.signed_jws(content))["kid"]
    typer.secho(
        f"valid evidence pack {manifest['pack_id']} of {manifest['tenant']} for {period['since']}..{period['until']}: "
        f"{report.files_checked} files checked, manifest signed by key {kid} ({source})",
        fg=typer.colors.GREEN,
    )
    for name, outcome in manifest["services"].items():
        detail = ", ".join(outcome["sections"]) if outcome["status"] == "answered" else outcome["reason"]
        typer.echo(f"  {name}: {outcome['status']} ({detail})")
    if not manifest["complete"]:
        typer.secho("  incomplete: the services above that did not answer are missing", fg=typer.colors.YELLOW)
