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
# OpenCost's own default prices (docs/configuration/on-prem.mdx, default.json; "based on GCP us-central1"): per
# vCPU-hour, GB-hour, GB-hour of storage, and per GB of egress (shared/FACTS-wave2.md section 4; egress from the
# chart's values).
ON_PREM_DEFAULTS = {"CPU": 0.031611, "spotCPU": 0.006655, "RAM": 0.004237, "spotRAM": 0.000892,
                    "storage": 0.00005479452, "zoneNetworkEgress": 0.01, "regionNetworkEgress": 0.01,
                    "internetNetworkEgress": 0.12}
PROMETHEUS_PORT = 9090
# The exporter's admin token (chart value opencost.exporter.adminToken, off by default: its write endpoints then
# have no token): from our Secret via `existingSecret`, so the value is never a Helm value.
ADMIN_TOKEN_SECRET = "opencost-admin-token"
ADMIN_TOKEN_KEY = "ADMIN_TOKEN"


def admin_token_values() -> dict:
    return {"adminToken": {"enabled": True, "existingSecret": ADMIN_TOKEN_SECRET, "secretKey": ADMIN_TOKEN_KEY}}


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
        # Every price of the model, not only the GPU's: Helm merges these into the chart's sample costModel
        # (CPU 1.25, RAM 0.50 per hour: 40x and 118x OpenCost's own defaults), which would otherwise stay.
        opencost["customPricing"] = {"enabled": True, "provider": "custom", "costModel": {
            "description": "llmfleet: GPU price from llmfleet:gpuPools pricePerHour; the rest OpenCost's defaults",
            **ON_PREM_DEFAULTS, "GPU": gpu_hour_price(pools)}}
    return {"opencost": opencost}
