"""Sizing invariants: a brute force over the catalog and property-based tests (hypothesis).

The rules are restated here from vLLM 0.33.0 (not imported from sizing/) so a wrong rule in the estimator fails:
attention heads % tp == 0; kv % tp == 0 or tp % kv == 0; intermediate % tp == 0; pad64(vocab) % tp == 0.
"""
import itertools
import math

from hypothesis import HealthCheck, given, settings, strategies as st

from catalog.gpus import GPUS
from catalog.models import MODELS, ModelArch
from components.descriptors import PoolDescriptor
from components.serving.common import pool_descriptors
from sizing import Candidate, NoFit, fit, place, place_across
from spec.reader import ConfigError
from spec.stack import load

WHOLE_GPUS = sorted(GPUS)


def vllm_accepts(arch: ModelArch, tp: int) -> bool:
    padded = math.ceil(arch.vocab / 64) * 64 if arch.vocab else 0
    return (arch.attention_heads % tp == 0 and (arch.kv_heads % tp == 0 or tp % arch.kv_heads == 0)
            and (not arch.intermediate or arch.intermediate % tp == 0) and (not padded or padded % tp == 0))


def brute_force(arch, weight, kv, context, concurrency, candidates, util):
    """(cost, gpus) of the cheapest feasible placement by trying every pool and every GPU count."""
    best = None
    for c in candidates:
        for n in range(1, c.gpus_per_node + 1):
            if not vllm_accepts(arch, n):
                continue
            f = fit(arch, weight, kv, c.gpu, n, context * concurrency, util)
            # Independent memory check: weights + overhead + the planned blocks within the per-GPU budget.
            within = f.weight_bytes + f.overhead_bytes + f.kv_bytes <= f.budget_bytes
            if f.kv_tokens >= context * concurrency and within:
                key = (c.node_price_hour * n / c.gpus_per_node, n)
                best = key if best is None or key < best else best
    return best


def check(arch, weight, kv, context, concurrency, candidates, util):
    expected = brute_force(arch, weight, kv, context, concurrency, candidates, util)
    try:
        p = place(arch, weight, kv, context, concurrency, candidates, util)
    except NoFit:
        assert expected is None, f"place() refused but {expected} fits"
        return None
    assert expected is not None
    assert (p.price_hour, p.tensor_parallel) == expected          # nothing cheaper (or as cheap with fewer GPUs)
    assert vllm_accepts(arch, p.tensor_parallel)
    assert p.kv_tokens >= context * concurrency                   # the chosen placement fits
    pool = next(c for c in candidates if c.pool == p.pool)
    f = fit(arch, weight, kv, pool.gpu, p.tensor_parallel, context * concurrency, util)
    assert p.kv_cache_bytes == f.kv_bytes and f.weight_bytes + f.overhead_bytes + f.kv_bytes <= f.budget_bytes
    return p


def test_brute_force_over_the_catalog():
    """Every catalog model x every GPU x node sizes 1, 2, 4, 6, 8 x two workloads x both KV widths."""
    placed = refused = 0
    for arch, gpu, gpn, (ctx, conc), kv in itertools.product(
            MODELS.values(), WHOLE_GPUS, (1, 2, 4, 6, 8), ((4096, 4), (8192, 32)), (2.0, 1.0)):
        if ctx > arch.context:
            continue
        cands = [Candidate("a", GPUS[gpu], gpn, 10.0 * gpn), Candidate("b", GPUS["h100-80gb"], 8, 55.04)]
        p = check(arch, arch.weight_bytes("bf16"), kv, ctx, conc, cands, 0.9)
        placed, refused = placed + (p is not None), refused + (p is None)
    assert placed > 500 and refused > 50       # both outcomes exercised


archs = st.builds(
    lambda kv, group, layers, head_dim, inter, vocab, params: ModelArch(
        "x", "o/x", params, layers, kv * group, kv, head_dim, 32768, "bf16", kv * group * head_dim, inter, vocab),
    kv=st.sampled_from([1, 2, 4, 5, 6, 8, 10, 12, 16]), group=st.sampled_from([1, 2, 3, 4, 7, 8]),
    layers=st.integers(8, 128), head_dim=st.sampled_from([64, 96, 128, 256]),
    inter=st.sampled_from([0, 11008, 14336, 17920, 18944, 24576, 28672]),
    vocab=st.sampled_from([0, 32000, 32064, 49152, 128256, 152064]), params=st.floats(0.5, 120))
pools = st.lists(st.builds(Candidate, pool=st.sampled_from(["p", "q", "r", "s"]),
                           gpu=st.sampled_from([GPUS[g] for g in WHOLE_GPUS]),
                           gpus_per_node=st.integers(1, 8), node_price_hour=st.floats(0.5, 100)),
                 min_size=1, max_size=4, unique_by=lambda c: c.pool)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(arch=archs, kv=st.sampled_from([1.0, 2.0]), context=st.sampled_from([1024, 4096, 8192]),
       concurrency=st.integers(1, 64), candidates=pools, util=st.floats(0.5, 0.98))
def test_placement_is_the_cheapest_that_fits_and_tp_is_valid(arch, kv, context, concurrency, candidates, util):
    check(arch, arch.weight_bytes("bf16"), kv, context, concurrency, candidates, util)


@settings(max_examples=200, deadline=None)
@given(arch=archs, context=st.sampled_from([2048, 8192]), concurrency=st.integers(1, 32), candidates=pools,
       util=st.floats(0.6, 0.95))
def test_one_template_fits_every_listed_pool(arch, context, concurrency, candidates, util):
    try:
        p = place_across(arch, arch.weight_bytes("bf16"), 2.0, context, concurrency, candidates, util)
    except NoFit:
        # Refused only when no single size fits all of them.
        for n in range(1, min(c.gpus_per_node for c in candidates) + 1):
            assert not (vllm_accepts(arch, n) and all(
                fit(arch, arch.weight_bytes("bf16"), 2.0, c.gpu, n, context * concurrency, util).fits
                for c in candidates))
        return
    assert set(p.pools) == {c.pool for c in candidates} and vllm_accepts(arch, p.tensor_parallel)
    for c in candidates:
        f = fit(arch, arch.weight_bytes("bf16"), 2.0, c.gpu, p.tensor_parallel, context * concurrency, util)
        # The server's KV cache (the smallest pool's) plus weights and overhead fits each pool's GPUs.
        assert p.tensor_parallel <= c.gpus_per_node and f.kv_bytes >= p.kv_cache_bytes
        assert f.weight_bytes + f.overhead_bytes + p.kv_cache_bytes <= f.budget_bytes
    assert p.kv_tokens >= context * concurrency


def aws_stack(pools, models):
    return {"cloud": "aws", "hfToken": "t",
            "cluster": {"name": "c", "region": "us-east-1", "zones": ["us-east-1a", "us-east-1b"]},
            "gpuPools": pools, "models": models}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(capacities=st.lists(st.sampled_from([["spot"], ["on-demand"], ["on-demand", "spot"], ["spot", "on-demand"]]),
                           min_size=1, max_size=3),
       chosen=st.lists(st.integers(0, 2), max_size=3, unique=True),
       priority=st.sampled_from(["critical", "standard", "batch"]))
def test_critical_models_never_land_on_spot_capacity(capacities, chosen, priority):
    names = [f"p{i}" for i in range(len(capacities))]
    gpu_pools = [{"name": n, "instanceType": "p5.48xlarge", "capacity": c, "minNodes": 0, "maxNodes": 2}
                 for n, c in zip(names, capacities)]
    listed = [names[i] for i in chosen if i < len(names)]
    model = {"name": "m", "model": "llama-3.1-8b", "priority": priority, **({"pools": listed} if listed else {})}
    spot_only = {n for n, c in zip(names, capacities) if c == ["spot"]}
    try:
        spec = load(aws_stack(gpu_pools, [model]), {"hfToken"}, "t")
    except ConfigError as e:
        # Refused only because a critical model lists a spot-only pool, or has no other pool to go to.
        assert priority == "critical" and (set(listed) & spot_only or set(names) <= spot_only), e.lines
        return
    (m,) = spec.models
    if priority == "critical":
        assert not set(m.placement.pools) & spot_only
        descriptors = [PoolDescriptor(p.name, "aws", cap, f"{p.name}-{cap}", p.gpu, 8, "p5.48xlarge",
                                      {"llmfleet.io/pool": p.name, "llmfleet.io/capacity": cap}, priority=10)
                       for p in spec.pools for cap in p.capacity]
        assert all(d.capacity != "spot" for d in pool_descriptors(m, descriptors))


@settings(max_examples=200, deadline=None)
@given(arch=archs, gpu=st.sampled_from(WHOLE_GPUS), n=st.sampled_from([1, 2, 4, 8]),
       offset=st.integers(-20, 20), util=st.floats(0.5, 0.98))
def test_vllm_start_check_fails_exactly_where_the_plan_does_for_one_sequence(arch, gpu, n, offset, util):
    """vLLM 0.33.0 check_enough_kv_cache_memory, with the cache we pass: usable = kv bytes minus the null block's
    page; needed = ceil(max_model_len / 16) pages. The plan for concurrency 1 must agree at every boundary, so
    the context is drawn around the number of tokens the blocks hold."""
    room = fit(arch, arch.weight_bytes("bf16"), 2.0, GPUS[gpu], n, 0, util)
    context = max(1, round(room.kv_bytes / (16 * room.kv_bytes_per_token)) * 16 - 16 + offset)
    f = fit(arch, arch.weight_bytes("bf16"), 2.0, GPUS[gpu], n, context, util)
    page = 16 * f.kv_bytes_per_token
    vllm_starts = f.kv_bytes > 0 and f.kv_bytes - page >= math.ceil(context / 16) * page
    assert f.fits == vllm_starts
