"""What every settings section shares: how a field is declared, checked and read from text.

A section is a frozen dataclass whose fields are declared with :func:`setting`, which attaches
the one-line meaning the README's configuration table is generated from. A section checks
its own fields in ``__post_init__`` with :func:`check`, so a bad value is one
:class:`~streams.exceptions.ConfigError` naming the setting.
"""

from __future__ import annotations

import ipaddress
from dataclasses import MISSING, field
from pathlib import Path
from typing import Any

from streams.exceptions import ConfigError


def setting(
    default: Any = MISSING, doc: str = "", *, factory: Any = MISSING, secret: bool = False,
    shown: str | None = None, toml_only: bool = False,
) -> Any:
    """A section field with its meaning.

    ``secret`` keeps the value out of ``repr`` (and so out of logs); ``shown`` is how the
    README writes a default that is no plain value; ``toml_only`` marks a table that only the
    TOML file can give (no environment variable).
    """
    metadata = {"doc": doc, "shown": shown, "toml_only": toml_only}
    if factory is not MISSING:
        return field(default_factory=factory, repr=not secret, metadata=metadata)
    return field(default=default, repr=not secret, metadata=metadata)


class Section:
    """Base of the sections: the secret reader they share."""

    __slots__ = ()

    def secret(self, name: str) -> str:
        """The secret setting ``name``, or the stripped content of its ``<name>_file``."""
        value = getattr(self, name)
        path = getattr(self, name + "_file")
        if value and path:
            raise ConfigError(name, f"set either {name} or {name}_file, not both")
        if not path:
            return value
        try:
            return Path(path).read_text().strip()
        except OSError as exc:
            raise ConfigError(name + "_file", f"cannot read {path}: {exc.strerror}") from None


def check(ok: bool, name: str, message: str) -> None:
    if not ok:
        raise ConfigError(name, message)


def check_at_least(section: Any, minimum: int, *names: str) -> None:
    message = f"must be at least {minimum}"
    for name in names:
        check(getattr(section, name) >= minimum, name, message)


def check_positive(section: Any, *names: str) -> None:
    for name in names:
        check(getattr(section, name) > 0, name, "must be positive")


def check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    check(value in choices, name, f"must be one of {', '.join(choices)}, got {value!r}")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        return False


def split_list(value: str) -> list[str]:
    """A comma-separated setting's items, stripped, empty ones dropped."""
    return [item.strip() for item in value.split(",") if item.strip()]


def coerce(name: str, raw: Any, default: Any) -> Any:
    """Turn an environment string (or TOML value) into the type of the default."""
    try:
        if isinstance(default, bool):
            if isinstance(raw, bool):
                return raw
            return {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}[
                str(raw).lower()
            ]
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, float):
            return float(raw)
    except (ValueError, KeyError):
        raise ConfigError(name, f"cannot read {raw!r} as {type(default).__name__}") from None
    return str(raw) if isinstance(default, str) else raw
