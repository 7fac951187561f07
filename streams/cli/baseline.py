"""``seismo baseline``: pin a drift reference, show the active ones."""

from __future__ import annotations

import typer
from rich.table import Table

from streams.cli.common import console, settings
from streams.exceptions import ConfigError

baseline_app = typer.Typer(help="Drift references: pin a baseline, show the active ones.")


@baseline_app.command("pin")
def baseline_pin(
    app_name: str = typer.Option(..., "--app"),
    model: str = typer.Option(...),
    start: str = typer.Option(..., "--from", help="RFC 3339 start of the baseline."),
    end: str = typer.Option(..., "--to", help="RFC 3339 end of the baseline."),
    prompt_version: str = typer.Option("", help="With split_by_prompt_version only."),
) -> None:
    """Compare APP/MODEL with its stored embeddings of [FROM, TO) (policy `pinned`)."""
    from streams.windows.baselines import pin

    body = {"app": app_name, "model": model, "from": start, "to": end,
            "prompt_version": prompt_version}
    s = settings()
    try:
        where = pin(s, body)
    except ValueError as exc:
        raise ConfigError("baseline", str(exc)) from None
    console.print(f"pinned {app_name}/{model} to {start} .. {end} (written by {where})")
    if s.reference_policy != "pinned":
        console.print(f"[yellow]note:[/] reference_policy is {s.reference_policy!r}; set "
                      "SEISMO_REFERENCE_POLICY=pinned for pins to take effect")


@baseline_app.command("show")
def baseline_show() -> None:
    """The reference each stream is compared with now."""
    from streams.windows.baselines import active_references

    table = Table(title="Active drift references")
    for name in ("stream", "policy", "source", "from", "to"):
        table.add_column(name)
    for ref in active_references(settings()):
        table.add_row(ref["stream"], ref["policy"], ref["source"], str(ref["from"] or "—"),
                      str(ref["to"] or "—"))
    console.print(table)
