"""Kinds shared/crds/ lacks get the project's own schema (plan/extra_schemas.py): validated as strictly as a CRD."""
from plan import validate
from plan.extra_schemas import SCHEMAS

GRANT = {"apiVersion": "gateway.networking.k8s.io/v1beta1", "kind": "ReferenceGrant",
         "metadata": {"name": "llm-gateway-pools", "namespace": "llm-serving"},
         "spec": {"from": [{"group": "aigateway.envoyproxy.io", "kind": "AIGatewayRoute", "namespace": "llm-gateway"}],
                  "to": [{"group": "inference.networking.k8s.io", "kind": "InferencePool"}]}}


def test_shared_crds_do_not_define_the_kinds_defined_here():
    # When shared/crds/ gains the CRD, it wins and this file's entry should go.
    assert not set(SCHEMAS) & set(validate.crd_index())


def test_a_reference_grant_validates_and_a_broken_one_does_not():
    assert validate.validate_object(GRANT, "1.34") == []
    broken = {**GRANT, "spec": {"from": [{"group": "aigateway.envoyproxy.io", "kind": "AIGatewayRoute"}],
                                "to": [], "extra": 1}}
    problems = validate.validate_object(broken, "1.34")
    assert any("'namespace' is a required property" in p for p in problems), problems
    assert any(p.startswith("spec.to:") for p in problems), problems
    assert any("extra" in p for p in problems), problems          # unknown fields refused, as for a CRD
