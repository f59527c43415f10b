"""The cost-guard policy pack: same figures as the cost report, every policy trips on a stack that breaks it (in
the offline plan), and the pack's entry point serves the policies to the engine over gRPC as Pulumi loads it."""
import json
import subprocess
import sys

import pytest
from google.protobuf import empty_pb2, struct_pb2

from plan import cost, policy
from plan.runtime import ROOT
from policy.costguards import POLICIES, TAG_PATHS
from policy.gpu_groups import gpu_groups, monthly_at_max, prices
from spec.costguards import POLICY_NAMES
from tests.harness import changed, config_error, run_config, run_stack

STACKS = ["dev", "prod", "prod-karpenter", "gcp-prod", "azure-prod", "edge"]


def test_policy_names_are_the_config_contract():
    assert tuple(p.name for p in POLICIES) == POLICY_NAMES


@pytest.fixture(scope="module", params=STACKS)
def stack_plan(request):
    return run_stack(request.param)


def test_every_stack_passes_the_mandatory_policies_and_is_budgeted(stack_plan):
    rows = {r["policy"]: r for r in policy.evaluate(stack_plan.resources, policy.pack_config(stack_plan.spec))}
    assert policy.failed(rows.values()) == []
    if stack_plan.spec.cloud != "existing":
        # Every cloud stack sets a ceiling, and the budget policies ran (not "not applicable").
        assert rows["gpu-budget-ceiling"]["status"] == "passed"
        assert rows["gpu-budget-warning"]["status"] == "passed"
    assert rows["gpu-workload-priority-class"]["status"] == "passed"
    assert rows["gpu-requests-match-sizing"]["status"] == "passed"


def test_budget_and_cost_report_agree_to_the_cent(stack_plan):
    config = policy.pack_config(stack_plan.spec)["gpu-budget-ceiling"]
    resources = policy._resources(stack_plan.resources)
    groups = gpu_groups(resources)
    report = cost.report(stack_plan.stack)
    assert monthly_at_max(groups, prices(config["prices"]), config["existingPools"]) == \
        report["total"]["monthlyAtMax"]
    if stack_plan.spec.cloud != "existing":
        # The pack found exactly the GPU groups the cluster component made (one per pool and capacity type).
        assert sorted((g.instance_type, g.capacity, g.max_nodes) for g in groups) == sorted(
            (p["instanceType"], p["capacity"], p["maxNodes"]) for p in report["pools"])


def _rows(plan):
    return {r["policy"]: r for r in policy.evaluate(plan.resources, policy.pack_config(plan.spec))}


def _dev_config():
    from plan.stackfile import load_stack_config
    _, config, _ = load_stack_config(ROOT, "dev")
    return {k.split(":", 1)[1]: (json.loads(v) if v[:1] in "[{" else v) for k, v in config.items()
            if k.startswith("llmfleet:") and k not in ("llmfleet:hfToken",)}


def test_dev_budget_ceiling_trips_when_the_pool_grows():
    # dev: g6e.xlarge, on-demand $1.861/h (the chain's dearest), 2 groups (spot, on-demand).
    # maxNodes 40 -> spot 0.78 x 40 x 730 = 22,776 + on-demand 1.861 x 40 x 730 = 54,341.2 -> 77,117.2 > 8,000.
    cfg = _dev_config()
    cfg["gpuPools"][0]["maxNodes"] = 40
    rows = _rows(run_config(cfg, stack="dev", secrets={"hfToken": "x"}))
    (violation,) = rows["gpu-budget-ceiling"]["violations"]
    assert "$77,117.20/month" in violation["message"] and "$8,000.00" in violation["message"]
    assert rows["gpu-budget-ceiling"]["level"] == "mandatory"
    assert rows["gpu-budget-warning"]["status"] == "violated"
    assert rows["gpu-budget-warning"]["level"] == "advisory"


def test_nonprod_rules_trip_on_dev():
    cfg = _dev_config()
    pool = cfg["gpuPools"][0]
    pool.update({"instanceType": "p5.48xlarge", "capacity": ["on-demand"], "minNodes": 1, "maxNodes": 2})
    cfg["costGuards"]["monthlyCeiling"] = 10_000_000
    cfg["costGuards"]["monthlyWarning"] = 10_000_000
    rows = _rows(run_config(cfg, stack="dev", secrets={"hfToken": "x"}))
    assert [v["message"] for v in rows["nonprod-premium-gpus-not-on-demand"]["violations"]] == [
        "llm-dev-l40s-on-demand-ng: on-demand p5.48xlarge (h100-80gb) in environment 'dev'; outside prod "
        "premium GPUs run on spot or reserved capacity"]
    assert len(rows["nonprod-gpu-scale-to-zero"]["violations"]) == 1
    # 2 nodes x 8 GPUs = 16 > the dev cap of 8.
    assert "up to 16 GPUs (2 x 8), over the cap of 8 per pool" in rows["max-gpus-per-pool"]["violations"][0]["message"]


def test_the_same_config_in_prod_allows_on_demand_h100():
    cfg = _dev_config()
    cfg["environment"] = "prod"
    cfg["cluster"]["aws"]["endpointAccess"] = "private"      # prod needs an allow-list or a private endpoint
    cfg["gpuPools"][0].update({"instanceType": "p5.48xlarge", "capacity": ["on-demand"], "minNodes": 1,
                               "maxNodes": 1})
    cfg["costGuards"].update({"monthlyCeiling": 10_000_000, "monthlyWarning": 10_000_000})
    rows = _rows(run_config(cfg, stack="dev", secrets={"hfToken": "x"}))
    assert rows["nonprod-premium-gpus-not-on-demand"]["status"] == "passed"
    assert rows["nonprod-gpu-scale-to-zero"]["status"] == "passed"


def test_enforcement_override_and_unknown_policy_names_are_config():
    cfg = _dev_config()
    cfg["costGuards"]["enforcement"] = {"gpu-budget-ceilling": "advisory"}
    (line,) = config_error(cfg, stack="dev", secrets={"hfToken": "x"})
    assert line.startswith("llmfleet:costGuards.enforcement.gpu-budget-ceilling: unknown key (did you mean "
                           "'gpu-budget-ceiling'?); allowed: cost-tags, gpu-budget-ceiling, ")
    cfg["costGuards"]["enforcement"] = {"gpu-budget-ceiling": "advisory"}
    cfg["gpuPools"][0]["maxNodes"] = 5        # 0.78 x 5 x 730 + 1.861 x 5 x 730 = 9,639.65 > 8,000; 5 GPUs <= 8
    rows = _rows(run_config(cfg, stack="dev", secrets={"hfToken": "x"}))
    assert rows["gpu-budget-ceiling"]["level"] == "advisory"
    assert rows["gpu-budget-ceiling"]["status"] == "violated" and not policy.failed(rows.values())


def _violating_workload(mutate):
    plan = run_stack("dev")
    resources = [r for r in plan.resources]
    # The model's Deployment (the stack has others, e.g. the Gateway's rate-limit Redis).
    dep = next(r for r in resources if r.type == "kubernetes:apps/v1:Deployment"
               and r.inputs["metadata"]["name"] == "llama-8b")
    mutate(dep.inputs["spec"]["template"]["spec"])
    return {r["policy"]: r for r in policy.evaluate(resources, policy.pack_config(plan.spec))}


def test_serving_guards_trip_on_broken_workloads():
    def no_priority(pod):
        pod.pop("priorityClassName")
    assert _violating_workload(no_priority)["gpu-workload-priority-class"]["status"] == "violated"

    def two_gpus(pod):
        pod["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] = "2"
    rows = _violating_workload(two_gpus)
    messages = [v["message"] for v in rows["gpu-requests-match-sizing"]["violations"]]
    assert any("2 GPUs per replica but tensor parallel size 1" in m for m in messages)
    assert any("sizing planned 1" in m for m in messages)


def test_pdb_guard_trips_without_a_pdb():
    plan = run_stack("dev")
    resources = [r for r in plan.resources if r.type != "kubernetes:policy/v1:PodDisruptionBudget"]
    rows = {r["policy"]: r for r in policy.evaluate(resources, policy.pack_config(plan.spec))}
    (v,) = rows["gpu-workload-pdb"]["violations"]
    assert v["message"].startswith("Deployment llm-serving/llama-8b: no PodDisruptionBudget")


def test_plan_fails_on_a_mandatory_violation(tmp_path, monkeypatch, capsys):
    import plan.__main__ as cli
    from plan.stackfile import load_stack_config
    (tmp_path / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    text = (ROOT / "Pulumi.dev.yaml").read_text().replace("monthlyCeiling: 8000", "monthlyCeiling: 100")
    text = text.replace("monthlyWarning: 5000", "monthlyWarning: 50")
    (tmp_path / "Pulumi.dev.yaml").write_text(text)
    assert cli.plan("dev", tmp_path / "out", quiet=True, stack_root=tmp_path) == 1
    assert "gpu-budget-ceiling: GPU cost at every group's max is $3,855.86/month" in capsys.readouterr().err
    written = json.loads((tmp_path / "out" / "policy.json").read_text())
    assert {r["policy"]: r["status"] for r in written}["gpu-budget-ceiling"] == "violated"


def test_tag_table_matches_the_provider_sdks():
    """TAG_PATHS lists a type exactly when its SDK class takes tags (or GKE's labels) and this program uses it."""
    import importlib
    import inspect
    used = set()
    for s in STACKS:
        used |= {r.type for r in run_stack(s).resources if r.type.split(":")[0] in ("aws", "gcp", "azure-native")}
    base = {"aws": "pulumi_aws", "gcp": "pulumi_gcp", "azure-native": "pulumi_azure_native"}
    for t in sorted(used):
        pkg, mod, name = t.split(":")
        cls = getattr(importlib.import_module(f"{base[pkg]}.{mod.split('/')[0].lower()}"), name)
        params = set(inspect.signature(cls._internal_init).parameters)
        taggable = bool(params & {"tags", "resource_labels"}) or t == "gcp:container/nodePool:NodePool"
        assert taggable == (t in TAG_PATHS), t


def test_pack_entry_point_serves_the_policies_like_pulumi_loads_it():
    """Starts policy/__main__.py as the CLI does, then drives it over the analyzer gRPC protocol: info, config
    and one resource that breaks the GPU cap."""
    import grpc
    from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc
    proc = subprocess.Popen([sys.executable, "__main__.py"], cwd=ROOT / "policy", stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        port = int(proc.stdout.readline().decode().strip())
        stub = analyzer_pb2_grpc.AnalyzerStub(grpc.insecure_channel(f"127.0.0.1:{port}"))
        info = stub.GetAnalyzerInfo(empty_pb2.Empty(), timeout=30)
        assert info.name == "llmfleet-cost-guards"
        assert [p.name for p in info.policies] == list(POLICY_NAMES)
        props = struct_pb2.Struct()
        props.update({"maxGpusPerPool": 8})
        stub.Configure(analyzer_pb2.ConfigureAnalyzerRequest(policyConfig={
            "max-gpus-per-pool": analyzer_pb2.PolicyConfig(enforcementLevel=analyzer_pb2.MANDATORY,
                                                           properties=props)}), timeout=30)
        node_group = struct_pb2.Struct()
        node_group.update({"instanceTypes": ["p5.48xlarge"], "capacityType": "SPOT",
                           "scalingConfig": {"minSize": 0, "maxSize": 4, "desiredSize": 0}})
        response = stub.Analyze(analyzer_pb2.AnalyzeRequest(
            type="aws:eks/nodeGroup:NodeGroup", properties=node_group, name="h100-spot",
            urn="urn:pulumi:dev::llmfleet::aws:eks/nodeGroup:NodeGroup::h100-spot"), timeout=30)
        diags = [(d.policyName, d.enforcementLevel) for d in response.diagnostics]
        assert ("max-gpus-per-pool", analyzer_pb2.MANDATORY) in diags
        assert any("up to 32 GPUs (4 x 8)" in d.message for d in response.diagnostics)
    finally:
        proc.kill()
        proc.wait(timeout=10)


def test_every_taggable_cloud_resource_carries_the_cost_tags(stack_plan):
    rows = {r["policy"]: r for r in policy.evaluate(stack_plan.resources, policy.pack_config(stack_plan.spec))}
    if stack_plan.spec.cloud == "existing":
        assert rows["cost-tags"]["status"] == "not-applicable"       # no cloud resources of ours
    else:
        assert rows["cost-tags"]["status"] == "passed", rows["cost-tags"]["violations"][:3]


def test_cost_tags_are_checked_and_their_absence_is_reported():
    cfg = _dev_config()
    cfg["costTags"] = {"costCenter": "Inference Team", "ownr": "x"}
    assert config_error(cfg, stack="dev", secrets={"hfToken": "x"}) == [
        "llmfleet:costTags.costCenter: must be lowercase letters, digits, '-' and '_', at most 63 (GKE label values), "
        "got 'Inference Team'",
        "llmfleet:costTags.ownr: unknown key (did you mean 'owner'?); allowed: costCenter, owner"]
    del cfg["costTags"]
    rows = _rows(run_config(cfg, stack="dev", secrets={"hfToken": "x"}))
    assert rows["cost-tags"]["level"] == "advisory" and rows["cost-tags"]["violations"]
    assert all(v["message"].endswith("missing cost tag(s) cost-center, owner (at tags)")
               for v in rows["cost-tags"]["violations"])


def test_one_rule_says_which_environments_are_production():
    from spec.environment import is_production
    assert [e for e in ("prod", "production", "prod-eu", "preprod", "dev", "prod_1", "production-us-2")
            if is_production(e)] == ["prod", "production", "prod-eu", "production-us-2"]


def test_a_capacity_block_group_is_seen_by_the_per_resource_policies():
    """A Capacity Block node group names no instance type (it is in the launch template); a resource policy sees
    only the group itself, so the program tags it with the type (components/aws/nodegroups.py)."""
    from pulumi_policy import ResourceValidationArgs
    from components.aws.nodegroups import INSTANCE_TYPE_TAG
    props = {"capacityType": "CAPACITY_BLOCK", "scalingConfig": {"minSize": 0, "maxSize": 4, "desiredSize": 0},
             "tags": {INSTANCE_TYPE_TAG: "p5.48xlarge"}}
    args = ResourceValidationArgs("aws:eks/nodeGroup:NodeGroup", props, "urn:x", "h100-reserved", None, None,
                                  {"maxGpusPerPool": 16})
    (group,) = gpu_groups([args])
    assert (group.instance_type, group.capacity, group.max_nodes, group.gpus_per_node) == ("p5.48xlarge", "reserved", 4, 8)
    found = []
    next(p for p in POLICIES if p.name == "max-gpus-per-pool").validate(args, lambda m, u=None: found.append(m))
    assert found == ["h100-reserved: up to 32 GPUs (4 x 8), over the cap of 16 per pool"]
