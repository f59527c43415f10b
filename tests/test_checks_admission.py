"""Admission rules catch what LimitRanger, validation, ResourceQuota and Pod Security would refuse."""
from plan.checks import admission
from tests.checks_kit import container, ctx, deployment, failed, limitrange, namespace, verdicts

DEFAULTS = limitrange(default={"cpu": "500m", "memory": "1Gi"}, default_request={"cpu": "100m", "memory": "256Mi"})


def test_limitrange_default_limit_below_the_request_is_rejected():
    pod = deployment(containers=[container("vllm", requests={"cpu": "16", "memory": "64Gi"},
                                           limits={"memory": "64Gi"})])
    (msg,) = failed(admission.check(ctx([namespace(), DEFAULTS, pod])), "admission.limitrange", "Deployment")
    assert "requests.cpu 16 must be less than or equal to cpu limit of 500m" in msg
    assert "LimitRanger set cpu limit 500m" in msg


def test_an_explicit_limit_is_admitted():
    pod = deployment(containers=[container("vllm", requests={"cpu": "16"}, limits={"cpu": "16", "memory": "1Gi"})])
    assert not failed(admission.check(ctx([namespace(), DEFAULTS, pod])), "admission.limitrange", "Deployment")


def test_limit_only_defaults_the_request_to_the_limit_not_to_defaultRequest():
    # API defaulting runs before LimitRanger: request := limit (8 > defaultRequest's 100m, and equal to the limit).
    pod = deployment(containers=[container("a", limits={"cpu": "8", "memory": "1Gi"})])
    assert not failed(admission.check(ctx([namespace(), DEFAULTS, pod])), "admission.limitrange", "Deployment")


def test_min_max_and_ratio():
    lr = limitrange(min={"cpu": "1"}, max={"memory": "2Gi"}, maxLimitRequestRatio={"cpu": "2"})
    pod = deployment(containers=[container("a", requests={"cpu": "500m"}, limits={"cpu": "4", "memory": "4Gi"})])
    (msg,) = failed(admission.check(ctx([namespace(), lr, pod])), "admission.limitrange")
    assert "minimum cpu usage per Container is 1, but request is 500m" in msg
    assert "maximum memory usage per Container is 2Gi" in msg
    assert "cpu max limit to request ratio per Container is 2, but provided ratio is 8.000000" in msg


def test_extended_resources_need_a_limit_equal_to_the_request():
    pod = deployment(containers=[container("a", requests={"nvidia.com/gpu": "1"})])
    (msg,) = failed(admission.check(ctx([namespace(), pod])), "admission.extended-resources")
    assert "Limit must be set for non overcommitable resources" in msg
    pod = deployment(containers=[container("a", requests={"nvidia.com/gpu": "1"}, limits={"nvidia.com/gpu": "2"})])
    assert "must be equal to nvidia.com/gpu limit of 2" in failed(admission.check(ctx([pod])),
                                                                  "admission.extended-resources")[0]


def test_kserve_runtime_limit_is_merged_into_the_predictor():
    isvc = {"apiVersion": "serving.kserve.io/v1beta1", "kind": "InferenceService",
            "metadata": {"name": "m", "namespace": "llm-serving"},
            "spec": {"predictor": {"model": {"modelFormat": {"name": "huggingface"}, "storageUri": "hf://x/y",
                                             "resources": {"requests": {"cpu": "9", "memory": "100Gi"},
                                                           "limits": {"memory": "100Gi"}}}}}}
    (msg,) = failed(admission.check(ctx([namespace(), isvc])), "admission.limitrange", "InferenceService")
    assert "kserve-container: requests.cpu 9 must be less than or equal to cpu limit of 1" in msg
    isvc["spec"]["predictor"]["model"]["resources"]["limits"]["cpu"] = "9"
    assert not failed(admission.check(ctx([namespace(), isvc])), "admission.limitrange", "InferenceService")


def test_quota_forces_fields_and_counts_max_replicas():
    quota = {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "q", "namespace": "llm-serving"},
             "spec": {"hard": {"limits.cpu": "100", "requests.nvidia.com/gpu": "4"}}}
    pod = deployment(replicas=1, containers=[container("a", requests={"cpu": "1", "nvidia.com/gpu": "2"},
                                                       limits={"nvidia.com/gpu": "2"})])
    hpa = {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "h", "namespace":
           "llm-serving"}, "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "m"}, "maxReplicas": 3}}
    (msg,) = failed(admission.check(ctx([namespace(), quota, pod, hpa])), "admission.quota")
    assert "must specify limits.cpu for: Deployment llm-serving/m container a" in msg
    assert "requests.nvidia.com/gpu: the namespace's pods at their maximum replicas use 6, over the quota's 4" in msg
    # A LimitRange default fills the limit before the quota looks: then only the GPU total is over.
    (msg,) = failed(admission.check(ctx([namespace(), quota, pod, hpa, DEFAULTS])), "admission.quota")
    assert "must specify" not in msg


def test_pod_security_baseline_and_restricted():
    priv = deployment(containers=[container("a", securityContext={"privileged": True})], hostNetwork=True)
    (msg,) = failed(admission.check(ctx([namespace(enforce="baseline"), priv])), "admission.pod-security")
    assert "privileged: container a" in msg and "hostNamespaces: hostNetwork=true" in msg
    plain = deployment(containers=[container("a")])
    assert not failed(admission.check(ctx([namespace(enforce="baseline"), plain])), "admission.pod-security")
    (msg,) = failed(admission.check(ctx([namespace(enforce="restricted"), plain])), "admission.pod-security")
    assert "allowPrivilegeEscalation != false (container a)" in msg and "must drop ALL" in msg
    good = deployment(containers=[container("a", securityContext={
        "allowPrivilegeEscalation": False, "runAsNonRoot": True, "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"}})])
    checks = admission.check(ctx([namespace(enforce="restricted"), good]))
    assert [c.verdict for c in verdicts(checks, "admission.pod-security")] == ["pass"]


def test_pod_security_applies_to_custom_resource_pod_templates():
    ray = {"apiVersion": "ray.io/v1", "kind": "RayService", "metadata": {"name": "r", "namespace": "llm-serving"},
           "spec": {"rayClusterConfig": {"headGroupSpec": {"template": {"spec": {"containers": [
               container("head", securityContext={"privileged": True})]}}}, "workerGroupSpecs": []}}}
    assert failed(admission.check(ctx([namespace(), ray])), "admission.pod-security", "RayService")
