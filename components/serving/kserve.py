"""KServeModel: one model as a KServe v0.20 InferenceService on the Hugging Face runtime (vLLM backend), sized
like the plain vLLM server. Standard mode (a Deployment, optional KEDA on the queue) or Serverless (Knative,
optional canary); spec/serving_options.py rejects a canary outside Serverless and KEDA inside it."""
from typing import Optional, Sequence, TypedDict

import pulumi
import pulumi_kubernetes as k8s
from pulumi import CustomTimeouts, ResourceOptions

from components.descriptors import PoolDescriptor
from components.serving import autoscaling as scaling
from components.serving import common as c
from spec.models import ModelSpec
from spec.pools import PoolSpec

# KServe v0.20.0 pkg/constants: annotation `serving.kserve.io/deploymentMode`, values Standard | Knative
# ("Serverless" and "RawDeployment" are the legacy spellings it still normalises); `serving.kserve.io/
# autoscalerClass` hpa | kpa | external | keda | none.
DEPLOYMENT_MODE_ANNOTATION = "serving.kserve.io/deploymentMode"
AUTOSCALER_CLASS_ANNOTATION = "serving.kserve.io/autoscalerClass"
MODE_VALUE = {"Standard": "Standard", "Serverless": "Knative"}
HF_RUNTIME_PORT = 8080          # KServe model server default --http_port


def kserve_args(model: ModelSpec) -> list[str]:
    """The sized flags as the Hugging Face server takes them. Its own parser defines `--max_model_len` (same dest
    as vLLM's `--max-model-len`); the rest are vLLM EngineArgs flags it adds when the vLLM backend is on
    (huggingfaceserver/__main__.py at v0.20.0). `--model_name` comes from the runtime (the service name)."""
    flags = c.engine_flags(model)
    out = []
    for i in range(0, len(flags), 2):
        name = "--max_model_len" if flags[i] == "--max-model-len" else flags[i]
        out.append(f"{name}={flags[i + 1]}")
    return out + list(model.extra_args)


def model_ready_path(model: ModelSpec) -> str:
    """KServe v0.20.0's model server (python/kserve/kserve/protocol/rest): `/` answers as soon as the server is up,
    `/v1/models/<name>` only once the model is ready (503 before); the Hugging Face runtime starts vLLM after the
    server and names the model after the InferenceService (runtime arg `--model_name={{.Name}}`)."""
    return f"/v1/models/{model.name}"


def predictor(model: ModelSpec, pool: PoolSpec, descriptors: Sequence[PoolDescriptor],
              service_account: Optional[str], prometheus_url: str, namespace: str) -> dict:
    probes = c.probes(model, port=HF_RUNTIME_PORT, path=model_ready_path(model), live_path="/")
    spec: dict = {
        "minReplicas": model.replicas.min,
        "maxReplicas": model.replicas.max,
        "labels": c.labels(model),
        # The predictor is a pod spec too: the same placement as every other engine's GPU pods.
        **c.gpu_pod_scheduling(model, descriptors),
        # Neither the server nor the storage initializer calls the API (the controller reads the ServiceAccount's
        # Secrets and injects them), so no token is mounted; KServe copies this PodSpec field to the Deployment.
        "automountServiceAccountToken": False,
        "model": {
            "modelFormat": {"name": "huggingface"},
            "storageUri": f"hf://{model.hf_repo}",
            "args": kserve_args(model),
            # No HF_TOKEN env: the storage initializer downloads the weights and only reads the token from the
            # ServiceAccount's Secret (below); the server loads them from its local copy.
            # Limits are explicit: the runtime's own `limits.cpu: "1"` would otherwise survive the merge.
            "resources": c.resources(model, pool, cpu_limit=True),
            # No container securityContext here: it would replace the runtime's (which adds runAsNonRoot).
            **probes,
        },
    }
    if service_account is not None:
        # kserve v0.20.0 pkg/credentials/service_account_credentials.go: the storage initializer gets HF_TOKEN from
        # a Secret listed on the pod's ServiceAccount (key HF_TOKEN); an env var on kserve-container never reaches it.
        spec["serviceAccountName"] = service_account
    if model.kserve.mode == "Serverless" and model.kserve.canary_traffic_percent is not None:
        spec["canaryTrafficPercent"] = model.kserve.canary_traffic_percent
    if model.autoscaling.kind == "keda":
        # kserve v0.20.0 inference_service_validation.go rejects an External metric without `target.value`; its
        # KEDA reconciler (keda_reconciler.go) copies that value into the Prometheus trigger's `threshold` and sets
        # no metricType, so KEDA's default AverageValue applies: the queue sum is divided by the replicas.
        # `behavior` is the only way to give KServe's ScaledObject our scale-down window (else its 300 s default).
        spec["autoScaling"] = {
            "metrics": [{"type": "External", "external": {
                "metric": {"backend": "prometheus", "serverAddress": prometheus_url,
                           "query": scaling.queue_query(model, namespace)},
                "target": {"type": "Value", "value": str(model.autoscaling.target_queue_depth)}}}],
            "behavior": {"scaleDown": {"stabilizationWindowSeconds": scaling.hpa_window(model)}}}
    return spec


def annotations(model: ModelSpec) -> dict:
    out = {DEPLOYMENT_MODE_ANNOTATION: MODE_VALUE[model.kserve.mode]}
    if model.kserve.mode == "Standard":
        # KServe creates the ScaledObject itself for class keda; `none` keeps it from adding a CPU-based HPA.
        out[AUTOSCALER_CLASS_ANNOTATION] = "keda" if model.autoscaling.kind == "keda" else "none"
    return out


class KServeModelArgs(TypedDict):
    model: ModelSpec
    """The placed model, engine kserve."""
    pool: PoolSpec
    """The pool it is placed on."""
    descriptors: Sequence[PoolDescriptor]
    """Every capacity group of that pool."""
    namespace: str
    """Serving namespace."""
    hf_secret: Optional[str]
    """Name of the Hugging Face token Secret, if any."""
    service_account: Optional[str]
    """ServiceAccount listing that Secret, for KServe's storage initializer; None without a token."""
    prometheus_url: str
    """Prometheus the KEDA trigger queries."""
    depends_on: Sequence[pulumi.Resource]
    """KServe releases (CRDs, controller, runtimes), KEDA when used, namespace, HF Secret."""


class KServeModel(pulumi.ComponentResource):
    inference_service: k8s.apiextensions.CustomResource
    """The InferenceService."""

    def __init__(self, name: str, args: KServeModelArgs, opts: Optional[ResourceOptions] = None):
        super().__init__("llmfleet:serving:KServeModel", name, None, opts)
        m, ns, deps = args["model"], args["namespace"], list(args["depends_on"])
        timeout = c.timeout_seconds(m)
        self.inference_service = k8s.apiextensions.CustomResource(
            f"{name}-isvc",
            api_version="serving.kserve.io/v1beta1",
            kind="InferenceService",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=m.name, namespace=ns, labels=c.labels(m),
                # pulumi-kubernetes awaits no custom resource by default: without waitFor `up` reports success
                # while the predictor still loads (or crash-loops). KServe sets the Ready condition when the
                # predictor serves; the timeout then bounds the wait.
                annotations={**annotations(m), "pulumi.com/waitFor": "condition=Ready",
                             "pulumi.com/timeoutSeconds": str(timeout)}),
            spec={"predictor": predictor(m, args["pool"], args["descriptors"], args.get("service_account"),
                                         args["prometheus_url"], ns)},
            opts=ResourceOptions(parent=self, depends_on=deps,
                                 custom_timeouts=CustomTimeouts(create=f"{timeout // 60}m",
                                                                update=f"{timeout // 60}m")))
        deps_on_isvc = [self.inference_service]
        # KServe labels predictor pods with our labels (predictor.labels), so the PDB selects them in both modes.
        scaling.pdb(self, f"{name}-pdb", m, ns)
        k8s.apiextensions.CustomResource(
            f"{name}-podmonitor",
            api_version="monitoring.coreos.com/v1",
            kind="PodMonitor",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=m.name, namespace=ns, labels=c.labels(m)),
            spec={"selector": {"matchLabels": c.selector(m)}, "namespaceSelector": {"matchNames": [ns]},
                  # The runtime container declares no named port; scrape the model server's port by number.
                  "podMetricsEndpoints": [{"portNumber": HF_RUNTIME_PORT, "path": "/metrics", "interval": "15s"}]},
            opts=ResourceOptions(parent=self, depends_on=deps_on_isvc))
        if m.autoscaling.vpa:
            # Standard mode only (spec): KServe names the predictor Deployment <isvc>-predictor.
            scaling.vpa(self, f"{name}-vpa", m, ns, "Deployment", f"{m.name}-predictor", "Off", deps_on_isvc)
        self.register_outputs({"inferenceService": m.name})
