"""False pages per week of the default alert rules, and of the rules they replaced, on
stationary traffic through the real worker.

Run: ``.venv/bin/python bench/false_pages.py [--days 1] [--keys 8] [--events-per-window 30]
[--text generator|human] [--shift] [--reference-events N]``.

Traffic: ``--days`` of event time (fractions allowed) at the default 5-minute windows, from a
fixed past UTC time, for ``--keys`` stream keys (the generator's app x model pairs, then other
pairs), exactly ``--events-per-window`` events per key and window, stationary: the generator
with no incident and its default error and refusal rates. ``--text human`` replaces the
prompt and completion texts by paragraphs of the Python language reference that ships with
the standard library (``pydoc_data.topics``), drawn iid: ordinary human text, with the
addresses, symbols and words that fixed thresholds trip over.

Rules: one file with the packaged defaults (``streams/alerting/default_rules.yaml``, read at
run time) and, renamed ``Legacy*``, the rules they replaced (:data:`LEGACY_RULES`, the
defaults before the false-page budget: the detectors' own decision at their alpha for
``for_windows`` windows in a row, fixed metric thresholds). Consecutive and metric rules are
not budgeted, so the legacy rules do not change the defaults' levels (checked).

Everything is published to a fresh topic of a local broker (``KAFKA_BOOTSTRAP_SERVERS`` if set,
else the jar broker) before one worker (``tests/support/workers.py``'s ``Deployment``) starts
and works through the backlog; the last window of each key closes by idle close.

Printed: key-windows closed and tested (the first ``reference_events`` of a key are its
reference and are not tested), each test's rejection rate at its alpha, pages (firing
transitions) per rule and false pages per week of each rule set over the tested windows of
the deployment (all keys together) with an exact 95 % Poisson interval, beside the budget
(``false_pages_per_week``) and the e-detectors' bound. On stationary traffic every page is a
false page. ``--shift`` adds a day after the stationary traffic in which each key gets its own
change from a window boundary on (one key is left unchanged as a control) and prints, per
change, the windows from its onset to the first page of the rule that watches it.

Cost: the worker takes about 2-3 s per tested key-window on 2 cores (embedding, permutation
tests), so the defaults (1 day, 8 keys) take over an hour there; ``--days 0.25`` about 8 min.
"""

from __future__ import annotations

import argparse
import math
import os
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from common import Row, print_machine, print_table
from false_pages_traffic import (
    INCIDENTS,
    LEGACY,
    START,
    WINDOW,
    human_paragraphs,
    key_events,
    rules_file,
    stream_keys,
)
from scipy.stats import chi2
from throughput_worker import start_broker

from streams.alerting.budget import SECONDS_PER_WEEK, derive
from streams.alerting.rules import load_rules
from streams.settings import load_settings
from streams.settings.alerting import DEFAULT_RULES
from streams.testing.generator import to_json_line
from streams.testing.ports import free_port
from streams.testing.publish import stream_key
from tests.support.workers import Deployment, produce_raw, wait_for

os.environ.setdefault("HF_HUB_OFFLINE", "1")

def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=1.0, help="days of stationary traffic")
    parser.add_argument("--keys", type=int, default=8, help="stream keys (app x model)")
    parser.add_argument("--events-per-window", type=int, default=30)
    parser.add_argument("--text", choices=("generator", "human"), default="generator")
    parser.add_argument("--shift", action="store_true",
                        help="one more day with a different change per key")
    parser.add_argument("--shift-days", type=float, default=1.0,
                        help="length of the shift's extra traffic, days")
    parser.add_argument("--reference-events", type=int, default=None,
                        help="SEISMO_REFERENCE_EVENTS (default: the setting's default)")
    parser.add_argument("--timeout", type=float, default=None,
                        help="seconds to wait for the windows (default 3 s per key-window + 300)")
    parser.add_argument("--kafka-version", default="3.9.1")
    return parser.parse_args(argv)


def poisson_interval(k: int, level: float = 0.95) -> tuple[float, float]:
    """Exact (Garwood) interval of a Poisson mean from ``k`` counts."""
    tail = (1 - level) / 2
    low = chi2.ppf(tail, 2 * k) / 2 if k else 0.0
    return low, chi2.ppf(1 - tail, 2 * k + 2) / 2


def wait_windows(deployment: Deployment, expected: int, timeout: float) -> float:
    """Poll ``window_metrics`` until it holds ``expected`` rows; returns the seconds it took."""
    started = time.monotonic()
    shown = [-1.0, -1]

    def done() -> bool:
        if deployment.process.poll() is not None:
            raise SystemExit(f"the worker exited:\n{deployment.log()}")
        closed = int(deployment.scalar("SELECT count() FROM window_metrics FINAL"))
        now = time.monotonic() - started
        if closed != shown[1] and (now - shown[0] >= 30 or closed >= expected):
            print(f"  {now:5.0f} s: {closed}/{expected} key-windows closed", flush=True)
            shown[:] = [now, closed]
        return closed >= expected

    wait_for(done, timeout, f"{expected} rows in window_metrics", every=2)
    return time.monotonic() - started


def measure(deployment: Deployment, rule_names: list[str], onset: int,
            keys: int) -> tuple[list[Row], dict[str, int], float]:
    """Per-test rejection rows, pages per rule and the event-time weeks they were counted
    over: the tested windows (after each key's reference) before ``onset``."""
    first_tested = {(a, m): t for a, m, t in deployment.query(
        "SELECT app, model, toUnixTimestamp(min(window_start)) FROM drift FINAL "
        "GROUP BY app, model")}
    tested = int(deployment.scalar(
        "SELECT uniqExact(app, model, window_start) FROM drift FINAL "
        "WHERE toUnixTimestamp(window_start) < {onset:Int64}", {"onset": onset}))
    tests = [Row(f"{fld} / {method}", k / n if n else math.nan, "rejected",
                 f"{k}/{n} tested windows, alpha {alpha:.3g}")
             for fld, method, k, n, alpha in deployment.query(
                 "SELECT field, method, countIf(drifted), countIf(isFinite(p_value)), "
                 "max(alpha) FROM drift FINAL WHERE toUnixTimestamp(window_start) < "
                 "{onset:Int64} GROUP BY field, method ORDER BY field, method",
                 {"onset": onset})]
    pages = dict.fromkeys(rule_names, 0)
    for rule, app, model, start in deployment.query(
            "SELECT rule, app, model, toUnixTimestamp(window_start) FROM alerts FINAL "
            "WHERE state = 'firing' AND toUnixTimestamp(window_start) < {onset:Int64}",
            {"onset": onset}):
        if start >= first_tested.get((app, model), onset):
            pages[rule] = pages.get(rule, 0) + 1
    weeks = tested / keys * WINDOW / SECONDS_PER_WEEK
    return tests, pages, weeks


def page_rows(label: str, pages: dict[str, int], weeks: float, budget: str) -> list[Row]:
    rows = []
    for rule, k in pages.items():
        low, high = poisson_interval(k)
        rows.append(Row(f"  {rule}", k, "pages",
                        f"{k / weeks:.3g}/week [{low / weeks:.3g}, {high / weeks:.3g}]"))
    total = sum(pages.values())
    low, high = poisson_interval(total)
    rows.append(Row(f"{label}: false pages per week", total / weeks, "/week",
                    f"{total} pages, 95 % [{low / weeks:.3g}, {high / weeks:.3g}]; {budget}"))
    return rows


def verdict(pages: int, weeks: float, budget: float) -> str:
    """Whether the 95 % interval of the weekly rate lies below, above or around the budget."""
    low, high = poisson_interval(pages)
    if high / weeks <= budget:
        return "within"
    return "ABOVE" if low / weeks > budget else "interval holds it: run longer to tell"


def first_pages(deployment: Deployment, onset: int) -> dict[tuple[str, str, str], int]:
    """(rule, app, model) -> window start of its first firing at or after ``onset``."""
    return {(r, a, m): t for r, a, m, t in deployment.query(
        "SELECT rule, app, model, toUnixTimestamp(min(window_start)) FROM alerts FINAL "
        "WHERE state = 'firing' AND toUnixTimestamp(window_start) >= {onset:Int64} "
        "GROUP BY rule, app, model", {"onset": onset})}


@dataclass
class Run:
    """What one worker run over the traffic measured."""

    expected: int
    took: float
    tests: list[Row]
    pages: dict[str, int]
    weeks: float
    closed: int
    shifted: dict[tuple[str, str, str], int]


def traffic(args: argparse.Namespace, keys: list[tuple[str, str]], windows: int,
            shift_windows: int) -> list[dict]:
    pool = human_paragraphs() if args.text == "human" else None
    onset = START + timedelta(seconds=windows * WINDOW)
    events = []
    for i, key in enumerate(keys):
        events += key_events(i, key, START, windows, args.events_per_window, pool)
        if args.shift:
            _, incident, _ = INCIDENTS[min(i, len(INCIDENTS) - 1)]
            events += key_events(1000 + i, key, onset, shift_windows, args.events_per_window,
                                 pool, **incident)
    events.sort(key=lambda e: e["timestamp"])  # every key's event time advances together
    return events


def budget_lines(settings, rules, keys: int) -> list:
    """The budgeted groups of the combined rules file, checked to equal the defaults' alone
    (the legacy rules are not budgeted, so they must not change the levels)."""
    budget = [line for line in derive(rules, keys, WINDOW, settings.false_pages_per_week)
              if math.isfinite(line.level)]
    alone = derive(load_rules(DEFAULT_RULES), keys, WINDOW, settings.false_pages_per_week)
    assert {(b.group, b.level) for b in budget} == \
        {(b.group, b.level) for b in alone if math.isfinite(b.level)}, "levels changed"
    return budget


def run_worker(deployment: Deployment, bootstrap: str, events: list[dict], names: list[str],
               expected: int, cut: int, args: argparse.Namespace, keys: int) -> Run:
    deployment.create_topics()
    started = time.monotonic()
    produce_raw(bootstrap, deployment.traces_topic, [to_json_line(e) for e in events],
                keys=[stream_key(e) for e in events])
    print(f"{len(events)} events published in {time.monotonic() - started:.1f} s to "
          f"{deployment.traces_topic}; worker started", flush=True)
    deployment.start()
    took = wait_windows(deployment, expected, args.timeout or 3 * expected + 300)
    tests, pages, weeks = measure(deployment, names, cut, keys)
    closed = int(deployment.scalar(
        "SELECT count() FROM window_metrics FINAL WHERE "
        "toUnixTimestamp(window_start) < {onset:Int64}", {"onset": cut}))
    return Run(expected, took, tests, pages, weeks, closed,
               first_pages(deployment, cut) if args.shift else {})


def shift_rows(keys: list[tuple[str, str]], shifted: dict, cut: int) -> list[Row]:
    rows = []
    for i, key in enumerate(keys):
        label, _, rule = INCIDENTS[min(i, len(INCIDENTS) - 1)]
        if rule is None:
            paged = sorted(r for r, a, m in shifted if (a, m) == key)
            rows.append(Row(f"{label}, {key[0]}/{key[1]}", len(paged), "rules paged",
                            ", ".join(paged) or "none"))
            continue
        found = []
        for name in (rule, LEGACY + rule):
            at = shifted.get((name, *key))
            found.append(math.nan if at is None else (at - cut) // WINDOW + 1)
        rows.append(Row(f"{label}, {key[0]}/{key[1]}", found[0], "windows",
                        f"{rule}; legacy: {found[1]:g} windows" if found[1] == found[1]
                        else f"{rule}; legacy: no page in the day"))
    return rows


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    keys = stream_keys(args.keys)
    windows = max(1, round(args.days * 86400 / WINDOW))
    shift_windows = max(1, round(args.shift_days * 86400 / WINDOW)) if args.shift else 0
    cut = int((START + timedelta(seconds=windows * WINDOW)).timestamp())
    print_machine(f"false pages: {windows} windows of {WINDOW} s ({windows * WINDOW / 86400:g} "
                  f"days) x {len(keys)} keys x {args.events_per_window} events, "
                  f"{args.text} texts{', then a shift day' if args.shift else ''}")
    events = traffic(args, keys, windows, shift_windows)
    with tempfile.TemporaryDirectory(prefix="seismo-false-pages-") as tmp:
        root = Path(tmp)
        broker = None
        bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
        if not bootstrap:
            broker = start_broker(args.kafka_version, root / "kafka")
            bootstrap = broker.bootstrap
        deployment = Deployment(bootstrap=bootstrap, root=root, web_port=free_port())
        deployment.extra_env.update(
            SEISMO_WINDOW_SECONDS=str(WINDOW), SEISMO_IDLE_CLOSE_SECONDS="10",
            SEISMO_ALERTS_FILE=str(rules_file(root / "rules.yaml")))
        if args.reference_events:
            deployment.extra_env["SEISMO_REFERENCE_EVENTS"] = str(args.reference_events)
        settings = load_settings(env=deployment.env())
        rules = load_rules(settings.alert_rules_path)
        names = [r.name for r in rules]
        legacy = [n for n in names if n.startswith(LEGACY)]
        new = [n for n in names if not n.startswith(LEGACY)]
        budget = budget_lines(settings, rules, len(keys))
        print(f"rules: {len(new)} defaults + {len(legacy)} legacy in {settings.alert_rules_path};"
              f" budget {settings.false_pages_per_week:g}/week, levels "
              + ", ".join(f"{b.group} {b.level:.3g} ({len(b.rules)} rules)" for b in budget)
              + f"; reference_events {settings.reference_events}")
        try:
            run = run_worker(deployment, bootstrap, events, names,
                             len(keys) * (windows + shift_windows), cut, args, len(keys))
        finally:
            if deployment.process is not None:
                deployment.stop()
            if broker is not None:
                broker.down()

    print(f"\nworker: {run.expected} key-windows closed in {run.took:.0f} s")
    tested = run.weeks * SECONDS_PER_WEEK / WINDOW * len(keys)
    print_table([
        Row("key-windows closed (stationary)", run.closed, "windows", f"{len(keys)} keys"),
        Row("key-windows tested (after the reference)", tested, "windows",
            f"{run.weeks * 7:.3g} days of the deployment = {run.weeks:.4g} weeks"),
    ], "windows")
    print_table(run.tests, "per-test rejections at the test's own alpha, stationary windows")
    per_week = settings.false_pages_per_week
    in_budget = verdict(sum(run.pages[n] for n in new), run.weeks, per_week)
    bound = sum(b.expected_false_pages_per_week for b in budget)
    print_table(
        page_rows("defaults", {n: run.pages[n] for n in new}, run.weeks,
                  f"budget {per_week:g}/week ({in_budget}), e-detector bound <= {bound:.3g}")
        + page_rows("legacy", {n: run.pages[n] for n in legacy}, run.weeks, "not budgeted"),
        "pages (firing transitions) on stationary traffic, over the tested windows")
    if args.shift:
        print_table(shift_rows(keys, run.shifted, cut), "shift day: windows from the onset to "
                    "the first page (1 = the onset's own window; n/a = no page in the day)")


if __name__ == "__main__":
    main()
