"""The Karpenter custom resources as plain dicts: one EC2NodeClass per (AMI family, disk size) and one NodePool per
(GPU pool, capacity type). Pure functions, so tests and the component share one definition.

Field names and limits are those of the v1.14.1 CRDs in shared/crds/karpenter/ (karpenter.sh/v1 NodePool,
karpenter.k8s.aws/v1 EC2NodeClass).
"""
from typing import Any, Sequence

from catalog.versions import KARPENTER_AMI_ALIASES
from components.aws.nodegroups import BOTTLEROCKET_OS_GB, DATA_DEVICE, OS_DEVICE
from components.descriptors import PoolDescriptor
from components.platform import MANAGED_BY
from spec.pools import AWS_IMAGES, PoolSpec

NODEPOOL_API = "karpenter.sh/v1"
NODECLASS_API = "karpenter.k8s.aws/v1"
NODECLASS_GROUP = "karpenter.k8s.aws"
DISCOVERY_TAG = "karpenter.sh/discovery"
# Bottlerocket's OS volume (/dev/xvda); Karpenter's own default for the family. Images live on the data volume.
BOTTLEROCKET_OS_VOLUME = f"{BOTTLEROCKET_OS_GB}Gi"
# GPU nodes take minutes to boot and load a model: an empty node is kept this long before it is removed, so a
# replica that is rescheduled (or a burst that returns) finds it still there. cluster-autoscaler's default
# scale-down-unneeded-time is the same.
CONSOLIDATE_AFTER = "10m"
WEIGHT_MIN, WEIGHT_MAX = 1, 100          # NodePool spec.weight bounds (CRD minimum/maximum)


def nodeclass_name(pool: PoolSpec) -> str:
    """One EC2NodeClass per AMI family and disk size: the disk lives in the class, so pools of one family with
    different disks need their own."""
    return f"{pool.image}-{pool.disk_gb}gb"


def nodepool_weights(priorities: dict[str, int]) -> dict[str, int]:
    """NodePool name -> weight in 1..100 (Karpenter tries the highest weight first), keeping the order of
    `capacity_priorities` (whose numbers go past 100). Ranks spaced 10 apart while they fit, closer when there
    are more than 10 NodePools; spec/clouds/karpenter.py caps them at 100 so every one keeps a distinct weight."""
    ranked = sorted(set(priorities.values()), reverse=True)
    if len(ranked) > WEIGHT_MAX:
        raise ValueError(f"{len(ranked)} NodePools cannot have distinct weights in {WEIGHT_MIN}..{WEIGHT_MAX}")
    step = min(10, (WEIGHT_MAX - WEIGHT_MIN) // max(len(ranked) - 1, 1))
    by_priority = {p: WEIGHT_MAX - i * step for i, p in enumerate(ranked)}
    return {name: by_priority[p] for name, p in priorities.items()}


def _ebs(size: str) -> dict:
    return {"volumeSize": size, "volumeType": "gp3", "encrypted": True, "deleteOnTermination": True}


def block_devices(image: str, disk_gb: int) -> list[dict]:
    """Same disks as the managed node groups' launch templates: the pool's disk holds images and ephemeral
    storage (`rootVolume` tells Karpenter which device the kubelet uses, for its ephemeral-storage estimate).
    Karpenter replaces its defaults with this list, so Bottlerocket's OS volume is listed too."""
    data = DATA_DEVICE[AWS_IMAGES[image]]
    devices = []
    if data != OS_DEVICE:
        devices.append({"deviceName": OS_DEVICE, "ebs": _ebs(BOTTLEROCKET_OS_VOLUME)})
    devices.append({"deviceName": data, "rootVolume": True, "ebs": _ebs(f"{disk_gb}Gi")})
    return devices


def nodeclass_spec(pool: PoolSpec, cluster: str, role: Any, reservations: Sequence[str], tags: dict) -> dict:
    spec = {
        "role": role,
        # Pinned (catalog/versions.py): a new AMI reaches nodes only when the pin changes, through drift.
        "amiSelectorTerms": [{"alias": KARPENTER_AMI_ALIASES[pool.image]}],
        # The private subnets carry the discovery tag (components/aws/network.py); the EKS cluster security group
        # gets it from the Karpenter component.
        "subnetSelectorTerms": [{"tags": {DISCOVERY_TAG: cluster}}],
        "securityGroupSelectorTerms": [{"tags": {DISCOVERY_TAG: cluster}}],
        "blockDeviceMappings": block_devices(pool.image, pool.disk_gb),
        # IMDSv2 only, hop limit 1: model servers have no business with the node's instance role.
        "metadataOptions": {"httpEndpoint": "enabled", "httpProtocolIPv6": "disabled",
                            "httpPutResponseHopLimit": 1, "httpTokens": "required"},
        "tags": dict(tags),
    }
    if reservations:
        # On-Demand Capacity Reservations and Capacity Blocks alike: Karpenter reads the type from EC2.
        spec["capacityReservationSelectorTerms"] = [{"id": r} for r in sorted(set(reservations))]
    return spec


def _taint(t) -> dict:
    out = {"key": t.key, "effect": t.effect}
    if t.value:
        out["value"] = t.value
    return out


def nodepool_spec(d: PoolDescriptor, pool: PoolSpec, zones: Sequence[str], weight: int) -> dict:
    requirements = [
        {"key": "node.kubernetes.io/instance-type", "operator": "In", "values": [d.instance_type]},
        # on-demand | spot | reserved: the spec's capacity words are Karpenter's capacity types.
        {"key": "karpenter.sh/capacity-type", "operator": "In", "values": [d.capacity]},
        {"key": "topology.kubernetes.io/zone", "operator": "In", "values": list(pool.zones or zones)},
    ]
    if d.capacity == "reserved" and pool.reservation:
        # The class may list several pools' reservations; this NodePool launches only into its own.
        requirements.append({"key": "karpenter.k8s.aws/capacity-reservation-id", "operator": "In",
                             "values": [pool.reservation]})
    return {
        "weight": weight,
        "template": {
            "metadata": {"labels": dict(d.node_labels)},
            "spec": {
                "nodeClassRef": {"group": NODECLASS_GROUP, "kind": "EC2NodeClass", "name": nodeclass_name(pool)},
                "requirements": requirements,
                "taints": [_taint(t) for t in d.taints],
                # No expiry: an expired node is drained even while it serves, and with a pinned AMI a replacement
                # would boot the same image. AMI updates roll through drift when the pin changes.
                "expireAfter": "Never",
            },
        },
        # The pool's maxNodes, per capacity type (as each managed node group's maximum): in nodes, and in GPUs.
        "limits": {"nodes": d.max_nodes, "nvidia.com/gpu": d.max_nodes * d.gpus_per_node},
        "disruption": {
            # Only empty GPU nodes are consolidated: a node serving a model replica is never packed elsewhere.
            "consolidationPolicy": "WhenEmpty",
            "consolidateAfter": CONSOLIDATE_AFTER,
            # At most one node of the pool disrupted at a time (drift after an AMI pin change, empty nodes), so
            # replicas that take minutes to load are replaced one by one. Spot interruptions are not voluntary
            # and not limited by budgets.
            "budgets": [{"nodes": "1"}],
        },
    }
