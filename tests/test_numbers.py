"""Sizing and cost figures of the shipped stacks, exact, with the arithmetic of the current formulas.

These numbers are expected to move when the sizing model or the price catalog changes: update them together with
that change (rework the arithmetic in the comments, do not just paste the new output). Numbers that are design
decisions independent of sizing live in tests/test_decisions.py.

KV tokens: the estimator's arithmetic is written out in tests/test_sizing.py (docs/sizing.md); here are its figures for
the shipped stacks.
Cost: a replica pays TP / GPUs-per-node of its node's $/h; a month is 730 h; min replicas x that.
"""
import functools

import pytest

from plan.cost import report
from tests.harness import run_stack

report_of = functools.lru_cache(maxsize=None)(lambda stack: report(run_stack(stack).stack))


def _model(stack: str, name: str) -> dict:
    (m,) = [m for m in report_of(stack)["models"] if m["model"] == name]
    return m


@pytest.mark.parametrize("stack,model,tokens,sequences", [
    # The estimator (vLLM 0.33.0 + KAITO's overhead) is worked through by hand in tests/test_sizing.py; these are
    # its figures for the shipped stacks, which cost.md and the servers' --kv-cache-memory-bytes carry.
    ("prod", "llama-8b", 433392, 52),       # H100, TP 1: the 8B worked example of test_sizing.py
    ("prod", "llama-70b", 441904, 53),      # H100, TP 4, bf16 KV
    ("gcp-prod", "llama-70b", 883824, 107),  # the same with an FP8 KV cache: twice the tokens
    ("gcp-prod", "llama-8b", 433392, 52),   # one template for H100 and A100: the smaller per-GPU cache (H100)
    ("dev", "llama-8b", 177952, 21),        # L40S, TP 1
    ("edge", "qwen-7b", 47936, 5),          # L4, TP 1, 4 sequences of 8k planned
])
def test_kv_tokens(stack, model, tokens, sequences):
    m = _model(stack, model)
    assert (m["kvTokens"], m["sequencesAtContext"], m["maxContext"]) == (tokens, sequences, 8192)
    # The server is told exactly this cache: --kv-cache-memory-bytes is the planned bytes per GPU.
    assert int(m["enforcedBy"]["--kv-cache-memory-bytes"]) > 0


@pytest.mark.parametrize("stack,model,tp,per_hour,monthly", [
    ("prod", "llama-70b", 4, 27.52, 20089.6),     # p5.48xlarge $55.04/h x 4/8 = 27.52; x 730 h x 1 replica
    ("prod", "llama-8b", 1, 6.88, 5022.4),        # 55.04 x 1/8 = 6.88; x 730
    ("gcp-prod", "llama-70b", 4, 44.12, 32211.25),  # a3-highgpu-8g $88.25/h x 4/8 = 44.125 (shown 44.12); x 730
    # lists [h100, a100]: priced on the first pool in stack order, where the autoscaler puts replicas first:
    # a3-highgpu-8g $88.25/h x 1/8 = 11.03125 (shown 11.03); x 730 = 8052.81
    ("gcp-prod", "llama-8b", 1, 11.03, 8052.81),
    ("azure-prod", "llama-70b", 4, 49.16, 35886.8),  # ND96isr_H100_v5 $98.32/h x 4/8 = 49.16; x 730
    ("azure-prod", "llama-8b", 1, 1.47, 0.0),     # NC24ads_A100_v4 spot $1.47/h, one GPU; min replicas 0 -> $0
    ("dev", "llama-8b", 1, 0.78, 569.4),          # g6e.xlarge spot $0.78/h, one GPU; x 730
])
def test_cost_per_model(stack, model, tp, per_hour, monthly):
    m = _model(stack, model)
    assert (m["tensorParallel"], m["replicaPerHour"], m["monthlyAtMinReplicas"]) == (tp, per_hour, monthly)


@pytest.mark.parametrize("stack", ["dev", "prod", "gcp-prod", "azure-prod"])
def test_every_catalog_priced_pool_names_its_price_source_and_date(stack):
    """cost.md's `price as of` column: a list price without its date and source cannot be checked or refreshed."""
    from catalog.prices import price_key
    spec = run_stack(stack).stack.spec
    pools = [p for p in report_of(stack)["pools"] if p["instanceType"]]
    assert pools, stack
    for p in pools:
        listed = spec.prices[price_key(p["cloud"], p["instanceType"])]
        assert (p["priceSource"], p["priceAsOf"]) == (listed.source, listed.as_of), p["pool"]
        assert listed.source and listed.as_of[:2] == "20", p["pool"]
