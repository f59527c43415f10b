"""Model serving: the spec keys, sizing decisions, and the exact objects each engine and autoscaler renders."""
import json

import pytest
import yaml

from catalog.gpus import GPUS
from catalog.versions import CHARTS, OCI_CHARTS, RAY_LLM_IMAGE, VLLM_IMAGE
from components.descriptors import GPU_TAINT, LABEL_CAPACITY, LABEL_POOL, PoolDescriptor
from components.serving import common
from spec.pools import Taint
from spec.reader import ConfigError
from spec.stack import load
from tests.harness import config_error, run_config

H100_POOL = {"name": "h100", "gpu": "h100-80gb", "gpusPerNode": 8, "minNodes": 0, "maxNodes": 4,
             "labels": {"node.example/gpu": "h100"},
             "taints": [{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}]}
SECRETS = {"kubeconfig": "apiVersion: v1", "hfToken": "hf_do_not_leak_42"}
MODELS = [
    {"name": "chat", "model": "llama-3.1-8b", "replicas": {"min": 1, "max": 4},
     "autoscaling": {"hpa": {"targetQueueDepth": 5}, "vpa": True},
     "cache": {"mode": "shared", "storageClass": "nfs-rwx"}, "extraArgs": ["--enable-prefix-caching"]},
    {"name": "big", "model": "llama-3.1-70b", "maxContext": 8192, "concurrency": 32, "priority": "critical",
     "replicas": {"min": 1, "max": 2}, "autoscaling": {"keda": {"targetQueueDepth": 3}},
     "cache": {"mode": "per-replica"}},
    {"name": "batch", "model": "qwen2.5-7b", "replicas": {"min": 0, "max": 3}, "priority": "batch",
     "kvCacheDtype": "fp8", "autoscaling": {"kedaRedis": {"address": "redis.llm-system.svc:6379", "listLength": 10}}},
    {"name": "ks", "model": "mistral-7b-instruct-v0.2", "engine": "kserve", "replicas": {"min": 1, "max": 3},
     "autoscaling": {"keda": {}, "vpa": True}},
    {"name": "ks-canary", "model": "qwen2.5-7b", "engine": "kserve",
     "kserve": {"mode": "Serverless", "canaryTrafficPercent": 10}},
    {"name": "ray", "model": "qwen2.5-72b", "engine": "rayserve", "replicas": {"min": 1, "max": 2}},
]


def config(models=None, pool=None, **extra):
    return {"cloud": "existing", "gpuPools": [pool or H100_POOL], "models": MODELS if models is None else models,
            **extra}


@pytest.fixture(scope="module")
def plan():
    return run_config(config(), secrets=SECRETS)


def spec_of(models, pool=None, secrets=("kubeconfig", "hfToken")):
    raw = {**config(models, pool), **{k: SECRETS[k] for k in secrets}}
    return load(raw, set(secrets), "t")


def manifest(plan, kind, name):
    return plan.manifest(kind, name, "llm-serving")


# --- sizing decisions (worked examples in tests/test_sizing.py) ----------------------------------------------
def test_llama_8b_fits_one_h100_with_433k_tokens():
    m = spec_of([{"name": "m", "model": "llama-3.1-8b"}]).models[0]
    assert (m.placement.pool, m.placement.tensor_parallel) == ("h100", 1)
    # 27,088 blocks of 16 tokens x 128 KiB per GPU; one is vLLM's null block.
    assert (m.placement.kv_tokens, m.placement.kv_cache_bytes) == (433_392, 27_088 * 16 * 131_072)


def test_llama_70b_at_8k_by_32_needs_four_h100():
    m = spec_of([{"name": "m", "model": "llama-3.1-70b", "maxContext": 8192, "concurrency": 32}]).models[0]
    assert m.placement.tensor_parallel == 4
    assert m.placement.kv_tokens == 441_904
    assert m.placement.sequences_at_context == 53


def test_llama_70b_on_two_gpus_is_rejected_with_the_numbers():
    pool = {**H100_POOL, "gpusPerNode": 2}
    with pytest.raises(ConfigError) as e:
        spec_of([{"name": "m", "model": "llama-3.1-70b", "maxContext": 8192, "concurrency": 32}], pool)
    assert e.value.lines == [
        "llmfleet:models[0]: m (llama-3.1-70b, bf16) fits no allowed pool for 8192 tokens x 32 sequences "
        "(weights 134.1 GiB): pool 'h100' (2x H100 80GB HBM3): needs 225.4 GiB on 2 GPU(s) (weights 134.1 + "
        "overhead 11.3 + KV for 262144 tokens), has 142.5 GiB at utilization 0.9"]


def test_awq_serves_the_quantized_checkpoint_with_16_bit_kv():
    m = spec_of([{"name": "m", "model": "llama-3.1-70b", "quantization": "awq"}]).models[0]
    assert (m.dtype, m.quantization, m.placement.tensor_parallel) == ("int4", "awq", 1)
    assert m.hf_repo == "hugging-quants/Meta-Llama-3.1-70B-Instruct-AWQ-INT4"
    assert m.placement.kv_tokens == 95_776          # 2-byte KV (vLLM `auto`), not the weights' half byte
    # The checkpoint's quantization_config names the method: no --quantization (it would force the slow kernel).
    assert common.engine_flags(m)[-6:] == ["--max-num-seqs", "8", "--kv-cache-memory-bytes",
                                           str(m.placement.kv_cache_bytes), "--dtype", "auto"]


def test_online_fp8_keeps_the_flag_and_the_bf16_repository():
    m = spec_of([{"name": "m", "model": "mistral-7b-instruct-v0.2", "dtype": "fp8"}]).models[0]
    assert (m.quantization, m.checkpoint, m.hf_repo) == ("fp8", None, "mistralai/Mistral-7B-Instruct-v0.2")
    # The method is added to the sized flags, never in place of them.
    assert common.engine_flags(m) == [
        "--tensor-parallel-size", "1", "--max-model-len", "8192", "--gpu-memory-utilization", "0.9",
        "--max-num-seqs", "8", "--kv-cache-memory-bytes", str(m.placement.kv_cache_bytes), "--dtype", "auto",
        "--quantization", "fp8"]


def test_a_method_without_a_catalog_checkpoint_is_an_error():
    assert bad({"model": "mixtral-8x7b", "quantization": "gptq"}) == [
        "llmfleet:models[0].quantization: gptq needs a checkpoint quantized with it; the catalog has none for "
        "mixtral-8x7b (it has none); give architecture with the quantized repository's hfId and weightGiB instead"]


def test_fp8_70b_on_one_h100_is_refused_through_the_spec():
    pool = {**H100_POOL, "gpusPerNode": 1}
    with pytest.raises(ConfigError) as e:
        spec_of([{"name": "m", "model": "llama-3.1-70b", "quantization": "fp8", "maxContext": 8192,
                  "concurrency": 1}], pool)
    assert e.value.lines[0].startswith("llmfleet:models[0]: m (llama-3.1-70b, fp8) fits no allowed pool for 8192 "
                                       "tokens x 1 sequences (weights 69.1 GiB)")


# --- vLLM ---------------------------------------------------------------------------------------------------
def test_vllm_deployment_pod_spec_is_exact(plan):
    d = manifest(plan, "Deployment", "chat")
    # The HPA owns the count after creation: Pulumi ignores it (no reset when switching to an autoscaler).
    assert d["spec"]["replicas"] == 1
    assert d["metadata"]["annotations"] == {"pulumi.com/timeoutSeconds": "1200"}
    assert d["spec"]["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}
    pod = d["spec"]["template"]["spec"]
    (ctr,) = pod["containers"]
    assert ctr["image"] == VLLM_IMAGE == "vllm/vllm-openai:v0.33.0"
    assert ctr["command"] == ["vllm", "serve"]
    assert ctr["args"] == [
        "meta-llama/Llama-3.1-8B-Instruct", "--served-model-name", "chat", "--port", "8000",
        "--tensor-parallel-size", "1", "--max-model-len", "8192", "--gpu-memory-utilization", "0.9",
        "--max-num-seqs", "8", "--kv-cache-memory-bytes", str(27_088 * 16 * 131_072),
        "--dtype", "bfloat16", "--enable-prefix-caching"]
    assert ctr["resources"] == {"requests": {"cpu": "4", "memory": "16Gi", "nvidia.com/gpu": "1"},
                                "limits": {"memory": "16Gi", "nvidia.com/gpu": "1"}}
    assert ctr["ports"] == [{"name": "http", "containerPort": 8000, "protocol": "TCP"}]
    # The token as a file (huggingface_hub reads HF_TOKEN_PATH), not an env var.
    assert ctr["env"] == [{"name": "HF_TOKEN_PATH", "value": "/var/run/secrets/huggingface/token"},
                          {"name": "HF_HOME", "value": "/models"}]
    # 8.03B bf16 = 15.0 GiB: 180 s + 6 s/GiB = 270 s, rounded up to 300 s = 30 x 10 s.
    assert ctr["startupProbe"] == {"httpGet": {"path": "/health", "port": "http"}, "periodSeconds": 10,
                                   "timeoutSeconds": 5, "failureThreshold": 30}
    assert ctr["readinessProbe"]["httpGet"] == ctr["livenessProbe"]["httpGet"] == {"path": "/health", "port": "http"}
    assert ctr["securityContext"] == {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]},
                                      "seccompProfile": {"type": "RuntimeDefault"}}
    assert ctr["volumeMounts"] == [{"name": "dshm", "mountPath": "/dev/shm"},
                                   {"name": "model-cache", "mountPath": "/models"},
                                   {"name": "hf-token", "mountPath": "/var/run/secrets/huggingface", "readOnly": True}]
    assert pod["volumes"] == [{"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": "2Gi"}},
                              {"name": "model-cache", "persistentVolumeClaim": {"claimName": "chat-cache"}},
                              {"name": "hf-token", "secret": {"secretName": "hf-token", "optional": False,
                                                              "defaultMode": 0o440,
                                                              "items": [{"key": "HF_TOKEN", "path": "token"}]}}]
    assert pod["priorityClassName"] == "llm-standard"
    assert pod["terminationGracePeriodSeconds"] == 120
    assert pod["affinity"] == {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchExpressions": [{"key": "node.example/gpu", "operator": "In",
                                                     "values": ["h100"]}]}]}}}
    assert pod["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    assert [t["topologyKey"] for t in pod["topologySpreadConstraints"]] == [
        "topology.kubernetes.io/zone", "kubernetes.io/hostname"]


def test_shared_cache_is_a_rwx_claim_of_the_named_class(plan):
    pvc = manifest(plan, "PersistentVolumeClaim", "chat-cache")
    # 15.0 GiB x 1.2 + 10 -> 28 Gi
    assert pvc["spec"] == {"accessModes": ["ReadWriteMany"], "storageClassName": "nfs-rwx",
                           "resources": {"requests": {"storage": "28Gi"}}}


def test_per_replica_cache_makes_a_statefulset_with_claim_templates(plan):
    s = manifest(plan, "StatefulSet", "big")
    assert s["spec"]["serviceName"] == "big"
    (tmpl,) = s["spec"]["volumeClaimTemplates"]
    assert tmpl["spec"] == {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "168Gi"}}}
    pod = s["spec"]["template"]["spec"]
    args = pod["containers"][0]["args"]
    assert args[args.index("--tensor-parallel-size") + 1] == "4"
    assert pod["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == "4"
    assert pod["priorityClassName"] == "llm-critical"
    assert pod["volumes"][:1] == [{"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": "8Gi"}}]
    assert [v["name"] for v in pod["volumes"][1:]] == ["hf-token"]     # the token file; the cache is a claim
    # 70.6B bf16 = 131.5 GiB: 180 + 789 = 969 s -> 1020 s -> 102 probes; Pulumi waits 900 s of pull more.
    assert pod["containers"][0]["startupProbe"]["failureThreshold"] == 102
    assert s["metadata"]["annotations"] == {"pulumi.com/timeoutSeconds": "1920"}


def test_fp8_kv_cache_flag(plan):
    args = manifest(plan, "Deployment", "batch")["spec"]["template"]["spec"]["containers"][0]["args"]
    assert args[args.index("--kv-cache-dtype") + 1] == "fp8"


def test_service_and_service_monitor(plan):
    svc = manifest(plan, "Service", "chat")
    assert svc["spec"] == {"type": "ClusterIP", "selector": {"llmfleet.io/model": "chat"},
                           "ports": [{"name": "http", "port": 8000, "targetPort": "http", "protocol": "TCP"}]}
    sm = manifest(plan, "ServiceMonitor", "chat")
    assert sm["apiVersion"] == "monitoring.coreos.com/v1"
    assert sm["spec"]["endpoints"] == [{"port": "http", "path": "/metrics", "interval": "15s"}]


# --- secrets ------------------------------------------------------------------------------------------------
def test_hf_token_is_a_secret_and_never_in_plain_text(plan):
    secret = plan.one("kubernetes:core/v1:Secret", "llm-test-serving-hf-token")
    assert secret.inputs["stringData"] == {"HF_TOKEN": "[secret]"}
    assert secret.inputs["metadata"]["name"] == "hf-token"
    assert SECRETS["hfToken"] not in json.dumps([r.inputs for r in plan.resources])


# --- autoscaling --------------------------------------------------------------------------------------------
def test_hpa_scales_on_the_adapter_queue_metric(plan):
    h = manifest(plan, "HorizontalPodAutoscaler", "chat-hpa")
    assert h["apiVersion"] == "autoscaling/v2"
    assert h["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "chat"}
    assert (h["spec"]["minReplicas"], h["spec"]["maxReplicas"]) == (1, 4)
    assert h["spec"]["metrics"] == [{"type": "Pods", "pods": {
        "metric": {"name": "vllm_num_requests_waiting"}, "target": {"type": "AverageValue", "averageValue": "5"}}}]
    assert h["spec"]["behavior"]["scaleDown"]["stabilizationWindowSeconds"] == 300


def test_prometheus_adapter_rule_exposes_the_queue_metric(plan):
    r = plan.one("kubernetes:helm.sh/v3:Release", "llm-test-serving-controllers-prometheus-adapter")
    assert (r.inputs["chart"], r.inputs["version"], r.inputs["namespace"]) == ("prometheus-adapter", "5.3.0",
                                                                             "llm-system")
    rules = r.inputs["values"]["rules"]
    assert rules["default"] is False
    assert rules["custom"][0]["name"] == {"matches": "^vllm:num_requests_waiting$", "as": "vllm_num_requests_waiting"}
    assert rules["custom"][0]["seriesQuery"] == 'vllm:num_requests_waiting{namespace!="",pod!=""}'


def test_keda_prometheus_scaled_object(plan):
    so = manifest(plan, "ScaledObject", "big-scaler")
    spec = so["spec"]
    assert spec["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "big"}
    assert spec["triggers"] == [{"type": "prometheus", "metadata": {
        "serverAddress": "http://kube-prometheus-stack-prometheus.monitoring.svc:9090",
        "query": 'sum(vllm:num_requests_waiting{namespace="llm-serving",model_name="big"})', "threshold": "3"}}]
    assert spec["cooldownPeriod"] == 1020            # >= the 70B load estimate
    assert spec["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]["scaleDown"][
        "stabilizationWindowSeconds"] == 1020
    assert spec["fallback"] == {"failureThreshold": 3, "replicas": 1, "behavior": "currentReplicasIfHigher"}
    assert all(isinstance(v, str) for t in spec["triggers"] for v in t["metadata"].values())


def test_keda_redis_list_trigger_for_queue_fed_workers(plan):
    spec = manifest(plan, "ScaledObject", "batch-scaler")["spec"]
    assert spec["triggers"] == [{"type": "redis", "metadata": {
        "address": "redis.llm-system.svc:6379", "listName": "inference_queue", "listLength": "10",
        "databaseIndex": "0"}}]
    assert (spec["minReplicaCount"], spec["maxReplicaCount"]) == (0, 3)


def test_never_an_hpa_and_a_scaled_object_on_one_target(plan):
    hpa_targets = {(m["spec"]["scaleTargetRef"]["kind"], m["spec"]["scaleTargetRef"]["name"])
                   for m in plan.manifests if m["kind"] == "HorizontalPodAutoscaler"}
    so_targets = {(m["spec"]["scaleTargetRef"]["kind"], m["spec"]["scaleTargetRef"]["name"])
                  for m in plan.manifests if m["kind"] == "ScaledObject"}
    assert hpa_targets == {("Deployment", "chat")}
    assert so_targets == {("StatefulSet", "big"), ("Deployment", "batch")}


def test_vpa_is_recommendation_only_on_gpu_pods_and_applies_on_controllers(plan):
    vpas = {m["metadata"]["name"]: (m["metadata"]["namespace"], m["spec"]["targetRef"]["name"],
                                    m["spec"]["updatePolicy"]["updateMode"])
            for m in plan.manifests if m["kind"] == "VerticalPodAutoscaler"}
    assert vpas == {
        "chat-vpa": ("llm-serving", "chat", "Off"),
        "ks-vpa": ("llm-serving", "ks-predictor", "Off"),
        "prometheus-adapter-vpa": ("llm-system", "prometheus-adapter", "Recreate"),
        "keda-operator-vpa": ("llm-system", "keda-operator", "Recreate"),
        "kuberay-operator-vpa": ("llm-system", "kuberay-operator", "Recreate"),
    }


def test_vpa_controller_is_installed_for_the_vpa_objects(plan):
    rel = {r.inputs["name"]: r for r in plan.of_type("kubernetes:helm.sh/v3:Release")}
    vpa = rel["vpa"]
    assert (vpa.inputs["chart"], vpa.inputs["version"]) == ("vpa", "5.0.0")
    assert vpa.inputs["repositoryOpts"] == {"repo": "https://charts.fairwinds.com/stable"}
    # An existing (k3s) cluster serves metrics.k8s.io itself: no second metrics-server.
    assert vpa.inputs["values"] == {"metrics-server": {"enabled": False}}
    # Every VerticalPodAutoscaler waits for the chart that brings its CRD.
    vpas = [r for r in plan.resources if r.custom and r.inputs.get("kind") == "VerticalPodAutoscaler"]
    assert len(vpas) == 5
    for r in vpas:
        assert plan.waits_for(r, vpa), r.name
    # ...and the ordering check is not vacuous: the chart does not wait for the model it serves.
    chat = plan.one("kubernetes:apps/v1:Deployment", "llm-test-serving-chat-deployment")
    assert plan.waits_for(chat, vpa) and not plan.waits_for(vpa, chat)


def test_eks_gets_metrics_server_with_the_vpa():
    from tests.harness import run_stack
    dev = run_stack("dev")
    vpa = next(r for r in dev.of_type("kubernetes:helm.sh/v3:Release") if r.inputs["name"] == "vpa")
    assert vpa.inputs["values"] == {"metrics-server": {"enabled": True}}


def test_every_serving_workload_has_a_pdb(plan):
    pdbs = {m["metadata"]["name"]: m["spec"] for m in plan.manifests if m["kind"] == "PodDisruptionBudget"}
    assert set(pdbs) == {f"{m['name']}-pdb" for m in MODELS}
    assert pdbs["chat-pdb"] == {"maxUnavailable": 1, "selector": {"matchLabels": {"llmfleet.io/model": "chat"}}}


# --- KServe -------------------------------------------------------------------------------------------------
def test_kserve_standard_with_keda(plan):
    isvc = manifest(plan, "InferenceService", "ks")
    assert isvc["apiVersion"] == "serving.kserve.io/v1beta1"
    assert isvc["metadata"]["annotations"] == {"serving.kserve.io/deploymentMode": "Standard",
                                               "serving.kserve.io/autoscalerClass": "keda",
                                               "pulumi.com/waitFor": "condition=Ready",
                                               "pulumi.com/timeoutSeconds": "1200"}
    p = isvc["spec"]["predictor"]
    assert "canaryTrafficPercent" not in p
    assert p["model"]["modelFormat"] == {"name": "huggingface"}
    assert p["model"]["storageUri"] == "hf://mistralai/Mistral-7B-Instruct-v0.2"
    assert p["model"]["args"] == ["--tensor-parallel-size=1", "--max_model_len=8192",
                                  "--gpu-memory-utilization=0.9", "--max-num-seqs=8",
                                  "--kv-cache-memory-bytes=58500055040", "--dtype=bfloat16"]
    assert p["model"]["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert "env" not in p["model"]          # the token reaches the storage initializer via the ServiceAccount
    assert p["autoScaling"] == {"metrics": [{"type": "External", "external": {
        "metric": {"backend": "prometheus", "serverAddress": "http://kube-prometheus-stack-prometheus.monitoring.svc:9090",
                   "query": 'sum(vllm:num_requests_waiting{namespace="llm-serving",model_name="ks"})'},
        "target": {"type": "Value", "value": "5"}}}],
        "behavior": {"scaleDown": {"stabilizationWindowSeconds": 300}}}
    assert p["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]


def test_kserve_serverless_canary(plan):
    isvc = manifest(plan, "InferenceService", "ks-canary")
    assert isvc["metadata"]["annotations"]["serving.kserve.io/deploymentMode"] == "Knative"
    assert "serving.kserve.io/autoscalerClass" not in isvc["metadata"]["annotations"]
    assert isvc["spec"]["predictor"]["canaryTrafficPercent"] == 10
    assert "autoScaling" not in isvc["spec"]["predictor"]


def test_kserve_charts_pinned_and_ordered(plan):
    rel = {r.inputs["name"]: r for r in plan.of_type("kubernetes:helm.sh/v3:Release")}
    assert rel["kserve-crd"].inputs["chart"] == OCI_CHARTS["kserve-crd"] == "oci://ghcr.io/kserve/charts/kserve-crd"
    assert {rel[k].inputs["version"] for k in ("kserve-crd", "kserve-resources", "kserve-runtime-configs")} == {
        "v0.20.0"}
    assert rel["kserve-resources"].inputs["values"] == {"kserve": {"controller": {"deploymentMode": "Standard"},
                                                                   "certManager": {"enabled": True}}}
    # KServe's webhook certificate needs cert-manager; the controller waits for it and for the CRDs.
    assert rel["cert-manager"].inputs["chart"] == "oci://quay.io/jetstack/charts/cert-manager"
    assert rel["cert-manager"].inputs["version"] == "v1.21.1"
    assert rel["cert-manager"].inputs["values"] == {"crds": {"enabled": True}}
    assert {rel["cert-manager"].urn, rel["kserve-crd"].urn} <= set(rel["kserve-resources"].dependencies)
    assert rel["kserve-resources"].urn in rel["kserve-runtime-configs"].dependencies
    assert rel["kserve-runtime-configs"].inputs["values"]["kserve"]["servingruntime"]["enabled"] is True
    assert rel["keda"].inputs["version"] == CHARTS["keda"].version == "2.20.2"
    assert rel["kuberay-operator"].inputs["version"] == "1.7.0"


# --- Ray Serve ----------------------------------------------------------------------------------------------
def test_rayservice_head_takes_no_work_and_workers_are_sized(plan):
    rs = manifest(plan, "RayService", "ray")
    assert rs["apiVersion"] == "ray.io/v1"
    cluster = rs["spec"]["rayClusterConfig"]
    assert cluster["headGroupSpec"]["rayStartParams"] == {"num-cpus": "0"}
    assert "tolerations" not in cluster["headGroupSpec"]["template"]["spec"]
    (worker,) = cluster["workerGroupSpecs"]
    assert (worker["minReplicas"], worker["maxReplicas"], worker["replicas"]) == (1, 2, 1)
    ctr = worker["template"]["spec"]["containers"][0]
    assert ctr["image"] == RAY_LLM_IMAGE
    # Qwen2.5-72B at 8k x 8 on H100: at TP 2 the 69.1 GiB of weights per GPU plus 5.8 GiB overhead exceed the
    # 71.2 GiB budget -> TP 4.
    tp = rs_tp = int(ctr["resources"]["limits"]["nvidia.com/gpu"])
    serve = yaml.safe_load(rs["spec"]["serveConfigV2"])
    (app,) = serve["applications"]
    assert app["import_path"] == "ray.serve.llm:build_openai_app"
    (llm,) = app["args"]["llm_configs"]
    assert llm["engine_kwargs"] == {"tensor_parallel_size": rs_tp, "max_model_len": 8192,
                                    "gpu_memory_utilization": 0.9, "max_num_seqs": 8,
                                    "kv_cache_memory_bytes": 35_077_488_640, "dtype": "bfloat16"}
    assert rs_tp == 4
    assert llm["deployment_config"]["autoscaling_config"] == {"min_replicas": 1, "max_replicas": 2,
                                                              "target_ongoing_requests": 8}
    assert tp == plan.spec.models[5].placement.tensor_parallel


# --- scheduling from pool descriptors -----------------------------------------------------------------------
def test_affinity_allows_every_capacity_group_and_prefers_by_priority():
    spot_taint = Taint("kubernetes.azure.com/scalesetpriority", "spot", "NoSchedule")
    base = dict(name="h100", cloud="azure", node_group="h100", gpu=GPUS["h100-80gb"], gpus_per_node=8,
                instance_type="Standard_ND96isr_H100_v5")
    on_demand = PoolDescriptor(**base, capacity="on-demand", priority=20, taints=(GPU_TAINT,),
                               node_labels={LABEL_POOL: "h100", LABEL_CAPACITY: "on-demand"})
    spot = PoolDescriptor(**base, capacity="spot", priority=10, taints=(GPU_TAINT, spot_taint),
                          node_labels={LABEL_POOL: "h100", LABEL_CAPACITY: "spot"})
    descs = sorted([spot, on_demand], key=lambda d: -d.priority)
    aff = common.affinity(descs)["nodeAffinity"]
    assert aff["requiredDuringSchedulingIgnoredDuringExecution"] == {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": LABEL_POOL, "operator": "In", "values": ["h100"]}]}]}
    assert aff["preferredDuringSchedulingIgnoredDuringExecution"] == [
        {"weight": 100, "preference": {"matchExpressions": [
            {"key": LABEL_CAPACITY, "operator": "In", "values": ["on-demand"]}]}},
        {"weight": 50, "preference": {"matchExpressions": [
            {"key": LABEL_CAPACITY, "operator": "In", "values": ["spot"]}]}}]
    assert common.tolerations(descs) == [
        {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"},
        {"key": "kubernetes.azure.com/scalesetpriority", "operator": "Equal", "value": "spot",
         "effect": "NoSchedule"}]


# --- errors -------------------------------------------------------------------------------------------------
def bad(model, **extra):
    return config_error(config([{"name": "m", "model": "qwen2.5-7b", **model}], **extra), secrets=SECRETS)


def test_hpa_and_keda_on_one_target_is_an_error():
    assert bad({"replicas": {"min": 1, "max": 2}, "autoscaling": {"hpa": {}, "keda": {}}}) == [
        "llmfleet:models[0].autoscaling: hpa and keda would both scale the same workload (KEDA drives its own "
        "HPA, and two HPAs fight): keep one"]


def test_canary_without_serverless_is_an_error():
    assert bad({"engine": "kserve", "kserve": {"canaryTrafficPercent": 20}}) == [
        "llmfleet:models[0].kserve.canaryTrafficPercent: needs mode Serverless (Knative revisions split the "
        "traffic); Standard mode has no canary rollout"]


def test_keda_with_serverless_is_an_error():
    assert bad({"engine": "kserve", "kserve": {"mode": "Serverless"}, "replicas": {"min": 1, "max": 2},
                "autoscaling": {"keda": {}}}) == [
        "llmfleet:models[0].autoscaling.keda: needs kserve.mode Standard; Serverless scales with Knative"]


def test_extra_args_may_not_repeat_managed_or_removed_flags():
    assert bad({"extraArgs": ["--max_model_len=4096", "-tp", "2", "--swap-space", "4", "--enable-prefix-caching"]}) == [
        "llmfleet:models[0].extraArgs[0]: --max-model-len is set by the program from maxContext; change that key "
        "instead",
        "llmfleet:models[0].extraArgs[1]: -tp is set by the program from tensorParallel / sizing; change that key "
        "instead",
        "llmfleet:models[0].extraArgs[3]: --swap-space is removed from vLLM (the parser rejects it)"]


def test_gated_model_without_hf_token_is_an_error():
    lines = config_error(config([{"name": "m", "model": "llama-3.1-8b"}]), secrets={"kubeconfig": "x"})
    assert lines == ["llmfleet:hfToken: is required: model 'm' downloads gated weights "
                     "(meta-llama/Llama-3.1-8B-Instruct); set it with `pulumi config set --secret llmfleet:hfToken`"]


def test_range_without_autoscaler_and_shared_cache_without_class_are_errors():
    assert bad({"replicas": {"min": 1, "max": 3}, "cache": {"mode": "shared"}}) == [
        "llmfleet:models[0].replicas: max (3) differs from min (1) but no autoscaler is set: add autoscaling.hpa, "
        "keda or kedaRedis, or make max equal min",
        "llmfleet:models[0].cache.storageClass: is required for a shared cache on cloud existing (no default "
        "ReadWriteMany class); or set llmfleet:serving.storageClass"]


def test_int4_needs_a_quantization_method():
    assert bad({"dtype": "int4"}) == [
        "llmfleet:models[0].dtype: int4 weights need quantization (the checkpoint's method): one of awq, "
        "awq_marlin, compressed-tensors, gptq, gptq_marlin, modelopt_fp4, mxfp4"]


# --- the edge stack (no autoscaling, no operators) ----------------------------------------------------------
def test_plain_vllm_model_installs_no_operator():
    p = run_config(config([{"name": "solo", "model": "qwen2.5-7b"}]), secrets={"kubeconfig": "x"})
    assert [r for r in p.of_type("kubernetes:helm.sh/v3:Release") if "serving" in r.name] == []
    d = p.manifest("Deployment", "solo", "llm-serving")
    assert d["spec"]["replicas"] == 1
    assert d["spec"]["template"]["spec"]["containers"][0]["env"] == [{"name": "HF_HOME", "value": "/models"}]
    assert d["spec"]["template"]["spec"]["volumes"][1] == {"name": "model-cache",
                                                           "emptyDir": {"sizeLimit": "27Gi"}}


def test_every_rendered_object_validates(plan):
    from plan.validate import validate_all
    assert validate_all(plan.manifests, "1.34") == {}


def test_critical_models_stay_off_spot_capacity():
    base = dict(name="h100", cloud="aws", node_group="h100", gpu=GPUS["h100-80gb"], gpus_per_node=8,
                instance_type="p5.48xlarge", taints=(GPU_TAINT,))
    descs = [PoolDescriptor(**base, capacity="on-demand", priority=20,
                            node_labels={LABEL_POOL: "h100", LABEL_CAPACITY: "on-demand"}),
             PoolDescriptor(**base, capacity="spot", priority=10,
                            node_labels={LABEL_POOL: "h100", LABEL_CAPACITY: "spot"})]
    spec = spec_of([{"name": "a", "model": "llama-3.1-8b", "priority": "critical"},
                    {"name": "b", "model": "llama-3.1-8b"}])
    critical, standard = spec.models
    assert [d.capacity for d in common.pool_descriptors(critical, descs)] == ["on-demand"]
    assert [d.capacity for d in common.pool_descriptors(standard, descs)] == ["on-demand", "spot"]


def test_a_checkpoint_of_another_width_is_an_error():
    assert bad({"model": "qwen2.5-72b", "quantization": "gptq", "dtype": "int8"}) == [
        "llmfleet:models[0].dtype: the catalog's gptq checkpoint of qwen2.5-72b (Qwen/Qwen2.5-72B-Instruct-GPTQ-Int4) "
        "has 4-bit weights, got 'int8'"]
