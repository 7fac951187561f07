"""The deployment's redaction salt: configured, or generated once and shared by every worker."""

from __future__ import annotations

from detectors.scanners.redaction import Redactor
from schemas.tables import DEPLOYMENT_SECRETS
from streams.settings import Settings
from streams.store.client import ClickHouseStore
from streams.store.salt import SALT_NAME, resolve_salt


def stored_salts(store: ClickHouseStore) -> list[str]:
    return [r[0] for r in store.query(f"SELECT value FROM {DEPLOYMENT_SECRETS} "
                                      "ORDER BY created_at")[1]]


def test_a_generated_salt_is_kept_and_the_first_written_wins(
    chdb_store: ClickHouseStore,
) -> None:
    chdb_store.command(f"TRUNCATE TABLE {DEPLOYMENT_SECRETS}")
    first = resolve_salt(Settings(), chdb_store)
    assert len(first) == 64 and resolve_salt(Settings(), chdb_store) == first  # a restart
    assert stored_salts(chdb_store) == [first]
    # A second worker that started at the same time and wrote its own after the first one:
    # it, like the first, keys with the first salt written.
    chdb_store.command(f"INSERT INTO {DEPLOYMENT_SECRETS} (name, value) "
                       f"VALUES ('{SALT_NAME}', '{'0' * 64}')")
    assert resolve_salt(Settings(), chdb_store) == first
    pseudonyms = {Redactor("redact", resolve_salt(Settings(), chdb_store)).pseudonym("u1")
                  for _ in range(2)}
    assert len(pseudonyms) == 1


def test_a_configured_salt_is_used_and_nothing_is_generated(
    chdb_store: ClickHouseStore,
) -> None:
    chdb_store.command(f"TRUNCATE TABLE {DEPLOYMENT_SECRETS}")
    settings = Settings(redaction_policy="hash", redaction_salt="pepper")
    assert resolve_salt(settings, chdb_store) == "pepper"
    assert stored_salts(chdb_store) == []
    # The hash policy no longer needs a configured salt: the generated one keys its tags.
    assert Settings(redaction_policy="hash").redaction_salt == ""
