"""VectorStore: Qdrant from its pinned chart (qdrant-1.19.0), its API key from a generated Secret, and a Job that
creates the RAG collection with the embedding model's dimension.

The API key (shared/FACTS-wave2.md section 6): the chart's `apiKey.valueFrom` form reads the Secret with Helm
`lookup`, which is empty wherever the chart is rendered client-side, so the key is passed as the documented
environment variable QDRANT__SERVICE__API_KEY from our own Secret instead, and the chart's ServiceMonitor gets the
same Secret as its Bearer credentials. The key is a pulumi_random RandomPassword: its `result` is a secret output,
kept encrypted in the state and never printed.
"""
from typing import Optional, Sequence, TypedDict

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random
from pulumi import ResourceOptions

from catalog.embeddings import EmbeddingModel
from catalog.versions import RAG_JOB_IMAGE
from components.descriptors import LABEL_POOL, PoolDescriptor
from components.helm import chart_release
from components.platform import MANAGED_BY
from components.rag.collection import SCRIPT
from components.serving.common import IMAGE_PULL_POLICY, container_security, pod_security
from spec.platform import PRIORITY_TIERS
from spec.rag import QDRANT_RELEASE, VectorStoreSpec

API_KEY_SECRET = "qdrant-api-key"
API_KEY_KEY = "api-key"
HTTP_PORT = 6333
CPU_REQUEST = "500m"
JOB_SECRET_MOUNT = "/var/run/secrets/qdrant"


def url(namespace: str) -> str:
    return f"http://{QDRANT_RELEASE}.{namespace}.svc:{HTTP_PORT}"


def off_gpu_nodes(descriptors: Sequence[PoolDescriptor]) -> dict:
    if descriptors and all(LABEL_POOL in d.node_labels for d in descriptors):
        return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": [{"key": LABEL_POOL, "operator": "DoesNotExist"}]}]}}}
    return {}


def qdrant_values(v: VectorStoreSpec, descriptors: Sequence[PoolDescriptor], priority: str) -> dict:
    mem = f"{v.memory_mib}Mi"
    persistence = {"size": v.storage_size, **({"storageClassName": v.storage_class} if v.storage_class else {})}
    selector = {"app.kubernetes.io/name": "qdrant", "app.kubernetes.io/instance": QDRANT_RELEASE}
    return {
        "fullnameOverride": QDRANT_RELEASE,
        "replicaCount": v.replicas,
        "config": {"cluster": {"enabled": v.cluster}},
        "env": [{"name": "QDRANT__SERVICE__API_KEY",
                 "valueFrom": {"secretKeyRef": {"name": API_KEY_SECRET, "key": API_KEY_KEY}}}],
        "persistence": persistence,
        # Snapshots (and snapshot shard transfers between nodes) on their own volume, as the chart recommends.
        "snapshotPersistence": {"enabled": True, **persistence},
        "resources": {"requests": {"cpu": CPU_REQUEST, "memory": mem}, "limits": {"memory": mem}},
        "priorityClassName": PRIORITY_TIERS[priority].name,
        "podDisruptionBudget": {"enabled": v.cluster, "maxUnavailable": 1},
        "affinity": off_gpu_nodes(descriptors),
        "topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": key, "whenUnsatisfiable": "ScheduleAnyway",
                                       "labelSelector": {"matchLabels": selector}}
                                      for key in ("topology.kubernetes.io/zone", "kubernetes.io/hostname")],
        "metrics": {"serviceMonitor": {"enabled": True, "authorization": {
            "type": "Bearer", "credentials": {"name": API_KEY_SECRET, "key": API_KEY_KEY}}}},
    }


def job_env(v: VectorStoreSpec, model: EmbeddingModel, namespace: str) -> list[dict]:
    return [{"name": "QDRANT_URL", "value": url(namespace)},
            {"name": "COLLECTION", "value": v.collection},
            {"name": "DIMENSIONS", "value": str(model.dimensions)},
            {"name": "DISTANCE", "value": model.distance},
            {"name": "SHARDS", "value": str(v.shards)},
            {"name": "REPLICATION_FACTOR", "value": str(v.replication_factor)},
            # The key as a file (a secret volume), not an env var: it stays out of the process environment.
            {"name": "QDRANT_API_KEY_FILE", "value": f"{JOB_SECRET_MOUNT}/{API_KEY_KEY}"}]


class VectorStoreArgs(TypedDict):
    vector_store: VectorStoreSpec
    """Validated `llmfleet:rag.vectorStore`."""
    model: EmbeddingModel
    """The embedding model: the collection's dimension and distance."""
    namespace: str
    """The RAG namespace (created by RagSystem)."""
    descriptors: Sequence[PoolDescriptor]
    """GPU pool descriptors, to keep Qdrant off GPU nodes."""
    priority: str
    """Priority tier key of spec.platform.PRIORITY_TIERS."""
    depends_on: Sequence[pulumi.Resource]
    """Namespace, monitoring CRDs (the chart's ServiceMonitor) and the cluster's storage."""
    job_image: str
    """Image of the collection Job; optional, default catalog.versions.RAG_JOB_IMAGE (llmfleet:images rag-job)."""


class VectorStore(pulumi.ComponentResource):
    release: k8s.helm.v3.Release
    url: str
    """In-cluster REST URL (http://qdrant.<ns>.svc:6333)."""
    values: dict
    """The chart values (plain data)."""

    def __init__(self, name: str, args: VectorStoreArgs, opts: Optional[ResourceOptions] = None):
        super().__init__("llmfleet:rag:VectorStore", name, None, opts)
        v, ns, model = args["vector_store"], args["namespace"], args["model"]
        deps = list(args["depends_on"])
        self.url = url(ns)
        key = random.RandomPassword(f"{name}-api-key", length=48, special=False,
                                    opts=ResourceOptions(parent=self))
        secret = k8s.core.v1.Secret(
            f"{name}-api-key-secret",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=API_KEY_SECRET, namespace=ns, labels=MANAGED_BY),
            string_data={API_KEY_KEY: key.result},
            opts=ResourceOptions(parent=self, depends_on=deps))
        self.values = qdrant_values(v, args["descriptors"], args["priority"])
        self.release = chart_release(f"{name}-qdrant", "qdrant", ns, self.values, parent=self,
                                     depends_on=[*deps, secret], release_name=QDRANT_RELEASE)
        script = k8s.core.v1.ConfigMap(
            f"{name}-collection-script",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="qdrant-collection-script", namespace=ns, labels=MANAGED_BY),
            data={"collection.py": SCRIPT},
            opts=ResourceOptions(parent=self, depends_on=deps))
        k8s.batch.v1.Job(
            f"{name}-collection",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=f"qdrant-collection-{v.collection}", namespace=ns,
                                                labels=MANAGED_BY),
            spec={"backoffLimit": 3, "template": {"metadata": {"labels": MANAGED_BY}, "spec": {
                "restartPolicy": "Never",
                "affinity": off_gpu_nodes(args["descriptors"]),
                "securityContext": {**pod_security(), "runAsNonRoot": True, "runAsUser": 65534},
                "automountServiceAccountToken": False,     # the script calls Qdrant only
                "containers": [{
                    "name": "collection", "image": args.get("job_image") or RAG_JOB_IMAGE,
                    "imagePullPolicy": IMAGE_PULL_POLICY,
                    "command": ["python", "/script/collection.py"],
                    "env": job_env(v, model, ns),
                    "resources": {"requests": {"cpu": "50m", "memory": "64Mi"},
                                  # A one-shot HTTP client: a CPU cap costs it nothing.
                                  "limits": {"cpu": "500m", "memory": "128Mi"}},
                    "volumeMounts": [{"name": "script", "mountPath": "/script", "readOnly": True},
                                     {"name": "api-key", "mountPath": JOB_SECRET_MOUNT, "readOnly": True}],
                    # The script writes nothing (Python skips its bytecode cache on a read-only file system).
                    "securityContext": {**container_security(), "readOnlyRootFilesystem": True}}],
                "volumes": [{"name": "script", "configMap": {"name": "qdrant-collection-script"}},
                            {"name": "api-key", "secret": {"secretName": API_KEY_SECRET,
                                                           "items": [{"key": API_KEY_KEY, "path": API_KEY_KEY}]}}]}}},
            # A Job's template is immutable: a changed collection or model replaces it (delete first, same name).
            opts=ResourceOptions(parent=self, depends_on=[self.release, script], delete_before_replace=True))
        self.register_outputs({"url": self.url, "collection": v.collection, "dimensions": model.dimensions})
