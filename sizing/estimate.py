"""The memory model of the pinned vLLM release (catalog/versions.py, v0.33.0) with KAITO's overhead rule, and the
placement search over a stack's pools.

Per GPU of a tensor-parallel group of n GPUs (vLLM allocates the KV cache per GPU, `kv_cache_memory_bytes` is
"Size of KV Cache per GPU in bytes", vllm/config/cache.py):

    budget   = torch_total * utilization                  vllm/v1/worker/utils.py request_memory
    weights  = 1.02 * W / n                                KAITO WeightExpansionFactor
    overhead = base(gpu) + 0.05 * weights                  KAITO BaseOverheadGiB (2.3, 1.5 on the A10) and
                                                           OverheadWeightFactor (pkg/workspace/estimator/budget.go)
    kv       = budget - weights - overhead
    tokens   = (floor(kv / (16 * b)) - 1) * 16             16-token blocks (CacheConfig.DEFAULT_BLOCK_SIZE), one
                                                           held back as the null block (kv_cache_planning.py)
    b        = 2 * layers * max(1, kv_heads // n) * head_dim * kv_dtype_bytes
                                                           KV heads split, or replicated when n > kv_heads
                                                           (ModelConfig.get_num_kv_heads, QKVParallelLinear)

W is the checkpoint's resident weight (catalog/models.py: quantized checkpoints keep embeddings and lm_head in 16
bits). A placement fits when tokens >= context x concurrency. The server is then started with
`--kv-cache-memory-bytes` = the planned blocks (components/serving/common.py), so it allocates exactly the planned
tokens; the (1 - utilization) share vLLM leaves untouched absorbs an overhead larger than estimated.

Placements are single-node: n never exceeds the GPUs of one node. n must satisfy every divisibility rule vLLM
0.33.0 applies (`tp_problems`), so non-power-of-two sizes are valid where the heads and dimensions allow.
"""
import math
from dataclasses import dataclass, field
from typing import Optional, Sequence

from catalog.gpus import GpuModel
from catalog.models import ModelArch

GIB = 1024 ** 3
WEIGHT_FACTOR = 1.02
OVERHEAD_WEIGHT_FACTOR = 0.05
BLOCK_TOKENS = 16
VOCAB_PADDING = 64                # vocab_parallel_embedding.py DEFAULT_VOCAB_PADDING_SIZE


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
    budget_bytes: float           # per GPU: torch total x utilization
    weight_bytes: float           # per GPU
    overhead_bytes: float         # per GPU
    kv_bytes: float               # per GPU, what the server is told to allocate (whole blocks)
    kv_bytes_per_token: float     # per GPU (with replicated KV heads)
    kv_tokens: int
    target_tokens: int

    @property
    def fits(self) -> bool:
        return self.kv_tokens >= self.target_tokens and self.kv_tokens > 0

    @property
    def needed_bytes(self) -> float:
        """All GPUs: weights, overhead and the blocks the target tokens need (plus the null block)."""
        blocks = math.ceil(self.target_tokens / BLOCK_TOKENS) + 1
        return self.gpus * (self.weight_bytes + self.overhead_bytes
                            + blocks * BLOCK_TOKENS * self.kv_bytes_per_token)

    @property
    def usable_bytes(self) -> float:
        return self.gpus * self.budget_bytes


@dataclass(frozen=True)
class PoolFit:
    """How the placement's pod template fits one more pool (cross-pool fallback)."""
    pool: str
    gpu: GpuModel
    kv_tokens: int                # what this pool's GPUs could hold (the server is told the template's figure)
    price_hour: float


@dataclass(frozen=True)
class Placement:
    pool: str
    gpu: GpuModel
    tensor_parallel: int
    kv_tokens: int                # KV cache the server allocates, tokens
    kv_cache_bytes: int           # per GPU: the --kv-cache-memory-bytes value that allocates kv_tokens
    sequences_at_context: int     # concurrent sequences of max context the cache holds
    weight_gib: float             # all GPUs
    needed_gib: float
    usable_gib: float
    overhead_gib: float           # per GPU
    price_hour: float             # share of a node this replica uses
    gpus_per_node: int = 1
    node_price_hour: float = 0.0
    alternatives: tuple[str, ...] = field(default=())   # other feasible placements, cheapest first
    fallbacks: tuple[PoolFit, ...] = field(default=())  # further pools the same pod template runs on

    @property
    def pools(self) -> tuple[str, ...]:
        return (self.pool,) + tuple(f.pool for f in self.fallbacks)


class NoFit(Exception):
    """A model that fits none of its allowed pools; the message carries the numbers."""


def tp_problems(arch: ModelArch, n: int, group_size: Optional[int] = None) -> list[str]:
    """Why vLLM 0.33.0 would refuse tensor-parallel size n for this model (empty = valid):
    - attention heads % n (ModelConfig.verify_with_parallel_config; QKVParallelLinear divide);
    - KV heads split evenly (kv % n) or replicate evenly (n % kv) (QKVParallelLinear: num_kv_head_replicas =
      divide(tp, kv) when tp >= kv, else divide(kv, tp));
    - the MLP intermediate size (per expert for MoE) % n (MergedColumnParallelLinear / RowParallelLinear divide);
    - the vocabulary padded to 64 % n (VocabParallelEmbedding divide(num_embeddings_padded, tp));
    - quantized checkpoints: each rank's share of a row-parallel input holds whole groups
      (verify_group_size_divides_partition)."""
    out = []
    if arch.attention_heads % n:
        out.append(f"{arch.attention_heads} attention heads do not split into {n}")
    if arch.kv_heads % n and n % arch.kv_heads:
        out.append(f"{arch.kv_heads} KV heads neither split into {n} nor replicate evenly over {n}")
    if arch.intermediate and arch.intermediate % n:
        out.append(f"intermediate size {arch.intermediate} does not split into {n}")
    if arch.vocab:
        padded = -(-arch.vocab // VOCAB_PADDING) * VOCAB_PADDING
        if padded % n:
            out.append(f"vocabulary {arch.vocab} (padded {padded}) does not split into {n}")
    if group_size and not out:
        for name, size in (("intermediate size", arch.intermediate),
                           ("attention output", arch.attention_heads * arch.head_dim)):
            if size and (size // n) % group_size:
                out.append(f"{name} {size} / {n} is not a whole number of {group_size}-wide quantization groups")
    return out


def tp_sizes(arch: ModelArch, gpus_per_node: int, group_size: Optional[int] = None) -> list[int]:
    """Every tensor-parallel size up to a node that vLLM accepts for this model."""
    return [n for n in range(1, gpus_per_node + 1) if not tp_problems(arch, n, group_size)]


def kv_bytes_per_token_per_gpu(arch: ModelArch, n: int, kv_dtype_bytes: float) -> float:
    return 2 * arch.layers * max(1, arch.kv_heads // n) * arch.head_dim * kv_dtype_bytes


def overhead_bytes(gpu: GpuModel, weight_per_gpu: float) -> float:
    return gpu.overhead_base_gib * GIB + OVERHEAD_WEIGHT_FACTOR * weight_per_gpu


def fit(arch: ModelArch, weight_bytes: float, kv_dtype_bytes: float, gpu: GpuModel, gpus: int,
        tokens: int, utilization: float) -> Fit:
    budget = math.ceil(gpu.torch_bytes * utilization)
    weights = WEIGHT_FACTOR * weight_bytes / gpus
    overhead = overhead_bytes(gpu, weights)
    per_token = kv_bytes_per_token_per_gpu(arch, gpus, kv_dtype_bytes)
    blocks = max(0, math.floor((budget - weights - overhead) / (BLOCK_TOKENS * per_token)))
    kv = blocks * BLOCK_TOKENS * per_token
    return Fit(gpus, budget, weights, overhead, kv, per_token, max(0, blocks - 1) * BLOCK_TOKENS, tokens)


def _pool_reason(c: Candidate, f: Optional[Fit], arch: ModelArch, utilization: float, fixed_tp: Optional[int],
                 group_size: Optional[int]) -> str:
    head = f"pool '{c.pool}' ({c.gpus_per_node}x {c.gpu.display})"
    if f is None:
        if fixed_tp:
            why = "; ".join(tp_problems(arch, fixed_tp, group_size)) or f"a node has only {c.gpus_per_node} GPUs"
            return f"{head}: tensorParallel {fixed_tp} is not possible ({why})"
        return f"{head}: no tensor-parallel size <= {c.gpus_per_node} that vLLM accepts for {arch.key}"
    return (f"{head}: needs {f.needed_bytes / GIB:.1f} GiB on {f.gpus} GPU(s) "
            f"(weights {f.gpus * f.weight_bytes / GIB:.1f} + overhead {f.gpus * f.overhead_bytes / GIB:.1f} + KV for {f.target_tokens} tokens), has "
            f"{f.usable_bytes / GIB:.1f} GiB at utilization {utilization}")


def _placement(c: Candidate, f: Fit, context: int, alternatives=(), fallbacks=()) -> Placement:
    return Placement(
        pool=c.pool, gpu=c.gpu, tensor_parallel=f.gpus, kv_tokens=f.kv_tokens, kv_cache_bytes=int(f.kv_bytes),
        sequences_at_context=f.kv_tokens // context if context else 0,
        weight_gib=f.gpus * f.weight_bytes / WEIGHT_FACTOR / GIB, needed_gib=f.needed_bytes / GIB,
        usable_gib=f.usable_bytes / GIB, overhead_gib=f.overhead_bytes / GIB,
        price_hour=c.node_price_hour * f.gpus / c.gpus_per_node, gpus_per_node=c.gpus_per_node,
        node_price_hour=c.node_price_hour, alternatives=tuple(alternatives), fallbacks=tuple(fallbacks))


def place(arch: ModelArch, weight_bytes: float, kv_dtype_bytes: float, context: int, concurrency: int,
          candidates: Sequence[Candidate], utilization: float, fixed_tp: Optional[int] = None,
          group_size: Optional[int] = None) -> Placement:
    """The cheapest feasible placement on one of the candidates; ties go to fewer GPUs, then more KV room.

    Cost of a replica = node price * (GPUs used / GPUs per node): replicas bin-pack onto nodes.
    """
    if not candidates:
        raise NoFit("no GPU pool is allowed for it")
    tokens = context * concurrency
    feasible: list[tuple[float, int, int, str, Candidate, Fit]] = []
    reasons: list[str] = []
    for c in candidates:
        sizes = [n for n in ([fixed_tp] if fixed_tp else tp_sizes(arch, c.gpus_per_node, group_size))
                 if n <= c.gpus_per_node and not tp_problems(arch, n, group_size)]
        fits = [fit(arch, weight_bytes, kv_dtype_bytes, c.gpu, n, tokens, utilization) for n in sizes]
        ok = [f for f in fits if f.fits]
        for f in ok:
            feasible.append((c.node_price_hour * f.gpus / c.gpus_per_node, f.gpus, -f.kv_tokens, c.pool, c, f))
        if not ok:
            reasons.append(_pool_reason(c, max(fits, key=lambda f: (f.kv_tokens, f.gpus)) if fits else None, arch,
                                        utilization, fixed_tp, group_size))
    if not feasible:
        raise NoFit(f"fits no allowed pool for {context} tokens x {concurrency} sequences "
                    f"(weights {WEIGHT_FACTOR * weight_bytes / GIB:.1f} GiB): " + "; ".join(reasons))
    feasible.sort(key=lambda t: t[:4])
    _, _, _, _, c, f = feasible[0]
    alternatives = [f"{alt[3]} tp={alt[1]} (${alt[0]:.2f}/h)" for alt in feasible[1:4]]
    return _placement(c, f, context, alternatives)


def place_across(arch: ModelArch, weight_bytes: float, kv_dtype_bytes: float, context: int, concurrency: int,
                 candidates: Sequence[Candidate], utilization: float, fixed_tp: Optional[int] = None,
                 group_size: Optional[int] = None) -> Placement:
    """One pod template for every candidate pool (cross-pool fallback): a Deployment, InferenceService or Ray
    worker group has one GPU count and one --tensor-parallel-size, so the size must be valid and fit on each
    pool, and the server is told the smallest per-GPU KV cache of them (it then holds the same tokens wherever it
    lands). `candidates` come in the autoscaler's chain order: the first is where replicas go while it has
    capacity, so it is the placement's pool (and its price the replica's); the cheapest size there wins. A pool
    that cannot run any size the others can is an error naming it, never dropped silently."""
    if len(candidates) < 2:
        return place(arch, weight_bytes, kv_dtype_bytes, context, concurrency, candidates, utilization, fixed_tp,
                     group_size)
    tokens = context * concurrency
    smallest = min(c.gpus_per_node for c in candidates)
    sizes = [fixed_tp] if fixed_tp else tp_sizes(arch, smallest, group_size)
    options = []
    for n in sizes:
        if n > smallest or tp_problems(arch, n, group_size):
            continue
        fits = {c.pool: fit(arch, weight_bytes, kv_dtype_bytes, c.gpu, n, tokens, utilization) for c in candidates}
        if all(f.fits for f in fits.values()):
            first = candidates[0]
            options.append((first.node_price_hour * n / first.gpus_per_node, n, first, fits))
    if not options:
        # Explain per pool what it would need on its own, so the user sees which pool breaks the template.
        reasons = []
        for c in candidates:
            try:
                alone = place(arch, weight_bytes, kv_dtype_bytes, context, concurrency, [c], utilization, fixed_tp,
                              group_size)
                reasons.append(f"pool '{c.pool}' alone needs tensor-parallel {alone.tensor_parallel}")
            except NoFit as e:
                reasons.append(str(e).split(": ", 1)[-1])
        raise NoFit("has no tensor-parallel size that fits every listed pool (one pod template runs on all of "
                    "them; list pools whose nodes can run the same size, or one pool): " + "; ".join(reasons))
    options.sort(key=lambda o: (o[0], o[1]))
    _, n, primary, fits = options[0]
    template = min(fits.values(), key=lambda f: f.kv_tokens)
    chosen = fit(arch, weight_bytes, kv_dtype_bytes, primary.gpu, n, tokens, utilization)
    # The template's KV cache (smallest of the pools) on the primary pool's figures for weights and budget.
    chosen = Fit(chosen.gpus, chosen.budget_bytes, chosen.weight_bytes, chosen.overhead_bytes, template.kv_bytes,
                 chosen.kv_bytes_per_token, template.kv_tokens, tokens)
    fallbacks = [PoolFit(c.pool, c.gpu, fits[c.pool].kv_tokens, c.node_price_hour * n / c.gpus_per_node)
                 for c in candidates if c.pool != primary.pool]
    return _placement(primary, chosen, context, fallbacks=fallbacks)
