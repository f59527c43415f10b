"""GKE: network, node identity, cluster, node pools, kubeconfig and the ComputeClass fallback chain."""
from components.gcp.cluster import GkeCluster, GkeClusterArgs

__all__ = ["GkeCluster", "GkeClusterArgs"]
