"""Checks for `llmfleet:cluster.aws.autoscaler: karpenter` that need the pools (called from spec/clouds/aws.py).

Karpenter turns each (GPU pool, capacity type) into a NodePool. What a NodePool cannot express is rejected here,
before any resource exists, with one line per problem.
"""
from typing import Optional, Sequence

from spec.reader import Problems

# NodePool `spec.weight` is an int32 between 1 and 100 (karpenter.sh_nodepools.yaml, v1.14.1): one distinct weight
# per (pool, capacity type) keeps the cross-pool preference order, so at most 100 of them.
MAX_NODEPOOLS = 100


def check_karpenter(pools: Sequence, problems: Problems, prefix: str = "llmfleet",
                    paths: Optional[Sequence[str]] = None) -> None:
    pairs = 0
    for i, pool in enumerate(pools):
        path = paths[i] if paths else f"{prefix}:gpuPools[{i}]"
        pairs += len(pool.capacity)
        if pool.min_nodes > 0:
            # A NodePool has no minimum size: Karpenter launches nodes for pending pods and removes empty ones.
            # Warm capacity comes from the workload instead (a model's `replicas.min` keeps its nodes).
            problems.add(f"{path}.minNodes", "must be 0 with cluster.aws.autoscaler karpenter (a Karpenter NodePool "
                                             "has no minimum size; keep nodes warm with a model's replicas.min), "
                                             f"got {pool.min_nodes}")
        if pool.sharing.mode != "none":
            # Karpenter sizes a node by the instance type's physical GPUs (nvidia.com/gpu); it knows neither the
            # time-sliced replicas nor MIG resources (nvidia.com/mig-*), so it would over-provision time-sliced
            # pools and never launch a node for a MIG request.
            problems.add(f"{path}.sharing.mode", f"{pool.sharing.mode} needs cluster.aws.autoscaler "
                                                 "cluster-autoscaler (Karpenter plans nodes by whole GPUs); "
                                                 "use sharing mode none with karpenter")
    if pairs > MAX_NODEPOOLS:
        problems.add(f"{prefix}:gpuPools", f"with karpenter every (pool, capacity type) is a NodePool with its own "
                                           f"weight (1-{MAX_NODEPOOLS}): at most {MAX_NODEPOOLS}, got {pairs}")
