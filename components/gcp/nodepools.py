"""GKE node pools: one per (GPU pool, capacity type), and what each tells the layers above (its PoolDescriptor).

The planning functions here are pure (spec in, dicts out) so the rules can be read in one place:
  * accelerator type string and count come from the catalog's machine type, never from user input;
  * who installs the driver follows components/descriptors.driver_ownership (FACTS.md table): GKE installs driver
    and device plugin (`DEFAULT`), or nobody does and the GPU Operator owns all (`INSTALLATION_DISABLED`, Ubuntu
    nodes, and the label that turns GKE's own device plugin off);
  * GPU sharing is done by GKE (`gpu_sharing_config` / `gpu_partition_size`) when GKE owns the device plugin, and by
    the GPU Operator when it does not, never by both. The NVIDIA layer's per-node labels (opt-outs, device-plugin
    and MIG config) come from components/nvidia/labels.py, the one place that contract is written.
"""
from dataclasses import dataclass
from typing import Optional

from catalog.prices import price_key
from components.descriptors import (GKE_COMPUTE_CLASS, GPU_TAINT, LABEL_CAPACITY, capacity_priorities, LABEL_GPU, LABEL_POOL, PoolDescriptor,
                                    driver_ownership)
from components.nvidia.labels import nvidia_node_labels
from spec.clouds.gcp import GcpSettings
from spec.pools import PoolSpec, Taint

# Labels GKE itself puts on nodes (GKE "About GPUs" / "GPU sharing" pages; the same keys are constants in the
# cluster-autoscaler's GKE cloud provider). They may not be set by users; descriptors list them so selectors can.
GKE_NODEPOOL = "cloud.google.com/gke-nodepool"
GKE_SPOT = "cloud.google.com/gke-spot"
GKE_ACCELERATOR = "cloud.google.com/gke-accelerator"
GKE_DRIVER_VERSION = "cloud.google.com/gke-gpu-driver-version"
GKE_PARTITION_SIZE = "cloud.google.com/gke-gpu-partition-size"
GKE_SHARING_STRATEGY = "cloud.google.com/gke-gpu-sharing-strategy"
GKE_MAX_SHARED_CLIENTS = "cloud.google.com/gke-max-shared-clients-per-gpu"
# Set by us. A node pool joins a ComputeClass through this label plus a NoSchedule taint with the same key/value
# (GKE "About custom ComputeClasses", manually created node pools); pods select it (PoolDescriptor.node_selector).
COMPUTE_CLASS = GKE_COMPUTE_CLASS
# With this label GKE does not deploy its managed device plugin on the node, so the GPU Operator's is the only one
# (NVIDIA "GPU Operator with Google GKE" and GKE "Manage the GPU stack with the NVIDIA GPU Operator").
GKE_NO_DEVICE_PLUGIN = "gke-no-default-nvidia-gpu-device-plugin"

# GKE's driver installation modes (pulumi_gcp NodePoolNodeConfigGuestAcceleratorGpuDriverInstallationConfig).
DRIVER_VERSION = {"cloud": "DEFAULT", "operator": "INSTALLATION_DISABLED"}
# Node images: GKE's managed driver is built for COS; the GPU Operator's driver container runs on Ubuntu only.
IMAGE_TYPE = {"cloud": "COS_CONTAINERD", "operator": "UBUNTU_CONTAINERD"}
TAINT_EFFECT = {"NoSchedule": "NO_SCHEDULE", "PreferNoSchedule": "PREFER_NO_SCHEDULE", "NoExecute": "NO_EXECUTE"}
RESERVATION_KEY = "compute.googleapis.com/reservation-name"
# A regional cluster without explicit node locations spreads a pool over the region's default zones: three.
GKE_DEFAULT_REGIONAL_ZONES = 3


@dataclass(frozen=True)
class PoolPlan:
    """Everything one GKE node pool needs, decided before any resource exists."""
    spec: PoolSpec
    capacity: str
    node_pool: str                 # the GKE node pool name
    node_config: dict
    autoscaling: dict
    initial_node_count: int
    node_locations: Optional[list]
    upgrade_settings: dict
    descriptor: PoolDescriptor


def node_pool_name(pool: PoolSpec, capacity: str) -> str:
    return f"{pool.name}-{capacity}"


def compute_class_name(group: str) -> str:
    """The ComputeClass of a pool group, named after the group's first pool (spec/pools.py pool_groups)."""
    return f"llmfleet-{group}"


def plan_pool(pool: PoolSpec, capacity: str, settings: GcpSettings, cluster_zones: tuple, prices: dict,
              service_account=None, priority: int = 0, group: str = "", tags: Optional[dict] = None) -> PoolPlan:
    inst = pool.instance
    assert inst is not None and inst.accelerator, f"pool {pool.name}: no GKE accelerator in the catalog"
    name = node_pool_name(pool, capacity)
    driver = pool.driver
    owner = driver_ownership("gcp", pool.image, driver)
    gke_shares = driver == "cloud"

    accelerator: dict = {
        "type": inst.accelerator,
        "count": inst.gpus,
        "gpu_driver_installation_config": {"gpu_driver_version": DRIVER_VERSION[driver]},
    }
    labels = {LABEL_POOL: pool.name, LABEL_CAPACITY: capacity, LABEL_GPU: pool.gpu.key, **pool.labels,
              **nvidia_node_labels(pool.name, "gcp", owner, pool.sharing)}
    gke_labels = {GKE_NODEPOOL: name, GKE_ACCELERATOR: inst.accelerator}
    if gke_shares:
        gke_labels[GKE_DRIVER_VERSION] = "default"
    else:
        labels[GKE_NO_DEVICE_PLUGIN] = "true"
    # With the operator owning the device plugin, sharing is its job (labels above); GKE shares only its own.
    if pool.sharing.mode == "time-slicing" and gke_shares:
        accelerator["gpu_sharing_config"] = {"gpu_sharing_strategy": "TIME_SHARING",
                                             "max_shared_clients_per_gpu": pool.sharing.replicas}
        gke_labels[GKE_SHARING_STRATEGY] = "time-sharing"
        gke_labels[GKE_MAX_SHARED_CLIENTS] = str(pool.sharing.replicas)
    elif pool.sharing.mode == "mig" and gke_shares:
        accelerator["gpu_partition_size"] = pool.sharing.mig_profile
        gke_labels[GKE_PARTITION_SIZE] = pool.sharing.mig_profile

    taints = [GPU_TAINT, *[t for t in pool.taints if t.key != GPU_TAINT.key]]
    if settings.compute_class:
        cc = compute_class_name(group or pool.name)
        labels[COMPUTE_CLASS] = cc
        taints.append(Taint(COMPUTE_CLASS, cc, "NoSchedule"))
    if capacity == "spot":
        gke_labels[GKE_SPOT] = "true"

    node_config: dict = {
        "machine_type": inst.name,
        "guest_accelerators": [accelerator],
        "image_type": IMAGE_TYPE[driver],
        "disk_size_gb": pool.disk_gb,
        # Model weights and multi-GB serving images are read at start: SSD-backed balanced disks cut cold start.
        "disk_type": "pd-balanced",
        "labels": labels,
        "taints": [{"key": t.key, "value": t.value, "effect": TAINT_EFFECT[t.effect]} for t in taints],
        "spot": capacity == "spot",
        "service_account": service_account,
        # The account's roles limit what nodes can do; the broad scope only stops scopes from second-guessing IAM.
        "oauth_scopes": ["https://www.googleapis.com/auth/cloud-platform"],
        # Pods see the GKE metadata server, so Workload Identity (not the node account) is what they authenticate as.
        "workload_metadata_config": {"mode": "GKE_METADATA"},
        # A3 machine types require gVNIC; it is also the faster NIC for every other GPU type.
        "gvnic": {"enabled": True},
        # Secure Boot only admits signed kernel modules: GKE's drivers are signed, the operator's are not.
        "shielded_instance_config": {"enable_secure_boot": driver == "cloud", "enable_integrity_monitoring": True},
        # Cost allocation: GKE bills a node pool's VMs under these labels (spec.cluster.tags).
        "resource_labels": {**(tags or {}), "llmfleet-pool": pool.name, "llmfleet-capacity": capacity},
    }
    if capacity == "reserved":
        node_config["reservation_affinity"] = {"consume_reservation_type": "SPECIFIC_RESERVATION",
                                               "key": RESERVATION_KEY, "values": [pool.reservation]}

    # The baseline (minNodes) lives on the preferred capacity type only; every fallback pool scales from zero to
    # maxNodes, so that it can carry the whole pool when the preferred capacity is unavailable.
    min_nodes = pool.min_nodes if capacity == pool.capacity[0] else 0
    zones = list(pool.zones or cluster_zones) or None
    autoscaling = {
        # Total limits: the spec's min/max count nodes of the pool, not nodes per zone.
        "total_min_node_count": min_nodes,
        "total_max_node_count": pool.max_nodes,
        # ANY lets the autoscaler go wherever capacity (spot or unused reservations) exists; on-demand pools
        # stay balanced across zones for availability.
        "location_policy": "BALANCED" if capacity == "on-demand" else "ANY",
    }
    # Every GPU pool starts empty: initial_node_count is per zone (two a3-highgpu-8g at the first `up` for a
    # baseline of 1 over two zones), while total_min_node_count already carries the baseline.
    initial = 0

    price = prices.get(price_key("gcp", inst.name))
    descriptor = PoolDescriptor(
        name=pool.name, cloud="gcp", capacity=capacity, node_group=name, gpu=pool.gpu, gpus_per_node=inst.gpus,
        instance_type=inst.name, node_labels={**labels, **gke_labels}, taints=tuple(taints), sharing=pool.sharing,
        driver=owner, min_nodes=min_nodes, max_nodes=pool.max_nodes,
        price_hour=price.for_capacity(capacity) if price else 0.0, priority=priority)
    return PoolPlan(spec=pool, capacity=capacity, node_pool=name, node_config=node_config, autoscaling=autoscaling,
                    initial_node_count=initial, node_locations=zones,
                    upgrade_settings=upgrade_settings(min_nodes), descriptor=descriptor)


def upgrade_settings(baseline: int) -> dict:
    """Node upgrades one node at a time. A pool whose baseline fits on one node would lose its only node with
    max_unavailable=1 (the model goes down for the whole drain and re-create): it surges one extra node first, which
    needs quota for one more node of the type. Larger pools keep serving on their other nodes and need no extra
    quota."""
    if baseline <= 1:
        return {"strategy": "SURGE", "max_surge": 1, "max_unavailable": 0}
    return {"strategy": "SURGE", "max_surge": 0, "max_unavailable": 1}


def plan_pools(pools, settings: GcpSettings, cluster_zones: tuple, prices: dict, service_account=None,
               groups: Optional[dict] = None, tags: Optional[dict] = None) -> list:
    priorities = capacity_priorities(pools)
    groups = groups or {}
    return [plan_pool(p, c, settings, cluster_zones, prices, service_account, priorities[(p.name, c)],
                      groups.get(p.name, p.name), tags)
            for p in pools for c in p.capacity]
