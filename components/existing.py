"""ExistingCluster: a cluster someone else made (k3s at the edge, or any kubeconfig). No nodes are created;
the pools describe the GPU nodes that are already there, so the layers above know their labels and GPUs."""
from typing import Optional, Sequence, TypedDict

import pulumi
import pulumi_kubernetes as k8s
from pulumi import ResourceOptions

from components.descriptors import PoolDescriptor, driver_ownership
from spec.cluster import ClusterSpec
from spec.pools import PoolSpec
from spec.stack import SecretRef


class ExistingClusterArgs(TypedDict):
    cluster: ClusterSpec
    """Cluster spec; `context` picks the kubeconfig context (default: the kubeconfig's current one)."""
    pools: Sequence[PoolSpec]
    """The GPU node groups already in the cluster, with the labels and taints their nodes carry."""
    kubeconfig: SecretRef
    """The `llmfleet:kubeconfig` secret."""


def describe_existing(pools: Sequence[PoolSpec]) -> list[PoolDescriptor]:
    return [PoolDescriptor(
        name=p.name, cloud="existing", capacity="on-demand", node_group=p.name, gpu=p.gpu,
        gpus_per_node=p.gpus_per_node, instance_type=None, node_labels=dict(p.labels), taints=tuple(p.taints),
        sharing=p.sharing, driver=driver_ownership("existing", p.image, p.driver), min_nodes=p.min_nodes,
        max_nodes=p.max_nodes, price_hour=p.price_per_hour or 0.0) for p in pools]


class ExistingCluster(pulumi.ComponentResource):
    provider: k8s.Provider
    """Kubernetes provider for the cluster; every Kubernetes object of the stack goes through it."""
    kubeconfig: pulumi.Output
    """The kubeconfig, as a secret."""
    pools: list
    """PoolDescriptor per GPU node group."""

    def __init__(self, name: str, args: ExistingClusterArgs, opts: Optional[ResourceOptions] = None):
        super().__init__("llmfleet:cluster:ExistingCluster", name, None, opts)
        self.kubeconfig = pulumi.Output.secret(args["kubeconfig"].output())
        self.cluster_identifier = f"existing/{args['cluster'].name}"
        self.provider = k8s.Provider(
            f"{name}-k8s",
            kubeconfig=self.kubeconfig,
            context=args["cluster"].context,
            # pulumi-kubernetes replaces a provider whose kubeconfig points at another server or CA (a new k3s IP,
            # a rotated CA), and every object bound to it with it: namespaces and their volumes deleted and
            # recreated. A stable identifier makes those changes updates; only a new identifier replaces
            # (provider.go DiffConfig). The cluster's name is what says "same cluster" here.
            cluster_identifier=self.cluster_identifier,
            # Server-side apply: field ownership is tracked, so Helm and operators editing the same objects
            # do not fight Pulumi.
            enable_server_side_apply=True,
            opts=ResourceOptions(parent=self))
        self.pools = describe_existing(args["pools"])
        self.register_outputs({"kubeconfig": self.kubeconfig})
