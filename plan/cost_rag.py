"""The RAG system's share of the cost report (llmfleet:rag, docs/rag.md): what its pods request at their minimum
and maximum replica counts, and the GPU cost when the embedding service runs on a GPU pool. Pods on the CPU
(system) nodes are reported as requests only: the catalog has no CPU node prices, so their dollars stay with the
cluster's system nodes."""
import re
from typing import Any, Optional

from catalog.prices import HOURS_PER_MONTH
from components.rag.frontend import MEMORY as FRONT_END_MEMORY
from components.rag.vectorstore import CPU_REQUEST as QDRANT_CPU

_UNITS = {"Ki": 2 ** 10, "Mi": 2 ** 20, "Gi": 2 ** 30, "Ti": 2 ** 40, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12}


def cores(q: str) -> float:
    return float(q[:-1]) / 1000 if q.endswith("m") else float(q)


def gib(q: str) -> float:
    m = re.fullmatch(r"([0-9.]+)([A-Za-z]*)", q)
    return float(m.group(1)) * _UNITS.get(m.group(2), 1) / 2 ** 30


def report(stack) -> Optional[dict[str, Any]]:
    r = stack.spec.rag
    if r is None:
        return None
    e, v = r.embedding, r.vector_store
    parts = []

    def part(name: str, lo: int, hi: int, cpu: float, mem_gib: float, disk_gib: float = 0.0, gpus: int = 0,
             gpu_hour: float = 0.0) -> None:
        parts.append({"part": name, "replicasMin": lo, "replicasMax": hi, "cpuPerReplica": round(cpu, 3),
                      "memoryGiBPerReplica": round(mem_gib, 2), "diskGiBPerReplica": round(disk_gib, 1),
                      "gpusPerReplica": gpus, "monthlyGpuAtMin": round(gpu_hour * gpus * lo * HOURS_PER_MONTH, 2),
                      "monthlyGpuAtMax": round(gpu_hour * gpus * hi * HOURS_PER_MONTH, 2)})

    gpu_hour = 0.0
    if e.pool is not None:
        # The pool's preferred node group (what the autoscaler buys first): a replica pays one GPU's share.
        d = max((d for d in stack.cluster.pools if d.name == e.pool), key=lambda d: d.priority)
        gpu_hour = d.price_hour / d.gpus_per_node
    part("embeddings", e.min_replicas, e.max_replicas, cores(e.cpu), e.model.memory_mib / 1024,
         gpus=1 if e.pool else 0, gpu_hour=gpu_hour)
    part("qdrant", v.replicas, v.replicas, cores(QDRANT_CPU), v.memory_mib / 1024, 2 * gib(v.storage_size))
    if r.front_end is not None:
        part("open-webui", 1, 1, cores("500m"), gib(FRONT_END_MEMORY), gib(r.front_end.storage_size))
    total = {f"{k}At{side}": round(sum(p[f"{k}PerReplica"] * p[f"replicas{side}"] for p in parts), 2)
             for k in ("cpu", "memoryGiB", "diskGiB") for side in ("Min", "Max")}
    total.update({f"monthlyGpuAt{side}": round(sum(p[f"monthlyGpuAt{side}"] for p in parts), 2)
                  for side in ("Min", "Max")})
    return {"parts": parts, "total": total}


def markdown(rag: Optional[dict[str, Any]]) -> list[str]:
    if not rag:
        return []
    t = rag["total"]
    lines = ["", "## RAG system", "",
             "Requests of the RAG pods (docs/rag.md). CPU pods run on the system nodes and are paid there; a GPU-placed "
             "embedding service pays one GPU's share of its pool's node per replica.", "",
             "| part | replicas | CPU per replica | memory GiB per replica | disk GiB per replica | GPUs per replica | "
             "GPU $/month at min-max |", "|---|---|---|---|---|---|---|"]
    lines += [f"| {p['part']} | {p['replicasMin']}-{p['replicasMax']} | {p['cpuPerReplica']:g} | "
              f"{p['memoryGiBPerReplica']:g} | {p['diskGiBPerReplica']:g} | {p['gpusPerReplica']} | "
              f"{p['monthlyGpuAtMin']:,.0f}-{p['monthlyGpuAtMax']:,.0f} |" for p in rag["parts"]]
    lines += ["", f"**RAG total:** {t['cpuAtMin']:g}-{t['cpuAtMax']:g} CPU, {t['memoryGiBAtMin']:g}-"
                  f"{t['memoryGiBAtMax']:g} GiB memory, {t['diskGiBAtMin']:g} GiB disk; GPU "
                  f"${t['monthlyGpuAtMin']:,.0f}-{t['monthlyGpuAtMax']:,.0f}/month."]
    return lines
