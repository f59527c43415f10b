"""Issue 9, serving and platform defects: what the API server, its admission chain, the scheduler and the KServe,
KEDA and KubeRay controllers do with the rendered objects, simulated from the pinned upstream rules they follow.

Each simulation names its source; the rules are restated here (facts), not copied (code).
"""
import pytest

from components.descriptors import LABEL_CAPACITY
from tests.harness import config_error, run_config, run_stack

POOL = {"name": "h100", "gpu": "h100-80gb", "gpusPerNode": 8, "maxNodes": 4,
        "labels": {"node.example/gpu": "h100"},
        "taints": [{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}]}
SECRETS = {"kubeconfig": "apiVersion: v1", "hfToken": "hf_do_not_leak_42"}
MODELS = [
    {"name": "chat", "model": "llama-3.1-8b", "replicas": {"min": 1, "max": 4}, "autoscaling": {"hpa": {}}},
    {"name": "big", "model": "llama-3.1-70b", "maxContext": 8192, "concurrency": 32, "priority": "critical",
     "replicas": {"min": 1, "max": 2}, "autoscaling": {"keda": {"targetQueueDepth": 3}},
     "cache": {"mode": "per-replica"}},
    {"name": "ks", "model": "mistral-7b-instruct-v0.2", "engine": "kserve", "replicas": {"min": 1, "max": 3},
     "autoscaling": {"keda": {}}},
    {"name": "ks-canary", "model": "qwen2.5-7b", "engine": "kserve",
     "kserve": {"mode": "Serverless", "canaryTrafficPercent": 10}},
    {"name": "ray", "model": "qwen2.5-72b", "engine": "rayserve", "replicas": {"min": 1, "max": 2}},
]
NS = "llm-serving"
RELEASE = "kubernetes:helm.sh/v3:Release"
SECRET = "kubernetes:core/v1:Secret"
# The Hugging Face ClusterServingRuntime's container resources, hard-coded in kserve v0.20.0
# charts/kserve-runtime-configs/files/runtimes/clusterservingruntimes-patch.yaml (kserve-huggingfaceserver).
KSERVE_RUNTIME_RESOURCES = {"requests": {"cpu": "1", "memory": "2Gi"}, "limits": {"cpu": "1", "memory": "2Gi"}}
KSERVE_PORT = 8080


def config(models=None, pool=None, **extra):
    return {"cloud": "existing", "gpuPools": [pool or POOL], "models": MODELS if models is None else models,
            **extra}


@pytest.fixture(scope="module")
def plan():
    return run_config(config(), secrets=SECRETS)


def manifest(plan, kind, name, ns=NS):
    return plan.manifest(kind, name, ns)


# --- simulations of upstream behaviour ----------------------------------------------------------------------
_SUFFIX = {"m": 1e-3, "": 1, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12,
           "Ki": 2 ** 10, "Mi": 2 ** 20, "Gi": 2 ** 30, "Ti": 2 ** 40}


def quantity(q) -> float:
    s = str(q)
    for suffix in sorted(_SUFFIX, key=len, reverse=True):
        if suffix and s.endswith(suffix):
            return float(s[:-len(suffix)]) * _SUFFIX[suffix]
    return float(s)


def strategic_merge_resources(runtime: dict, ours: dict) -> dict:
    """KServe v0.20.0 MergeRuntimeContainers (pkg/controller/v1beta1/inferenceservice/utils/utils.go) applies the
    predictor container as a strategic merge patch on the runtime's: `requests` and `limits` are maps, merged key by
    key, the predictor's value winning."""
    return {k: {**runtime.get(k, {}), **ours.get(k, {})} for k in ("requests", "limits")}


def pod_specs(plan) -> list[tuple[str, str, dict]]:
    """(namespace, workload name, pod spec) for every pod this program asks for; a KServe predictor's container is
    the one the API server will see: the runtime container with ours merged on it."""
    out = []
    for m in plan.manifests:
        ns, name, kind = m["metadata"].get("namespace"), m["metadata"]["name"], m["kind"]
        if kind in ("Deployment", "StatefulSet"):
            out.append((ns, name, m["spec"]["template"]["spec"]))
        elif kind == "RayService":
            cluster = m["spec"]["rayClusterConfig"]
            out.append((ns, f"{name}-head", cluster["headGroupSpec"]["template"]["spec"]))
            for g in cluster["workerGroupSpecs"]:
                out.append((ns, f"{name}-{g['groupName']}", g["template"]["spec"]))
        elif kind == "InferenceService":
            p = dict(m["spec"]["predictor"])
            ctr = dict(p.pop("model"))
            ctr["resources"] = strategic_merge_resources(KSERVE_RUNTIME_RESOURCES, ctr.get("resources", {}))
            out.append((ns, name, {**p, "containers": [{"name": "kserve-container", **ctr}]}))
    return out


def admit(container: dict, limit_range: dict) -> list[str]:
    """API defaulting, then LimitRanger's mutation, then the resource validation (FACTS-cluster.md section 4: an
    absent request takes the limit; LimitRanger fills each absent limit from `default` and each absent request from
    `defaultRequest`; a request above its limit is invalid)."""
    res = container.get("resources", {})
    limits, requests = dict(res.get("limits", {})), dict(res.get("requests", {}))
    for k, v in limits.items():
        requests.setdefault(k, v)
    for item in (limit_range or {}).get("spec", {}).get("limits", []):
        if item.get("type") != "Container":
            continue
        for k, v in item.get("default", {}).items():
            limits.setdefault(k, v)
        for k, v in item.get("defaultRequest", {}).items():
            requests.setdefault(k, v)
    return [f"{container['name']}: requests.{k} {requests[k]} > limits.{k} {limits[k]}"
            for k in requests if k in limits and quantity(requests[k]) > quantity(limits[k])]


def admission_problems(plan) -> tuple[int, list[str]]:
    limit_ranges = {m["metadata"]["namespace"]: m for m in plan.manifests if m["kind"] == "LimitRange"}
    checked, problems = 0, []
    for ns, name, spec in pod_specs(plan):
        for ctr in spec.get("initContainers", []) + spec["containers"]:
            checked += 1
            problems += [f"{ns}/{name}: {p}" for p in admit(ctr, limit_ranges.get(ns))]
    return checked, problems


def node_matches(affinity: dict, node_labels: dict) -> bool:
    """requiredDuringScheduling node affinity: any term, every expression of it (NotIn and DoesNotExist also match
    a node without the key)."""
    terms = affinity["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]

    def ok(e):
        present, value = e["key"] in node_labels, node_labels.get(e["key"])
        return {"In": present and value in e.get("values", []),
                "NotIn": not present or value not in e.get("values", []),
                "Exists": present, "DoesNotExist": not present}[e["operator"]]
    return any(all(ok(e) for e in t.get("matchExpressions", [])) for t in terms)


def tolerated(tolerations: list, taints) -> bool:
    """Every NoSchedule/NoExecute taint of a node has a toleration (key and effect match; Exists, or Equal with the
    value)."""
    def ok(t):
        return any(tol.get("key") in (None, t.key) and tol.get("effect") in (None, t.effect)
                   and (tol.get("operator") == "Exists" or tol.get("value") == t.value) for tol in tolerations)
    return all(ok(t) for t in taints if t.effect in ("NoSchedule", "NoExecute"))


def kserve_keda_metric_problems(metric: dict) -> list[str]:
    """kserve v0.20.0 pkg/apis/serving/v1beta1/inference_service_validation.go, KEDA metrics of type External: a
    query, a `target.value`, and the field its target type names."""
    out = []
    ext = metric.get("external")
    if ext is None:
        return ["metricSpec.External is not set for external metric source type"]
    if not ext.get("metric", {}).get("query"):
        out.append("query is empty")
    target = ext.get("target", {})
    if target.get("value") is None:
        out.append("the target threshold value should not be empty")
    field = {"Utilization": "averageUtilization", "AverageValue": "averageValue", "Value": "value"}.get(
        target.get("type"))
    if field and target.get(field) is None:
        out.append(f"the {target.get('type')} type should be set")
    return out


# --- 1. CPU limits: one policy in every namespace ------------------------------------------------------------
def test_no_limitrange_gives_a_default_cpu_limit_but_all_give_default_requests(plan):
    ranges = [m for m in plan.manifests if m["kind"] == "LimitRange"]
    assert {r["metadata"]["namespace"] for r in ranges} == {"llm-serving", "llm-system", "gpu-operator", "monitoring"}
    for r in ranges:
        (item,) = r["spec"]["limits"]
        assert "cpu" not in item.get("default", {}), r["metadata"]["namespace"]
        # Quotas on requests.cpu / requests.memory force a request on every container: the defaults supply one.
        assert set(item["defaultRequest"]) == {"cpu", "memory"}


def test_every_model_container_passes_limitranger_and_validation(plan):
    checked, problems = admission_problems(plan)
    assert checked >= 6          # chat, big, ks, ks-canary, ray head and worker
    assert problems == []


def test_real_stacks_model_pods_pass_admission():
    for stack in ("gcp-prod", "azure-prod"):       # KServe, Ray Serve
        checked, problems = admission_problems(run_stack(stack))
        assert checked >= 2 and problems == [], stack


def test_quotas_never_force_cpu_limits():
    """A quota on limits.cpu would force a CPU limit on every container (FACTS-cluster.md section 4); the spec
    only quotas requests."""
    plan = run_config(config(models=[MODELS[0]], platform={"namespaces": [
        {"name": "llm-serving", "quota": {"gpus": 8, "cpu": "64", "memory": "512Gi", "pods": 20}}]}),
        secrets=SECRETS)
    (quota,) = [m for m in plan.manifests if m["kind"] == "ResourceQuota"]
    assert quota["spec"]["hard"] == {"requests.nvidia.com/gpu": "8", "requests.cpu": "64",
                                     "requests.memory": "512Gi", "pods": "20"}


def test_default_cpu_limit_is_rejected_where_the_program_runs_pods():
    lines = config_error(config(models=[MODELS[0]], platform={"namespaces": [
        {"name": "llm-serving", "limits": {"defaultCpu": "500m"}},
        {"name": "gpu-operator", "podSecurity": "privileged", "limits": {"defaultCpu": "4"}},
        {"name": "team-a", "limits": {"defaultCpu": "1"}}]}), secrets=SECRETS)
    why = ("runs this program's pods, which request CPU without a CPU limit: LimitRanger would make this their "
           "limit and the API server rejects every pod requesting more; leave it unset "
           "(a default CPU limit is allowed on your own namespaces)")
    assert lines == [f"llmfleet:platform.namespaces[0].limits.defaultCpu: llm-serving {why}",
                     f"llmfleet:platform.namespaces[1].limits.defaultCpu: gpu-operator {why}"]


def test_a_serving_namespace_of_your_own_follows_the_same_cpu_policy():
    lines = config_error(config(models=[MODELS[0]], serving={"namespace": "team-a"}, platform={"namespaces": [
        {"name": "team-a", "limits": {"defaultCpu": "1"}}]}), secrets=SECRETS)
    assert lines == ["llmfleet:serving.namespace: team-a sets limits.defaultCpu in llmfleet:platform, but model "
                     "servers request CPU without a CPU limit: LimitRanger would make it their limit and the API "
                     "server rejects every pod requesting more; remove that defaultCpu"]


# --- 4. KServe KEDA metric ------------------------------------------------------------------------------------
def test_kserve_keda_metric_passes_kserve_validation(plan):
    (metric,) = manifest(plan, "InferenceService", "ks")["spec"]["predictor"]["autoScaling"]["metrics"]
    # KServe copies target.value into the Prometheus trigger's `threshold` (keda_reconciler.go at v0.20.0); the
    # trigger's metric type stays KEDA's default AverageValue, so the threshold is per replica.
    assert metric["external"]["target"] == {"type": "Value", "value": "5"}
    assert kserve_keda_metric_problems(metric) == []


# --- 5. KServe predictor limits -------------------------------------------------------------------------------
def test_kserve_predictor_sets_its_cpu_limit_over_the_runtimes(plan):
    for name in ("ks", "ks-canary"):
        res = manifest(plan, "InferenceService", name)["spec"]["predictor"]["model"]["resources"]
        assert set(res["limits"]) == {"cpu", "memory", "nvidia.com/gpu"}
        merged = strategic_merge_resources(KSERVE_RUNTIME_RESOURCES, res)
        assert merged == res            # nothing of the runtime's 1-CPU / 2Gi sizing survives
        assert quantity(res["limits"]["cpu"]) >= quantity(res["requests"]["cpu"])


def test_kserve_cpu_limit_is_the_replicas_share_of_a_known_node():
    plan = run_stack("gcp-prod")
    m = next(m for m in plan.spec.models if m.name == "llama-8b")
    # One pod template for both listed pools (h100 a3-highgpu-8g: 26 vCPUs per GPU; a100 a2-ultragpu-8g: 12): it
    # takes the smaller share, so it fits either node.
    inst = plan.spec.pool("a100").instance
    assert m.placement.pools == ("h100", "a100") and (inst.vcpus, inst.gpus, m.placement.tensor_parallel) == (96, 8, 1)
    res = plan.manifest("InferenceService", "llama-8b")["spec"]["predictor"]["model"]["resources"]
    # 12 vCPUs per GPU: TP 1 requests 75% of them and may burst to all 12.
    assert (res["requests"]["cpu"], res["limits"]["cpu"]) == ("9", "12")


# --- 6. KServe gated weights ---------------------------------------------------------------------------------
def test_kserve_storage_initializer_gets_the_token_from_the_service_account(plan):
    sa = manifest(plan, "ServiceAccount", "kserve-hf")
    # kserve v0.20.0 pkg/credentials/service_account_credentials.go: each Secret listed on the predictor's
    # ServiceAccount is read; one with key HF_TOKEN (pkg/credentials/hf/hf_secret.go) becomes the storage
    # initializer's HF_TOKEN.
    assert sa["secrets"] == [{"name": "hf-token"}]
    assert sa["automountServiceAccountToken"] is False
    (secret,) = [r for r in plan.of_type(SECRET) if r.inputs["metadata"]["name"] == "hf-token"]
    assert secret.inputs["stringData"] == {"HF_TOKEN": "[secret]"}
    for name in ("ks", "ks-canary"):
        predictor = manifest(plan, "InferenceService", name)["spec"]["predictor"]
        assert predictor["serviceAccountName"] == "kserve-hf"


def test_no_service_account_without_a_token():
    plan = run_config(config(models=[{"name": "q", "model": "qwen2.5-7b", "engine": "kserve"}]),
                      secrets={"kubeconfig": "apiVersion: v1"})
    assert not [m for m in plan.manifests if m["kind"] == "ServiceAccount"]
    assert "serviceAccountName" not in manifest(plan, "InferenceService", "q")["spec"]["predictor"]


# --- 7. critical models never on spot ------------------------------------------------------------------------
@pytest.mark.parametrize("stack,model", [("prod", "llama-70b"), ("prod-karpenter", "llama-70b"),
                                         ("gcp-prod", "llama-70b"), ("azure-prod", "llama-70b")])
def test_critical_model_pods_match_no_spot_node_group(stack, model):
    plan = run_stack(stack)
    m = next(m for m in plan.spec.models if m.name == model)
    assert m.priority == "critical"
    groups = [d for d in plan.stack.cluster.pools if d.name == m.placement.pool]
    assert {d.capacity for d in groups} >= {"on-demand", "spot"}, "the stack must offer spot to test this"
    specs = [s for _, name, s in pod_specs(plan) if name in (model, f"{model}-gpu")]
    assert specs
    for spec in specs:
        for d in groups:
            # A node of the group carries at least the descriptor's labels and exactly its taints. (AKS taints its
            # spot pools itself; EKS, Karpenter and GKE do not, so only the affinity keeps the pod off them.)
            fits = node_matches(spec["affinity"], d.node_labels) and tolerated(spec.get("tolerations", []), d.taints)
            assert fits == (d.capacity != "spot"), (d.node_group, spec["affinity"])


@pytest.mark.parametrize("stack", ["prod", "prod-karpenter", "gcp-prod", "azure-prod", "dev"])
def test_every_cloud_node_group_carries_its_capacity_label(stack):
    groups = run_stack(stack).stack.cluster.pools
    assert groups
    for d in groups:
        assert d.node_labels.get(LABEL_CAPACITY) == d.capacity, d.node_group


def test_cloud_pools_cannot_relabel_the_programs_keys():
    pool = {"name": "h100", "instanceType": "a3-highgpu-8g", "capacity": ["on-demand", "spot"],
            "labels": {"llmfleet.io/capacity": "on-demand"}}
    lines = config_error({"cloud": "gcp", "cluster": {"gcp": {"project": "example-proj-1"}}, "gpuPools": [pool]})
    assert lines == ["llmfleet:gpuPools[0].labels: llmfleet.io/capacity is set by the program on every node "
                     "group (keys under llmfleet.io/ say which pool, capacity type and GPU a node is); "
                     "use another key"]


# --- 13. KEDA fallback ---------------------------------------------------------------------------------------
def test_keda_fallback_never_shrinks_below_the_current_size(plan):
    spec = manifest(plan, "ScaledObject", "big-scaler")["spec"]
    # KEDA 2.20.2 pkg/fallback/fallback.go: currentReplicasIfHigher reports max(current, fallback.replicas).
    assert spec["fallback"] == {"failureThreshold": 3, "replicas": 1, "behavior": "currentReplicasIfHigher"}


# --- 14. HPA stabilization -------------------------------------------------------------------------------------
H200_POOL = {"name": "h200", "gpu": "h200-141gb", "gpusPerNode": 8, "maxNodes": 3,
             "labels": {"node.example/gpu": "h200"}}
HUGE = {"model": "llama-3.1-405b", "maxContext": 8192, "concurrency": 1, "replicas": {"min": 1, "max": 2}}


def test_stabilization_windows_are_clamped_to_the_hpa_limit():
    plan = run_config(config(pool=H200_POOL, models=[
        {"name": "huge-hpa", **HUGE, "autoscaling": {"hpa": {}}},
        {"name": "huge-keda", **HUGE, "autoscaling": {"keda": {}}},
        {"name": "huge-ks", **HUGE, "engine": "kserve", "autoscaling": {"keda": {}}}]), secrets=SECRETS)
    from spec.serving_options import MAX_STABILIZATION_SECONDS
    assert MAX_STABILIZATION_SECONDS == 3600
    hpa = manifest(plan, "HorizontalPodAutoscaler", "huge-hpa-hpa")["spec"]["behavior"]
    assert hpa["scaleDown"]["stabilizationWindowSeconds"] == 3600
    so = manifest(plan, "ScaledObject", "huge-keda-scaler")["spec"]
    assert so["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]["scaleDown"][
        "stabilizationWindowSeconds"] == 3600
    assert so["cooldownPeriod"] == 4740          # to zero: no HPA limit, the full 405B load estimate
    ks = manifest(plan, "InferenceService", "huge-ks")["spec"]["predictor"]["autoScaling"]
    assert ks["behavior"] == {"scaleDown": {"stabilizationWindowSeconds": 3600}}


def test_cooldown_above_the_hpa_limit_is_a_config_error():
    lines = config_error(config(models=[{"name": "m", "model": "llama-3.1-8b", "replicas": {"min": 1, "max": 2},
                                         "autoscaling": {"keda": {"cooldownSeconds": 7200}}}]), secrets=SECRETS)
    assert lines == ["llmfleet:models[0].autoscaling.keda.cooldownSeconds: must be <= 3600 (the scale-down "
                     "stabilization window of the HPA that KEDA drives; Kubernetes rejects more), got 7200"]


# --- 15. KServe after KEDA -------------------------------------------------------------------------------------
def test_kserve_controller_starts_after_keda(plan):
    rel = {r.inputs["name"]: r for r in plan.of_type(RELEASE)}
    assert plan.waits_for(rel["kserve-resources"], rel["keda"])
    assert not plan.waits_for(rel["keda"], rel["kserve-resources"])


# --- 17. RayService metrics, KServe readiness ------------------------------------------------------------------
def test_rayservice_head_and_workers_are_scraped(plan):
    pm = manifest(plan, "PodMonitor", "ray")
    sel = pm["spec"]["selector"]["matchLabels"]
    assert pm["spec"]["namespaceSelector"] == {"matchNames": [NS]}
    # KubeRay v1.7.0 (common/pod.go): `--metrics-export-port` defaults to 8080 on head and workers, port `metrics`.
    assert pm["spec"]["podMetricsEndpoints"] == [{"port": "metrics", "path": "/metrics", "interval": "15s"}]
    cluster = manifest(plan, "RayService", "ray")["spec"]["rayClusterConfig"]
    templates = [cluster["headGroupSpec"]["template"]] + [g["template"] for g in cluster["workerGroupSpecs"]]
    for t in templates:
        assert sel.items() <= t["metadata"]["labels"].items()
        assert {"containerPort": 8080, "name": "metrics"} in t["spec"]["containers"][0]["ports"]
    # Nothing but this model's Ray pods: the vLLM and KServe models share the app name label of their own.
    others = [m for m in plan.manifests if m["kind"] in ("Deployment", "StatefulSet")]
    assert others and all(not sel.items() <= o["spec"]["template"]["metadata"]["labels"].items() for o in others)


def test_kserve_readiness_waits_for_the_model(plan):
    for name in ("ks", "ks-canary"):
        ctr = manifest(plan, "InferenceService", name)["spec"]["predictor"]["model"]
        # kserve v0.20.0 python/kserve/kserve/protocol/rest: `/` answers once the server is up (v1 live);
        # `/v1/models/<name>` answers 200 only once the model is ready (503 before), and the Hugging Face runtime
        # names the model after the InferenceService (--model_name={{.Name}}).
        model_route = {"path": f"/v1/models/{name}", "port": KSERVE_PORT}
        assert ctr["startupProbe"]["httpGet"] == model_route
        assert ctr["readinessProbe"]["httpGet"] == model_route
        assert ctr["livenessProbe"]["httpGet"] == {"path": "/", "port": KSERVE_PORT}


# --- 19. edge: a cluster with only GPU nodes ------------------------------------------------------------------
EDGE_POOL = {"name": "edge", "gpu": "l4-24gb", "gpusPerNode": 1, "labels": {"gpu": "l4"},
             "taints": [{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}]}


def test_gpu_only_cluster_with_a_tainted_pool_is_a_config_error():
    lines = config_error({"cloud": "existing", "cluster": {"gpuOnly": True}, "gpuPools": [EDGE_POOL]},
                         secrets={"kubeconfig": "apiVersion: v1"})
    assert lines == ["llmfleet:gpuPools[0].taints: nvidia.com/gpu=present:NoSchedule keeps Prometheus, Grafana "
                     "and the operator controllers off the cluster's only nodes (llmfleet:cluster.gpuOnly is true): "
                     "untaint the nodes (kubectl taint nodes <node> nvidia.com/gpu-) and drop the taint here, or "
                     "add an untainted node and set gpuOnly to false"]


def test_gpu_only_applies_to_existing_clusters_only():
    lines = config_error({"cloud": "gcp", "cluster": {"gpuOnly": True, "gcp": {"project": "example-proj-1"}},
                          "gpuPools": [{"name": "l4", "instanceType": "g2-standard-4"}]})
    assert lines == ["llmfleet:cluster.gpuOnly: only applies when cloud is existing (managed clusters get "
                     "untainted CPU nodes of their own)"]


def test_edge_box_accepts_pods_that_tolerate_nothing():
    plan = run_stack("edge")
    assert plan.spec.cluster.gpu_only is True
    # The cluster's only nodes are the GPU pools': each must take a pod without tolerations.
    for d in plan.stack.cluster.pools:
        assert not [t for t in d.taints if t.effect in ("NoSchedule", "NoExecute")], d.node_group
