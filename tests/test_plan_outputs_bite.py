"""The offline plan's outputs decision by decision: the policy pack's evaluation and config (plan/policy.py), the
Kubernetes objects and their files (plan/manifests.py) and the routing table (plan/routes.py), on hand-built input."""
from types import SimpleNamespace as NS

import yaml

from plan import manifests, policy, routes
from tests.checks_kit import container, deployment, rec

GPU_DEP = "kubernetes:apps/v1:Deployment"


def gpu_deployment(name="m", priority=None):
    c = container("vllm", requests={"nvidia.com/gpu": "1"}, limits={"nvidia.com/gpu": "1"})
    extra = {"priorityClassName": priority} if priority else {}
    return rec(GPU_DEP, name, deployment(name, [c], labels={"app": name, "llmfleet.io/model": name}, **extra))


def by_name(rows):
    return {r["policy"]: r for r in rows}


# --- policy -----------------------------------------------------------------------------------------------------

def test_evaluate_reports_violations_with_the_resource_urn_and_statuses():
    dep = gpu_deployment()
    rows = by_name(policy.evaluate([dep], {}))
    pc = rows["gpu-workload-priority-class"]
    assert (pc["status"], pc["level"]) == ("violated", "mandatory")
    assert pc["violations"] == [{"message": "Deployment llm-serving/m: GPU pods without a priorityClassName "
                                            "(llm-critical, llm-standard or llm-batch) are preempted in no defined "
                                            "order", "urn": dep.urn}]
    assert rows["gpu-workload-pdb"]["violations"][0]["urn"] == dep.urn
    assert rows["gpu-requests-match-sizing"]["status"] == "passed"
    # Per-resource policies that apply to no resource are not-applicable, never passed.
    assert rows["nonprod-gpu-scale-to-zero"]["status"] == "not-applicable"
    assert rows["gpu-workload-priority-class"]["description"] == "Every GPU workload has a priority class"
    ok = by_name(policy.evaluate([gpu_deployment(priority="llm-standard")], {}))
    assert ok["gpu-workload-priority-class"]["status"] == "passed" and ok["gpu-workload-priority-class"]["violations"] == []


def test_enforcement_levels_from_config_and_failed_lists_only_mandatory_violations():
    dep = gpu_deployment()
    rows = policy.evaluate([dep], {"gpu-workload-priority-class": {"enforcementLevel": "advisory"},
                                   "gpu-workload-pdb": {"enforcementLevel": "disabled"}})
    r = by_name(rows)
    assert (r["gpu-workload-priority-class"]["level"], r["gpu-workload-priority-class"]["status"]) == (
        "advisory", "violated")
    assert (r["gpu-workload-pdb"]["level"], r["gpu-workload-pdb"]["status"], r["gpu-workload-pdb"]["violations"]) == (
        "disabled", "disabled", [])
    assert [x["policy"] for x in policy.failed(rows)] == []
    assert [x["policy"] for x in policy.failed(policy.evaluate([dep], {}))] == [
        "gpu-workload-priority-class", "gpu-workload-pdb"]


def test_config_reaches_the_policy_without_the_enforcement_level():
    dep = gpu_deployment(priority="llm-standard")
    rows = by_name(policy.evaluate([dep], {"gpu-requests-match-sizing": {"models": {"m": 2},
                                                                          "enforcementLevel": "mandatory"}}))
    assert [v["message"] for v in rows["gpu-requests-match-sizing"]["violations"]] == [
        "Deployment llm-serving/m: 1 GPUs per replica, sizing planned 2"]


def test_policy_resources_carry_parents_and_dependencies():
    parent = rec("llmfleet:x:Comp", "p", {})
    child = rec("aws:iam/role:Role", "c", {"name": "c"}, deps=[parent.urn, "urn:gone"], parent=parent.urn)
    [p, c] = policy._resources([parent, child])
    assert c.parent is p and c.dependencies == [p] and p.parent is None
    assert (c.resource_type, c.props, c.name, c.urn) == ("aws:iam/role:Role", {"name": "c"}, "c", child.urn)


def test_policy_markdown():
    rows = [{"policy": "a", "level": "mandatory", "status": "violated", "violations": [{"message": "x"}, {"message": "y"}]},
            {"policy": "b", "level": "advisory", "status": "not-applicable", "violations": []}]
    md = policy.markdown(rows)
    assert "| a | mandatory | 2 violation(s) |" in md and "| b | advisory | not-applicable |" in md
    assert "- **a** (mandatory): x\n- **a** (mandatory): y" in md and "**b**" not in md


def spec(cloud="aws", warning=None, ceiling=None, enforcement=None, prices=None):
    guards = NS(max_gpus_per_pool=64, required_tags=("team", "env"), monthly_warning=warning,
                monthly_ceiling=ceiling, enforcement=enforcement or {})
    pools = [NS(name="gpu", max_nodes=3, price_per_hour=None), NS(name="big", max_nodes=1, price_per_hour=12.5)]
    models = [NS(name="m", placement=NS(tensor_parallel=4)), NS(name="unplaced", placement=None)]
    return NS(cost_guards=guards, prices=prices or {}, cloud=cloud, pools=pools, environment="dev", models=models)


def test_pack_config_from_the_spec():
    cfg = policy.pack_config(spec())
    assert cfg["gpu-budget-warning"] == {"prices": {}, "existingPools": []}
    assert "monthlyCeiling" not in cfg["gpu-budget-ceiling"]
    assert cfg["nonprod-gpu-scale-to-zero"]["environment"] == "dev"
    assert cfg["nonprod-premium-gpus-not-on-demand"]["prodEnvironmentPattern"] == policy.PROD_ENVIRONMENT
    assert cfg["max-gpus-per-pool"] == {"maxGpusPerPool": 64}
    assert cfg["cost-tags"] == {"requiredTags": ["team", "env"]}
    assert cfg["gpu-requests-match-sizing"] == {"models": {"m": 4}}
    prices = {"aws/p5": NS(source="llmfleet:prices", on_demand=1.0, spot=0.5, as_of="2026-01"),
              "aws/p4": NS(source="catalog", on_demand=2.0, spot=1.0, as_of="2025-01")}
    cfg = policy.pack_config(spec("existing", warning=100.0, ceiling=200.0, enforcement={"cost-tags": "mandatory",
                                                                                          "new-one": "disabled"},
                                  prices=prices))
    assert cfg["gpu-budget-warning"]["prices"] == {"aws/p5": {"onDemand": 1.0, "spot": 0.5, "asOf": "2026-01"}}
    assert cfg["gpu-budget-ceiling"]["existingPools"] == [{"name": "gpu", "maxNodes": 3, "pricePerHour": 0.0},
                                                          {"name": "big", "maxNodes": 1, "pricePerHour": 12.5}]
    assert cfg["gpu-budget-warning"]["monthlyWarning"] == 100.0 and cfg["gpu-budget-ceiling"]["monthlyCeiling"] == 200.0
    assert cfg["cost-tags"]["enforcementLevel"] == "mandatory" and cfg["new-one"] == {"enforcementLevel": "disabled"}


# --- manifests --------------------------------------------------------------------------------------------------

def test_which_types_are_kubernetes_objects():
    assert manifests.is_k8s_object("kubernetes:core/v1:ConfigMap")
    for t in ("pulumi:providers:kubernetes", "kubernetes:helm.sh/v3:Release", "kubernetes:yaml:ConfigFile",
              "kubernetes:kustomize:Directory", "aws:iam/role:Role"):
        assert not manifests.is_k8s_object(t)


def test_objects_get_api_version_and_kind_from_the_token_and_whole_numbers():
    o = manifests.to_object("kubernetes:apps/v1:Deployment", {"spec": {"replicas": 2.0, "x": 0.5}, "metadata": {}})
    assert list(o) == ["apiVersion", "kind", "metadata", "spec"]
    assert (o["apiVersion"], o["kind"], o["spec"]) == ("apps/v1", "Deployment", {"replicas": 2, "x": 0.5})
    assert isinstance(o["spec"]["replicas"], int)
    assert manifests.to_object("kubernetes:core/v1:Service", {})["apiVersion"] == "v1"
    given = manifests.to_object("kubernetes:x.io/v1:Thing", {"kind": "Other", "apiVersion": "x.io/v2", "a": [1.0]})
    assert given == {"apiVersion": "x.io/v2", "kind": "Other", "a": [1]}
    only_api = manifests.to_object("kubernetes:x.io/v1:Thing", {"apiVersion": "x.io/v2"})
    assert (only_api["apiVersion"], only_api["kind"]) == ("x.io/v2", "Thing")
    assert manifests.to_object("kubernetes:v1:Thing", {})["apiVersion"] == "v1"     # a token without a group
    only_kind = manifests.to_object("kubernetes:x.io/v1:Thing", {"kind": "Other"})
    assert (only_kind["apiVersion"], only_kind["kind"]) == ("x.io/v1", "Other")
    recs = [rec("kubernetes:core/v1:ConfigMap", "c", {"metadata": {"name": "c"}}),
            rec("kubernetes:helm.sh/v3:Release", "r", {}), rec("aws:iam/role:Role", "x", {})]
    custom_false = rec("kubernetes:core/v1:Secret", "s", {})
    custom_false.custom = False
    assert [o["kind"] for o in manifests.objects(recs + [custom_false])] == ["ConfigMap"]


def test_files_are_named_by_namespace_kind_and_name_and_block_strings_stay_readable(tmp_path):
    objs = [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "ns"},
             "data": {"script": "a\nb\n", "one": "line"}},
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ns"}},
            {"apiVersion": "v1", "kind": "Secret", "metadata": {}}]
    assert manifests.write(objs, tmp_path) == ["ns/ConfigMap-c.yaml", "_cluster/Namespace-ns.yaml",
                                               "_cluster/Secret-UNNAMED.yaml"]
    text = (tmp_path / "ns/ConfigMap-c.yaml").read_text()
    assert "script: |\n" in text and text.startswith("apiVersion: v1\nkind: ConfigMap\n")
    assert yaml.safe_load(text) == objs[0]


# --- routes -----------------------------------------------------------------------------------------------------

def route_stack(gateway=True, routing=True):
    models = [NS(name="a"), NS(name="b")]
    rt = NS(models=[NS(name="chat", tier="gold", versions=[NS(model="a", weight=75), NS(model="b", weight=25)],
                       fallback=["b"], picker="inferencePool"),
                    NS(name="cheap", tier=None, versions=[NS(model="b", weight=100)], fallback=[], picker=None)],
            tenants=[NS(name="t", tokens_per_hour=1000), NS(name="u", tokens_per_hour=None)],
            backends=lambda: ["a", "b"])
    return NS(spec=NS(gateway=NS(url="https://gw") if gateway else None, routing=rt if routing else None, models=models))


def test_routes_blend_the_weighted_costs_and_list_fallbacks(monkeypatch):
    monkeypatch.setattr(routes, "token_cost", lambda m: NS(usd_per_million_tokens={"a": 2.0, "b": 1.0}[m.name],
                                                           tokens_per_second=10.0))
    assert routes.report(route_stack(gateway=False)) is None and routes.report(route_stack(routing=False)) is None
    r = routes.report(route_stack())
    assert r["endpoint"] == "https://gw/v1"
    chat = r["routes"][0]
    assert chat["usdPerMillionTokens"] == 1.75 and chat["tier"] == "gold" and chat["picker"] == "inferencePool"
    assert chat["backends"] == [{"model": "a", "weight": 75, "priority": 0, "usdPerMillionTokens": 2.0,
                                 "tokensPerSecondPerReplica": 10.0},
                                {"model": "b", "weight": 25, "priority": 0, "usdPerMillionTokens": 1.0,
                                 "tokensPerSecondPerReplica": 10.0}]
    assert chat["fallback"] == [{"model": "b", "weight": 1, "priority": 1, "usdPerMillionTokens": 1.0,
                                 "tokensPerSecondPerReplica": 10.0}]
    assert r["tenants"] == [{"name": "t", "tokensPerHour": 1000}, {"name": "u", "tokensPerHour": None}]
    md = routes.markdown(r)
    assert md.startswith("# Routing table: https://gw/v1\n")
    assert "| chat | gold | a (75%, $2.0000), b (25%, $1.0000) | b ($1.0000) | inferencePool | 1.7500 |" in md
    assert "| cheap | - | b (100%, $1.0000) | - | least-request | 1.0000 |" in md
    assert "| t | 1000 |" in md and "| u | none |" in md
    assert routes.markdown(None) == ""
