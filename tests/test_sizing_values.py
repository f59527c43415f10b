"""Every field of a placement and every reason text of the estimator (sizing/estimate.py), for small worked cases:
the fields reach the model server's flags, the cost report and the config error a user reads, so each is pinned
(the formulas in tests/test_sizing.py's docstring; prices here are made up)."""
import pytest

from catalog.gpus import GPUS
from catalog.models import MODELS, ModelArch
from sizing import GIB, Candidate, NoFit, fit, place, place_across, tp_problems, tp_sizes

H100, L4, A10G = GPUS["h100-80gb"], GPUS["l4-24gb"], GPUS["a10g-24gb"]
L8, L70 = MODELS["llama-3.1-8b"], MODELS["llama-3.1-70b"]
# heads 6, KV heads 3, intermediate 1000, vocabulary 1001 (padded to 1024): each rule fails at some size.
ODD = ModelArch("odd", "x/odd", 1.0, 2, 6, 3, 64, 4096, "bf16", 384, 1000, 1001)


def test_fit_follows_the_memory_model():
    f = fit(L8, L8.weight_bytes("bf16"), 2, L4, 2, 8192 * 8, 0.9)
    budget = -(-L4.torch_bytes * 9 // 10)                       # ceil(torch total x 0.9)
    weights = 1.02 * L8.weight_bytes("bf16") / 2
    overhead = 2.3 * GIB + 0.05 * weights
    per_token = 2 * 32 * (8 // 2) * 128 * 2
    blocks = int((budget - weights - overhead) // (16 * per_token))
    assert (f.gpus, f.budget_bytes, f.kv_bytes_per_token, f.target_tokens) == (2, budget, per_token, 65536)
    assert f.weight_bytes == pytest.approx(weights) and f.overhead_bytes == pytest.approx(overhead)
    assert (f.kv_bytes, f.kv_tokens) == (blocks * 16 * per_token, (blocks - 1) * 16)
    assert f.fits and f.usable_bytes == 2 * budget
    assert f.needed_bytes == pytest.approx(2 * (weights + overhead + (65536 // 16 + 1) * 16 * per_token))


def test_fits_needs_the_target_and_at_least_one_token():
    f = fit(L8, L8.weight_bytes("bf16"), 2, L4, 2, 0, 0.9)
    tokens = f.kv_tokens
    assert fit(L8, L8.weight_bytes("bf16"), 2, L4, 2, tokens, 0.9).fits
    assert not fit(L8, L8.weight_bytes("bf16"), 2, L4, 2, tokens + 1, 0.9).fits
    nothing = fit(L70, L70.weight_bytes("bf16"), 2, L4, 1, 0, 0.9)
    assert (nothing.kv_tokens, nothing.kv_bytes, nothing.fits) == (0, 0, False)


@pytest.mark.parametrize("n,problems", [
    (1, []),
    (2, ["3 KV heads neither split into 2 nor replicate evenly over 2"]),
    (3, ["intermediate size 1000 does not split into 3", "vocabulary 1001 (padded 1024) does not split into 3"]),
    (4, ["6 attention heads do not split into 4", "3 KV heads neither split into 4 nor replicate evenly over 4"]),
    (5, ["6 attention heads do not split into 5", "3 KV heads neither split into 5 nor replicate evenly over 5",
         "vocabulary 1001 (padded 1024) does not split into 5"]),
    (6, ["intermediate size 1000 does not split into 6", "vocabulary 1001 (padded 1024) does not split into 6"]),
])
def test_tensor_parallel_rules(n, problems):
    assert tp_problems(ODD, n) == problems


def test_quantization_groups_are_checked_only_on_an_otherwise_valid_size():
    assert tp_problems(ODD, 1, group_size=128) == [
        "intermediate size 1000 / 1 is not a whole number of 128-wide quantization groups"]
    assert tp_problems(ODD, 1, group_size=8) == []                # 1000 and 6 x 64 = 384 are multiples of 8
    assert tp_problems(ODD, 1, group_size=384) == [
        "intermediate size 1000 / 1 is not a whole number of 384-wide quantization groups"]
    assert tp_problems(ODD, 2, group_size=128) == tp_problems(ODD, 2)
    # heads x head dim = 384: a whole number of 128-wide groups, not of 256-wide ones.
    even = ModelArch("even", "x/even", 1.0, 2, 6, 3, 64, 4096, "bf16", 384, 1024, 1024)
    assert tp_problems(even, 1, group_size=128) == []
    assert tp_problems(even, 1, group_size=256) == [
        "attention output 384 / 1 is not a whole number of 256-wide quantization groups"]
    assert tp_sizes(ODD, 6) == [1] and tp_sizes(L8, 8) == [1, 2, 4, 8] and tp_sizes(L8, 3) == [1, 2]


def test_cheapest_placement_and_its_alternatives():
    p = place(L8, L8.weight_bytes("bf16"), 2, 8192, 8, [Candidate("h", H100, 8, 80.0), Candidate("l", L4, 4, 10.0)],
              0.9)
    f = fit(L8, L8.weight_bytes("bf16"), 2, L4, 2, 65536, 0.9)
    assert (p.pool, p.gpu, p.tensor_parallel, p.gpus_per_node, p.node_price_hour) == ("l", L4, 2, 4, 10.0)
    assert (p.kv_tokens, p.kv_cache_bytes, p.sequences_at_context) == (159104, 10428088320, 159104 // 8192)
    assert p.kv_cache_bytes == f.kv_bytes
    assert p.price_hour == 5.0                                  # half a 4-GPU node
    assert p.weight_gib == pytest.approx(2 * L8.weight_bytes("bf16") / 2 / GIB)
    assert p.needed_gib == pytest.approx(f.needed_bytes / GIB) and p.usable_gib == pytest.approx(f.usable_bytes / GIB)
    assert p.overhead_gib == pytest.approx(f.overhead_bytes / GIB)
    # Ties on price go to fewer GPUs; the next three are listed.
    assert p.alternatives == ("h tp=1 ($10.00/h)", "l tp=4 ($10.00/h)", "h tp=2 ($20.00/h)")
    assert p.fallbacks == () and p.pools == ("l",)


def test_one_template_across_pools_takes_the_smaller_cache_and_the_first_pools_price():
    p = place_across(L8, L8.weight_bytes("bf16"), 2, 8192, 8,
                     [Candidate("h", H100, 8, 80.0), Candidate("a", A10G, 4, 10.0)], 0.9)
    on_a10g = fit(L8, L8.weight_bytes("bf16"), 2, A10G, 2, 65536, 0.9)
    assert (p.pool, p.tensor_parallel, p.price_hour, p.pools) == ("h", 2, 20.0, ("h", "a"))
    assert (p.kv_tokens, p.kv_cache_bytes) == (on_a10g.kv_tokens, on_a10g.kv_bytes) == (172128, 11281629184)
    assert p.usable_gib == pytest.approx(fit(L8, L8.weight_bytes("bf16"), 2, H100, 2, 0, 0.9).usable_bytes / GIB)
    (fb,) = p.fallbacks
    assert (fb.pool, fb.gpu, fb.kv_tokens, fb.price_hour) == ("a", A10G, 172128, 5.0)
    single = place_across(L8, L8.weight_bytes("bf16"), 2, 8192, 8, [Candidate("a", A10G, 4, 10.0)], 0.9)
    assert single == place(L8, L8.weight_bytes("bf16"), 2, 8192, 8, [Candidate("a", A10G, 4, 10.0)], 0.9)


def test_no_fit_reasons():
    weights = L70.weight_bytes("bf16")
    with pytest.raises(NoFit) as e:
        place(L70, weights, 2, 8192, 8, [Candidate("l", L4, 1, 1.0)], 0.9)
    assert str(e.value) == (
        "fits no allowed pool for 8192 tokens x 8 sequences (weights 134.1 GiB): pool 'l' (1x L4 24GB): needs "
        "163.1 GiB on 1 GPU(s) (weights 134.1 + overhead 9.0 + KV for 65536 tokens), has 20.0 GiB at utilization 0.9")
    with pytest.raises(NoFit) as e:
        place(L70, weights, 2, 8192, 8, [Candidate("l", L4, 4, 1.0)], 0.9, fixed_tp=3)
    assert str(e.value).endswith(
        "pool 'l' (4x L4 24GB): tensorParallel 3 is not possible (64 attention heads do not split into 3; 8 KV "
        "heads neither split into 3 nor replicate evenly over 3; intermediate size 28672 does not split into 3)")
    with pytest.raises(NoFit) as e:
        place(L8, L8.weight_bytes("bf16"), 2, 8192, 8, [Candidate("l", L4, 4, 1.0)], 0.9, fixed_tp=8)
    assert str(e.value).endswith("pool 'l' (4x L4 24GB): tensorParallel 8 is not possible (a node has only 4 GPUs)")
    with pytest.raises(NoFit) as e:
        place(ODD, ODD.weight_bytes("bf16"), 2, 1024, 1, [Candidate("o", L4, 2, 1.0)], 0.9, group_size=128)
    assert str(e.value).endswith("pool 'o' (2x L4 24GB): no tensor-parallel size <= 2 that vLLM accepts for odd")
    # A fixed size vLLM accepts for the heads but that splits a 128-wide quantization group (1000 / 1): the
    # library refuses it itself, whatever its caller checked before.
    with pytest.raises(NoFit) as e:
        place(ODD, ODD.weight_bytes("bf16"), 2, 1024, 1, [Candidate("o", L4, 2, 1.0)], 0.9, fixed_tp=1,
              group_size=128)
    assert str(e.value).endswith("pool 'o' (2x L4 24GB): tensorParallel 1 is not possible (intermediate size 1000 / "
                                 "1 is not a whole number of 128-wide quantization groups)")
    # Every pool that cannot take it is named, one reason each, in the order the pools were listed.
    with pytest.raises(NoFit) as e:
        place(L8, L8.weight_bytes("bf16"), 2, 8192, 8, [Candidate("l", L4, 4, 1.0), Candidate("a", A10G, 2, 1.0)],
              0.9, fixed_tp=8)
    assert str(e.value).split(": ", 1)[1] == (
        "pool 'l' (4x L4 24GB): tensorParallel 8 is not possible (a node has only 4 GPUs); "
        "pool 'a' (2x A10G 24GB): tensorParallel 8 is not possible (a node has only 2 GPUs)")
    with pytest.raises(NoFit, match="^no GPU pool is allowed for it$"):
        place(L8, L8.weight_bytes("bf16"), 2, 8192, 8, [], 0.9)
    with pytest.raises(NoFit) as e:
        place_across(L70, weights, 2, 8192, 8, [Candidate("h", H100, 8, 80.0), Candidate("l", L4, 1, 1.0)], 0.9)
    assert str(e.value) == (
        "has no tensor-parallel size that fits every listed pool (one pod template runs on all of them; list pools "
        "whose nodes can run the same size, or one pool): pool 'h' alone needs tensor-parallel 4; pool 'l' (1x L4 "
        "24GB): needs 163.1 GiB on 1 GPU(s) (weights 134.1 + overhead 9.0 + KV for 65536 tokens), has 20.0 GiB at "
        "utilization 0.9")
