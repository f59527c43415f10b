"""What a generated token costs on a model's placement: the estimate that cost-tier routing and federation order
backends by, and that the plan's routing table prints.

Decode is bound by memory bandwidth: every step reads the resident weights once and the KV cache of every live
sequence, across the tensor-parallel group's GPUs together, and yields one token per sequence:

    step_seconds   = (W + concurrency * (max_context / 2) * kv_bytes_per_token) / (n * bandwidth * EFFICIENCY)
    tokens/second  = concurrency / step_seconds                       (per replica, at the planned concurrency)
    $ / 1M tokens  = replica $/h / (tokens/second * 3600) * 1e6

Live sequences are taken at half the planned context on average. EFFICIENCY is the share of peak bandwidth a
decode step reaches (an assumption, not a measurement: serving benchmarks of vLLM commonly land between 50% and
80%). Prefill is compute bound and not counted, so the figure is an output-token estimate for comparing backends
of one plan with each other, not a bill. MoE models are counted with all experts read (an upper bound).
"""
from dataclasses import dataclass

# Peak HBM/GDDR bandwidth per GPU, GB/s (10^9 bytes), from NVIDIA's product datasheets: A100 40GB SXM4 1,555;
# A100 80GB SXM 2,039; H100 SXM5 3,350; H100 NVL 3,900; H200 4,800; A10G 600 (AWS G5: the A10's 600); L4 300;
# L40S 864; T4 320.
BANDWIDTH_GBPS = {
    "a100-40gb": 1555, "a100-80gb": 2039, "h100-80gb": 3350, "h100-nvl-94gb": 3900, "h200-141gb": 4800,
    "a10g-24gb": 600, "l4-24gb": 300, "l40s-48gb": 864, "t4-16gb": 320,
}
EFFICIENCY = 0.6
SECONDS_PER_HOUR = 3600


@dataclass(frozen=True)
class TokenCost:
    tokens_per_second: float          # per replica, decode, at the planned concurrency
    usd_per_hour: float               # per replica: its share of the node (sizing/estimate.py Placement.price_hour)
    usd_per_million_tokens: float     # 0 when the placement has no price (bring-your-own cluster)


def token_cost(model) -> TokenCost:
    """The estimate for a placed model (spec/models.py ModelSpec with `placement`)."""
    p = model.placement
    if p is None:
        raise ValueError(f"model {model.name} has no placement: token cost is estimated on placed models only")
    step_bytes = model.weight_bytes + model.concurrency * (model.max_context / 2) * model.arch.kv_bytes_per_token(
        model.kv_bytes)
    bandwidth = p.tensor_parallel * BANDWIDTH_GBPS[p.gpu.key] * 1e9 * EFFICIENCY
    tokens_per_second = model.concurrency * bandwidth / step_bytes
    per_million = p.price_hour / (tokens_per_second * SECONDS_PER_HOUR) * 1e6 if p.price_hour else 0.0
    return TokenCost(tokens_per_second=round(tokens_per_second, 1), usd_per_hour=round(p.price_hour, 4),
                     usd_per_million_tokens=round(per_million, 4))
