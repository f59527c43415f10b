"""KAITO's vLLM-calibrated memory estimator (shared/FACTS.md), and the placement search over a stack's pools.

For a placement of n GPUs of memory M at memory utilisation u:

    n * M * u  >=  1.02 * W  +  2.3 GiB * n  +  kv_bytes_per_token * tokens

W is the weight bytes (all experts for MoE), kv_bytes_per_token = 2 * layers * kv_heads * head_dim * kv_bytes.
Placements are single-node: n never exceeds the GPUs of one node (multi-node tensor/pipeline parallelism is not
planned by this program), and n must divide the attention heads (vLLM's tensor-parallel constraint).
"""
from dataclasses import dataclass, field
from typing import Optional, Sequence

from catalog.gpus import GpuModel
from catalog.models import ModelArch

GIB = 1024 ** 3
WEIGHT_FACTOR = 1.02
OVERHEAD_GIB_PER_GPU = 2.3


@dataclass(frozen=True)
class Candidate:
    """One pool a model may run on, with what a node of it costs."""
    pool: str
    gpu: GpuModel
    gpus_per_node: int            # schedulable GPUs per node (MIG/time-slicing pools are not candidates)
    node_price_hour: float        # of the pool's preferred capacity type


@dataclass(frozen=True)
class Fit:
    gpus: int
    usable_bytes: float           # n * M * u
    needed_bytes: float           # weights + overhead + KV for the target tokens
    kv_bytes: float               # what is left for the KV cache
    kv_tokens: int

    @property
    def fits(self) -> bool:
        return self.usable_bytes >= self.needed_bytes


@dataclass(frozen=True)
class Placement:
    pool: str
    gpu: GpuModel
    tensor_parallel: int
    kv_tokens: int                # KV cache room, tokens
    sequences_at_context: int     # concurrent sequences of max context the cache holds
    weight_gib: float
    needed_gib: float
    usable_gib: float
    price_hour: float             # share of a node this replica uses
    alternatives: tuple[str, ...] = field(default=())   # other feasible placements, cheapest first


class NoFit(Exception):
    """A model that fits none of its allowed pools; the message carries the numbers."""


def kv_bytes_per_token(arch: ModelArch, kv_dtype_bytes: float) -> float:
    return arch.kv_bytes_per_token(kv_dtype_bytes)


def fit(arch: ModelArch, weight_dtype: str, kv_dtype_bytes: float, gpu: GpuModel, gpus: int,
        tokens: int, utilization: float) -> Fit:
    usable = gpus * gpu.memory_mib * 1024 ** 2 * utilization
    fixed = WEIGHT_FACTOR * arch.weight_bytes(weight_dtype) + OVERHEAD_GIB_PER_GPU * GIB * gpus
    per_token = kv_bytes_per_token(arch, kv_dtype_bytes)
    kv = usable - fixed
    return Fit(gpus, usable, fixed + per_token * tokens, kv, max(0, int(kv // per_token)))


def tp_sizes(arch: ModelArch, gpus_per_node: int) -> list[int]:
    """Powers of two up to a node that divide the attention heads (vLLM rejects the rest)."""
    out, n = [], 1
    while n <= gpus_per_node:
        if arch.attention_heads % n == 0:
            out.append(n)
        n *= 2
    return out


def place(arch: ModelArch, weight_dtype: str, kv_dtype_bytes: float, context: int, concurrency: int,
          candidates: Sequence[Candidate], utilization: float, fixed_tp: Optional[int] = None) -> Placement:
    """The cheapest feasible placement; ties go to fewer GPUs, then more KV room.

    Cost of a replica = node price * (GPUs used / GPUs per node): replicas bin-pack onto nodes.
    """
    tokens = context * concurrency
    feasible: list[tuple[float, int, int, Candidate, Fit]] = []
    reasons: list[str] = []
    for c in candidates:
        sizes = [fixed_tp] if fixed_tp else tp_sizes(arch, c.gpus_per_node)
        sizes = [n for n in sizes if n <= c.gpus_per_node]
        best_for_pool: Optional[Fit] = None
        for n in sizes:
            f = fit(arch, weight_dtype, kv_dtype_bytes, c.gpu, n, tokens, utilization)
            if best_for_pool is None or f.gpus > best_for_pool.gpus:
                best_for_pool = f
            if f.fits:
                cost = c.node_price_hour * n / c.gpus_per_node
                feasible.append((cost, n, -f.kv_tokens, c, f))
        if best_for_pool is None and fixed_tp and fixed_tp > c.gpus_per_node:
            reasons.append(f"pool '{c.pool}' ({c.gpus_per_node}x {c.gpu.display}): tensorParallel {fixed_tp} needs "
                           f"{fixed_tp} GPUs on one node")
        elif best_for_pool is None:
            reasons.append(f"pool '{c.pool}' ({c.gpus_per_node}x {c.gpu.display}): no tensor-parallel size "
                           f"<= {c.gpus_per_node} divides {arch.attention_heads} attention heads"
                           + (f" (tensorParallel {fixed_tp} requested)" if fixed_tp else ""))
        elif not best_for_pool.fits:
            reasons.append(f"pool '{c.pool}' ({c.gpus_per_node}x {c.gpu.display}): needs "
                           f"{best_for_pool.needed_bytes / GIB:.1f} GiB on {best_for_pool.gpus} GPU(s), "
                           f"has {best_for_pool.usable_bytes / GIB:.1f} GiB at utilization {utilization}")
    if not candidates:
        raise NoFit("no GPU pool is allowed for it")
    if not feasible:
        weights = WEIGHT_FACTOR * arch.weight_bytes(weight_dtype) / GIB
        raise NoFit(f"fits no allowed pool for {context} tokens x {concurrency} sequences "
                    f"(weights {weights:.1f} GiB): " + "; ".join(reasons))
    feasible.sort(key=lambda t: (t[0], t[1], t[2], t[3].pool))
    cost, n, _, c, f = feasible[0]
    alternatives = tuple(f"{alt[3].pool} tp={alt[1]} (${alt[0]:.2f}/h)" for alt in feasible[1:4])
    return Placement(
        pool=c.pool, gpu=c.gpu, tensor_parallel=n, kv_tokens=f.kv_tokens,
        sequences_at_context=f.kv_tokens // context if context else 0,
        weight_gib=arch.weight_bytes(weight_dtype) / GIB, needed_gib=f.needed_bytes / GIB,
        usable_gib=f.usable_bytes / GIB, price_hour=cost, alternatives=alternatives)
