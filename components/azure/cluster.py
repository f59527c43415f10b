"""AksCluster: resource group, VNet, AKS with OIDC + Workload Identity, one agent pool per (GPU pool, capacity).

Agent pools other than the system pool are separate `AgentPool` resources, never inline `agentPoolProfiles`:
AKS refuses to add pools through a managed-cluster PUT ("Adding agent pools to an existing cluster is not allowed
through managed cluster operations", pulumi-azure-native#579), and editing an inline pool puts every pool of the
cluster into Scaling (pulumi-azure-native#4264). Only the system pool, which a cluster cannot be created without,
is inline.

No `orchestratorVersion` is set on any pool: pools are created at the control plane's version, and AKS rejects a
managed-cluster update where some pools pin a version and others do not.
"""
import base64
from typing import Optional, Sequence, TypedDict

import pulumi
import pulumi_kubernetes as k8s
from pulumi import ResourceOptions
from pulumi_azure_native import containerservice

from components.azure.identity import grant_subnet, make_control_plane_identity
from components.azure.network import make_network
from components.azure.pools import AgentPoolPlan, agent_pool_inputs, plan_pools
from components.azure.priority import make_priority_configmap, priorities
from components.descriptors import LABEL_ROLE
from spec.clouds.azure import AzureSettings, CpuPool
from spec.cluster import ClusterSpec
from spec.pools import PoolSpec

SYSTEM_POOL = "system"
GENERAL_POOL = "general"
# AKS's documented taint for dedicated system pools: only critical add-ons (CoreDNS, konnectivity, metrics-server)
# tolerate it, so nothing of ours (and nothing GPU) lands there.
SYSTEM_TAINT = "CriticalAddonsOnly=true:NoSchedule"


class AksClusterArgs(TypedDict):
    cluster: ClusterSpec
    """Cluster spec: name, region, zones (system and general pools), Kubernetes minor, `settings` (AzureSettings)."""
    pools: Sequence[PoolSpec]
    """Validated GPU pools; each becomes one agent pool per capacity type in its chain."""
    prices: dict
    """Price table ("azure/<vm size>" -> Price) for the descriptors' per-node hourly price."""


class AksCluster(pulumi.ComponentResource):
    provider: k8s.Provider
    """Kubernetes provider for the cluster (server-side apply); every Kubernetes object of the stack uses it."""
    kubeconfig: pulumi.Output
    """The cluster user kubeconfig, as a secret."""
    pools: list
    """PoolDescriptor per agent pool (one per GPU pool and capacity type), in spec order."""
    plans: list
    """AgentPoolPlan per GPU agent pool (the inputs behind each descriptor)."""
    cluster_name: pulumi.Output
    """The AKS resource name."""
    resource_group_name: pulumi.Output
    """The resource group holding the cluster, VNet and identity."""
    oidc_issuer_url: pulumi.Output
    """OIDC issuer URL, for Workload Identity federated credentials of later layers."""
    kubelet_identity_object_id: pulumi.Output
    """Object id of the nodes' kubelet identity (for AcrPull and similar grants)."""

    def __init__(self, name: str, args: AksClusterArgs, opts: Optional[ResourceOptions] = None):
        super().__init__("llmfleet:azure:AksCluster", name, None, opts)
        spec: ClusterSpec = args["cluster"]
        settings: AzureSettings = spec.settings
        tags = {"managed-by": "llmfleet", "llmfleet-cluster": spec.name, "llmfleet-environment": spec.environment,
                **settings.tags}

        net = make_network(name, spec.name, spec.region, settings, tags, parent=self)
        rg_name = net.resource_group.name

        grant = None
        if settings.identity == "userAssigned":
            uai = make_control_plane_identity(name, spec.name, rg_name, spec.region, tags, parent=self)
            grant = grant_subnet(name, net.subnet, uai.principal_id, parent=self)
            identity = {"type": "UserAssigned", "user_assigned_identities": [uai.id]}
        else:
            identity = {"type": "SystemAssigned"}

        aks = containerservice.ManagedCluster(
            f"{name}-aks",
            resource_group_name=rg_name,
            resource_name_=spec.name,
            location=spec.region,
            dns_prefix=spec.name,
            kubernetes_version=spec.kubernetes_version,
            sku={"name": "Base", "tier": settings.sku_tier},
            identity=identity,
            enable_rbac=True,
            oidc_issuer_profile={"enabled": True},
            # Both are AKS defaults, stated so they cannot drift: Azure Files backs the built-in
            # `azurefile-csi-premium` class of the shared model cache, Azure Disk the per-replica caches.
            storage_profile={"file_csi_driver": {"enabled": True}, "disk_csi_driver": {"enabled": True}},
            security_profile={"workload_identity": {"enabled": True}},
            network_profile=_network_profile(settings),
            auto_scaler_profile=_autoscaler_profile(settings),
            auto_upgrade_profile={"upgrade_channel": settings.upgrade_channel,
                                  "node_os_upgrade_channel": settings.node_os_upgrade_channel},
            api_server_access_profile=({"authorized_ip_ranges": list(settings.authorized_ip_ranges)}
                                       if settings.authorized_ip_ranges else None),
            agent_pool_profiles=[_system_pool(settings.system_pool, settings, spec.zones, net.subnet.id)],
            tags=tags,
            opts=ResourceOptions(
                parent=self, depends_on=[grant] if grant else [],
                # The autoscaler owns the pool size after creation.
                ignore_changes=["agentPoolProfiles[0].count"]))

        if grant is None:
            grant_subnet(name, net.subnet, aks.identity.apply(lambda i: i.principal_id), parent=self,
                         depends_on=[aks])

        # Pools are created one after another: AKS has answered concurrent operations on one cluster with 409
        # "operation in progress" (not re-checked against API 2025-09-01); serial creation costs minutes, not
        # failed deployments.
        general = containerservice.AgentPool(
            f"{name}-{GENERAL_POOL}",
            resource_group_name=rg_name,
            resource_name_=aks.name,
            vnet_subnet_id=net.subnet.id,
            **_general_pool(settings.general_pool, settings, spec.zones),
            opts=ResourceOptions(parent=self, ignore_changes=["count"]))
        previous = [general]
        self.plans: list[AgentPoolPlan] = plan_pools(args["pools"], args["prices"])
        agent_pools = [general]
        for plan in self.plans:
            pool = containerservice.AgentPool(
                f"{name}-{plan.name}",
                resource_group_name=rg_name,
                resource_name_=aks.name,
                vnet_subnet_id=net.subnet.id,
                **agent_pool_inputs(plan, settings),
                opts=ResourceOptions(parent=self, depends_on=previous, ignore_changes=["count"]))
            previous = [pool]
            agent_pools.append(pool)

        # Kubernetes objects wait for every pool: charts installed next need the general pool's nodes, and the
        # NVIDIA layer's DaemonSets target the GPU pools' labels.
        creds = containerservice.list_managed_cluster_user_credentials_output(
            resource_group_name=rg_name, resource_name=aks.name,
            opts=pulumi.InvokeOutputOptions(parent=self, depends_on=agent_pools))
        self.kubeconfig = pulumi.Output.secret(
            creds.kubeconfigs.apply(lambda k: base64.b64decode(k[0].value).decode()))
        self.provider = k8s.Provider(
            f"{name}-k8s",
            kubeconfig=self.kubeconfig,
            # Server-side apply: field ownership is tracked, so Helm and operators editing the same objects
            # do not fight Pulumi.
            enable_server_side_apply=True,
            opts=ResourceOptions(parent=self))

        document = priorities([(p.name, p.descriptor.priority) for p in self.plans], [GENERAL_POOL, SYSTEM_POOL])
        self.priority_configmap = make_priority_configmap(name, document, self.provider, parent=self,
                                                          depends_on=agent_pools)

        self.pools = [p.descriptor for p in self.plans]
        self.cluster_name = aks.name
        self.resource_group_name = rg_name
        self.oidc_issuer_url = aks.oidc_issuer_profile.apply(lambda p: p.issuer_url if p else None)
        self.kubelet_identity_object_id = aks.identity_profile.apply(
            lambda ids: ids["kubeletidentity"].object_id if ids and "kubeletidentity" in ids else None)
        self.register_outputs({
            "kubeconfig": self.kubeconfig, "clusterName": self.cluster_name,
            "resourceGroupName": self.resource_group_name, "oidcIssuerUrl": self.oidc_issuer_url,
        })


def _network_profile(s: AzureSettings) -> dict:
    return {
        "network_plugin": s.network_plugin,
        "network_plugin_mode": s.network_plugin_mode,
        "network_dataplane": s.network_dataplane,
        "network_policy": s.network_policy,
        "pod_cidr": s.pod_cidr,
        "service_cidr": s.service_cidr,
        "dns_service_ip": s.dns_service_ip,
        "load_balancer_sku": "standard",
        "outbound_type": "loadBalancer",
    }


def _autoscaler_profile(s: AzureSettings) -> dict:
    a = s.autoscaler
    # The ARM API takes every value here as a string, booleans included.
    return {
        "expander": a.expander,
        "scan_interval": a.scan_interval,
        "scale_down_unneeded_time": a.scale_down_unneeded_time,
        "scale_down_delay_after_add": a.scale_down_delay_after_add,
        "max_node_provision_time": a.max_node_provision_time,
        "skip_nodes_with_local_storage": "true" if a.skip_nodes_with_local_storage else "false",
        "skip_nodes_with_system_pods": "true" if a.skip_nodes_with_system_pods else "false",
        "max_graceful_termination_sec": str(a.max_graceful_termination_sec),
        # Spot and on-demand pools of one GPU pool differ in labels anyway; balancing would spread a scale-up
        # across them and defeat the priority order.
        "balance_similar_node_groups": "false",
    }


def _cpu_pool(pool: CpuPool, s: AzureSettings, zones: Sequence[str], role: str, mode: str) -> dict:
    """What the system and the general CPU pools share: autoscaled Linux scale sets labelled with their role."""
    inputs = {
        "mode": mode,
        "type": "VirtualMachineScaleSets",
        "os_type": "Linux",
        "os_sku": s.os_sku,
        "vm_size": pool.vm_size,
        "enable_auto_scaling": True,
        "min_count": pool.min_nodes,
        "max_count": pool.max_nodes,
        "count": pool.min_nodes,
        "node_labels": {LABEL_ROLE: role},
    }
    if zones:
        inputs["availability_zones"] = list(zones)
    return inputs


def _system_pool(pool: CpuPool, s: AzureSettings, zones: Sequence[str], subnet_id: pulumi.Input[str]) -> dict:
    """The cluster's inline system pool, tainted so only critical add-ons run there."""
    return {"name": SYSTEM_POOL, **_cpu_pool(pool, s, zones, SYSTEM_POOL, "System"),
            "node_taints": [SYSTEM_TAINT], "vnet_subnet_id": subnet_id}


def _general_pool(pool: CpuPool, s: AzureSettings, zones: Sequence[str]) -> dict:
    """An untainted CPU pool for everything that is neither a critical add-on nor a GPU workload (operators,
    KEDA, monitoring): the system pool is tainted and GPU pools repel non-GPU pods."""
    return {"agent_pool_name": GENERAL_POOL, **_cpu_pool(pool, s, zones, GENERAL_POOL, "User"),
            "tags": {"llmfleet-pool": GENERAL_POOL}}
