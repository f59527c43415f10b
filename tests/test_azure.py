"""Azure: the AKS cluster, its GPU agent pools, spot settings, taints and their tolerations, the priority expander,
and the config errors AKS-specific rules produce. Runs the real program (azure-prod stack and small configs)."""
import re

import pytest
import yaml

from components.azure.pools import AKS_SPOT_TAINT
from components.descriptors import GPU_TAINT
from plan.fakes import AZURE_PRINCIPAL, AZURE_SUBSCRIPTION
from tests.harness import config_error, run_config, run_stack

AGENT_POOL = "azure-native:containerservice:AgentPool"
CLUSTER = "azure-native:containerservice:ManagedCluster"
PREFIX = "llm-azure-prod"
GPU_POOLS = ["h100od", "h100spot", "a100spot", "a100od", "a100migspot"]
AZURE_SIZES = ("Standard_NC24ads_A100_v4, Standard_NC40ads_H100_v5, Standard_NC48ads_A100_v4, Standard_NC4as_T4_v3, "
               "Standard_NC80adis_H100_v5, Standard_NC96ads_A100_v4, Standard_ND96amsr_A100_v4, Standard_ND96asr_v4, "
               "Standard_ND96isr_H100_v5, Standard_ND96isr_H200_v5")


@pytest.fixture(scope="module")
def prod():
    return run_stack("azure-prod")


def pool_inputs(plan, agent_pool: str) -> dict:
    return plan.one(AGENT_POOL, f"{PREFIX}-{agent_pool}").inputs


def small(pool: dict, **cluster_azure) -> dict:
    """A minimal valid Azure config with one GPU pool and no models."""
    return {"cloud": "azure", "cluster": {"name": "az-t", "region": "eastus", "azure": cluster_azure},
            "gpuPools": [pool]}


def tolerates(toleration: dict, taint: str) -> bool:
    key, rest = taint.split("=", 1)
    value, effect = rest.split(":", 1)
    if toleration["key"] != key or toleration.get("effect") not in (None, effect):
        return False
    return toleration["operator"] == "Exists" or toleration.get("value") == value


# --- resources ---------------------------------------------------------------------------------------------

def test_cluster_component_owns_every_azure_resource(prod):
    component = prod.one("llmfleet:azure:AksCluster", PREFIX)
    children = sorted((r.type, r.name) for r in prod.children_of(component))
    assert children == sorted([
        ("azure-native:resources:ResourceGroup", f"{PREFIX}-rg"),
        ("azure-native:network:VirtualNetwork", f"{PREFIX}-vnet"),
        ("azure-native:network:Subnet", f"{PREFIX}-subnet"),
        ("azure-native:managedidentity:UserAssignedIdentity", f"{PREFIX}-identity"),
        ("azure-native:authorization:RoleAssignment", f"{PREFIX}-subnet-network-contributor"),
        ("azure-native:authorization:RoleAssignment", f"{PREFIX}-deployer-cluster-admin"),
        ("azure-native:containerservice:MaintenanceConfiguration", f"{PREFIX}-aksManagedAutoUpgradeSchedule"),
        ("azure-native:containerservice:MaintenanceConfiguration", f"{PREFIX}-aksManagedNodeOSUpgradeSchedule"),
        (CLUSTER, f"{PREFIX}-aks"),
        (AGENT_POOL, f"{PREFIX}-general"),
        *[(AGENT_POOL, f"{PREFIX}-{p}") for p in GPU_POOLS],
        ("pulumi:providers:kubernetes", f"{PREFIX}-k8s"),
        ("kubernetes:core/v1:ConfigMap", f"{PREFIX}-priority-expander"),
        # prod: the API server's audit log (components/azure/audit.py)
        ("azure-native:operationalinsights:Workspace", f"{PREFIX}-audit-workspace"),
        ("azure-native:monitor:DiagnosticSetting", f"{PREFIX}-audit"),
    ])


def test_network_and_identity(prod):
    assert prod.one("azure-native:resources:ResourceGroup").inputs == {
        "resourceGroupName": "llm-azure-prod", "location": "eastus",
        "tags": {"managed-by": "llmfleet", "llmfleet-cluster": PREFIX, "llmfleet-environment": "prod",
                 "cost-center": "llm-platform", "environment": "prod", "owner": "ml-platform"}}
    vnet = prod.one("azure-native:network:VirtualNetwork").inputs
    assert vnet["addressSpace"] == {"addressPrefixes": ["10.224.0.0/12"]} and "subnets" not in vnet
    assert prod.one("azure-native:network:Subnet").inputs == {
        "resourceGroupName": "llm-azure-prod", "virtualNetworkName": f"{PREFIX}-vnet", "subnetName": "nodes",
        "addressPrefix": "10.224.0.0/16",
        # SDK defaults, sent explicitly by azure-native.
        "privateEndpointNetworkPolicies": "Disabled", "privateLinkServiceNetworkPolicies": "Enabled"}
    grant = prod.one("azure-native:authorization:RoleAssignment", f"{PREFIX}-subnet-network-contributor").inputs
    assert grant == {
        "scope": f"{PREFIX}-subnet-id", "principalId": AZURE_PRINCIPAL, "principalType": "ServicePrincipal",
        "roleDefinitionId": f"/subscriptions/{AZURE_SUBSCRIPTION}/providers/Microsoft.Authorization/"
                            f"roleDefinitions/4d97b98b-1d4f-4787-a291-c67834d212e7"}


def test_managed_cluster(prod):
    c = prod.one(CLUSTER).inputs
    assert (c["resourceName"], c["kubernetesVersion"], c["location"], c["dnsPrefix"]) == \
        (PREFIX, "1.34", "eastus", PREFIX)
    assert c["sku"] == {"name": "Base", "tier": "Standard"}
    assert c["identity"] == {"type": "UserAssigned", "userAssignedIdentities": [f"{PREFIX}-identity-id"]}
    assert c["oidcIssuerProfile"] == {"enabled": True}
    assert c["securityProfile"] == {"workloadIdentity": {"enabled": True}}
    assert c["enableRBAC"] is True
    assert c["networkProfile"] == {
        "networkPlugin": "azure", "networkPluginMode": "overlay", "networkDataplane": "cilium",
        "networkPolicy": "cilium", "podCidr": "10.244.0.0/16", "serviceCidr": "10.0.0.0/16",
        "dnsServiceIP": "10.0.0.10", "loadBalancerSku": "standard", "outboundType": "loadBalancer"}
    assert c["autoUpgradeProfile"] == {"upgradeChannel": "patch", "nodeOSUpgradeChannel": "NodeImage"}


def test_autoscaler_profile_uses_the_priority_expander(prod):
    assert prod.one(CLUSTER).inputs["autoScalerProfile"] == {
        "expander": "priority", "scanInterval": "10s", "scaleDownUnneededTime": "10m",
        "scaleDownDelayAfterAdd": "10m", "maxNodeProvisionTime": "20m", "skipNodesWithLocalStorage": "false",
        "skipNodesWithSystemPods": "true", "maxGracefulTerminationSec": "600", "balanceSimilarNodeGroups": "false"}


def test_system_pool_is_inline_tainted_and_gpu_free(prod):
    (system,) = prod.one(CLUSTER).inputs["agentPoolProfiles"]
    assert system == {
        "name": "system", "mode": "System", "type": "VirtualMachineScaleSets", "osType": "Linux", "osSKU": "Ubuntu",
        "vmSize": "Standard_D4ds_v5", "enableAutoScaling": True, "minCount": 3.0, "maxCount": 5.0, "count": 3.0,
        "nodeTaints": ["CriticalAddonsOnly=true:NoSchedule"], "nodeLabels": {"llmfleet.io/node-role": "system"},
        "vnetSubnetID": f"{PREFIX}-subnet-id", "availabilityZones": ["1", "2", "3"]}
    general = pool_inputs(prod, "general")
    assert (general["vmSize"], general["mode"], general["minCount"], general["maxCount"]) == \
        ("Standard_D8ds_v5", "User", 2.0, 8.0)
    assert "nodeTaints" not in general and "gpuProfile" not in general


# --- GPU agent pools ---------------------------------------------------------------------------------------

def test_vm_sizes_and_bounds(prod):
    got = {p: (pool_inputs(prod, p)["vmSize"], pool_inputs(prod, p)["minCount"], pool_inputs(prod, p)["maxCount"],
               pool_inputs(prod, p)["count"]) for p in GPU_POOLS}
    # minNodes lives on the preferred capacity type; fallbacks scale from zero.
    assert got == {
        "h100od": ("Standard_ND96isr_H100_v5", 1.0, 4.0, 1.0),
        "h100spot": ("Standard_ND96isr_H100_v5", 0.0, 4.0, 0.0),
        "a100spot": ("Standard_NC24ads_A100_v4", 1.0, 6.0, 1.0),
        "a100od": ("Standard_NC24ads_A100_v4", 0.0, 6.0, 0.0),
        "a100migspot": ("Standard_NC24ads_A100_v4", 0.0, 2.0, 0.0),
    }
    for p in GPU_POOLS:
        i = pool_inputs(prod, p)
        assert (i["agentPoolName"], i["mode"], i["type"], i["osSKU"], i["enableAutoScaling"]) == \
            (p, "User", "VirtualMachineScaleSets", "Ubuntu", True)
        assert i["resourceName"] == PREFIX and i["vnetSubnetID"] == f"{PREFIX}-subnet-id"
        assert "availabilityZones" not in i and "orchestratorVersion" not in i
    assert pool_inputs(prod, "h100od")["osDiskSizeGB"] == 1024.0


def test_spot_and_on_demand_settings(prod):
    for p in ("h100spot", "a100spot", "a100migspot"):
        i = pool_inputs(prod, p)
        assert (i["scaleSetPriority"], i["scaleSetEvictionPolicy"], i["spotMaxPrice"]) == ("Spot", "Delete", -1.0)
    for p in ("h100od", "a100od"):
        i = pool_inputs(prod, p)
        assert i["scaleSetPriority"] == "Regular"
        assert "scaleSetEvictionPolicy" not in i and "spotMaxPrice" not in i


def test_spot_max_price_from_settings():
    plan = run_config(small({"name": "h100", "instanceType": "Standard_ND96isr_H100_v5", "capacity": ["spot"]},
                            spotMaxPrice=45.5))
    assert plan.one(AGENT_POOL, "az-t-h100spot").inputs["spotMaxPrice"] == 45.5


def test_taints_include_the_aks_spot_taint(prod):
    gpu, spot = "nvidia.com/gpu=present:NoSchedule", "kubernetes.azure.com/scalesetpriority=spot:NoSchedule"
    assert {p: pool_inputs(prod, p)["nodeTaints"] for p in GPU_POOLS} == {
        "h100od": [gpu], "h100spot": [gpu, spot], "a100spot": [gpu, spot], "a100od": [gpu],
        "a100migspot": [gpu, spot]}


def test_descriptor_tolerations_cover_every_taint_of_their_pool(prod):
    descriptors = {d.node_group: d for d in prod.stack.cluster.pools}
    assert list(descriptors) == GPU_POOLS
    for name, d in descriptors.items():
        taints = pool_inputs(prod, name)["nodeTaints"]
        tolerations = d.tolerations()
        for taint in taints:
            assert any(tolerates(t, taint) for t in tolerations), (name, taint)
        assert len(tolerations) == len(taints)
    assert descriptors["h100spot"].tolerations() == [
        {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"},
        {"key": "kubernetes.azure.com/scalesetpriority", "operator": "Equal", "value": "spot",
         "effect": "NoSchedule"}]
    assert descriptors["h100spot"].taints == (GPU_TAINT, AKS_SPOT_TAINT)


def test_node_labels(prod):
    assert pool_inputs(prod, "h100spot")["nodeLabels"] == {
        "llmfleet.io/pool": "h100", "llmfleet.io/capacity": "spot", "llmfleet.io/gpu": "h100-80gb",
        "kubernetes.azure.com/scalesetpriority": "spot",
        # AKS installs driver and toolkit: the GPU Operator must not.
        "nvidia.com/gpu.deploy.driver": "false", "nvidia.com/gpu.deploy.container-toolkit": "false"}
    assert pool_inputs(prod, "h100od")["nodeLabels"] == {
        "llmfleet.io/pool": "h100", "llmfleet.io/capacity": "on-demand", "llmfleet.io/gpu": "h100-80gb",
        "nvidia.com/gpu.deploy.driver": "false", "nvidia.com/gpu.deploy.container-toolkit": "false"}
    d = next(p for p in prod.stack.cluster.pools if p.node_group == "h100od")
    assert d.node_labels["kubernetes.azure.com/accelerator"] == "nvidia"
    assert d.node_selector() == {"llmfleet.io/pool": "h100"}


def test_gpu_driver_install_and_mig_profile(prod):
    assert {p: pool_inputs(prod, p)["gpuProfile"] for p in GPU_POOLS} == {p: {"driver": "Install"} for p in GPU_POOLS}
    assert pool_inputs(prod, "a100migspot")["gpuInstanceProfile"] == "MIG3g"
    assert pool_inputs(prod, "a100migspot")["nodeLabels"]["nvidia.com/gpu.deploy.mig-manager"] == "false"
    assert all("gpuInstanceProfile" not in pool_inputs(prod, p) for p in GPU_POOLS if p != "a100migspot")


def test_operator_owned_driver_skips_aks_driver_and_mig():
    plan = run_config(small({"name": "mig", "instanceType": "Standard_NC24ads_A100_v4", "driver": "operator",
                             "sharing": {"mode": "mig", "migProfile": "1g.20gb"}, "zones": ["1", "2"]}))
    i = plan.one(AGENT_POOL, "az-t-migod").inputs
    assert i["gpuProfile"] == {"driver": "None"}
    assert "gpuInstanceProfile" not in i
    assert i["nodeLabels"]["nvidia.com/mig.config"] == "all-1g.20gb"
    assert i["availabilityZones"] == ["1", "2"]
    (d,) = plan.stack.cluster.pools
    assert (d.driver.driver, d.driver.toolkit, d.driver.device_plugin) == ("operator", "operator", "operator")


def test_descriptors_carry_price_priority_and_driver(prod):
    got = {d.node_group: (d.name, d.capacity, d.instance_type, d.gpus_per_node, d.price_hour, d.priority,
                          d.min_nodes, d.max_nodes) for d in prod.stack.cluster.pools}
    assert got == {
        "h100od": ("h100", "on-demand", "Standard_ND96isr_H100_v5", 8, 98.32, 320, 1, 4),
        "h100spot": ("h100", "spot", "Standard_ND96isr_H100_v5", 8, 39.3, 310, 0, 4),
        "a100spot": ("a100", "spot", "Standard_NC24ads_A100_v4", 1, 1.47, 220, 1, 6),
        "a100od": ("a100", "on-demand", "Standard_NC24ads_A100_v4", 1, 3.67, 210, 0, 6),
        "a100migspot": ("a100mig", "spot", "Standard_NC24ads_A100_v4", 1, 1.47, 110, 0, 2),
    }
    d = prod.stack.cluster.pools[0]
    assert (d.cloud, d.driver.driver, d.driver.toolkit, d.driver.device_plugin) == \
        ("azure", "cloud", "cloud", "operator")


def test_priority_configmap_follows_each_capacity_chain(prod):
    cm = prod.manifest("ConfigMap", "cluster-autoscaler-priority-expander", "kube-system")
    doc = cm["data"]["priorities"]
    # Pools in stack order (h100, a100, a100mig), each pool's chain inside it.
    assert doc == (
        "320:\n"
        "  - '^aks-h100od-[0-9]+-vmss$'\n"
        "310:\n"
        "  - '^aks-h100spot-[0-9]+-vmss$'\n"
        "220:\n"
        "  - '^aks-a100spot-[0-9]+-vmss$'\n"
        "210:\n"
        "  - '^aks-a100od-[0-9]+-vmss$'\n"
        "110:\n"
        "  - '^aks-a100migspot-[0-9]+-vmss$'\n"
        "1:\n"
        "  - '^aks-general-[0-9]+-vmss$'\n"
        "  - '^aks-system-[0-9]+-vmss$'\n")
    parsed = yaml.safe_load(doc)
    assert parsed[320] == ["^aks-h100od-[0-9]+-vmss$"]
    # h100 prefers on-demand, a100 prefers spot: each chain's first entry scores higher than its fallback.
    def prio(vmss):
        return max(p for p, regexes in parsed.items() if any(re.fullmatch(r, vmss) for r in regexes))
    assert prio("aks-h100od-12345678-vmss") > prio("aks-h100spot-12345678-vmss")
    assert prio("aks-a100spot-12345678-vmss") > prio("aks-a100od-12345678-vmss")
    assert prio("aks-general-12345678-vmss") == 1


def test_kubeconfig_is_secret_and_feeds_the_provider(prod):
    provider = prod.one("pulumi:providers:kubernetes", f"{PREFIX}-k8s")
    assert provider.inputs["kubeconfig"] == "[secret]"
    assert provider.inputs["enableServerSideApply"] == "true"
    assert prod.outputs["kubeconfig"] == "[secret]"
    cm = prod.one("kubernetes:core/v1:ConfigMap", f"{PREFIX}-priority-expander")
    assert cm.provider.startswith(provider.urn)


def test_system_assigned_identity_grants_after_the_cluster():
    plan = run_config(small({"name": "h100", "instanceType": "Standard_ND96isr_H100_v5"}, identity="systemAssigned"))
    assert plan.one(CLUSTER).inputs["identity"] == {"type": "SystemAssigned"}
    assert plan.of_type("azure-native:managedidentity:UserAssignedIdentity") == []
    assert plan.one("azure-native:authorization:RoleAssignment",
                    "az-t-subnet-network-contributor").inputs["principalId"] == AZURE_PRINCIPAL


# --- config errors -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("pool, azure, expected", [
    # The trap from FACTS.md: the A100 40GB ND size is Standard_ND96asr_v4, not "..._A100_v4".
    ({"name": "a100", "instanceType": "Standard_ND96asr_A100_v4"}, {},
     [f"llmfleet:gpuPools[0].instanceType: 'Standard_ND96asr_A100_v4' is not a GPU type this program knows on "
      f"azure; allowed: {AZURE_SIZES}"]),
    ({"name": "h100production", "gpu": "h100-80gb", "capacity": ["on-demand", "spot"]}, {},
     ["llmfleet:gpuPools[0].name: 'h100production' gives AKS agent pool name 'h100productionspot' (18 characters); "
      "AKS allows at most 12: use a pool name of at most 8 characters"]),
    ({"name": "h100-big", "gpu": "h100-80gb"}, {},
     ["llmfleet:gpuPools[0].name: 'h100-big' cannot name an AKS agent pool (lowercase letters and digits only, "
      "starting with a letter); try 'h100big'"]),
    ({"name": "mig", "instanceType": "Standard_NC24ads_A100_v4", "sharing": {"mode": "mig", "migProfile": "1g.20gb"}},
     {}, ["llmfleet:gpuPools[0].sharing.migProfile: '1g.20gb' has no AKS gpuInstanceProfile; AKS offers 1g.10gb, "
          "2g.20gb, 3g.40gb, 4g.40gb, 7g.80gb on A100 80GB, or set driver: operator to let the GPU Operator "
          "partition the GPUs"]),
    ({"name": "t4", "instanceType": "Standard_NC4as_T4_v3", "sharing": {"mode": "mig", "migProfile": "1g.5gb"}}, {},
     ["llmfleet:gpuPools[0].sharing.mode: T4 16GB does not support MIG; use time-slicing or none"]),
    ({"name": "h100", "gpu": "h100-80gb", "capacity": ["reserved"], "reservation": "r"}, {},
     ["llmfleet:gpuPools[0].capacity: Standard_ND96isr_H100_v5 is not offered as reserved on azure; "
      "allowed: on-demand, spot"]),
    ({"name": "h100", "gpu": "h100-80gb", "zones": ["eastus-1"]}, {},
     ["llmfleet:gpuPools[0].zones[0]: must be an Azure availability zone (1, 2, 3), got 'eastus-1'"]),
    ({"name": "h100", "gpu": "h100-80gb", "maxNodes": 0, "diskSizeGb": 4096}, {},
     ["llmfleet:gpuPools[0].maxNodes: must be >= 1 on azure (an autoscaled AKS agent pool needs a maximum of at "
      "least 1)",
      "llmfleet:gpuPools[0].diskSizeGb: must be <= 2048 on azure (AKS osDiskSizeGB limit), got 4096"]),
    ({"name": "h100", "gpu": "h100-80gb"}, {"spotMaxPrice": 0},
     ["llmfleet:cluster.azure.spotMaxPrice: must be -1 (up to the on-demand price) or a price > 0 in USD/hour, "
      "got 0.0"]),
    ({"name": "h100", "gpu": "h100-80gb"}, {"autoscaler": {"expander": "least-waste"}},
     ["llmfleet:cluster.azure.autoscaler.expander: is always priority: the capacity chain is carried by the "
      "priority expander's ConfigMap, and any other expander ignores it"]),
    ({"name": "h100", "gpu": "h100-80gb"}, {"autoscaler": {"scaleDownUnneededTime": "30s"}},
     ["llmfleet:cluster.azure.autoscaler.scaleDownUnneededTime: must be whole minutes such as 10m (AKS accepts "
      "only minutes here), got '30s'"]),
    ({"name": "h100", "gpu": "h100-80gb"}, {"podCidr": "10.224.0.0/16"},
     ["llmfleet:cluster.azure.podCidr: must not overlap vnetCidr 10.224.0.0/12, got 10.224.0.0/16"]),
    ({"name": "h100", "gpu": "h100-80gb"}, {"dnsServiceIp": "10.0.0.1"},
     ["llmfleet:cluster.azure.dnsServiceIp: must be inside serviceCidr 10.0.0.0/16 and not its first address, "
      "got 10.0.0.1"]),
    ({"name": "h100", "gpu": "h100-80gb"}, {"networkDataplane": "azure", "networkPolicy": "cilium"},
     ["llmfleet:cluster.azure.networkPolicy: cilium needs networkDataplane cilium"]),
    ({"name": "h100", "gpu": "h100-80gb"}, {"upgradeChannel": "rapid"},
     ["llmfleet:cluster.azure.upgradeChannel: must be one of none, patch, got 'rapid'"]),
])
def test_config_errors(pool, azure, expected):
    assert config_error(small(pool, **azure)) == expected


def test_cluster_zone_names():
    cfg = small({"name": "h100", "gpu": "h100-80gb"})
    cfg["cluster"]["zones"] = ["1", "eastus-2"]
    assert config_error(cfg) == ["llmfleet:cluster.zones[1]: must be an Azure availability zone (1, 2, 3), "
                                 "got 'eastus-2'"]


def test_azure_settings_only_on_azure():
    cfg = {"cloud": "gcp", "cluster": {"name": "g", "region": "us-central1", "gcp": {"project": "p-123456"},
                                       "azure": {"skuTier": "Free"}},
           "gpuPools": [{"name": "h100", "gpu": "h100-80gb"}]}
    assert "llmfleet:cluster.azure: only applies when cloud is azure" in config_error(cfg)
