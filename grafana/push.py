"""Upserts Seismo's data source, dashboards, alert rules and notifications into a Grafana.

The same objects as the provisioning files, sent through Grafana's HTTP API with
``grafana-client``, for a Grafana whose provisioning folder we do not control. Every step is an
upsert by uid, so pushing twice leaves one of each, updated:

========================  ===========================================================
data source               ``GET /api/datasources/uid/:uid``, then ``PUT`` it or ``POST``
folder                    ``GET /api/folders/:uid``, ``POST /api/folders`` when missing
dashboards                ``POST /api/dashboards/db`` with ``overwrite: true``
alert rules               ``GET /api/v1/provisioning/alert-rules/:uid``, then ``PUT``/``POST``
contact point             ``GET /api/v1/provisioning/contact-points``, then ``PUT``/``POST``
notification policy       ``PUT /api/v1/provisioning/policies`` (replaces the tree)
========================  ===========================================================

Rules created through this API carry Grafana's "provisioned" mark and are read-only in the UI:
the code is their source. Push to a Grafana that does not also load ``grafana/provisioning``
from files: Grafana refuses API updates of file-provisioned objects with the same uids.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from grafana_client import GrafanaApi
from grafana_client.client import GrafanaClientError

from grafana.alert_rules import AlertSettings, api_rules
from grafana.dashboards import all_dashboards
from grafana.datasource import DATASOURCE_UID, ClickHouseDatasource
from grafana.notifications import Notifications

Action = Literal["created", "updated", "unchanged"]
_NOT_FOUND = 404


@dataclass(frozen=True)
class PushResult:
    """What one upsert did."""

    kind: str
    uid: str
    action: Action


def _exists(fetch: Callable[[], Any]) -> bool:
    try:
        fetch()
    except GrafanaClientError as exc:
        if exc.status_code == _NOT_FOUND:
            return False
        raise
    return True


def _upsert(
    kind: str, uid: str, fetch: Callable[[], Any], update: Callable[[], Any],
    create: Callable[[], Any],
) -> PushResult:
    if _exists(fetch):
        update()
        return PushResult(kind, uid, "updated")
    create()
    return PushResult(kind, uid, "created")


def push(
    api: GrafanaApi,
    *,
    settings: AlertSettings,
    datasource: ClickHouseDatasource | None = None,
    password: str | None = None,
    notifications: Notifications | None = None,
    notification_policy: bool = True,
) -> list[PushResult]:
    """Upsert everything Seismo needs in the Grafana behind ``api``.

    Parameters
    ----------
    api : GrafanaApi
        A connected client (``GrafanaApi.from_url(url, credential=token)``).
    settings : AlertSettings
        The rules' settings (:meth:`AlertSettings.following` the worker's).
    datasource : ClickHouseDatasource, optional
        ClickHouse as Grafana reaches it; the ``docker-compose.yml`` server by default.
    password : str, optional
        ClickHouse password; ``None`` keeps the one Grafana already has.
    notifications : Notifications, optional
        Notification settings; the defaults of the committed files otherwise.
    notification_policy : bool
        Replace the organisation's notification policy tree (all alerts to Seismo's contact
        point). Off for a Grafana whose policies someone else manages.

    Raises
    ------
    grafana_client.client.GrafanaException
        When Grafana refuses a request (bad token, missing permission ...).
    """
    datasource = datasource or ClickHouseDatasource()
    notifications = notifications or Notifications()
    results = [_push_datasource(api, datasource, password), _push_folder(api, settings)]
    results += _push_dashboards(api, settings.folder_uid)
    results += _push_rules(api, settings)
    results.append(_push_contact_point(api, notifications))
    if notification_policy:
        api.alertingprovisioning.set_notification_policy_tree(notifications.policy_tree())
        results.append(PushResult("notification-policy", "root", "updated"))
    return results


def _push_datasource(
    api: GrafanaApi, datasource: ClickHouseDatasource, password: str | None
) -> PushResult:
    ds_body = datasource.api_payload(password)
    return _upsert(
        "datasource", DATASOURCE_UID,
        fetch=lambda: api.datasource.get_datasource_by_uid(DATASOURCE_UID),
        update=lambda: api.datasource.update_datasource_by_uid(DATASOURCE_UID, ds_body),
        create=lambda: api.datasource.create_datasource(ds_body),
    )


def _push_folder(api: GrafanaApi, settings: AlertSettings) -> PushResult:
    folder_uid = settings.folder_uid
    if _exists(lambda: api.folder.get_folder(folder_uid)):
        return PushResult("folder", folder_uid, "unchanged")
    api.folder.create_folder(settings.folder_title, uid=folder_uid)
    return PushResult("folder", folder_uid, "created")


def _push_dashboards(api: GrafanaApi, folder_uid: str) -> list[PushResult]:
    results = []
    for uid, model in all_dashboards().items():
        saved = api.dashboard.update_dashboard(
            {
                "dashboard": model,
                "folderUid": folder_uid,
                "overwrite": True,
                "message": "seismo grafana push",
            }
        )
        # Grafana numbers a dashboard's versions from 1: version 1 is the first save.
        action: Action = "created" if saved.get("version") == 1 else "updated"
        results.append(PushResult("dashboard", uid, action))
    return results


def _push_rules(api: GrafanaApi, settings: AlertSettings) -> list[PushResult]:
    results = []
    for rule in api_rules(settings):
        rule_uid = rule["uid"]
        results.append(
            _upsert(
                "alert-rule", rule_uid,
                fetch=lambda u=rule_uid: api.alertingprovisioning.get_alertrule(u),
                update=lambda u=rule_uid, r=rule: api.alertingprovisioning.update_alertrule(u, r),
                create=lambda r=rule: api.alertingprovisioning.create_alertrule(r),
            )
        )
    return results


def _push_contact_point(api: GrafanaApi, notifications: Notifications) -> PushResult:
    contact = notifications.contact_point()
    contact_uid = contact["uid"]
    existing = api.alertingprovisioning.get_contactpoints(name=contact["name"]) or []
    if any(point.get("uid") == contact_uid for point in existing):
        api.alertingprovisioning.update_contactpoint(contact_uid, contact)
        return PushResult("contact-point", contact_uid, "updated")
    api.alertingprovisioning.create_contactpoint(contact)
    return PushResult("contact-point", contact_uid, "created")
