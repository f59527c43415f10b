"""The RAG section of the cost report (plan/cost_rag.py): totals are the per-replica requests times the replica
counts, rounded to cents and hundredths (not to whole units), and the markdown shows every figure with its text."""
import pytest

from plan import cost_rag

REPORT = {
    "parts": [
        {"part": "embeddings", "replicasMin": 1, "replicasMax": 2, "cpuPerReplica": 1.5, "memoryGiBPerReplica": 1.36,
         "diskGiBPerReplica": 0.0, "gpusPerReplica": 1, "monthlyGpuAtMin": 1234.5, "monthlyGpuAtMax": 2469.0},
        {"part": "qdrant", "replicasMin": 3, "replicasMax": 3, "cpuPerReplica": 0.5, "memoryGiBPerReplica": 14.81,
         "diskGiBPerReplica": 60.0, "gpusPerReplica": 0, "monthlyGpuAtMin": 0.0, "monthlyGpuAtMax": 0.0}],
    "total": {"cpuAtMin": 3.0, "cpuAtMax": 4.5, "memoryGiBAtMin": 45.79, "memoryGiBAtMax": 47.15,
              "diskGiBAtMin": 180.0, "diskGiBAtMax": 180.0, "monthlyGpuAtMin": 1234.5, "monthlyGpuAtMax": 2469.0}}


def test_markdown_lines():
    assert cost_rag.markdown(None) == [] and cost_rag.markdown({}) == []
    assert cost_rag.markdown(REPORT) == [
        "", "## RAG system", "",
        "Requests of the RAG pods (docs/rag.md). CPU pods run on the system nodes and are paid there; a GPU-placed "
        "embedding service pays one GPU's share of its pool's node per replica.", "",
        "| part | replicas | CPU per replica | memory GiB per replica | disk GiB per replica | GPUs per replica | "
        "GPU $/month at min-max |",
        "|---|---|---|---|---|---|---|",
        "| embeddings | 1-2 | 1.5 | 1.36 | 0 | 1 | 1,234-2,469 |",
        "| qdrant | 3-3 | 0.5 | 14.81 | 60 | 0 | 0-0 |",
        "",
        "**RAG total:** 3-4.5 CPU, 45.79-47.15 GiB memory, 180 GiB disk; GPU $1,234-2,469/month."]


def test_quantities():
    assert cost_rag.cores("500m") == 0.5 and cost_rag.cores("2") == 2.0
    assert cost_rag.gib("512Mi") == 0.5 and cost_rag.gib("2Gi") == 2.0 and cost_rag.gib("1073741824") == 1.0
    assert cost_rag.gib("1G") == pytest.approx(1e9 / 2 ** 30)


def test_gcp_prod_totals_are_replicas_times_requests():
    from tests.harness import run_stack
    r = cost_rag.report(run_stack("gcp-prod").stack)
    assert [p["part"] for p in r["parts"]] == ["embeddings", "qdrant", "open-webui"]
    for side in ("Min", "Max"):
        for k in ("cpu", "memoryGiB", "diskGiB"):
            assert r["total"][f"{k}At{side}"] == round(sum(p[f"{k}PerReplica"] * p[f"replicas{side}"]
                                                           for p in r["parts"]), 2)
    assert r["total"]["memoryGiBAtMin"] == 49.15 and r["total"]["memoryGiBAtMax"] == 54.59
