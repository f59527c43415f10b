"""One AKS agent pool per (GPU pool, capacity type): its inputs and the descriptor the layers above consume.

Pure planning (no Pulumi resources): `AksCluster` turns each `AgentPoolPlan` into a
`containerservice.AgentPool`, and tests read the plans and descriptors directly.

AKS facts used here (AKS "spot node pools", "GPU node pools" and "multi-instance GPU" docs, read 2026-11):
- A spot pool's nodes carry the label and taint `kubernetes.azure.com/scalesetpriority=spot(:NoSchedule)`. AKS
  adds both itself and stores them in the pool's nodeLabels/nodeTaints; a later PUT without them may drop them
  (Azure/AKS#3152, the reason cluster-api-provider-azure merges them back before every update; the azurerm
  Terraform provider likewise tells Spot users to declare them). This program declares both explicitly, so desired
  state equals what AKS stores and no update ever removes them.
- GPU nodes carry `kubernetes.azure.com/accelerator=nvidia` (set by AKS, not by us).
- `gpuProfile.driver`: Install (AKS installs the NVIDIA driver, the default) or None (the GPU Operator does).
- `gpuInstanceProfile` MIG1g..MIG7g partitions every GPU at pool creation (cannot be changed later).
"""
from dataclasses import dataclass
from typing import Optional, Sequence

from catalog.prices import price_key
from components.descriptors import (GPU_TAINT, LABEL_CAPACITY, LABEL_GPU, LABEL_POOL, PoolDescriptor,
                                    capacity_priorities, driver_ownership)
from components.nvidia.labels import gpu_resource, mig_partitioned_by, nvidia_node_labels
from spec.clouds.azure import AzureSettings, aks_pool_name, mig_instance_profile
from spec.pools import PoolSpec, Taint

AKS_SPOT_KEY = "kubernetes.azure.com/scalesetpriority"
AKS_SPOT_TAINT = Taint(AKS_SPOT_KEY, "spot", "NoSchedule")
AKS_ACCELERATOR = "kubernetes.azure.com/accelerator"
GPU_DRIVER = {"cloud": "Install", "operator": "None"}
# cluster-autoscaler scale-from-zero template tags on the scale set (kubernetes/autoscaler cloudprovider/azure
# azure_template.go, FACTS-cluster.md 2.2). With no node in the pool, the template knows only the VM size's
# cpu/memory/`nvidia.com/gpu`, labels it predicts (no accelerator label for H100/H200 SKUs) and what these tags
# say; on the scale-set path taints come from tags only.
CA_TAG_LABEL = "k8s.io_cluster-autoscaler_node-template_label_"
CA_TAG_TAINT = "k8s.io_cluster-autoscaler_node-template_taint_"
CA_TAG_RESOURCE = "k8s.io_cluster-autoscaler_node-template_resources_"


@dataclass(frozen=True)
class AgentPoolPlan:
    spec: PoolSpec
    capacity: str
    name: str                           # the AKS agent pool name
    vm_size: str
    min_nodes: int
    max_nodes: int
    zones: tuple[str, ...]
    labels: dict                        # what we put in nodeLabels
    taints: tuple[Taint, ...]           # what we put in nodeTaints
    gpu_driver: str                     # gpuProfile.driver
    gpu_instance_profile: Optional[str]
    spot: bool
    descriptor: PoolDescriptor
    template_tags: dict                 # cluster-autoscaler node-template tags (scale from zero)


def taint_string(t: Taint) -> str:
    """AKS nodeTaints syntax: key=value:Effect."""
    return f"{t.key}={t.value}:{t.effect}"


def label_tag_key(key: str) -> str:
    """A label or taint key in a CA tag name: `_` is written `~2`, then `/` becomes `_` (Azure tag names may not
    contain `/`; the autoscaler reverses both)."""
    return key.replace("_", "~2").replace("/", "_")


def resource_tag_key(name: str) -> str:
    """A resource name in a CA tag name: `/` is written `~2` (resources are decoded `~2` -> `/` only)."""
    return name.replace("/", "~2")


def template_tags(labels: dict, taints, resource: Optional[tuple[str, int]]) -> dict:
    tags = {CA_TAG_LABEL + label_tag_key(k): v for k, v in labels.items()}
    tags.update({CA_TAG_TAINT + label_tag_key(t.key): f"{t.value}:{t.effect}" for t in taints})
    if resource is not None:
        tags[CA_TAG_RESOURCE + resource_tag_key(resource[0])] = str(resource[1])
    return tags


def plan_pool(pool: PoolSpec, capacity: str, prices: dict, priority: int = 0,
              mig_strategy: str = "mixed") -> AgentPoolPlan:
    inst = pool.instance
    assert inst is not None, f"pool {pool.name}: no Azure VM size (spec validation lets none through)"
    name = aks_pool_name(pool.name, capacity)
    spot = capacity == "spot"
    own = driver_ownership("azure", pool.image, pool.driver)

    labels = {LABEL_POOL: pool.name, LABEL_CAPACITY: capacity, LABEL_GPU: pool.gpu.key, **pool.labels,
              **nvidia_node_labels(pool.name, "azure", own, pool.sharing)}
    if spot:
        labels[AKS_SPOT_KEY] = "spot"
    taints = [GPU_TAINT, *[t for t in pool.taints if t.key not in (GPU_TAINT.key, AKS_SPOT_KEY)]]
    if spot:
        taints.append(AKS_SPOT_TAINT)

    instance_profile = None
    if pool.sharing.mode == "mig" and mig_partitioned_by("azure", own) == "cloud":
        instance_profile = mig_instance_profile(pool.gpu, pool.sharing.mig_profile)
        assert instance_profile, f"pool {pool.name}: spec validation lets no MIG profile without an AKS profile"

    # The baseline (minNodes) lives on the preferred capacity type only; every fallback pool scales from zero to
    # maxNodes, so that it can carry the whole pool when the preferred capacity is unavailable.
    min_nodes = pool.min_nodes if capacity == pool.capacity[0] else 0
    price = prices.get(price_key("azure", inst.name))
    descriptor = PoolDescriptor(
        name=pool.name, cloud="azure", capacity=capacity, node_group=name, gpu=pool.gpu, gpus_per_node=inst.gpus,
        instance_type=inst.name,
        # Every label the nodes carry, AKS's own accelerator label included (layers may select on it).
        node_labels={**labels, AKS_ACCELERATOR: "nvidia"}, taints=tuple(taints), sharing=pool.sharing,
        driver=own, min_nodes=min_nodes, max_nodes=pool.max_nodes,
        price_hour=price.for_capacity(capacity) if price else 0.0, priority=priority)
    # Shared GPUs advertise another count (time-slicing) or another resource (MIG mixed) than the VM size's
    # GPU count the autoscaler assumes: without the tag a MIG pool at zero never scales up for a MIG request, and a
    # time-sliced pool adds one node per GPU-slice request.
    resource = gpu_resource(descriptor, mig_strategy) if pool.sharing.mode != "none" else None
    tags = template_tags(descriptor.node_labels, taints, resource)
    return AgentPoolPlan(
        spec=pool, capacity=capacity, name=name, vm_size=inst.name, min_nodes=min_nodes, max_nodes=pool.max_nodes,
        zones=pool.zones, labels=labels, taints=tuple(taints), gpu_driver=GPU_DRIVER[pool.driver],
        gpu_instance_profile=instance_profile, spot=spot, descriptor=descriptor, template_tags=tags)


def plan_pools(pools: Sequence[PoolSpec], prices: dict, mig_strategy: str = "mixed") -> list[AgentPoolPlan]:
    priorities = capacity_priorities(pools)
    return [plan_pool(p, c, prices, priorities[(p.name, c)], mig_strategy) for p in pools for c in p.capacity]


def upgrade_settings(plan: AgentPoolPlan) -> Optional[dict]:
    """Node image and Kubernetes upgrades one node at a time. A pool whose baseline is one node surges one extra
    node first (quota for one more VM of the size) instead of draining its only node; larger pools drain one node
    at a time without extra quota. Spot pools get none: AKS does not surge Spot pools (AKS Spot docs, recalled,
    not re-read offline) and a Spot node can be evicted at any time anyway."""
    if plan.spot:
        return None
    if plan.min_nodes <= 1:
        return {"max_surge": "1", "max_unavailable": "0"}
    return {"max_surge": "0", "max_unavailable": "1"}


def agent_pool_inputs(plan: AgentPoolPlan, settings: AzureSettings) -> dict:
    """Keyword arguments of `containerservice.AgentPool` for one plan, minus the cluster/subnet references."""
    inputs: dict = {
        "agent_pool_name": plan.name,
        "mode": "User",
        "type": "VirtualMachineScaleSets",
        "os_type": "Linux",
        "os_sku": settings.os_sku,
        "vm_size": plan.vm_size,
        # Model weights and multi-GB serving images land on the OS disk; AKS picks an ephemeral OS disk when the
        # VM's local disk is large enough for this size, else a managed disk.
        "os_disk_size_gb": plan.spec.disk_gb,
        "enable_auto_scaling": True,
        "min_count": plan.min_nodes,
        "max_count": plan.max_nodes,
        # Only the initial size: the autoscaler owns it afterwards (AksCluster ignores later drift of `count`).
        "count": plan.min_nodes,
        "node_labels": dict(plan.labels),
        "node_taints": [taint_string(t) for t in plan.taints],
        "gpu_profile": {"driver": plan.gpu_driver},
        "scale_set_priority": "Spot" if plan.spot else "Regular",
        # AKS copies agent pool tags onto the pool's scale set, where the autoscaler reads the template tags.
        "tags": {"llmfleet-pool": plan.spec.name, "llmfleet-capacity": plan.capacity, **plan.template_tags},
    }
    upgrade = upgrade_settings(plan)
    if upgrade:
        inputs["upgrade_settings"] = upgrade
    if plan.spot:
        # Delete, not Deallocate: deallocated spot VMs keep counting against the GPU quota and block scale-up.
        inputs["scale_set_eviction_policy"] = "Delete"
        inputs["spot_max_price"] = settings.spot_max_price
    if plan.gpu_instance_profile:
        inputs["gpu_instance_profile"] = plan.gpu_instance_profile
    if plan.zones:
        inputs["availability_zones"] = list(plan.zones)
    return inputs
