"""The cost report's pieces decision by decision (plan/cost.py, cost_gateway.py, cost_rag.py, costdiff.py) on
hand-built specs and reports: schedule savings, the Gateway's parts, a GPU-placed embedding service, markdown
tables, and the cost diff's cells."""
from types import SimpleNamespace as NS

import pytest

from plan import cost, cost_gateway, cost_rag, costdiff


def model(min_replicas=2, hours=None):
    sched = NS(hours_per_week=hours) if hours is not None else None
    return NS(autoscaling=NS(schedule=sched), replicas=NS(min=min_replicas))


def test_a_schedule_saves_the_off_hours_share_of_the_minimum_replicas():
    assert cost._schedule_saving(model(), 10.0) == {}
    assert cost._schedule_saving(model(2, 84), 10.0) == {"scheduledHoursPerWeek": 84,
                                                         "monthlySavedBySchedule": round(10.0 * 2 * 730 * 0.5, 2)}
    # A scheduled model at zero replicas still runs one in its hours.
    assert cost._schedule_saving(model(0, 42), 10.0)["monthlySavedBySchedule"] == round(10.0 * 730 * 0.75, 2)
    assert cost._schedule_saving(model(1, 168), 10.0)["monthlySavedBySchedule"] == 0


def gw_spec(environment="dev", tenants=None, picked=()):
    routing = None
    if tenants is not None or picked:
        routing = NS(tenants=[NS(tokens_per_hour=t) for t in tenants or ()],
                     picked=lambda: [NS(versions=[NS(model=m)]) for m in picked])
    return NS(spec=NS(gateway=object(), environment=environment, routing=routing))


def test_gateway_parts_controllers_envoy_redis_and_pickers():
    g = cost_gateway.report(gw_spec())
    assert g["parts"] == [
        {"part": "envoy-gateway", "replicas": 1, "cpuPerReplica": 0.1, "memoryGiBPerReplica": 0.25},
        {"part": "ai-gateway-controller", "replicas": 1, "cpuPerReplica": 0.0, "memoryGiBPerReplica": 0.0},
        {"part": "envoy-proxy", "replicas": 1, "cpuPerReplica": 0.5, "memoryGiBPerReplica": 0.5}]
    assert g["total"] == {"cpu": 0.6, "memoryGiB": 0.75}
    prod = cost_gateway.report(gw_spec("production"))
    assert prod["parts"][2]["replicas"] == 2 and prod["total"] == {"cpu": 1.1, "memoryGiB": 1.25}
    limited = cost_gateway.report(gw_spec(tenants=[0, 1000], picked=("a", "a", "b")))
    assert [p["part"] for p in limited["parts"][3:]] == ["ratelimit-redis", "endpoint-picker a", "endpoint-picker b"]
    assert limited["parts"][3] == {"part": "ratelimit-redis", "replicas": 1, "cpuPerReplica": 0.1,
                                   "memoryGiBPerReplica": 0.125}
    unlimited = cost_gateway.report(gw_spec(tenants=[0, None]))
    assert [p["part"] for p in unlimited["parts"]] == ["envoy-gateway", "ai-gateway-controller", "envoy-proxy"]
    assert cost_gateway.report(NS(spec=NS(gateway=None))) is None


def test_gateway_markdown():
    assert cost_gateway.markdown(None) == []
    lines = cost_gateway.markdown(cost_gateway.report(gw_spec()))
    assert "| envoy-proxy | 1 | 0.5 | 0.5 |" in lines
    assert lines[-1] == "**Gateway total:** 0.6 CPU, 0.75 GiB memory requested."


def rag_stack(pool=None, front_end=True, pools=()):
    e = NS(pool=pool, min_replicas=1, max_replicas=3, cpu="2", model=NS(memory_mib=2048))
    v = NS(replicas=2, memory_mib=4096, storage_size="10Gi")
    fe = NS(storage_size="5Gi") if front_end else None
    return NS(spec=NS(rag=NS(embedding=e, vector_store=v, front_end=fe)), cluster=NS(pools=list(pools)))


def test_rag_parts_and_a_gpu_placed_embedding_paying_a_gpu_share_of_the_preferred_group():
    r = cost_rag.report(rag_stack())
    assert [p["part"] for p in r["parts"]] == ["embeddings", "qdrant", "open-webui"]
    assert r["parts"][1] == {"part": "qdrant", "replicasMin": 2, "replicasMax": 2, "cpuPerReplica": 0.5,
                             "memoryGiBPerReplica": 4.0, "diskGiBPerReplica": 20.0, "gpusPerReplica": 0,
                             "monthlyGpuAtMin": 0, "monthlyGpuAtMax": 0}
    assert (r["parts"][0]["gpusPerReplica"], r["parts"][0]["monthlyGpuAtMax"]) == (0, 0)
    assert r["total"]["cpuAtMin"] == 2 + 1.0 + 0.5 and r["total"]["cpuAtMax"] == 6 + 1.0 + 0.5
    assert r["total"]["diskGiBAtMin"] == 40 + 5
    assert [p["part"] for p in cost_rag.report(rag_stack(front_end=False))["parts"]] == ["embeddings", "qdrant"]
    pools = [NS(name="l4", price_hour=8.0, gpus_per_node=4, priority=1), NS(name="l4", price_hour=4.0,
                                                                             gpus_per_node=4, priority=2),
             NS(name="other", price_hour=100.0, gpus_per_node=1, priority=9)]
    emb = cost_rag.report(rag_stack(pool="l4", pools=pools))["parts"][0]
    assert (emb["gpusPerReplica"], emb["monthlyGpuAtMin"], emb["monthlyGpuAtMax"]) == (1, 730.0, 2190.0)
    assert cost_rag.report(NS(spec=NS(rag=None))) is None


@pytest.mark.parametrize("q,value", [("1Ki", 1 / 2**20), ("1Ti", 1024.0), ("1T", 1e12 / 2**30), ("1k", 1e3 / 2**30),
                                     ("1M", 1e6 / 2**30), ("1.5Gi", 1.5)])
def test_gib_units(q, value):
    assert cost_rag.gib(q) == pytest.approx(value)


def report(scheduled=False):
    m = {"model": "m", "arch": "llama", "dtype": "bf16", "kvCacheDtype": "fp8", "pool": "h100",
         "fallbackPools": ["h200", "a100"], "tensorParallel": 2, "maxContext": 8192, "concurrency": 16,
         "kvTokens": 123456, "enforcedBy": {"--max-num-seqs": "16", "--kv-cache-memory-bytes": "100"},
         "sequencesAtContext": 15, "weightsGiB": 15.0, "neededGiB": 60.5, "usableGiB": 70.1, "replicaPerHour": 27.5,
         "replicasMin": 1, "replicasMax": 4, "monthlyAtMinReplicas": 20075.0, "monthlyAtMaxReplicas": 80300.0,
         "monthlyFloorWholeNodes": 40150.0}
    if scheduled:
        m.update(scheduledHoursPerWeek=60.0, monthlySavedBySchedule=12345.6)
    return {"stack": "s", "cloud": "aws", "hoursPerMonth": 730,
            "pools": [{"pool": "h100", "nodeGroup": "g", "instanceType": None, "gpusPerNode": 8, "gpu": "h100-80gb",
                       "capacity": "spot", "minNodes": 0, "maxNodes": 2, "pricePerHour": 12.3456,
                       "monthlyAtMin": 0, "monthlyAtMax": 18025.0, "priceAsOf": ""}],
            "models": [m],
            "minimumReplicaNodes": [{"pool": "h100", "gpusPerNode": 8, "nodes": 1, "idleGpus": 6,
                                     "perNode": [{"used": {"m": 2}, "idle": 6}], "monthly": 40150.0},
                                    {"pool": "h200", "gpusPerNode": 8, "nodes": 0, "idleGpus": 0, "perNode": [],
                                     "monthly": 0}],
            "total": {"monthlyAtMin": 0, "monthlyAtMax": 18025.0, "modelsMonthlyAtMinReplicas": 20075.0,
                      "modelsMonthlyFloorWholeNodes": 40150.0}}


def test_cost_markdown_rows():
    md = cost.markdown(report())
    assert md.startswith("# GPU cost: stack `s` (aws)\n")
    assert ("| pool | node group | instance | GPUs | capacity | min-max nodes | $/h per node | $/month at min | "
            "$/month at max | price as of |\n|---|---|---|---|---|---|---|---|---|---|") in md
    assert "| h100 | g | - | 8x h100-80gb | spot | 0-2 | 12.346 | 0 | 18,025 | - |" in md
    assert ("**Total GPU $/month:** 0 at min, 18,025 at max (every group at its max). The models' minimum replicas "
            "alone cost 20,075 (their GPUs' share of nodes), 40,150 in the whole nodes they need.") in md
    assert ("| m | llama | bf16 / fp8 | h100, then h200, then a100 | 2 | 8192 x 16 | 123,456 | "
            "`--max-num-seqs 16` `--kv-cache-memory-bytes 100` | 15 | 15.0 | 60.5 / 70.1 | 27.50 | 1-4 | "
            "20,075-80,300 | 40,150 |") in md
    assert "| h100 | 8 | 1 | m: 2 (6 idle) | 6 | 40,150 |" in md and "| h200 | 8 | 0 | - | 0 | 0 |" in md
    assert "## Schedules" not in md and "## RAG system" not in md and "## Gateway" not in md
    md = cost.markdown(report(scheduled=True))
    assert "## Schedules" in md and "| m | 60 | 12,346 |" in md


def test_costdiff_cells():
    assert costdiff._cell(None, None) == "-"
    assert costdiff._cell(None, 5.0) == "0 -> 5 (+5)"
    assert costdiff._cell(1500.4, None) == "1,500 -> 0 (-1,500)"
    assert costdiff._cell(0.0, 0.0) == "0 -> 0 (+0)"


def test_costdiff_models_only_in_one_plan_and_a_missing_cost_file(tmp_path):
    import json

    def write(root, stack, models, with_cost=True):
        d = root / stack
        d.mkdir(parents=True)
        (d / "preview.json").write_text('{"steps": []}')
        if with_cost:
            (d / "cost.json").write_text(json.dumps({"total": {"monthlyAtMin": 1, "monthlyAtMax": 2,
                                                               "modelsMonthlyFloorWholeNodes": 3}, "models": models}))
    m = {"model": "gone", "monthlyAtMinReplicas": 10, "monthlyAtMaxReplicas": 20}
    write(tmp_path / "base", "s", [m, dict(m, model="kept")])
    write(tmp_path / "head", "s", [dict(m, model="new"), dict(m, model="kept")])
    write(tmp_path / "base", "nocost", [], with_cost=False)
    r = costdiff.costdiff(tmp_path / "base", tmp_path / "head")
    assert "| s | kept |" not in costdiff.markdown(r)
    del r["s"]["models"]["kept"]
    assert r["s"]["models"] == {"gone": {"monthlyAtMinReplicas": (10, None), "monthlyAtMaxReplicas": (20, None)},
                                "new": {"monthlyAtMinReplicas": (None, 10), "monthlyAtMaxReplicas": (None, 20)}}
    assert r["nocost"] == {"totals": {"monthlyAtMin": (None, None), "monthlyAtMax": (None, None),
                                      "modelsMonthlyFloorWholeNodes": (None, None)}, "models": {}}
    md = costdiff.markdown(r)
    assert "| nocost | - | - | - |" in md and "| s | gone | 10 -> 0 (-10) | 20 -> 0 (-20) |" in md
    assert costdiff.markdown({"x": {"totals": {k: (1, 1) for k, _ in costdiff.TOTALS}, "models": {}}}).count("\n") == 5
    assert costdiff.main([str(tmp_path / "base"), str(tmp_path / "nothing")]) == 0
