from __future__ import annotations

import pytest

from streams.exceptions import ConfigError
from streams.settings import load_settings


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
