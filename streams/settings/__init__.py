"""The one settings object: ``SEISMO_*`` environment variables over an optional TOML file.

Everything configurable lives here, is validated once at start, and a bad value becomes one
:class:`ConfigError` line naming the setting (the CLI prints it without a traceback).

:class:`Settings` is made of typed, frozen sections, one module each: ``kafka``, ``store``,
``api``, ``ingest``, ``windows``, ``drift``, ``signals``, ``alerting``, ``watch`` and
``report``. Each
section declares its fields once, with their default and meaning, and checks them; the
objects that use a part of the configuration take their section (``settings.drift``), so no
default is written twice. Setting names are unique across sections, so the user-facing
names stay flat: environment ``SEISMO_<NAME>``, TOML keys under ``[seismo]`` (or under
``[seismo.<section>]``), ``Settings(window_seconds=60)`` and ``settings.window_seconds``.
The README's configuration table is generated from the sections
(``python -m streams.settings.reference``).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from operator import attrgetter
from pathlib import Path
from typing import Any

from streams.exceptions import ConfigError
from streams.settings.alerting import AlertingSettings
from streams.settings.api import ApiSettings
from streams.settings.base import Section, coerce
from streams.settings.drift import EMBEDDING_BACKENDS, DriftSettings
from streams.settings.environment import (
    CACHE_ROOT,
    CONFIG_ENV,
    ENV_ALIASES,
    ENV_PREFIX,
    cache_root,
    environment,
    explain_api_key,
)
from streams.settings.ingest import IngestSettings
from streams.settings.kafka import KafkaSettings
from streams.settings.report import ReportSettings
from streams.settings.signals import DEFAULT_PRICES, TABLE_READERS, ModelPrice, SignalSettings
from streams.settings.store import StoreSettings
from streams.settings.watch import WatchSettings
from streams.settings.windows import WindowSettings

__all__ = [
    "CACHE_ROOT",
    "DEFAULT_PRICES",
    "EMBEDDING_BACKENDS",
    "ENV_ALIASES",
    "ENV_PREFIX",
    "SECTIONS",
    "AlertingSettings",
    "ApiSettings",
    "ConfigError",
    "DriftSettings",
    "IngestSettings",
    "KafkaSettings",
    "ModelPrice",
    "ReportSettings",
    "Settings",
    "SignalSettings",
    "StoreSettings",
    "WatchSettings",
    "WindowSettings",
    "cache_root",
    "explain_api_key",
    "load_settings",
]

#: The sections, in the order the README lists them.
SECTIONS: dict[str, type[Section]] = {
    "kafka": KafkaSettings,
    "store": StoreSettings,
    "api": ApiSettings,
    "ingest": IngestSettings,
    "windows": WindowSettings,
    "drift": DriftSettings,
    "signals": SignalSettings,
    "alerting": AlertingSettings,
    "watch": WatchSettings,
    "report": ReportSettings,
}


def _index() -> tuple[dict[str, str], dict[str, str]]:
    """(setting → its section, helper → its section); every name once across the sections."""
    settings: dict[str, str] = {}
    helpers: dict[str, str] = {}
    for section, cls in SECTIONS.items():
        names = [f.name for f in fields(cls)]
        public = [n for n in vars(cls) if not n.startswith("_") and n not in names]
        for name, table in [*((n, settings) for n in names), *((n, helpers) for n in public)]:
            if name in settings or name in helpers or name in SECTIONS:
                raise TypeError(f"{name} is declared twice ({section} and elsewhere)")
            table[name] = section
    return settings, helpers


#: Which section holds each setting (``"window_seconds" → "windows"``).
SECTION_OF, _HELPER_OF = _index()


@dataclass(frozen=True, init=False)
class Settings:
    """Every setting, in sections; ``Settings(**flat)`` and ``settings.<flat name>`` work.

    ``Settings(window_seconds=60, drift=DriftSettings(...))`` takes flat settings, whole
    sections, or both (a flat one changes the section it is given with).
    """

    kafka: KafkaSettings
    store: StoreSettings
    api: ApiSettings
    ingest: IngestSettings
    windows: WindowSettings
    drift: DriftSettings
    signals: SignalSettings
    alerting: AlertingSettings
    watch: WatchSettings
    report: ReportSettings

    def __init__(self, **values: Any) -> None:
        given = {name: values.pop(name) for name in SECTIONS if name in values}
        changes: dict[str, dict[str, Any]] = {}
        for name, value in values.items():
            if name not in SECTION_OF:
                raise TypeError(f"Settings() got an unexpected keyword argument {name!r}")
            changes.setdefault(SECTION_OF[name], {})[name] = value
        for name, cls in SECTIONS.items():
            section = given.get(name)
            if section is None:
                section = cls(**changes.get(name, {}))
            elif name in changes:
                section = replace(section, **changes[name])
            object.__setattr__(self, name, section)

    def sections(self) -> dict[str, Section]:
        return {name: getattr(self, name) for name in SECTIONS}

    def with_overrides(self, **changes: Any) -> Settings:
        """A copy with these settings (flat names, or whole sections) changed."""
        return Settings(**{**self.sections(), **changes})

    def secret(self, name: str) -> str:
        """The secret setting ``name``, or the stripped content of its ``<name>_file``."""
        return getattr(self, SECTION_OF[name]).secret(name)


def _flat(section: str, name: str) -> property:
    return property(attrgetter(f"{section}.{name}"), doc=f"``settings.{section}.{name}``")


# settings.window_seconds reads settings.windows.window_seconds; the sections' helpers
# (settings.bootstrap_servers(), settings.retention_days() ...) are reached the same way.
for _name, _section in {**SECTION_OF, **_HELPER_OF}.items():
    setattr(Settings, _name, _flat(_section, _name))

# What the environment and the file are read as: the defaults' types (tables are TOML only).
_DEFAULTS = {
    f.name: f.default for cls in SECTIONS.values() for f in fields(cls)
    if not f.metadata["toml_only"]
}


def _file_value(key: str, raw: Any, path: str | Path, section: str | None = None) -> Any:
    if key in TABLE_READERS and (section is None or SECTION_OF[key] == section):
        return TABLE_READERS[key](raw)
    if key in _DEFAULTS and (section is None or SECTION_OF[key] == section):
        return coerce(key, raw, _DEFAULTS[key])
    where = f"[seismo.{section}] in {path}" if section else f"in {path}"
    raise ConfigError(key, f"is not a setting ({where})")


def _read_file(path: str | Path) -> dict[str, Any]:
    """The settings in a TOML file: keys under ``[seismo]`` (or at the top), or under
    ``[seismo.<section>]``."""
    try:
        data = tomllib.loads(Path(path).read_text())
    except FileNotFoundError:
        raise ConfigError(CONFIG_ENV, f"file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(CONFIG_ENV, f"{path} is not valid TOML: {exc}") from None
    values: dict[str, Any] = {}
    for key, raw in data.get("seismo", data).items():
        if key in SECTIONS and isinstance(raw, dict):
            values.update({k: _file_value(k, v, path, key) for k, v in raw.items()})
        else:
            values[key] = _file_value(key, raw, path)
    return values


def _read_environment(env: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, default in _DEFAULTS.items():
        for var in (ENV_PREFIX + name.upper(), ENV_ALIASES.get(name)):
            if var and env.get(var):
                values[name] = coerce(var, env[var], default)
                break
    return values


def load_settings(
    env: Mapping[str, str] | None = None, config_file: str | Path | None = None, **overrides: Any
) -> Settings:
    """Build the settings: defaults < TOML file (``SEISMO_CONFIG``) < environment < overrides."""
    env = environment(env)
    path = config_file or env.get(CONFIG_ENV)
    values = _read_file(path) if path else {}
    values.update(_read_environment(env))
    values.update(overrides)
    return Settings(**values)
