"""Grafana as code: Seismo's data source, dashboards, alert rules and notifications.

Depends only on ``schemas`` (table names), never on the running service.

* :mod:`grafana.queries`: every SQL string, with the columns each returns.
* :mod:`grafana.dashboards`: the overview and per-app dashboards (grafana-foundation-sdk).
* :mod:`grafana.alert_rules`, :mod:`grafana.notifications`: rules, contact point, policy.
* :mod:`grafana.generate`: writes ``grafana/provisioning`` (``seismo grafana generate``).
* :mod:`grafana.push`: upserts the same objects over the HTTP API (``seismo grafana push``).
* :mod:`grafana.macros`: Grafana's expansion of ClickHouse macros, to run queries in tests.
"""
