"""EfsModelCache: the ReadWriteMany storage behind a model's shared cache on EKS, which has no RWX class of its own.

An encrypted EFS file system with a mount target in every private subnet, a security group that admits NFS from
the nodes' subnets only, the `aws-efs-csi-driver` EKS add-on with its IAM identity, and the StorageClass `efs-sc`
that provisions one EFS access point (its own directory) per claim.
"""
from typing import Optional, Sequence, TypedDict

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
from pulumi import ResourceOptions

from components.aws.csi import driver_role_and_addon
from components.platform import MANAGED_BY
from spec.serving import RWX_STORAGE_CLASSES

ADDON = "aws-efs-csi-driver"
PROVISIONER = "efs.csi.aws.com"
STORAGE_CLASS = RWX_STORAGE_CLASSES["aws"]
NAMESPACE = "kube-system"
# The add-on's service accounts (EKS user guide, "Amazon EFS CSI driver"): the controller creates and deletes
# access points; the node plugin may look up mount targets when it mounts. AWS's own trust policy admits both.
CONTROLLER_SA = "efs-csi-controller-sa"
NODE_SA = "efs-csi-node-sa"
# AWS-managed policy for the driver; it lives under the `service-role/` path.
DRIVER_POLICY = "service-role/AmazonEFSCSIDriverPolicy"
NFS_PORT = 2049
# Every claim gets its own access point whose root directory is `<BASE_PATH>/<pv name>-<uid>` (the driver's
# default subPathPattern and ensureUniqueDirectory), created 0700 and owned by uid/gid 0. The access point enforces
# that identity on every NFS call, so the vLLM image, which runs as root, owns its files and can write them.
BASE_PATH = "/model-cache"
DIRECTORY_PERMS = "700"
POSIX_ID = "0"


def storage_class_parameters(file_system_id: str) -> dict:
    """`efs-sc` parameters (kubernetes-sigs/aws-efs-csi-driver docs/parameters.md): dynamic provisioning with
    access points. uid/gid set: the driver does not allocate from a gid range."""
    return {"provisioningMode": "efs-ap", "fileSystemId": file_system_id, "directoryPerms": DIRECTORY_PERMS,
            "uid": POSIX_ID, "gid": POSIX_ID, "basePath": BASE_PATH}


class EfsModelCacheArgs(TypedDict):
    cluster_name: str
    """EKS cluster name (resource names and tags)."""
    eks_cluster_name: pulumi.Input[str]
    """The cluster's name as an output of the cluster resource (orders the add-on after it)."""
    region: str
    """AWS region (partition of the managed policy ARN)."""
    vpc_id: pulumi.Input[str]
    """The cluster's VPC."""
    subnets: dict
    """Zone -> private subnet id: one mount target each, so every node mounts in its own zone."""
    node_cidrs: Sequence[str]
    """CIDRs of the private subnets, the only sources admitted on the NFS port."""
    identity: str
    """irsa or pod-identity (`llmfleet:cluster.aws.identity`)."""
    oidc_provider_arn: pulumi.Input[str]
    """IAM OIDC provider of the cluster (IRSA)."""
    oidc_issuer: pulumi.Input[str]
    """OIDC issuer URL of the cluster (IRSA)."""
    addon_version: pulumi.Input[Optional[str]]
    """The add-on version for the cluster's Kubernetes version (components/aws/addons.py)."""
    protect: bool
    """Protect (and retain on delete) the file system: prod stacks keep the cached weights."""
    depends_on: Sequence[pulumi.Resource]
    """What the add-on needs first: nodes for its controller, the pod identity agent."""
    tags: dict
    """Tags for AWS resources."""


class EfsModelCache(pulumi.ComponentResource):
    file_system: aws.efs.FileSystem
    """The EFS file system holding every shared model cache of the cluster."""
    security_group: aws.ec2.SecurityGroup
    """Security group of the mount targets (NFS from the node subnets)."""
    mount_targets: dict
    """Zone -> MountTarget."""
    role: aws.iam.Role
    """IAM role of the EFS CSI driver."""
    addon: aws.eks.Addon
    """The aws-efs-csi-driver EKS add-on."""
    storage_class: k8s.storage.v1.StorageClass
    """StorageClass `efs-sc`."""

    def __init__(self, name: str, args: EfsModelCacheArgs, opts: Optional[ResourceOptions] = None):
        super().__init__("llmfleet:aws:EfsModelCache", name, None, opts)
        child = ResourceOptions(parent=self)
        cluster, tags = args["cluster_name"], dict(args["tags"])

        # Mount targets answer NFS; they never open connections, so no egress rule. The mount is made by the node
        # (the driver's node plugin runs on the host network), and nodes may carry different security groups (the
        # EKS cluster group on managed node groups, whatever another node source selects): admitting the nodes'
        # subnets on 2049 alone covers every node without opening anything else.
        self.security_group = aws.ec2.SecurityGroup(
            f"{name}-sg", name=f"{cluster}-efs", vpc_id=args["vpc_id"],
            description=f"NFS from the nodes of EKS cluster {cluster} to its model cache file system",
            ingress=[aws.ec2.SecurityGroupIngressArgs(protocol="tcp", from_port=NFS_PORT, to_port=NFS_PORT,
                                                      cidr_blocks=list(args["node_cidrs"]),
                                                      description="NFS from the node subnets")],
            egress=[], tags={**tags, "Name": f"{cluster}-efs"}, opts=child)

        # Many replicas read the same large files at once, mostly when pods start (a scale-up or a rollout):
        # - generalPurpose: lowest latency per operation; Max I/O only adds latency, and AWS does not offer it with
        #   elastic throughput (EFS user guide, "Performance modes").
        # - elastic throughput: scales with demand to tens of GiB/s of reads per file system (up to ~1.5 GiB/s
        #   per client), billed per GiB transferred. Bursting would tie throughput to the stored size (50 MiB/s
        #   per TiB, bursts of 100 MiB/s for small file systems): a 150 GiB checkpoint would take half an hour
        #   per cold start. Provisioned throughput bills the peak all month for a load that is idle between
        #   starts.
        # - no lifecycle policy: files stay in EFS Standard. Weights are read only when a pod starts, so
        #   Infrequent Access would move them there after a quiet month and make the next cold start slower and
        #   billed per GiB read.
        # - encrypted at rest with the AWS-managed key (aws/elasticfilesystem); the driver mounts with TLS.
        self.file_system = aws.efs.FileSystem(
            f"{name}-fs", creation_token=f"{cluster}-model-cache", encrypted=True,
            performance_mode="generalPurpose", throughput_mode="elastic",
            tags={**tags, "Name": f"{cluster}-model-cache"},
            opts=ResourceOptions(parent=self, protect=args["protect"], retain_on_delete=args["protect"]))

        self.mount_targets = {
            zone: aws.efs.MountTarget(f"{name}-mt-{zone}", file_system_id=self.file_system.id, subnet_id=subnet,
                                      security_groups=[self.security_group.id], opts=child)
            for zone, subnet in args["subnets"].items()}

        self.role, self.addon = driver_role_and_addon(
            self, name, dict(args), addon=ADDON, policy=DRIVER_POLICY, namespace=NAMESPACE,
            service_accounts={sa: f"{name}-pod-identity-{sa.removeprefix('efs-csi-').removesuffix('-sa')}"
                              for sa in (CONTROLLER_SA, NODE_SA)}, label="EFS")

        # Immediate binding: a regional file system serves every zone, so there is no topology to wait for.
        # Delete: the cache only holds re-downloadable weights. The driver leaves the access point's directory on
        # the file system when a claim is deleted (its delete-access-point-root-dir flag is off by default).
        self.storage_class = k8s.storage.v1.StorageClass(
            f"{name}-storageclass",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=STORAGE_CLASS,
                                                labels=MANAGED_BY),
            provisioner=PROVISIONER,
            parameters=self.file_system.id.apply(storage_class_parameters),
            reclaim_policy="Delete", volume_binding_mode="Immediate",
            opts=ResourceOptions(parent=self, depends_on=[self.addon, *self.mount_targets.values()]))

        self.register_outputs({"fileSystemId": self.file_system.id, "fileSystemArn": self.file_system.arn,
                               "storageClass": STORAGE_CLASS, "roleArn": self.role.arn})
