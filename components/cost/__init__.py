"""The cost layer: OpenCost (cost per namespace, pod and model, from the stack's Prometheus), a Grafana dashboard of
GPU $ per namespace and model, and the idle-model alert with its $/h. The policy pack (policy/) guards the plan
itself; this layer shows what the running cluster spends."""
from typing import Optional, Sequence, TypedDict

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random
from pulumi import ResourceOptions

from components.cost.dashboard import gpu_cost_json
from components.cost.opencost import (ADMIN_TOKEN_KEY, ADMIN_TOKEN_SECRET, RELEASE, admin_token_values,
                                      opencost_values)
from components.cost.rules import cost_rule_groups
from components.descriptors import PoolDescriptor
from components.helm import chart_release
from components.platform import MANAGED_BY
from spec.costguards import CostGuardsSpec
from spec.models import ModelSpec


class CostLayerArgs(TypedDict):
    cost_guards: CostGuardsSpec
    """`llmfleet:costGuards`: the idle-GPU alert's threshold and duration."""
    models: Sequence[ModelSpec]
    """Placed models (their $/h per replica goes into the idle alert)."""
    pools: Sequence[PoolDescriptor]
    """The cluster's pool descriptors (an existing cluster's declared prices)."""
    cluster: str
    """Cluster name, OpenCost's cluster id."""
    cloud: str
    """aws, gcp, azure or existing: where OpenCost gets node prices."""
    namespace: str
    """Monitoring namespace, where OpenCost and the dashboard live."""
    serving_namespace: str
    """Where the models' pods run (the idle alert selects them)."""
    gpu_metrics: bool
    """Whether DCGM metrics reach the stack's Prometheus (the idle alert needs them)."""
    grafana: bool
    """Whether Grafana runs (the dashboard is a ConfigMap for its sidecar)."""
    depends_on: Sequence[pulumi.Resource]
    """kube-prometheus-stack (monitoring CRDs, Prometheus)."""


class CostLayer(pulumi.ComponentResource):
    release: k8s.helm.v3.Release
    """The OpenCost release."""
    admin_token: pulumi.Output
    """OpenCost's generated admin token for its write endpoints (secret output)."""

    def __init__(self, name: str, args: CostLayerArgs, opts: Optional[ResourceOptions] = None):
        super().__init__("llmfleet:cost:CostLayer", name, None, opts)
        ns, deps = args["namespace"], list(args["depends_on"])
        # OpenCost's write endpoints (service keys, cloud configuration) take a token; ours is generated and
        # reaches the pod from our Secret, never through the chart's `value` (components/cost/opencost.py).
        token = random.RandomPassword(f"{name}-opencost-admin-token", length=40, special=False,
                                      opts=ResourceOptions(parent=self))
        self.admin_token = pulumi.Output.secret(token.result)
        token_secret = k8s.core.v1.Secret(
            f"{name}-opencost-admin-token",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=ADMIN_TOKEN_SECRET, namespace=ns, labels=MANAGED_BY),
            type="Opaque", string_data={ADMIN_TOKEN_KEY: token.result}, opts=ResourceOptions(parent=self))
        values = opencost_values(args["cluster"], args["cloud"], args["pools"])
        values["opencost"]["exporter"].update(admin_token_values())
        self.release = chart_release(f"{name}-opencost", "opencost", ns, values,
                                     parent=self, depends_on=[*deps, token_secret], release_name=RELEASE)
        if args["grafana"]:
            k8s.core.v1.ConfigMap(
                f"{name}-dashboard-gpu-cost",
                metadata=k8s.meta.v1.ObjectMetaArgs(name="llmfleet-dashboard-gpu-cost", namespace=ns,
                                                    labels={**MANAGED_BY, "grafana_dashboard": "1"}),
                data={"llmfleet-gpu-cost.json": gpu_cost_json()},
                opts=ResourceOptions(parent=self, depends_on=deps))
        g = args["cost_guards"]
        models = [m for m in args["models"] if m.placement]
        if args["gpu_metrics"] and models:
            k8s.apiextensions.CustomResource(
                f"{name}-rules",
                api_version="monitoring.coreos.com/v1",
                kind="PrometheusRule",
                metadata=k8s.meta.v1.ObjectMetaArgs(name="llmfleet-cost", namespace=ns, labels=MANAGED_BY),
                spec={"groups": cost_rule_groups(models, args["serving_namespace"], g.idle_gpu_percent,
                                                 g.idle_gpu_minutes)},
                opts=ResourceOptions(parent=self, depends_on=deps))
        self.register_outputs({"opencost": self.release.name})
