"""The offline plan itself: preview.json shape, manifests, validation that can fail, secrets never printed."""
import json

import pytest
import yaml

from plan import __main__ as plan_cli
from plan import manifests, validate
from plan.stackfile import SECRET_PLACEHOLDER, load_stack_config
from plan.runtime import ROOT
from tests.harness import run_stack


@pytest.fixture(scope="module")
def edge_out(tmp_path_factory):
    out = tmp_path_factory.mktemp("edge")
    assert plan_cli.plan("edge", out, quiet=True) == 0
    return out


def test_preview_json_has_the_pulumi_preview_shape(edge_out):
    digest = json.loads((edge_out / "preview.json").read_text())
    assert set(digest) == {"config", "steps", "duration", "changeSummary"}
    first = digest["steps"][0]
    assert first["newState"]["type"] == "pulumi:pulumi:Stack"
    assert digest["changeSummary"] == {"create": len(digest["steps"])}
    for step in digest["steps"]:
        assert step["op"] == "create" and step["urn"] == step["newState"]["urn"]
        assert step["urn"].startswith("urn:pulumi:edge::llmfleet::")
        assert set(step["newState"]) <= {"urn", "custom", "type", "inputs", "parent", "provider", "dependencies"}
    ns = next(s for s in digest["steps"] if s["newState"]["type"] == "kubernetes:core/v1:Namespace")
    assert ns["provider"].startswith("urn:pulumi:edge::llmfleet::llmfleet:cluster:ExistingCluster$pulumi:providers:kubernetes::")
    assert ns["newState"]["parent"].endswith("llmfleet:platform:PlatformBase::edge-k3s-platform")


def test_secrets_are_shown_as_secret_and_never_written(edge_out):
    digest = json.loads((edge_out / "preview.json").read_text())
    assert digest["config"]["llmfleet:kubeconfig"] == "[secret]"
    provider = next(s for s in digest["steps"] if s["newState"]["type"] == "pulumi:providers:kubernetes")
    assert provider["newState"]["inputs"]["kubeconfig"] == "[secret]"
    for path in edge_out.rglob("*"):
        if path.is_file():
            assert SECRET_PLACEHOLDER not in path.read_text(), path


def test_manifests_are_one_file_per_object_with_integers(edge_out):
    files = sorted(str(p.relative_to(edge_out / "manifests")) for p in (edge_out / "manifests").rglob("*.yaml"))
    assert "_cluster/Namespace-llm-serving.yaml" in files
    assert "_cluster/PriorityClass-llm-critical.yaml" in files
    assert "llm-serving/ResourceQuota-llmfleet-quota.yaml" in files
    pc = yaml.safe_load((edge_out / "manifests/_cluster/PriorityClass-llm-critical.yaml").read_text())
    assert pc["value"] == 1000000 and isinstance(pc["value"], int)


def test_cost_report_lists_pools_and_models(edge_out):
    cost = json.loads((edge_out / "cost.json").read_text())
    assert [p["pool"] for p in cost["pools"]] == ["edge-l4"]
    (model,) = cost["models"]
    assert (model["model"], model["pool"], model["tensorParallel"]) == ("qwen-7b", "edge-l4", 1)
    assert model["kvTokens"] >= 8192 * 4
    # Edge nodes cost nothing here (pricePerHour 0), so the replica floor is 0 too; the keys are always there.
    assert (model["replicasMin"], model["monthlyAtMinReplicas"]) == (1, 0)
    assert cost["total"]["modelsMonthlyAtMinReplicas"] == 0
    assert "| qwen-7b | qwen2.5-7b |" in (edge_out / "cost.md").read_text()


def test_a_deliberately_invalid_object_is_caught():
    good = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": "y"}, "data": {"a": "b"}}
    assert validate.validate_object(good, "1.34") == []
    bad = dict(good, dataa={"a": "b"})
    assert validate.validate_object(bad, "1.34") == ["(root): Additional properties are not allowed ('dataa' was unexpected)"]
    wrong_type = dict(good, data={"a": 1})
    assert validate.validate_object(wrong_type, "1.34") == ["data.a: 1 is not of type 'string', 'null'"]


def test_custom_resources_are_checked_strictly_against_their_crd():
    so = {"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject", "metadata": {"name": "x", "namespace": "y"},
          "spec": {"scaleTargetRef": {"name": "d"}, "triggers": [{"type": "prometheus",
                                                                  "metadata": {"threshold": "5"}}]}}
    assert validate.validate_object(so, "1.34") == []
    so["spec"]["triggers"][0]["metadata"]["threshold"] = 5
    assert validate.validate_object(so, "1.34") == ["spec.triggers.0.metadata.threshold: 5 is not of type 'string'"]
    so["spec"]["triggers"][0]["metadata"]["threshold"] = "5"
    so["spec"]["cooldown"] = 300
    assert validate.validate_object(so, "1.34") == [
        "spec: Additional properties are not allowed ('cooldown' was unexpected)"]


def test_an_unknown_kind_is_an_error_not_a_pass():
    obj = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    (problem,) = validate.validate_object(obj, "1.34")
    assert problem.startswith("no schema for example.com/v1 Widget")


def test_an_unnamed_object_is_an_error():
    assert validate.validate_object({"apiVersion": "v1", "kind": "Namespace", "metadata": {}}, "1.34") == [
        "metadata.name is not set (name every object explicitly)"]


def test_validation_failure_fails_the_plan(monkeypatch, tmp_path, capsys):
    real = manifests.objects

    def with_a_bad_object(resources):
        objs = real(resources)
        objs.append({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "bad", "namespace": "llm-serving"},
                     "spec": {"ports": [{"port": "eighty"}]}})
        return objs

    monkeypatch.setattr(manifests, "objects", with_a_bad_object)
    assert plan_cli.plan("edge", tmp_path, quiet=True) == 1
    assert "v1 Service llm-serving/bad: spec.ports.0.port: 'eighty' is not of type 'integer'" in capsys.readouterr().err


def test_config_error_exits_2_with_one_line_per_problem(tmp_path, capsys, monkeypatch):
    stack_file = ROOT / "Pulumi.broken-test.yaml"
    stack_file.write_text("config:\n  llmfleet:cloud: aws\n  llmfleet:gpuPools:\n    - name: x\n      gpu: h100-80gb\n"
                          "      minNodes: 3\n      maxNodes: 1\n  llmfleet:modelz: []\n")
    try:
        assert plan_cli.plan("broken-test", tmp_path / "o", quiet=True) == 2
    finally:
        stack_file.unlink()
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "llmfleet:gpuPools[0].maxNodes: must be >= minNodes (3), got 1" in err
    assert "llmfleet:modelz: unknown key (did you mean 'models'?)" in err
    assert not (tmp_path / "o").exists()


def test_stack_file_secure_values_become_marked_secrets():
    project, config, secret_keys = load_stack_config(ROOT, "edge")
    assert project == "llmfleet"
    assert config["llmfleet:kubeconfig"] == SECRET_PLACEHOLDER and secret_keys == ["llmfleet:kubeconfig"]
    assert json.loads(config["llmfleet:gpuPools"])[0]["name"] == "edge-l4"


def test_harness_records_exact_children_of_the_platform():
    p = run_stack("edge")
    platform = p.one("llmfleet:platform:PlatformBase", "edge-k3s-platform")
    kinds = sorted(r.type.split(":")[-1] for r in p.children_of(platform))
    assert kinds == ["LimitRange"] * 4 + ["Namespace"] * 4 + ["PriorityClass"] * 3 + ["ResourceQuota"]


def test_prod_cost_report_prices_pools_and_model_floors():
    from plan.cost import report
    r = report(run_stack("prod").stack)
    h100 = next(p for p in r["pools"] if p["nodeGroup"] == "h100-on-demand")
    # p5.48xlarge on-demand, 1-4 nodes, 730 h a month.
    assert (h100["pricePerHour"], h100["minNodes"], h100["maxNodes"]) == (55.04, 1, 4)
    assert (h100["monthlyAtMin"], h100["monthlyAtMax"]) == (40179.2, 160716.8)
    models = {m["model"]: m for m in r["models"]}
    # A 4-GPU replica pays half a p5.48xlarge.
    assert (models["llama-70b"]["tensorParallel"], models["llama-70b"]["replicaPerHour"]) == (4, 27.52)
    assert models["llama-70b"]["monthlyAtMinReplicas"] == round(27.52 * 730, 2)
    assert r["total"]["monthlyAtMin"] == round(sum(p["monthlyAtMin"] for p in r["pools"]), 2)


def test_stack_files_carry_no_ciphertext_and_the_plan_stands_in_for_their_secrets(tmp_path, capsys):
    """No example stack file holds a `secure:` value; the plan supplies a marked-secret placeholder for exactly the
    secrets the stack needs and says which command sets each; the value never reaches an output."""
    for path in ROOT.glob("Pulumi.*.yaml"):
        assert "secure:" not in path.read_text(), path.name
    assert plan_cli.plan("edge", tmp_path / "edge", stack_root=ROOT) == 0
    out = capsys.readouterr().out
    assert ("plan: llmfleet:kubeconfig is a secret the stack needs; planning with a placeholder (before `pulumi up`: "
            "pulumi config set --secret llmfleet:kubeconfig)") in out
    assert "hfToken" not in out               # qwen2.5 is not gated: no token needed, none invented
    digest = json.loads((tmp_path / "edge" / "preview.json").read_text())
    assert digest["config"]["llmfleet:kubeconfig"] == "[secret]"
    assert SECRET_PLACEHOLDER not in (tmp_path / "edge" / "preview.json").read_text()


def test_without_the_plan_a_missing_secret_stops_the_program_with_the_command_to_run():
    from tests.harness import config_error
    cfg = {"cloud": "aws", "gpuPools": [{"name": "l4", "gpu": "l4-24gb", "maxNodes": 1}],
           "models": [{"name": "m", "model": "llama-3.1-8b"}]}
    assert config_error(cfg) == [
        "llmfleet:hfToken: is required: model 'm' downloads gated weights (meta-llama/Llama-3.1-8B-Instruct); set it "
        "with `pulumi config set --secret llmfleet:hfToken`"]
