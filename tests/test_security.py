"""Security settings: the CNI that enforces NetworkPolicies per cloud, and llmfleet:security config."""
import json

from tests.harness import config_error, run_config, run_stack
from tests.test_serving import H100_POOL, SECRETS

BASE = {"cloud": "existing", "gpuPools": [H100_POOL], "models": [{"name": "m", "model": "llama-3.1-8b"}]}


def test_eks_turns_on_the_vpc_cni_network_policy_mode():
    addon = next(r for r in run_stack("prod").resources
                 if r.type == "aws:eks/addon:Addon" and r.inputs.get("addonName") == "vpc-cni")
    assert json.loads(addon.inputs["configurationValues"]) == {"enableNetworkPolicy": "true"}


def test_gke_runs_dataplane_v2_and_aks_a_network_policy_engine():
    gke = run_stack("gcp-prod").one("gcp:container/cluster:Cluster")
    assert gke.inputs["datapathProvider"] == "ADVANCED_DATAPATH"
    aks = run_stack("azure-prod").one("azure-native:containerservice:ManagedCluster")
    assert aks.inputs["networkProfile"]["networkPolicy"] in ("cilium", "azure", "calico")


def test_every_owned_namespace_gets_a_default_deny_and_model_clients_come_from_config():
    p = run_config({**BASE, "security": {"modelClients": ["apps", "llm-serving"]}}, secrets=SECRETS)
    pols = [m for m in p.manifests if m["kind"] == "NetworkPolicy"]
    deny = {m["metadata"]["namespace"] for m in pols if m["metadata"]["name"] == "default-deny"}
    assert deny == {"llm-serving", "llm-system", "gpu-operator", "monitoring"}
    ingress = p.manifest("NetworkPolicy", "allow-client-m-0-ingress", "llm-serving")
    src = ingress["spec"]["ingress"][0]["from"][0]
    assert src["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "apps"}
    assert ingress["spec"]["ingress"][0]["ports"] == [{"protocol": "TCP", "port": 8000}]


def test_network_policies_can_be_turned_off():
    p = run_config({**BASE, "security": {"networkPolicies": False}}, secrets=SECRETS)
    assert not [m for m in p.manifests if m["kind"] == "NetworkPolicy"]


def test_bad_security_config_names_the_key():
    lines = config_error({**BASE, "security": {"modelClients": ["Apps_1", "x", "x"], "networkPolicies": "yes",
                                               "bogus": 1}}, secrets=SECRETS)
    text = "\n".join(lines)
    assert "llmfleet:security.modelClients[0]: must be a namespace name" in text
    assert "llmfleet:security.modelClients: lists a namespace twice" in text
    assert "llmfleet:security.networkPolicies" in text and "llmfleet:security.bogus" in text


def test_aks_without_a_policy_engine_is_rejected_while_policies_are_rendered():
    import yaml
    from plan.runtime import ROOT
    raw = yaml.safe_load((ROOT / "Pulumi.azure-prod.yaml").read_text())["config"]
    cfg = {k.partition(":")[2]: v for k, v in raw.items() if k.startswith("llmfleet:")}
    cfg["cluster"] = {**cfg["cluster"], "azure": {**cfg["cluster"].get("azure", {}), "networkDataplane": "azure",
                                                  "networkPolicy": "none"}}
    lines = config_error(cfg, stack="azure-prod", secrets={})
    assert any(line.startswith("llmfleet:cluster.azure.networkPolicy: none enforces no NetworkPolicy") for line in lines)
