"""Who may call the worker's API: bearer tokens, each with a name and a scope.

The worker takes its tokens from ``api_token`` (or ``api_token_file``: one admin token) and
``api_tokens_file`` (lines ``name scope token``). With none configured it generates an admin
token at every start, writes it 0600 to ``<data_dir>/api_token`` and serves loopback only
(Settings refuses another ``web_host`` without a token); the CLI on the same machine reads it
from there. A token's value never reaches a log line or a message: its name does.
"""

from __future__ import annotations

import hmac
import logging
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from streams.exceptions import ConfigError
from streams.settings import Settings

log = logging.getLogger(__name__)

SCOPES = ("read", "admin")
GENERATED_TOKEN_FILE = "api_token"
# Long enough that guessing is hopeless at any request rate the worker answers.
MIN_TOKEN_LENGTH = 16


@dataclass(frozen=True, slots=True)
class ApiToken:
    name: str
    scope: str
    secret: str = field(repr=False)

    def grants(self, scope: str) -> bool:
        """An admin token may do what a read token may."""
        return self.scope == "admin" or self.scope == scope


class ApiTokens:
    """The tokens one worker accepts."""

    def __init__(self, tokens: Iterable[ApiToken]) -> None:
        self._tokens = tuple(tokens)

    def identify(self, authorization: str) -> ApiToken | None:
        """The token an ``Authorization: Bearer <token>`` header carries, if it is one of ours."""
        scheme, _, presented = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not presented.strip():
            return None
        offered = presented.strip().encode()
        found = None
        for token in self._tokens:
            # Every token compared, each in constant time: how long a refusal takes tells
            # nothing about how close a guess came, or to which token.
            if hmac.compare_digest(token.secret.encode(), offered):
                found = token
        return found


def configured_tokens(settings: Settings) -> list[ApiToken]:
    """The tokens the settings name (api_token / api_token_file, api_tokens_file)."""
    tokens = []
    admin = settings.secret("api_token")
    if admin:
        _check_length(admin, "api_token_file" if settings.api_token_file else "api_token")
        tokens.append(ApiToken("admin", "admin", admin))
    if settings.api_tokens_file:
        tokens.extend(_tokens_file(Path(settings.api_tokens_file)))
    names = [t.name for t in tokens]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise ConfigError("api_tokens_file", f"token name(s) {', '.join(duplicated)} given twice "
                                             "(the name 'admin' is api_token's)")
    return tokens


def worker_tokens(settings: Settings) -> ApiTokens:
    """The worker's tokens: the configured ones, else a generated admin token (see above)."""
    tokens = configured_tokens(settings)
    if tokens:
        return ApiTokens(tokens)
    secret = secrets.token_urlsafe(32)
    path = generated_token_path(settings)
    _write_private(path, secret)
    log.warning("no api_token configured: generated an admin token into %s (mode 0600); the API "
                "serves %s only", path, settings.web_host)
    return ApiTokens([ApiToken("generated", "admin", secret)])


def client_token(settings: Settings) -> str:
    """The token the CLI, the report and the demo send: the configured admin token, else the
    one a local worker generated ("" when there is neither)."""
    admin = settings.secret("api_token")
    if admin:
        return admin
    if settings.api_tokens_file:
        for token in _tokens_file(Path(settings.api_tokens_file)):
            if token.scope == "admin":
                return token.secret
    try:
        return generated_token_path(settings).read_text().strip()
    except FileNotFoundError:
        return ""


def generated_token_path(settings: Settings) -> Path:
    return Path(settings.data_dir) / GENERATED_TOKEN_FILE


def _tokens_file(path: Path) -> list[ApiToken]:
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError("api_tokens_file", f"cannot read {path}: {exc.strerror}") from None
    tokens = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.split()
        where = f"{path} line {number}"
        if len(parts) != 3:
            raise ConfigError("api_tokens_file", f"{where}: expected 'name scope token'")
        name, scope, secret = parts
        if scope not in SCOPES:
            raise ConfigError("api_tokens_file",
                              f"{where}: scope must be {' or '.join(SCOPES)}, got {scope!r}")
        _check_length(secret, "api_tokens_file", where)
        tokens.append(ApiToken(name, scope, secret))
    if not tokens:
        raise ConfigError("api_tokens_file", f"{path} holds no token")
    return tokens


def _check_length(secret: str, setting: str, where: str = "the token") -> None:
    if len(secret) < MIN_TOKEN_LENGTH:
        raise ConfigError(setting, f"{where}: a token needs at least {MIN_TOKEN_LENGTH} "
                                   "characters (e.g. `openssl rand -hex 32`)")


def _write_private(path: Path, secret: str) -> None:
    """Write ``secret`` so that no other user can read it at any moment, then swap it in."""
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.{os.getpid()}")
    staging.unlink(missing_ok=True)
    descriptor = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as out:
        out.write(secret + "\n")
    os.replace(staging, path)
