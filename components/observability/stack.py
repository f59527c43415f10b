"""Observability: kube-prometheus-stack (Prometheus operator + CRDs, Prometheus, Grafana, kube-state-metrics,
node-exporter), the DCGM exporter ServiceMonitor when the GPU Operator does not bring its own, GPU dashboards as
ConfigMaps for Grafana's sidecar, and the GPU PrometheusRule.

The monitoring.coreos.com CRDs come with the chart, so every custom resource here depends on the release; the
NVIDIA layer is created after this component for the same reason (its operator creates a ServiceMonitor).
"""
from typing import Optional, Sequence, TypedDict

import pulumi
import pulumi_kubernetes as k8s
from pulumi import ResourceOptions

from components.descriptors import PoolDescriptor
from components.helm import chart_release
from components.nvidia.labels import cloud_managed, dcgm_source
from components.observability.alertmanager import receivers_secret
from components.observability.dashboards import DASHBOARDS, dashboard_json
from components.observability.grafana_admin import admin_secret, admin_values
from components.observability.rules import node_label_keys, rule_groups
from components.observability.values import kps_values
from components.platform import MANAGED_BY
from spec.nvidia import NvidiaSpec, ObservabilitySpec
from spec.platform import PROMETHEUS_RELEASE

RELEASE_NAME = PROMETHEUS_RELEASE
DCGM_PORT_NAME = "metrics"       # the dcgm-exporter chart's Service port name, for port 9400
DCGM_PORT = 9400
# GKE's managed DCGM exporter (cluster monitoring_config component DCGM, components/gcp/cluster.py): a DaemonSet
# GKE runs in this namespace on GKE-managed GPU nodes. Its pod label and port name are from GKE's "Collect and view
# DCGM metrics" page as recalled, not re-read offline: `kubectl -n gke-managed-system get pods --show-labels` on a
# GPU node settles them (docs/gcp.md).
GKE_DCGM_NAMESPACE = "gke-managed-system"
GKE_DCGM_LABELS = {"app.kubernetes.io/name": "gke-managed-dcgm-exporter"}
GKE_DCGM_PORT_NAME = "metrics"


def gke_managed_dcgm(nv: NvidiaSpec, pools) -> bool:
    """GKE-managed GPU pools run no exporter of ours; GKE's managed DCGM exporter covers them."""
    return nv.dcgm_exporter and any(p.cloud == "gcp" and cloud_managed(p.driver) for p in pools)


class ObservabilityArgs(TypedDict):
    observability: ObservabilitySpec
    """Validated `llmfleet:observability` spec: retention, storage, resources, Grafana, alert thresholds."""
    nvidia: NvidiaSpec
    """The NVIDIA layer's spec: decides whether the DCGM ServiceMonitor is ours or the GPU Operator's."""
    pools: Sequence[PoolDescriptor]
    """The cluster component's pool descriptors (expected GPUs per node, node labels for the rules)."""
    namespace: str
    """Monitoring namespace (spec.platform.MONITORING_NAMESPACE), created by PlatformBase."""
    gpu_namespace: str
    """Namespace of the NVIDIA layer's charts, where the DCGM exporter Service lives."""


class Observability(pulumi.ComponentResource):
    release: k8s.helm.v3.Release
    """The kube-prometheus-stack release (later layers depend on it for the monitoring CRDs)."""
    values: dict
    """Values passed to kube-prometheus-stack (plain data)."""
    rule_groups: list
    """`spec.groups` of the GPU PrometheusRule (plain data)."""
    grafana_admin_password: Optional[pulumi.Output]
    """Grafana's generated admin password (secret output), when Grafana is on."""

    def __init__(self, name: str, args: ObservabilityArgs, opts: Optional[ResourceOptions] = None):
        super().__init__("llmfleet:observability:Observability", name, None, opts)
        o, nv, pools = args["observability"], args["nvidia"], list(args["pools"])
        ns, gpu_ns = args["namespace"], args["gpu_namespace"]
        self.values = kps_values(o, node_label_keys(pools))
        # Alertmanager mounts the receivers' Secret: it must exist before the chart's Alertmanager pod starts.
        am = o.alertmanager
        secrets = [receivers_secret(f"{name}-alertmanager-receivers", am, ns, self)] if am.webhook or am.slack else []
        self.grafana_admin_password = None
        if o.grafana:
            # No chart-made admin password: ours, in a Secret the chart reads (observability/grafana_admin.py).
            grafana_secret, self.grafana_admin_password = admin_secret(f"{name}-grafana-admin", ns, self)
            self.values["grafana"].update(admin_values())
            secrets.append(grafana_secret)
        self.release = chart_release(f"{name}-kube-prometheus-stack", "kube-prometheus-stack", ns, self.values,
                                     parent=self, timeout=900, release_name=RELEASE_NAME, depends_on=secrets)
        after_crds = ResourceOptions(parent=self, depends_on=[self.release])

        source = dcgm_source(nv.stack, nv.dcgm_exporter, pools)
        if source == "chart":
            # The standalone dcgm-exporter chart's own ServiceMonitor is off (components/nvidia/values.py).
            k8s.apiextensions.CustomResource(
                f"{name}-dcgm-servicemonitor",
                api_version="monitoring.coreos.com/v1",
                kind="ServiceMonitor",
                metadata=k8s.meta.v1.ObjectMetaArgs(name="dcgm-exporter", namespace=ns, labels=MANAGED_BY),
                spec={
                    "selector": {"matchLabels": {"app.kubernetes.io/name": "dcgm-exporter",
                                                 "app.kubernetes.io/component": "dcgm-exporter"}},
                    "namespaceSelector": {"matchNames": [gpu_ns]},
                    "endpoints": [{
                        "port": DCGM_PORT_NAME, "path": "/metrics", "interval": "15s", "scrapeTimeout": "10s",
                        # The node name joins GPU metrics to kube-state-metrics' node series.
                        "relabelings": [{"sourceLabels": ["__meta_kubernetes_pod_node_name"],
                                         "targetLabel": "node", "action": "replace"}],
                    }],
                },
                opts=after_crds)

        gke_dcgm = gke_managed_dcgm(nv, pools)
        if gke_dcgm:
            k8s.apiextensions.CustomResource(
                f"{name}-gke-dcgm-podmonitor",
                api_version="monitoring.coreos.com/v1",
                kind="PodMonitor",
                metadata=k8s.meta.v1.ObjectMetaArgs(name="gke-managed-dcgm-exporter", namespace=ns,
                                                    labels=MANAGED_BY),
                spec={
                    "selector": {"matchLabels": dict(GKE_DCGM_LABELS)},
                    "namespaceSelector": {"matchNames": [GKE_DCGM_NAMESPACE]},
                    "podMetricsEndpoints": [{
                        "port": GKE_DCGM_PORT_NAME, "path": "/metrics", "interval": "15s", "scrapeTimeout": "10s",
                        "relabelings": [{"sourceLabels": ["__meta_kubernetes_pod_node_name"],
                                         "targetLabel": "node", "action": "replace"}],
                    }],
                },
                opts=after_crds)

        if o.grafana:
            for key in DASHBOARDS:
                k8s.core.v1.ConfigMap(
                    f"{name}-dashboard-{key}",
                    metadata=k8s.meta.v1.ObjectMetaArgs(
                        name=f"llmfleet-dashboard-{key}", namespace=ns,
                        labels={**MANAGED_BY, "grafana_dashboard": "1"}),
                    data={f"llmfleet-{key}.json": dashboard_json(key)},
                    opts=ResourceOptions(parent=self))

        self.rule_groups = rule_groups(pools, o.alerts, nv.mig_strategy, dcgm=source is not None or gke_dcgm)
        k8s.apiextensions.CustomResource(
            f"{name}-gpu-rules",
            api_version="monitoring.coreos.com/v1",
            kind="PrometheusRule",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="llmfleet-gpu", namespace=ns, labels=MANAGED_BY),
            spec={"groups": self.rule_groups},
            opts=after_crds)

        self.register_outputs({"release": self.release.name})
