"""Alerting rules for the GPU fleet, as a PrometheusRule spec (plain data, validated against the CRD in tests).

Metric names: DCGM fields as dcgm-exporter exports them (components/nvidia/values.py DCGM_FIELDS); kube-state-metrics
`kube_node_status_allocatable`, `kube_node_labels`, `kube_pod_status_phase`, `kube_pod_container_resource_requests`
(extended resources appear with non-alphanumerics replaced, `nvidia.com/gpu` -> `nvidia_com_gpu`).
"""
import re
from typing import Sequence

from components.descriptors import PoolDescriptor
from components.nvidia.labels import gpu_resource, ksm_resource
from spec.nvidia import Alerts

GPU_RESOURCES_RE = "nvidia_com_gpu|nvidia_com_mig_.*"


def ksm_label(key: str) -> str:
    """kube_node_labels' label name for a node label key: `label_` + the key with invalid characters as `_`."""
    return "label_" + re.sub(r"[^a-zA-Z0-9_]", "_", key)


def node_label_keys(pools: Sequence[PoolDescriptor]) -> list[str]:
    """Node label keys the rules join on; kube-state-metrics must allowlist them (metricLabelsAllowlist)."""
    keys: list[str] = []
    for p in pools:
        for k in p.node_selector():
            if k not in keys:
                keys.append(k)
    return keys


def _selector(pool: PoolDescriptor) -> str:
    return ", ".join(f'{ksm_label(k)}="{v}"' for k, v in sorted(pool.node_selector().items()))


def _missing_gpus_rule(pool: PoolDescriptor, mig_strategy: str, minutes: int) -> dict:
    resource, expected = gpu_resource(pool, mig_strategy)
    ksm = ksm_resource(resource)
    # Every node of the pool, valued at what it should offer, unless the node already offers at least that.
    expr = (f"(max by (node) (kube_node_labels{{{_selector(pool)}}}) * 0 + {expected})\n"
            f"unless on (node)\n"
            f"(max by (node) (kube_node_status_allocatable{{resource=\"{ksm}\"}}) >= {expected})")
    return {
        "alert": "GPUsMissingFromAllocatable",
        "expr": expr,
        "for": f"{minutes}m",
        "labels": {"severity": "critical", "pool": pool.name},
        "annotations": {
            "summary": f"Node {{{{ $labels.node }}}} of pool {pool.name} offers fewer than {expected} {resource}",
            "description": ("The node is up but the device plugin does not advertise all its GPUs: driver, "
                            "toolkit or device plugin failed, a GPU fell off the bus, or MIG partitioning did not "
                            "apply. Check the gpu-operator namespace pods on the node."),
        },
    }


def rule_groups(pools: Sequence[PoolDescriptor], alerts: Alerts, mig_strategy: str, dcgm: bool) -> list[dict]:
    """`spec.groups` of the fleet's PrometheusRule. DCGM-based rules only when DCGM metrics are scraped."""
    groups = []
    if dcgm:
        util, fb_used, fb_free = "DCGM_FI_DEV_GPU_UTIL", "DCGM_FI_DEV_FB_USED", "DCGM_FI_DEV_FB_FREE"
        pending_gpu_pods = (
            "sum(\n"
            "  (max by (namespace, pod) (kube_pod_status_phase{phase=\"Pending\"}) == 1)\n"
            "  and on (namespace, pod)\n"
            f"  (sum by (namespace, pod) (kube_pod_container_resource_requests{{resource=~\"{GPU_RESOURCES_RE}\"}}) > 0)\n"
            ")")
        groups.append({"name": "llmfleet-gpu-health", "rules": [
            {
                "alert": "GPUXidError",
                # The gauge holds the last XID code seen on the GPU; any non-zero value is an error event.
                "expr": "max by (Hostname, gpu, UUID, modelName) (DCGM_FI_DEV_XID_ERRORS) > 0",
                "for": "0m",
                "labels": {"severity": "critical"},
                "annotations": {
                    "summary": "GPU {{ $labels.gpu }} on {{ $labels.Hostname }} reported XID {{ $value }}",
                    "description": ("XID errors are NVIDIA driver error events (e.g. 48 double-bit ECC, 79 GPU fell "
                                    "off the bus). Drain the node if they repeat."),
                },
            },
            {
                "alert": "GPUMemoryNearFull",
                "expr": (f"100 * max by (Hostname, gpu) ({fb_used}) / "
                         f"(max by (Hostname, gpu) ({fb_used}) + max by (Hostname, gpu) ({fb_free})) "
                         f"> {alerts.gpu_memory_full_percent:g}"),
                "for": "10m",
                "labels": {"severity": "warning"},
                "annotations": {
                    "summary": "GPU {{ $labels.gpu }} on {{ $labels.Hostname }} memory is {{ $value | humanize }}% used",
                    "description": ("Model servers preallocate most GPU memory (vLLM's --gpu-memory-utilization); "
                                    "use above this threshold leaves no room and risks out-of-memory errors."),
                },
            },
            {
                "alert": "GPUTemperatureHigh",
                "expr": f"max by (Hostname, gpu) (DCGM_FI_DEV_GPU_TEMP) > {alerts.gpu_temperature_c:g}",
                "for": "10m",
                "labels": {"severity": "warning"},
                "annotations": {"summary": "GPU {{ $labels.gpu }} on {{ $labels.Hostname }} is at {{ $value }} C"},
            },
            {
                "alert": "GPUsIdleWhileGPUPodsPending",
                "expr": (f"({pending_gpu_pods} > 0)\n"
                         f"and on ()\n"
                         f"(count(max_over_time({util}[{alerts.gpu_idle_minutes}m]) < {alerts.gpu_idle_percent:g}) > 0)"),
                "for": f"{alerts.gpu_idle_minutes}m",
                "labels": {"severity": "warning"},
                "annotations": {
                    "summary": "GPU pods are Pending while some GPUs have been idle",
                    "description": ("Requests and capacity do not match: pods may ask for a GPU type, MIG profile "
                                    "or node selector the idle GPUs do not offer, or a quota blocks them."),
                },
            },
        ]})
    # One rule per pool, not per capacity group: a pool's groups (on-demand, spot) share its node selector and
    # GPU count, and two identical rules would raise every alert twice.
    per_pool = list({(p.name, tuple(sorted(p.node_selector().items()))): p for p in pools}.values())
    groups.append({"name": "llmfleet-gpu-capacity", "rules": [
        _missing_gpus_rule(p, mig_strategy, alerts.missing_gpu_minutes) for p in per_pool]})
    return groups
