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


def compute_class(pool: PoolSpec, plans: Sequence[PoolPlan]) -> dict:
    """The ComputeClass object (cluster-scoped) for one pool, priorities in the pool's capacity order."""
    ordered = sorted((p for p in plans if p.spec.name == pool.name), key=lambda p: pool.capacity.index(p.capacity))
    chain = " > ".join(p.capacity for p in ordered)
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {"name": compute_class_name(pool),
                     "labels": {**MANAGED_BY, LABEL_POOL: pool.name}},
        "spec": {
            "description": f"llmfleet pool {pool.name}: {chain}",
            "priorities": [{"nodepools": [p.node_pool]} for p in ordered],
            # Our node pools exist with fixed GPU settings; GKE must not invent new ones for this class.
            "nodePoolAutoCreation": {"enabled": False},
            # When every step is exhausted, wait (pods stay Pending) rather than scale pools outside the chain.
            "whenUnsatisfiable": "DoNotScaleUp",
        },
    }
