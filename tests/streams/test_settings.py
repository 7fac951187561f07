from __future__ import annotations

from dataclasses import FrozenInstanceError

import pytest

from streams.exceptions import ConfigError
from streams.settings import (
    SECTION_OF,
    SECTIONS,
    DriftSettings,
    Settings,
    cache_root,
    explain_api_key,
    load_settings,
)


def test_environment_overrides_file_and_aliases_are_read(tmp_path) -> None:
    config = tmp_path / "seismo.toml"
    config.write_text(
        "[seismo]\nbatch_size = 10\ntopic_partitions = 8\n"
        '[seismo.prices."acme-llm"]\ninput_per_1k = 0.5\noutput_per_1k = 1.5\n'
    )
    settings = load_settings(
        env={
            "SEISMO_CONFIG": str(config),
            "SEISMO_BATCH_SIZE": "20",
            "KAFKA_BOOTSTRAP_SERVERS": "k1:9092,k2:9093",
            "CLICKHOUSE_URL": "https://u:p@ch:8443",
        }
    )
    assert settings.batch_size == 20 and settings.topic_partitions == 8
    assert settings.prices["acme-llm"].output_per_1k == 1.5
    assert settings.broker_url == "kafka://k1:9092;k2:9093"
    assert settings.clickhouse_url == "https://u:p@ch:8443"  # the alias, a server (not chdb)
    assert "u:p" not in repr(settings.kafka_sasl_password)


@pytest.mark.parametrize(
    ("env", "setting"),
    [
        ({"SEISMO_CLICKHOUSE_URL": "postgres://x"}, "clickhouse_url"),
        ({"SEISMO_KAFKA_BOOTSTRAP_SERVERS": "no-port"}, "kafka_bootstrap_servers"),
        ({"SEISMO_BATCH_SIZE": "0"}, "batch_size"),
        ({"SEISMO_BATCH_SECONDS": "soon"}, "SEISMO_BATCH_SECONDS"),
        ({"SEISMO_REDACTION_POLICY": "none"}, "redaction_policy"),
        ({"SEISMO_KAFKA_SECURITY_PROTOCOL": "TLS"}, "kafka_security_protocol"),
        ({"SEISMO_PROMPT_EMBEDDING_TEXT": "first_user"}, "prompt_embedding_text"),
        ({"SEISMO_CONFIG": "/nonexistent/seismo.toml"}, "SEISMO_CONFIG"),
    ],
)
def test_a_bad_value_names_its_setting(env: dict, setting: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(env=env)
    assert info.value.setting == setting
    assert "\n" not in str(info.value)


def test_unknown_key_in_file_is_an_error(tmp_path) -> None:
    config = tmp_path / "seismo.toml"
    config.write_text("batch_sise = 3\n")
    with pytest.raises(ConfigError, match="batch_sise"):
        load_settings(env={"SEISMO_CONFIG": str(config)})


@pytest.mark.parametrize(
    ("changes", "setting"),
    [
        ({"topic_partitions": 0}, "topic_partitions"),
        ({"retention_days_events": -1}, "retention_days_events"),
        ({"web_host": "0.0.0.0"}, "web_host"),
        ({"max_event_bytes": 10}, "max_event_bytes"),
        ({"reference_policy": "latest"}, "reference_policy"),
        ({"drift_alpha": 1.5}, "drift_alpha"),
        ({"drift_clusters": 0}, "drift_clusters"),
        ({"injection_threshold": 2.0}, "injection_threshold"),
        ({"explain_url": "ftp://x"}, "explain_url"),
        ({"otlp_logs_topic": "otlp_logs"}, "otlp_logs_topic"),
        ({"otlp_log_wait_seconds": 0}, "otlp_log_wait_seconds"),
    ],
)
def test_each_section_checks_its_own_settings(changes: dict, setting: str) -> None:
    """A bad value is one ConfigError naming it, whether given flat, to its section, through
    with_overrides or from the environment."""
    name, value = next(iter(changes.items()))
    section = SECTIONS[SECTION_OF[name]]
    attempts = [
        lambda: Settings(**changes),
        lambda: section(**changes),
        lambda: Settings().with_overrides(**changes),
        lambda: load_settings(env={f"SEISMO_{name.upper()}": str(value)}),
    ]
    for attempt in attempts:
        with pytest.raises(ConfigError) as info:
            attempt()
        assert info.value.setting == setting
        assert "\n" not in str(info.value)


def test_flat_names_read_their_section() -> None:
    settings = Settings(drift_alpha=0.05, window_seconds=60.0, batch_size=7)
    assert isinstance(settings.drift, DriftSettings)
    assert settings.drift.drift_alpha == settings.drift_alpha == 0.05
    assert settings.windows.window_seconds == settings.window_seconds == 60.0
    assert settings.ingest.batch_size == settings.batch_size == 7
    for name, section in SECTION_OF.items():
        assert getattr(settings, name) == getattr(getattr(settings, section), name), name
    assert settings.drift_field_list() == settings.drift.drift_field_list() == [
        "prompt", "completion"]
    changed = settings.with_overrides(drift_alpha=0.02)
    assert changed.drift.drift_alpha == 0.02 and settings.drift_alpha == 0.05
    assert changed.windows is settings.windows  # an untouched section is kept as it was
    with pytest.raises(FrozenInstanceError):
        settings.window_seconds = 1.0  # type: ignore[misc]
    with pytest.raises(TypeError, match="batch_sise"):
        Settings(batch_sise=3)


def test_a_section_given_whole_and_changed_flat() -> None:
    drift = DriftSettings(drift_clusters=4)
    settings = Settings(drift=drift, drift_seed=3)
    assert (settings.drift_clusters, settings.drift_seed) == (4, 3)
    assert Settings(drift=drift).drift is drift


def test_file_keys_may_be_grouped_by_section(tmp_path) -> None:
    config = tmp_path / "seismo.toml"
    config.write_text(
        "[seismo]\nbatch_size = 10\n"
        "[seismo.windows]\nwindow_seconds = 60\n"
        '[seismo.signals.prices."acme-llm"]\ninput_per_1k = 0.5\noutput_per_1k = 1.5\n'
    )
    settings = load_settings(env={"SEISMO_CONFIG": str(config)})
    assert (settings.batch_size, settings.window_seconds) == (10, 60.0)
    assert settings.prices["acme-llm"].input_per_1k == 0.5
    config.write_text("[seismo.windows]\nbatch_size = 10\n")  # a setting of another section
    with pytest.raises(ConfigError, match=r"batch_size: .*\[seismo.windows\]"):
        load_settings(env={"SEISMO_CONFIG": str(config)})


def test_environment_only_values_are_read_from_the_environment_mapping(tmp_path) -> None:
    assert cache_root({"SEISMO_CACHE_DIR": str(tmp_path)}) == tmp_path
    assert cache_root({}).parts[-2:] == (".cache", "seismo")
    assert explain_api_key({"SEISMO_EXPLAIN_API_KEY": "sk-1"}) == "sk-1"
    assert explain_api_key({}) == ""
    assert not hasattr(Settings(), "explain_api_key")  # never a setting, so never in a repr
