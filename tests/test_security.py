"""Security settings: the CNI that enforces NetworkPolicies per cloud, and llmfleet:security config."""
import json

import pytest

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


def _stack_config(stack):
    import yaml
    from plan.runtime import ROOT
    raw = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
    return {k.partition(":")[2]: v for k, v in raw.items() if k.startswith("llmfleet:")}


def test_restricted_pods_make_every_serving_pod_pass_restricted():
    # Every engine (vLLM shared/per-replica/no cache, KServe Standard and Serverless, Ray) of tests/test_serving.py.
    from plan import manifests
    from plan.checks import admission
    from plan.checks.context import Context
    from tests.test_serving import config
    p = run_config({**config(), "security": {"restrictedPods": True}}, secrets=SECRETS)
    ns = p.manifest("Namespace", "llm-serving")
    assert ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    found = admission.check(Context.from_run(p.result, manifests.objects(p.resources), "1.34"))
    psa = [c for c in found if c.name == "admission.pod-security" and " llm-serving/" in c.object]
    assert len(psa) >= 5 and {c.object.split()[0] for c in psa} >= {"Deployment", "StatefulSet", "InferenceService",
                                                                    "RayService"}
    assert [c.message for c in psa if c.verdict != "pass"] == []
    vllm = next(m for m in p.manifests if m["kind"] in ("Deployment", "StatefulSet")
                and m["metadata"]["namespace"] == "llm-serving")["spec"]["template"]["spec"]
    ctr = vllm["containers"][0]
    assert ctr["securityContext"]["readOnlyRootFilesystem"] is True and vllm["securityContext"]["runAsUser"] == 2000
    mounts = {m["mountPath"] for m in ctr["volumeMounts"]}
    assert {"/tmp", "/home/vllm", "/dev/shm", "/models"} <= mounts
    env = {e["name"]: e.get("value") for e in ctr["env"]}
    assert env["HOME"] == "/home/vllm" and env["USER"] == "vllm" and env["HF_HOME"] == "/models"
    ray = next(m for m in p.manifests if m["kind"] == "RayService")["spec"]["rayClusterConfig"]
    assert ray["autoscalerOptions"]["securityContext"]["allowPrivilegeEscalation"] is False


def test_by_default_the_serving_namespace_stays_baseline_and_vllm_keeps_the_image_user():
    p = run_config(BASE, secrets=SECRETS)
    ns = p.manifest("Namespace", "llm-serving")
    assert ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "baseline"
    spec = p.manifest("Deployment", "m", "llm-serving")["spec"]["template"]["spec"]
    assert "runAsUser" not in spec["securityContext"]
    assert "readOnlyRootFilesystem" not in spec["containers"][0]["securityContext"]


def test_restricted_pods_refuse_a_shared_cache_on_an_nfs_share_that_ignores_fsgroup():
    cfg = _stack_config("azure-prod")
    cfg["security"] = {"restrictedPods": True}
    lines = config_error(cfg, stack="azure-prod", secrets={})
    assert any(line.startswith("llmfleet:security.restrictedPods: model ") and "shared cache" in line
               for line in lines)


def test_the_rag_system_gets_its_paths():
    """dev runs the RAG system: its front end is a model client and Prometheus may scrape its embedding service
    and Qdrant (the cluster checks' network rules then prove both paths open)."""
    from tests.harness import run_stack
    plan = run_stack("dev")
    assert "rag-system" in plan.spec.security.model_clients
    names = {m["metadata"]["name"] for m in plan.manifests if m["kind"] == "NetworkPolicy"
             and m["metadata"]["namespace"] == "monitoring"}
    assert {"allow-scrape-rag-embeddings-egress", "allow-scrape-rag-qdrant-egress"} <= names


@pytest.mark.parametrize("stack", ["dev", "gcp-prod", "prod", "edge"])
def test_every_namespace_below_restricted_says_why(stack):
    """Issue 16: a namespace that cannot enforce `restricted` says why, next to its level (llmfleet.io/why)."""
    p = run_stack(stack)
    namespaces = [m for m in p.manifests if m["kind"] == "Namespace"]
    assert len(namespaces) >= 4
    for ns in namespaces:
        meta = ns["metadata"]
        level = meta["labels"]["pod-security.kubernetes.io/enforce"]
        why = (meta.get("annotations") or {}).get("llmfleet.io/why", "")
        assert (level == "restricted") == (why == ""), (meta["name"], level, why)
