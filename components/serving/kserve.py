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


def predictor(model: ModelSpec, pool: PoolSpec, descriptors: Sequence[PoolDescriptor], hf_secret: Optional[str],
              prometheus_url: str, namespace: str) -> dict:
    probes = c.probes(model, port=HF_RUNTIME_PORT, path="/")    # `/` is the server's liveness route
    spec: dict = {
        "minReplicas": model.replicas.min,
        "maxReplicas": model.replicas.max,
        "labels": c.labels(model),
        # The predictor is a pod spec too: the same placement as every other engine's GPU pods.
        **c.gpu_pod_scheduling(model, descriptors),
        "model": {
            "modelFormat": {"name": "huggingface"},
            "storageUri": f"hf://{model.hf_repo}",
            "args": kserve_args(model),
            "env": c.hf_env(hf_secret, optional=not model.gated),
            "resources": c.resources(model, pool),
            # No container securityContext here: it would replace the runtime's (which adds runAsNonRoot).
            **probes,
        },
    }
    if model.kserve.mode == "Serverless" and model.kserve.canary_traffic_percent is not None:
        spec["canaryTrafficPercent"] = model.kserve.canary_traffic_percent
    if model.autoscaling.kind == "keda":
        spec["autoScaling"] = {"metrics": [{"type": "External", "external": {
            "metric": {"backend": "prometheus", "serverAddress": prometheus_url,
                       "query": scaling.queue_query(model, namespace)},
            "target": {"type": "AverageValue", "averageValue": str(model.autoscaling.target_queue_depth)}}}]}
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
                annotations={**annotations(m), "pulumi.com/timeoutSeconds": str(timeout)}),
            spec={"predictor": predictor(m, args["pool"], args["descriptors"], args["hf_secret"],
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
