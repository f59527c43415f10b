"""Every Kubernetes object of every shipped stack, rendered in-process, passes the strict schema of its kind (the
cluster's Kubernetes version, or the pinned CRD). `make test` validates the same objects through `python -m plan
--all` before the unit tests; this in-process copy lets mutation testing see a misspelt field or a value outside
an enum in any component as the failure it is (a subprocess is invisible to its test map)."""
import pytest

from plan import validate
from plan.runtime import ROOT
from tests.harness import run_stack

STACKS = sorted(p.name[len("Pulumi."):-len(".yaml")] for p in ROOT.glob("Pulumi.*.yaml") if p.name != "Pulumi.yaml")


@pytest.mark.parametrize("stack", STACKS)
def test_every_object_validates(stack):
    plan = run_stack(stack)
    objs = plan.manifests
    assert len(objs) > 20
    assert validate.validate_all(objs, plan.spec.cluster.kubernetes_version) == {}
