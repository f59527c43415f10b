"""GkeCluster: a GKE Standard cluster with a system node pool and one GPU node pool per (pool, capacity type).

Children: the Google APIs it needs, the network (GkeNetwork), the node service account (NodeIdentity), the
cluster, the node pools, a Kubernetes provider over a credential-free kubeconfig, and optionally one ComputeClass
per GPU pool carrying its capacity fallback chain.
"""
import math
from typing import Optional, Sequence, TypedDict

import pulumi
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s
from pulumi import ResourceOptions

from components.descriptors import LABEL_ROLE
from components.gcp.computeclass import compute_class
from components.gcp.identity import NodeIdentity
from components.gcp.kubeconfig import kubeconfig
from components.gcp.network import PODS_RANGE, SERVICES_RANGE, GkeNetwork
from components.gcp.nodepools import GKE_DEFAULT_REGIONAL_ZONES, plan_pools
from spec.environment import is_production
from spec.clouds.gcp import GcpSettings
from spec.cluster import ClusterSpec
from spec.pools import PoolSpec

# Google APIs the cluster cannot be created without. They stay enabled on destroy: other things in the project
# may use them.
APIS = ("compute.googleapis.com", "container.googleapis.com")
# The Filestore CSI driver creates Filestore instances through this API (enabled only when a model needs it).
FILESTORE_API = "file.googleapis.com"
SYSTEM_POOL = "system"
CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"


def maintenance_policy(s: GcpSettings) -> dict:
    """A recurring window for GKE's automatic upgrades, and (pinned minor) an exclusion of minor upgrades until
    the minor's end of support; patch upgrades still happen, inside the window."""
    w = s.maintenance_window
    policy: dict = {"recurring_window": {"start_time": w.start, "end_time": w.end, "recurrence": w.recurrence}}
    if s.pin_minor:
        policy["maintenance_exclusions"] = [{
            "exclusion_name": "llmfleet-pin-minor", "start_time": w.start,
            "exclusion_options": {"scope": "NO_MINOR_UPGRADES", "end_time_behavior": "UNTIL_END_OF_SUPPORT"}}]
    return policy


def monitoring_config(managed_gpu: bool) -> Optional[dict]:
    """GKE's managed DCGM metrics need the DCGM component and Managed Service for Prometheus; SYSTEM_COMPONENTS
    must be listed whenever components are (pulumi-gcp 10.2.0 `ClusterMonitoringConfig`)."""
    if not managed_gpu:
        return None
    return {"enable_components": ["SYSTEM_COMPONENTS", "DCGM"], "managed_prometheus": {"enabled": True}}


class GkeClusterArgs(TypedDict):
    cluster: ClusterSpec
    """Cluster spec; `settings` is the GcpSettings read from `llmfleet:cluster.gcp`."""
    pools: Sequence[PoolSpec]
    """GPU pools; each becomes one node pool per capacity type in its chain."""
    prices: dict
    """`cloud/type` -> Price (catalog merged with stack overrides), for the pool descriptors."""
    shared_cache: bool
    """A model's shared cache uses a Filestore class (`standard-rwx`...): enable the Filestore CSI add-on."""
    pool_groups: dict
    """Pool name -> its group's first pool (spec/pools.py pool_groups): one ComputeClass per group."""


class GkeCluster(pulumi.ComponentResource):
    cluster: gcp.container.Cluster
    """The GKE cluster."""
    node_pools: dict
    """GKE node pool name -> NodePool, the system pool included."""
    provider: k8s.Provider
    """Kubernetes provider for the cluster; every Kubernetes object of the stack goes through it."""
    kubeconfig: pulumi.Output
    """Kubeconfig (secret) that authenticates with gke-gcloud-auth-plugin."""
    pools: list
    """PoolDescriptor per GPU node pool, in (pool, capacity chain) order."""
    compute_classes: list
    """ComputeClass custom resources (empty unless `cluster.gcp.computeClass` is true)."""

    def __init__(self, name: str, args: GkeClusterArgs, opts: Optional[ResourceOptions] = None):
        super().__init__("llmfleet:gcp:GkeCluster", name, None, opts)
        spec: ClusterSpec = args["cluster"]
        s: GcpSettings = spec.settings
        location = spec.region if s.regional else s.zone
        child = ResourceOptions(parent=self)

        shared_cache = bool(args.get("shared_cache"))
        managed_gpu = any(p.driver == "cloud" for p in args["pools"])
        apis = [gcp.projects.Service(f"{name}-{api.split('.')[0]}-api", project=s.project, service=api,
                                     disable_on_destroy=False, opts=child)
                for api in APIS + ((FILESTORE_API,) if shared_cache else ())]
        after_apis = ResourceOptions(parent=self, depends_on=apis)
        net = GkeNetwork(f"{name}-net", {"settings": s, "region": spec.region}, opts=after_apis)
        identity = NodeIdentity(f"{name}-nodes", {"project": s.project, "cluster_name": spec.name}, opts=after_apis)
        sa_email = identity.account.email
        zones = list(spec.zones) if s.regional and spec.zones else None

        self.cluster = gcp.container.Cluster(
            f"{name}-gke", name=spec.name, project=s.project, location=location, node_locations=zones,
            network=net.network.id, subnetwork=net.subnet.id,
            # Standard mode with our own pools: GKE's default pool is created (the API requires one) then removed.
            remove_default_node_pool=True, initial_node_count=1,
            # The short-lived default pool must not run as the Compute Engine default account (often disabled).
            node_config={"service_account": sa_email, "oauth_scopes": [CLOUD_PLATFORM],
                         "workload_metadata_config": {"mode": "GKE_METADATA"}},
            release_channel={"channel": s.release_channel},
            # Pins the minor version the stack was planned for; the release channel patches within it, and the
            # NO_MINOR_UPGRADES exclusion below keeps the channel from moving the minor (docs/gcp.md).
            min_master_version=spec.kubernetes_version,
            maintenance_policy=maintenance_policy(s),
            # GKE-managed GPU pools run no DCGM exporter of ours: GKE's managed DCGM collection exports their GPU
            # metrics (needs Managed Service for Prometheus); observability scrapes the same exporter.
            monitoring_config=monitoring_config(managed_gpu),
            workload_identity_config={"workload_pool": s.workload_pool},
            networking_mode="VPC_NATIVE",
            ip_allocation_policy={"cluster_secondary_range_name": PODS_RANGE,
                                  "services_secondary_range_name": SERVICES_RANGE},
            private_cluster_config={"enable_private_nodes": True, "enable_private_endpoint": s.private_endpoint}
            if s.private_nodes else None,
            master_authorized_networks_config={"cidr_blocks": [
                {"cidr_block": c, "display_name": f"authorized-{i}"} for i, c in enumerate(s.authorized_networks)]}
            if s.authorized_networks else None,
            # Dataplane V2 enforces NetworkPolicy without a separate Calico add-on.
            datapath_provider="ADVANCED_DATAPATH",
            # GCS FUSE lets model servers mount weights from a bucket instead of downloading them per pod.
            # Filestore CSI only when a shared model cache needs it: it brings the `*-rwx` StorageClasses.
            addons_config={"gcs_fuse_csi_driver_config": {"enabled": True},
                           "gce_persistent_disk_csi_driver_config": {"enabled": True},
                           "gcp_filestore_csi_driver_config": {"enabled": shared_cache}},
            resource_labels={**spec.tags, "llmfleet-cluster": spec.name, "llmfleet-environment": spec.environment},
            deletion_protection=s.deletion_protection,
            # The removed default pool's node_config reads back differently and would show a diff forever.
            # Prod: Pulumi refuses to delete it too (deletion_protection only guards the GCP API call).
            opts=ResourceOptions(parent=self, depends_on=[*apis, identity], ignore_changes=["nodeConfig"],
                                 protect=is_production(spec.environment)))

        pool_args = {"cluster": self.cluster.name, "project": s.project, "location": location}
        self.node_pools = {}
        zone_count = len(zones) if zones else (GKE_DEFAULT_REGIONAL_ZONES if s.regional else 1)
        self.node_pools[SYSTEM_POOL] = gcp.container.NodePool(
            f"{name}-{SYSTEM_POOL}", name=SYSTEM_POOL, **pool_args, node_locations=zones,
            initial_node_count=max(1, math.ceil(s.system_min_nodes / zone_count)),
            autoscaling={"total_min_node_count": s.system_min_nodes, "total_max_node_count": s.system_max_nodes,
                         "location_policy": "BALANCED"},
            node_config={"machine_type": s.system_machine_type, "image_type": "COS_CONTAINERD",
                         "disk_size_gb": s.system_disk_gb, "disk_type": "pd-balanced",
                         "labels": {LABEL_ROLE: SYSTEM_POOL}, "resource_labels": dict(spec.tags),
                         "service_account": sa_email, "oauth_scopes": [CLOUD_PLATFORM],
                         "workload_metadata_config": {"mode": "GKE_METADATA"},
                         "shielded_instance_config": {"enable_secure_boot": True,
                                                      "enable_integrity_monitoring": True}},
            management={"auto_repair": True, "auto_upgrade": True},
            upgrade_settings={"strategy": "SURGE", "max_surge": 1, "max_unavailable": 0},
            opts=ResourceOptions(parent=self, ignore_changes=["initialNodeCount"], delete_before_replace=True))

        plans = plan_pools(args["pools"], s, tuple(spec.zones), args["prices"], sa_email,
                           args.get("pool_groups"), spec.tags)
        for p in plans:
            self.node_pools[p.node_pool] = gcp.container.NodePool(
                f"{name}-{p.node_pool}", name=p.node_pool, **pool_args, node_locations=p.node_locations,
                initial_node_count=p.initial_node_count, autoscaling=p.autoscaling, node_config=p.node_config,
                management={"auto_repair": True, "auto_upgrade": True},
                upgrade_settings=p.upgrade_settings,
                # initial_node_count is create-only (ForceNew). The pool's name is fixed (the ComputeClass,
                # descriptors and selectors name it), so a forces-new change (GPU type/count/driver/sharing, spot,
                # reservation, service account) must delete the old pool before creating the new one: with
                # create-first GKE answers "already exists". The price is a capacity gap while the pool is rebuilt
                # (docs/gcp.md, "Changing a pool").
                opts=ResourceOptions(parent=self, ignore_changes=["initialNodeCount"], delete_before_replace=True))
        self.pools = [p.descriptor for p in plans]

        self.kubeconfig = kubeconfig(f"gke_{s.project}_{location}_{spec.name}", self.cluster.endpoint,
                                     self.cluster.master_auth.cluster_ca_certificate)
        self.cluster_identifier = f"gke/{s.project}/{location}/{spec.name}"
        self.provider = k8s.Provider(
            f"{name}-k8s", kubeconfig=self.kubeconfig,
            # Replaced only when this changes (pulumi-kubernetes 4.34.2 `clusterIdentifier`): an unknown or rotated
            # endpoint/CA updates the provider instead of replacing it and every object bound to it.
            cluster_identifier=self.cluster_identifier,
            # Server-side apply: field ownership is tracked, so Helm and operators editing the same objects
            # do not fight Pulumi.
            enable_server_side_apply=True,
            # Everything in-cluster waits for nodes to run on.
            opts=ResourceOptions(parent=self, depends_on=[self.node_pools[SYSTEM_POOL]]))

        self.compute_classes = []
        if s.compute_class:
            groups = args.get("pool_groups") or {p.name: p.name for p in args["pools"]}
            for group in dict.fromkeys(groups[p.name] for p in args["pools"]):
                mine = [p for p in plans if groups[p.spec.name] == group]
                obj = compute_class(group, mine)
                members = [self.node_pools[p.node_pool] for p in mine]
                # Named after the group's first pool: a one-pool group keeps the URN and name it had before.
                self.compute_classes.append(k8s.apiextensions.CustomResource(
                    f"{name}-cc-{group}", api_version=obj["apiVersion"], kind=obj["kind"],
                    metadata=obj["metadata"], spec=obj["spec"],
                    opts=ResourceOptions(parent=self, provider=self.provider, depends_on=members)))

        self.register_outputs({"kubeconfig": self.kubeconfig, "endpoint": self.cluster.endpoint,
                               "nodePools": list(self.node_pools)})
