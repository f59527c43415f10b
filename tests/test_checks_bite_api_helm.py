"""API validation rules and Helm values keys (plan/checks/api_rules.py, plan/checks/helm_values.py), decision by
decision: each limit at its boundary, each default, and what counts as a known values key."""
import pytest

from plan.checks import api_rules, helm_values
from tests.checks_kit import ctx, rec

NS = "llm-serving"


def behavior(**rules):
    return {"scaleUp": rules}


def test_behavior_limits_at_their_boundaries():
    assert api_rules._behavior(None, "b") == []
    assert api_rules._behavior({"scaleUp": None}, "b") == []
    assert api_rules._behavior(behavior(stabilizationWindowSeconds=0), "b") == []
    assert api_rules._behavior(behavior(stabilizationWindowSeconds=3600), "b") == []
    assert api_rules._behavior(behavior(stabilizationWindowSeconds=3601), "b") == [
        "b.scaleUp.stabilizationWindowSeconds: Invalid value: 3601: must be less than or equal to 3600"]
    assert api_rules._behavior({"scaleDown": {"stabilizationWindowSeconds": -1}}, "b") == [
        "b.scaleDown.stabilizationWindowSeconds: Invalid value: -1: must be less than or equal to 3600"]
    assert api_rules._behavior(behavior(policies=[]), "b") == [
        "b.scaleUp.policies: Required value: must specify at least one Policy"]
    ok = {"type": "Pods", "value": 1, "periodSeconds": 1}
    assert api_rules._behavior(behavior(policies=[ok, dict(ok, type="Percent", periodSeconds=1800)]), "b") == []
    assert api_rules._behavior(behavior(policies=[dict(ok, type="Nodes")]), "b") == [
        "b.scaleUp.policies[0].type must be Pods or Percent"]
    assert api_rules._behavior(behavior(policies=[ok, dict(ok, value=0)]), "b") == [
        "b.scaleUp.policies[1].value must be greater than zero"]
    assert api_rules._behavior(behavior(policies=[{"type": "Pods", "periodSeconds": 1}]), "b") == [
        "b.scaleUp.policies[0].value must be greater than zero"]
    assert api_rules._behavior(behavior(policies=[dict(ok, periodSeconds=0)]), "b") == [
        "b.scaleUp.policies[0].periodSeconds must be in 1..1800"]
    assert api_rules._behavior(behavior(policies=[dict(ok, periodSeconds=1801)]), "b") == [
        "b.scaleUp.policies[0].periodSeconds must be in 1..1800"]
    assert api_rules._behavior(behavior(policies=[{"type": "Pods", "value": 1}]), "b") == [
        "b.scaleUp.policies[0].periodSeconds must be in 1..1800"]
    for sp in ("Max", "Min", "Disabled"):
        assert api_rules._behavior(behavior(selectPolicy=sp), "b") == []
    assert api_rules._behavior(behavior(selectPolicy="Avg"), "b") == ["b.scaleUp.selectPolicy must be Max, Min or Disabled"]
    assert api_rules._behavior(behavior(tolerance="0.1"), "b") == [
        "b.scaleUp.tolerance needs the alpha HPAConfigurableTolerance gate in 1.34"]


def obj(kind, spec, name="x", **meta):
    return {"apiVersion": "v1", "kind": kind, "metadata": dict({"name": name, "namespace": NS}, **meta), "spec": spec}


def verdict(o):
    [c] = api_rules.check(ctx([o]))
    return c.name, c.object, c.verdict, c.message


def test_hpa_replica_bounds():
    assert verdict(obj("HorizontalPodAutoscaler", {"maxReplicas": 1})) == (
        "api.horizontalpodautoscaler", "HorizontalPodAutoscaler llm-serving/x", "pass", "within the API's limits")
    assert verdict(obj("HorizontalPodAutoscaler", {"minReplicas": 3, "maxReplicas": 3}))[2] == "pass"
    assert verdict(obj("HorizontalPodAutoscaler", {"minReplicas": 3, "maxReplicas": 2}))[3] == \
        "spec.maxReplicas 2 must be at least max(1, minReplicas 3)"
    assert verdict(obj("HorizontalPodAutoscaler", {}))[3] == "spec.maxReplicas 0 must be at least max(1, minReplicas 1)"
    assert verdict(obj("HorizontalPodAutoscaler", {"minReplicas": 0, "maxReplicas": 1}))[3] == \
        "spec.minReplicas must be at least 1 (0 needs the alpha HPAScaleToZero gate)"
    assert verdict(obj("HorizontalPodAutoscaler", {"minReplicas": 0, "maxReplicas": 0}))[3] == (
        "spec.minReplicas must be at least 1 (0 needs the alpha HPAScaleToZero gate); "
        "spec.maxReplicas 0 must be at least max(1, minReplicas 0)")
    assert verdict(obj("HorizontalPodAutoscaler", {"maxReplicas": 2, "behavior": {"scaleUp": {"policies": []}}}))[3] \
        == "spec.behavior.scaleUp.policies: Required value: must specify at least one Policy"


def so(spec, name="x"):
    return obj("ScaledObject", dict({"scaleTargetRef": {"name": "m"}}, **spec), name=name)


def test_scaled_object_rules_at_their_boundaries():
    prom = [{"type": "prometheus"}]
    assert verdict(so({"triggers": prom}))[2:] == ("pass", "within the API's limits")
    assert verdict(so({"triggers": prom}, name="n" * 54))[2] == "pass"
    assert verdict(so({"triggers": prom}, name="n" * 55))[3] == \
        f"name longer than 54: the HPA name keda-hpa-{'n' * 55} exceeds 63"
    named = {"triggers": prom, "advanced": {"horizontalPodAutoscalerConfig": {"name": "short"}}}
    assert verdict(so(named, name="n" * 55))[2] == "pass"
    assert verdict(so({"triggers": prom, "minReplicaCount": 100}))[2] == "pass"           # max defaults to 100
    assert verdict(so({"triggers": prom, "minReplicaCount": 101}))[3] == \
        "minReplicaCount 101 is greater than maxReplicaCount 100"
    assert verdict(so({"triggers": prom, "minReplicaCount": 2, "maxReplicaCount": 2}))[2] == "pass"
    assert verdict(so({"triggers": prom, "minReplicaCount": 1, "idleReplicaCount": 0}))[2] == "pass"
    assert verdict(so({"triggers": prom, "minReplicaCount": 1, "idleReplicaCount": 1}))[3] == \
        "IdleReplicaCount=1 must be less than MinReplicaCount=1"
    assert verdict(so({"triggers": prom, "idleReplicaCount": 0}))[3] == \
        "IdleReplicaCount=0 must be less than MinReplicaCount=0"
    cpu = [{"type": "cpu"}, {"type": "memory"}]
    assert verdict(so({"triggers": cpu}))[3] == "only cpu/memory triggers with minReplicaCount 0 is rejected"
    assert verdict(so({"triggers": cpu, "minReplicaCount": 1}))[2] == "pass"
    assert verdict(so({"triggers": cpu + prom}))[2] == "pass"
    assert verdict(so({}))[2] == "pass"
    behav = {"triggers": prom, "advanced": {"horizontalPodAutoscalerConfig": {"behavior": {
        "scaleDown": {"stabilizationWindowSeconds": 4000}}}}}
    assert verdict(so(behav))[3].startswith(
        "spec.advanced.horizontalPodAutoscalerConfig.behavior.scaleDown.stabilizationWindowSeconds: Invalid value: 4000")


def test_scaled_object_fallback_needs_a_metric_trigger_and_must_not_shrink_the_model():
    prom = [{"type": "prometheus"}]
    higher = {"behavior": "currentReplicasIfHigher", "replicas": 1, "failureThreshold": 3}
    assert verdict(so({"triggers": prom, "maxReplicaCount": 4, "fallback": higher}))[2] == "pass"
    assert verdict(so({"triggers": [{"type": "cpu"}], "minReplicaCount": 1, "fallback": higher}))[3] == \
        "fallback needs at least one trigger that is not cpu/memory"
    static = {"replicas": 3, "failureThreshold": 3}
    assert verdict(so({"triggers": prom, "maxReplicaCount": 4, "fallback": static}))[3] == (
        "fallback behavior static sets 3 replicas when metrics fail, shrinking a model that runs more; "
        "use currentReplicasIfHigher")
    assert verdict(so({"triggers": prom, "maxReplicaCount": 4, "fallback": dict(static, behavior="static")}))[2] == \
        "fail"
    assert verdict(so({"triggers": prom, "maxReplicaCount": 4, "fallback": dict(static, replicas=4)}))[2] == "pass"


def test_pdb_rules():
    assert verdict(obj("PodDisruptionBudget", {"minAvailable": 1}))[2:] == ("pass", "within the API's limits")
    assert verdict(obj("PodDisruptionBudget", {"minAvailable": 1, "maxUnavailable": 1}))[3] == \
        "spec: minAvailable and maxUnavailable cannot be both set"
    assert verdict(obj("PodDisruptionBudget", {"maxUnavailable": "100%"}))[2] == "pass"
    assert verdict(obj("PodDisruptionBudget", {"maxUnavailable": "0%"}))[2] == "pass"
    assert verdict(obj("PodDisruptionBudget", {"minAvailable": "101%"}))[3] == "spec.minAvailable 101% must be between 0% and 100%"


def workload(kind, spec, name="x"):
    return obj(kind, dict({"selector": {"matchLabels": {"a": "b"}}, "template": {}}, **spec), name=name)


@pytest.mark.parametrize("kind,spec,message", [
    ("Deployment", {"strategy": {"type": "Recreate", "rollingUpdate": {"maxSurge": 1}}},
     "spec.strategy.rollingUpdate: may not be specified when strategy type is 'Recreate'"),
    ("Deployment", {"strategy": {"rollingUpdate": {"maxUnavailable": 0, "maxSurge": "0%"}}},
     "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0"),
    ("StatefulSet", {"updateStrategy": {"rollingUpdate": {"maxUnavailable": "0%"}}},
     "spec.updateStrategy.rollingUpdate.maxUnavailable may not be 0"),
    ("DaemonSet", {"updateStrategy": {"rollingUpdate": {"maxSurge": 1, "maxUnavailable": 1}}},
     "spec.updateStrategy.rollingUpdate: exactly one of maxSurge and maxUnavailable must be non-zero"),
    ("DaemonSet", {"updateStrategy": {"rollingUpdate": {"maxSurge": 0}}},
     "spec.updateStrategy.rollingUpdate: exactly one of maxSurge and maxUnavailable must be non-zero"),
])
def test_rollout_rules_fail(kind, spec, message):
    assert verdict(workload(kind, spec))[2:] == ("fail", message)


@pytest.mark.parametrize("kind,spec", [
    ("Deployment", {}),
    ("Deployment", {"strategy": {"type": "Recreate"}}),
    ("Deployment", {"strategy": {"rollingUpdate": {"maxUnavailable": 0}}}),       # maxSurge defaults to 25%
    ("Deployment", {"strategy": {"rollingUpdate": {"maxSurge": 0}}}),             # maxUnavailable defaults to 25%
    ("StatefulSet", {"updateStrategy": {"rollingUpdate": {"partition": 0}}}),     # maxUnavailable defaults to 1
    ("DaemonSet", {"updateStrategy": {"rollingUpdate": {"maxUnavailable": 1}}}),
    ("DaemonSet", {"updateStrategy": {"rollingUpdate": {"maxSurge": "10%", "maxUnavailable": 0}}}),
    ("DaemonSet", {}),
])
def test_rollout_rules_pass(kind, spec):
    assert verdict(workload(kind, spec))[2] == "pass"


def test_a_statefulset_name_is_a_dns_label():
    assert verdict(workload("StatefulSet", {}, name="s" * 63))[2] == "pass"
    assert verdict(workload("StatefulSet", {}, name="s" * 64))[3] == \
        "metadata.name: a StatefulSet name must be a DNS-1123 label (<= 63)"
    assert verdict(workload("Deployment", {}, name="s" * 64))[2] == "pass"


def test_kserve_external_metrics_need_a_target_value():
    isvc = lambda metrics: {"apiVersion": "serving.kserve.io/v1beta1", "kind": "InferenceService",
                            "metadata": {"name": "k", "namespace": NS},
                            "spec": {"predictor": {"autoScaling": {"metrics": metrics}}}}
    ext = lambda target: {"type": "External", "external": {"metric": {"query": "q"}, "target": target}}
    assert verdict(isvc([ext({"type": "Value", "value": "10"})]))[:3] == (
        "api.inferenceservice", "InferenceService llm-serving/k", "pass")
    assert verdict(isvc([{"type": "Resource"}, ext({"type": "Value", "averageValue": "10"})]))[3] == \
        "spec.predictor.autoScaling.metrics[1]: External metrics need target.value (has ['averageValue', 'type'])"
    assert verdict(isvc([{"type": "Resource", "resource": {"target": {}}}]))[2] == "pass"


def test_cluster_scoped_objects_are_named_under_cluster_and_other_kinds_are_skipped():
    pdb = {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "p"}, "spec": {}}
    assert verdict(pdb)[1] == "PodDisruptionBudget _cluster/p"
    assert api_rules.check(ctx([{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}}])) == []


# --- Helm values ------------------------------------------------------------------------------------------------

def test_unknown_keys_recurse_into_known_maps_only():
    default = {"a": {"b": 1, "c": {}}, "d": 1}
    assert helm_values.unknown_keys({"a": {"b": 2}, "d": 3}, default, "x") == ([], [])
    assert helm_values.unknown_keys({"a": {"z": 1}, "e": 1}, default, "x") == (["a.z", "e"], [])
    # An empty map in the defaults takes any keys (a free-form map the chart leaves empty).
    assert helm_values.unknown_keys({"a": {"c": {"anything": 1}}}, default, "x") == ([], [])
    # A scalar default given a map: the map's keys are not looked into.
    assert helm_values.unknown_keys({"d": {"x": 1}}, default, "x") == ([], [])


def test_free_form_paths_and_subcharts():
    default = {"prometheus": {"prometheusSpec": {"resources": {}}}, "grafana": {"enabled": True}}
    values = {"prometheus": {"prometheusSpec": {"resources": {"requests": {"cpu": "1"}}}},
              "grafana": {"adminPassword": "x"}, "crds": {"enabled": True}}
    assert helm_values.unknown_keys(values, default, "kube-prometheus-stack") == (
        [], ["grafana.adminPassword", "crds"])
    free = {"prometheus": {"prometheusSpec": {"nodeSelector": {"a": "b"}}}}
    assert helm_values.unknown_keys(free, {"prometheus": {"prometheusSpec": {}}}, "kube-prometheus-stack") == ([], [])
    assert helm_values.unknown_keys(free, {"prometheus": {"prometheusSpec": {"x": 1}}}, "kube-prometheus-stack") == \
        ([], [])
    assert helm_values.unknown_keys(free, {"prometheus": {"prometheusSpec": {"x": 1}}}, "other") == (
        ["prometheus.prometheusSpec.nodeSelector"], [])
    assert helm_values.unknown_keys({"grafana": {"x": 1}}, {}, "kube-prometheus-stack") == ([], ["grafana"])
    assert helm_values.unknown_keys({"grafana": {"x": 1}}, {}, "other") == (["grafana"], [])


def test_merge_and_overlays():
    assert helm_values._merge({"a": {"b": 1, "c": 2}, "d": 1}, {"a": {"b": 3}, "e": 4}) == \
        {"a": {"b": 3, "c": 2}, "d": 1, "e": 4}
    assert helm_values._merge({"a": 1}, {"a": {"b": 1}}) == {"a": {"b": 1}}


def test_commented_keys_read_only_key_shaped_comment_lines(tmp_path, monkeypatch):
    monkeypatch.setenv("LLMFLEET_CHART_VALUES", str(tmp_path))
    (tmp_path / "c-1.yaml").write_text("a: 1\n# extraKey: value\n#   nested.key_x-y: 1\n# not a key: x\n#: x\n# bareword\n"
                                       "plain: 2 # inline: x\n")
    helm_values.commented_keys.cache_clear()
    try:
        assert helm_values.commented_keys("c-1.yaml") == {"extraKey", "nested.key_x-y"}
    finally:
        helm_values.commented_keys.cache_clear()


def test_a_release_is_checked_against_its_chart_version_defaults(tmp_path, monkeypatch):
    monkeypatch.setenv("LLMFLEET_CHART_VALUES", str(tmp_path))
    (tmp_path / "mychart-v1.2.0.yaml").write_text("replicas: 1\nimage:\n  tag: x\n# documented: true\n")
    helm_values.defaults.cache_clear()
    helm_values.commented_keys.cache_clear()
    try:
        rel = lambda values, version="1.2.0": rec("kubernetes:helm.sh/v3:Release", "r", {
            "chart": "mychart", "version": version, "namespace": NS, "values": values})
        found = lambda *a: [(c.verdict, c.message) for c in helm_values.check(ctx([], resources=[rel(*a)]))]
        assert found({"replicas": 2, "image": {"tag": "y"}}) == [("pass", "every key is in mychart-v1.2.0.yaml")]
        assert found({"replicas": 2, "image": {"tga": "y"}, "extra": 1}) == [
            ("fail", "keys the chart does not read (not in mychart-v1.2.0.yaml): image.tga, extra")]
        assert found({"image": {"documented": True}}) == [
            ("pass", "every key is in mychart-v1.2.0.yaml"),
            ("unchecked", "keys not checked (subcharts without a values file here, or only documented in comments): "
                          "image.documented (declared only in a comment of mychart-v1.2.0.yaml)")]
        assert found({}, "v1.2.0") == [("pass", "every key is in mychart-v1.2.0.yaml")]
        verdict_, msg = found({}, "9.9.9")[0]
        assert verdict_ == "unchecked" and msg == f"no default values for mychart 9.9.9 in {tmp_path}"
    finally:
        helm_values.defaults.cache_clear()
        helm_values.commented_keys.cache_clear()


def test_templated_values_library_charts_and_overlays(tmp_path, monkeypatch):
    monkeypatch.setenv("LLMFLEET_CHART_VALUES", str(tmp_path))
    (tmp_path / "gateway-helm-v9.values.tmpl.yaml").write_text(
        "deployment:\n  image: ${GatewayImage}\n  pull: ${GatewayImagePullPolicy}\n")
    (tmp_path / "ai-gateway-v1.1.0-envoy-gateway-values.yaml").write_text("config:\n  extra: 1\n")
    (tmp_path / "llm-d-router-gateway-v2.yaml").write_text("router:\n  own: 1\n  modelServers:\n  epp: {a: 9}\n")
    (tmp_path / "llm-d-router-routerlib-v2.yaml").write_text(
        "modelServers:\n  matchLabels: {}\nepp:\n  a: 1\n  b: 2\n")
    helm_values.defaults.cache_clear()
    try:
        default, name = helm_values.defaults("gateway-helm", "v9")
        assert name == "gateway-helm-v9.values.tmpl.yaml"
        assert default == {"deployment": {"image": "docker.io/envoyproxy/gateway:v9", "pull": "IfNotPresent"},
                           "config": {"extra": 1}}
        assert helm_values.defaults("keda", "v9") == (None, None)       # templates only for the listed charts
        (tmp_path / "keda-v9.values.tmpl.yaml").write_text("a: 1\n")
        helm_values.defaults.cache_clear()
        assert helm_values.defaults("keda", "v9") == (None, None)
        default, name = helm_values.defaults("llm-d-router-gateway", "v2")
        # The library's defaults sit under the alias; the parent's own non-empty keys win.
        assert default == {"router": {"modelServers": {"matchLabels": {}}, "epp": {"a": 9, "b": 2}, "own": 1}}
        (tmp_path / "plain-1.0.yaml").write_text("x: 1\n")
        assert helm_values.defaults("plain", "v1.0") == ({"x": 1}, "plain-1.0.yaml")
    finally:
        helm_values.defaults.cache_clear()
