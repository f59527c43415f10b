"""EbsCsiDriver: the `aws-ebs-csi-driver` EKS add-on, its IAM identity and the cluster's default StorageClass.

Since EKS 1.30 a new cluster has no default StorageClass (the `gp2` class EKS still creates lacks the default
annotation), and in-tree EBS volumes are served by the CSI driver anyway: without both, every claim that names no
class stays Pending (Prometheus' volume, the per-replica model cache StatefulSet's claims). Facts:
shared/FACTS-cluster.md §3; kubernetes-sigs/aws-ebs-csi-driver docs/install.md and docs/parameters.md.
"""
from typing import Optional, Sequence, TypedDict

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
from pulumi import ResourceOptions

from components.aws.csi import driver_role_and_addon
from components.platform import MANAGED_BY

ADDON = "aws-ebs-csi-driver"
PROVISIONER = "ebs.csi.aws.com"
NAMESPACE = "kube-system"
# Only the controller calls EC2 (create, attach, delete volumes); the node plugin formats and mounts.
CONTROLLER_SA = "ebs-csi-controller-sa"
# AWS-managed policy upstream recommends; it scopes the driver to volumes tagged ebs.csi.aws.com/cluster=true,
# which the driver puts on every volume it provisions.
DRIVER_POLICY = "service-role/AmazonEBSCSIDriverPolicyV2"
STORAGE_CLASS = "gp3"
DEFAULT_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class"


def storage_class_parameters() -> dict:
    """gp3, encrypted with the account's default EBS key (the driver's parameter names, docs/parameters.md)."""
    return {"type": "gp3", "encrypted": "true", "csi.storage.k8s.io/fstype": "ext4"}


class EbsCsiDriverArgs(TypedDict):
    cluster_name: str
    """EKS cluster name (resource names and tags)."""
    eks_cluster_name: pulumi.Input[str]
    """The cluster's name as an output of the cluster resource (orders the add-on after it)."""
    region: str
    """AWS region (partition of the managed policy ARN)."""
    identity: str
    """irsa or pod-identity (`llmfleet:cluster.aws.identity`)."""
    oidc_provider_arn: pulumi.Input[str]
    """IAM OIDC provider of the cluster (IRSA)."""
    oidc_issuer: pulumi.Input[str]
    """OIDC issuer URL of the cluster (IRSA)."""
    addon_version: pulumi.Input[Optional[str]]
    """The add-on version for the cluster's Kubernetes version (components/aws/addons.py)."""
    depends_on: Sequence[pulumi.Resource]
    """What the add-on needs first: nodes for its controller, the pod identity agent."""
    tags: dict
    """Tags for AWS resources."""


class EbsCsiDriver(pulumi.ComponentResource):
    role: aws.iam.Role
    """IAM role of the driver's controller."""
    addon: aws.eks.Addon
    """The aws-ebs-csi-driver EKS add-on."""
    storage_class: k8s.storage.v1.StorageClass
    """StorageClass `gp3`, the cluster's default."""

    def __init__(self, name: str, args: EbsCsiDriverArgs, opts: Optional[ResourceOptions] = None):
        super().__init__("llmfleet:aws:EbsCsiDriver", name, None, opts)
        # The add-on's node DaemonSet tolerates every taint (chart value node.tolerateAllTaints, default true in
        # aws-ebs-csi-driver 2.64.0), so it runs on the tainted GPU nodes where the cache volumes are mounted.
        self.role, self.addon = driver_role_and_addon(
            self, name, dict(args), addon=ADDON, policy=DRIVER_POLICY, namespace=NAMESPACE,
            service_accounts={CONTROLLER_SA: f"{name}-pod-identity"}, label="EBS")

        # WaitForFirstConsumer: an EBS volume lives in one zone; binding waits until the pod is scheduled so the
        # volume is made in the pod's zone (and the scheduler can still pick any pool's zone).
        # Delete: claims hold metrics and re-downloadable weights, nothing to keep after the claim goes.
        self.storage_class = k8s.storage.v1.StorageClass(
            f"{name}-storageclass",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=STORAGE_CLASS, labels=MANAGED_BY,
                                                annotations={DEFAULT_CLASS_ANNOTATION: "true"}),
            provisioner=PROVISIONER, parameters=storage_class_parameters(),
            reclaim_policy="Delete", volume_binding_mode="WaitForFirstConsumer", allow_volume_expansion=True,
            opts=ResourceOptions(parent=self, depends_on=[self.addon]))

        self.register_outputs({"storageClass": STORAGE_CLASS, "roleArn": self.role.arn})
