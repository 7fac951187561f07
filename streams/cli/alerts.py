"""``seismo alerts``: the alert rules' false-page budget."""

from __future__ import annotations

import math

import typer
from rich.table import Table

from streams.cli.common import console, settings

alerts_app = typer.Typer(help="Alert rules: the false-page budget they run under.")


@alerts_app.command("budget")
def alerts_budget(
    keys: int = typer.Option(1, min=1, help="Stream keys the rules run on (the worker uses "
                                            "the number it has seen)."),
) -> None:
    """Tests, windows per week, per-test level and expected false pages per week."""
    from streams.alerting import load_rules
    from streams.alerting.budget import derive

    s = settings()
    lines = derive(load_rules(s.alert_rules_path), keys, s.window_seconds,
                   s.false_pages_per_week)
    table = Table(title=f"false-page budget ({s.window_seconds:g}-second windows)")
    for column in ("group", "rules", "tests", "windows/week", "per-test level",
                   "expected false pages/week"):
        table.add_column(column)
    for line in lines:
        budgeted = math.isfinite(line.level)
        table.add_row(
            line.group, ", ".join(line.rules), str(line.tests), f"{line.windows_per_week:g}",
            f"{line.level:.3g}" if budgeted else "fixed threshold",
            f"<= {line.expected_false_pages_per_week:.3g}" if budgeted else "not bounded",
        )
    console.print(table)
