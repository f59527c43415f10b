"""Cross-pool fallback (a model listing several pools) and the whole-node cost floor, on the shipped stacks."""
import pytest

from plan.cost import markdown, report
from tests.harness import run_stack


@pytest.fixture(scope="module")
def prod():
    return run_stack("prod")


def test_a_model_listing_two_pools_is_schedulable_on_both(prod):
    # prod: llama-70b (critical) lists [h100, h200]; one StatefulSet, TP 4, valid on p5.48xlarge and p5en.48xlarge.
    m = next(m for m in prod.spec.models if m.name == "llama-70b")
    assert (m.placement.pool, m.placement.pools, m.placement.tensor_parallel) == ("h100", ("h100", "h200"), 4)
    pod = prod.manifest("StatefulSet", "llama-70b", "llm-serving")["spec"]["template"]["spec"]
    aff = pod["affinity"]["nodeAffinity"]
    # One required term per pool (terms are ORed), so either pool's nodes qualify; a critical model's every term
    # also keeps it off spot capacity.
    not_spot = {"key": "llmfleet.io/capacity", "operator": "NotIn", "values": ["spot"]}
    assert aff["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"] == [
        {"matchExpressions": [{"key": "llmfleet.io/pool", "operator": "In", "values": ["h100"]}, not_spot]},
        {"matchExpressions": [{"key": "llmfleet.io/pool", "operator": "In", "values": ["h200"]}, not_spot]}]
    # Preferred in the chain order (h100 on-demand 220 > h200 on-demand 120); spot groups are not offered to a
    # critical model.
    prefs = [(p["weight"], {e["key"]: e["values"][0] for e in p["preference"]["matchExpressions"]})
             for p in aff["preferredDuringSchedulingIgnoredDuringExecution"]]
    assert prefs == [(100, {"llmfleet.io/capacity": "on-demand", "llmfleet.io/pool": "h100"}),
                     (50, {"llmfleet.io/capacity": "on-demand", "llmfleet.io/pool": "h200"})]


def test_the_server_is_told_the_planned_cache_and_concurrency(prod):
    args = prod.manifest("StatefulSet", "llama-70b", "llm-serving")["spec"]["template"]["spec"]["containers"][0]["args"]
    m = next(m for m in prod.spec.models if m.name == "llama-70b")
    # 441,904 tokens = (27,620 - 1) blocks x 16; 27,620 x 16 x 80 KiB per GPU = 36,202,086,400 bytes. The H200
    # could hold more; the template carries the H100's figure so the server behaves the same on both.
    assert args[args.index("--kv-cache-memory-bytes") + 1] == "36202086400" == str(m.placement.kv_cache_bytes)
    assert args[args.index("--max-num-seqs") + 1] == "32"
    assert m.placement.kv_tokens == 441_904 < m.placement.fallbacks[0].kv_tokens


def test_whole_node_floor_packs_every_models_minimum_replicas(prod):
    r = report(prod.stack)
    # h100 (p5.48xlarge, $55.04/h, 8 GPUs): llama-70b 1 x 4 GPUs + llama-8b 1 x 1 GPU -> one node, 3 GPUs idle.
    (h100,) = r["minimumReplicaNodes"]
    assert (h100["pool"], h100["nodes"], h100["idleGpus"]) == ("h100", 1, 3)
    assert h100["perNode"] == [{"used": {"llama-70b": 4, "llama-8b": 1}, "idle": 3}]
    assert h100["monthly"] == round(55.04 * 730, 2) == 40179.2
    models = {m["model"]: m for m in r["models"]}
    # The node's price split by GPUs used: 4/5 and 1/5 of $55.04 x 730.
    assert models["llama-70b"]["monthlyFloorWholeNodes"] == round(55.04 * 4 / 5 * 730, 2) == 32143.36
    assert models["llama-8b"]["monthlyFloorWholeNodes"] == round(55.04 / 5 * 730, 2) == 8035.84
    assert r["total"]["modelsMonthlyFloorWholeNodes"] == 40179.2
    assert models["llama-70b"]["enforcedBy"] == {"--max-num-seqs": "32", "--kv-cache-memory-bytes": "36202086400"}
    md = markdown(r)
    assert "| h100 | 8 | 1 | llama-70b: 4, llama-8b: 1 (3 idle) | 3 | 40,179 |" in md
    assert "`--max-num-seqs 32` `--kv-cache-memory-bytes 36202086400`" in md
    assert "| h100, then h200 | 4 |" in md


def test_a_lone_tp4_replica_still_pays_a_whole_node():
    r = report(run_stack("prod-karpenter").stack)
    (pool,) = r["minimumReplicaNodes"]
    (m,) = r["models"]
    # One TP-4 replica on an 8-GPU node: half the node by share, the whole node by what is bought.
    assert (pool["nodes"], pool["idleGpus"]) == (1, 4)
    assert m["monthlyAtMinReplicas"] * 2 == pytest.approx(m["monthlyFloorWholeNodes"], abs=0.02)


def test_pools_that_cannot_share_one_template_are_rejected_naming_the_key():
    from tests.harness import config_error
    pools = [{"name": "h100", "gpu": "h100-80gb", "gpusPerNode": 8, "labels": {"gpu": "h100"}},
             {"name": "l4", "gpu": "l4-24gb", "gpusPerNode": 1, "labels": {"gpu": "l4"}}]
    lines = config_error({"cloud": "existing", "gpuPools": pools,
                          "models": [{"name": "m", "model": "qwen2.5-7b", "pools": ["h100", "l4"],
                                      "maxContext": 8192, "concurrency": 32}]},
                         secrets={"kubeconfig": "k"})
    # Qwen2.5-7B at 8k x 32 needs TP 2 on L4s; the L4 nodes have one GPU, so no size runs on both.
    assert lines == [
        "llmfleet:models[0]: m (qwen2.5-7b, bf16) has no tensor-parallel size that fits every listed pool (one pod "
        "template runs on all of them; list pools whose nodes can run the same size, or one pool): pool 'h100' "
        "alone needs tensor-parallel 1; pool 'l4' (1x L4 24GB): needs "
        + lines[0].split("pool 'l4' (1x L4 24GB): needs ")[1]]
    assert "has 20.0 GiB at utilization 0.9" in lines[0]
