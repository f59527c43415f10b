"""OpenCost from its pinned chart, pointed at the stack's Prometheus: cost per namespace, pod and model.

Prices: on AWS OpenCost reads the public EC2 price list by itself (no credentials); GKE needs a Cloud Billing
Catalog API key and AKS a Rate Card service principal, without which it falls back to its default prices (see
docs/cost-guards.md). On an existing cluster there is no cloud price list: custom pricing carries the stack's
declared `pricePerHour` as a per-GPU-hour price (OpenCost's custom provider has one GPU price per cluster).
Facts: shared/FACTS-wave2.md section 4; chart values checked against shared/chart-values/opencost-2.5.17.yaml.
"""
from typing import Sequence

from components.descriptors import LABEL_ROLE, PoolDescriptor
from spec.platform import MONITORING_NAMESPACE, PROMETHEUS_RELEASE

RELEASE = "opencost"
PROMETHEUS_PORT = 9090


def gpu_hour_price(pools: Sequence[PoolDescriptor]) -> float:
    """One $/GPU-hour for an existing cluster: the dearest pool's node price per GPU (never under-reports)."""
    return round(max((p.price_hour / p.gpus_per_node for p in pools if p.gpus_per_node), default=0.0), 4)


def opencost_values(cluster: str, cloud: str, pools: Sequence[PoolDescriptor]) -> dict:
    opencost: dict = {
        "exporter": {"defaultClusterId": cluster},
        "prometheus": {"internal": {"enabled": True, "serviceName": f"{PROMETHEUS_RELEASE}-prometheus",
                                    "namespaceName": MONITORING_NAMESPACE, "port": PROMETHEUS_PORT}},
        # Prometheus (kube-prometheus-stack, cluster-wide selectors) scrapes OpenCost's cost metrics from here.
        "metrics": {"serviceMonitor": {"enabled": True}},
        # The cost model is a controller: keep it off the GPU nodes (it tolerates none of their taints anyway).
        "nodeSelector": {LABEL_ROLE: "system"} if cloud != "existing" else {},
    }
    if cloud == "existing":
        opencost["customPricing"] = {"enabled": True, "provider": "custom", "costModel": {
            "description": "llmfleet: GPU price from llmfleet:gpuPools pricePerHour", "GPU": gpu_hour_price(pools)}}
    return {"opencost": opencost}
