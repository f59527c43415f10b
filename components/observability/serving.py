"""ServingObservability: per-model serving dashboards (ConfigMaps for Grafana's sidecar) and the serving SLO and
saturation PrometheusRule. A component of its own, beside the GPU one, because it depends on the models while the
base observability layer must exist before any model (it brings the monitoring CRDs)."""
from typing import Optional, Sequence, TypedDict

import pulumi
import pulumi_kubernetes as k8s
from pulumi import ResourceOptions

from components.observability.serving_dashboards import serving_dashboard_json
from components.observability.serving_rules import Target, serving_rule_groups
from components.platform import MANAGED_BY
from components.serving.common import model_load_seconds
from spec.models import ModelSpec


class ServingObservabilityArgs(TypedDict):
    models: Sequence[ModelSpec]
    """The stack's placed models (each gets a dashboard and rules)."""
    serving_namespace: str
    """Namespace the models run in: the `namespace` label of their metrics."""
    namespace: str
    """Monitoring namespace, where dashboards and rules live."""
    stack: str
    """The Pulumi stack name: the `stack` label that routes every alert."""
    grafana: bool
    """Whether Grafana runs (dashboards only then)."""
    depends_on: list
    """The kube-prometheus-stack release (PrometheusRule CRD)."""


def targets(models: Sequence[ModelSpec], serving_namespace: str, stack: str) -> list[Target]:
    return [Target(m, serving_namespace, stack, model_load_seconds(m)) for m in models if m.placement]


class ServingObservability(pulumi.ComponentResource):
    rule_groups: list
    """`spec.groups` of the serving PrometheusRule (plain data)."""

    def __init__(self, name: str, args: ServingObservabilityArgs, opts: Optional[ResourceOptions] = None):
        super().__init__("llmfleet:observability:ServingObservability", name, None, opts)
        ns, deps = args["namespace"], list(args["depends_on"])
        ts = targets(args["models"], args["serving_namespace"], args["stack"])
        if args["grafana"]:
            for t in ts:
                k8s.core.v1.ConfigMap(
                    f"{name}-dashboard-{t.model.name}",
                    metadata=k8s.meta.v1.ObjectMetaArgs(name=f"llmfleet-dashboard-model-{t.model.name}",
                                                        namespace=ns, labels={**MANAGED_BY, "grafana_dashboard": "1"}),
                    data={f"llmfleet-model-{t.model.name}.json": serving_dashboard_json(t)},
                    opts=ResourceOptions(parent=self))
        self.rule_groups = serving_rule_groups(ts)
        if self.rule_groups:
            k8s.apiextensions.CustomResource(
                f"{name}-rules",
                api_version="monitoring.coreos.com/v1",
                kind="PrometheusRule",
                metadata=k8s.meta.v1.ObjectMetaArgs(name="llmfleet-serving", namespace=ns, labels=MANAGED_BY),
                spec={"groups": self.rule_groups},
                opts=ResourceOptions(parent=self, depends_on=deps))
        self.register_outputs({"ruleGroups": len(self.rule_groups)})
