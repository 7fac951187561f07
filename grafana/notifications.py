"""Where Grafana sends the rules' notifications: one contact point and the policy tree.

The contact point forwards to an Alertmanager (Grafana's ``prometheus-alertmanager``
integration, which posts to ``<url>/api/v2/alerts``); by default the one in
``docker-compose.yml``. Point it at yours with ``seismo grafana push --alertmanager-url`` or by
editing the generated file's ``url``; any other integration (Slack, PagerDuty, a webhook) can
replace it in the same file.

The notification policy is Grafana's whole tree: provisioning or pushing it replaces the
organisation's existing policies (Grafana's own semantics), hence ``--no-notification-policy``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from grafana.alert_rules import ORG_ID

DEFAULT_ALERTMANAGER_URL = "http://alertmanager:9093"


@dataclass(frozen=True)
class Notifications:
    """The contact point and root policy.

    Parameters
    ----------
    alertmanager_url : str
        Base URL of the Alertmanager that receives Grafana's alerts.
    group_wait, group_interval, repeat_interval : str
        Alertmanager-style batching of notifications (Grafana's defaults).
    """

    alertmanager_url: str = DEFAULT_ALERTMANAGER_URL
    contact_point_uid: str = "seismo-alertmanager"
    contact_point_name: str = "Seismo Alertmanager"
    group_wait: str = "30s"
    group_interval: str = "5m"
    repeat_interval: str = "4h"

    def __post_init__(self) -> None:
        if not self.alertmanager_url.startswith(("http://", "https://")):
            raise ValueError(
                f"alertmanager_url must be an http(s) URL, got {self.alertmanager_url!r}"
            )

    def _receiver(self) -> dict[str, Any]:
        return {
            "uid": self.contact_point_uid,
            "type": "prometheus-alertmanager",
            "settings": {"url": self.alertmanager_url},
            "disableResolveMessage": False,
        }

    def contact_point(self) -> dict[str, Any]:
        """Body of ``/api/v1/provisioning/contact-points`` (POST, or PUT by uid)."""
        return {"name": self.contact_point_name, **self._receiver()}

    def policy_tree(self) -> dict[str, Any]:
        """Body of ``PUT /api/v1/provisioning/policies``: everything to the contact point."""
        return {
            "receiver": self.contact_point_name,
            # One notification per alert rule and stream, across evaluations.
            "group_by": ["grafana_folder", "alertname", "app", "model"],
            "group_wait": self.group_wait,
            "group_interval": self.group_interval,
            "repeat_interval": self.repeat_interval,
        }

    def contact_points_file(self) -> dict[str, Any]:
        return {
            "apiVersion": 1,
            "contactPoints": [
                {"orgId": ORG_ID, "name": self.contact_point_name, "receivers": [self._receiver()]}
            ],
        }

    def policies_file(self) -> dict[str, Any]:
        return {"apiVersion": 1, "policies": [{"orgId": ORG_ID, **self.policy_tree()}]}
