"""Who the worker's API lets in, as configured: tokens, their files, the bind address."""

from __future__ import annotations

import stat

import pytest

from streams.api_tokens import ApiTokens, client_token, configured_tokens, worker_tokens
from streams.exceptions import ConfigError
from streams.settings import load_settings

READ = "r" * 32
ADMIN = "a" * 32


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.1.2.3", "seismo.example.com"])
def test_a_network_address_without_a_token_names_web_host(host: str) -> None:
    with pytest.raises(ConfigError) as error:
        load_settings(env={"SEISMO_WEB_HOST": host})
    assert error.value.setting == "web_host" and "api_token" in str(error.value)


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "localhost", "::1"])
def test_loopback_needs_no_token(host: str) -> None:
    assert load_settings(env={"SEISMO_WEB_HOST": host}).web_host == host


@pytest.mark.parametrize("setting", ["SEISMO_API_TOKEN", "SEISMO_API_TOKEN_FILE",
                                     "SEISMO_API_TOKENS_FILE"])
def test_any_token_setting_opens_the_network(setting: str) -> None:
    load_settings(env={"SEISMO_WEB_HOST": "0.0.0.0", setting: ADMIN})


def test_a_tokens_file_names_read_and_admin_tokens(tmp_path) -> None:
    tokens = tmp_path / "tokens"
    tokens.write_text(f"# name scope token\ngrafana read {READ}\n\nops admin {ADMIN}\n")
    settings = load_settings(env={"SEISMO_API_TOKENS_FILE": str(tokens)})
    accepted = ApiTokens(configured_tokens(settings))
    grafana = accepted.identify(f"Bearer {READ}")
    assert grafana is not None and grafana.name == "grafana"
    assert grafana.grants("read") and not grafana.grants("admin")
    ops = accepted.identify(f"bearer {ADMIN}")
    assert ops is not None and ops.grants("read") and ops.grants("admin")
    assert accepted.identify(f"Bearer {ADMIN[:-1]}") is None
    assert accepted.identify(f"Basic {ADMIN}") is None
    assert accepted.identify("Bearer ") is None
    assert client_token(settings) == ADMIN  # the CLI sends the admin one
    assert READ not in repr(grafana)


@pytest.mark.parametrize(("content", "reason"), [
    (f"grafana write {READ}\n", "scope must be read or admin"),
    ("grafana read short\n", "at least 16 characters"),
    (f"grafana read {READ} extra\n", "expected 'name scope token'"),
    (f"a read {READ}\na admin {ADMIN}\n", "given twice"),
    ("# nothing\n", "holds no token"),
])
def test_a_bad_tokens_file_is_one_line_naming_it(tmp_path, content: str, reason: str) -> None:
    tokens = tmp_path / "tokens"
    tokens.write_text(content)
    with pytest.raises(ConfigError) as error:
        configured_tokens(load_settings(env={"SEISMO_API_TOKENS_FILE": str(tokens)}))
    message = str(error.value)
    assert error.value.setting == "api_tokens_file" and reason in message
    assert "\n" not in message and READ not in message and "short" not in message


def test_token_and_token_file_together_name_api_token(tmp_path) -> None:
    (tmp_path / "token").write_text(ADMIN)
    settings = load_settings(env={"SEISMO_API_TOKEN": ADMIN,
                                  "SEISMO_API_TOKEN_FILE": str(tmp_path / "token")})
    with pytest.raises(ConfigError, match="^api_token: set either"):
        configured_tokens(settings)


def test_a_missing_token_file_names_it(tmp_path) -> None:
    settings = load_settings(env={"SEISMO_API_TOKEN_FILE": str(tmp_path / "absent")})
    with pytest.raises(ConfigError, match="^api_token_file: cannot read"):
        configured_tokens(settings)


def test_without_tokens_the_worker_generates_one_only_its_user_reads(tmp_path) -> None:
    settings = load_settings(env={"SEISMO_DATA_DIR": str(tmp_path / "data")})
    accepted = worker_tokens(settings)
    path = tmp_path / "data" / "api_token"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    token = client_token(settings)
    assert len(token) >= 32 and accepted.identify(f"Bearer {token}") is not None
    worker_tokens(settings)  # a restart: a new token, the old one no longer works
    assert client_token(settings) != token
