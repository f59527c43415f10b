"""EksCluster: VPC, EKS control plane (pinned version, API access entries, OIDC for IRSA, KMS-encrypted Secrets),
a system node group, one managed node group per (GPU pool, capacity type) and the cluster-autoscaler; or, with
`autoscaler: karpenter`, Karpenter with one NodePool per (GPU pool, capacity type) instead of the GPU node groups.

Exposes what every cluster component exposes: `.provider` (Kubernetes provider), `.kubeconfig` (secret) and
`.pools` (one PoolDescriptor per GPU node group).
"""
import json
from typing import Optional, Sequence, TypedDict

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
from pulumi import ResourceOptions

from catalog.prices import price_key
from components.aws import iam
from components.aws.addons import addon_version
from components.aws.autoscaler import ClusterAutoscaler
from components.aws.ebs import EbsCsiDriver
from components.aws.karpenter import Karpenter
from components.aws.live import live_desired_size
from components.aws.network import VpcNetwork, zone_cidrs
from components.aws.nodegroups import ManagedNodeGroup
from components.aws.storage import EfsModelCache
from components.descriptors import (GPU_TAINT, LABEL_CAPACITY, LABEL_GPU, LABEL_POOL, LABEL_ROLE, PoolDescriptor,
                                    capacity_priorities, driver_ownership)
from components.nvidia.labels import gpu_resource, nvidia_node_labels
from spec.clouds.aws import AwsSettings, cluster_zones, protected
from spec.cluster import ClusterSpec
from spec.pools import AWS_IMAGES, PoolSpec

# System nodes carry this label; add-ons (the autoscaler first) select it and never tolerate the GPU taint.
SYSTEM_NODE_GROUP = "system"
# cluster-autoscaler treats a node with this label as a GPU node before the device plugin advertises
# nvidia.com/gpu, so it does not scale up twice for the same pending pod (CA AWS README, "GPU instances").
LABEL_CA_ACCELERATOR = "k8s.amazonaws.com/accelerator"
# Added by EKS (the ASG of every managed node group carries both); on the node group too, so the intent is visible.
CA_DISCOVERY = ("k8s.io/cluster-autoscaler/enabled", "k8s.io/cluster-autoscaler/{cluster}")
ANYWHERE = ("0.0.0.0/0",)
ADMIN_POLICY = "arn:{partition}:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
# The VPC CNI enforces NetworkPolicies (components/security) only in network policy mode: the add-on's
# `enableNetworkPolicy` (a string) starts the node agent in aws-node; EKS runs the policy controller in the control
# plane. An add-on configuration change updates the add-on in place (no node or cluster replacement).
ADDON_CONFIG = {"vpc-cni": json.dumps({"enableNetworkPolicy": "true"})}


def eks_capacity_type(capacity: str, settings: AwsSettings) -> str:
    """EKS node group capacity type for a capacity of the chain. An On-Demand Capacity Reservation is consumed by
    ON_DEMAND instances whose launch template targets it; a Capacity Block needs CAPACITY_BLOCK (EKS API
    `capacityType`; pulumi_aws' docstring lists only ON_DEMAND and SPOT)."""
    if capacity == "spot":
        return "SPOT"
    if capacity == "reserved" and settings.reservation_type == "capacity-block":
        return "CAPACITY_BLOCK"
    return "ON_DEMAND"


def admin_key(arn: str) -> str:
    """Resource-name key of an admin principal: its IAM path and name (`role/ci/deployer` -> `role-ci-deployer`),
    unique within an account; the account id is kept when admins come from several accounts."""
    account, resource = arn.split(":")[4], arn.split(":", 5)[5]
    return f"{account}-{resource.replace('/', '-')}"


def node_group_name(pool: str, capacity: str) -> str:
    return f"{pool}-{capacity}"


def describe_pools(pools: Sequence[PoolSpec], prices: dict) -> list[PoolDescriptor]:
    """One descriptor per (pool, capacity type). The chain's first capacity holds the pool's minimum (the
    baseline); fallbacks start at zero and may each grow to the pool's maximum."""
    out = []
    priorities = capacity_priorities(pools)
    for pool in pools:
        price = prices.get(price_key("aws", pool.instance.name)) if pool.instance else None
        ownership = driver_ownership("aws", pool.image, pool.driver)
        for ci, capacity in enumerate(pool.capacity):
            labels = {**pool.labels, LABEL_POOL: pool.name, LABEL_CAPACITY: capacity, LABEL_GPU: pool.gpu.key,
                      LABEL_CA_ACCELERATOR: pool.gpu.key,
                      **nvidia_node_labels(pool.name, "aws", ownership, pool.sharing)}
            out.append(PoolDescriptor(
                name=pool.name, cloud="aws", capacity=capacity, node_group=node_group_name(pool.name, capacity),
                gpu=pool.gpu, gpus_per_node=pool.gpus_per_node,
                instance_type=pool.instance.name if pool.instance else None,
                node_labels=labels, taints=(GPU_TAINT, *pool.taints), sharing=pool.sharing,
                driver=ownership,
                min_nodes=pool.min_nodes if ci == 0 else 0, max_nodes=pool.max_nodes,
                price_hour=price.for_capacity(capacity) if price else 0.0,
                priority=priorities[(pool.name, capacity)]))
    return out


def template_resources(d: PoolDescriptor, mig_strategy: str) -> dict[str, str]:
    """Extended resources a node of the group advertises once its device plugin runs, for the autoscaler's
    scale-from-zero template, which otherwise assumes `nvidia.com/gpu` = the instance's GPU count
    (FACTS-cluster.md §2.1). Time-slicing: nvidia.com/gpu x replicas. MIG: the partitions, under the name the
    device plugin uses for the NVIDIA layer's strategy (components/nvidia/labels.py gpu_resource); with `mixed`
    the full-GPU resource is 0, so a whole-GPU pod never scales this group up."""
    if d.sharing.mode == "none":
        return {}
    resource, count = gpu_resource(d, mig_strategy)
    out = {resource: str(count)}
    if resource != "nvidia.com/gpu":
        out["nvidia.com/gpu"] = "0"
    return out


def kubeconfig_json(name: str, region: str, endpoint: str, ca_data: str) -> str:
    """A kubeconfig that authenticates with `aws eks get-token` (short-lived tokens, no stored credentials)."""
    return json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": name, "preferences": {},
        "clusters": [{"name": name, "cluster": {"server": endpoint, "certificate-authority-data": ca_data}}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
        "users": [{"name": name, "user": {"exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1", "command": "aws",
            "args": ["eks", "get-token", "--cluster-name", name, "--region", region, "--output", "json"],
            "interactiveMode": "Never"}}}],
    })


class EksClusterArgs(TypedDict):
    cluster: ClusterSpec
    """Cluster spec; `settings` is the AwsSettings read from `llmfleet:cluster.aws`."""
    pools: Sequence[PoolSpec]
    """GPU pools; each becomes one managed node group per capacity type of its chain."""
    prices: dict
    """Price table ("aws/<type>" -> Price) for the descriptors' hourly price."""
    shared_cache: bool
    """A model's shared cache uses `efs-sc`: create the EFS file system, its CSI add-on and the class."""
    mig_strategy: str
    """The NVIDIA layer's MIG strategy (`llmfleet:nvidia.migStrategy`): names the MIG resource in the
    autoscaler's scale-from-zero template."""


class EksCluster(pulumi.ComponentResource):
    provider: k8s.Provider
    """Kubernetes provider for the cluster; every Kubernetes object of the stack goes through it."""
    kubeconfig: pulumi.Output
    """The kubeconfig (exec-based `aws eks get-token`), as a secret."""
    pools: list
    """PoolDescriptor per GPU node group."""
    cluster: aws.eks.Cluster
    """The EKS cluster."""
    node_groups: dict
    """Node group name -> ManagedNodeGroup (the system group and every GPU group)."""
    autoscaler: Optional[ClusterAutoscaler]
    """The cluster-autoscaler, when `autoscaler: cluster-autoscaler`."""
    karpenter: Optional[Karpenter]
    """Karpenter and its NodePools, when `autoscaler: karpenter` (then no managed GPU node groups)."""
    model_cache: Optional[EfsModelCache]
    """EFS file system, EFS CSI add-on and StorageClass `efs-sc`, when `shared_cache`."""
    block_storage: EbsCsiDriver
    """EBS CSI add-on and the default StorageClass `gp3` (Prometheus' and per-replica cache claims)."""
    aws_provider: aws.Provider
    """The AWS provider every AWS resource of the cluster uses: region from `llmfleet:cluster.region`."""
    oidc_provider_arn: pulumi.Output
    """The cluster's IAM OIDC provider (IRSA trust policies)."""
    oidc_issuer: pulumi.Output
    """The cluster's OIDC issuer URL."""

    def __init__(self, name: str, args: EksClusterArgs, opts: Optional[ResourceOptions] = None):
        spec: ClusterSpec = args["cluster"]
        s: AwsSettings = spec.settings or AwsSettings()
        region, cname = spec.region, spec.name
        # The region comes from the stack, not from whatever `aws:region`/AWS_REGION the runner has. Passed to
        # the component as its `aws` provider, so every child (and grandchild) inherits it. Switching existing
        # resources from the default provider to this one is an update, not a replacement, when the region is
        # the same (the engine asks the provider's DiffConfig: pulumi/pulumi#18509); docs/aws.md says how to check.
        self.aws_provider = aws.Provider(f"{name}-aws", region=region)
        super().__init__("llmfleet:aws:EksCluster", name, None,
                         ResourceOptions.merge(opts, ResourceOptions(providers={"aws": self.aws_provider})))
        # Deleting or replacing these loses every workload, every Secret or the cached weights: prod stacks refuse
        # (`pulumi up` fails) and keep them if the stack is destroyed after unprotecting.
        keep = protected(spec)
        kept = ResourceOptions(protect=keep, retain_on_delete=keep)
        tags = {**s.tags, **spec.tags, "llmfleet.io/cluster": cname, "llmfleet.io/environment": spec.environment}
        child = ResourceOptions(parent=self)
        zones = cluster_zones(spec)

        network = VpcNetwork(f"{name}-network", {"cluster_name": cname, "cidr": s.vpc_cidr, "zones": zones,
                                                 "single_nat_gateway": s.single_nat_gateway,
                                                 "subnet_cidrs": s.subnet_cidrs, "tags": tags},
                             opts=child)
        private_subnets = [network.private_subnet_ids[z] for z in zones]

        # --- control plane ---------------------------------------------------------------------------------
        cluster_role = aws.iam.Role(f"{name}-cluster-role", name=f"{cname}-cluster",
                                    assume_role_policy=iam.service_trust("eks.amazonaws.com"), tags=tags, opts=child)
        cluster_policy = aws.iam.RolePolicyAttachment(
            f"{name}-cluster-policy", role=cluster_role.name,
            policy_arn=iam.managed_policy(region, "AmazonEKSClusterPolicy"), opts=child)
        # Created before the cluster so its retention applies (EKS would otherwise create it, kept forever).
        logs = aws.cloudwatch.LogGroup(f"{name}-logs", name=f"/aws/eks/{cname}/cluster",
                                       retention_in_days=s.log_retention_days, tags=tags, opts=child)
        encryption = None
        if s.secrets_encryption:
            key = aws.kms.Key(f"{name}-secrets-key", description=f"EKS {cname} Secrets envelope encryption",
                              enable_key_rotation=True, deletion_window_in_days=30, tags=tags,
                              opts=ResourceOptions.merge(child, kept))
            encryption = aws.eks.ClusterEncryptionConfigArgs(
                resources=["secrets"], provider=aws.eks.ClusterEncryptionConfigProviderArgs(key_arn=key.arn))

        self.cluster = aws.eks.Cluster(
            f"{name}-eks",
            name=cname,
            version=spec.kubernetes_version,
            role_arn=cluster_role.arn,
            vpc_config=aws.eks.ClusterVpcConfigArgs(
                subnet_ids=private_subnets,
                endpoint_private_access=s.endpoint_access != "public",
                endpoint_public_access=s.endpoint_access != "private",
                # No list means anywhere (EKS's own default); prod environments must name one (spec/clouds/aws.py).
                public_access_cidrs=list(s.public_access_cidrs or ANYWHERE) if s.endpoint_access != "private" else None),
            # Access entries only (no aws-auth ConfigMap); whoever runs `pulumi up` becomes cluster admin so the
            # Kubernetes provider below can install the rest.
            access_config=aws.eks.ClusterAccessConfigArgs(authentication_mode="API",
                                                          bootstrap_cluster_creator_admin_permissions=True),
            # vpc-cni, kube-proxy and CoreDNS are installed below as managed add-ons instead of the unmanaged
            # copies EKS would otherwise bootstrap.
            bootstrap_self_managed_addons=False,
            encryption_config=encryption,
            enabled_cluster_log_types=list(s.control_plane_logs),
            tags=tags,
            opts=ResourceOptions(parent=self, depends_on=[cluster_policy, logs], protect=keep,
                                 retain_on_delete=keep))

        issuer = self.cluster.identities.apply(lambda ids: ids[0].oidcs[0].issuer)
        oidc = aws.iam.OpenIdConnectProvider(f"{name}-oidc", url=issuer, client_id_lists=["sts.amazonaws.com"],
                                             tags=tags, opts=child)
        # For IRSA roles of later layers (the vault reader, components/aws/vault.py).
        self.oidc_provider_arn, self.oidc_issuer = oidc.arn, issuer

        # Extra cluster admins (a CI role next to whoever created the cluster). Named by principal, not list
        # position: removing the first entry must not re-point (replace) the others; the alias keeps entries made
        # when they were named by position.
        for i, arn in enumerate(s.admin_role_arns):
            key = admin_key(arn)
            entry = aws.eks.AccessEntry(f"{name}-admin-{key}", cluster_name=self.cluster.name, principal_arn=arn,
                                        type="STANDARD", tags=tags,
                                        opts=ResourceOptions(parent=self, aliases=[pulumi.Alias(name=f"{name}-admin-{i}")]))
            aws.eks.AccessPolicyAssociation(
                f"{name}-admin-{key}", cluster_name=self.cluster.name, principal_arn=arn,
                policy_arn=ADMIN_POLICY.format(partition=iam.partition(region)),
                access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(type="cluster"),
                opts=ResourceOptions(parent=self, depends_on=[entry], aliases=[pulumi.Alias(name=f"{name}-admin-{i}")]))

        # Networking add-ons before any node: a node without the CNI never becomes Ready.
        early_addons = ["vpc-cni", "kube-proxy"] + (["eks-pod-identity-agent"] if s.identity == "pod-identity" else [])
        # Add-on versions: EKS's default version for the cluster's Kubernetes minor (components/aws/addons.py),
        # so a `kubernetesVersion` bump upgrades them too; unset, EKS would keep the version chosen at creation.
        version = self.cluster.version
        addons = {a: aws.eks.Addon(f"{name}-addon-{a}", cluster_name=self.cluster.name, addon_name=a,
                                   addon_version=addon_version(a, version, self.aws_provider),
                                   resolve_conflicts_on_create="OVERWRITE", resolve_conflicts_on_update="OVERWRITE",
                                   configuration_values=ADDON_CONFIG.get(a), tags=tags, opts=child)
                  for a in early_addons}

        # --- nodes -----------------------------------------------------------------------------------------
        node_role = aws.iam.Role(f"{name}-node-role", name=f"{cname}-node",
                                 assume_role_policy=iam.service_trust("ec2.amazonaws.com"), tags=tags, opts=child)
        node_policies = [aws.iam.RolePolicyAttachment(
            f"{name}-node-{p}", role=node_role.name, policy_arn=iam.managed_policy(region, p), opts=child)
            # SSM instead of SSH keys for debugging a node.
            for p in ("AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly",
                      "AmazonSSMManagedInstanceCore")]
        node_opts = ResourceOptions(parent=self, depends_on=[*node_policies, *addons.values()])
        discovery = {CA_DISCOVERY[0]: "true", CA_DISCOVERY[1].format(cluster=cname): "owned"}

        self.node_groups = {}
        sysn = s.system
        self.node_groups[SYSTEM_NODE_GROUP] = ManagedNodeGroup(f"{name}-{SYSTEM_NODE_GROUP}", {
            "cluster_name": self.cluster.name, "node_group_name": SYSTEM_NODE_GROUP, "node_role_arn": node_role.arn,
            "subnet_ids": [network.private_subnet_ids[z] for z in (sysn.zones or zones)],
            "instance_type": sysn.instance_type, "ami_type": "AL2023_x86_64_STANDARD",
            "capacity_type": "ON_DEMAND", "min_nodes": sysn.min_nodes, "max_nodes": sysn.max_nodes,
            "disk_gb": sysn.disk_gb, "labels": {LABEL_ROLE: SYSTEM_NODE_GROUP}, "taints": [],
            "reservation_id": None, "capacity_block": False, "kubernetes_version": version, "protect": False,
            "live_desired": live_desired_size(cname, SYSTEM_NODE_GROUP, self.aws_provider),
            # Hop limit 2: add-on controllers in pods (e.g. a load balancer controller) may read the region and
            # VPC from instance metadata.
            "imds_hop_limit": 2, "template_resources": {}, "tags": tags, "node_group_tags": discovery}, opts=node_opts)

        self.pools = describe_pools(args["pools"], args["prices"])
        by_name = {p.name: p for p in args["pools"]}
        # With Karpenter, GPU pools are NodePools (below); managed node groups only in the other modes.
        for d in ([] if s.autoscaler == "karpenter" else self.pools):
            pool = by_name[d.name]
            subnets = [network.private_subnet_ids[z] for z in (pool.zones or zones)]
            extra = template_resources(d, args.get("mig_strategy", "mixed"))
            self.node_groups[d.node_group] = ManagedNodeGroup(f"{name}-{d.node_group}", {
                "cluster_name": self.cluster.name, "node_group_name": d.node_group, "node_role_arn": node_role.arn,
                "subnet_ids": subnets, "instance_type": d.instance_type, "ami_type": AWS_IMAGES[pool.image],
                "capacity_type": eks_capacity_type(d.capacity, s), "min_nodes": d.min_nodes,
                "max_nodes": d.max_nodes, "disk_gb": pool.disk_gb, "labels": d.node_labels, "taints": d.taints,
                "reservation_id": pool.reservation if d.capacity == "reserved" else None,
                "capacity_block": d.capacity == "reserved" and s.reservation_type == "capacity-block",
                "kubernetes_version": version, "protect": False,
                "live_desired": live_desired_size(cname, d.node_group, self.aws_provider),
                # Hop limit 1: model servers have no business with the node's instance role.
                "imds_hop_limit": 1, "template_resources": extra, "tags": tags, "node_group_tags": discovery}, opts=node_opts)

        system = self.node_groups[SYSTEM_NODE_GROUP].node_group
        addons["coredns"] = aws.eks.Addon(
            f"{name}-addon-coredns", cluster_name=self.cluster.name, addon_name="coredns",
            addon_version=addon_version("coredns", version, self.aws_provider),
            resolve_conflicts_on_create="OVERWRITE", resolve_conflicts_on_update="OVERWRITE", tags=tags,
            # CoreDNS pods need a node to become healthy; the add-on reports DEGRADED until one exists.
            opts=ResourceOptions(parent=self, depends_on=[system]))

        # --- Kubernetes access -------------------------------------------------------------------------------
        self.kubeconfig = pulumi.Output.secret(pulumi.Output.all(
            self.cluster.name, self.cluster.endpoint, self.cluster.certificate_authority.apply(lambda ca: ca.data),
        ).apply(lambda a: kubeconfig_json(a[0], region, a[1], a[2])))
        # cluster_identifier: the provider is replaced (and with it every Kubernetes object of the stack) only when
        # this changes, not when the kubeconfig does (an unknown endpoint during an update, a new CA). The ARN
        # names the cluster; the creation time changes only when the cluster itself is replaced.
        # depends_on the system group: nothing installed through the provider can run before a node exists.
        self.cluster_identifier = pulumi.Output.concat(self.cluster.arn, "@", self.cluster.created_at)
        self.provider = k8s.Provider(
            f"{name}-k8s", kubeconfig=self.kubeconfig, enable_server_side_apply=True,
            cluster_identifier=self.cluster_identifier,
            opts=ResourceOptions(parent=self, depends_on=[system]))

        self.autoscaler = None
        if s.autoscaler == "cluster-autoscaler":
            groups = [(1, SYSTEM_NODE_GROUP)] + [(d.priority, d.node_group) for d in self.pools]
            self.autoscaler = ClusterAutoscaler(f"{name}-autoscaler", {
                "cluster_name": cname, "eks_cluster_name": self.cluster.name, "cluster_arn": self.cluster.arn, "region": region,
                "kubernetes_version": spec.kubernetes_version, "identity": s.identity,
                "oidc_provider_arn": oidc.arn, "oidc_issuer": issuer, "priorities": groups,
                "node_selector": {LABEL_ROLE: SYSTEM_NODE_GROUP},
                "depends_on": [system, *addons.values()], "tags": tags,
            }, opts=ResourceOptions(parent=self, providers={"kubernetes": self.provider}))

        self.karpenter = None
        if s.autoscaler == "karpenter":
            self.karpenter = Karpenter(f"{name}-karpenter", {
                "cluster_name": cname, "eks_cluster_name": self.cluster.name, "cluster_arn": self.cluster.arn,
                "cluster_endpoint": self.cluster.endpoint,
                "cluster_security_group_id": self.cluster.vpc_config.cluster_security_group_id,
                "region": region, "identity": s.identity, "oidc_provider_arn": oidc.arn, "oidc_issuer": issuer,
                "pools": args["pools"], "descriptors": self.pools, "zones": zones,
                "node_selector": {LABEL_ROLE: SYSTEM_NODE_GROUP},
                # The system group does not grow in this mode (no cluster-autoscaler): one replica per node.
                "controller_replicas": min(2, sysn.min_nodes),
                "depends_on": [system, *addons.values()], "tags": tags,
            }, opts=ResourceOptions(parent=self, providers={"kubernetes": self.provider}))

        self.block_storage = EbsCsiDriver(f"{name}-ebs", {
            "cluster_name": cname, "eks_cluster_name": self.cluster.name, "region": region, "identity": s.identity,
            "oidc_provider_arn": oidc.arn, "oidc_issuer": issuer,
            "addon_version": addon_version("aws-ebs-csi-driver", version, self.aws_provider),
            "depends_on": [system, *addons.values()], "tags": tags},
            opts=ResourceOptions(parent=self, providers={"kubernetes": self.provider}))

        self.model_cache = None
        if args.get("shared_cache"):
            self.model_cache = EfsModelCache(f"{name}-model-cache", {
                "cluster_name": cname, "eks_cluster_name": self.cluster.name, "region": region,
                "vpc_id": network.vpc.id, "subnets": {z: network.private_subnet_ids[z] for z in zones},
                "node_cidrs": [zone_cidrs(s.vpc_cidr, z, s.subnet_cidrs)[0] for z in zones], "identity": s.identity,
                "oidc_provider_arn": oidc.arn, "oidc_issuer": issuer, "depends_on": [system, *addons.values()],
                "addon_version": addon_version("aws-efs-csi-driver", version, self.aws_provider), "protect": keep,
                "tags": tags}, opts=ResourceOptions(parent=self, providers={"kubernetes": self.provider}))

        self.register_outputs({"clusterName": self.cluster.name, "endpoint": self.cluster.endpoint,
                               "oidcProviderArn": oidc.arn, "kubeconfig": self.kubeconfig,
                               "nodeGroups": list(self.node_groups)})
