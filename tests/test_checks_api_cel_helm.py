"""API rules the schema does not carry, CRD CEL rules, and Helm values against the chart's defaults."""
import copy

from plan import validate
from plan.checks import api_rules, cel, helm_values
from tests.checks_kit import ctx, deployment, failed, rec, verdicts


def _hpa(**behavior):
    return {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "h",
            "namespace": "n"}, "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "d"}, "minReplicas": 1,
                                        "maxReplicas": 3, "behavior": behavior}}


def test_hpa_stabilization_over_an_hour_is_rejected():
    (msg,) = failed(api_rules.check(ctx([_hpa(scaleDown={"stabilizationWindowSeconds": 4000})])), "api.horizontalpodautoscaler")
    assert "must be less than or equal to 3600" in msg
    assert "must specify at least one Policy" in failed(
        api_rules.check(ctx([_hpa(scaleUp={"policies": []})])), "api.horizontalpodautoscaler")[0]
    assert not failed(api_rules.check(ctx([_hpa(scaleDown={"stabilizationWindowSeconds": 3600})])),
                      "api.horizontalpodautoscaler")


def _so(name="s", **spec):
    base = {"scaleTargetRef": {"name": "d"}, "minReplicaCount": 1, "maxReplicaCount": 4,
            "triggers": [{"type": "prometheus", "metadata": {}}]}
    base.update(spec)
    return {"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject", "metadata": {"name": name, "namespace": "n"},
            "spec": base}


def test_keda_rules():
    checks = api_rules.check(ctx([_so("x" * 60, idleReplicaCount=1,
                                      fallback={"failureThreshold": 3, "replicas": 1},
                                      advanced={"horizontalPodAutoscalerConfig": {"behavior": {
                                          "scaleDown": {"stabilizationWindowSeconds": 7200}}}})]))
    (msg,) = failed(checks, "api.scaledobject")
    assert "exceeds 63" in msg and "IdleReplicaCount=1 must be less than MinReplicaCount=1" in msg
    assert "use currentReplicasIfHigher" in msg and "must be less than or equal to 3600" in msg
    ok = _so(fallback={"failureThreshold": 3, "replicas": 1, "behavior": "currentReplicasIfHigher"})
    assert not failed(api_rules.check(ctx([ok])), "api.scaledobject")


def test_kserve_external_metric_needs_target_value_and_pdb_and_rollout_rules():
    isvc = {"apiVersion": "serving.kserve.io/v1beta1", "kind": "InferenceService", "metadata": {"name": "m",
            "namespace": "n"}, "spec": {"predictor": {"autoScaling": {"metrics": [{"type": "External", "external": {
                "target": {"type": "AverageValue", "averageValue": "5"}}}]}}}}
    assert "External metrics need target.value" in failed(api_rules.check(ctx([isvc])), "api.inferenceservice")[0]
    pdb = {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "p", "namespace": "n"},
           "spec": {"minAvailable": 1, "maxUnavailable": 1}}
    assert "cannot be both set" in failed(api_rules.check(ctx([pdb])), "api.poddisruptionbudget")[0]
    d = deployment(strategy={"type": "RollingUpdate"})
    d["spec"]["strategy"] = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 0}}
    assert "may not be 0 when `maxSurge` is 0" in failed(api_rules.check(ctx([d])), "api.deployment")[0]


def test_cel_rules_of_the_crd_are_evaluated():
    so = _so(minReplicaCount=5, maxReplicaCount=2)
    (msg,) = failed(cel.check(ctx([so])), "api.cel")
    assert "minReplicaCount must be less than or equal to maxReplicaCount" in msg
    assert not failed(cel.check(ctx([_so()])), "api.cel")
    # Karpenter: a custom label in the karpenter.sh domain is rejected (rule uses the k8s string library: find).
    schema = validate.schema("karpenter.sh", "v1", "NodePool")
    fails, _, passed = cel.evaluate(schema, {"spec": {"template": {"metadata": {"labels": {"karpenter.sh/x": "y"}},
                                                                   "spec": {"requirements": [], "nodeClassRef": {
                                                                       "group": "g", "kind": "k", "name": "n"}}}}})
    assert fails and passed


def test_a_rule_the_library_cannot_evaluate_is_unchecked_never_passed():
    schema = {"type": "object", "properties": {"q": {"type": "string", "x-kubernetes-validations": [
        {"rule": "quantity(self).isLessThan(quantity('1Gi'))", "message": "too big"},
        {"rule": "self == oldSelf", "message": "immutable"}]}}}
    fails, unchecked, passed = cel.evaluate(schema, {"q": "2Gi"})
    assert (fails, passed) == ([], 0)
    assert [u[1] for u in unchecked] == ["quantity(self).isLessThan(quantity('1Gi'))", "self == oldSelf"]


def test_computeclass_schema_is_loaded_and_validated():
    cc = {"apiVersion": "cloud.google.com/v1", "kind": "ComputeClass", "metadata": {"name": "gpu"},
          "spec": {"whenUnsatisfiable": "DoNotScaleUp", "priorities": [{"machineFamily": "a3"}]}}
    assert validate.validate_object(cc, "1.34") == []
    bad = copy.deepcopy(cc)
    bad["spec"]["priorities"][0]["gpuz"] = {}
    assert any("gpuz" in p for p in validate.validate_object(bad, "1.34"))
    both = copy.deepcopy(cc)
    both["spec"]["priorities"][0]["machineType"] = "a3-highgpu-8g"
    assert failed(cel.check(ctx([both], cloud="gcp")), "api.cel")


def _release(chart, version, values):
    return rec("kubernetes:helm.sh/v3:Release", chart, {"chart": chart, "version": version, "namespace": "x",
                                                         "values": values})


def test_helm_values_keys_must_exist_in_the_charts_defaults():
    bad = _release("keda", "2.20.2", {"crds": {"install": True}, "operatr": {"replicaCount": 2}})
    (msg,) = failed(helm_values.check(ctx([], resources=[bad])), "helm.values")
    assert "operatr" in msg and "crds.install" not in msg
    free = _release("cluster-autoscaler", "9.59.0", {"extraArgs": {"any-flag": "x"}})
    assert not failed(helm_values.check(ctx([], resources=[free])), "helm.values")
    unknown = _release("vpa", "5.0.0", {"x": 1})
    assert [c.verdict for c in verdicts(helm_values.check(ctx([], resources=[unknown])), "helm.values")] == \
        ["unchecked"]
