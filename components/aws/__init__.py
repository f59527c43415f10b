"""AWS: VPC, EKS cluster, managed node groups per (GPU pool, capacity type) and the cluster-autoscaler."""
from components.aws.cluster import EksCluster, EksClusterArgs

__all__ = ["EksCluster", "EksClusterArgs"]
