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
import json
from typing import Optional, Sequence, TypedDict

import pulumi
import pulumi_kubernetes as k8s
import yaml
from pulumi import ResourceOptions
from pulumi_azure_native import authorization, containerservice

from components.azure.audit import audit_logs
from components.azure.identity import grant_subnet, make_control_plane_identity, role_definition_id
from components.azure.network import make_network
from components.azure.pools import AgentPoolPlan, agent_pool_inputs, plan_pools
from components.azure.priority import make_priority_configmap, priorities
from components.descriptors import LABEL_ROLE
from spec.environment import is_production
from spec.clouds.azure import AzureSettings, CpuPool
from spec.cluster import ClusterSpec
from spec.pools import PoolSpec

SYSTEM_POOL = "system"
GENERAL_POOL = "general"
# AKS's documented taint for dedicated system pools: only critical add-ons (CoreDNS, konnectivity, metrics-server)
# tolerate it, so nothing of ours (and nothing GPU) lands there.
SYSTEM_TAINT = "CriticalAddonsOnly=true:NoSchedule"
# Built-in role "Azure Kubernetes Service RBAC Cluster Admin" (Azure built-in roles reference; the GUID is the same
# in every tenant). With Entra ID + Azure RBAC, Kubernetes access is an Azure role assignment.
AKS_RBAC_CLUSTER_ADMIN = "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b"
# The AKS Entra ID server application (the token audience kubelogin asks for; the same id in every tenant).
AKS_AAD_SERVER_ID = "6dae42f8-4368-4678-94ff-3960e28e3630"
# AKS's fixed names for the planned-maintenance schedules of the two auto-upgrade channels.
MAINTENANCE_CONFIGS = {"aksManagedAutoUpgradeSchedule": "upgrade_channel",
                       "aksManagedNodeOSUpgradeSchedule": "node_os_upgrade_channel"}


class AksClusterArgs(TypedDict):
    cluster: ClusterSpec
    """Cluster spec: name, region, zones (system and general pools), Kubernetes minor, `settings` (AzureSettings)."""
    pools: Sequence[PoolSpec]
    """Validated GPU pools; each becomes one agent pool per capacity type in its chain."""
    prices: dict
    """Price table ("azure/<vm size>" -> Price) for the descriptors' per-node hourly price."""
    mig_strategy: str
    """The NVIDIA layer's MIG strategy (single|mixed): which resource a MIG node advertises, for the autoscaler's
    scale-from-zero template tags."""


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
    maintenance: list
    """MaintenanceConfiguration per auto-upgrade channel in use."""
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
                **settings.tags, **spec.tags}

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
            api_server_access_profile=_api_server_access(settings),
            # Entra ID authentication, Azure RBAC authorization; no static local-account credentials.
            aad_profile=({"managed": True, "enable_azure_rbac": True,
                          "admin_group_object_ids": list(settings.admin_group_object_ids) or None}
                         if settings.entra_id else None),
            disable_local_accounts=settings.entra_id,
            agent_pool_profiles=[_system_pool(settings.system_pool, settings, spec.zones, net.subnet.id)],
            tags=tags,
            opts=ResourceOptions(
                parent=self, depends_on=[grant] if grant else [],
                # The autoscaler owns the pool size after creation.
                ignore_changes=["agentPoolProfiles[0].count"],
                # Prod: Pulumi refuses to delete or replace the cluster (a rename or a forces-new change plans a
                # replacement of the whole cluster and its volumes).
                protect=is_production(spec.environment)))

        # API server audit log: on in production unless the stack says otherwise (spec/clouds/azure.py).
        if settings.audit_logs if settings.audit_logs is not None else is_production(spec.environment):
            audit_logs(name, spec.name, rg_name, spec.region, aks.id, tags, parent=self)

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
            **_with_tags(_general_pool(settings.general_pool, settings, spec.zones), tags),
            opts=ResourceOptions(parent=self, ignore_changes=["count"], delete_before_replace=True))
        previous = [general]
        self.plans: list[AgentPoolPlan] = plan_pools(args["pools"], args["prices"],
                                                           args.get("mig_strategy", "mixed"))
        agent_pools = [general]
        for plan in self.plans:
            pool = containerservice.AgentPool(
                f"{name}-{plan.name}",
                resource_group_name=rg_name,
                resource_name_=aks.name,
                vnet_subnet_id=net.subnet.id,
                **_with_tags(agent_pool_inputs(plan, settings), tags),
                # Fixed names (the priority expander's regexes and the descriptors name them): a forces-new change
                # (vmSize, gpuInstanceProfile: pulumi-azure-native#3655) deletes the pool before creating it again;
                # create-first fails with a name conflict. The cost is a capacity gap (docs/azure.md).
                opts=ResourceOptions(parent=self, depends_on=previous, ignore_changes=["count"],
                                     delete_before_replace=True))
            previous = [pool]
            agent_pools.append(pool)

        self.maintenance = [
            containerservice.MaintenanceConfiguration(
                f"{name}-{config}", resource_group_name=rg_name, resource_name_=aks.name, config_name=config,
                maintenance_window=_maintenance_window(settings), opts=ResourceOptions(parent=self, depends_on=[aks]))
            for config, channel in MAINTENANCE_CONFIGS.items()
            if getattr(settings, channel) not in ("none", "None", "Unmanaged")]

        access = []
        if settings.entra_id:
            # Whoever runs `pulumi up` (a user or CI's service principal) administers the cluster through Azure
            # RBAC; the principal type is left for ARM to look up (it may be either).
            me = authorization.get_client_config_output(opts=pulumi.InvokeOutputOptions(parent=self))
            access.append(authorization.RoleAssignment(
                f"{name}-deployer-cluster-admin", scope=aks.id, principal_id=me.object_id,
                role_definition_id=role_definition_id(AKS_RBAC_CLUSTER_ADMIN, self),
                opts=ResourceOptions(parent=self)))

        # The credentials depend on the cluster only: an invoke that waits for the agent pools returns an unknown
        # kubeconfig in any preview that adds or changes a pool, and an unknown kubeconfig replaces the provider
        # and every object bound to it (pulumi-kubernetes#4019). Ordering after the pools is the provider's
        # depends_on, which does not feed its inputs.
        creds = containerservice.list_managed_cluster_user_credentials_output(
            resource_group_name=rg_name, resource_name=aks.name,
            format="exec" if settings.entra_id else None,
            opts=pulumi.InvokeOutputOptions(parent=self, depends_on=[aks]))
        self.kubeconfig = pulumi.Output.secret(creds.kubeconfigs.apply(
            lambda k: _kubeconfig(base64.b64decode(k[0].value).decode(), settings.entra_id)))
        self.cluster_identifier = f"aks/{settings.resource_group_name(spec.name)}/{spec.name}"
        self.provider = k8s.Provider(
            f"{name}-k8s",
            kubeconfig=self.kubeconfig,
            # Server-side apply: field ownership is tracked, so Helm and operators editing the same objects
            # do not fight Pulumi.
            enable_server_side_apply=True,
            # Replaced only when this changes (pulumi-kubernetes 4.34.2 `clusterIdentifier`), never because the
            # kubeconfig is unknown in a preview or its CA was rotated.
            cluster_identifier=self.cluster_identifier,
            # Kubernetes objects wait for every pool (charts need the general pool's nodes, the NVIDIA layer's
            # DaemonSets the GPU pools' labels) and for the deployer's RBAC role.
            opts=ResourceOptions(parent=self, depends_on=[*agent_pools, *access]))

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


def _api_server_access(s: AzureSettings) -> Optional[dict]:
    if s.private_cluster:
        return {"enable_private_cluster": True}
    if s.authorized_ip_ranges:
        return {"authorized_ip_ranges": list(s.authorized_ip_ranges)}
    return None


def _maintenance_window(s: AzureSettings) -> dict:
    w = s.maintenance_window
    return {"schedule": {"weekly": {"day_of_week": w.day_of_week, "interval_weeks": 1}},
            "start_time": w.start_time, "duration_hours": w.duration_hours, "utc_offset": w.utc_offset}


def _kubeconfig(text: str, entra_id: bool) -> str:
    """The user kubeconfig. With Entra ID, AKS answers (format=exec) with a kubelogin exec user whose default
    login is an interactive device code; Pulumi and CI need a non-interactive one, so the user runs
    `kubelogin get-token --login azurecli`: the token of whoever ran `az login` (a user or a service principal)."""
    if not entra_id:
        return text
    config = yaml.safe_load(text)
    for user in config.get("users") or []:
        user["user"] = {"exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1", "command": "kubelogin",
            "args": ["get-token", "--login", "azurecli", "--server-id", AKS_AAD_SERVER_ID],
            "installHint": "Install kubelogin for kubectl and Pulumi to reach AKS: az aks install-cli",
            "interactiveMode": "Never"}}
    return json.dumps(config, indent=2)


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


def _with_tags(inputs: dict, tags: dict) -> dict:
    """Agent pools carry the cluster's tags too (AKS copies them onto the pool's scale set and its VMs): the
    cost-allocation tags, and `llmfleet-cluster`, which the stack's budget filters on."""
    return {**inputs, "tags": {**tags, **inputs.get("tags", {})}}


def _system_pool(pool: CpuPool, s: AzureSettings, zones: Sequence[str], subnet_id: pulumi.Input[str]) -> dict:
    """The cluster's inline system pool, tainted so only critical add-ons run there."""
    return {"name": SYSTEM_POOL, **_cpu_pool(pool, s, zones, SYSTEM_POOL, "System"),
            "node_taints": [SYSTEM_TAINT], "vnet_subnet_id": subnet_id}


def _general_pool(pool: CpuPool, s: AzureSettings, zones: Sequence[str]) -> dict:
    """An untainted CPU pool for everything that is neither a critical add-on nor a GPU workload (operators,
    KEDA, monitoring): the system pool is tainted and GPU pools repel non-GPU pods."""
    return {"agent_pool_name": GENERAL_POOL, **_cpu_pool(pool, s, zones, GENERAL_POOL, "User"),
            "tags": {"llmfleet-pool": GENERAL_POOL}}
