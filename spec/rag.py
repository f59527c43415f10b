"""The RAG system (`llmfleet:rag`): an embedding service (text-embeddings-inference), a vector store (Qdrant)
and one of the stack's served models as the LLM. Optional: absent = no RAG system.

Example stack config:
    llmfleet:rag:
      llm: llama-8b                      # a model of llmfleet:models (vLLM engine)
      embedding:
        model: bge-base-en-v1.5          # catalog/embeddings.py
        replicas: {min: 2, max: 6}       # min < max: an HPA on CPU utilisation
        targetCpuPercent: 70
        cpu: "2"                         # CPU request per replica (CPU image)
        pool: l4                         # optional: a GPU pool; the image then matches its GPU
        image: ghcr.io/...:89-1.9        # optional: must match the pool's GPU (or be the CPU image off a pool)
      vectorStore:
        replicas: 3                      # 1, or >= 3 (cluster mode; Raft needs a majority); default 3 in prod, else 1
        vectors: 2000000                 # expected vector count: sizes memory and disk
        collection: documents
        storageClass: premium-rwo        # optional: default = the cluster's default StorageClass
        storageSize: 50Gi                # optional: default derived from vectors x dimensions
      frontEnd:                          # Open WebUI; on by default outside production
        enabled: true
        storageSize: 10Gi
        storageClass: premium-rwo        # optional

The TLS endpoint is the stack's Gateway (`llmfleet:gateway`, docs/gateway.md): it serves the front end at `/` and
the models at `/v1`; without it the front end is in-cluster only.
"""
import math
from dataclasses import dataclass
from typing import Optional, Sequence

from catalog.embeddings import (EMBEDDING_MODELS, TEI_ALL_ARCH_TAG, TEI_GPU_TAGS, TEI_REPOSITORY, EmbeddingModel,
                                tei_image)
from spec.cluster import METRICS_API_BUILTIN
from spec.environment import is_production
from spec.platform import QUANTITY, QUANTITY_HINT
from spec.reader import DNS_LABEL, DNS_LABEL_HINT, Obj

RAG_NAMESPACE = "rag-system"
QDRANT_RELEASE = "qdrant"
# Qdrant's capacity planning rule of thumb (qdrant.tech/documentation/guides/capacity-planning): memory =
# vectors x dimensions x 4 bytes x 1.5 (index and payload overhead). Replicated shards double it per copy.
QDRANT_MEMORY_FACTOR = 1.5
QDRANT_BASE_MIB = 512
REPLICATION_FACTOR = 2        # cluster mode: every shard on two nodes, so one node can be drained


@dataclass(frozen=True)
class EmbeddingSpec:
    model: EmbeddingModel
    image: str
    min_replicas: int
    max_replicas: int
    target_cpu_percent: int
    cpu: str
    pool: Optional[str] = None        # GPU pool name; None = CPU nodes

    @property
    def autoscaled(self) -> bool:
        return self.max_replicas > self.min_replicas


@dataclass(frozen=True)
class VectorStoreSpec:
    replicas: int
    vectors: int
    collection: str
    storage_class: Optional[str]
    storage_size: str
    memory_mib: int                   # per node

    @property
    def cluster(self) -> bool:
        return self.replicas > 1

    @property
    def shards(self) -> int:
        return self.replicas

    @property
    def replication_factor(self) -> int:
        return REPLICATION_FACTOR if self.cluster else 1


@dataclass(frozen=True)
class FrontEndSpec:
    storage_size: str = "10Gi"
    storage_class: Optional[str] = None


@dataclass(frozen=True)
class RagSpec:
    llm: str                          # the model's name (its Service in the serving namespace)
    embedding: EmbeddingSpec
    vector_store: VectorStoreSpec
    front_end: Optional[FrontEndSpec] = None
    namespace: str = RAG_NAMESPACE


def qdrant_memory_mib(vectors: int, dimensions: int, replicas: int) -> int:
    """Per node: the collection's memory estimate, times the copies, spread over the nodes."""
    total = vectors * dimensions * 4 * QDRANT_MEMORY_FACTOR / 2 ** 20
    copies = REPLICATION_FACTOR if replicas > 1 else 1
    return int(math.ceil(total * copies / replicas)) + QDRANT_BASE_MIB


def read_rag(o: Obj, models: Sequence, pools: Sequence, cloud: str, environment: str) -> Optional[RagSpec]:
    if not o.ok:
        return None
    by_name = {m.name: m for m in models}
    llm = o.str("llm")
    if isinstance(llm, str) and llm and models is not None:
        if llm not in by_name:
            o.error("llm", f"must name a model of llmfleet:models ({', '.join(sorted(by_name)) or 'none defined'}), "
                           f"got {llm!r}")
        elif by_name[llm].engine != "vllm":
            o.error("llm", f"model {llm!r} runs on {by_name[llm].engine}; the RAG system talks to a vLLM model's "
                           f"OpenAI Service only (KServe and Ray Serve endpoints are not wired yet)")
    e = o.obj("embedding", required=True)
    embedding = _read_embedding(e, models, pools, cloud)
    e.done()
    v = o.obj("vectorStore")
    store = _read_vector_store(v, embedding.model, environment)
    v.done()
    f = o.obj("frontEnd")
    front_end = _read_front_end(f, environment)
    f.done()
    o.done()
    return RagSpec(llm=llm, embedding=embedding, vector_store=store, front_end=front_end)


def _read_front_end(f: Obj, environment: str) -> Optional[FrontEndSpec]:
    # On by default outside production (a quick way to try the system); a production stack opts in.
    enabled = f.bool("enabled", not is_production(environment))
    d = FrontEndSpec()
    size = f.str("storageSize", d.storage_size, pattern=QUANTITY, hint=QUANTITY_HINT)
    storage_class = f.str("storageClass", None, pattern=r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?",
                          hint="a StorageClass name")
    return FrontEndSpec(size, storage_class) if enabled else None


def _read_embedding(e: Obj, models: Sequence, pools: Sequence, cloud: str) -> EmbeddingSpec:
    key = e.str("model", "bge-base-en-v1.5", choices=EMBEDDING_MODELS)
    model = EMBEDDING_MODELS.get(key, EMBEDDING_MODELS["bge-base-en-v1.5"])
    r = e.obj("replicas")
    lo = r.int("min", 1, min=1, max=50)
    hi = r.int("max", lo, min=1, max=50)
    r.done()
    if isinstance(lo, int) and isinstance(hi, int) and hi < lo:
        e.error("replicas", f"max ({hi}) must be >= min ({lo})")
    target = e.int("targetCpuPercent", 70, min=10, max=95)
    cpu = e.str("cpu", "2", pattern=QUANTITY, hint=QUANTITY_HINT)
    pool_name = e.str("pool", None)
    pool = None
    if pool_name is not None:
        pool = next((p for p in pools if p.name == pool_name), None)
        if pool is None:
            e.error("pool", f"must name a pool of llmfleet:gpuPools ({', '.join(p.name for p in pools)}), "
                            f"got {pool_name!r}")
    default = tei_image(pool.gpu.key if pool and pool.gpu.key in TEI_GPU_TAGS else "")
    image = e.str("image", default, pattern=r"[^\s:]+:[^\s:]+", hint="an image reference with a tag")
    if pool is not None and pool.gpu.key not in TEI_GPU_TAGS:
        e.error("pool", f"{pool.gpu.display} ({pool.gpu.family}) has no text-embeddings-inference image; "
                        f"supported: {', '.join(sorted(TEI_GPU_TAGS))}")
    elif isinstance(image, str) and image.startswith(TEI_REPOSITORY + ":"):
        tag = image.split(":", 1)[1]
        want = TEI_GPU_TAGS[pool.gpu.key] if pool is not None else tei_image().split(":", 1)[1]
        allowed = {want, TEI_ALL_ARCH_TAG} if pool is not None else {want}
        if tag not in allowed:
            where = f"pool {pool.name!r} ({pool.gpu.display}, {pool.gpu.family})" if pool is not None \
                else "CPU nodes (no embedding.pool)"
            e.error("image", f"tag {tag!r} does not run on {where}: use {' or '.join(sorted(allowed))}")
    if pool is not None and lo != hi:
        e.error("replicas", f"min ({lo}) and max ({hi}) must be equal on a GPU pool: CPU utilisation does not "
                            f"track a GPU-bound server (queue-depth scaling on te_queue_size is not built yet)")
    if lo != hi and pool is None and not METRICS_API_BUILTIN.get(cloud, True) \
            and not any(m.autoscaling.vpa for m in models):
        e.error("replicas", f"min < max needs the Kubernetes metrics API for the CPU HPA; {cloud} clusters have "
                            f"none unless a model enables autoscaling.vpa (which installs metrics-server); "
                            f"set min = max or enable vpa on a model")
    return EmbeddingSpec(model=model, image=image, min_replicas=lo, max_replicas=hi, target_cpu_percent=target,
                         cpu=cpu, pool=pool.name if pool is not None else None)


def _read_vector_store(v: Obj, model: EmbeddingModel, environment: str) -> VectorStoreSpec:
    # Default: a cluster of 3 in production (survives one node down), one node elsewhere.
    replicas = v.int("replicas", 3 if is_production(environment) else 1, min=1, max=15)
    if replicas == 2:
        v.error("replicas", "must be 1 or at least 3: a 2-node Qdrant cluster loses its Raft majority when either "
                            "node is down")
    elif replicas == 1 and is_production(environment):
        v.error("replicas", f"must be at least 3 in a production environment ({environment!r}): one node is "
                            f"a single point of failure for every query")
    vectors = v.int("vectors", 1_000_000, min=1)
    collection = v.str("collection", "documents", pattern=DNS_LABEL, hint=DNS_LABEL_HINT)
    storage_class = v.str("storageClass", None, pattern=r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?",
                          hint="a StorageClass name")
    per_node = qdrant_memory_mib(vectors if isinstance(vectors, int) else 1, model.dimensions,
                                 replicas if isinstance(replicas, int) and replicas > 0 else 1)
    # Disk: the vectors and index (the memory estimate) twice over for segment optimisation and WAL, at least 10Gi.
    default_size = f"{max(10, math.ceil(2 * per_node / 1024))}Gi"
    size = v.str("storageSize", default_size, pattern=QUANTITY, hint=QUANTITY_HINT)
    return VectorStoreSpec(replicas=replicas, vectors=vectors, collection=collection, storage_class=storage_class,
                           storage_size=size, memory_mib=per_node)
