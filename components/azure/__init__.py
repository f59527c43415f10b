"""Azure: an AKS cluster with GPU agent pools, built from the cloud-neutral spec.

Modules, one concern each: `network` (resource group, VNet, node subnet), `identity` (control-plane identity and
its rights on the subnet), `pools` (agent pool inputs and pool descriptors), `priority` (the autoscaler's
priority-expander ConfigMap), `cluster` (the `AksCluster` component tying them together).
"""
from components.azure.cluster import AksCluster, AksClusterArgs

__all__ = ["AksCluster", "AksClusterArgs"]
