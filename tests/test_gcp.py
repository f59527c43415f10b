"""GKE: the gcp-prod stack and a config exercising the other GKE paths (operator-owned driver, MIG, reservations,
a zonal cluster, ComputeClasses), asserted on exact recorded inputs; and every GCP config mistake as one line."""
import json

import pytest

from components.gcp import kubeconfig as kc
from spec.reader import ConfigError
from spec.stack import load
from tests.harness import run_config, run_stack

NODE_POOL = "gcp:container/nodePool:NodePool"
CLUSTER = "gcp:container/cluster:Cluster"
GPU_TAINT = {"key": "nvidia.com/gpu", "value": "present", "effect": "NO_SCHEDULE"}


def CC_TAINT(pool):
    return {"key": "cloud.google.com/compute-class", "value": f"llmfleet-{pool}", "effect": "NO_SCHEDULE"}


@pytest.fixture(scope="module")
def prod():
    return run_stack("gcp-prod")


def node_pool(plan, name):
    return next(r for r in plan.of_type(NODE_POOL) if r.inputs["name"] == name)


def descriptor(plan, node_group):
    return next(d for d in plan.stack.cluster.pools if d.node_group == node_group)


# --- gcp-prod -------------------------------------------------------------------------------------------------

def test_prod_cluster_is_standard_vpc_native_with_workload_identity(prod):
    c = prod.one(CLUSTER, "llm-gcp-prod-gke").inputs
    assert c["name"] == "llm-gcp-prod"
    assert c["project"] == "example-llmfleet-prod"
    assert c["location"] == "us-central1"
    assert c["nodeLocations"] == ["us-central1-a", "us-central1-c"]
    assert c["removeDefaultNodePool"] is True
    assert c["releaseChannel"] == {"channel": "REGULAR"}
    assert c["minMasterVersion"] == "1.34"
    assert c["workloadIdentityConfig"] == {"workloadPool": "example-llmfleet-prod.svc.id.goog"}
    assert c["networkingMode"] == "VPC_NATIVE"
    assert c["ipAllocationPolicy"] == {"clusterSecondaryRangeName": "pods", "servicesSecondaryRangeName": "services"}
    assert c["privateClusterConfig"] == {"enablePrivateNodes": True, "enablePrivateEndpoint": False}
    assert c["masterAuthorizedNetworksConfig"] == {"cidrBlocks": [{"cidrBlock": "203.0.113.0/24",
                                                                    "displayName": "authorized-0"}]}
    assert c["datapathProvider"] == "ADVANCED_DATAPATH"
    assert c["deletionProtection"] is True
    assert c["network"] == "llm-gcp-prod-net-vpc-id"
    assert c["subnetwork"] == "llm-gcp-prod-net-nodes-id"


def test_prod_network_has_secondary_ranges_and_nat(prod):
    subnet = prod.one("gcp:compute/subnetwork:Subnetwork").inputs
    assert subnet["ipCidrRange"] == "10.0.0.0/20"
    assert subnet["secondaryIpRanges"] == [{"rangeName": "pods", "ipCidrRange": "10.16.0.0/14"},
                                           {"rangeName": "services", "ipCidrRange": "10.20.0.0/20"}]
    assert subnet["privateIpGoogleAccess"] is True
    assert prod.one("gcp:compute/network:Network").inputs["autoCreateSubnetworks"] is False
    nat = prod.one("gcp:compute/routerNat:RouterNat").inputs
    assert nat["sourceSubnetworkIpRangesToNat"] == "ALL_SUBNETWORKS_ALL_IP_RANGES"
    assert nat["router"] == "llm-gcp-prod-net-router"


def test_prod_node_service_account_is_least_privilege(prod):
    sa = prod.one("gcp:serviceaccount/account:Account", "llm-gcp-prod-nodes-sa").inputs
    assert sa["accountId"] == "llm-gcp-prod-nodes"
    grants = sorted((g.inputs["role"], g.inputs["member"]) for g in prod.of_type("gcp:projects/iAMMember:IAMMember"))
    member = "serviceAccount:llm-gcp-prod-nodes@example-llmfleet-prod.iam.gserviceaccount.com"
    assert grants == [("roles/artifactregistry.reader", member), ("roles/container.defaultNodeServiceAccount", member)]
    for np in prod.of_type(NODE_POOL):
        assert np.inputs["nodeConfig"]["serviceAccount"] == "llm-gcp-prod-nodes@example-llmfleet-prod.iam.gserviceaccount.com"
        assert np.inputs["nodeConfig"]["workloadMetadataConfig"] == {"mode": "GKE_METADATA"}


def test_prod_one_node_pool_per_pool_and_capacity(prod):
    names = sorted(r.inputs["name"] for r in prod.of_type(NODE_POOL))     # registration order is not defined
    assert names == ["a100-spot", "h100-on-demand", "h100-spot", "l4-on-demand", "l4-spot", "system"]
    assert [r.name for r in prod.of_type(NODE_POOL) if r.inputs["name"] == "h100-spot"] == ["llm-gcp-prod-h100-spot"]
    gke = prod.one("llmfleet:gcp:GkeCluster")
    assert all(r.parent == gke.urn for r in prod.of_type(NODE_POOL))
    assert prod.one(CLUSTER).parent == gke.urn
    assert prod.one("pulumi:providers:kubernetes").parent == gke.urn


def test_prod_system_pool(prod):
    np = node_pool(prod, "system").inputs
    assert np["nodeConfig"]["machineType"] == "e2-standard-8"
    assert "guestAccelerators" not in np["nodeConfig"]
    assert "taints" not in np["nodeConfig"]
    assert np["autoscaling"] == {"totalMinNodeCount": 2.0, "totalMaxNodeCount": 6.0, "locationPolicy": "BALANCED"}
    assert np["initialNodeCount"] == 1.0


def test_prod_h100_on_demand_pool(prod):
    np = node_pool(prod, "h100-on-demand").inputs
    cfg = np["nodeConfig"]
    assert cfg["machineType"] == "a3-highgpu-8g"
    assert cfg["guestAccelerators"] == [{"type": "nvidia-h100-80gb", "count": 8.0,
                                         "gpuDriverInstallationConfig": {"gpuDriverVersion": "DEFAULT"}}]
    assert cfg["spot"] is False
    assert "reservationAffinity" not in cfg
    assert cfg["imageType"] == "COS_CONTAINERD"
    assert cfg["gvnic"] == {"enabled": True}
    assert cfg["diskSizeGb"] == 1000.0
    # GKE owns the whole GPU stack here: the GPU Operator's operands stay off these nodes.
    assert cfg["labels"] == {"llmfleet.io/pool": "h100", "llmfleet.io/capacity": "on-demand",
                             "llmfleet.io/gpu": "h100-80gb", "nvidia.com/gpu.deploy.operands": "false",
                             "cloud.google.com/compute-class": "llmfleet-h100"}
    assert cfg["taints"] == [GPU_TAINT, CC_TAINT("h100")]
    assert np["nodeLocations"] == ["us-central1-a", "us-central1-c"]
    # Baseline on the preferred capacity, carried by the total minimum; the pool starts empty.
    assert np["autoscaling"] == {"totalMinNodeCount": 1.0, "totalMaxNodeCount": 4.0, "locationPolicy": "BALANCED"}
    assert np["initialNodeCount"] == 0.0
    assert np["management"] == {"autoRepair": True, "autoUpgrade": True}
    # A one-node baseline surges instead of draining its only node.
    assert np["upgradeSettings"] == {"strategy": "SURGE", "maxSurge": 1.0, "maxUnavailable": 0.0}


def test_prod_h100_spot_pool_scales_from_zero_anywhere(prod):
    np = node_pool(prod, "h100-spot").inputs
    assert np["nodeConfig"]["spot"] is True
    assert np["nodeConfig"]["guestAccelerators"][0]["type"] == "nvidia-h100-80gb"
    assert np["nodeConfig"]["labels"]["llmfleet.io/capacity"] == "spot"
    assert np["nodeConfig"]["taints"] == [GPU_TAINT, CC_TAINT("h100")]
    assert np["autoscaling"] == {"totalMinNodeCount": 0.0, "totalMaxNodeCount": 4.0, "locationPolicy": "ANY"}
    assert np["initialNodeCount"] == 0.0


def test_prod_a2_ultra_and_time_sliced_l4(prod):
    a100 = node_pool(prod, "a100-spot").inputs["nodeConfig"]
    assert a100["guestAccelerators"] == [{"type": "nvidia-a100-80gb", "count": 8.0,
                                          "gpuDriverInstallationConfig": {"gpuDriverVersion": "DEFAULT"}}]
    l4 = node_pool(prod, "l4-spot").inputs["nodeConfig"]
    assert l4["machineType"] == "g2-standard-8"
    assert l4["guestAccelerators"] == [{
        "type": "nvidia-l4", "count": 1.0, "gpuDriverInstallationConfig": {"gpuDriverVersion": "DEFAULT"},
        "gpuSharingConfig": {"gpuSharingStrategy": "TIME_SHARING", "maxSharedClientsPerGpu": 4.0}}]


def test_prod_descriptors(prod):
    d = descriptor(prod, "h100-spot")
    assert (d.name, d.cloud, d.capacity, d.instance_type, d.gpus_per_node) == ("h100", "gcp", "spot",
                                                                               "a3-highgpu-8g", 8)
    assert d.node_labels == {
        "llmfleet.io/pool": "h100", "llmfleet.io/capacity": "spot", "llmfleet.io/gpu": "h100-80gb",
        "nvidia.com/gpu.deploy.operands": "false", "cloud.google.com/gke-nodepool": "h100-spot", "cloud.google.com/gke-accelerator": "nvidia-h100-80gb",
        "cloud.google.com/gke-gpu-driver-version": "default", "cloud.google.com/gke-spot": "true",
        "cloud.google.com/compute-class": "llmfleet-h100"}
    assert (d.driver.driver, d.driver.toolkit, d.driver.device_plugin) == ("cloud", "cloud", "cloud")
    assert d.price_hour == 30.9
    assert (d.min_nodes, d.max_nodes) == (0, 4)
    assert d.tolerations() == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"},
                               {"key": "cloud.google.com/compute-class", "operator": "Equal",
                                "value": "llmfleet-h100", "effect": "NoSchedule"}]
    on_demand = descriptor(prod, "h100-on-demand")
    assert "cloud.google.com/gke-spot" not in on_demand.node_labels
    assert on_demand.price_hour == 88.25
    # Higher = preferred: pools in stack order (h100, then a100, then l4), each in its chain order.
    assert [(x.node_group, x.priority) for x in prod.stack.cluster.pools] == [
        ("h100-on-demand", 320), ("h100-spot", 310), ("a100-spot", 210), ("l4-spot", 120), ("l4-on-demand", 110)]
    l4 = descriptor(prod, "l4-spot")
    assert l4.node_labels["cloud.google.com/gke-gpu-sharing-strategy"] == "time-sharing"
    assert l4.node_labels["cloud.google.com/gke-max-shared-clients-per-gpu"] == "4"


def test_prod_kubeconfig_is_secret_and_compute_class_on(prod):
    assert prod.outputs["kubeconfig"] == "[secret]"
    assert sorted(m["metadata"]["name"] for m in prod.manifests if m["kind"] == "ComputeClass") == [
        "llmfleet-h100", "llmfleet-l4"]


def test_kubeconfig_uses_the_gke_auth_plugin():
    cfg = json.loads(kc.render("ctx", "203.0.113.7", "Q0E="))
    assert cfg["clusters"] == [{"name": "ctx", "cluster": {"server": "https://203.0.113.7",
                                                           "certificate-authority-data": "Q0E="}}]
    user = cfg["users"][0]["user"]
    assert list(user) == ["exec"]          # no token, no client key: nothing to leak
    assert user["exec"]["command"] == "gke-gcloud-auth-plugin"
    assert user["exec"]["apiVersion"] == "client.authentication.k8s.io/v1beta1"
    assert cfg["current-context"] == "ctx"


# --- operator-owned driver, MIG, reservation, zonal cluster, ComputeClasses -----------------------------------

OTHER = {
    "cloud": "gcp",
    "cluster": {"name": "llm-t", "region": "us-central1", "kubernetesVersion": "1.33",
                "gcp": {"project": "example-proj-1", "zone": "us-central1-b", "releaseChannel": "RAPID",
                        "privateNodes": False, "authorizedNetworks": ["203.0.113.0/24"], "computeClass": True}},
    "gpuPools": [
        {"name": "res", "instanceType": "a3-megagpu-8g", "capacity": ["reserved", "on-demand", "spot"],
         "reservation": "h100-block", "minNodes": 2, "maxNodes": 3, "driver": "operator",
         "sharing": {"mode": "mig", "migProfile": "3g.40gb"}, "labels": {"team": "ml"},
         "taints": [{"key": "team", "value": "ml", "effect": "NoSchedule"}]},
        {"name": "ts", "instanceType": "a2-highgpu-1g", "capacity": ["spot"], "driver": "operator",
         "sharing": {"mode": "time-slicing", "replicas": 3}},
        {"name": "mig", "instanceType": "a2-ultragpu-1g", "sharing": {"mode": "mig", "migProfile": "1g.10gb"}},
    ],
}


@pytest.fixture(scope="module")
def other():
    return run_config(OTHER, stack="gcp-other")


def test_zonal_cluster_public_nodes_authorized_networks(other):
    c = other.one(CLUSTER).inputs
    assert c["location"] == "us-central1-b"
    assert "nodeLocations" not in c
    assert c["releaseChannel"] == {"channel": "RAPID"}
    assert c["minMasterVersion"] == "1.33"
    assert "privateClusterConfig" not in c
    assert c["masterAuthorizedNetworksConfig"] == {"cidrBlocks": [{"cidrBlock": "203.0.113.0/24",
                                                                   "displayName": "authorized-0"}]}
    assert other.of_type("gcp:compute/routerNat:RouterNat") == []
    assert all(np.inputs["location"] == "us-central1-b" for np in other.of_type(NODE_POOL))


def test_operator_owned_mig_pool_with_reservation(other):
    np = node_pool(other, "res-reserved").inputs
    cfg = np["nodeConfig"]
    assert cfg["machineType"] == "a3-megagpu-8g"
    # The GPU Operator owns driver, device plugin and MIG: GKE installs nothing and partitions nothing.
    assert cfg["guestAccelerators"] == [{"type": "nvidia-h100-mega-80gb", "count": 8.0,
                                         "gpuDriverInstallationConfig": {"gpuDriverVersion": "INSTALLATION_DISABLED"}}]
    assert cfg["imageType"] == "UBUNTU_CONTAINERD"
    assert cfg["shieldedInstanceConfig"] == {"enableSecureBoot": False, "enableIntegrityMonitoring": True}
    assert cfg["labels"] == {
        "llmfleet.io/pool": "res", "llmfleet.io/capacity": "reserved", "llmfleet.io/gpu": "h100-80gb",
        "team": "ml", "gke-no-default-nvidia-gpu-device-plugin": "true", "nvidia.com/mig.config": "all-3g.40gb",
        "cloud.google.com/compute-class": "llmfleet-res"}
    assert cfg["taints"] == [GPU_TAINT, {"key": "team", "value": "ml", "effect": "NO_SCHEDULE"},
                             {"key": "cloud.google.com/compute-class", "value": "llmfleet-res",
                              "effect": "NO_SCHEDULE"}]
    assert cfg["reservationAffinity"] == {"consumeReservationType": "SPECIFIC_RESERVATION",
                                          "key": "compute.googleapis.com/reservation-name", "values": ["h100-block"]}
    assert cfg["spot"] is False
    assert np["autoscaling"] == {"totalMinNodeCount": 2.0, "totalMaxNodeCount": 3.0, "locationPolicy": "ANY"}
    assert np["initialNodeCount"] == 0.0
    assert np["upgradeSettings"] == {"strategy": "SURGE", "maxSurge": 0.0, "maxUnavailable": 1.0}
    assert "nodeLocations" not in np
    od = node_pool(other, "res-on-demand").inputs
    assert "reservationAffinity" not in od["nodeConfig"]
    assert od["autoscaling"] == {"totalMinNodeCount": 0.0, "totalMaxNodeCount": 3.0, "locationPolicy": "BALANCED"}
    assert node_pool(other, "res-spot").inputs["nodeConfig"]["spot"] is True


def test_operator_time_slicing_and_gke_mig(other):
    ts = node_pool(other, "ts-spot").inputs["nodeConfig"]
    assert ts["guestAccelerators"] == [{"type": "nvidia-tesla-a100", "count": 1.0,
                                        "gpuDriverInstallationConfig": {"gpuDriverVersion": "INSTALLATION_DISABLED"}}]
    assert "gpuSharingConfig" not in ts["guestAccelerators"][0]
    assert ts["labels"]["nvidia.com/device-plugin.config"] == "pool-ts"
    mig = node_pool(other, "mig-on-demand").inputs["nodeConfig"]
    assert mig["guestAccelerators"] == [{"type": "nvidia-a100-80gb", "count": 1.0, "gpuPartitionSize": "1g.10gb",
                                         "gpuDriverInstallationConfig": {"gpuDriverVersion": "DEFAULT"}}]
    assert mig["imageType"] == "COS_CONTAINERD"
    assert "nvidia.com/mig.config" not in mig["labels"]
    assert mig["labels"]["nvidia.com/gpu.deploy.operands"] == "false"
    assert descriptor(other, "mig-on-demand").node_labels["cloud.google.com/gke-gpu-partition-size"] == "1g.10gb"


def test_operator_descriptors_and_compute_class_tolerations(other):
    d = descriptor(other, "res-reserved")
    assert (d.driver.driver, d.driver.toolkit, d.driver.device_plugin) == ("operator", "operator", "operator")
    assert "cloud.google.com/gke-gpu-driver-version" not in d.node_labels
    assert d.node_labels["cloud.google.com/gke-accelerator"] == "nvidia-h100-mega-80gb"
    assert d.tolerations() == [
        {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"},
        {"key": "team", "operator": "Equal", "value": "ml", "effect": "NoSchedule"},
        {"key": "cloud.google.com/compute-class", "operator": "Equal", "value": "llmfleet-res",
         "effect": "NoSchedule"}]
    assert [(x.node_group, x.priority) for x in other.stack.cluster.pools if x.name == "res"] == [
        ("res-reserved", 330), ("res-on-demand", 320), ("res-spot", 310)]


def test_compute_class_priorities_follow_the_chain(other):
    cc = other.manifest("ComputeClass", "llmfleet-res")
    assert cc["apiVersion"] == "cloud.google.com/v1"
    assert cc["spec"] == {
        "description": "llmfleet pools res: res-reserved > res-on-demand > res-spot",
        "priorities": [{"nodepools": ["res-reserved"]}, {"nodepools": ["res-on-demand"]},
                       {"nodepools": ["res-spot"]}],
        "nodePoolAutoCreation": {"enabled": False},
        "whenUnsatisfiable": "DoNotScaleUp"}
    assert sorted(m["metadata"]["name"] for m in other.manifests if m["kind"] == "ComputeClass") == [
        "llmfleet-mig", "llmfleet-res", "llmfleet-ts"]
    gke = other.one("llmfleet:gcp:GkeCluster")
    ccs = other.of_type("kubernetes:cloud.google.com/v1:ComputeClass")
    assert len(ccs) == 3 and all(r.parent == gke.urn for r in ccs)


# --- config mistakes: one line each, all reported together ----------------------------------------------------

def gcp(**kw):
    cfg = {"cloud": "gcp", "cluster": {"region": "us-central1", "gcp": {"project": "example-proj-1"}},
           "gpuPools": [{"name": "x", "instanceType": "a3-highgpu-8g"}]}
    cfg.update(kw)
    return cfg


def errors(cfg):
    with pytest.raises(ConfigError) as e:
        load(cfg, set(), "t")
    return e.value.lines


ERRORS = [
    (gcp(gpuPools=[{"name": "x", "gpu": "a10g-24gb"}]),
     ["llmfleet:gpuPools[0].gpu: a10g-24gb is not offered on gcp by any known type; gcp GPUs: a100-40gb, "
      "a100-80gb, h100-80gb, h200-141gb, l4-24gb"]),
    (gcp(gpuPools=[{"name": "x", "instanceType": "a3-highgpu-2g", "capacity": ["on-demand", "spot"]}]),
     ["llmfleet:gpuPools[0].capacity: a3-highgpu-2g is not offered as on-demand on gcp; allowed: spot"]),
    (gcp(gpuPools=[{"name": "x", "instanceType": "a3-highgpu-8g", "gpusPerNode": 4}]),
     ["llmfleet:gpuPools[0].gpusPerNode: a3-highgpu-8g has 8 GPU(s), got 4"]),
    (gcp(gpuPools=[{"name": "x", "instanceType": "g2-standard-8", "sharing": {"mode": "mig", "migProfile": "1g.5gb"}}]),
     ["llmfleet:gpuPools[0].sharing.mode: L4 24GB does not support MIG; use time-slicing or none"]),
    (gcp(gpuPools=[{"name": "x", "instanceType": "a3-highgpu-8g", "sharing": {"mode": "mig", "migProfile": "1g.5gb"}}]),
     ["llmfleet:gpuPools[0].sharing.migProfile: H100 80GB HBM3 supports 1g.10gb, 1g.10gb+me, 1g.20gb, 2g.20gb, "
      "3g.40gb, 4g.40gb, 7g.80gb, got '1g.5gb'"]),
    (gcp(cluster={"region": "us-central1", "gcp": {}}),
     ["llmfleet:cluster.gcp.project: is required"]),
    (gcp(cluster={"region": "us-central1", "gcp": {
        "project": "example-proj-1", "releaseChannel": "REGLAR", "nodesCidr": "10.16.0.0/20",
        "servicesCidr": "8.8.8.0/24", "systemMinNodes": 4, "systemMaxNodes": 3, "computeclass": True}}),
     ["llmfleet:cluster.gcp.releaseChannel: must be one of EXTENDED, RAPID, REGULAR, STABLE, got 'REGLAR' "
      "(did you mean 'REGULAR'?)",
      "llmfleet:cluster.gcp.servicesCidr: must be a private (RFC 1918) range, got '8.8.8.0/24'",
      "llmfleet:cluster.gcp.podsCidr: 10.16.0.0/14 overlaps nodesCidr (10.16.0.0/20); the node, pod and service "
      "ranges must be disjoint",
      "llmfleet:cluster.gcp.systemMaxNodes: must be >= systemMinNodes (4), got 3",
      "llmfleet:cluster.gcp.computeclass: unknown key (did you mean 'computeClass'?); allowed: authorizedNetworks, "
      "computeClass, deletionProtection, maintenanceWindow, nodesCidr, pinMinorVersion, podsCidr, privateEndpoint, "
      "privateNodes, project, releaseChannel, servicesCidr, systemDiskSizeGb, systemMachineType, systemMaxNodes, "
      "systemMinNodes, zone"]),
    (gcp(cluster={"region": "us-central1", "zones": ["us-central1-a", "us-central1-c"],
                  "gcp": {"project": "example-proj-1"}},
         gpuPools=[{"name": "x", "instanceType": "a3-highgpu-8g", "capacity": ["reserved", "spot"],
                    "reservation": "projects/other-proj/reservations/h100-res"},
                   {"name": "y", "instanceType": "a3-highgpu-8g", "zones": ["us-east4-a"]}]),
     ["llmfleet:gpuPools[0].zones: must name exactly one zone when capacity includes 'reserved' (a reservation "
      "lives in one zone), got []",
      "llmfleet:gpuPools[1].zones[0]: must be one of the cluster's zones (us-central1-a, us-central1-c), "
      "got 'us-east4-a'"]),
    (gcp(gpuPools=[{"name": "x", "instanceType": "a3-highgpu-8g", "capacity": ["reserved"], "reservation": "My_Res",
                    "zones": ["us-central1-a"]}]),
     ["llmfleet:gpuPools[0].reservation: must be a Compute Engine reservation name, or "
      "projects/<project>/reservations/<name> for a shared one, got 'My_Res'"]),
    (gcp(cluster={"region": "us-central1", "zones": ["us-central1-a"],
                  "gcp": {"project": "example-proj-1", "zone": "us-central1-b"}}),
     ["llmfleet:cluster.zones: a zonal cluster (us-central1-b) keeps its nodes in its own zone: leave zones unset "
      "or set [us-central1-b], got ['us-central1-a']"]),
    (gcp(cluster={"region": "uscentral", "gcp": {"project": "example-proj-1"}}),
     ["llmfleet:cluster.region: must be a GCP region such as us-central1, got 'uscentral'"]),
    (gcp(cluster={"region": "us-central1", "gcp": {"project": "Bad_Project"}}),
     ["llmfleet:cluster.gcp.project: must be a GCP project id (6-30 lowercase letters, digits, '-', starting with "
      "a letter), got 'Bad_Project'"]),
]


@pytest.mark.parametrize("cfg,expected", ERRORS, ids=[str(i) for i in range(len(ERRORS))])
def test_gcp_config_errors(cfg, expected):
    assert errors(cfg) == expected


def test_gcp_settings_rejected_on_another_cloud():
    lines = errors({"cloud": "aws", "cluster": {"gcp": {"project": "example-proj-1"}},
                    "gpuPools": [{"name": "x", "instanceType": "p5.48xlarge"}]})
    assert lines == ["llmfleet:cluster.gcp: only applies when cloud is gcp"]


def test_regional_system_pool_without_zones_starts_per_zone():
    """A regional cluster with no zones listed runs its node pools in GKE's default 3 zones, and
    initialNodeCount is per zone: 4 system nodes -> ceil(4 / 3) = 2 per zone (6 at first up, within the autoscaler's
    total bounds), not 4 per zone (12 e2 nodes before the autoscaler trims them)."""
    cluster = {**OTHER["cluster"], "gcp": {**{k: v for k, v in OTHER["cluster"]["gcp"].items() if k != "zone"},
                                           "systemMinNodes": 4, "systemMaxNodes": 8}}
    plan = run_config({**OTHER, "cluster": cluster, "gpuPools": OTHER["gpuPools"][1:]}, stack="gcp-regional")
    assert plan.one(CLUSTER).inputs["location"] == "us-central1"
    np = node_pool(plan, "system").inputs
    assert "nodeLocations" not in np
    assert np["initialNodeCount"] == 2.0
    assert np["autoscaling"]["totalMinNodeCount"] == 4.0
