"""Alertmanager receivers from `llmfleet:observability.alertmanager`, as kube-prometheus-stack values plus a Secret.

The webhook and Slack URLs are credentials: they go into a Kubernetes Secret (from the Pulumi secret config) that
the chart mounts into the Alertmanager pods (`alertmanager.alertmanagerSpec.secrets` -> /etc/alertmanager/secrets/
<name>/), and the receiver reads them with `url_file` / `api_url_file`. The Helm values, which Pulumi stores and
`helm get values` prints, never hold them. Keys checked in shared/chart-values/kube-prometheus-stack-88.5.3.yaml
(alertmanager.config, alertmanager.alertmanagerSpec.secrets). Webhook `url_file` is in Alertmanager's
docs/configuration.md on main (read 2026-12), newer than Debian's amtool 0.25, which rejects it; the rest of the
rendered config passes `amtool check-config` (tests/test_serving_observability.py). Not run against v0.34.0.
"""
import pulumi
import pulumi_kubernetes as k8s
from pulumi import ResourceOptions

from components.platform import MANAGED_BY
from spec.slo import SECRET_FIELDS, AlertmanagerSpec

SECRET_NAME = "llmfleet-alertmanager-receivers"
MOUNT = f"/etc/alertmanager/secrets/{SECRET_NAME}"
RECEIVER = "llmfleet"
# Alerts of one model and stack arrive together; the GPU alerts have no model label and group per stack.
GROUP_BY = ["alertname", "stack", "model"]


def alertmanager_values(a: AlertmanagerSpec) -> dict:
    receiver: dict = {"name": RECEIVER}
    if a.webhook:
        receiver["webhook_configs"] = [{"url_file": f"{MOUNT}/{SECRET_FIELDS['webhookUrl']}", "send_resolved": True}]
    if a.slack:
        slack: dict = {"api_url_file": f"{MOUNT}/{SECRET_FIELDS['slackUrl']}", "send_resolved": True,
                       "title": "[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }} {{ .CommonLabels.model }}",
                       "text": "{{ range .Alerts }}{{ .Annotations.summary }}\n{{ end }}"}
        if a.slack_channel:
            slack["channel"] = a.slack_channel
        receiver["slack_configs"] = [slack]
    if a.email:
        receiver["email_configs"] = [{"to": a.email, "from": a.smtp_from, "smarthost": a.smtp_smarthost,
                                      "send_resolved": True}]
    return {
        "config": {
            # The chart's default inhibit rules with `model` added to `equal`: a paging burn of one model must not
            # mute another model's ticket in the same namespace (alerts without a model label compare as equal,
            # so the chart's own alerts inhibit as before).
            "inhibit_rules": [
                {"source_matchers": ["severity = critical"], "target_matchers": ["severity =~ warning|info"],
                 "equal": ["namespace", "alertname", "model"]},
                {"source_matchers": ["severity = warning"], "target_matchers": ["severity = info"],
                 "equal": ["namespace", "alertname", "model"]},
                {"source_matchers": ["alertname = InfoInhibitor"], "target_matchers": ["severity = info"],
                 "equal": ["namespace"]},
                {"target_matchers": ["alertname = InfoInhibitor"]},
            ],
            # Lists replace the chart's defaults wholesale (Helm merges maps, not lists): the chart's `null`
            # receiver and its Watchdog route are kept here on purpose.
            "route": {"receiver": RECEIVER, "group_by": GROUP_BY,
                      "routes": [{"receiver": "null", "matchers": ['alertname = "Watchdog"']}]},
            "receivers": [{"name": "null"}, receiver],
        },
        "alertmanagerSpec": {"secrets": [SECRET_NAME] if (a.webhook or a.slack) else []},
    }


def receivers_secret(name: str, a: AlertmanagerSpec, namespace: str, parent: pulumi.Resource) -> k8s.core.v1.Secret:
    """The URLs, read from the secret `llmfleet:observability` value (set with --secret --path)."""
    def urls(obs: dict) -> dict:
        am = obs.get("alertmanager") or {}
        return {SECRET_FIELDS[k]: am[k] for k in SECRET_FIELDS if am.get(k)}

    return k8s.core.v1.Secret(
        name,
        metadata=k8s.meta.v1.ObjectMetaArgs(name=SECRET_NAME, namespace=namespace, labels=MANAGED_BY),
        type="Opaque",
        string_data=pulumi.Config("llmfleet").require_secret_object("observability").apply(urls),
        opts=ResourceOptions(parent=parent))
