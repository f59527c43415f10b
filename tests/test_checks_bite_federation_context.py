"""The federation hub's reference rule, quantities and the check context, decision by decision
(plan/checks/federation.py, quantity.py, context.py, pods.py)."""
from fractions import Fraction

import pytest

from plan.checks import federation
from plan.checks.context import Context, obj_id
from plan.checks.pods import pod_templates
from plan.checks.quantity import fmt, parse
from tests.checks_kit import container, ctx, deployment, rec

NS = "llm-federation"


def o(kind, name, ns=NS, **body):
    meta = {"name": name} if ns is None else {"name": name, "namespace": ns}
    return dict({"apiVersion": "x", "kind": kind, "metadata": meta}, **body)


def fed(objs):
    return [(c.object, c.verdict, c.message) for c in federation.check(ctx(objs))]


def test_an_ai_route_needs_its_gateway_and_backends():
    route = o("AIGatewayRoute", "r", spec={"parentRefs": [{"name": "gw"}], "rules": [{"backendRefs": [
        {"name": "b"}, {"name": "p", "kind": "InferencePool", "namespace": "other"}]}]})
    assert fed([route]) == [
        ("AIGatewayRoute llm-federation/r", "fail", "parent Gateway llm-federation/gw is not in the plan"),
        ("AIGatewayRoute llm-federation/r", "fail", "backend AIServiceBackend llm-federation/b is not in the plan"),
        ("AIGatewayRoute llm-federation/r", "fail", "backend InferencePool other/p is not in the plan")]
    got = fed([route, o("AIServiceBackend", "b", spec={"backendRef": {"kind": "Backend", "name": "be"}}),
               o("InferencePool", "p", ns="other"), o("Backend", "be"),
               o("Gateway", "gw", spec={"gatewayClassName": "eg", "listeners": []})])
    assert [(obj, v) for obj, v, _ in got if obj.startswith("AIGatewayRoute")] == [
        ("AIGatewayRoute llm-federation/r", "pass")] * 3
    assert ("AIServiceBackend llm-federation/b", "pass", "backendRef Backend llm-federation/be exists") in got
    assert ("Gateway llm-federation/gw", "unchecked", "GatewayClass eg comes from the hub stack's gateway component, "
                                                      "not from this plan") in got


def test_a_backend_ref_defaults_to_a_service():
    asb = o("AIServiceBackend", "b", spec={"backendRef": {"name": "svc"}})
    assert fed([asb]) == [("AIServiceBackend llm-federation/b", "fail",
                           "backendRef Service llm-federation/svc is not in the plan")]
    assert fed([asb, o("Service", "svc")])[0][1] == "pass"


def test_an_api_key_secret_must_carry_the_apikey_key():
    bsp = o("BackendSecurityPolicy", "p", spec={"targetRefs": [{"kind": "AIServiceBackend", "name": "b"}],
                                                "type": "APIKey", "apiKey": {"secretRef": {"name": "k"}}})
    b = o("AIServiceBackend", "b", spec={"backendRef": {"kind": "Backend", "name": "be"}})
    got = [(v, m) for obj, v, m in fed([bsp, b, o("Backend", "be"), o("Secret", "k", data={"other": "x"})])
           if obj.startswith("BackendSecurityPolicy")]
    assert got == [("pass", "target AIServiceBackend llm-federation/b exists"),
                   ("fail", "API key Secret llm-federation/k lacks key(s) apiKey")]
    got = [(v, m) for obj, v, m in fed([bsp, b, o("Secret", "k", stringData={"apiKey": "x"})])
           if obj.startswith("BackendSecurityPolicy")]
    assert got[1] == ("pass", "API key Secret llm-federation/k exists")
    no_type = o("BackendSecurityPolicy", "p", spec={"targetRefs": []})
    assert fed([no_type]) == []


def test_policies_may_target_the_http_route_an_ai_route_generates():
    pol = o("SecurityPolicy", "s", spec={"targetRefs": [{"kind": "HTTPRoute", "name": "r"}],
                                         "apiKeyAuth": {"credentialRefs": [{"name": "keys"}]}})
    assert fed([pol]) == [("SecurityPolicy llm-federation/s", "fail", "target HTTPRoute llm-federation/r is not in the plan"),
                          ("SecurityPolicy llm-federation/s", "fail", "client keys Secret llm-federation/keys is not in "
                                                                     "the plan")]
    ai = o("AIGatewayRoute", "r", spec={})
    got = [v for obj, v, _ in fed([pol, ai, o("Secret", "keys")]) if obj.startswith("SecurityPolicy")]
    assert got == ["pass", "pass"]
    btp = o("BackendTrafficPolicy", "t", spec={"targetRefs": [{"kind": "Gateway", "name": "gw"}]})
    assert fed([btp])[0][1:] == ("fail", "target Gateway llm-federation/gw is not in the plan")
    # Only an HTTPRoute falls back to an AIGatewayRoute of that name.
    btp2 = o("BackendTrafficPolicy", "t", spec={"targetRefs": [{"kind": "GRPCRoute", "name": "r"}]})
    assert [v for obj, v, _ in fed([btp2, ai]) if obj.startswith("BackendTraffic")] == ["fail"]


def test_listener_certificates_may_be_written_by_a_certificate_of_that_namespace():
    gw = o("Gateway", "gw", spec={"gatewayClassName": "eg", "listeners": [
        {"name": "https", "tls": {"certificateRefs": [{"name": "tls"}]}}]})
    cert = o("Certificate", "c", spec={"secretName": "tls", "issuerRef": {"name": "i"}})
    got = fed([gw, cert, o("Issuer", "i")])
    assert ("Gateway llm-federation/gw", "pass", "listener https certificate Secret llm-federation/tls exists") in got
    assert ("Certificate llm-federation/c", "pass", "issuer Issuer llm-federation/i exists") in got
    other = o("Certificate", "c", ns="x", spec={"secretName": "tls", "issuerRef": {"name": "i"}})
    assert ("Gateway llm-federation/gw", "fail", "listener https certificate Secret llm-federation/tls is not in the "
                                                 "plan") in fed([gw, other])
    cluster = o("Certificate", "c", spec={"secretName": "s", "issuerRef": {"name": "ci", "kind": "ClusterIssuer"}})
    assert fed([cluster, o("ClusterIssuer", "ci", ns=None)]) == [
        ("Certificate llm-federation/c", "fail", "issuer ClusterIssuer llm-federation/ci is not in the plan")]


def test_route53_credentials_need_their_secret_keys():
    issuer = o("Issuer", "i", spec={"acme": {"solvers": [{"dns01": {"route53": {
        "accessKeyIDSecretRef": {"name": "aws", "key": "id"},
        "secretAccessKeySecretRef": {"name": "aws", "key": "secret"}}}}, {"http01": {}}]}})
    assert fed([issuer, o("Secret", "aws", data={"id": "x"})]) == [
        ("Issuer llm-federation/i", "pass", "route53 accessKeyIDSecretRef Secret llm-federation/aws exists"),
        ("Issuer llm-federation/i", "fail", "route53 secretAccessKeySecretRef Secret llm-federation/aws lacks key(s) "
                                            "secret")]


def test_an_http_route_needs_its_parent_gateway_in_the_named_namespace():
    route = o("HTTPRoute", "h", spec={"parentRefs": [{"name": "gw", "namespace": "edge"}]})
    assert fed([route, o("Gateway", "gw", spec={})])[0][1:] == ("fail", "parent Gateway edge/gw is not in the plan")
    assert fed([route, o("Gateway", "gw", ns="edge", spec={})])[0][1] == "pass"
    # Only a Secret may be stood in for by the Certificate that writes it.
    cert = o("Certificate", "gw", ns="edge", spec={"secretName": "gw", "issuerRef": {"name": "i"}})
    assert fed([route, cert])[0][1:] == ("fail", "parent Gateway edge/gw is not in the plan")


# --- quantities -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("q,value", [
    ("500m", Fraction(1, 2)), ("1", 1), (2, 2), (0.5, Fraction(1, 2)), ("1.5", Fraction(3, 2)),
    ("100n", Fraction(1, 10**7)), ("3u", Fraction(3, 10**6)), ("2k", 2000), ("1M", 10**6), ("1G", 10**9),
    ("1T", 10**12), ("1P", 10**15), ("1E", 10**18), ("1Ki", 1024), ("1Mi", 2**20), ("1Gi", 2**30), ("1Ti", 2**40),
    ("1Pi", 2**50), ("1Ei", 2**60), ("1e3", 1000), ("2E2", 200), (" 4 ", 4), ("1.5Gi", 3 * 2**29),
])
def test_quantities_parse_exactly(q, value):
    assert parse(q) == value


def test_invalid_quantities_raise_and_fmt_is_short():
    with pytest.raises(ValueError):
        parse("lots")
    assert fmt(Fraction(4)) == "4" and fmt(Fraction(1, 2)) == "500m" and fmt(Fraction(1, 3)) == "333.333m"


# --- context and pod templates ----------------------------------------------------------------------------------

def test_object_ids_and_releases_from_recorded_helm_resources():
    assert obj_id({"kind": "Namespace", "metadata": {"name": "n"}}) == "Namespace _cluster/n"
    assert obj_id({"kind": "Service", "metadata": {"name": "s", "namespace": "a"}}) == "Service a/s"
    r1 = rec("kubernetes:helm.sh/v3:Release", "res", {"chart": "oci://ghcr.io/x/cert-manager/", "version": "1.2",
                                                      "namespace": "cm", "values": {"a": 1}})
    r2 = rec("kubernetes:helm.sh/v4:Chart", "plain", {"chart": "keda", "name": "my-keda"})
    other = rec("kubernetes:core/v1:Namespace", "ns", {"chart": "nope"})
    c = ctx([], resources=[r1, r2, other])
    assert [(r.name, r.chart, r.version, r.namespace, r.values) for r in c.releases] == [
        ("res", "cert-manager", "1.2", "cm", {"a": 1}), ("my-keda", "keda", "", "default", {})]
    assert c.release("keda").id == "helm release default/my-keda (keda )"
    assert c.release("nope") is None


def test_the_mig_strategy_defaults_to_single():
    assert ctx([]).mig_strategy == "single"
    op = lambda values: rec("kubernetes:helm.sh/v3:Release", "op", {"chart": "gpu-operator", "values": values})
    assert ctx([], resources=[op({})]).mig_strategy == "single"
    assert ctx([], resources=[op({"mig": {"strategy": "mixed"}})]).mig_strategy == "mixed"


def test_get_finds_present_objects_and_matches_namespace_only_when_given():
    a = {"kind": "Secret", "metadata": {"name": "s", "namespace": "a"}}
    b = {"kind": "Secret", "metadata": {"name": "s", "namespace": "b"}}
    c = Context("aws", "1.34", [a], present=[b])
    assert c.get("Secret", "b", "s") is b and c.get("Secret", None, "s") is a and c.get("Secret", "c", "s") is None
    assert c.kind("Secret") == [a]
    assert c.namespaces == {}


def test_pod_templates_replicas_and_autoscaler_maximum():
    dep = deployment("m", replicas=2)
    hpa = {"kind": "HorizontalPodAutoscaler", "metadata": {"name": "h", "namespace": "llm-serving"},
           "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "m"}, "maxReplicas": 5}}
    so = {"kind": "ScaledObject", "metadata": {"name": "s", "namespace": "llm-serving"},
          "spec": {"scaleTargetRef": {"name": "n"}}}
    dep_n = deployment("n")
    small = {"kind": "HorizontalPodAutoscaler", "metadata": {"name": "h2", "namespace": "llm-serving"},
             "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "k"}, "maxReplicas": 1}}
    dep_k = deployment("k", replicas=3)
    got = {t.name: (t.replicas, t.max_replicas) for t in pod_templates([dep, hpa, so, dep_n, small, dep_k])}
    assert got == {"m": (2, 5), "n": (1, 100), "k": (3, 3)}
    no_replicas = deployment("z")
    del no_replicas["spec"]["replicas"]
    assert [(t.replicas, t.max_replicas) for t in pod_templates([no_replicas])] == [(1, 1)]


def test_jobs_cronjobs_and_daemonsets():
    job = {"kind": "Job", "metadata": {"name": "j", "namespace": "a"},
           "spec": {"parallelism": 3, "template": {"metadata": {"labels": {"x": "y"}}, "spec": {"containers": []}}}}
    cron = {"kind": "CronJob", "metadata": {"name": "c", "namespace": "a"},
            "spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [container()]}}}}}}
    ds = dict(deployment("d", replicas=5), kind="DaemonSet")
    got = [(t.owner, t.kind, t.replicas, t.max_replicas, t.labels, t.note) for t in pod_templates([job, cron, ds])]
    assert got == [("Job a/j", "Job", 3, 3, {"x": "y"}, ""), ("CronJob a/c", "CronJob", 1, 1, {}, ""),
                   ("DaemonSet llm-serving/d", "DaemonSet", 1, 1, {"app": "d"}, "one pod per matching node")]


def test_kserve_predictor_template_merges_the_runtime_and_adds_the_storage_initializer():
    isvc = {"kind": "InferenceService", "metadata": {"name": "k", "namespace": "s"},
            "spec": {"predictor": {"minReplicas": 2, "maxReplicas": 4, "labels": {"a": "b"}, "nodeSelector": {"n": "1"},
                                   "unknownField": 1,
                                   "model": {"modelFormat": {"name": "huggingface"}, "storageUri": "hf://x",
                                             "runtime": "r", "args": ["--x"],
                                             "resources": {"requests": {"cpu": "2"}}}}}}
    [t] = pod_templates([isvc])
    assert (t.owner, t.replicas, t.max_replicas) == ("InferenceService s/k predictor", 2, 4)
    assert t.labels == {"a": "b", "serving.kserve.io/inferenceservice": "k", "component": "predictor"}
    assert t.spec["nodeSelector"] == {"n": "1"} and "unknownField" not in t.spec
    [c] = t.spec["containers"]
    assert c["name"] == "kserve-container" and c["args"] == ["--x"] and "storageUri" not in c and "runtime" not in c
    assert c["resources"] == {"requests": {"cpu": "2", "memory": "2Gi"}, "limits": {"cpu": "1", "memory": "2Gi"}}
    assert c["securityContext"]["runAsNonRoot"] is True
    assert [i["name"] for i in t.spec["initContainers"]] == ["storage-initializer"]
    assert t.note == "as KServe renders the predictor Deployment"
    isvc["spec"]["predictor"]["model"] = {"modelFormat": {"name": "onnx"}}
    isvc["spec"]["predictor"].pop("maxReplicas")
    [t] = pod_templates([isvc])
    assert (t.replicas, t.max_replicas) == (2, 2)       # no maximum: the minimum
    isvc["spec"]["predictor"].pop("minReplicas")
    [t] = pod_templates([isvc])
    assert (t.replicas, t.max_replicas) == (1, 1)
    assert "initContainers" not in t.spec and "securityContext" not in t.spec["containers"][0]
    assert t.spec["containers"][0]["resources"] == {}
    assert t.note.endswith("runtime for model format 'onnx' unknown, its defaults not applied")


@pytest.mark.parametrize("autoscaling", [False, True])
def test_ray_worker_groups_replicas_and_maximum(autoscaling):
    # KubeRay 1.7 (GetWorkerGroupDesiredReplicas): replicas clamped to [minReplicas, maxReplicas] (CRD defaults 0
    # and 2^31-1) times numOfHosts, none when suspended; only the in-tree autoscaler goes up to maxReplicas.
    groups = [{"groupName": "a", "replicas": 2, "maxReplicas": 6, "template": {}},
              {"minReplicas": 1, "template": {}},                                      # replicas unset: the minimum
              {"groupName": "c", "replicas": 3, "template": {}},                       # no maximum: unbounded
              {"groupName": "d", "replicas": 0, "minReplicas": 2, "maxReplicas": 4, "numOfHosts": 2, "template": {}},
              {"groupName": "e", "replicas": 9, "maxReplicas": 5, "template": {}},     # capped at the maximum
              {"groupName": "f", "replicas": 3, "maxReplicas": 3, "suspend": True, "template": {}}]
    ray = {"kind": "RayCluster", "metadata": {"name": "r", "namespace": "s"},
           "spec": {"enableInTreeAutoscaling": autoscaling,
                    "headGroupSpec": {"template": {"metadata": {"labels": {"h": "1"}}, "spec": {"containers": []}}},
                    "workerGroupSpecs": groups}}
    got = [(t.owner, t.replicas, t.max_replicas, t.labels) for t in pod_templates([ray])]
    unbounded = 2147483647
    assert got == [("RayCluster s/r head", 1, 1, {"h": "1"}),
                   ("RayCluster s/r worker a", 2, 6 if autoscaling else 2, {}),
                   ("RayCluster s/r worker ?", 1, unbounded if autoscaling else 1, {}),
                   ("RayCluster s/r worker c", 3, unbounded if autoscaling else 3, {}),
                   ("RayCluster s/r worker d", 4, 8 if autoscaling else 4, {}),              # 2 x 2 hosts, 4 x 2
                   ("RayCluster s/r worker e", 5, 5, {}),
                   ("RayCluster s/r worker f", 0, 0, {})]
