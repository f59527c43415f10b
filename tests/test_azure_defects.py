"""AKS defects of issues 9 and 19, one test (or more) each; every test here failed before its fix.

Issue 9: #3 GPU Operator runtime class on AKS-installed drivers and no mixing of driver modes, #10 autoscaler
scale-from-zero template tags (MIG, time-slicing, labels, taints), #12 planned maintenance and GPU pool upgrade
settings, #20 API server allow-list or private, Entra ID with Azure RBAC and no local accounts. Issue 19: agent
pools deleted before replacement, cluster protected in prod, credentials and provider independent of the pools.
"""
import base64

import pulumi
import pytest
import yaml
from pulumi_azure_native import containerservice

from components.azure import cluster as aks_cluster
from plan.fakes import AZURE_PRINCIPAL
from tests.harness import PROD_BUDGET, changed, config_error, run_config, run_stack
from tests.resource_options import recorded_options  # noqa: F401 (fixture)

AGENT_POOL = "azure-native:containerservice:AgentPool"
CLUSTER = "azure-native:containerservice:ManagedCluster"
MAINTENANCE = "azure-native:containerservice:MaintenanceConfiguration"
PREFIX = "llm-azure-prod"
GPU_POOLS = ["h100od", "h100spot", "a100spot", "a100od", "a100migspot"]
CA = "k8s.io_cluster-autoscaler_node-template_"


@pytest.fixture(scope="module")
def prod():
    return run_stack("azure-prod")


def pool(plan, name: str) -> dict:
    return plan.one(AGENT_POOL, f"{PREFIX}-{name}").inputs


def small(*pools, **azure) -> dict:
    return {"cloud": "azure", "environment": "prod", "budget": {**PROD_BUDGET, "azureStartDate": "2027-01-01"},
            "cluster": {"name": "az-t", "region": "eastus",
                        "azure": {"apiServerAuthorizedIpRanges": ["203.0.113.0/24"], **azure}},
            "gpuPools": list(pools)}


A100 = {"name": "a100", "instanceType": "Standard_NC24ads_A100_v4", "minNodes": 1, "maxNodes": 2}


def decoded(tags: dict) -> dict:
    """What the cluster-autoscaler reads back (azure_template.go rules, FACTS-cluster.md 2.2): label and taint
    keys `_` -> `/` then `~2` -> `_`; resource names `~2` -> `/`."""
    out = {"label": {}, "taint": {}, "resources": {}}
    for key, value in tags.items():
        if not key.startswith(CA):
            continue
        kind, _, rest = key[len(CA):].partition("_")
        if kind == "resources":
            out[kind][rest.replace("~2", "/")] = value
        else:
            out[kind][rest.replace("_", "/").replace("~2", "_")] = value
    return out


# --- issue 9 #3: runtime class and driver modes -----------------------------------------------------------------

def test_operator_uses_aks_runtime_class_with_driver_and_toolkit_off(prod):
    values = prod.stack.nvidia.values["gpu-operator"]
    assert values["operator"] == {"runtimeClass": "nvidia-container-runtime"}
    assert values["driver"] == {"enabled": False}
    assert values["toolkit"] == {"enabled": False}
    release = next(r for r in prod.of_type("kubernetes:helm.sh/v3:Release") if r.inputs["chart"] == "gpu-operator")
    assert release.inputs["values"]["operator"]["runtimeClass"] == "nvidia-container-runtime"


def test_operator_owned_drivers_keep_the_chart_runtime_class():
    plan = run_config(small(dict(A100, driver="operator")), stack="az-op")
    values = plan.stack.nvidia.values["gpu-operator"]
    assert "operator" not in values            # chart default `nvidia`: the operator's toolkit defines it
    assert values["driver"] == {"enabled": True}


def test_mixing_aks_and_operator_drivers_is_rejected():
    lines = config_error(small(A100, {"name": "h100", "instanceType": "Standard_ND96isr_H100_v5",
                                      "driver": "operator"}))
    assert lines == [
        "llmfleet:gpuPools: mixes AKS-installed drivers (driver: cloud: a100) and GPU Operator drivers "
        "(driver: operator: h100); AKS supports one or the other per cluster: give every pool the same driver"]


# --- issue 9 #10: scale-from-zero templates ---------------------------------------------------------------------

def test_mig_pool_tags_advertise_its_mig_resource(prod):
    t = decoded(pool(prod, "a100migspot")["tags"])
    # NC24ads A100 v4: one A100 80GB, two 3g.40gb instances; the mixed strategy names them per profile.
    assert t["resources"] == {"nvidia.com/mig-3g.40gb": "2"}
    assert t["label"]["llmfleet.io/pool"] == "a100mig"
    assert t["taint"] == {"nvidia.com/gpu": "present:NoSchedule",
                          "kubernetes.azure.com/scalesetpriority": "spot:NoSchedule"}


def test_h100_pool_tags_carry_the_accelerator_label_the_autoscaler_cannot_predict(prod):
    t = decoded(pool(prod, "h100od")["tags"])
    assert t["label"]["kubernetes.azure.com/accelerator"] == "nvidia"
    assert t["label"]["llmfleet.io/pool"] == "h100"
    assert t["label"]["llmfleet.io/capacity"] == "on-demand"
    assert t["taint"] == {"nvidia.com/gpu": "present:NoSchedule"}
    assert t["resources"] == {}            # whole GPUs: the VM size's GPU count is right
    # Every label of the descriptor is in the template (pods may select any of them).
    d = next(x for x in prod.stack.cluster.pools if x.node_group == "h100od")
    assert t["label"] == d.node_labels


def test_time_sliced_pool_tags_advertise_the_sliced_count():
    plan = run_config(small(dict(A100, sharing={"mode": "time-slicing", "replicas": 4})), stack="az-ts")
    t = decoded(plan.one(AGENT_POOL, "az-t-a100od").inputs["tags"])
    assert t["resources"] == {"nvidia.com/gpu": "4"}


def test_tag_names_are_valid_azure_tag_names(prod):
    for name in GPU_POOLS:
        for key, value in pool(prod, name)["tags"].items():
            assert not set(key) & set("<>%&\\?/"), key
            assert len(key) <= 512 and len(str(value)) <= 256, key
        assert len(pool(prod, name)["tags"]) <= 50


# --- issue 9 #12: planned maintenance and upgrade settings ------------------------------------------------------

def test_prod_has_planned_maintenance_for_both_channels(prod):
    configs = {r.inputs["configName"]: r.inputs for r in prod.of_type(MAINTENANCE)}
    assert sorted(configs) == ["aksManagedAutoUpgradeSchedule", "aksManagedNodeOSUpgradeSchedule"]
    for c in configs.values():
        assert c["maintenanceWindow"] == {"schedule": {"weekly": {"dayOfWeek": "Saturday", "intervalWeeks": 1.0}},
                                          "startTime": "02:00", "durationHours": 6.0, "utcOffset": "+00:00"}
        assert c["resourceName"] == "llm-azure-prod"


def test_gpu_pools_upgrade_without_losing_their_only_node(prod):
    assert pool(prod, "h100od")["upgradeSettings"] == {"maxSurge": "1", "maxUnavailable": "0"}
    assert pool(prod, "a100od")["upgradeSettings"] == {"maxSurge": "1", "maxUnavailable": "0"}
    for spot in ("h100spot", "a100spot", "a100migspot"):
        assert "upgradeSettings" not in pool(prod, spot)
    big = run_config(small(dict(A100, minNodes=3, maxNodes=4)), stack="az-big")
    assert big.one(AGENT_POOL, "az-t-a100od").inputs["upgradeSettings"] == {"maxSurge": "0", "maxUnavailable": "1"}


# --- issue 9 #20: API server access and Entra ID ----------------------------------------------------------------

def test_prod_cluster_uses_entra_id_rbac_and_an_allow_list(prod):
    c = prod.one(CLUSTER).inputs
    assert c["aadProfile"] == {"managed": True, "enableAzureRBAC": True}
    assert c["disableLocalAccounts"] is True
    assert c["apiServerAccessProfile"] == {"authorizedIPRanges": ["203.0.113.0/24"]}
    admin = prod.one("azure-native:authorization:RoleAssignment", f"{PREFIX}-deployer-cluster-admin").inputs
    assert admin["scope"] == f"{PREFIX}-aks-id" and admin["principalId"] == AZURE_PRINCIPAL
    assert admin["roleDefinitionId"].endswith("/roleDefinitions/b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b")


def test_prod_access_mistakes_are_one_line_each():
    cfg = small(A100, entraIdRbac=False)
    del cfg["cluster"]["azure"]["apiServerAuthorizedIpRanges"]
    assert config_error(cfg) == [
        "llmfleet:cluster.azure.apiServerAuthorizedIpRanges: must list the CIDRs allowed to reach the API server "
        "in a prod stack (or set privateCluster: true); empty means the whole internet",
        "llmfleet:cluster.azure.entraIdRbac: must stay true in a prod stack (Entra ID with Azure RBAC, local "
        "accounts disabled)"]
    private = run_config(changed(small(A100), cluster__azure={"privateCluster": True}), stack="az-private")
    assert private.one(CLUSTER, "az-t-aks").inputs["apiServerAccessProfile"] == {"enablePrivateCluster": True}


def test_entra_kubeconfig_logs_in_without_interaction():
    text = ("apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: 'https://c:443'}\n"
            "users:\n- name: u\n  user:\n    exec:\n      command: kubelogin\n"
            "      args: [get-token, --login, devicecode, --server-id, x]\n")
    cfg = yaml.safe_load(aks_cluster._kubeconfig(text, entra_id=True))
    exec_ = cfg["users"][0]["user"]["exec"]
    assert exec_["command"] == "kubelogin" and exec_["interactiveMode"] == "Never"
    assert exec_["args"] == ["get-token", "--login", "azurecli", "--server-id",
                             "6dae42f8-4368-4678-94ff-3960e28e3630"]
    assert cfg["clusters"] == [{"name": "c", "cluster": {"server": "https://c:443"}}]


# --- issue 19: fixed names, protection, provider identity -------------------------------------------------------

def test_agent_pools_are_deleted_before_replacement_and_prod_cluster_protected(recorded_options):
    run_stack("azure-prod")
    pools = recorded_options.named(AGENT_POOL)
    assert sorted(pools) == sorted(f"{PREFIX}-{p}" for p in GPU_POOLS + ["general"])
    assert all(o.delete_before_replace for o in pools.values()), pools
    assert recorded_options.of(CLUSTER, f"{PREFIX}-aks").protect is True
    run_config(changed(small(A100), environment="dev"), stack="az-dev")
    assert recorded_options.of(CLUSTER, "az-t-aks").protect is False


def test_credentials_wait_for_the_cluster_only(monkeypatch):
    seen = []
    real = containerservice.list_managed_cluster_user_credentials_output

    def spy(*args, **kwargs):
        seen.append(list(kwargs["opts"].depends_on or []))
        return real(*args, **kwargs)

    monkeypatch.setattr(containerservice, "list_managed_cluster_user_credentials_output", spy)
    plan = run_stack("azure-prod")
    assert len(seen) == 1
    assert [type(r) for r in seen[0]] == [containerservice.ManagedCluster]
    # Ordering after the pools is kept, through the provider's own depends_on (not its inputs).
    provider = plan.one("pulumi:providers:kubernetes")
    for name in GPU_POOLS + ["general"]:
        assert plan.waits_for(provider, plan.one(AGENT_POOL, f"{PREFIX}-{name}")), name
    assert provider.inputs["clusterIdentifier"] == "aks/llm-azure-prod/llm-azure-prod"
