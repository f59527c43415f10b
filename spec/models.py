"""The model spec (`llmfleet:models`) and its placement: every model is sized onto a pool before anything renders."""
from dataclasses import dataclass, replace
from typing import Optional, Sequence

from catalog.models import (CHECKPOINTS, DTYPE_BYTES, KV_DTYPE_BYTES, MODELS, Checkpoint, ModelArch,
                            quantized_weight_bytes)
from catalog.prices import Price, price_key
from sizing import Candidate, NoFit, Placement, place, place_across, tp_problems
from spec.platform import DEFAULT_TIER, PRIORITY_TIERS
from spec.pools import PoolSpec
from spec import limits as L
from spec.reader import DNS_LABEL, DNS_LABEL_HINT, Obj, one_of
from spec.slo import Slo
from spec.serving_options import (Autoscaling, Cache, KServeOptions, Replicas, read_serving_options)

# vLLM's own default is 0.92 since the 0.11 line; the estimator in FACTS.md is calibrated at 0.9 and the
# server is always started with the value sizing used, so the two never disagree.
DEFAULT_GPU_MEMORY_UTILIZATION = 0.9


@dataclass(frozen=True)
class ModelSpec:
    name: str
    arch: ModelArch
    dtype: str
    kv_cache_dtype: str               # auto = the model's 16-bit dtype (vLLM), whatever the weight width
    max_context: int
    concurrency: int
    pools: tuple[str, ...]            # allowed pools, empty = every whole-GPU pool
    gpu_memory_utilization: float
    tensor_parallel: Optional[int]    # forced TP size, else sizing picks
    priority: str                     # key of PRIORITY_TIERS
    placement: Optional[Placement] = None
    # How the model is served (spec/serving_options.py reads these; sizing above does not depend on them).
    version: str = "1"                # app.kubernetes.io/version of every object of the model
    revision: Optional[str] = None    # Hugging Face revision (branch, tag or commit) of the weights
    engine: str = "vllm"              # vllm | kserve | rayserve
    quantization: Optional[str] = None  # vLLM --quantization method
    replicas: Replicas = Replicas()
    autoscaling: Autoscaling = Autoscaling()
    kserve: KServeOptions = KServeOptions()
    cache: Cache = Cache()
    extra_args: tuple[str, ...] = ()  # additional vLLM flags, never one the program sets
    gated: bool = False               # weights need a Hugging Face token (llmfleet:hfToken)
    checkpoint: Optional[Checkpoint] = None  # the quantized checkpoint served instead of arch.hf_id
    weight_gib: Optional[float] = None  # architecture.weightGiB: measured resident weights of a custom checkpoint
    slo: Optional[Slo] = None         # serving objectives (spec/slo.py): burn-rate alerts when set

    @property
    def kv_bytes(self) -> float:
        return KV_DTYPE_BYTES[self.kv_cache_dtype]

    @property
    def weight_bytes(self) -> float:
        """Resident weights: the quantized checkpoint's (embeddings and lm_head stay 16-bit), or the model's."""
        if self.checkpoint is not None:
            return self.checkpoint.weight_bytes
        if self.weight_gib is not None:
            return self.weight_gib * 1024 ** 3
        if self.quantization is not None and self.arch.vocab and self.arch.hidden:
            return quantized_weight_bytes(self.arch, int(DTYPE_BYTES[self.dtype] * 8))
        return self.arch.weight_bytes(self.dtype)

    @property
    def hf_repo(self) -> str:
        """The repository vLLM serves."""
        return self.checkpoint.hf_id if self.checkpoint is not None else self.arch.hf_id

    @property
    def group_size(self) -> Optional[int]:
        return self.checkpoint.group_size if self.checkpoint is not None else None


def read_model(o: Obj) -> ModelSpec:
    name = o.str("name", pattern=DNS_LABEL, hint=DNS_LABEL_HINT)
    if len(name) > 40:
        o.reject("name", f"must be at most 40 characters (object names derive from it), got {len(name)}")
    key = o.str("model", None, choices=MODELS) if o.has("model") else None
    arch_obj = o.obj("architecture")
    if o.has("model") and arch_obj.ok:
        o.error("architecture", "give either model (a catalog name) or architecture, not both")
    # Rules that read the architecture (context length, heads, sizing) run only on a known, valid one; a fallback
    # stands in otherwise so the other keys are still read and checked.
    arch_known = False
    if arch_obj.ok:
        arch = _read_arch(arch_obj, name)
        arch_known = o.valid("architecture") and not o.has("model")
    elif not o.has("model") and not o.has("architecture"):
        o.reject("model", f"is required (or give architecture): {one_of(MODELS)}")
        arch = MODELS["llama-3.1-8b"]
    elif key:
        arch, arch_known = MODELS[key], True
    else:
        arch = MODELS["llama-3.1-8b"]     # model or architecture rejected at its key
    dtype = o.str("dtype", arch.dtype, choices=DTYPE_BYTES)
    # Quantization decides the weight width sizing uses, so it is read before placement.
    dtype, quantization = _read_quantization(o, dtype)
    checkpoint = _checkpoint(o, arch, quantization, dtype, arch_obj.ok)
    kv = o.str("kvCacheDtype", "auto", choices=KV_DTYPE_BYTES)
    max_context = o.int("maxContext", min(8192, arch.context) if arch_known else 8192, limit=L.MAX_CONTEXT)
    if arch_known and o.valid("maxContext") and max_context > arch.context:
        o.reject("maxContext", f"must be <= the model's context length ({arch.context}), got {max_context}")
    concurrency = o.int("concurrency", 8, limit=L.CONCURRENCY)
    pools = tuple(o.str_list("pools"))
    util = o.float("gpuMemoryUtilization", DEFAULT_GPU_MEMORY_UTILIZATION, limit=L.GPU_MEMORY_UTILIZATION)
    tp = o.int("tensorParallel", None, limit=L.TENSOR_PARALLEL)
    group = checkpoint.group_size if checkpoint else None
    if tp is not None and arch_known and o.valid("tensorParallel") and tp_problems(arch, tp, group):
        o.reject("tensorParallel", f"{tp} is not a size vLLM accepts for {arch.key}: "
                                   f"{'; '.join(tp_problems(arch, tp, group))}")
    priority = o.str("priority", DEFAULT_TIER, choices=PRIORITY_TIERS)
    # A fallback architecture (the model key was wrong) must not add a gated-weights problem of its own.
    serving = read_serving_options(o, arch, arch_known=arch_known)
    return ModelSpec(name=name, arch=arch, dtype=dtype, kv_cache_dtype=kv, max_context=max_context,
                     concurrency=concurrency, pools=pools, gpu_memory_utilization=util, tensor_parallel=tp,
                     priority=priority, quantization=quantization, checkpoint=checkpoint,
                     weight_gib=arch_obj.float("weightGiB", None, min=0.01) if arch_obj.ok else None, **serving)


# vLLM --quantization methods this program sizes (names checked in vllm 0.33.0
# model_executor/layers/quantization/__init__.py QuantizationMethods), with the weight widths each can carry.
# Sizing needs the width; the first one listed is assumed when `dtype` is not given.
QUANTIZATION_WIDTHS: dict[str, tuple[str, ...]] = {
    "fp8": ("fp8",),                    # FP8 checkpoints, or online FP8 of a bf16/fp16 checkpoint
    "awq": ("int4",),
    "awq_marlin": ("int4",),
    "gptq": ("int4", "int8"),
    "gptq_marlin": ("int4", "int8"),
    "compressed-tensors": ("fp8", "int8", "int4"),
    "modelopt": ("fp8",),
    "modelopt_fp4": ("int4",),          # 4-bit float: sized as half a byte per weight
    "mxfp4": ("int4",),
}
UNQUANTIZED = ("bf16", "fp16")


def _read_quantization(o: Obj, dtype: str) -> tuple[str, Optional[str]]:
    """`dtype` is the weight width sizing uses; `quantization` the vLLM method that produces it."""
    quantization = o.str("quantization", None, choices=QUANTIZATION_WIDTHS)
    if not o.valid("quantization", "dtype"):
        return dtype, quantization        # reported at its key; no rule on a rejected value
    if quantization is None or quantization not in QUANTIZATION_WIDTHS:
        if dtype == "fp8":
            return dtype, "fp8"         # vLLM quantizes a 16-bit checkpoint to FP8 at load time
        if dtype in ("int8", "int4"):
            o.error("dtype", f"{dtype} weights need quantization (the checkpoint's method): "
                             f"{one_of(m for m, w in QUANTIZATION_WIDTHS.items() if dtype in w)}")
        return dtype, None
    widths = QUANTIZATION_WIDTHS[quantization]
    if not o.has("dtype"):
        return widths[0], quantization
    if dtype not in widths:
        o.error("dtype", f"must be {' or '.join(widths)} with quantization {quantization} (the quantized weight "
                         f"width sizing uses), got {dtype!r}")
    return dtype, quantization


# Checkpoint families: the catalog keys quantized checkpoints by the family of the method they were made with.
_FAMILY = {"awq_marlin": "awq", "gptq_marlin": "gptq"}


def _checkpoint(o: Obj, arch: ModelArch, quantization: Optional[str], dtype: str,
                custom: bool) -> Optional[Checkpoint]:
    """AWQ/GPTQ and the other weight-only methods need a checkpoint made with them; FP8 also runs online on the
    16-bit checkpoint (vLLM quantizes at load), so it uses a catalog FP8 checkpoint only when there is one."""
    if quantization is None or custom:
        return None     # a custom architecture names its (quantized) repository itself in architecture.hfId
    found = CHECKPOINTS.get((arch.key, _FAMILY.get(quantization, quantization)))
    if found is None and quantization != "fp8":
        have = sorted(m for k, m in CHECKPOINTS if k == arch.key)
        o.error("quantization", f"{quantization} needs a checkpoint quantized with it; the catalog has none for "
                                f"{arch.key} ({'it has: ' + ', '.join(have) if have else 'it has none'}); give "
                                f"architecture with the quantized repository's hfId and weightGiB instead")
    elif found is not None and found.bits != DTYPE_BYTES[dtype] * 8:
        o.error("dtype", f"the catalog's {quantization} checkpoint of {arch.key} ({found.hf_id}) has "
                         f"{found.bits}-bit weights, got {dtype!r}")
    return found


def _read_arch(o: Obj, name: str) -> ModelArch:
    return ModelArch(
        key=name, hf_id=o.str("hfId", pattern=r"[\w.-]+/[\w.-]+", hint="a Hugging Face id such as org/model"),
        params_b=o.float("paramsB", limit=L.ARCH_PARAMS_B), layers=o.int("layers", limit=L.ARCH_LAYERS),
        attention_heads=o.int("attentionHeads", limit=L.ARCH_HEADS), kv_heads=o.int("kvHeads", limit=L.ARCH_HEADS),
        head_dim=o.int("headDim", limit=L.ARCH_HEAD_DIM), context=o.int("context", limit=L.ARCH_CONTEXT),
        dtype=o.str("dtype", "bf16", choices=DTYPE_BYTES),
        # Optional: when given, vLLM's tensor-parallel rules on them are checked and quantized weights keep the
        # embeddings at 16 bits. Unset is 0 ("unknown"), read as None so the range check applies to given values only.
        hidden=o.int("hiddenSize", None, min=1) or 0, intermediate=o.int("intermediateSize", None, min=1) or 0,
        vocab=o.int("vocabSize", None, min=1) or 0, tied_embeddings=o.bool("tiedEmbeddings", False))


def place_models(models: Sequence[ModelSpec], pools: Sequence[PoolSpec], prices: dict[str, Price],
                 cloud: str, o: Obj, paths: Optional[Sequence[str]] = None,
                 pool_paths: Optional[Sequence[str]] = None, known_pools: Sequence[str] = (),
                 sizing: bool = True, names_known: bool = True) -> list[ModelSpec]:
    """Sizes each model onto its allowed pools; a model that fits nowhere is a problem with the numbers.

    `paths`/`pool_paths` are the items' own paths (list items that are not objects are skipped). Each rule runs on
    what is valid: a pool reference is checked whenever the model's `pools` list is; a model is sized only when
    it, every pool it may use and the prices are valid (`sizing`), so a verdict never rests on a rejected value.
    """
    paths = list(paths) if paths is not None else [f"{o.key_path('models')}[{i}]" for i in range(len(models))]
    pool_paths = list(pool_paths) if pool_paths is not None else \
        [f"{o.key_path('gpuPools')}[{i}]" for i in range(len(pools))]
    by_name = {p.name: p for p in pools if p.name}
    names = set(by_name) | set(known_pools)
    broken = {p.name for p, at in zip(pools, pool_paths) if o.problems.under(at)}
    out = []
    for path, m in zip(paths, models):
        model_ok = not o.problems.under(path)
        bad = [p for p in m.pools if p not in names] if names_known else []
        for p in bad:
            o.problems.add(f"{path}.pools", f"unknown pool {p!r}; pools: {', '.join(sorted(names)) or '(none)'}")
        shared = [p for p in m.pools if p in by_name and p not in broken and by_name[p].sharing.mode != "none"]
        for p in shared:
            o.problems.add(f"{path}.pools", f"pool {p!r} shares its GPUs ({by_name[p].sharing.mode}); "
                                            f"model servers need whole GPUs")
        if bad or shared or not model_ok or not sizing or not names_known:
            out.append(m)
            continue
        if not m.pools and o.problems.under(o.key_path("gpuPools")):
            out.append(m)                 # every pool is a candidate, and one of them has a problem
            continue
        allowed = [by_name[p] for p in m.pools if p in by_name] if m.pools else \
            [p for p in pools if p.sharing.mode == "none" or p.name in broken]
        if any(p.name in broken or p.name not in by_name for p in allowed) or len(allowed) < len(m.pools):
            out.append(m)                 # a pool it may use has its own problem: no verdict on a broken pool
            continue
        # In stack order: the autoscaler's chain (components/descriptors.py capacity_priorities) prefers earlier
        # pools, so with several listed pools the first of them is where replicas go first.
        listed = {p.name for p in allowed}
        allowed = [p for p in pools if p.name in listed]
        if m.priority == "critical":
            spot = [p.name for p in allowed if p.spot_only]
            if spot and m.pools:
                o.problems.add(f"{path}.priority", f"critical keeps a model off spot-only pools (it must not be "
                                                   f"evicted), but its pools list spot-only pool(s) "
                                                   f"{', '.join(spot)}: add on-demand to their capacity, remove them "
                                                   f"from pools, or use priority standard")
                out.append(m)
                continue
            allowed = [p for p in allowed if not p.spot_only]
            if not allowed and spot:
                o.problems.add(f"{path}.priority", f"critical keeps a model off spot-only pools (it must not be "
                                                   f"evicted), and every whole-GPU pool is spot-only "
                                                   f"({', '.join(spot)}): add on-demand to a pool's capacity or use "
                                                   f"priority standard")
                out.append(m)
                continue
        if not allowed:
            o.problems.add(path, f"{m.name}: no pool can run it: every pool shares its GPUs (time-slicing or MIG) "
                                 f"and model servers need whole GPUs; add a pool with sharing mode none")
            out.append(m)
            continue
        if m.tensor_parallel is not None:
            small = [p for p in allowed if p.gpus_per_node < m.tensor_parallel]
            if len(small) == len(allowed):
                o.problems.add(f"{path}.tensorParallel",
                               f"must be <= the GPUs of one node of an allowed pool (placements are single-node): "
                               f"{', '.join(f'{p.name} has {p.gpus_per_node}' for p in small)}, "
                               f"got {m.tensor_parallel}")
                out.append(m)
                continue
        candidates = [Candidate(p.name, p.gpu, p.gpus_per_node, _node_price(p, prices, cloud)) for p in allowed]
        # Two or more listed pools are a fallback chain: one pod template must run on each (place_across);
        # no list means "sizing picks the cheapest pool" and the model is pinned to it.
        how = place_across if len(m.pools) > 1 else place
        try:
            placement = how(m.arch, m.weight_bytes, m.kv_bytes, m.max_context, m.concurrency, candidates,
                            m.gpu_memory_utilization, m.tensor_parallel, m.group_size)
        except NoFit as e:
            o.problems.add(path, f"{m.name} ({m.arch.key}, {m.dtype}) {e}")
            out.append(m)
            continue
        out.append(replace(m, placement=placement))
    return out


def _node_price(pool: PoolSpec, prices: dict[str, Price], cloud: str) -> float:
    if pool.instance is None:
        return pool.price_per_hour or 0.0
    price = prices.get(price_key(cloud, pool.instance.name))
    return price.for_capacity(pool.capacity[0]) if price else 0.0
