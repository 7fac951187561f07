"""Erase what Seismo stores about a user or a conversation: a data subject's deletion request.

The subject's rows are found through ``events``: the events whose ``user_id`` or
``conversation_id`` is one of the stored forms asked for, then every row of those events in the
per-event tables (``schemas.tables.EVENT_DATA_TABLES``: feedback, embeddings). The per-event
signals are columns of ``events`` and go with it. The aggregates (window_metrics, drift, alerts)
hold counts and rates over many users' traffic, no one's text or id, and stay.

Rows go by ``ALTER TABLE … DELETE`` waiting for the mutation: when it returns, the parts that
held them are rewritten without them. A lightweight ``DELETE FROM`` only masks rows until a
later merge, leaving the text on disk; requests are rare, so the rewrite is worth its cost.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterable, Sequence

from detectors.scanners.redaction import RedactionPolicy, Redactor
from detectors.scanners.secrets import SECRET_TYPES
from schemas.tables import EVENT_DATA_TABLES, EVENTS
from streams.api_tokens import client_token
from streams.exceptions import SeismoError
from streams.settings import Settings
from streams.store.client import ClickHouseStore
from streams.store.reader import bearer

SUBJECT_FILTER = (
    "user_id IN {user_ids:Array(String)} OR conversation_id IN {conversation_ids:Array(String)}"
)


class ForgetError(SeismoError):
    """The running worker refused the request."""


def forget(
    store: ClickHouseStore, *, user_ids: Sequence[str] = (), conversation_ids: Sequence[str] = ()
) -> dict[str, int]:
    """Delete the events whose user_id or conversation_id is one of these stored values, with
    their rows in every per-event table; returns the rows removed per table (as FINAL counts).
    """
    if not user_ids and not conversation_ids:
        raise ValueError("name at least one user id or conversation id")
    if "" in (*user_ids, *conversation_ids):
        # Events without a user or conversation store ''; it names nobody.
        raise ValueError("an empty id would match every event that has none")
    parameters = {"user_ids": list(user_ids), "conversation_ids": list(conversation_ids)}
    of_subject = f"event_id IN (SELECT event_id FROM {EVENTS} WHERE {SUBJECT_FILTER})"
    # events last: the other tables find the subject's rows through it.
    targets = [(table, of_subject) for table in EVENT_DATA_TABLES] + [(EVENTS, SUBJECT_FILTER)]
    removed = {}
    for table, where in targets:
        _, rows = store.query(f"SELECT count() FROM {table} FINAL WHERE {where}", parameters)
        removed[table] = int(rows[0][0])
        # Even when FINAL counts none: an older version of a replayed row may still match.
        store.mutate(f"ALTER TABLE {table} DELETE WHERE {where}", parameters)
    return removed


def stored_forms(
    redactor: Redactor, user_ids: Iterable[str], conversation_ids: Iterable[str]
) -> dict[str, list[str]]:
    """The values the ids may be stored as: the form ingest writes now (a keyed pseudonym of a
    user id, a conversation id under the redaction policy) and the raw one, which deployments
    stored before pseudonyms (and under the ``raw`` policy)."""
    users = {form for raw in user_ids if raw for form in (raw, redactor.pseudonym(raw))}
    conversations = set()
    for raw in conversation_ids:
        if raw:
            conversations.add(raw)
            redacted = _identifying_redaction(redactor, raw)
            if redacted is not None:
                conversations.add(redacted)
    return {"user_ids": sorted(users), "conversation_ids": sorted(conversations)}


def _identifying_redaction(redactor: Redactor, text: str) -> str | None:
    """``text`` under the policy when that still names it alone, else None.

    A plain tag (``<EMAIL>``, and ``<SECRET:…>`` under every policy) is shared by every value
    it replaced: deleting by it would take other people's conversations too.
    """
    findings = redactor.scan(text)
    if not findings:
        return None  # stored as it came: the raw form covers it
    hashed = redactor.policy is RedactionPolicy.HASH
    if not hashed or any(f.type in SECRET_TYPES for f in findings):
        return None
    return redactor.apply_findings(text, findings).text


def forget_subjects(
    settings: Settings, store: ClickHouseStore, user_ids: Sequence[str],
    conversation_ids: Sequence[str],
) -> dict[str, int]:
    """:func:`forget` of the ids as given, in every form this deployment may have stored."""
    from streams.store.salt import resolve_salt

    redactor = Redactor(settings.redaction_policy, resolve_salt(settings, store))
    forms = stored_forms(redactor, user_ids, conversation_ids)
    if not forms["user_ids"] and not forms["conversation_ids"]:
        raise ValueError("name at least one non-empty user id or conversation id")
    return forget(store, **forms)


def request_forget(
    settings: Settings, user_ids: Sequence[str], conversation_ids: Sequence[str]
) -> tuple[dict[str, int], str]:
    """Forget through the running worker (it holds an embedded store), or in the store directly
    when none answers; returns the rows removed per table and who removed them."""
    body = {"user_ids": list(user_ids), "conversation_ids": list(conversation_ids)}
    url = f"http://{settings.web_host}:{settings.web_port}/api/forget"
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), method="POST",
        headers={"Content-Type": "application/json", **bearer(client_token(settings))},
    )
    try:
        # Rewriting every part that holds the subject's rows takes a while on a large store.
        with urllib.request.urlopen(request, timeout=600) as response:
            return json.loads(response.read())["removed"], "the running worker"
    except urllib.error.HTTPError as exc:
        raise ForgetError(f"the worker refused: {_error_line(exc)}") from None
    except (urllib.error.URLError, ConnectionError):
        store = ClickHouseStore(settings.clickhouse_url, settings.clickhouse_database)
        try:
            store.migrate()
            return forget_subjects(settings, store, user_ids, conversation_ids), "the store"
        finally:
            store.close()


def _error_line(exc: urllib.error.HTTPError) -> str:
    try:
        return str(json.loads(exc.read())["error"])
    except (ValueError, KeyError, TypeError):
        return f"HTTP {exc.code}"
