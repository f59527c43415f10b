"""RayServeModel: one model as a KubeRay RayService (`ray.io/v1`) running a Ray Serve LLM application on vLLM.

One Serve replica = one GPU worker pod holding tensor-parallel-size GPUs, so Ray Serve's replica bounds and the
worker group's bounds are the model's replicas.min/max. The head schedules no work (`num-cpus: "0"`) and runs
on CPU nodes: it carries no GPU toleration."""
from typing import Optional, Sequence, TypedDict

import pulumi
import pulumi_kubernetes as k8s
import yaml
from pulumi import CustomTimeouts, ResourceOptions

from catalog.versions import RAY_LLM_IMAGE, RAY_VERSION
from components.descriptors import PoolDescriptor
from components.serving import autoscaling as scaling
from components.serving import common as c
from components.serving.hardening import restrict_ray, restricted_container
from spec.models import ModelSpec
from spec.pools import PoolSpec

HEAD_RESOURCES = {"requests": {"cpu": "2", "memory": "8Gi"}, "limits": {"memory": "8Gi"}}
# KubeRay v1.7.0 (ray-operator/controllers/ray/common/pod.go) starts every Ray node with `--metrics-export-port`
# 8080 unless rayStartParams name another, and adds a container port `metrics` for it; stated on our templates so
# the PodMonitor's port is visible in what we render.
METRICS_PORT = {"containerPort": 8080, "name": "metrics"}


def serve_config(model: ModelSpec) -> str:
    """serveConfigV2 (a YAML string): `ray.serve.llm:build_openai_app` with one LLM config, as in KubeRay
    v1.7.0's ray-service.llm-serve.yaml sample. engine_kwargs are vLLM EngineArgs field names."""
    app = {"applications": [{
        "name": model.name,
        "import_path": "ray.serve.llm:build_openai_app",
        "route_prefix": "/",
        "args": {"llm_configs": [{
            "model_loading_config": {"model_id": model.name, "model_source": model.hf_repo},
            # vLLM's engine metrics on Ray's metrics port (ray_vllm_*): the serving dashboards and SLO rules read
            # them. LLMConfig.log_engine_metrics defaulted to False in earlier ray.llm releases; explicit here.
            "log_engine_metrics": True,
            "engine_kwargs": c.engine_kwargs(model),
            "deployment_config": {
                "autoscaling_config": {"min_replicas": model.replicas.min, "max_replicas": model.replicas.max,
                                       # sizing planned the KV cache for this many sequences per replica
                                       "target_ongoing_requests": model.concurrency},
                "max_ongoing_requests": model.concurrency * 2},
        }]},
    }]}
    return yaml.safe_dump(app, sort_keys=False)


def worker_group(model: ModelSpec, pool: PoolSpec, descriptors: Sequence[PoolDescriptor],
                 hf_secret: Optional[str], restricted: bool = False, image: str = RAY_LLM_IMAGE) -> dict:
    tp = model.placement.tensor_parallel
    group = {
        "groupName": "gpu",
        "replicas": max(1, model.replicas.min),
        "minReplicas": model.replicas.min,
        "maxReplicas": model.replicas.max,
        "rayStartParams": {},        # Ray reads the GPU count from the container's nvidia.com/gpu limit
        "template": {
            "metadata": {"labels": c.labels(model, "ray-worker")},
            "spec": {
                "containers": [{
                    "name": "ray-worker",
                    "image": image,
                    "imagePullPolicy": c.IMAGE_PULL_POLICY,
                    "ports": [METRICS_PORT],
                    "env": c.hf_env(hf_secret, optional=not model.gated),
                    "resources": c.resources(model, pool),
                    "volumeMounts": [{"name": "dshm", "mountPath": "/dev/shm"}] + c.hf_mounts(hf_secret),
                    "securityContext": c.container_security(),
                }],
                "volumes": [c.shm_volume(tp)] + c.hf_volumes(hf_secret, optional=not model.gated),
                # Workers never call the API (only the head's autoscaler sidecar does).
                "automountServiceAccountToken": False,
                **c.gpu_pod_scheduling(model, descriptors),
            },
        },
    }
    if restricted:
        group["template"]["spec"] = restrict_ray(group["template"]["spec"])
    return group


def metrics_selector(model: ModelSpec) -> dict:
    """Labels the head and worker pods of this model share (the head lacks the model label the PDB selects on)."""
    return {"app.kubernetes.io/name": model.name, c.LABEL_ENGINE: model.engine}


def head_group(model: ModelSpec, restricted: bool = False, image: str = RAY_LLM_IMAGE) -> dict:
    head_labels = {k: v for k, v in c.labels(model, "ray-head").items() if k != c.LABEL_MODEL}
    autoscaled = model.replicas.max > model.replicas.min
    group = {
        "rayStartParams": {"num-cpus": "0"},
        "template": {
            "metadata": {"labels": head_labels},
            "spec": {
                "containers": [{
                    "name": "ray-head",
                    "image": image,
                    "imagePullPolicy": c.IMAGE_PULL_POLICY,
                    "ports": [{"containerPort": 6379, "name": "gcs"}, {"containerPort": 8265, "name": "dashboard"},
                              {"containerPort": 10001, "name": "client"}, {"containerPort": c.PORT, "name": "serve"},
                              METRICS_PORT],
                    "resources": HEAD_RESOURCES,
                    "securityContext": c.container_security(),
                }],
                "priorityClassName": c.priority_class(model),
                "securityContext": c.pod_security(),
            },
        },
    }
    if not autoscaled:
        # With in-tree autoscaling KubeRay v1.7.0 gives the head a ServiceAccount bound to its own Role
        # (ray-operator controllers/ray/common/rbac.go) and the autoscaler sidecar uses its token; without it,
        # nothing in the head calls the API.
        group["template"]["spec"]["automountServiceAccountToken"] = False
    if restricted:
        group["template"]["spec"] = restrict_ray(group["template"]["spec"])
    return group


class RayServeModelArgs(TypedDict):
    model: ModelSpec
    """The placed model, engine rayserve."""
    pool: PoolSpec
    """The pool it is placed on."""
    descriptors: Sequence[PoolDescriptor]
    """Every capacity group of that pool."""
    namespace: str
    """Serving namespace."""
    hf_secret: Optional[str]
    """Name of the Hugging Face token Secret, if any."""
    depends_on: Sequence[pulumi.Resource]
    """KubeRay operator release, namespace, HF Secret."""
    restricted: bool
    """Run head and workers as the image's non-root user (components/serving/hardening.py); default off."""
    image: str
    """Ray Serve LLM image; optional, default catalog.versions.RAY_LLM_IMAGE (llmfleet:images ray-llm)."""


class RayServeModel(pulumi.ComponentResource):
    ray_service: k8s.apiextensions.CustomResource
    """The RayService."""

    def __init__(self, name: str, args: RayServeModelArgs, opts: Optional[ResourceOptions] = None):
        super().__init__("llmfleet:serving:RayServeModel", name, None, opts)
        m, ns = args["model"], args["namespace"]
        restricted = args.get("restricted", False)
        image = args.get("image") or RAY_LLM_IMAGE
        self.ray_service = k8s.apiextensions.CustomResource(
            f"{name}-rayservice",
            api_version="ray.io/v1",
            kind="RayService",
            # Awaited like the other engines (pulumi-kubernetes awaits no custom resource by default): KubeRay
            # (ray-operator apis/ray/v1 rayservice_types.go) sets condition Ready once Serve has endpoints.
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=m.name, namespace=ns, labels=c.labels(m),
                annotations={"pulumi.com/waitFor": "condition=Ready",
                             "pulumi.com/timeoutSeconds": str(c.timeout_seconds(m))}),
            spec={
                "serveConfigV2": serve_config(m),
                "rayClusterConfig": {
                    "rayVersion": RAY_VERSION,
                    # Ray's autoscaler adds worker pods when Serve asks for replicas beyond the running ones.
                    "enableInTreeAutoscaling": m.replicas.max > m.replicas.min,
                    "headGroupSpec": head_group(m, restricted, image),
                    "workerGroupSpecs": [worker_group(m, args["pool"], args["descriptors"], args["hf_secret"],
                                                      restricted, image)],
                    # KubeRay injects the autoscaler sidecar into the head pod with this context.
                    **({"autoscalerOptions": {"securityContext": restricted_container()}}
                       if restricted and m.replicas.max > m.replicas.min else {}),
                },
            },
            opts=ResourceOptions(parent=self, depends_on=list(args["depends_on"]),
                                 custom_timeouts=CustomTimeouts(create=f"{c.timeout_seconds(m) // 60}m",
                                                                update=f"{c.timeout_seconds(m) // 60}m")))
        scaling.pdb(self, f"{name}-pdb", m, ns)
        # Head and workers: Ray Serve's request and replica metrics and the engine's come from every Ray node.
        k8s.apiextensions.CustomResource(
            f"{name}-podmonitor",
            api_version="monitoring.coreos.com/v1",
            kind="PodMonitor",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=m.name, namespace=ns, labels=c.labels(m)),
            spec={"selector": {"matchLabels": metrics_selector(m)}, "namespaceSelector": {"matchNames": [ns]},
                  "podMetricsEndpoints": [{"port": METRICS_PORT["name"], "path": "/metrics", "interval": "15s"}]},
            opts=ResourceOptions(parent=self, depends_on=[self.ray_service]))
        self.register_outputs({"rayService": m.name})
