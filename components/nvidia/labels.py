"""Which node labels a GPU pool needs for the NVIDIA layer, and which GPU resource its pods request.

Pure functions (no Pulumi): the spec checks, the cluster components (which put these labels on their node groups)
and the NVIDIA/serving layers all call them, so the label contract is written once.

Why labels: the GPU Operator labels every GPU node `nvidia.com/gpu.deploy.<operand>=true`, but "if a required state
label already exists on the node, honor the current value" (gpu-operator controllers/state_manager.go,
addGPUStateLabels). A node group that is created with `nvidia.com/gpu.deploy.driver=false` therefore never gets the
operator's driver, even when another pool needs it. That is how pools that disagree (a Bottlerocket pool next to an
AL2023 pool, an AKS pool next to a GKE-style pool) share one operator install. `nvidia.com/gpu.deploy.operands=false`
turns every operand off on a node (state_manager.go hasOperandsDisabled).
"""
from typing import Optional

from catalog.gpus import GpuModel
from components.descriptors import DriverOwnership, PoolDescriptor
from spec.pools import Sharing

LABEL_DEVICE_PLUGIN_CONFIG = "nvidia.com/device-plugin.config"   # selects the device plugin config entry per node
LABEL_MIG_CONFIG = "nvidia.com/mig.config"                      # the MIG manager partitions the node's GPUs to it
LABEL_OPERANDS = "nvidia.com/gpu.deploy.operands"
DEPLOY_LABELS = {
    "driver": "nvidia.com/gpu.deploy.driver",
    "toolkit": "nvidia.com/gpu.deploy.container-toolkit",
    "device_plugin": "nvidia.com/gpu.deploy.device-plugin",
    "mig_manager": "nvidia.com/gpu.deploy.mig-manager",
}
GKE_NO_DEVICE_PLUGIN = "gke-no-default-nvidia-gpu-device-plugin"
DEFAULT_CONFIG_KEY = "default"          # device plugin config entry for nodes without a config label
MIG_SLICES = 7                          # compute slices of a MIG-capable GPU (A100, H100, H200)
MIG_MEMORY_SLICES = 8                   # memory slices of the same GPUs


def cloud_managed(own: DriverOwnership) -> bool:
    """GKE-managed pools: the cloud owns driver, toolkit and device plugin; the operator stays off the node."""
    return own.driver == own.toolkit == own.device_plugin == "cloud"


def image_managed(own: DriverOwnership) -> bool:
    """Bottlerocket NVIDIA pools: the image ships driver, toolkit and device plugin. The GPU Operator does not list
    Bottlerocket among its host OSes, so the whole pool is kept out of its operands (GFD, DCGM exporter, validator,
    MIG manager too), as GKE-managed pools are. Nothing runs there in their place: no program object selects on GFD
    labels, the image's device plugin is not the operator's (no MIG manager or time-slicing: spec/nvidia.py rejects
    sharing there), and a DCGM exporter on Bottlerocket is unverified (docs/aws.md, "Bottlerocket GPU pools")."""
    return own.driver == own.toolkit == own.device_plugin == "image"


def operand_free(own: DriverOwnership) -> bool:
    """Pools on which the NVIDIA layer installs nothing at all (GKE-managed, Bottlerocket)."""
    return cloud_managed(own) or image_managed(own)


def device_plugin_config_key(pool_name: str) -> str:
    """Config entry (and node label value) of a time-sliced pool. The prefix keeps it apart from `default`."""
    return f"pool-{pool_name}"


def mig_config_name(profile: str) -> str:
    """The MIG manager's config that puts every GPU of a node into `profile`, e.g. all-1g.10gb."""
    return f"all-{profile}"


def mig_partitioned_by(cloud: str, own: DriverOwnership) -> str:
    """Who partitions MIG GPUs: GKE (gpu_partition_size) and AKS (gpuInstanceProfile) do it at pool creation when
    they own the driver; everywhere else the GPU Operator's MIG manager does it from the node label."""
    if cloud in ("gcp", "azure") and own.driver == "cloud":
        return "cloud"
    return "operator"


def sharing_applied_by(own: DriverOwnership) -> str:
    """Time-slicing is a device plugin setting: whoever runs the device plugin applies it."""
    return "nvidia" if own.device_plugin == "operator" else own.device_plugin


def nvidia_node_labels(pool_name: str, cloud: str, own: DriverOwnership, sharing: Sharing) -> dict[str, str]:
    """Labels every node of the pool must carry from creation, for the NVIDIA layer to install exactly one driver,
    toolkit and device plugin there and to apply the pool's GPU sharing. Cluster components merge these into the
    node group's labels (they do not depend on other pools or on the chosen chart)."""
    if operand_free(own):
        return {LABEL_OPERANDS: "false"}
    labels: dict[str, str] = {}
    if cloud == "gcp" and own.device_plugin == "operator":
        # GKE runs its own device plugin on every GPU node unless the node carries this label (GKE docs, "Manage
        # the GPU stack with the NVIDIA GPU Operator"; NVIDIA's GKE setup guide): two plugins must never register
        # nvidia.com/gpu on one node.
        labels[GKE_NO_DEVICE_PLUGIN] = "true"
    for part in ("driver", "toolkit", "device_plugin"):
        if getattr(own, part) != "operator":
            labels[DEPLOY_LABELS[part]] = "false"
    if sharing.mode == "time-slicing" and own.device_plugin == "operator":
        labels[LABEL_DEVICE_PLUGIN_CONFIG] = device_plugin_config_key(pool_name)
    if sharing.mode == "mig":
        if mig_partitioned_by(cloud, own) == "operator":
            labels[LABEL_MIG_CONFIG] = mig_config_name(sharing.mig_profile)
        else:
            # The cloud already partitioned the GPUs; the operator's MIG manager would reset them to its default.
            labels[DEPLOY_LABELS["mig_manager"]] = "false"
    return labels


def pool_node_labels(pool: PoolDescriptor) -> dict[str, str]:
    return nvidia_node_labels(pool.name, pool.cloud, pool.driver, pool.sharing)


def operator_flags(owners) -> dict[str, bool]:
    """Chart-wide switches: an operand is on when at least one pool needs it from the operator (the other pools
    opt out per node with the labels above)."""
    owners = list(owners)
    return {part: any(getattr(o, part) == "operator" for o in owners) for part in ("driver", "toolkit", "device_plugin")}


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
