"""``privops smtp``: the local SMTP server (STARTTLS, AUTH) that keeps every message in the mailbox folder."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from deploy.local.mailserver import SMTP_PORT


def smtp(
    state_dir: Annotated[Path, typer.Option(help="State folder: mailbox/, the certificate, secrets.json")] = Path(
        ".privops"
    ),
    port: Annotated[int, typer.Option(help="TCP port on 127.0.0.1")] = SMTP_PORT,
) -> None:
    """Run the local SMTP server until SIGTERM or Ctrl-C: STARTTLS and AUTH required, mail kept as .eml files."""
    from deploy.local.mailserver import LocalSmtp
    from deploy.local.supervisor import Interrupted, StopFlag

    # aiosmtpd logs a warning about its own deprecated Session.login_data on every AUTH.
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    server = LocalSmtp.in_state_dir(state_dir.absolute(), port)
    with StopFlag() as stop:
        controller = server.start()
        try:
            typer.echo(
                f"SMTP on {server.host}:{controller.port}: STARTTLS (certificate {server.cert}), "
                f"AUTH as {server.username} (password in {state_dir.absolute() / 'secrets.json'}), "
                f"mail kept in {server.mailbox}/"
            )
            while True:
                stop.sleep(3600)
        except Interrupted as interrupt:
            typer.echo(f"SMTP server stopping on {interrupt}")
        finally:
            controller.stop()
