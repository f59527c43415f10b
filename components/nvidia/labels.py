"""Which node labels a GPU pool needs for the NVIDIA layer, and which GPU resource its pods request.

The per-pool label contract itself is spec/nvidia_labels.py (re-exported here); this module adds what depends on
pool descriptors and the GPU resource a pod requests.

Why the labels exist: spec/nvidia_labels.py.
"""
from typing import Optional

from catalog.gpus import GpuModel
from components.descriptors import PoolDescriptor
from spec.nvidia_labels import (  # noqa: F401 (re-exported: the layers import the contract from here)
    DEFAULT_CONFIG_KEY, DEPLOY_LABELS, GKE_NO_DEVICE_PLUGIN, LABEL_DEVICE_PLUGIN_CONFIG, LABEL_MIG_CONFIG,
    LABEL_OPERANDS, MIG_MEMORY_SLICES, MIG_SLICES, cloud_managed, device_plugin_config_key, image_managed,
    mig_config_name, mig_partitioned_by, nvidia_node_labels, operand_free, operator_flags, sharing_applied_by)


def pool_node_labels(pool: PoolDescriptor) -> dict[str, str]:
    return nvidia_node_labels(pool.name, pool.cloud, pool.driver, pool.sharing)


def needed_node_labels(pool: PoolDescriptor, pools) -> dict[str, str]:
    """The labels that matter for this pool given all pools: opt-out labels for operands that are off chart-wide
    anyway are dropped (an existing cluster's nodes need not carry them)."""
    flags = operator_flags(p.driver for p in pools)
    labels = pool_node_labels(pool)
    for part in ("driver", "toolkit", "device_plugin"):
        if not flags[part]:
            labels.pop(DEPLOY_LABELS[part], None)
    return labels


def missing_node_labels(pools) -> dict[str, dict[str, str]]:
    """Pool name -> labels its descriptor lacks (a cluster component that did not merge `pool_node_labels`)."""
    out = {}
    for p in pools:
        missing = {k: v for k, v in needed_node_labels(p, pools).items() if p.node_labels.get(k) != v}
        if missing:
            out[p.name] = missing
    return out


def mig_instances_per_gpu(gpu: GpuModel, profile: str) -> int:
    """How many instances of `profile` fit one GPU: limited by compute slices (the `Ng`) and memory slices (an
    eighth of the full-GPU profile's memory each). Matches NVIDIA's MIG profile tables, e.g. H100 80GB: 1g.10gb x7,
    1g.20gb x4, 2g.20gb x3, 3g.40gb x2, 4g.40gb x1, 7g.80gb x1."""
    g = int(profile.split("g.", 1)[0])
    mem = float(profile.split(".", 1)[1].split("gb", 1)[0])
    full = next(p for p in gpu.mig_profiles if p.startswith(f"{MIG_SLICES}g."))
    full_mem = float(full.split(".", 1)[1].split("gb", 1)[0])
    mem_slices = max(1, round(mem / (full_mem / MIG_MEMORY_SLICES)))
    return min(MIG_SLICES // g, MIG_MEMORY_SLICES // mem_slices)


def gpu_resource(pool: PoolDescriptor, mig_strategy: str) -> tuple[str, int]:
    """(extended resource name, count per node) that pods on this pool request.

    Time-slicing keeps the `nvidia.com/gpu` name (no renameByDefault) and multiplies the count by the replicas.
    MIG with the mixed strategy exposes `nvidia.com/mig-<profile>`; with single (and always on GKE, whose device
    plugin exposes partitions as `nvidia.com/gpu`) the partitions are `nvidia.com/gpu`.
    """
    s = pool.sharing
    if s.mode == "time-slicing":
        return "nvidia.com/gpu", pool.gpus_per_node * s.replicas
    if s.mode == "mig":
        n = pool.gpus_per_node * mig_instances_per_gpu(pool.gpu, s.mig_profile)
        if mig_strategy == "mixed" and pool.driver.device_plugin != "cloud":
            return f"nvidia.com/mig-{s.mig_profile}", n
        return "nvidia.com/gpu", n
    return "nvidia.com/gpu", pool.gpus_per_node


def ksm_resource(resource: str) -> str:
    """kube-state-metrics' `resource` label value for an extended resource (non-alphanumerics become `_`)."""
    return "".join(c if c.isalnum() else "_" for c in resource)


def time_slicing_pools(pools) -> list:
    return [p for p in pools if p.sharing.mode == "time-slicing" and p.driver.device_plugin == "operator"]


def dcgm_source(stack: str, dcgm_exporter: bool, pools) -> Optional[str]:
    """Where GPU metrics come from: "operator" (the GPU Operator's exporter and its own ServiceMonitor), "chart"
    (the dcgm-exporter chart; the observability layer adds the ServiceMonitor) or None (nothing to scrape: the
    exporter is off, or every pool is GKE-managed or Bottlerocket, whose nodes run no NVIDIA operands of ours)."""
    if not dcgm_exporter or all(operand_free(p.driver) for p in pools):
        return None
    return "operator" if stack == "gpu-operator" else "chart"
