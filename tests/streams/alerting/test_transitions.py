"""Transition records: deterministic ids, lossless JSON, rows that fit the ``alerts`` table."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from streams.alerting import ALERT_COLUMNS, AlertEngine, AlertStates, Transition
from streams.store.client import split_statements
from tests.streams.alerting.factories import ERROR_RULE, episode, error_windows, rules, window

DDL = Path(__file__).resolve().parents[3] / "schemas" / "clickhouse" / "006_alerts.sql"


def test_replaying_a_window_from_a_fresh_state_gives_identical_records() -> None:
    """After a crash that lost the state, the replayed window yields the same ids and bytes."""
    first, _ = episode()
    again, _ = episode()
    assert again.transition_id == first.transition_id
    assert again.to_json() == first.to_json()


def test_ids_differ_by_state_window_and_stream_key() -> None:
    engine = AlertEngine(rules(ERROR_RULE, for_windows=1, resolve_after_windows=1))
    made = []
    for app in ("chat", "search"):
        states = AlertStates()
        for w in (window(0, 0.5, app=app), window(1, 0.0, app=app), window(2, 0.5, app=app)):
            made += engine.evaluate(w, states)
    assert [t.state for t in made] == ["firing", "resolved", "firing"] * 2
    assert len({t.transition_id for t in made}) == 6
    assert len({t.fingerprint for t in made}) == 2


def test_json_round_trip_is_lossless() -> None:
    firing, resolved = episode()
    for transition in (firing, resolved):
        assert Transition.from_json(transition.to_json()) == transition
    no_value = replace(firing, value=math.nan)
    assert json.loads(no_value.to_json())["value"] is None
    assert math.isnan(Transition.from_json(no_value.to_json()).value)


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (b"not json", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"state": "firing"}', "lacks transition_id"),
    ],
)
def test_malformed_records_raise_value_error(raw: bytes, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        Transition.from_json(raw)


def test_row_follows_the_alerts_table_column_order() -> None:
    table_columns = [
        line.split()[0]
        for line in split_statements(DDL.read_text())[0].splitlines()
        if line.startswith("    ") and not line.strip().startswith(("(", ")"))
    ]
    assert list(ALERT_COLUMNS) == table_columns
    firing, _ = episode()
    row = dict(zip(ALERT_COLUMNS, firing.to_row(), strict=True))
    assert row["state"] == "firing" and row["ends_at"] is None
    assert row["labels"]["alertname"] == "HighErrorRate"


# Runs in a child process: the embedded engine allows one data directory per process.
_INSERT_TWICE = """
import json, sys
from streams.alerting import ALERT_COLUMNS, ALERTS, Transition
from streams.store.client import ClickHouseStore
store = ClickHouseStore("chdb://" + sys.argv[1])
store.migrate()
rows = [Transition.from_json(line).to_row() for line in sys.stdin.read().splitlines()]
for _ in range(2):  # the second insert is a replay
    store.insert_columns(ALERTS, list(zip(*rows)), ALERT_COLUMNS)
_, found = store.query(
    "SELECT transition_id, state, value, ends_at IS NULL, labels['team'] "
    "FROM alerts FINAL ORDER BY transition_at"
)
print(json.dumps(found, default=str))
"""


def test_replayed_rows_collapse_to_one_per_transition_in_clickhouse(tmp_path: Path) -> None:
    engine = AlertEngine(rules(ERROR_RULE))
    states = AlertStates()
    made = [t for w in error_windows([0.2, 0.3, 0.0, 0.0]) for t in engine.evaluate(w, states)]
    child = subprocess.run(
        [sys.executable, "-c", _INSERT_TWICE, str(tmp_path / "chdb")],
        input="\n".join(t.to_json().decode() for t in made),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert child.returncode == 0, child.stderr[-3000:]
    found = json.loads(child.stdout.strip().splitlines()[-1])
    assert found == [
        [t.transition_id, t.state, t.value, t.ends_at is None, "ml-platform"] for t in made
    ]
