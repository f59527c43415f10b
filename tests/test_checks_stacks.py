"""Every shipped stack passes the cluster checks, and the plan stage writes checks.json and fails on a failure.

The per-stack test fails on this branch until issue 9's fixes are merged (the checks catch its defects)."""
import json

import pytest

from plan import __main__ as plan_cli
from plan import checks, federation, manifests
from plan.checks.context import Context
from plan.runtime import ROOT
from tests.harness import run_stack

STACKS = federation.cloud_stacks(ROOT)
# Rules every stack must actually exercise, so a pass is not a pass over nothing.
ALWAYS = {"admission.limitrange", "admission.pod-security", "scheduling.gpu-fit", "references.pod",
          "references.service", "helm.values"}


@pytest.mark.parametrize("stack", STACKS)
def test_every_shipped_stack_passes_the_cluster_checks(stack):
    p = run_stack(stack)
    ctx = Context.from_run(p.result, manifests.objects(p.resources), p.spec.cluster.kubernetes_version)
    found = checks.run(ctx)
    assert ALWAYS <= {c.name for c in found if c.verdict != "unchecked"}, "a rule saw nothing to check"
    failures = [f"{c.object}: [{c.name}] {c.message}" for c in found if c.verdict == "fail"]
    assert failures == []


@pytest.mark.parametrize("stack", federation.federation_stacks(ROOT))
def test_every_shipped_federation_stack_passes_the_cluster_checks(stack, tmp_path):
    """A federation stack's hub objects go through the same checks (plus their references, plan/checks/federation.py)
    in its own plan, which resolves the cloud stacks' outputs first."""
    assert plan_cli.plan(stack, tmp_path / stack, quiet=True, stack_root=ROOT) == 0
    found = json.loads((tmp_path / stack / "checks.json").read_text())["checks"]
    ran = {c["name"] for c in found if c["verdict"] == "pass"}
    assert {"api.cel", "references.federation"} <= ran, "a rule saw nothing to check"
    assert [c for c in found if c["verdict"] == "fail"] == []


def test_checks_json_is_written_and_a_failing_check_fails_the_plan(monkeypatch, tmp_path, capsys):
    real = manifests.objects

    def with_a_claim_nobody_serves(resources):
        return real(resources) + [{"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                                   "metadata": {"name": "orphan", "namespace": "llm-serving"},
                                   "spec": {"storageClassName": "no-such-class", "accessModes": ["ReadWriteOnce"],
                                            "resources": {"requests": {"storage": "1Gi"}}}}]

    monkeypatch.setattr(manifests, "objects", with_a_claim_nobody_serves)
    assert plan_cli.plan("edge", tmp_path, quiet=True) == 1
    err = capsys.readouterr().err
    assert "PersistentVolumeClaim llm-serving/orphan: [storage.claims] StorageClass 'no-such-class'" in err
    doc = json.loads((tmp_path / "checks.json").read_text())
    assert set(doc) == {"summary", "checks"} and doc["summary"]["fail"] >= 1
    assert all(set(c) == {"name", "object", "verdict", "message"} for c in doc["checks"])
    assert {c["verdict"] for c in doc["checks"]} <= {"pass", "fail", "unchecked"}
