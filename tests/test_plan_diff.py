"""plan.diff (issues 15 and 19): the diff of two offline plans, its rules and its output."""
import copy
import json

import pytest

from plan import diff, preview
from plan.runtime import SECRET
from tests.harness import run_stack

P = "urn:pulumi:s::llmfleet::"


def state(type_, name, inputs, provider=None, deps=()):
    urn = f"{P}{type_}::{name}"
    st = {"urn": urn, "custom": True, "type": type_, "inputs": inputs}
    if provider:
        st["provider"] = f"{provider}::{provider.rsplit('::', 1)[-1]}-id"
    if deps:
        st["dependencies"] = list(deps)
    return urn, st


def plan_of(*states, options=None):
    s = dict(states)
    return {"states": s, "options": options if options is not None else {u: {"deleteBeforeReplace": False,
                                                                              "protect": False} for u in s},
            "cost": None}


PROV_URN = f"{P}pulumi:providers:kubernetes::k8s"


def k8s_world(kubeconfig=SECRET, ident=None, deps=()):
    prov_inputs = {"kubeconfig": kubeconfig, **({"clusterIdentifier": ident} if ident else {})}
    return [state("pulumi:providers:kubernetes", "k8s", prov_inputs, deps=deps),
            state("kubernetes:core/v1:Namespace", "ns", {"metadata": {"name": "llm"}}, provider=PROV_URN),
            state("kubernetes:apps/v1:Deployment", "dep", {"metadata": {"name": "m", "namespace": "llm"},
                                                           "spec": {"replicas": 2, "selector": {"matchLabels":
                                                                                                {"a": "b"}}}},
                  provider=PROV_URN)]


def ops(d):
    return {r["name"]: r["op"] for r in d["resources"]}


def test_kubeconfig_change_replaces_the_provider_and_every_object_without_identifier():
    d = diff.diff_stack(plan_of(*k8s_world("a")), plan_of(*k8s_world("b")))
    assert ops(d) == {"k8s": "replace", "ns": "replace", "dep": "replace"}
    assert any("stateful object replaced" in f for r in d["resources"] if r["name"] == "ns" for f in r["flags"])


def test_stable_cluster_identifier_makes_a_kubeconfig_change_an_update():
    d = diff.diff_stack(plan_of(*k8s_world("a", "c1")), plan_of(*k8s_world("b", "c1")))
    assert ops(d) == {"k8s": "update"}


def test_changed_cluster_identifier_replaces():
    d = diff.diff_stack(plan_of(*k8s_world("a", "c1")), plan_of(*k8s_world("a", "c2")))
    assert ops(d)["k8s"] == "replace" and ops(d)["dep"] == "replace"


def test_kubeconfig_unknown_because_a_dependency_is_created():
    pool = f"{P}azure-native:containerservice:AgentPool::gpu2"
    base = plan_of(*k8s_world())
    head_states = k8s_world(deps=[pool]) + [state("azure-native:containerservice:AgentPool", "gpu2",
                                                  {"agentPoolName": "gpu2"})]
    d = diff.diff_stack(base, plan_of(*head_states))
    assert ops(d) == {"k8s": "replace", "ns": "replace", "dep": "replace", "gpu2": "create"}
    head_states = k8s_world(ident="c", deps=[pool]) + head_states[3:]
    d = diff.diff_stack(plan_of(*k8s_world(ident="c")), plan_of(*head_states))
    assert ops(d) == {"gpu2": "create"}


def test_fixed_name_replacement_needs_delete_before_replace():
    t = "gcp:container/nodePool:NodePool"
    old = state(t, "pool", {"name": "h100", "nodeConfig": {"spot": False}})
    new = state(t, "pool", {"name": "h100", "nodeConfig": {"spot": True}})
    d = diff.diff_stack(plan_of(old), plan_of(new))
    (r,) = d["resources"]
    assert r["op"] == "replace" and "nodeConfig.spot" in r["reasons"][0]
    assert r["flags"][0].startswith("name conflict: name='h100'")
    dbr = plan_of(new, options={new[0]: {"deleteBeforeReplace": True, "protect": False}})
    assert diff.diff_stack(plan_of(old), dbr)["resources"][0]["flags"] == []
    unknown = diff.diff_stack(plan_of(old), plan_of(new, options=None) | {"options": None})
    assert unknown["optionsKnown"] is False and unknown["resources"][0]["flags"][0].startswith("fixed name")


def test_in_place_changes_are_updates():
    t = "aws:eks/nodeGroup:NodeGroup"
    old = state(t, "ng", {"nodeGroupName": "g", "scalingConfig": {"maxSize": 2}, "version": "1.34"})
    new = state(t, "ng", {"nodeGroupName": "g", "scalingConfig": {"maxSize": 3}, "version": "1.35"})
    (r,) = diff.diff_stack(plan_of(old), plan_of(new))["resources"]
    assert (r["op"], r["changed"], r["flags"]) == ("update", ["scalingConfig.maxSize", "version"], [])


def test_replaced_id_cascades_into_forces_new_inputs():
    sub_old = state("aws:ec2/subnet:Subnet", "sub-a", {"cidrBlock": "10.0.0.0/18", "vpcId": "vpc-id"})
    sub_new = state("aws:ec2/subnet:Subnet", "sub-a", {"cidrBlock": "10.0.64.0/18", "vpcId": "vpc-id"})
    ng = state("aws:eks/nodeGroup:NodeGroup", "ng", {"nodeGroupName": "g", "subnetIds": ["sub-a-id"]})
    d = diff.diff_stack(plan_of(sub_old, ng), plan_of(sub_new, ng))
    assert ops(d) == {"sub-a": "replace", "ng": "replace"}
    (r,) = [r for r in d["resources"] if r["name"] == "ng"]
    assert "refers to a replaced resource's id" in r["reasons"][0]


def test_subnet_taking_a_cidr_another_still_holds_collides():
    a0 = state("aws:ec2/subnet:Subnet", "a", {"cidrBlock": "10.0.0.0/18", "vpcId": "v"})
    b0 = state("aws:ec2/subnet:Subnet", "b", {"cidrBlock": "10.0.64.0/18", "vpcId": "v"})
    a1 = state("aws:ec2/subnet:Subnet", "a", {"cidrBlock": "10.0.64.0/18", "vpcId": "v"})
    b1 = state("aws:ec2/subnet:Subnet", "b", {"cidrBlock": "10.0.0.0/18", "vpcId": "v"})
    d = diff.diff_stack(plan_of(a0, b0), plan_of(a1, b1))
    assert all(any(f.startswith("unique conflict") for f in r["flags"]) for r in d["resources"])


def test_dropping_replicas_and_chart_bumps_are_flagged():
    dep0 = state("kubernetes:apps/v1:Deployment", "d", {"metadata": {"name": "m"}, "spec": {"replicas": 3}})
    dep1 = state("kubernetes:apps/v1:Deployment", "d", {"metadata": {"name": "m"}, "spec": {}})
    rel0 = state("kubernetes:helm.sh/v3:Release", "karpenter", {"chart": "oci://public.ecr.aws/karpenter/karpenter",
                                                                "version": "1.14.1"})
    rel1 = state("kubernetes:helm.sh/v3:Release", "karpenter", {"chart": "oci://public.ecr.aws/karpenter/karpenter",
                                                                "version": "1.15.0"})
    keda0 = state("kubernetes:helm.sh/v3:Release", "keda", {"chart": "keda", "version": "2.20.2"})
    keda1 = state("kubernetes:helm.sh/v3:Release", "keda", {"chart": "keda", "version": "2.21.0"})
    d = diff.diff_stack(plan_of(dep0, rel0, keda0), plan_of(dep1, rel1, keda1))
    flags = {r["name"]: r["flags"] for r in d["resources"]}
    assert flags["d"][0].startswith("spec.replicas dropped")
    assert "karpenter-crd" in flags["karpenter"][0]
    assert flags["keda"] == []                    # KEDA's CRDs are templates: upgraded with the chart


def test_ignored_changes_are_shown_not_applied():
    t = "kubernetes:apps/v1:StatefulSet"
    old = state(t, "s", {"metadata": {"name": "m"}, "spec": {"volumeClaimTemplates": [{"x": 1}]}})
    new = state(t, "s", {"metadata": {"name": "m"}, "spec": {"volumeClaimTemplates": [{"x": 2}]}})
    opts = {new[0]: {"deleteBeforeReplace": False, "protect": False, "ignoreChanges": ["spec.volumeClaimTemplates"]}}
    (r,) = diff.diff_stack(plan_of(old), plan_of(new, options=opts))["resources"]
    assert r["op"] == "same" and r["flags"][0].startswith("changed but not applied (ignoreChanges)")
    (r,) = diff.diff_stack(plan_of(old), plan_of(new))["resources"]
    assert r["op"] == "replace" and r["deleteBeforeReplace"] is True


def _write(folder, result):
    folder.mkdir(parents=True)
    (folder / "preview.json").write_text(json.dumps(preview.digest(result, 0)))
    (folder / "options.json").write_text(json.dumps({r.urn: r.options for r in result.resources}))
    from plan import cost
    (folder / "cost.json").write_text(json.dumps(cost.report(result.globals["STACK"])))


@pytest.fixture(scope="module")
def two_real_plans(tmp_path_factory):
    """dev as planned, and dev with one more L40S node at most and a new model version."""
    from plan.runtime import ROOT, run_program
    from plan.stackfile import load_stack_config
    project, config, secrets = load_stack_config(ROOT, "dev")
    root = tmp_path_factory.mktemp("plans")
    _write(root / "base" / "dev", run_program(project, "dev", config, secrets))
    pools = json.loads(config["llmfleet:gpuPools"])
    pools[0]["maxNodes"] += 1
    models = json.loads(config["llmfleet:models"])
    models[0]["version"] = "2"
    head = dict(config, **{"llmfleet:gpuPools": json.dumps(pools), "llmfleet:models": json.dumps(models)})
    _write(root / "head" / "dev", run_program(project, "dev", head, secrets))
    return root


def test_cli_on_two_real_plans(two_real_plans, capsys):
    out = two_real_plans / "diff.json"
    assert diff.main([str(two_real_plans / "base"), str(two_real_plans / "head"), "--json", str(out)]) == 0
    md = capsys.readouterr().out
    d = json.loads(out.read_text())["dev"]
    assert d["summary"]["replace"] == 0 and d["summary"]["update"] > 0
    groups = {r["name"]: r for r in d["resources"] if r["type"] == "aws:eks/nodeGroup:NodeGroup"}
    assert set(groups) == {"llm-dev-l40s-on-demand-ng", "llm-dev-l40s-spot-ng"}
    assert all(r["changed"] == ["scalingConfig.maxSize"] for r in groups.values())
    dep = next(r for r in d["resources"] if r["type"] == "kubernetes:apps/v1:Deployment")
    assert dep["op"] == "update" and "app.kubernetes.io/version" in dep["yaml"]
    assert d["cost"]["monthlyAtMax"]["delta"] > 0 and d["cost"]["monthlyAtMin"]["delta"] == 0
    assert md.startswith("## Plan diff\n") and "<details><summary><b>dev</b>" in md
    # Secrets stay redacted: the placeholder the plan decrypts secure values to never shows.
    assert "offline-plan-secret" not in md and "offline-plan-secret" not in out.read_text()
    # Stable: the same inputs give byte-identical output.
    assert diff.main([str(two_real_plans / "base"), str(two_real_plans / "head")]) == 0
    assert capsys.readouterr().out == md


def test_cli_rejects_a_folder_without_plans(tmp_path, capsys):
    assert diff.main([str(tmp_path), str(tmp_path)]) == 2
    assert "no offline plan" in capsys.readouterr().err


def test_eks_encryption_can_be_added_in_place_but_not_removed():
    t = "aws:eks/cluster:Cluster"
    plain = state(t, "c", {"name": "c", "version": "1.34"})
    enc = state(t, "c", {"name": "c", "version": "1.34", "encryptionConfig": {"resources": ["secrets"]}})
    (r,) = diff.diff_stack(plan_of(plain), plan_of(enc))["resources"]
    assert r["op"] == "update"
    (r,) = diff.diff_stack(plan_of(enc), plan_of(plain))["resources"]
    assert r["op"] == "replace" and "ForceNewIfChange" in r["reasons"][0]
    assert "stateful object replaced" in r["flags"] and r["flags"][0].startswith("name conflict")


def test_plan_with_base_writes_options_and_the_diff(tmp_path, capsys):
    from plan.__main__ import main
    assert main(["--stack", "edge", "--out", str(tmp_path / "base" / "edge")]) == 0
    options = json.loads((tmp_path / "base" / "edge" / "options.json").read_text())
    sts = [o for u, o in options.items() if "kubernetes:apps/v1:StatefulSet" in u]
    assert sts and sts[0]["ignoreChanges"] == ["spec.volumeClaimTemplates"]
    capsys.readouterr()
    assert main(["--stack", "edge", "--out", str(tmp_path / "head"), "--base", str(tmp_path / "base")]) == 0
    assert "| edge | 0 | 0 | 0 | 0 | 0 |" in capsys.readouterr().out
    d = json.loads((tmp_path / "head" / "diff.json").read_text())
    assert d["edge"]["summary"] == {"replace": 0, "delete": 0, "create": 0, "update": 0}
    assert main(["--stack", "edge", "--out", str(tmp_path / "h2"), "--base", str(tmp_path / "nowhere")]) == 2


def test_diff_reports_cost_guard_and_check_results_per_stack(tmp_path, monkeypatch):
    """Two real plans of dev, the head growing the pool: the comment shows the cost delta and the advisory
    budget warning the growth trips (dev warns above $5,000/month)."""
    import plan.__main__ as cli
    from plan import diff
    from plan.runtime import ROOT
    from plan.stackfile import load_stack_config
    root = tmp_path / "root"
    root.mkdir()
    (root / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    text = (ROOT / "Pulumi.dev.yaml").read_text()
    (root / "Pulumi.dev.yaml").write_text(text)
    assert cli.plan("dev", tmp_path / "base" / "dev", quiet=True, stack_root=root) == 0
    (root / "Pulumi.dev.yaml").write_text(text.replace("      maxNodes: 2\n", "      maxNodes: 3\n"))
    assert cli.plan("dev", tmp_path / "head" / "dev", quiet=True, stack_root=root) == 0
    result = diff.diff_all(tmp_path / "base", tmp_path / "head")
    d = result["dev"]
    # g6e.xlarge: spot 0.78 + on-demand 1.861 per hour, one more node each: 2.641 x 730 = 1,927.93.
    assert d["cost"]["monthlyAtMax"] == {"base": 3855.86, "head": 5783.79, "delta": 1927.93}
    assert d["policy"]["advisory"]["head"] == d["policy"]["advisory"]["base"] + 1
    assert d["policy"]["mandatory"] == {"base": 0, "head": 0} and d["checks"]["fail"] == 0
    md = diff.markdown(result)
    # node groups (2) and the GPU quota grow in place.
    assert "| dev | 0 | 3 | 0 | 0 | 0 | 0 -> 0 (+0) | 3,856 -> 5,784 (+1,928) | 0 mandatory, " in md


def test_costdiff_per_stack_and_model(tmp_path):
    """Two cost reports written by hand: totals and only the models that changed; a stack missing on one side
    counts from zero; the command exits 2 when neither side has a plan."""
    from plan import costdiff

    def write(root, stack, at_max, models):
        d = root / stack
        d.mkdir(parents=True)
        (d / "preview.json").write_text('{"steps": []}')
        (d / "cost.json").write_text(json.dumps({"total": {"monthlyAtMin": 0, "monthlyAtMax": at_max,
                                                           "modelsMonthlyFloorWholeNodes": 100},
                                                 "models": models}))
    m = {"model": "a", "monthlyAtMinReplicas": 100, "monthlyAtMaxReplicas": 200}
    write(tmp_path / "base", "s", 1000, [m, {**m, "model": "same"}])
    write(tmp_path / "head", "s", 1500.5, [{**m, "monthlyAtMaxReplicas": 400}, {**m, "model": "same"}])
    write(tmp_path / "head", "new", 50, [])
    md = costdiff.markdown(costdiff.costdiff(tmp_path / "base", tmp_path / "head"))
    assert "| new | 0 -> 0 (+0) | 0 -> 50 (+50) | 0 -> 100 (+100) |" in md
    assert "| s | 0 -> 0 (+0) | 1,000 -> 1,500 (+500) | 100 -> 100 (+0) |" in md
    assert "| s | a | 100 -> 100 (+0) | 200 -> 400 (+200) |" in md
    assert "| s | same |" not in md
    assert costdiff.main([str(tmp_path / "nothing"), str(tmp_path / "nothing2")]) == 2
