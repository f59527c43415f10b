"""The capacity fallback chain as GKE ComputeClasses: one per GPU pool, one priority per node pool, chain order.

Field names follow GKE's ComputeClass CRD (`cloud.google.com/v1`, as served by GKE 1.33+; reference page
"ComputeClass" in GKE's docs). A priority that names `nodepools` may carry no other field (a CEL rule in the CRD),
so the machine type, Spot flag, GPU and reservation of each step are the node pool's own configuration; naming
the pools keeps the order exact, where attribute rules could match several of our pools at once.
GKE only uses a manually created node pool for a class when the pool carries the class label and taint
(nodepools.COMPUTE_CLASS), and pods opt in with the nodeSelector `cloud.google.com/compute-class: <class>`
(GKE then adds the matching toleration itself).
"""
from typing import Sequence

from components.descriptors import LABEL_POOL
from components.gcp.nodepools import PoolPlan, compute_class_name
from components.platform import MANAGED_BY
from spec.pools import PoolSpec

API_VERSION = "cloud.google.com/v1"
KIND = "ComputeClass"


def compute_class(group: str, plans: Sequence[PoolPlan]) -> dict:
    """The ComputeClass object (cluster-scoped) for one pool group: every node pool of the group's pools, in the
    autoscaler's order (pools in stack order, then each pool's capacity chain: the descriptors' priority)."""
    ordered = sorted(plans, key=lambda p: -p.descriptor.priority)
    chain = " > ".join(p.node_pool for p in ordered)
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {"name": compute_class_name(group),
                     "labels": {**MANAGED_BY, LABEL_POOL: group}},
        "spec": {
            "description": f"llmfleet pools {', '.join(dict.fromkeys(p.spec.name for p in ordered))}: {chain}",
            "priorities": [{"nodepools": [p.node_pool]} for p in ordered],
            # Our node pools exist with fixed GPU settings; GKE must not invent new ones for this class.
            "nodePoolAutoCreation": {"enabled": False},
            # When every step is exhausted, wait (pods stay Pending) rather than scale pools outside the chain.
            "whenUnsatisfiable": "DoNotScaleUp",
        },
    }
