"""Karpenter: the alternative to the cluster-autoscaler for EKS GPU pools (`cluster.aws.autoscaler: karpenter`).

Creates the controller's IAM identity (IRSA or Pod Identity), the SQS interruption queue with its EventBridge rules,
a node role of its own with an EKS access entry, the discovery tag on the cluster security group, the Karpenter
Helm release (controller on the system node group only) and the custom resources: one EC2NodeClass per (AMI
family, disk size) and one NodePool per (GPU pool, capacity type), weighted in the order of `capacity_priorities`.
"""
from typing import Optional, Sequence, TypedDict

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
from pulumi import ResourceOptions

from components.aws import iam
from components.aws.karpenter_iam import INTERRUPTION_EVENTS, controller_policy, event_pattern, queue_policy
from components.aws.karpenter_objects import (DISCOVERY_TAG, MANAGED_BY, NODECLASS_API, NODEPOOL_API,
                                              nodeclass_name, nodeclass_spec, nodepool_spec, nodepool_weights)
from components.helm import chart_release

NAMESPACE = "kube-system"
SERVICE_ACCOUNT = "karpenter"
# Same managed policies as the managed node groups' role, with the pull-only ECR policy.
NODE_POLICIES = ("AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryPullOnly",
                 "AmazonSSMManagedInstanceCore")


class KarpenterArgs(TypedDict):
    cluster_name: str
    """EKS cluster name (discovery tag value, resource names)."""
    eks_cluster_name: pulumi.Input[str]
    """The cluster's name as an output of the cluster resource (orders access entry and associations after it)."""
    cluster_arn: pulumi.Input[str]
    """EKS cluster ARN: scopes eks:DescribeCluster and gives the account id."""
    cluster_endpoint: pulumi.Input[str]
    """API server endpoint, passed to the controller (saves a DescribeCluster at start)."""
    cluster_security_group_id: pulumi.Input[str]
    """The EKS-created cluster security group, which Karpenter nodes join like managed node group nodes do."""
    region: str
    """AWS region."""
    identity: str
    """irsa or pod-identity."""
    oidc_provider_arn: pulumi.Input[str]
    """IAM OIDC provider of the cluster (IRSA)."""
    oidc_issuer: pulumi.Input[str]
    """OIDC issuer URL of the cluster (IRSA)."""
    pools: Sequence
    """GPU pool specs (PoolSpec), for image, disk, zones and reservation."""
    descriptors: Sequence
    """PoolDescriptor per (pool, capacity type): NodePool name, labels, taints, maximum, priority."""
    zones: Sequence[str]
    """The cluster's zones (pools without zones use all of them)."""
    node_selector: dict
    """Where the controller runs: the system node group."""
    controller_replicas: int
    """Controller replicas (one per system node at most: the chart spreads them across hosts)."""
    depends_on: Sequence[pulumi.Resource]
    """What must exist before the release (system node group, networking add-ons, pod identity agent)."""
    tags: dict
    """Tags for AWS resources (and for the instances Karpenter launches)."""


class Karpenter(pulumi.ComponentResource):
    controller_role: aws.iam.Role
    """IAM role of the controller's service account."""
    node_role: aws.iam.Role
    """IAM role of the nodes Karpenter launches."""
    queue: aws.sqs.Queue
    """The interruption queue."""
    release: k8s.helm.v3.Release
    """The Karpenter Helm release (CRDs included)."""
    node_classes: dict
    """EC2NodeClass name -> CustomResource."""
    node_pools: dict
    """NodePool name -> CustomResource."""

    def __init__(self, name: str, args: KarpenterArgs, opts: Optional[ResourceOptions] = None):
        super().__init__("llmfleet:aws:Karpenter", name, None, opts)
        child = ResourceOptions(parent=self)
        cluster, region, tags = args["cluster_name"], args["region"], dict(args["tags"])
        partition = iam.partition(region)
        irsa = args["identity"] == "irsa"

        # --- nodes: a role of their own. EKS already made an EC2_LINUX access entry for the managed node groups'
        # role, and a second entry for the same principal is rejected.
        self.node_role = aws.iam.Role(f"{name}-node-role", name=f"{cluster}-karpenter-node",
                                      assume_role_policy=iam.service_trust("ec2.amazonaws.com"),
                                      description=f"Nodes launched by Karpenter in EKS cluster {cluster}",
                                      tags=tags, opts=child)
        node_policies = [aws.iam.RolePolicyAttachment(
            f"{name}-node-{p}", role=self.node_role.name, policy_arn=iam.managed_policy(region, p), opts=child)
            for p in NODE_POLICIES]
        access = aws.eks.AccessEntry(f"{name}-node-access", cluster_name=args["eks_cluster_name"],
                                     principal_arn=self.node_role.arn, type="EC2_LINUX", tags=tags, opts=child)
        # Karpenter picks security groups by tag; EKS creates the cluster security group without ours.
        sg_tag = aws.ec2.Tag(f"{name}-sg-discovery", resource_id=args["cluster_security_group_id"],
                             key=DISCOVERY_TAG, value=cluster, opts=child)

        # --- interruption queue and the rules that feed it.
        self.queue = aws.sqs.Queue(f"{name}-queue", name=f"{cluster}-karpenter", message_retention_seconds=300,
                                   sqs_managed_sse_enabled=True, tags=tags, opts=child)
        rules = []
        for key in INTERRUPTION_EVENTS:
            rule = aws.cloudwatch.EventRule(
                f"{name}-{key}", name=f"{cluster}-karpenter-{key}", event_pattern=event_pattern(key),
                description=f"Karpenter interruption handling for EKS cluster {cluster}", tags=tags, opts=child)
            aws.cloudwatch.EventTarget(f"{name}-{key}", rule=rule.name, arn=self.queue.arn,
                                       target_id="karpenter-interruption-queue", opts=child)
            rules.append(rule)
        queue_access = aws.sqs.QueuePolicy(
            f"{name}-queue-policy", queue_url=self.queue.url,
            policy=pulumi.Output.all(self.queue.arn, *[r.arn for r in rules]).apply(
                lambda a: queue_policy(a[0], list(a[1:]))),
            opts=child)

        # --- controller identity.
        trust = (iam.irsa_trust(args["oidc_provider_arn"], args["oidc_issuer"], NAMESPACE, [SERVICE_ACCOUNT])
                 if irsa else iam.pod_identity_trust())
        self.controller_role = aws.iam.Role(f"{name}-role", name=f"{cluster}-karpenter", assume_role_policy=trust,
                                            description=f"Karpenter controller of EKS cluster {cluster}",
                                            tags=tags, opts=child)
        policy = aws.iam.RolePolicy(
            f"{name}-policy", role=self.controller_role.id, name="karpenter-controller",
            policy=pulumi.Output.all(args["cluster_arn"], self.node_role.arn, self.queue.arn).apply(
                lambda a: controller_policy(cluster, region, partition, a[0], a[1], a[2])),
            opts=child)
        identity_deps: list = [policy]
        if not irsa:
            identity_deps.append(aws.eks.PodIdentityAssociation(
                f"{name}-pod-identity", cluster_name=args["eks_cluster_name"], namespace=NAMESPACE,
                service_account=SERVICE_ACCOUNT, role_arn=self.controller_role.arn, tags=tags, opts=child))

        # --- the controller. Every key below is in the chart's values.yaml (karpenter 1.14.1).
        system = dict(args["node_selector"])
        values = {
            "fullnameOverride": "karpenter",
            "serviceAccount": {"create": True, "name": SERVICE_ACCOUNT,
                               "annotations": {"eks.amazonaws.com/role-arn": self.controller_role.arn} if irsa else {}},
            "replicas": args["controller_replicas"],
            "priorityClassName": "system-cluster-critical",
            "nodeSelector": {"kubernetes.io/os": "linux", **system},
            # The chart's default keeps the controller off Karpenter nodes; the system label keeps it on the
            # managed system group. A controller on a node it manages could remove the node it runs on.
            "affinity": {
                "nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                    {"matchExpressions": [{"key": "karpenter.sh/nodepool", "operator": "DoesNotExist"}] +
                     [{"key": k, "operator": "In", "values": [v]} for k, v in system.items()]}]}},
                "podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
                    {"topologyKey": "kubernetes.io/hostname"}]},
            },
            # Explicitly none (the chart tolerates CriticalAddonsOnly): never on, or keeping alive, a GPU node.
            "tolerations": [],
            "controller": {
                # Region from config rather than instance metadata.
                "env": [{"name": "AWS_REGION", "value": region}],
                "resources": {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "1Gi"}},
            },
            "settings": {
                "clusterName": cluster,
                "clusterEndpoint": args["cluster_endpoint"],
                "interruptionQueue": self.queue.name,
            },
        }
        self.release = chart_release(
            f"{name}-release", "karpenter", NAMESPACE, values, parent=self,
            depends_on=[*identity_deps, queue_access, *args["depends_on"]])

        # --- custom resources (the CRDs come with the chart).
        pools = {p.name: p for p in args["pools"]}
        self.node_classes = {}
        for pool in args["pools"]:
            nc = nodeclass_name(pool)
            if nc in self.node_classes:
                continue
            sharing = [p for p in args["pools"] if nodeclass_name(p) == nc]
            reservations = [p.reservation for p in sharing if "reserved" in p.capacity and p.reservation]
            self.node_classes[nc] = k8s.apiextensions.CustomResource(
                f"{name}-nodeclass-{nc}", api_version=NODECLASS_API, kind="EC2NodeClass",
                metadata=k8s.meta.v1.ObjectMetaArgs(name=nc, labels=MANAGED_BY),
                spec=nodeclass_spec(pool, cluster, self.node_role.name, reservations, tags),
                opts=ResourceOptions(parent=self, depends_on=[self.release, access, sg_tag, *node_policies]))

        weights = nodepool_weights({d.node_group: d.priority for d in args["descriptors"]})
        self.node_pools = {}
        for d in args["descriptors"]:
            pool = pools[d.name]
            self.node_pools[d.node_group] = k8s.apiextensions.CustomResource(
                f"{name}-nodepool-{d.node_group}", api_version=NODEPOOL_API, kind="NodePool",
                metadata=k8s.meta.v1.ObjectMetaArgs(name=d.node_group, labels=MANAGED_BY),
                spec=nodepool_spec(d, pool, args["zones"], weights[d.node_group]),
                opts=ResourceOptions(parent=self, depends_on=[self.release, self.node_classes[nodeclass_name(pool)]]))

        self.register_outputs({"controllerRoleArn": self.controller_role.arn, "nodeRoleArn": self.node_role.arn,
                               "interruptionQueue": self.queue.name, "nodePools": list(self.node_pools)})
