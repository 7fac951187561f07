"""The ``seismo`` command: the typer app, its command groups, and one line per error.

Each command group lives in a module of its own and imports what it shares from
:mod:`streams.cli.common`; this module only assembles them, so none imports another.
"""

from __future__ import annotations

import sys

import typer

from streams.cli.alerts import alerts_app
from streams.cli.baseline import baseline_app
from streams.cli.common import err
from streams.cli.demo import demo
from streams.cli.forget import forget
from streams.cli.grafana import grafana_app
from streams.cli.kafka import kafka_app
from streams.cli.produce import produce
from streams.cli.report import report
from streams.cli.status import status
from streams.cli.worker import worker
from streams.exceptions import ConfigError, SeismoError
from streams.settings import ENV_ALIASES, ENV_PREFIX

app = typer.Typer(
    help="Seismo: real-time monitoring of LLM applications.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(kafka_app, name="kafka")
app.add_typer(grafana_app, name="grafana")
app.add_typer(baseline_app, name="baseline")
app.add_typer(alerts_app, name="alerts")
for command in (worker, produce, status, demo, forget, report):
    app.command()(command)


def _setting_label(name: str) -> str:
    if name.isidentifier() and name.islower():
        env = ENV_PREFIX + name.upper()
        if name in ENV_ALIASES:
            env += " or " + ENV_ALIASES[name]
        return f"{name} ({env})"
    return name


def main() -> None:
    try:
        app()
    except ConfigError as exc:
        err.print(
            f"[red]error:[/] bad setting {_setting_label(exc.setting)}: "
            f"{str(exc).split(': ', 1)[1]}",
            highlight=False,
            soft_wrap=True,
        )
        sys.exit(2)
    except SeismoError as exc:
        err.print(f"[red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)
