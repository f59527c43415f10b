"""Pool descriptors: what a cluster component tells the layers above it about each GPU node group.

Cluster components (one per cloud, plus existing clusters) compute these once; the NVIDIA and serving layers
consume them and never re-derive cloud facts (labels, taints, who installs the driver).
"""
from dataclasses import dataclass, field
from typing import Optional, Sequence

from catalog.gpus import GpuModel
from catalog.drivers import OWNERS, DriverOwnership, driver_ownership  # noqa: F401 (re-exported)
from spec.pools import PoolSpec, Sharing, Taint

# Every GPU node this program creates carries these labels, whatever the cloud.
LABEL_POOL = "llmfleet.io/pool"
LABEL_CAPACITY = "llmfleet.io/capacity"
LABEL_GPU = "llmfleet.io/gpu"
# Every CPU node this program creates says what it is for (system, general), on every cloud: add-ons select it.
LABEL_ROLE = "llmfleet.io/node-role"
GPU_TAINT = Taint("nvidia.com/gpu", "present", "NoSchedule")
GKE_COMPUTE_CLASS = "cloud.google.com/compute-class"

@dataclass(frozen=True)
class PoolDescriptor:
    name: str                              # the spec pool name
    cloud: str
    capacity: str                          # on-demand | spot | reserved
    node_group: str                        # the node group / node pool / agent pool name in the cloud
    gpu: GpuModel
    gpus_per_node: int
    instance_type: Optional[str]
    node_labels: dict = field(default_factory=dict)    # labels every node of the group carries
    taints: tuple[Taint, ...] = ()                     # taints every node of the group carries
    sharing: Sharing = Sharing()
    driver: DriverOwnership = DriverOwnership("image", "image", "operator")
    min_nodes: int = 0
    max_nodes: int = 0
    price_hour: float = 0.0                # per node, for this capacity type
    priority: int = 0                      # autoscaler preference (higher = preferred)

    def node_selector(self) -> dict:
        """Selects this group's nodes: our pool label where we own the nodes, else the declared labels."""
        if LABEL_POOL in self.node_labels:
            selector = {LABEL_POOL: self.node_labels[LABEL_POOL]}
            # GKE only applies a ComputeClass's fallback order to pods that select the class.
            if GKE_COMPUTE_CLASS in self.node_labels:
                selector[GKE_COMPUTE_CLASS] = self.node_labels[GKE_COMPUTE_CLASS]
            return selector
        return dict(self.node_labels)

    def tolerations(self) -> list[dict]:
        """Tolerations for exactly this group's taints. The GPU taint is tolerated with Exists (values differ
        between projects); any other taint is matched by value."""
        out = []
        for t in self.taints:
            if t.key == GPU_TAINT.key:
                out.append({"key": t.key, "operator": "Exists", "effect": t.effect})
            else:
                out.append({"key": t.key, "operator": "Equal", "value": t.value, "effect": t.effect})
        return out


def capacity_exclusion(capacities: Sequence[str]) -> dict:
    """A node selector requirement that keeps a pod off the given capacity types. Every node group a cluster
    component creates carries LABEL_CAPACITY, on every cloud (EKS managed node groups, Karpenter NodePools, GKE
    node pools, AKS agent pools), next to the cloud's own marker (`eks.amazonaws.com/capacityType`,
    `karpenter.sh/capacity-type`, `cloud.google.com/gke-spot`, `kubernetes.azure.com/scalesetpriority`), so one
    key covers them all and the autoscalers see it on their templates. NotIn also matches a node without the label
    (existing clusters' nodes, which this program never treats as spot)."""
    return {"key": LABEL_CAPACITY, "operator": "NotIn", "values": sorted(capacities)}


def capacity_priorities(pools: Sequence[PoolSpec]) -> dict[tuple[str, str], int]:
    """(pool, capacity) -> autoscaler preference, higher first, the same rule on every cloud: pools in stack order
    (the first pool is the preferred GPU, later pools are fallbacks), then each pool's capacity chain.
    cluster-autoscaler's priority expander and GKE ComputeClass both read "higher = preferred"."""
    out = {}
    for pi, pool in enumerate(pools):
        for ci, capacity in enumerate(pool.capacity):
            out[(pool.name, capacity)] = (len(pools) - pi) * 100 + (len(pool.capacity) - ci) * 10
    return out


def all_tolerations(pools) -> list[dict]:
    """The union of the pools' tolerations, without duplicates (for DaemonSets that run on every GPU node)."""
    seen, out = set(), []
    for p in pools:
        for t in p.tolerations():
            k = tuple(sorted(t.items()))
            if k not in seen:
                seen.add(k)
                out.append(t)
    return out
