"""The deployment's redaction salt: the configured ``redaction_salt``, else one generated once
and kept in ClickHouse, so every worker of a deployment (and every restart, and ``seismo
forget``) keys ``hash`` tags and ``user_id`` pseudonyms alike."""

from __future__ import annotations

import secrets

from schemas.tables import DEPLOYMENT_SECRETS
from streams.settings import Settings
from streams.store.client import ClickHouseStore

SALT_NAME = "redaction_salt"
_FIRST = (
    f"SELECT argMin(value, (created_at, value)), count() FROM {DEPLOYMENT_SECRETS} "
    "WHERE name = {name:String}"
)


def resolve_salt(settings: Settings, store: ClickHouseStore) -> str:
    """The configured salt, or the deployment's generated one (generated on first use).

    First writer wins: a worker that finds none inserts a random one and then uses the one
    written first (oldest, then smallest), so workers starting together agree once both rows
    are in. The store must be migrated.
    """
    if settings.redaction_salt:
        return settings.redaction_salt
    salt = _first(store)
    if salt is None:
        # Hex only, so it can be written inline (the command path takes no parameters, and it
        # is not an insert the fault hook's sink outage would refuse).
        store.command(f"INSERT INTO {DEPLOYMENT_SECRETS} (name, value) "
                      f"VALUES ('{SALT_NAME}', '{secrets.token_hex(32)}')")
        salt = _first(store)
        assert salt is not None, "the generated salt was not stored"
    return salt


def _first(store: ClickHouseStore) -> str | None:
    _, rows = store.query(_FIRST, {"name": SALT_NAME})
    value, count = rows[0]
    return value if count else None
