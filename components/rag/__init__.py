"""RagSystem (`llmfleet:rag`, docs/rag.md): its own namespace, the embedding service (TEI), the vector store
(Qdrant) and the wiring to one of the stack's vLLM models. The parts hand each other only in-cluster URLs, the
API key Secret and the collection name; `urls` lists them for the stack outputs and the docs' checks.
"""
from typing import Optional, Sequence, TypedDict

import pulumi
import pulumi_kubernetes as k8s
from pulumi import ResourceOptions

from components.descriptors import PoolDescriptor
from components.platform import MANAGED_BY, namespace_metadata
from components.rag.dashboard import rag_dashboard_json
from components.rag.embedding import EmbeddingService
from components.rag.frontend import FrontEnd
from components.rag.vectorstore import API_KEY_SECRET, VectorStore
from components.serving.common import PORT as LLM_PORT

RAG_LEVEL_WHY = "the text-embeddings-inference image runs as root (no USER in its Dockerfile), which restricted forbids"
from spec.platform import MONITORING_NAMESPACE
from spec.rag import RagSpec

PRIORITY = "standard"


def llm_url(model_name: str, serving_namespace: str) -> str:
    """The vLLM model's OpenAI-compatible base URL (components/serving/vllm.py: Service <model name>, port 8000)."""
    return f"http://{model_name}.{serving_namespace}.svc:{LLM_PORT}/v1"


class RagSystemArgs(TypedDict):
    rag: RagSpec
    """Validated `llmfleet:rag`."""
    serving_namespace: str
    """Where the LLM's Service is (spec.serving.namespace)."""
    descriptors: Sequence[PoolDescriptor]
    """The cluster's GPU pool descriptors."""
    kubernetes_version: str
    """Cluster minor, for the namespace's Pod Security version labels."""
    depends_on: Sequence[pulumi.Resource]
    """Layers that must exist first: monitoring CRDs, NVIDIA device plugin, the cluster's storage classes."""
    job_image: str
    """Image of the collection Job (llmfleet:images rag-job); optional, default the catalog's."""


class RagSystem(pulumi.ComponentResource):
    urls: dict
    """Part -> in-cluster URL (llm, embeddings, qdrant)."""

    def __init__(self, name: str, args: RagSystemArgs, opts: Optional[ResourceOptions] = None):
        super().__init__("llmfleet:rag:RagSystem", name, None, opts)
        r, version = args["rag"], args["kubernetes_version"]
        namespace = k8s.core.v1.Namespace(
            f"{name}-ns", metadata=namespace_metadata(r.namespace, "baseline", version, RAG_LEVEL_WHY),
            opts=ResourceOptions(parent=self))
        deps = [namespace, *args["depends_on"]]
        self.embedding = EmbeddingService(f"{name}-embedding", {
            "embedding": r.embedding, "namespace": r.namespace, "descriptors": args["descriptors"],
            "priority": PRIORITY, "depends_on": deps}, opts=ResourceOptions(parent=self))
        self.vector_store = VectorStore(f"{name}-vectorstore", {
            "vector_store": r.vector_store, "model": r.embedding.model, "namespace": r.namespace,
            "descriptors": args["descriptors"], "priority": PRIORITY, "depends_on": deps,
            **({"job_image": args["job_image"]} if args.get("job_image") else {})},
            opts=ResourceOptions(parent=self))
        # Grafana's sidecar loads dashboards from every namespace; this one sits with the others in monitoring.
        k8s.core.v1.ConfigMap(
            f"{name}-dashboard", metadata=k8s.meta.v1.ObjectMetaArgs(
                name="llmfleet-dashboard-rag", namespace=MONITORING_NAMESPACE,
                labels={**MANAGED_BY, "grafana_dashboard": "1"}),
            data={"llmfleet-rag.json": rag_dashboard_json(r.namespace)}, opts=ResourceOptions(parent=self))
        self.urls = {"llm": llm_url(r.llm, args["serving_namespace"]), "embeddings": self.embedding.url,
                     "qdrant": self.vector_store.url}
        self.front_end = None
        if r.front_end is not None:
            self.front_end = FrontEnd(f"{name}-frontend", {
                "front_end": r.front_end, "namespace": r.namespace, "llm_url": self.urls["llm"],
                "embeddings_url": self.embedding.url, "qdrant_url": self.vector_store.url,
                "model": r.embedding.model, "descriptors": args["descriptors"], "priority": PRIORITY,
                "depends_on": [*deps, self.vector_store.release, self.embedding.service]},
                opts=ResourceOptions(parent=self))
            self.urls["frontEnd"] = f"http://open-webui.{r.namespace}.svc:80"
        self.register_outputs({"urls": self.urls, "collection": r.vector_store.collection,
                               "apiKeySecret": f"{r.namespace}/{API_KEY_SECRET}"})


def rag_system(spec, cluster, after: Sequence[pulumi.Resource], depends_on: Sequence[pulumi.Resource]):
    """The stack's RagSystem when `llmfleet:rag` is set (stacks/compose.py), with its URLs as the `rag` output."""
    if spec.rag is None:
        return None
    rag = RagSystem(f"{spec.cluster.name}-rag", {
        "rag": spec.rag, "serving_namespace": spec.serving.namespace, "descriptors": cluster.pools,
        "kubernetes_version": spec.cluster.kubernetes_version, "depends_on": list(depends_on),
        "job_image": spec.images.get("rag-job")},
        opts=ResourceOptions(providers={"kubernetes": cluster.provider}, depends_on=list(after)))
    pulumi.export("rag", {**rag.urls, "collection": spec.rag.vector_store.collection})
    if rag.front_end is not None:
        # Open WebUI's admin account (components/rag/frontend.py): the password only as a secret output.
        pulumi.export("openWebuiAdmin", {"email": rag.front_end.admin_email,
                                         "password": pulumi.Output.secret(rag.front_end.admin_password)})
    return rag
