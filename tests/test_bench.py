"""`make bench` (plan/bench.py) runs what it times: its synthetic stack plans with every model rendered, objects
validated and the cluster checks run on them, and an invalid object stops it. No timing is asserted here (speed is
measured by `make bench` itself)."""
import json

import pytest

from plan import bench, checks, manifests, validate


def test_synthetic_stack_is_an_existing_cluster_with_n_small_models():
    config, secrets = bench.synthetic(3)
    assert secrets == ["llmfleet:kubeconfig", "llmfleet:hfToken"]
    assert (config["llmfleet:kubeconfig"], config["llmfleet:hfToken"]) == ("bench-kubeconfig", "bench-token")
    assert config["llmfleet:cloud"] == "existing"
    models = json.loads(config["llmfleet:models"])
    assert [m["name"] for m in models] == ["m000", "m001", "m002"]
    assert {(m["model"], m["maxContext"], m["concurrency"]) for m in models} == {("qwen2.5-7b", 4096, 4)}
    (pool,) = json.loads(config["llmfleet:gpuPools"])
    assert (pool["gpu"], pool["gpusPerNode"], pool["maxNodes"]) == ("h100-80gb", 8, 64)


def test_bench_plan_renders_validates_and_checks(monkeypatch):
    seen = {}
    real_run = checks.run

    def run(ctx):
        seen["objects"], seen["k8s"] = ctx.objects, ctx.k8s_version
        return real_run(ctx)

    monkeypatch.setattr(checks, "run", run)
    config, secrets = bench.synthetic(2)
    result = bench._plan("llmfleet", "bench", config, secrets, "1.34")
    objs = manifests.objects(result.resources)
    assert {o["metadata"]["name"] for o in objs if o["kind"] == "Deployment"} >= {"m000", "m001"}
    assert seen["objects"] == objs and seen["k8s"] == "1.34"

    monkeypatch.setattr(validate, "validate_all", lambda objs, version: {"v1 Pod x/y": ["bad"]})
    with pytest.raises(SystemExit, match=r"bench: bench has invalid objects: \['v1 Pod x/y'\]"):
        bench._plan("llmfleet", "bench", config, secrets, "1.34")


def test_timed_is_the_median_of_the_repeats_and_returns_the_last_result():
    calls = []
    secs, result = bench._timed(lambda: calls.append(1) or len(calls))
    assert len(calls) == bench.REPEATS == 3 and result == 3 and secs >= 0
