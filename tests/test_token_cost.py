"""The $/token estimate that cost tiers and federation order backends by (sizing/token_cost.py), with its
arithmetic written out for a shipped stack."""
import pytest

from catalog.gpus import GPUS
from plan.runtime import ROOT
from plan.stackfile import load_stack_config
from sizing.token_cost import BANDWIDTH_GBPS, EFFICIENCY, token_cost
from spec.stack import load, project_config


def _models(stack: str) -> dict:
    _, config, secret_keys = load_stack_config(ROOT, stack)
    spec = load(project_config(config), {k.partition(":")[2] for k in secret_keys}, stack)
    return {m.name: m for m in spec.models}


def test_every_gpu_has_a_bandwidth():
    assert set(BANDWIDTH_GBPS) == set(GPUS)


def test_dev_llama_8b_on_l40s():
    m = _models("dev")["llama-8b"]
    assert (m.placement.gpu.key, m.placement.tensor_parallel, m.concurrency, m.max_context) == ("l40s-48gb", 1, 8, 8192)
    # weights 8.03e9 params x 2 bytes = 16.06e9; KV per token 2 x 32 layers x 8 heads x 128 x 2 bytes = 131,072;
    # 8 sequences x 4,096 tokens (half of 8,192) x 131,072 = 4.295e9; step = 20.355e9 bytes.
    # bandwidth 864e9 x 0.6 = 518.4e9 B/s -> step 39.27 ms -> 8 / 0.03927 = 203.7 tokens/s.
    c = token_cost(m)
    assert EFFICIENCY == 0.6
    assert c.tokens_per_second == pytest.approx(203.7, abs=0.05)
    # $0.78/h / (203.7 x 3600 tokens/h) x 1e6 = $1.0634 per 1M tokens
    assert c.usd_per_hour == pytest.approx(0.78)
    assert c.usd_per_million_tokens == pytest.approx(0.78 / (c.tokens_per_second * 3600) * 1e6, rel=1e-3)
    assert c.usd_per_million_tokens == pytest.approx(1.0634, abs=1e-3)


def test_tensor_parallel_multiplies_bandwidth_and_bigger_models_cost_more():
    prod = _models("prod")
    big, small = token_cost(prod["llama-70b"]), token_cost(prod["llama-8b"])
    assert prod["llama-70b"].placement.tensor_parallel == 4
    assert big.usd_per_million_tokens > small.usd_per_million_tokens


def test_an_unpriced_placement_costs_nothing_per_token():
    m = _models("edge")["qwen-7b"]
    assert token_cost(m).usd_per_million_tokens == 0.0 and token_cost(m).tokens_per_second > 0
