"""The model spec (`llmfleet:models`) and its placement: every model is sized onto a pool before anything renders."""
from dataclasses import dataclass, replace
from typing import Optional, Sequence

from catalog.models import (CHECKPOINTS, DTYPE_BYTES, KV_DTYPE_BYTES, MODELS, Checkpoint, ModelArch,
                            quantized_weight_bytes)
from catalog.prices import Price, price_key
from sizing import Candidate, NoFit, Placement, place, place_across, tp_problems
from spec.platform import DEFAULT_TIER, PRIORITY_TIERS
from spec.pools import PoolSpec
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
        o.error("name", f"must be at most 40 characters (object names derive from it), got {len(name)}")
    key = o.str("model", None)
    arch_obj = o.obj("architecture")
    if key is not None and arch_obj.ok:
        o.error("architecture", "give either model (a catalog name) or architecture, not both")
    if arch_obj.ok:
        arch = _read_arch(arch_obj, name)
    elif key is None:
        o.error("model", f"is required (or give architecture): {one_of(MODELS)}")
        arch = MODELS["llama-3.1-8b"]
    elif key not in MODELS:
        o.str("model", choices=MODELS)  # reports with the nearest catalog name
        arch = MODELS["llama-3.1-8b"]
    else:
        arch = MODELS[key]
    dtype = o.str("dtype", arch.dtype, choices=DTYPE_BYTES)
    # Quantization decides the weight width sizing uses, so it is read before placement.
    dtype, quantization = _read_quantization(o, dtype)
    checkpoint = _checkpoint(o, arch, quantization, dtype, arch_obj.ok)
    kv = o.str("kvCacheDtype", "auto", choices=KV_DTYPE_BYTES)
    max_context = o.int("maxContext", min(8192, arch.context), min=256)
    if isinstance(max_context, int) and max_context > arch.context:
        o.error("maxContext", f"must be <= the model's context length ({arch.context}), got {max_context}")
    concurrency = o.int("concurrency", 8, min=1, max=4096)
    pools = tuple(o.str_list("pools"))
    util = o.float("gpuMemoryUtilization", DEFAULT_GPU_MEMORY_UTILIZATION, min=0.5, max=0.98)
    tp = o.int("tensorParallel", None, min=1, max=16)
    if isinstance(tp, int) and tp_problems(arch, tp, checkpoint.group_size if checkpoint else None):
        o.error("tensorParallel", f"{tp} is not a size vLLM accepts for {arch.key}: "
                                  f"{'; '.join(tp_problems(arch, tp, checkpoint.group_size if checkpoint else None))}")
    priority = o.str("priority", DEFAULT_TIER, choices=PRIORITY_TIERS)
    # A fallback architecture (the model key was wrong) must not add a gated-weights problem of its own.
    serving = read_serving_options(o, arch, arch_known=arch_obj.ok or key in MODELS)
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
        params_b=o.float("paramsB", min=0.01), layers=o.int("layers", min=1),
        attention_heads=o.int("attentionHeads", min=1), kv_heads=o.int("kvHeads", min=1),
        head_dim=o.int("headDim", min=1), context=o.int("context", min=256),
        dtype=o.str("dtype", "bf16", choices=DTYPE_BYTES),
        # Optional: when given, vLLM's tensor-parallel rules on them are checked and quantized weights keep the
        # embeddings at 16 bits.
        hidden=o.int("hiddenSize", 0, min=1), intermediate=o.int("intermediateSize", 0, min=1),
        vocab=o.int("vocabSize", 0, min=1), tied_embeddings=o.bool("tiedEmbeddings", False))


def place_models(models: Sequence[ModelSpec], pools: Sequence[PoolSpec], prices: dict[str, Price],
                 cloud: str, o: Obj) -> list[ModelSpec]:
    """Sizes each model onto its allowed pools; a model that fits nowhere is a problem with the numbers."""
    by_name = {p.name: p for p in pools}
    out = []
    for i, m in enumerate(models):
        path = f"{o.key_path('models')}[{i}]"
        bad = [p for p in m.pools if p not in by_name]
        for p in bad:
            o.problems.add(f"{path}.pools", f"unknown pool {p!r}; pools: {', '.join(by_name) or '(none)'}")
        shared = [p for p in m.pools if p in by_name and by_name[p].sharing.mode != "none"]
        for p in shared:
            o.problems.add(f"{path}.pools", f"pool {p!r} shares its GPUs ({by_name[p].sharing.mode}); "
                                            f"model servers need whole GPUs")
        if bad or shared:
            continue
        # In stack order: the autoscaler's chain (components/descriptors.py capacity_priorities) prefers earlier
        # pools, so with several listed pools the first of them is where replicas go first.
        allowed = [p for p in pools if (p.name in m.pools if m.pools else p.sharing.mode == "none")]
        if m.priority == "critical":
            spot = [p.name for p in allowed if p.spot_only]
            if spot and m.pools:
                o.problems.add(f"{path}.priority", f"critical workloads cannot run on spot-only pool(s) "
                                                   f"{', '.join(spot)}; add on-demand to their capacity")
                continue
            allowed = [p for p in allowed if not p.spot_only]
        candidates = [Candidate(p.name, p.gpu, p.gpus_per_node, _node_price(p, prices, cloud)) for p in allowed]
        # Two or more listed pools are a fallback chain: one pod template must run on each (place_across);
        # no list means "sizing picks the cheapest pool" and the model is pinned to it.
        how = place_across if len(m.pools) > 1 else place
        try:
            placement = how(m.arch, m.weight_bytes, m.kv_bytes, m.max_context, m.concurrency, candidates,
                            m.gpu_memory_utilization, m.tensor_parallel, m.group_size)
        except NoFit as e:
            o.problems.add(path, f"{m.name} ({m.arch.key}, {m.dtype}) {e}")
            continue
        out.append(replace(m, placement=placement))
    return out


def _node_price(pool: PoolSpec, prices: dict[str, Price], cloud: str) -> float:
    if pool.instance is None:
        return pool.price_per_hour or 0.0
    price = prices.get(price_key(cloud, pool.instance.name))
    return price.for_capacity(pool.capacity[0]) if price else 0.0
