"""Serving decisions the schemas accept in any form, as the shipped stacks render them (components/serving/):
Ray Serve's application config (a YAML string no CRD looks into), the Ray head's ports and size, and the
autoscalers' polling, scale-up and VPA policies. tests/test_serving.py covers placement, sizing and wiring."""
import pytest
import yaml

from components.serving.autoscaling import KEDA_FALLBACK_FAILURES, KEDA_POLLING_SECONDS
from tests.harness import run_stack


@pytest.fixture(scope="module")
def azure():
    return run_stack("azure-prod")          # a Ray Serve model (llama-70b) and a KEDA-scaled vLLM model


@pytest.fixture(scope="module")
def dev():
    return run_stack("dev")                 # an HPA through prometheus-adapter and VPAs


def test_ray_serve_application_serves_the_model_under_its_name(azure):
    model = next(m for m in azure.spec.models if m.name == "llama-70b")
    rs = azure.manifest("RayService", "llama-70b", "llm-serving")
    (app,) = yaml.safe_load(rs["spec"]["serveConfigV2"])["applications"]
    # The OpenAI app at the root of the serve port, under the model's name (Ray Serve LLM's build_openai_app):
    # clients and the gateway ask for `model: llama-70b`, the weights come from the Hugging Face repo.
    assert (app["name"], app["import_path"], app["route_prefix"]) == (
        "llama-70b", "ray.serve.llm:build_openai_app", "/")
    (llm,) = app["args"]["llm_configs"]
    assert llm["model_loading_config"] == {"model_id": "llama-70b", "model_source": model.hf_repo}
    # Engine metrics (ray_vllm_*) feed the dashboards and SLO rules; earlier ray.llm releases defaulted to off.
    assert llm["log_engine_metrics"] is True
    # A replica is sized for `concurrency` sequences (the KV cache plan); Serve may queue as many again on it
    # before it routes elsewhere, and scales on the sized number.
    assert llm["deployment_config"] == {
        "autoscaling_config": {"min_replicas": model.replicas.min, "max_replicas": model.replicas.max,
                               "target_ongoing_requests": model.concurrency},
        "max_ongoing_requests": 2 * model.concurrency}
    assert model.concurrency == 32


def test_ray_head_runs_no_work_and_exposes_ray_ports(azure):
    cluster = azure.manifest("RayService", "llama-70b", "llm-serving")["spec"]["rayClusterConfig"]
    # llama-70b scales 1..2 replicas: Ray's in-tree autoscaler adds worker pods for Serve.
    assert cluster["enableInTreeAutoscaling"] is True
    head = cluster["headGroupSpec"]["template"]["spec"]
    (ctr,) = head["containers"]
    # Ray's fixed ports: GCS 6379, dashboard 8265, client 10001; Serve's HTTP proxy 8000; metrics 8080 (KubeRay).
    assert ctr["ports"] == [{"containerPort": 6379, "name": "gcs"}, {"containerPort": 8265, "name": "dashboard"},
                            {"containerPort": 10001, "name": "client"}, {"containerPort": 8000, "name": "serve"},
                            {"containerPort": 8080, "name": "metrics"}]
    assert ctr["name"] == "ray-head"
    # The head schedules no work (num-cpus 0) but runs GCS and the Serve controller: 2 CPU, 8Gi, memory capped.
    assert ctr["resources"] == {"requests": {"cpu": "2", "memory": "8Gi"}, "limits": {"memory": "8Gi"}}
    # Autoscaled: the head's autoscaler sidecar calls the API with the ServiceAccount token KubeRay mounts.
    assert "automountServiceAccountToken" not in head
    (worker,) = cluster["workerGroupSpecs"]
    assert worker["groupName"] == "gpu" and worker["rayStartParams"] == {}
    assert worker["template"]["spec"]["automountServiceAccountToken"] is False
    assert worker["template"]["spec"]["containers"][0]["name"] == "ray-worker"
    pm = azure.manifest("PodMonitor", "llama-70b", "llm-serving")
    assert pm["spec"]["namespaceSelector"] == {"matchNames": ["llm-serving"]}
    assert pm["spec"]["selector"]["matchLabels"] == {"app.kubernetes.io/name": "llama-70b",
                                                     "llmfleet.io/engine": "rayserve"}


def test_keda_polls_every_15s_and_holds_size_when_metrics_fail(azure):
    so = azure.manifest("ScaledObject", "llama-8b-scaler", "llm-serving")["spec"]
    # KEDA's default polling interval is 30s; a queue builds faster than that under a burst.
    assert so["pollingInterval"] == KEDA_POLLING_SECONDS == 15
    assert so["fallback"]["failureThreshold"] == KEDA_FALLBACK_FAILURES == 3
    assert so["advanced"]["horizontalPodAutoscalerConfig"]["name"] == "llama-8b-keda-hpa"
    down = so["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]["scaleDown"]
    # One replica at a time, at most every 5 minutes: each one given back costs a full model load to get back.
    assert down["policies"] == [{"type": "Pods", "value": 1, "periodSeconds": 300}]
    assert so["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "llama-8b"}


def test_hpa_adds_one_pod_a_minute_at_once_and_vpa_only_recommends_on_gpu_pods(dev):
    hpa = dev.manifest("HorizontalPodAutoscaler", "llama-8b-hpa", "llm-serving")["spec"]
    # Scale up without a stabilisation window, one pod per minute (a new replica takes minutes to load anyway).
    assert hpa["behavior"]["scaleUp"] == {"stabilizationWindowSeconds": 0,
                                          "policies": [{"type": "Pods", "value": 1, "periodSeconds": 60}]}
    assert hpa["behavior"]["scaleDown"]["policies"] == [{"type": "Pods", "value": 1, "periodSeconds": 300}]
    assert hpa["metrics"][0]["type"] == "Pods"
    assert hpa["metrics"][0]["pods"]["target"]["type"] == "AverageValue"
    assert hpa["scaleTargetRef"]["apiVersion"] == "apps/v1"
    policy = {"containerPolicies": [{"containerName": "*", "controlledResources": ["cpu", "memory"]}]}
    model = dev.manifest("VerticalPodAutoscaler", "llama-8b-vpa", "llm-serving")["spec"]
    assert model["updatePolicy"] == {"updateMode": "Off"} and model["resourcePolicy"] == policy
    adapter = dev.manifest("VerticalPodAutoscaler", "prometheus-adapter-vpa")["spec"]
    # A CPU-only controller restarts in seconds: its recommendations are applied (Recreate), one replica kept.
    assert adapter["updatePolicy"] == {"updateMode": "Recreate", "minReplicas": 1}
    assert adapter["resourcePolicy"] == policy
    assert adapter["targetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "prometheus-adapter"}


def releases(plan) -> dict:
    return {r.inputs["name"]: r.inputs for r in plan.of_type("kubernetes:helm.sh/v3:Release")}


def test_prometheus_adapter_queries_the_stacks_prometheus_and_exposes_one_rule(dev):
    r = releases(dev)["prometheus-adapter"]
    # Helm waits 10 minutes for a controller to become ready.
    assert r["timeout"] == 600
    v = r["values"]
    # The chart templates `url` and `port` separately: the URL without its port, the path without a slash.
    assert v["prometheus"] == {"url": "http://kube-prometheus-stack-prometheus.monitoring.svc", "port": 9090,
                               "path": ""}
    (rule,) = v["rules"]["custom"]
    # The series' namespace and pod labels map to those resources, so the HPA's Pods metric finds each pod's value.
    assert rule["resources"] == {"overrides": {"namespace": {"resource": "namespace"}, "pod": {"resource": "pod"}}}
    assert rule["metricsQuery"] == "sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)"
    assert v["resources"] == {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "512Mi"}}
    # The VPA that resizes it targets the Deployment the chart names after fullnameOverride.
    assert v["fullnameOverride"] == "prometheus-adapter"
    # dev (EKS) serves no metrics.k8s.io of its own: the VPA chart brings metrics-server.
    assert releases(dev)["vpa"]["values"] == {"metrics-server": {"enabled": True}}


def test_keda_installs_its_crds_and_kuberay_keeps_its_deployment_name(azure):
    rel = releases(azure)
    assert rel["keda"]["values"] == {"crds": {"install": True}}
    assert rel["kuberay-operator"]["values"] == {"fullnameOverride": "kuberay-operator"}
    assert rel["keda"]["timeout"] == rel["kuberay-operator"]["timeout"] == 600


def test_kserve_runtime_gets_shared_memory_for_tensor_parallelism():
    gcp = run_stack("gcp-prod")
    v = releases(gcp)["kserve-runtime-configs"]["values"]
    tp = max(m.placement.tensor_parallel for m in gcp.spec.models if m.engine == "kserve")
    from components.serving.common import shm_size_gi
    assert v == {"kserve": {"servingruntime": {"enabled": True, "huggingfaceserver": {
        "devShm": {"enabled": True, "sizeLimit": f"{shm_size_gi(tp)}Gi"}}}}}
    assert f"{shm_size_gi(tp)}Gi" == "2Gi"


def test_shared_memory_is_2gi_per_gpu_up_to_16gi():
    from components.serving.common import shm_size_gi
    # NCCL and vLLM's workers exchange tensors through /dev/shm: 2 GiB per tensor-parallel GPU, capped at 16 GiB.
    assert [shm_size_gi(tp) for tp in (1, 2, 4, 8, 16)] == [2, 4, 8, 16, 16]


def test_a_pinned_weights_revision_reaches_the_server():
    """`models[].revision` (a branch, tag or commit of the weights) is passed to vLLM as --revision, so the server
    downloads exactly that revision; without it vLLM takes the repository's main branch."""
    import json
    from plan.runtime import ROOT, run_program
    from plan.stackfile import load_stack_config
    from tests.harness import Plan
    project, config, secret_keys = load_stack_config(ROOT, "edge")
    models = json.loads(config["llmfleet:models"])
    models[0]["revision"] = "0123456789abcdef0123456789abcdef01234567"
    plan = Plan(run_program(project, "edge", {**config, "llmfleet:models": json.dumps(models)}, secret_keys))
    args = plan.manifest("StatefulSet", models[0]["name"], "llm-serving")["spec"]["template"]["spec"]["containers"][0][
        "args"]
    assert args[args.index("--revision") + 1] == "0123456789abcdef0123456789abcdef01234567"
    unpinned = run_stack("edge").manifest("StatefulSet", models[0]["name"], "llm-serving")
    assert "--revision" not in unpinned["spec"]["template"]["spec"]["containers"][0]["args"]


def test_vllm_statefulset_starts_replicas_together_and_drains_gracefully():
    edge = run_stack("edge")                  # qwen-7b with a cache volume per replica: a StatefulSet
    s = edge.manifest("StatefulSet", "qwen-7b", "llm-serving")["spec"]
    # Parallel: replicas start (and load their weights) together instead of one after the other; rolling updates.
    assert (s["podManagementPolicy"], s["updateStrategy"], s["serviceName"]) == (
        "Parallel", {"type": "RollingUpdate"}, "qwen-7b")
    (claim,) = s["volumeClaimTemplates"]
    assert claim["metadata"]["name"] == "model-cache" and claim["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert claim["metadata"]["labels"]["app.kubernetes.io/component"] == "model-cache"
    pod = s["template"]["spec"]
    (ctr,) = pod["containers"]
    assert ctr["command"] == ["vllm", "serve"] and ctr["name"] == "vllm"
    # The endpoints controllers drop the pod (10s) before vLLM gets SIGTERM; in-flight generations get 120s.
    assert ctr["lifecycle"] == {"preStop": {"exec": {"command": ["sleep", "10"]}}}
    assert pod["terminationGracePeriodSeconds"] == 120
    # No Service environment variables (a Service named like a vLLM setting would set VLLM_PORT); no API token.
    assert pod["enableServiceLinks"] is False and pod["automountServiceAccountToken"] is False
    assert {"name": "model-cache", "mountPath": "/models"} in ctr["volumeMounts"]
    assert {"name": "HF_HOME", "value": "/models"} in ctr["env"]


def test_restricted_vllm_and_ray_pods_run_as_their_image_users():
    from tests.harness import run_config
    from tests.test_serving import SECRETS, config
    p = run_config({**config(), "security": {"restrictedPods": True}}, secrets=SECRETS)
    vllm = next(m for m in p.manifests if m["kind"] in ("Deployment", "StatefulSet")
                and m["metadata"]["namespace"] == "llm-serving")["spec"]["template"]["spec"]
    # The image's `vllm` user (UID 2000); fsGroup makes the cache volume and emptyDirs writable, and is applied
    # only when the volume's root does not match already (a large cache is not re-chowned on every start).
    assert {k: vllm["securityContext"][k] for k in ("runAsNonRoot", "runAsUser", "runAsGroup", "fsGroup",
                                                      "fsGroupChangePolicy")} == {
        "runAsNonRoot": True, "runAsUser": 2000, "runAsGroup": 2000, "fsGroup": 2000,
        "fsGroupChangePolicy": "OnRootMismatch"}
    vols = {v["name"]: v for v in vllm["volumes"]}
    assert vols["tmp"] == {"name": "tmp", "emptyDir": {"sizeLimit": "4Gi"}}
    assert vols["home"] == {"name": "home", "emptyDir": {"sizeLimit": "8Gi"}}
    ctr = vllm["containers"][0]
    assert ctr["securityContext"] == {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]},
                                      "runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"},
                                      "readOnlyRootFilesystem": True}
    # torch resolves the user name at import: USER and LOGNAME as well as HOME.
    env = {e["name"]: e.get("value") for e in ctr["env"]}
    assert (env["HOME"], env["USER"], env["LOGNAME"]) == ("/home/vllm", "vllm", "vllm")
    # Ray's images run as `ray` (UID 1000, GID 100); the root filesystem stays writable for Ray's session files.
    ray = next(m for m in p.manifests if m["kind"] == "RayService")["spec"]["rayClusterConfig"]
    head = ray["headGroupSpec"]["template"]["spec"]
    assert (head["securityContext"]["runAsUser"], head["securityContext"]["runAsGroup"],
            head["securityContext"]["fsGroup"]) == (1000, 100, 100)
    assert "readOnlyRootFilesystem" not in head["containers"][0]["securityContext"]
