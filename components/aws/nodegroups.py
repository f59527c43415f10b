"""ManagedNodeGroup: one EKS managed node group with its own launch template (root volume, IMDSv2, reservation).

The same component builds the system (CPU) group and every GPU group: one per (pool, capacity type), because an
EKS managed node group has exactly one capacity type and the cluster-autoscaler's priority expander chooses
between node groups, not within one.
"""
from typing import Optional, Sequence, TypedDict

import pulumi
import pulumi_aws as aws
from pulumi import ResourceOptions

from components.aws.live import desired_size
from spec.pools import Taint

# EKS API spellings of Kubernetes taint effects (pulumi_aws eks NodeGroupTaint: NO_SCHEDULE, NO_EXECUTE,
# PREFER_NO_SCHEDULE).
EKS_TAINT_EFFECTS = {"NoSchedule": "NO_SCHEDULE", "PreferNoSchedule": "PREFER_NO_SCHEDULE",
                     "NoExecute": "NO_EXECUTE"}

# Root device per AMI family. Bottlerocket boots from a small OS volume (/dev/xvda) and keeps container images
# and ephemeral storage on a second, data volume (/dev/xvdb): the large disk must be that one.
DATA_DEVICE = {"AL2023_x86_64_STANDARD": "/dev/xvda", "AL2023_x86_64_NVIDIA": "/dev/xvda",
               "BOTTLEROCKET_x86_64_NVIDIA": "/dev/xvdb"}
# Bottlerocket's OS volume, listed too so that it is encrypted like the data volume (an unlisted device keeps the
# AMI's mapping, encrypted only where the account turned on EBS encryption by default). Karpenter's size for it.
OS_DEVICE, BOTTLEROCKET_OS_GB = "/dev/xvda", 4


def block_device_mappings(ami_type: str, disk_gb: int) -> list:
    """Every EBS volume of a node, encrypted (the account's default EBS key) and deleted with the instance."""
    def ebs(size):
        return aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
            volume_size=size, volume_type="gp3", encrypted="true", delete_on_termination="true")
    data = DATA_DEVICE[ami_type]
    os_volume = [] if data == OS_DEVICE else [
        aws.ec2.LaunchTemplateBlockDeviceMappingArgs(device_name=OS_DEVICE, ebs=ebs(BOTTLEROCKET_OS_GB))]
    return os_volume + [aws.ec2.LaunchTemplateBlockDeviceMappingArgs(device_name=data, ebs=ebs(disk_gb))]

ASG_TEMPLATE = "k8s.io/cluster-autoscaler/node-template"


# Tag on Capacity Block node groups naming their instance type (it lives in the launch template there).
INSTANCE_TYPE_TAG = "llmfleet.io/instance-type"


def template_tags(labels: dict, taints: Sequence[Taint], resources: dict) -> dict[str, str]:
    """cluster-autoscaler's scale-from-zero ASG tags (FACTS-cluster.md §2.1): label/<key> = value, taint/<key> =
    `<value>:<Effect>`, resources/<name> = quantity."""
    tags = {f"{ASG_TEMPLATE}/label/{k}": str(v) for k, v in labels.items()}
    tags.update({f"{ASG_TEMPLATE}/taint/{t.key}": f"{t.value}:{t.effect}" for t in taints})
    tags.update({f"{ASG_TEMPLATE}/resources/{k}": str(v) for k, v in resources.items()})
    return tags


def tag_resource_name(group: str, key: str) -> str:
    """Tag resources are named by the tag key (without the common prefix), so adding or removing a label never
    renames, and so re-creates, the tags after it."""
    return f"{group}-asg-tag-{key.removeprefix(ASG_TEMPLATE + '/')}"


class ManagedNodeGroupArgs(TypedDict):
    cluster_name: pulumi.Input[str]
    """EKS cluster the group joins."""
    node_group_name: str
    """The EKS node group name; EKS names its Auto Scaling group `eks-<node_group_name>-<uuid>`."""
    node_role_arn: pulumi.Input[str]
    """Node IAM role."""
    subnet_ids: Sequence[pulumi.Input[str]]
    """Private subnets the group launches into (the pool's zones)."""
    instance_type: str
    """EC2 instance type."""
    ami_type: str
    """EKS AMI type: AL2023_x86_64_STANDARD, AL2023_x86_64_NVIDIA or BOTTLEROCKET_x86_64_NVIDIA."""
    capacity_type: str
    """EKS capacity type: ON_DEMAND, SPOT or CAPACITY_BLOCK."""
    min_nodes: int
    """Lower bound (and initial desired size)."""
    max_nodes: int
    """Upper bound the autoscaler may grow to."""
    disk_gb: int
    """Size of the volume holding container images and ephemeral storage (gp3, encrypted)."""
    labels: dict
    """Kubernetes labels every node carries."""
    taints: Sequence[Taint]
    """Kubernetes taints every node carries."""
    reservation_id: Optional[str]
    """Capacity reservation (cr-...) the group launches into, or None."""
    capacity_block: bool
    """The reservation is an EC2 Capacity Block for ML (market type `capacity-block`)."""
    kubernetes_version: pulumi.Input[str]
    """The cluster's Kubernetes minor: a `kubernetesVersion` bump upgrades the group after the control plane."""
    imds_hop_limit: int
    """IMDSv2 hop limit: 1 keeps pods from reaching the node's instance metadata (and its IAM role)."""
    template_resources: dict
    """Extended resources to advertise to the cluster-autoscaler for scale-from-zero (time-sliced GPUs, MIG
    partitions): resource name -> quantity per node."""
    live_desired: Optional[int]
    """The group's live desired size (components/aws/live.py), None when it does not exist yet."""
    protect: bool
    """Refuse to delete or replace the node group (prod stacks: a replacement is a capacity gap)."""
    tags: dict
    """Tags for AWS resources (launch template, instances, volumes, node group)."""
    node_group_tags: dict
    """Extra tags for the node group only (cluster-autoscaler discovery)."""


class ManagedNodeGroup(pulumi.ComponentResource):
    launch_template: aws.ec2.LaunchTemplate
    """The group's launch template."""
    node_group: aws.eks.NodeGroup
    """The EKS managed node group."""
    asg_name: pulumi.Output
    """Name of the Auto Scaling group EKS created for the group."""

    def __init__(self, name: str, args: ManagedNodeGroupArgs, opts: Optional[ResourceOptions] = None):
        super().__init__("llmfleet:aws:ManagedNodeGroup", name, None, opts)
        child = ResourceOptions(parent=self)
        ng_name, tags = args["node_group_name"], dict(args["tags"])
        reservation = args["reservation_id"]

        block = args["capacity_block"]
        capacity_reservation = None
        market = None
        if reservation:
            capacity_reservation = aws.ec2.LaunchTemplateCapacityReservationSpecificationArgs(
                capacity_reservation_target=aws.ec2.LaunchTemplateCapacityReservationSpecificationCapacityReservationTargetArgs(
                    capacity_reservation_id=reservation))
            if block:
                market = aws.ec2.LaunchTemplateInstanceMarketOptionsArgs(market_type="capacity-block")

        # No image id and no user data: EKS picks the AMI for `ami_type` and the cluster version and writes the
        # bootstrap itself. Labels and taints go through the node group API, so the autoscaler can read them.
        self.launch_template = aws.ec2.LaunchTemplate(
            f"{name}-lt",
            name_prefix=f"{ng_name}-",
            description=f"EKS node group {ng_name}",
            update_default_version=True,
            block_device_mappings=block_device_mappings(args["ami_type"], args["disk_gb"]),
            metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
                http_endpoint="enabled", http_tokens="required",
                http_put_response_hop_limit=args["imds_hop_limit"]),
            capacity_reservation_specification=capacity_reservation,
            instance_market_options=market,
            # Capacity Blocks: AWS's recipe (EKS user guide, "Create a managed node group with Capacity Blocks for
            # ML") puts the instance type in the launch template, not in the node group.
            instance_type=args["instance_type"] if block else None,
            tag_specifications=[aws.ec2.LaunchTemplateTagSpecificationArgs(
                resource_type=kind, tags={**tags, "Name": ng_name}) for kind in ("instance", "volume")],
            tags=tags,
            opts=child)

        min_size = 0 if block else args["min_nodes"]
        # Only when the live size is outside the new bounds (a raised minNodes, a lowered maxNodes) is a desired size
        # sent; otherwise the autoscaler's value stands.
        bump = desired_size(args.get("live_desired"), min_size, args["max_nodes"])
        taints = [aws.eks.NodeGroupTaintArgs(key=t.key, value=t.value or None, effect=EKS_TAINT_EFFECTS[t.effect])
                  for t in args["taints"]]
        self.node_group = aws.eks.NodeGroup(
            f"{name}-ng",
            cluster_name=args["cluster_name"],
            node_group_name=ng_name,
            node_role_arn=args["node_role_arn"],
            subnet_ids=list(args["subnet_ids"]),
            instance_types=None if block else [args["instance_type"]],
            ami_type=args["ami_type"],
            capacity_type=args["capacity_type"],
            # Follows the control plane: without it EKS keeps the group at the version it was created with.
            version=args["kubernetes_version"],
            # A Capacity Block group starts at 0 (it cannot launch before the block is active) and stays at 0
            # until the autoscaler grows it inside the block's window (spec/clouds/aws.py rejects minNodes > 0).
            scaling_config=aws.eks.NodeGroupScalingConfigArgs(
                min_size=min_size, max_size=args["max_nodes"],
                desired_size=min_size if bump is None else bump),
            # Replace GPU nodes one at a time: each holds a model replica that takes minutes to load.
            update_config=aws.eks.NodeGroupUpdateConfigArgs(max_unavailable=1),
            launch_template=aws.eks.NodeGroupLaunchTemplateArgs(
                id=self.launch_template.id, version=self.launch_template.latest_version.apply(lambda v: str(int(v)))),
            labels=dict(args["labels"]),
            taints=taints or None,
            # A Capacity Block group names no instance type itself; the tag says which (the cost-guard pack prices
            # node groups from their own inputs: policy/gpu_groups.py).
            tags={**tags, **args["node_group_tags"], "Name": ng_name,
                  **({INSTANCE_TYPE_TAG: args["instance_type"]} if block else {})},
            # The cluster-autoscaler owns the desired size once the group exists; a later `pulumi up` must not
            # reset it to the minimum and drain running replicas. The name is fixed (the autoscaler's priority
            # regexes are built from it), so a replacement (new instance or AMI type) must delete the old group
            # first: EKS rejects two node groups with one name.
            opts=ResourceOptions(parent=self, ignore_changes=["scalingConfig.desiredSize"] if bump is None else [],
                                 delete_before_replace=True, protect=args["protect"]))

        self.asg_name = self.node_group.resources.apply(lambda rs: rs[0].autoscaling_groups[0].name)

        # Scale from zero: a group with no node gives the autoscaler nothing to copy labels and taints from.
        # cluster-autoscaler reads managed node groups' labels and taints with eks:DescribeNodegroup, but skips
        # valueless taints and knows extended resources (time-sliced GPUs, MIG partitions) only from these ASG
        # tags; the labels and taints are tagged too, so the template does not depend on that API call.
        template = template_tags(args["labels"], args["taints"], args["template_resources"])
        for i, (key, value) in enumerate(template.items()):
            aws.autoscaling.Tag(
                tag_resource_name(name, key), autoscaling_group_name=self.asg_name,
                tag=aws.autoscaling.TagTagArgs(key=key, value=value, propagate_at_launch=False),
                # Earlier versions named these by position; the alias keeps the existing tag (a new resource
                # would set the same key, then the old one's delete would remove it).
                opts=ResourceOptions(parent=self, aliases=[pulumi.Alias(name=f"{name}-asg-tag-{i}")]))

        self.register_outputs({"nodeGroupName": ng_name, "asgName": self.asg_name})
