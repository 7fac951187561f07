"""``seismo forget``: an erasure request, carried out by the worker or on the store."""

from __future__ import annotations

import typer
from rich.table import Table

from streams.cli.common import console, settings


def forget(
    user_id: list[str] = typer.Option([], "--user-id", help="A user's id as the app sent it."),
    conversation_id: list[str] = typer.Option(
        [], "--conversation-id", help="A conversation's id as the app sent it."),
) -> None:
    """Delete every stored row of these users or conversations (an erasure request)."""
    from streams.store.forget import request_forget

    if not any(user_id) and not any(conversation_id):
        raise typer.BadParameter("name at least one non-empty user id or conversation id",
                                 param_hint="--user-id / --conversation-id")
    with console.status("deleting …"):
        removed, by = request_forget(settings(), user_id, conversation_id)
    table = Table(title="Rows removed")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, count in removed.items():
        table.add_row(name, f"{count:,}")
    console.print(table)
    console.print(f"deleted by {by}")
