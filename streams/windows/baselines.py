"""Pinned drift baselines: `seismo baseline pin` writes one, `seismo baseline show` lists the
reference every stream key is compared with now."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any

from schemas.tables import BASELINES
from streams.api_tokens import client_token
from streams.exceptions import ConfigError
from streams.settings import Settings
from streams.store.client import ClickHouseStore
from streams.store.reader import StoreReader, bearer
from streams.windows.clock import StreamKey, WindowSpec
from streams.windows.references import ReferenceResolver

BASELINE_COLUMNS = ("app", "model", "prompt_version", "range_from", "range_to", "pinned_at")


def baseline_row(body: dict[str, Any]) -> list[Any]:
    """Validate a pin request; raises ValueError naming the bad field."""
    try:
        start = datetime.fromisoformat(str(body["from"]).replace("Z", "+00:00"))
        end = datetime.fromisoformat(str(body["to"]).replace("Z", "+00:00"))
    except KeyError as exc:
        raise ValueError(f"missing {exc.args[0]!r}") from None
    except ValueError:
        raise ValueError("'from' and 'to' must be RFC 3339 times") from None
    start, end = (t if t.tzinfo else t.replace(tzinfo=UTC) for t in (start, end))
    if end <= start:
        raise ValueError("'to' must be after 'from'")
    if not body.get("app") or not body.get("model"):
        raise ValueError("'app' and 'model' are required")
    return [body["app"], body["model"], body.get("prompt_version") or "", start, end,
            datetime.now(UTC)]


def insert_baseline(store: ClickHouseStore, body: dict[str, Any]) -> None:
    row = baseline_row(body)
    store.insert_columns(BASELINES, [[v] for v in row], BASELINE_COLUMNS)


def pin(settings: Settings, body: dict[str, Any]) -> str:
    """Pin through the running worker, or straight into the store when none runs."""
    baseline_row(body)  # fail before touching anything
    url = f"http://{settings.web_host}:{settings.web_port}/api/baselines"
    headers = {"Content-Type": "application/json", **bearer(client_token(settings))}
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30):
            return "the running worker"
    except urllib.error.HTTPError as exc:
        raise ConfigError("baseline", json.loads(exc.read()).get("error", str(exc))) from None
    except (urllib.error.URLError, ConnectionError):
        store = ClickHouseStore(settings.clickhouse_url, settings.clickhouse_database)
        try:
            store.migrate()
            insert_baseline(store, body)
        finally:
            store.close()
        return "the store"


def active_references(settings: Settings) -> list[dict[str, Any]]:
    """Per stream key: the policy in force and the reference range, if one is established."""
    reader = StoreReader(settings)
    try:
        spec = WindowSpec(timedelta(seconds=settings.window_seconds),
                          timedelta(seconds=settings.allowed_lateness_seconds),
                          timedelta(seconds=settings.idle_close_seconds))
        resolver = ReferenceResolver(
            reader, spec, settings.reference_policy, settings.reference_events,  # type: ignore[arg-type]
            settings.reference_windows, settings.split_by_prompt_version,
        )
        version = "prompt_version" if settings.split_by_prompt_version else "''"
        _, keys = reader.query(
            f"SELECT DISTINCT app, model, {version} FROM events ORDER BY 1, 2, 3"
        )
        out = []
        for app, model, prompt_version in keys:
            key = StreamKey(app, model, prompt_version)
            now = spec.start_of(datetime.now(UTC))
            reference = resolver.resolve(key, now)
            out.append({"stream": str(key), "policy": settings.reference_policy,
                        "source": reference.policy if reference else "not yet established",
                        "from": reference.start if reference else None,
                        "to": reference.end if reference else None})
        return out
    finally:
        reader.close()
