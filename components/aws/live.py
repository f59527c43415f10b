"""What the program reads from the live account before registering resources: a node group's desired size.

The cluster-autoscaler owns a node group's desired size, so the program ignores changes to it
(components/aws/nodegroups.py). But EKS rejects a scaling config whose desired size lies outside [min, max]: raising
`minNodes` above the live size, or lowering `maxNodes` below it, would fail `pulumi up` with the old desired size
the engine sends for an ignored property. Reading the live size lets the program send a desired size inside the new
bounds exactly when that happens, and leave it to the autoscaler otherwise.
"""
from typing import Optional

import pulumi
import pulumi_aws as aws


def live_desired_size(cluster: str, node_group: str, provider: aws.Provider) -> Optional[int]:
    """The node group's current desired size, or None when it does not exist yet (first `up`, a new group) or
    cannot be read; then the program behaves as before (desired = minimum on create, ignored afterwards)."""
    try:
        found = aws.eks.get_node_group(cluster_name=cluster, node_group_name=node_group,
                                       opts=pulumi.InvokeOptions(provider=provider))
    except Exception:    # ResourceNotFoundException on a new cluster or group; anything else: fall back safely
        return None
    configs = found.scaling_configs or []
    return int(configs[0].desired_size) if configs else None


def desired_size(live: Optional[int], min_nodes: int, max_nodes: int) -> Optional[int]:
    """The desired size to send when the live one falls outside the new bounds (the nearest bound), else None."""
    if live is None or min_nodes <= live <= max_nodes:
        return None
    return min(max(live, min_nodes), max_nodes)
