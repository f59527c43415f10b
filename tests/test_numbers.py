"""Sizing and cost figures of the shipped stacks, exact, with the arithmetic of the current formulas.

These numbers are expected to move when the sizing model or the price catalog changes: update them together with
that change (rework the arithmetic in the comments, do not just paste the new output). Numbers that are design
decisions independent of sizing live in tests/test_decisions.py.

KV tokens (README "Sizing"): usable = n x GPU MiB / 1024 x 0.9 (gpu-memory-utilization) GiB;
non-KV = 1.02 x weights GiB + 2.3 GiB x n; tokens = floor((usable - non-KV) x 2^30 / kv_bytes_per_token) with
kv_bytes_per_token = 2 x layers x kv_heads x head_dim x kv dtype bytes; sequences at context = floor(tokens / ctx).
Cost: a replica pays TP / GPUs-per-node of its node's $/h; a month is 730 h; min replicas x that.
"""
import functools
import math

import pytest

from plan.cost import report
from tests.harness import run_stack

GIB = 2 ** 30
report_of = functools.lru_cache(maxsize=None)(lambda stack: report(run_stack(stack).stack))


def kv_tokens(gpu_mib: int, n: int, params_b: float, weight_bytes: float, layers: int, kv_heads: int,
              head_dim: int, kv_bytes: int) -> int:
    usable = n * gpu_mib / 1024 * 0.9
    non_kv = 1.02 * params_b * 1e9 * weight_bytes / GIB + 2.3 * n
    return math.floor((usable - non_kv) * GIB / (2 * layers * kv_heads * head_dim * kv_bytes))


def _model(stack: str, name: str) -> dict:
    (m,) = [m for m in report_of(stack)["models"] if m["model"] == name]
    return m


@pytest.mark.parametrize("stack,model,tokens,sequences,formula", [
    # H100 81559 MiB x 0.9 / 1024 = 71.683 GiB; 8.03e9 x 2 B = 14.957 GiB x 1.02 + 2.3 = 17.556; free 54.127 GiB;
    # 2 x 32 layers x 8 kv heads x 128 x 2 B = 128 KiB/token -> 54.127 x 8192 = 443,404; / 8192 ctx = 54
    ("prod", "llama-8b", 443404, 54, (81559, 1, 8.03, 2, 32, 8, 128, 2)),
    # 4 x 71.683 = 286.731; 70.6e9 x 2 B = 131.503 GiB x 1.02 + 2.3 x 4 = 143.333; free 143.398 GiB;
    # 2 x 80 x 8 x 128 x 2 B = 320 KiB/token -> 143.398 x 3276.8 = 469,886; / 8192 = 57
    ("prod", "llama-70b", 469886, 57, (81559, 4, 70.6, 2, 80, 8, 128, 2)),
    # the same with an FP8 KV cache (1 B): twice the tokens, 939,773; / 8192 = 114
    ("gcp-prod", "llama-70b", 939773, 114, (81559, 4, 70.6, 2, 80, 8, 128, 1)),
    # A100 81920 MiB x 0.9 / 1024 = 72.0 GiB; free 72.0 - 17.556 = 54.444 GiB x 8192 = 446,003; / 8192 = 54
    ("gcp-prod", "llama-8b", 446003, 54, (81920, 1, 8.03, 2, 32, 8, 128, 2)),
    # L40S 46068 MiB x 0.9 / 1024 = 40.489 GiB; free 22.933 GiB x 8192 = 187,869; / 8192 = 22
    ("dev", "llama-8b", 187869, 22, (46068, 1, 8.03, 2, 32, 8, 128, 2)),
    # L4 23034 MiB x 0.9 / 1024 = 20.245 GiB; Qwen2.5 7B 7.6e9 x 2 B = 14.156 GiB x 1.02 + 2.3 = 16.739;
    # free 3.506 GiB; 2 x 28 layers x 4 kv heads x 128 x 2 B = 56 KiB/token -> 3.506 x 18724.6 = 65,639; / 8192 = 8
    ("edge", "qwen-7b", 65639, 8, (23034, 1, 7.6, 2, 28, 4, 128, 2)),
])
def test_kv_tokens(stack, model, tokens, sequences, formula):
    m = _model(stack, model)
    assert kv_tokens(*formula) == tokens       # the arithmetic above, recomputed
    assert (m["kvTokens"], m["sequencesAtContext"], m["maxContext"]) == (tokens, sequences, 8192)


@pytest.mark.parametrize("stack,model,tp,per_hour,monthly", [
    ("prod", "llama-70b", 4, 27.52, 20089.6),     # p5.48xlarge $55.04/h x 4/8 = 27.52; x 730 h x 1 replica
    ("prod", "llama-8b", 1, 6.88, 5022.4),        # 55.04 x 1/8 = 6.88; x 730
    ("gcp-prod", "llama-70b", 4, 44.12, 32211.25),  # a3-highgpu-8g $88.25/h x 4/8 = 44.125 (shown 44.12); x 730
    ("gcp-prod", "llama-8b", 1, 2.03, 1480.07),   # a2-ultragpu-8g spot $16.22/h x 1/8 = 2.0275; x 730 = 1480.075
    ("azure-prod", "llama-70b", 4, 49.16, 35886.8),  # ND96isr_H100_v5 $98.32/h x 4/8 = 49.16; x 730
    ("azure-prod", "llama-8b", 1, 1.47, 0.0),     # NC24ads_A100_v4 spot $1.47/h, one GPU; min replicas 0 -> $0
    ("dev", "llama-8b", 1, 0.78, 569.4),          # g6e.xlarge spot $0.78/h, one GPU; x 730
])
def test_cost_per_model(stack, model, tp, per_hour, monthly):
    m = _model(stack, model)
    assert (m["tensorParallel"], m["replicaPerHour"], m["monthlyAtMinReplicas"]) == (tp, per_hour, monthly)
