"""GPU node groups as the stack's cloud resources declare them, priced the way the cost report prices them.

The pack sees resources, not the llmfleet spec, so it reads each cloud's own node group type. Prices come from
catalog/prices.py plus the stack's `llmfleet:prices` overrides (handed over in the policy config), and a group
costs `$/h x nodes x 730 h`, rounded per group to the cent: plan/cost.py's rule, so both agree to the cent.
"""
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Optional

from catalog.gpus import instance
from catalog.prices import HOURS_PER_MONTH, PRICES, Price, price_key

KARPENTER_NODEPOOL = "kubernetes:karpenter.sh/v1:NodePool"


@dataclass(frozen=True)
class GpuGroup:
    urn: str
    name: str
    cloud: str
    instance_type: str
    gpu: str
    gpus_per_node: int
    capacity: str              # on-demand | spot | reserved
    min_nodes: int
    max_nodes: int


def _int(value: Any) -> int:
    return int(value) if isinstance(value, (int, float)) else 0


def _aws_node_group(r, siblings) -> Optional[tuple]:
    p = r.props
    types = list(p.get("instanceTypes") or [])
    if not types:
        # Capacity Block groups name their type in the launch template, and in the tag the program puts on them
        # (components/aws/nodegroups.py INSTANCE_TYPE_TAG): a resource policy sees only the group, not its siblings.
        tagged = (p.get("tags") or {}).get("llmfleet.io/instance-type")
        types = [tagged] if tagged else [s.props["instanceType"] for s in siblings
                                         if s.resource_type == "aws:ec2/launchTemplate:LaunchTemplate"
                                         and s.props.get("instanceType")]
    capacity = {"SPOT": "spot", "CAPACITY_BLOCK": "reserved"}.get(p.get("capacityType"), "on-demand")
    scaling = p.get("scalingConfig") or {}
    return "aws", types[:1], capacity, _int(scaling.get("minSize")), _int(scaling.get("maxSize"))


def _karpenter_node_pool(r, siblings) -> Optional[tuple]:
    spec = (r.props.get("spec") or {})
    reqs = {q.get("key"): q.get("values") or [] for q in (spec.get("template") or {}).get("spec", {}).get(
        "requirements", []) if q.get("operator") == "In"}
    kinds = set(reqs.get("karpenter.sh/capacity-type") or ["on-demand"])
    # Several capacity types allowed: price the dearest one the pool may launch.
    capacity = "on-demand" if "on-demand" in kinds else ("reserved" if "reserved" in kinds else "spot")
    types = list(reqs.get("node.kubernetes.io/instance-type") or [])
    limits = spec.get("limits") or {}
    inst = instance("aws", types[0]) if types else None
    max_nodes = _int(limits.get("nodes"))
    if not max_nodes and inst and limits.get("nvidia.com/gpu"):
        max_nodes = _int(limits["nvidia.com/gpu"]) // inst.gpus
    return "aws", types[:1], capacity, 0, max_nodes


def _gke_node_pool(r, siblings) -> Optional[tuple]:
    p = r.props
    config = p.get("nodeConfig") or {}
    auto = p.get("autoscaling") or {}
    zones = max(1, len(p.get("nodeLocations") or []))
    if "totalMaxNodeCount" in auto:
        lo, hi = _int(auto.get("totalMinNodeCount")), _int(auto.get("totalMaxNodeCount"))
    elif auto:
        lo, hi = _int(auto.get("minNodeCount")) * zones, _int(auto.get("maxNodeCount")) * zones
    else:
        lo = hi = _int(p.get("nodeCount")) * zones
    capacity = "spot" if config.get("spot") or config.get("preemptible") else (
        "reserved" if (config.get("reservationAffinity") or {}).get("consumeReservationType")
        in ("SPECIFIC_RESERVATION", "ANY_RESERVATION") else "on-demand")
    return "gcp", [config.get("machineType")], capacity, lo, hi


def _aks_agent_pool(r, siblings) -> Optional[tuple]:
    p = r.props
    capacity = "spot" if p.get("scaleSetPriority") == "Spot" else "on-demand"
    if p.get("enableAutoScaling"):
        lo, hi = _int(p.get("minCount")), _int(p.get("maxCount"))
    else:
        lo = hi = _int(p.get("count"))
    return "azure", [p.get("vmSize")], capacity, lo, hi


EXTRACTORS = {
    "aws:eks/nodeGroup:NodeGroup": _aws_node_group,
    KARPENTER_NODEPOOL: _karpenter_node_pool,
    "gcp:container/nodePool:NodePool": _gke_node_pool,
    "azure-native:containerservice:AgentPool": _aks_agent_pool,
}


def _parent_urn(r) -> Optional[str]:
    parent = getattr(r, "parent", None)
    return getattr(parent, "urn", parent)


def gpu_groups(resources: Iterable[Any]) -> list[GpuGroup]:
    """Every node group whose type carries GPUs (CPU groups are left out). `resources` are PolicyResources."""
    resources = list(resources)
    by_parent: dict = {}
    for r in resources:
        by_parent.setdefault(_parent_urn(r), []).append(r)
    out = []
    for r in resources:
        extract = EXTRACTORS.get(r.resource_type)
        if not extract:
            continue
        cloud, types, capacity, lo, hi = extract(r, by_parent.get(_parent_urn(r), []))
        inst = instance(cloud, types[0]) if types and types[0] else None
        if inst is None:
            continue
        out.append(GpuGroup(r.urn, r.name, cloud, inst.name, inst.gpu, inst.gpus, capacity, lo, hi))
    return out


def prices(overrides: Optional[Mapping[str, Mapping[str, Any]]]) -> dict[str, Price]:
    """The catalog with the stack's overrides (`llmfleet:prices`, as the policy config carries them)."""
    out = dict(PRICES)
    for key, row in (overrides or {}).items():
        out[key] = Price(float(row["onDemand"]), row.get("spot"), "stack override", row.get("asOf", ""),
                         "llmfleet:prices")
    return out


def hourly(group: GpuGroup, table: Mapping[str, Price]) -> float:
    price = table.get(price_key(group.cloud, group.instance_type))
    return price.for_capacity(group.capacity) if price else 0.0


def monthly_at_max(groups: Iterable[GpuGroup], table: Mapping[str, Price],
                   existing: Iterable[Mapping[str, Any]] = ()) -> float:
    """GPU $/month with every group at its maximum, plus an existing cluster's declared pools."""
    total = sum(round(hourly(g, table) * g.max_nodes * HOURS_PER_MONTH, 2) for g in groups)
    total += sum(round(float(p.get("pricePerHour") or 0) * int(p.get("maxNodes") or 0) * HOURS_PER_MONTH, 2)
                 for p in existing)
    return round(total, 2)
