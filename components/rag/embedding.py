"""EmbeddingService: text-embeddings-inference (TEI) serving one embedding model, with its Service, ServiceMonitor,
PodDisruptionBudget and (min < max) a CPU HPA.

TEI facts (shared/FACTS-wave2.md section 5, TEI v1.9.3): the image's entrypoint is `text-embeddings-router` with
CMD `--json-output` (Dockerfile), it listens on port 80 (image ENV PORT=80), GET /health and /metrics are public
on that port, the OpenAI-compatible route is POST /v1/embeddings, weights are cached under /data
(HUGGINGFACE_HUB_CACHE). The image runs as root, so the namespace is Pod Security `baseline`.
"""
from typing import Optional, Sequence, TypedDict

import pulumi
import pulumi_kubernetes as k8s
from pulumi import ResourceOptions

from catalog.embeddings import TEI_PORT
from components.descriptors import LABEL_POOL, PoolDescriptor, all_tolerations
from components.platform import MANAGED_BY
from components.serving.common import IMAGE_PULL_POLICY, affinity, container_security, pod_security
from spec.platform import PRIORITY_TIERS
from spec.rag import EmbeddingSpec

NAME = "embeddings"
CACHE_GI = 5                  # the catalog's largest model is 1.3 GB of fp32 weights, plus tokenizer files
STARTUP_SECONDS = 600         # download + load on CPU; the startup probe owns this budget


def labels() -> dict:
    return {**MANAGED_BY, "app.kubernetes.io/name": NAME, "app.kubernetes.io/part-of": "llmfleet-rag"}


def selector() -> dict:
    return {"app.kubernetes.io/name": NAME, "app.kubernetes.io/part-of": "llmfleet-rag"}


def service_url(namespace: str) -> str:
    """The in-cluster base URL of the OpenAI-compatible API (clients append /embeddings)."""
    return f"http://{NAME}.{namespace}.svc:{TEI_PORT}/v1"


def placement(e: EmbeddingSpec, descriptors: Sequence[PoolDescriptor]) -> dict:
    """On a GPU pool: that pool's node groups and their taints. Otherwise: off every GPU pool's nodes (the GPU
    taint already keeps untolerating pods away; the affinity also covers untainted GPU pools)."""
    if e.pool is not None:
        mine = [d for d in descriptors if d.name == e.pool]
        return {"affinity": affinity(mine), "tolerations": all_tolerations(mine)}
    if descriptors and all(LABEL_POOL in d.node_labels for d in descriptors):
        return {"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": [{"key": LABEL_POOL, "operator": "DoesNotExist"}]}]}}}}
    return {}


def resources(e: EmbeddingSpec) -> dict:
    mem = f"{e.model.memory_mib}Mi"
    out = {"requests": {"cpu": e.cpu, "memory": mem}, "limits": {"memory": mem}}
    if e.pool is not None:
        out["requests"]["nvidia.com/gpu"] = "1"
        out["limits"]["nvidia.com/gpu"] = "1"
    return out


def container(e: EmbeddingSpec) -> dict:
    health = {"httpGet": {"path": "/health", "port": "http"}}
    return {
        "name": "tei",
        "image": e.image,
        "imagePullPolicy": IMAGE_PULL_POLICY,
        "args": ["--model-id", e.model.hf_repo, "--served-model-name", e.model.key, "--port", str(TEI_PORT),
                 "--json-output"],
        "ports": [{"name": "http", "containerPort": TEI_PORT, "protocol": "TCP"}],
        "resources": resources(e),
        "startupProbe": {**health, "periodSeconds": 10, "timeoutSeconds": 5,
                         "failureThreshold": STARTUP_SECONDS // 10},
        "readinessProbe": {**health, "periodSeconds": 10, "timeoutSeconds": 5, "failureThreshold": 3},
        "livenessProbe": {**health, "periodSeconds": 15, "timeoutSeconds": 10, "failureThreshold": 4},
        "volumeMounts": [{"name": "model-cache", "mountPath": "/data"}],
        "securityContext": container_security(),
    }


def pod_spec(e: EmbeddingSpec, descriptors: Sequence[PoolDescriptor], priority: str) -> dict:
    return {
        **placement(e, descriptors),
        "containers": [container(e)],
        "volumes": [{"name": "model-cache", "emptyDir": {"sizeLimit": f"{CACHE_GI}Gi"}}],
        "priorityClassName": PRIORITY_TIERS[priority].name,
        "securityContext": pod_security(),
        "automountServiceAccountToken": False,     # TEI never calls the Kubernetes API
        "topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": key, "whenUnsatisfiable": "ScheduleAnyway",
                                       "labelSelector": {"matchLabels": selector()}}
                                      for key in ("topology.kubernetes.io/zone", "kubernetes.io/hostname")],
    }


def hpa_spec(e: EmbeddingSpec) -> dict:
    return {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": NAME},
        "minReplicas": e.min_replicas, "maxReplicas": e.max_replicas,
        "metrics": [{"type": "Resource", "resource": {
            "name": "cpu", "target": {"type": "Utilization", "averageUtilization": e.target_cpu_percent}}}],
        # A new TEI pod is ready within a minute on CPU; scale down slowly so bursts of ingestion do not flap.
        "behavior": {"scaleDown": {"stabilizationWindowSeconds": 300,
                                   "policies": [{"type": "Pods", "value": 1, "periodSeconds": 120}]}},
    }


class EmbeddingServiceArgs(TypedDict):
    embedding: EmbeddingSpec
    """Validated `llmfleet:rag.embedding`."""
    namespace: str
    """The RAG namespace (created by RagSystem)."""
    descriptors: Sequence[PoolDescriptor]
    """The cluster's GPU pool descriptors: the GPU pool's groups, or the nodes to stay off."""
    priority: str
    """Priority tier key of spec.platform.PRIORITY_TIERS."""
    depends_on: Sequence[pulumi.Resource]
    """Namespace and the layers providing CRDs (monitoring) and GPUs."""


class EmbeddingService(pulumi.ComponentResource):
    deployment: k8s.apps.v1.Deployment
    service: k8s.core.v1.Service
    url: str
    """OpenAI-compatible base URL (http://embeddings.<ns>.svc:80/v1)."""

    def __init__(self, name: str, args: EmbeddingServiceArgs, opts: Optional[ResourceOptions] = None):
        super().__init__("llmfleet:rag:EmbeddingService", name, None, opts)
        e, ns = args["embedding"], args["namespace"]
        deps = list(args["depends_on"])
        meta = k8s.meta.v1.ObjectMetaArgs(name=NAME, namespace=ns, labels=labels())
        child = ResourceOptions(parent=self, depends_on=deps)
        self.url = service_url(ns)
        self.service = k8s.core.v1.Service(
            f"{name}-service", metadata=meta,
            spec={"type": "ClusterIP", "selector": selector(),
                  "ports": [{"name": "http", "port": TEI_PORT, "targetPort": "http", "protocol": "TCP"}]},
            opts=child)
        spec = {"selector": {"matchLabels": selector()}, "replicas": e.min_replicas,
                "template": {"metadata": {"labels": labels()}, "spec": pod_spec(e, args["descriptors"],
                                                                                args["priority"])}}
        # With an HPA the replica count is its to own (same reasoning as components/serving/vllm.py).
        self.deployment = k8s.apps.v1.Deployment(
            f"{name}-deployment", metadata=meta, spec=spec,
            opts=ResourceOptions(parent=self, depends_on=deps, ignore_changes=["spec.replicas"] if e.autoscaled else []))
        k8s.apiextensions.CustomResource(
            f"{name}-servicemonitor", api_version="monitoring.coreos.com/v1", kind="ServiceMonitor", metadata=meta,
            spec={"selector": {"matchLabels": selector()}, "namespaceSelector": {"matchNames": [ns]},
                  "endpoints": [{"port": "http", "path": "/metrics", "interval": "15s"}]},
            opts=child)
        # maxUnavailable 1: a drain moves one replica at a time and never blocks (unlike minAvailable 1 on one pod).
        k8s.policy.v1.PodDisruptionBudget(
            f"{name}-pdb", metadata=k8s.meta.v1.ObjectMetaArgs(name=f"{NAME}-pdb", namespace=ns, labels=labels()),
            spec={"maxUnavailable": 1, "selector": {"matchLabels": selector()}}, opts=child)
        if e.autoscaled:
            k8s.autoscaling.v2.HorizontalPodAutoscaler(
                f"{name}-hpa", metadata=k8s.meta.v1.ObjectMetaArgs(name=f"{NAME}-hpa", namespace=ns, labels=labels()),
                spec=hpa_spec(e), opts=ResourceOptions(parent=self, depends_on=[self.deployment]))
        self.register_outputs({"url": self.url, "model": e.model.hf_repo, "image": e.image})
