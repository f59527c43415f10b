"""kube-prometheus-stack values (keys checked against shared/chart-values/kube-prometheus-stack-88.5.3.yaml; the
subchart keys `kube-state-metrics.*` and `prometheus-node-exporter.*` against those charts' documented values)."""
from typing import Sequence

from components.observability.alertmanager import alertmanager_values
from spec.nvidia import ObservabilitySpec
from spec.platform import PROMETHEUS_RELEASE


def kps_values(o: ObservabilitySpec, node_label_keys: Sequence[str]) -> dict:
    claim: dict = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": o.storage_size}}}
    if o.storage_class:
        claim["storageClassName"] = o.storage_class
    values: dict = {
        # Fixed object names: the serving layer reaches Prometheus at spec.platform.PROMETHEUS_URL.
        "fullnameOverride": PROMETHEUS_RELEASE,
        "prometheus": {"prometheusSpec": {
            "retention": o.retention,
            "retentionSize": o.retention_size,
            "resources": o.resources.values(),
            "storageSpec": {"volumeClaimTemplate": {"spec": claim}},
            # Select every ServiceMonitor/PodMonitor/PrometheusRule/Probe in the cluster, not only the ones
            # carrying this release's label: the GPU Operator's DCGM ServiceMonitor and our rules do not.
            "serviceMonitorSelectorNilUsesHelmValues": False,
            "podMonitorSelectorNilUsesHelmValues": False,
            "ruleSelectorNilUsesHelmValues": False,
            "probeSelectorNilUsesHelmValues": False,
        }},
        "grafana": {"enabled": o.grafana,
                    # The sidecar loads every ConfigMap labelled grafana_dashboard=1 (ours are in `monitoring`).
                    "sidecar": {"dashboards": {"enabled": True, "label": "grafana_dashboard", "labelValue": "1",
                                               "searchNamespace": "ALL"}}},
        # node-exporter is the one non-NVIDIA workload that runs on GPU nodes: node metrics (disk, network,
        # memory pressure) of the most expensive nodes are the ones we need most, and it is a tiny per-node agent.
        # It tolerates every taint so it also covers spot and user-tainted pools.
        "prometheus-node-exporter": {"tolerations": [{"operator": "Exists"}]},
    }
    # kube_*_labels carry no labels unless allowlisted: the missing-GPU rule joins nodes to pools on the pool
    # labels, the cost dashboard joins pods to models on llmfleet.io/model.
    allow = [f"nodes=[{','.join(node_label_keys)}]"] if node_label_keys else []
    values["kube-state-metrics"] = {"metricLabelsAllowlist": [*allow, "pods=[llmfleet.io/model]"]}
    if o.alertmanager.any:
        values["alertmanager"] = alertmanager_values(o.alertmanager)
    return values
