"""The federation stack's offline plan (plan/federation.py): StackReferences resolve from the referenced stacks'
out/<stack>/outputs.json, secret outputs stay secret, and a missing stack or output is one line naming the key.

Scratch projects hold the stack files and outputs.json (copied from the shipped cloud stacks' own plans, planned
once here when missing or stale), so no test plans a cloud stack of its own.
"""
import json
import os
import shutil
import time
from pathlib import Path

import pytest

from plan import __main__ as plan_cli
from plan import fakes, federation
from plan.runtime import ROOT
from plan.stackfile import SECRET_PLACEHOLDER, read_stack_file

CLOUD = ("prod", "gcp-prod", "azure-prod")
FED = (ROOT / "Pulumi.federation.yaml").read_text()


@pytest.fixture(scope="module")
def real_outputs() -> dict:
    """The shipped cloud stacks' outputs.json, from their own plans (reused when fresh, as `make test` leaves them)."""
    code, lines = federation.prepare(read_stack_file(ROOT, "federation").config, ROOT,
                                     lambda s, o: plan_cli.plan(s, o, quiet=True, stack_root=ROOT), say=lambda *a: None)
    assert (code, lines) == (0, [])
    return {s: json.loads((ROOT / "out" / s / "outputs.json").read_text()) for s in CLOUD}


def scratch(root: Path, outputs: dict, fed_text: str = FED) -> Path:
    """Pulumi.yaml, the federation file, the cloud stack files, then their outputs.json (newer: fresh)."""
    shutil.copy(ROOT / "Pulumi.yaml", root / "Pulumi.yaml")
    (root / "Pulumi.federation.yaml").write_text(fed_text)
    for s, doc in outputs.items():
        shutil.copy(ROOT / f"Pulumi.{s}.yaml", root / f"Pulumi.{s}.yaml")
        os.utime(root / f"Pulumi.{s}.yaml", (time.time() - 60, time.time() - 60))
        (root / "out" / s).mkdir(parents=True, exist_ok=True)
        (root / "out" / s / "outputs.json").write_text(json.dumps(doc))
    return root


def run(root: Path, capsys) -> tuple[int, str, str]:
    code = plan_cli.plan("federation", root / "out" / "federation", stack_root=root)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def problem_lines(err: str) -> list[str]:
    lines = err.splitlines()
    assert lines[0] == "plan: stack federation: invalid stack config:", err
    assert "Traceback" not in err
    return lines[1:]


def test_the_federation_plans_from_the_cloud_stacks_outputs(tmp_path, real_outputs, capsys):
    root = scratch(tmp_path, real_outputs)
    code, out, err = run(root, capsys)
    assert code == 0, err
    assert "reusing" in out and "planning stack" not in out      # fresh outputs are reused, nothing re-planned
    fed = root / "out" / "federation"
    routes = json.loads((fed / "routes.json").read_text())["virtualModels"]
    by_model = {v["model"]: [(b["backend"], b["priority"]) for b in v["backends"]] for v in routes}
    assert by_model["llama-70b"] == [("prod/llama-70b", 0), ("gcp-prod/llama-70b", 1)]
    assert "| cheap (tier) | 0 | prod/llama-8b | aws |" in (fed / "routes.md").read_text()
    for hub in ("prod", "gcp-prod"):
        route = fed / "manifests" / hub / "llm-federation" / "AIGatewayRoute-fed-llama-70b.yaml"
        assert route.is_file(), hub
    checks = json.loads((fed / "checks.json").read_text())["summary"]
    assert checks["fail"] == 0 and checks["pass"] > 0
    import yaml
    from components.gateway.objects import BODY_LIMIT
    for hub in ("prod", "gcp-prod"):
        folder = fed / "manifests" / hub / "llm-federation"
        # A prompt longer than Envoy Gateway's 32 KiB default buffer must not get 413 at the global endpoint.
        ctp = yaml.safe_load((folder / "ClientTrafficPolicy-llm-federation.yaml").read_text())
        assert ctp["spec"]["targetRefs"][0]["name"] == "llm-federation"
        assert ctp["spec"]["connection"]["bufferLimit"] == BODY_LIMIT == "8Mi"
        passive = yaml.safe_load((folder / "BackendTrafficPolicy-fed-llama-70b.yaml").read_text())[
            "spec"]["healthCheck"]["passive"]
        assert passive["splitExternalLocalOriginErrors"] is True      # else the local-origin counter is ignored
        # The hub namespace has no pods; `restricted` keeps anything later placed there from running privileged.
        ns = yaml.safe_load((fed / "manifests" / hub / "_cluster" / "Namespace-llm-federation.yaml").read_text())
        assert {k: v for k, v in ns["metadata"]["labels"].items() if k.startswith("pod-security")} == {
            f"pod-security.kubernetes.io/{m}{s}": v for m in ("enforce", "audit", "warn")
            for s, v in (("", "restricted"), ("-version", "latest"))}
    # Each hub's provider is named by its cloud stack's cluster identifier, so a kubeconfig change (endpoint, CA)
    # updates the provider instead of replacing it together with every hub object.
    steps = json.loads((fed / "preview.json").read_text())["steps"]
    ids = {st["newState"]["urn"].rsplit("::", 1)[1]: st["newState"]["inputs"].get("clusterIdentifier")
           for st in steps if (st.get("newState") or {}).get("type") == "pulumi:providers:kubernetes"}
    assert ids == {f"hub-{h}": real_outputs[h]["clusterIdentifier"] for h in ("prod", "gcp-prod")}
    assert all(ids.values())


def test_secret_outputs_stay_secret_everywhere(tmp_path, real_outputs, capsys):
    root = scratch(tmp_path, real_outputs)
    assert run(root, capsys)[0] == 0
    fed = root / "out" / "federation"
    preview = json.loads((fed / "preview.json").read_text())
    # The hub's kubeconfig comes straight from the StackReference (not re-wrapped by the program): the mock marks
    # it secret by name, as the engine does.
    providers = [s["newState"] for s in preview["steps"] if s["newState"]["type"] == "pulumi:providers:kubernetes"]
    assert {p["inputs"]["kubeconfig"] for p in providers} == {"[secret]"} and len(providers) == 2
    key = (fed / "manifests" / "prod" / "llm-federation" / "Secret-fed-gcp-prod-api-key.yaml").read_text()
    assert "apiKey: '[secret]'" in key
    assert json.loads((fed / "outputs.json").read_text())["clientApiKeys"] == "[secret]"
    for path in fed.rglob("*"):
        if path.is_file():
            text = path.read_text()
            assert SECRET_PLACEHOLDER not in text and "offline-plan-fake" not in text, path


def test_a_missing_output_is_one_line(tmp_path, real_outputs, capsys):
    gone = {**real_outputs, "gcp-prod": {k: v for k, v in real_outputs["gcp-prod"].items() if k != "federation"}}
    code, _, err = run(scratch(tmp_path, gone), capsys)
    assert code == 2
    assert problem_lines(err) == [
        "llmfleet:federation.stacks[1].name: stack acme/llmfleet/gcp-prod does not export federation: plan or "
        "`pulumi up` it with this version of the program (stacks/exports.py), which exports it from every cloud stack"]


def test_a_renamed_output_is_one_line(tmp_path, real_outputs, capsys):
    renamed = {**real_outputs, "azure-prod": {("federationKey" if k == "federationApiKey" else k): v
                                              for k, v in real_outputs["azure-prod"].items()}}
    code, _, err = run(scratch(tmp_path, renamed), capsys)
    assert code == 2
    assert problem_lines(err) == ["llmfleet:federation.stacks[2].name: stack acme/llmfleet/azure-prod does not "
                                  "export federationApiKey, the key the hub calls its endpoint with"]


def test_a_stack_without_an_endpoint_and_an_unknown_model(tmp_path, real_outputs, capsys):
    no_endpoint = json.loads(json.dumps(real_outputs))
    for k in ("endpoint", "gateway"):
        no_endpoint["azure-prod"]["federation"].pop(k)
    text = FED.replace("models: [llama-70b, llama-8b]", "models: [llama-70b, llama-9b]")
    code, _, err = run(scratch(tmp_path, no_endpoint, text), capsys)
    assert code == 2
    assert problem_lines(err) == [
        "llmfleet:federation.stacks[2].name: stack acme/llmfleet/azure-prod does not export federation.endpoint: it "
        "has no public endpoint; set llmfleet:gateway on that stack",
        "llmfleet:federation.models[1]: model 'llama-9b' is served by none of the federated stacks' endpoints "
        "(served: llama-70b, llama-8b)"]


def test_a_missing_stack_file_and_an_unknown_hub(tmp_path, real_outputs, capsys):
    some = {s: real_outputs[s] for s in ("prod", "gcp-prod")}
    text = FED.replace("hubs: [prod, gcp-prod]", "hubs: [prod, aws]")
    code, _, err = run(scratch(tmp_path, some, text), capsys)
    assert code == 2
    assert problem_lines(err) == [
        "llmfleet:federation.stacks[2].name: acme/llmfleet/azure-prod maps to no stack file here (<org>/llmfleet/"
        "<stack> -> Pulumi.<stack>.yaml; stacks: federation, gcp-prod, prod)"]
    # With the stack there, the hub is the problem (the program's own config check).
    code, _, err = run(scratch(tmp_path, real_outputs, text), capsys)
    assert code == 2
    assert problem_lines(err) == ["llmfleet:federation.hubs[1]: 'aws' is not one of llmfleet:federation.stacks "
                                  "(prod, gcp-prod, azure-prod); a hub is a federated stack's cluster"]


def test_stale_or_missing_outputs_are_planned_first_and_a_failing_stack_stops_it(tmp_path, real_outputs):
    root = scratch(tmp_path, real_outputs)
    config = read_stack_file(root, "federation").config
    planned = []

    def plan_stack(stack, out):          # stands in for plan(): writes the stack's outputs as its plan would
        planned.append(stack)
        out.mkdir(parents=True, exist_ok=True)
        (out / "outputs.json").write_text(json.dumps(real_outputs[stack]))
        return 0

    assert federation.prepare(config, root, plan_stack, say=lambda *a: None) == (0, [])
    assert planned == []
    later = time.time() + 5
    os.utime(root / "Pulumi.gcp-prod.yaml", (later, later))       # edited after its outputs were written
    (root / "out" / "azure-prod" / "outputs.json").unlink()
    assert federation.prepare(config, root, plan_stack, say=lambda *a: None) == (0, [])
    assert planned == ["gcp-prod", "azure-prod"]
    assert sorted(fakes.STACK_OUTPUTS) == ["acme/llmfleet/azure-prod", "acme/llmfleet/gcp-prod", "acme/llmfleet/prod"]
    os.utime(root / "Pulumi.gcp-prod.yaml", (later + 60, later + 60))
    (root / "out" / "azure-prod" / "outputs.json").unlink()
    code, lines = federation.prepare(config, root, lambda s, o: 2, say=lambda *a: None)
    assert code == 2 and lines == [
        "llmfleet:federation.stacks[1].name: the referenced stack gcp-prod does not plan (exit 2): see `python -m "
        "plan --stack gcp-prod`",
        "llmfleet:federation.stacks[2].name: the referenced stack azure-prod does not plan (exit 2): see `python -m "
        "plan --stack azure-prod`"]


def test_the_mock_hands_secret_outputs_over_by_name(tmp_path, real_outputs):
    """outputs.json keeps no secret value; the mock gets a placeholder marked secret by name (FACTS-wave2 §8)."""
    assert real_outputs["prod"]["kubeconfig"] == "[secret]" == real_outputs["prod"]["federationApiKey"]
    outputs, secret = federation.load_outputs(ROOT / "out" / "prod" / "outputs.json")
    assert secret == ["federationApiKey", "gatewayApiKeys", "grafanaAdmin", "kubeconfig", "opencostAdminToken"]
    assert outputs["kubeconfig"] == SECRET_PLACEHOLDER and outputs["federation"]["stack"] == "prod"
    fakes.STACK_OUTPUTS["acme/llmfleet/prod"] = (outputs, secret)
    state = fakes.outputs_for("pulumi:pulumi:StackReference", "ref-prod", {"name": "acme/llmfleet/prod"})
    assert state["secretOutputNames"] == secret and state["outputs"] is outputs
    with pytest.raises(fakes.MissingStack):
        fakes.outputs_for("pulumi:pulumi:StackReference", "ref-x", {"name": "acme/llmfleet/x"})


def test_all_plans_federation_after_the_cloud_stacks(tmp_path, real_outputs, monkeypatch, capsys):
    root = scratch(tmp_path, real_outputs)
    shutil.copy(ROOT / "Pulumi.edge.yaml", root / "Pulumi.edge.yaml")
    assert federation.order(root) == ["azure-prod", "edge", "gcp-prod", "prod", "federation"]
    assert federation.cloud_stacks(root) == ["azure-prod", "edge", "gcp-prod", "prod"]
    seen = []
    monkeypatch.setattr(plan_cli, "ROOT", root)
    monkeypatch.setattr(plan_cli, "plan", lambda s, out, **kw: seen.append(s) or (2 if s == "federation" else 0))
    assert plan_cli.main(["--all"]) == 2
    assert seen == ["azure-prod", "edge", "gcp-prod", "prod", "federation"]
    assert "FAILED: federation" in capsys.readouterr().out


def test_cli_exit_codes_for_the_federation_stack(tmp_path, real_outputs, monkeypatch, capsys):
    root = scratch(tmp_path, real_outputs)
    monkeypatch.setattr(plan_cli, "ROOT", root)
    assert plan_cli.main(["--stack", "federation"]) == 0
    (root / "Pulumi.federation.yaml").write_text(FED.replace("hubs: [prod, gcp-prod]", "hubs: []"))
    assert plan_cli.main(["--stack", "federation"]) == 2
    assert "llmfleet:federation.hubs: must have at least 1 item(s), got 0" in capsys.readouterr().err


def test_the_reference_checks_fail_when_a_referenced_object_is_missing(tmp_path, real_outputs, capsys):
    """plan/checks/federation.py is not a pass over nothing: drop a key Secret and a Backend, and it says so."""
    import yaml
    from plan.checks import federation as refs
    from plan.checks.context import Context
    root = scratch(tmp_path, real_outputs)
    assert run(root, capsys)[0] == 0
    objs = [yaml.safe_load(p.read_text()) for p in (root / "out" / "federation" / "manifests" / "prod").rglob("*.yaml")]
    assert all(c.verdict != "fail" for c in refs.check(Context("aws", "1.34", objs)))
    kept = [o for o in objs if (o["kind"], o["metadata"]["name"]) not in
            {("Secret", "fed-gcp-prod-api-key"), ("Backend", "fed-prod"), ("Secret", "llm-federation-dns01")}]
    failed = sorted(f"{c.object}: {c.message}" for c in refs.check(Context("aws", "1.34", kept)) if c.verdict == "fail")
    assert failed == [
        "AIServiceBackend llm-federation/fed-prod: backendRef Backend llm-federation/fed-prod is not in the plan",
        "BackendSecurityPolicy llm-federation/fed-gcp-prod: API key Secret llm-federation/fed-gcp-prod-api-key is not "
        "in the plan",
        "Issuer llm-federation/llm-federation-acme: route53 accessKeyIDSecretRef Secret llm-federation/"
        "llm-federation-dns01 is not in the plan",
        "Issuer llm-federation/llm-federation-acme: route53 secretAccessKeySecretRef Secret llm-federation/"
        "llm-federation-dns01 is not in the plan"]


from tests.test_cli import _run, checkout  # noqa: E402,F401  (the scratch checkout fixture of the real CLI tests)


def test_python_m_plan_exit_codes_for_federation(checkout):
    """The real command line: a federation whose referenced stacks are not in the checkout exits 2 with one line
    per stack, and `--all` plans it after the cloud stacks and exits 2."""
    import sys
    fed = checkout / "Pulumi.federation.yaml"
    fed.write_text(FED)
    try:
        single = _run(checkout, sys.executable, "-m", "plan", "--stack", "federation")
        everything = _run(checkout, sys.executable, "-m", "plan", "--all")
    finally:
        fed.unlink()
    assert single.returncode == 2 and "Traceback" not in single.stderr, single.stderr
    assert single.stderr.splitlines()[1:] == [
        f"llmfleet:federation.stacks[{i}].name: acme/llmfleet/{s} maps to no stack file here (<org>/llmfleet/<stack> "
        f"-> Pulumi.<stack>.yaml; stacks: edge, federation)" for i, s in enumerate(CLOUD)]
    assert everything.returncode == 2
    assert "planned 2 stacks: edge, federation; FAILED: federation" in everything.stdout
